"""Decisions on memories over time: edit, retype, erase, reinforce, decay, expire.

Each function reads the projection and returns the event that records its result (the
links cut, the weights reached, the ids pruned), so replay repeats the result instead of
re-deciding it. Nothing here writes; `Brain` appends what these return.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
import numpy as np
import numpy.typing as npt

from . import events as ev
from .clock import days_us, from_us
from .decay import retention
from .errors import InputError
from .model import MEMORY_TYPES, memory_type, priority
from .projection import (
    ALIVE,
    ERASED,
    EXPIRED,
    FORGOTTEN,
    NO_EXPIRY,
    PINNED,
    TAG_SEP,
    Projection,
    View,
)

I64 = npt.NDArray[np.int64]


def links_of(p: Projection, fiber: int, *, limit: int | None = None) -> tuple[I64, I64]:
    """All synapses touching a memory's anchor (dead ones too) and their other ends."""
    anchor = np.asarray([p.f_anchor[fiber]], dtype=np.int64)
    _, nbr, syn = p.graph.gather(
        anchor, p.s_src.values, p.s_dst.values, p.synapse_count if limit is None else limit
    )
    return syn.astype(np.int64), nbr.astype(np.int64)


def decide_edit(p: Projection, fiber: int, text: str, policy: str) -> ev.MemoryEdited | None:
    """New text: cut the memory's word links, link the new words. None if the text is the same."""
    from .encoder import Batch, link_terms, screen, validate_text

    text = screen(validate_text(text), policy)
    if text == p.f_text[fiber]:
        return None
    syn, other = links_of(p, fiber)
    anchor = int(p.f_anchor[fiber])
    own_words = (p.s_src.values[syn] == anchor) & (p.n_fiber.values[other] < 0)
    removed = syn[own_words & (p.s_dead.values[syn] == ALIVE)]
    when = from_us(int(p.f_start[fiber])).astimezone()
    first = p.neuron_count
    links = link_terms(Batch(p), text, when, first)
    return ev.MemoryEdited(
        fiber_id=p.f_id[fiber],
        text=text,
        first_neuron=first,
        removed=sorted(int(s) for s in removed),
        neurons=links.neurons,
        link_targets=links.targets,
        link_types=links.types,
        link_weights=links.weights,
    )


def decide_retype(
    view: View,
    fiber: int,
    *,
    kind: str | None,
    prio: int | None,
    tags: list[str] | None,
    expires_in_days: float | None,
    project: str | bool | None,
    now: int,
) -> ev.MemoryRetyped | None:
    """New values for what is given, the current ones for the rest; None if nothing changes.
    `project` is a project id, None to clear it, or False to keep it."""
    from .encoder import validate_tags

    p = view.p
    current_type = MEMORY_TYPES[int(view.col("f_type")[fiber])].value
    current_expiry = int(view.col("f_expires")[fiber])
    current_project = int(view.col("f_project")[fiber])
    new_type = current_type if kind is None else memory_type(kind).value
    new_priority = int(view.col("f_priority")[fiber]) if prio is None else priority(prio)
    new_tags = view.tags(fiber) if tags is None else validate_tags(tags)
    if expires_in_days is None:
        expires = None if current_expiry == NO_EXPIRY else current_expiry
    else:
        expires = now + days_us(expires_in_days, "expiry")
    project_id: str | None
    if project is False or project is True:
        project_id = None if current_project < 0 else p.project_ids[current_project]
    else:
        project_id = project or None
    body = ev.MemoryRetyped(
        fiber_id=p.f_id[fiber],
        memory_type=new_type,
        priority=new_priority,
        expires_at=expires,
        tags=new_tags,
        project=project_id,
    )
    unchanged = (
        new_type == current_type
        and new_priority == int(view.col("f_priority")[fiber])
        and (expires or NO_EXPIRY) == current_expiry
        and TAG_SEP.join(new_tags) == TAG_SEP.join(view.tags(fiber))
        and project_id == (None if current_project < 0 else p.project_ids[current_project])
    )
    return None if unchanged else body


