"""A brain: its log, its projection, and the read API shared by the live brain and past views.

`Brain.at(t)` returns a `BrainView` with exactly the read API of the live brain (the
database as a value): the same `recall`, `get`, `memories`, `history`, answered as the brain
would have answered at t. Every read first catches the projection up with the log, so a
process sees what any other process has committed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import lmdb
import numpy as np

from . import checkpoint
from . import events as ev
from .api import HistoryEntry, Memory, MemoryInput, RecallResult, Remembered
from .clock import from_us, now_us, to_us
from .encoder import Batch, Prepared, decide_encode, prepare
from .errors import InputError, NotFoundError
from .log import Reader
from .model import MEMORY_TYPES, MemoryType
from .projection import NO_EXPIRY, Projection, View, apply_all
from .retrieval import Filters, memory_at, parse_types, recall
from .when import parse_when

if TYPE_CHECKING:
    from .store import Store

MIN_PREFIX = 4


class BrainView:
    """Read-only access to a brain as of one moment."""

    def __init__(self, brain: Brain, seq: int, time_us: int) -> None:
        self._brain = brain
        self._seq = seq
        self._time = time_us

    @property
    def name(self) -> str:
        return self._brain.name

    @property
    def seq(self) -> int:
        """The last event this view includes."""
        return self._seq

    @property
    def time(self) -> datetime:
        """The moment this view answers for (expiry is evaluated at it)."""
        return from_us(self._time)

    def _view(self) -> View:
        return self._brain._projection_view(self._seq, self._time)

    # -- reads ------------------------------------------------------------------------------

    def recall(
        self,
        query: str,
        *,
        depth: int | None = None,
        limit: int = 10,
        max_tokens: int | None = None,
        types: list[str] | None = None,
        tags: list[str] | None = None,
        include_expired: bool = False,
        min_priority: int = 0,
    ) -> RecallResult:
        """Memories that answer `query`, ranked, with a Markdown context within `max_tokens`."""
        filters = Filters(
            types=parse_types(types),
            tags=frozenset(tags) if tags else None,
            include_expired=include_expired,
            min_priority=min_priority,
        )
        with self._brain._lock:
            return recall(
                self._view(),
                query,
                depth=depth,
                limit=limit,
                max_tokens=max_tokens,
                filters=filters,
            )

    def get(self, memory_id: str) -> Memory:
        """One memory by id or unique id prefix (at least 4 characters)."""
        with self._brain._lock:
            view = self._view()
            return memory_at(view, self._brain._resolve(view, memory_id))

    def memories(
        self,
        *,
        types: list[str] | None = None,
        limit: int = 20,
        include_expired: bool = False,
    ) -> list[Memory]:
        """The newest memories first (by when they were recorded)."""
        if limit < 1:
            raise InputError(f"limit must be positive, got {limit}")
        wanted = parse_types(types)
        with self._brain._lock:
            view = self._view()
            p = view.p
            out: list[Memory] = []
            for fiber in range(view.fibers - 1, -1, -1):
                if not include_expired and p.f_expires[fiber] <= view.time:
                    continue
                if wanted is not None and p.f_type[fiber] not in wanted:
                    continue
                out.append(memory_at(view, fiber))
                if len(out) >= limit:
                    break
            return out

    def history(
        self,
        memory_id: str | None = None,
        *,
        types: list[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> list[HistoryEntry]:
        """Every event that touched one memory, or the brain's events; oldest first.

        With `limit`, the newest `limit` entries (still oldest first).
        """
        brain = self._brain
        with brain._lock:
            view = self._view()
            fiber_id = None if memory_id is None else view.p.f_id[brain._resolve(view, memory_id)]
        lo = to_us(since) if since else None
        hi = to_us(until) if until else None
        with brain.store.log.reader() as r:
            if fiber_id is not None:
                seqs = [s for s in r.refs(brain.id, fiber_id) if s <= view.seq]
                envs: Iterable[ev.Envelope] = (e for s in seqs if (e := r.event(brain.id, s)))
            else:
                envs = r.events(brain.id, 0, view.seq)
            out = [
                _entry(e)
                for e in envs
                if (lo is None or e.t >= lo)
                and (hi is None or e.t <= hi)
                and (not types or _type_name(e) in types)
            ]
        return out[-limit:] if limit else out

    def stats(self) -> dict[str, Any]:
        with self._brain._lock:
            view = self._view()
            p = view.p
            alive = view.alive()
            kinds = np.bincount(p.f_type.values[: view.fibers][alive], minlength=len(MEMORY_TYPES))
            return {
                "brain": p.name,
                "seq": view.seq,
                "at": from_us(view.time).isoformat(),
                "memories": int(alive.sum()),
                "expired": int((~alive).sum()),
                "neurons": view.neurons,
                "synapses": view.synapses,
                "by_type": {t.value: int(c) for t, c in zip(MEMORY_TYPES, kinds, strict=True) if c},
            }


class Brain(BrainView):
    """The live brain: reads as of now, plus the write API."""

    def __init__(self, store: Store, brain_id: str, name: str) -> None:
        super().__init__(self, 0, 0)
        self.store = store
        self.id = brain_id
        self._name = name
        self._lock = threading.RLock()
        self._p: Projection | None = None
        self._ckpt_seq = 0

    @property
    def name(self) -> str:
        return self._name

    @property
    def seq(self) -> int:
        with self._lock:
            return self._refreshed().seq

    @property
    def time(self) -> datetime:
        return from_us(now_us())

    @property
    def checkpoint_dir(self) -> Path:
        return self.store.path / "checkpoints" / self.id

    def _view(self) -> View:
        p = self._refreshed()
        return p.view(p.seq, now_us())

    def _projection_view(self, seq: int, time_us: int) -> View:
        return self._refreshed().view(seq, time_us)

    # -- projection lifecycle ------------------------------------------------------------------

    def _refreshed(self) -> Projection:
        """The projection, caught up with everything committed to the log."""
        if self._p is None:
            self._p = self._load()
        with self.store.log.reader() as r:
            self._catch_up(r, self._p)
        self._maybe_checkpoint()
        return self._p

    def _load(self) -> Projection:
        with self.store.log.reader() as r:
            head = r.head(self.id)
            floor = int(r.meta(self.id, "checkpoint_floor") or b"0")
        p = checkpoint.load_best(self.checkpoint_dir, self.id, head, floor)
        self._ckpt_seq = 0 if p is None else p.seq
        return p or Projection(self.id)

    def _catch_up(self, r: Reader, p: Projection) -> None:
        apply_all(p, r.events(self.id, after=p.seq))

    def _maybe_checkpoint(self) -> None:
        p = self._p
        if p is not None and p.seq - self._ckpt_seq >= p.config.checkpoint_every:
            self.checkpoint()

    def checkpoint(self) -> None:
        """Save the projection now (also done every `checkpoint_every` events and on close)."""
        with self._lock:
            p = self._p
            if p is None or p.seq == self._ckpt_seq:
                return
            checkpoint.save(self.checkpoint_dir, p)
            checkpoint.prune(self.checkpoint_dir)
            self._ckpt_seq = p.seq

    def close(self) -> None:
        with self._lock:
            if self._p is not None and self._p.seq - self._ckpt_seq >= 256:
                self.checkpoint()
            self._p = None

    @contextmanager
    def _writing(self) -> Iterator[tuple[Any, Projection]]:
        """A write transaction with the projection caught up; any failure drops the projection
        (it may hold events that were never committed) so the next read reloads it."""
        with self._lock:
            p = self._refreshed()
            try:
                with self.store.log.writer() as w:
                    self._catch_up(w, p)
                    yield w, p
            except BaseException:
                self._p = None
                raise
            self._maybe_checkpoint()

    # -- writes ---------------------------------------------------------------------------------

    def remember(self, text: str, **options: Any) -> Remembered:
        """Remember one text; options are the fields of `MemoryInput`."""
        return self.remember_many([MemoryInput(text=text, **options)])[0]

    def remember_many(self, items: Iterable[MemoryInput]) -> list[Remembered]:
        """Remember many memories in one transaction: one fsync, all or nothing."""
        batch = [prepare(item) for item in items]
        if not batch:
            return []
        self.store.log.ensure_room(sum(len(i.text) for i in batch) * 8 + 4096 * len(batch))
        for attempt in range(3):
            try:
                return self._remember_batch(batch)
            except lmdb.MapFullError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _remember_batch(self, batch: list[Prepared]) -> list[Remembered]:
        out: list[Remembered] = []
        with self._writing() as (w, p):
            now = now_us()
            deciding = Batch(p)
            written: list[ev.Envelope] = []
            for item in batch:
                if item.cid is not None:
                    seq = w.seq_for_cid(self.id, item.cid)
                    if seq is not None:
                        stored = w.event(self.id, seq)
                        assert stored is not None
                        out.append(_remembered(stored, duplicate=True))
                        continue
                body = decide_encode(deciding, item, now)
                env, _ = w.append(self.id, body, cid=item.cid, refs=(body.fiber_id,))
                written.append(env)
                out.append(_remembered(env, duplicate=False))
            apply_all(p, written)
        return out

    def at(self, when: str | int | datetime) -> BrainView:
        """The brain as it was at `when`: a seq number, a datetime, ISO text or "3 days ago"."""
        with self._lock:
            p = self._refreshed()
            now = now_us()
            if isinstance(when, bool):
                raise InputError(f"cannot read {when!r} as a time")
            if isinstance(when, str) and when.strip().isdigit():
                when = int(when.strip())
            if isinstance(when, int):
                if not 0 <= when <= p.seq:
                    raise InputError(
                        f"seq {when} is out of range: brain {self.name!r} has events 1..{p.seq}"
                    )
                return BrainView(self, when, p.time_of(when) or now)
            moment = parse_when(when, now)
            if moment > now:
                raise InputError(f"{from_us(moment).isoformat()} is in the future")
            return BrainView(self, p.seq_at(moment), moment)

    def _resolve(self, view: View, memory_id: str) -> int:
        p = view.p
        key = memory_id.strip().lower()
        fiber = p.ids.get(key)
        if fiber is None:
            if len(key) < MIN_PREFIX:
                raise InputError(f"memory id prefix {memory_id!r} is too short (min {MIN_PREFIX})")
            ids = p.f_id.slice(0, view.fibers)
            matches = [i for i, fid in enumerate(ids) if fid.startswith(key)]
            if len(matches) > 1:
                raise InputError(
                    f"memory id prefix {memory_id!r} is ambiguous ({len(matches)} memories)"
                )
            fiber = matches[0] if matches else None
        if fiber is None or fiber >= view.fibers:
            raise NotFoundError(
                f"no memory {memory_id!r} in brain {self.name!r}"
                + (" at that time" if fiber is not None else "")
            )
        return fiber


def _remembered(env: ev.Envelope, *, duplicate: bool) -> Remembered:
    b = env.body
    assert isinstance(b, ev.MemoryEncoded)
    created = 1 + len(b.neurons)
    return Remembered(
        id=b.fiber_id,
        seq=env.seq,
        memory_type=MemoryType(b.memory_type),
        priority=b.priority,
        expires_at=None if b.expires_at in (None, NO_EXPIRY) else from_us(b.expires_at),
        neurons_created=created,
        neurons_linked=sum(1 for t in b.link_targets if t < b.first_neuron),
        synapses_created=len(b.link_targets),
        duplicate=duplicate,
    )


def _type_name(env: ev.Envelope) -> str:
    return type(env.body).__struct_config__.tag  # type: ignore[return-value]


def _entry(env: ev.Envelope) -> HistoryEntry:
    return HistoryEntry(
        seq=env.seq,
        recorded_at=from_us(env.t),
        type=_type_name(env),
        summary=summarize(env.body),
        event=ev.to_jsonable(env),
    )


def summarize(body: ev.Body) -> str:
    """One line a person can read in a history listing."""
    match body:
        case ev.MemoryEncoded():
            text = body.text if len(body.text) <= 70 else body.text[:69] + "…"
            return f"remembered {body.memory_type} {body.fiber_id[:8]}: {text}"
        case ev.BrainCreated():
            return f"brain {body.name!r} created"
        case ev.BrainConfigured():
            return "brain configuration changed"
    return type(body).__name__
