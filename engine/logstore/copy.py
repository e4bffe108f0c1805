"""Copy a store's log into another backend (LMDB <-> PostgreSQL), exactly: `nmem migrate`.

Exactly means what the rules of base.py can observe: every registered brain under the same id,
every event with the same seq, recorded time, client id and body (redactions of erased
memories included), the same memory-id index (which is `events.touched` of each body, as the
engine appends it; a redaction keeps every memory id), every meta value of the store and
of each brain (positions, the checkpoint floor, pending reinforcement). So the copy replays to
the same projection and answers every read, past ones included, as the source does.
Checkpoints are not copied: they are caches, and the target folds its own.

The copy reads one snapshot of the source and writes the target in batches, one transaction
each. A copy that was interrupted, or one made while the source kept being written, is
continued by running it again: a target brain whose log is a prefix of the source's gets the
rest. A target brain whose log is not such a prefix is refused, untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import islice

from .. import events as ev
from ..errors import IntegrityError
from .base import LogStore, Reader, Writer

BATCH = 4096  # events per target transaction
ROOM_PER_EVENT = 4096  # bytes a copied event may take in the target, with its index entries

Progress = Callable[[int, int], None]


def copy_log(
    source: LogStore, target: LogStore, *, batch: int = BATCH, progress: Progress | None = None
) -> dict[str, int]:
    """Copy `source`'s log into `target`; returns the events copied per brain name (0 for a
    brain the target already held in full)."""
    copied: dict[str, int] = {}
    with source.reader() as r:
        brains = r.brains()
        starts = _starts(r, target, brains)
        total = sum(r.head(bid) - starts[bid] for bid in brains.values())
        done = 0
        for name, bid in sorted(brains.items()):
            events = r.events(bid, after=starts[bid])
            copied[name] = 0
            while chunk := list(islice(events, batch)):
                target.write(_appender(bid, chunk), room=len(chunk) * ROOM_PER_EVENT)
                copied[name] += len(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
        metas = {bid: r.meta_items(bid) for bid in brains.values()}
        store_meta = r.meta_items(None)

    def finish(w: Writer) -> None:
        for name, bid in brains.items():
            w.register_brain(name, bid)
            for key, value in metas[bid].items():
                w.put_meta(bid, key, value)
        for key, value in store_meta.items():
            w.put_meta(None, key, value)

    target.write(finish)
    return copied


def _starts(r: Reader, target: LogStore, brains: dict[str, str]) -> dict[str, int]:
    """Where each brain's copy continues: the target's head, once its log is known to be a
    prefix of the source's (a brain the source lacks, or one under another id, is refused)."""
    with target.reader() as t:
        theirs = t.brains()
        for name, bid in theirs.items():
            if brains.get(name) != bid:
                raise IntegrityError(
                    f"the target store {target.location} already holds a brain {name!r} that "
                    "is not this store's: migrate into an empty store"
                )
        starts = {}
        for bid in brains.values():
            head = t.head(bid)
            if head:
                mine, held = r.event(bid, head), t.event(bid, head)
                if mine is None or mine != held:
                    raise IntegrityError(
                        f"the target store {target.location} holds another log for brain {bid} "
                        f"(seq {head} differs): migrate into an empty store"
                    )
            starts[bid] = head
        return starts


def _appender(bid: str, chunk: list[ev.Envelope]) -> Callable[[Writer], None]:
    def work(w: Writer) -> None:
        for env in chunk:
            refs = ev.touched(env.body)
            stored, fresh = w.append(bid, env.body, cid=env.cid, refs=refs, t_us=env.t)
            if not fresh or stored != env:
                raise IntegrityError(
                    f"brain {bid}: event {env.seq} could not be copied as it is "
                    f"(the target gave seq {stored.seq}, time {stored.t})"
                )

    return work


def differences(a: LogStore, b: LogStore, *, limit: int = 5) -> list[str]:
    """How two stores' logs differ (brains, events, the memory-id index of every memory an
    event touched, meta values), at most `limit` lines; [] when they are the same."""
    found: list[str] = []
    with a.reader() as ra, b.reader() as rb:
        for line in _compare(ra, rb):
            found.append(line)
            if len(found) >= limit:
                break
    return found


def _compare(ra: Reader, rb: Reader) -> Iterator[str]:
    brains = ra.brains()
    if brains != rb.brains():
        yield f"brains differ: {sorted(brains)} and {sorted(rb.brains())}"
        return
    if ra.meta_items(None) != rb.meta_items(None):
        yield "the store's meta values differ"
    for name, bid in sorted(brains.items()):
        if ra.head(bid) != rb.head(bid):
            yield f"brain {name}: {ra.head(bid)} events and {rb.head(bid)}"
            continue
        fibers: set[str] = set()
        for x, y in zip(ra.events(bid), rb.events(bid), strict=True):
            if x != y:
                yield f"brain {name}: event {x.seq} differs"
            fibers.update(ev.touched(x.body))
        for fiber_id in sorted(fibers):
            if ra.refs(bid, fiber_id) != rb.refs(bid, fiber_id):
                yield f"brain {name}: the history index of memory {fiber_id} differs"
        if ra.meta_items(bid) != rb.meta_items(bid):
            yield f"brain {name}: meta values differ"