def decide_erase(p: Projection, fiber: int, by: str) -> ev.MemoryErased:
    """Erase a memory: every link touching it, and the neurons no other memory still holds.

    A memory erased earlier holds none: a word that only erased memories shared goes with
    whichever of them is erased last (`linked_memories` finds the records that hold it)."""
    if p.f_flags[fiber] & ERASED:
        raise InputError(f"memory {p.f_id[fiber]} is already erased")
    syn, other = links_of(p, fiber)
    anchor = int(p.f_anchor[fiber])
    fiber_of = p.n_fiber.values
    words = np.unique(other[(fiber_of[other] < 0) & (p.s_src.values[syn] == anchor)])
    unique: list[int] = []
    if len(words):
        owner, _, w_syn = p.graph.gather(words, p.s_src.values, p.s_dst.values, p.synapse_count)
        src = p.s_src.values[w_syn]
        by_fiber = fiber_of[src]
        gone = (by_fiber >= 0) & (p.f_flags.values[np.maximum(by_fiber, 0)] & ERASED != 0)
        shared = np.bincount(owner[(src != anchor) & ~gone], minlength=len(words)) > 0
        unique = sorted(int(n) for n in words[~shared])
    return ev.MemoryErased(
        fiber_id=p.f_id[fiber], by=by, neurons=unique, synapses=sorted(int(s) for s in syn)
    )


def linked_memories(p: Projection, neurons: list[int]) -> list[str]:
    """Ids of the memories whose anchors link to `neurons` (dead links too): the ones whose
    records may have created them."""
    if not neurons:
        return []
    nodes = np.asarray(neurons, dtype=np.int64)
    _, other, _ = p.graph.gather(nodes, p.s_src.values, p.s_dst.values, p.synapse_count)
    fibers = np.unique(p.n_fiber.values[other])
    return [p.f_id[int(f)] for f in fibers if f >= 0]


def without_neurons(body: ev.Body, neurons: set[int]) -> ev.Body | None:
    """A record that created some of `neurons` with their text blanked (an erase of another
    memory took the last holder of a word it created), or None if it created none."""
    match body:
        case ev.MemoryEncoded():
            first = body.first_neuron + 1
        case ev.MemoryEdited():
            first = body.first_neuron
        case _:
            return None
    if not any(first + i in neurons for i in range(len(body.neurons))):
        return None
    return msgspec.structs.replace(body, neurons=_blank(first, body.neurons, neurons))


def _blank(first: int, specs: list[ev.NeuronSpec], neurons: set[int]) -> list[ev.NeuronSpec]:
    return [
        ev.NeuronSpec(s.type, "", "", s.start, s.end) if first + i in neurons else s
        for i, s in enumerate(specs)
    ]


def redacted(body: ev.Body, neurons: set[int], fiber_id: str = "") -> ev.Body | None:
    """An erased memory's earlier record without its content, or None if it holds none.

    Neuron slots are kept (later events refer to them by index) but lose their text; a vector
    keeps its length (the fold keeps the row, dead) and loses every byte."""

    match body:
        case ev.MemoryEncoded():
            return msgspec.structs.replace(
                body, text="", tags=[], meta={}, erased=True,
                neurons=_blank(body.first_neuron + 1, body.neurons, neurons),
                vector=bytes(len(body.vector)), vector_scale=0.0,
            )  # fmt: skip
        case ev.MemoryEdited():
            return msgspec.structs.replace(
                body, text="", erased=True, vector=bytes(len(body.vector)), vector_scale=0.0,
                neurons=_blank(body.first_neuron, body.neurons, neurons),
            )  # fmt: skip
        case ev.MemoriesEmbedded() if fiber_id in body.fiber_ids:
            i = body.fiber_ids.index(fiber_id)
            width = len(body.vectors) // len(body.fiber_ids)
            scales = list(body.scales)
            scales[i] = 0.0
            data = bytearray(body.vectors)
            data[i * width : (i + 1) * width] = bytes(width)
            return msgspec.structs.replace(body, vectors=bytes(data), scales=scales)
        case ev.MemoryRetyped():
            return msgspec.structs.replace(body, tags=[])
        case ev.MemoryForgotten():
            return msgspec.structs.replace(body, reason="")
    return None


class Pending(msgspec.Struct, frozen=True, gc=False):
    """Reinforcement that recalls have earned and no event records yet.

    A process keeps its own in memory; between processes (each CLI recall is one) it is kept
    in the log's meta, so many recalls become one event instead of one each. Not part of the
    history: replay and past views never see it."""

    links: dict[int, Annotated[int, msgspec.Meta(ge=1)]] = {}  # synapse -> recalls it carried
    memories: dict[str, Annotated[int, msgspec.Meta(ge=1)]] = {}  # memory id -> recalls it topped
    recalls: Annotated[int, msgspec.Meta(ge=0)] = 0
    since: int = 0  # when the first of these recalls ran (µs)


NOTHING_PENDING = Pending()


def merge_pending(a: Pending, b: Pending) -> Pending:
    if not b.recalls:
        return a
    if not a.recalls:
        return b
    links, memories = dict(a.links), dict(a.memories)
    for syn, n in b.links.items():
        links[syn] = links.get(syn, 0) + n
    for fid, n in b.memories.items():
        memories[fid] = memories.get(fid, 0) + n
    return Pending(links, memories, a.recalls + b.recalls, min(a.since, b.since))


def decode_pending(raw: bytes | None) -> Pending:
    """The pending reinforcement kept in the log's meta; an unreadable record counts as none
    (it only ever holds reinforcement not yet earned by an event)."""
    if not raw:
        return NOTHING_PENDING
    try:
        return msgspec.msgpack.decode(raw, type=Pending)
    except msgspec.DecodeError:
        return NOTHING_PENDING


def encode_pending(pending: Pending) -> bytes:
    return b"" if not pending.recalls else msgspec.msgpack.encode(pending)


def reinforcement_due(pending: Pending, now: int, *, every: int, interval_us: int) -> bool:
    """One event per `every` recalls, or once the first pending recall is `interval_us` old."""
    return pending.recalls >= every or (pending.recalls > 0 and now - pending.since >= interval_us)


def decide_reinforce(p: Projection, pending: Pending, delta: float) -> ev.SynapsesReinforced | None:
    """Hebbian strengthening: each use moves a link's weight a step `delta` towards 1.
    Links pruned or erased since, and memories erased since, are left out."""
    alive = [s for s in sorted(pending.links) if s < p.synapse_count and p.s_dead[s] > p.seq]
    if not alive:
        return None
    counts = [pending.links[s] for s in alive]
    weights = [
        round(1.0 - (1.0 - float(p.s_w[s])) * (1.0 - delta) ** n, 6)
        for s, n in zip(alive, counts, strict=True)
    ]
    memories = sorted(
        fid for fid in pending.memories
        if (f := p.fiber_of(fid)) is not None and not p.f_flags[f] & ERASED
    )  # fmt: skip
    return ev.SynapsesReinforced(
        synapses=alive,
        weights=weights,
        fiber_ids=memories,
        counts=counts,
        uses=[pending.memories[fid] for fid in memories],
        recalls=pending.recalls,
    )


def decide_decay(view: View, floor: float) -> ev.DecayApplied:
    """Prune the links that have kept less than `floor` of their weight (pinned exempt)."""
    p, m = view.p, view.synapses
    owner = p.n_fiber.values[p.s_src.values[:m]]
    flags = view.col("f_flags")[owner]
    kept = retention(
        view.col("s_clock"), p.times.values, view.col("s_count"), view.col("f_type")[owner],
        (flags & PINNED) != 0, view.time,
    )  # fmt: skip
    weak = np.flatnonzero((kept < floor) & (p.s_dead.values[:m] > view.seq))
    fibers = np.unique(owner[weak])
    return ev.DecayApplied(pruned=weak.tolist(), fiber_ids=p.f_id.pick(fibers.astype(np.int64)))


def decide_expire(view: View) -> ev.MemoriesExpired | None:
    """Record as expired the memories past their expiry."""
    p = view.p
    flags = view.col("f_flags")
    due = np.flatnonzero(
        ((flags & PINNED) == 0)
        & (view.col("f_expires") <= view.time)
        & ((flags & (FORGOTTEN | ERASED | EXPIRED)) == 0)
    )
    if not len(due):
        return None
    return ev.MemoriesExpired(fiber_ids=p.f_id.pick(due.astype(np.int64)))


def new_project(
    project_id: str,
    name: str,
    *,
    description: str,
    start: datetime,
    duration_days: float | None,
    tags: list[str],
    priority_: float,
) -> ev.Project:
    from .encoder import validate_tags

    clean = name.strip()
    if not clean or len(clean) > 100:
        raise InputError("a project name has 1-100 characters")
    duration = None if duration_days is None else days_us(duration_days, "duration")
    if isinstance(priority_, bool) or not isinstance(priority_, int | float):
        raise InputError(f"a project's priority must be a number, got {priority_!r}")
    if not 0 <= priority_ <= 1e6:  # NaN too
        raise InputError(f"a project's priority must be 0 or more, got {priority_!r}")
    start_us = int(start.timestamp() * 1_000_000)
    return ev.Project(
        id=project_id,
        name=clean,
        description=description,
        start=start_us,
        end=None if duration is None else start_us + duration,
        tags=validate_tags(tags),
        priority=float(priority_),
    )
