"""What a target must write to move from one view of a brain to a later one, as typed rows.

The events between the two views say *which* rows changed (memories, links, neurons,
projects); the later view says what they hold. So a target holds exactly what the projection
holds (one fold, engine/fold.py, decides every value), and the same rows serve SQLite, Neo4j,
FalkorDB and files. Time moves things without events: a memory whose expiry passed between
the two moments changes status, so statuses of both views are compared too. A hard erase
rewrites the past, so erased memories are compared with what the target still holds.

Ids: a memory (and its anchor neuron) is its memory id; any other neuron is "n<index>" (its
key, such as "k:payment", is a property: erased neurons lose it); a link is "s<index>".
A link is live (carries activation) when its memory is active or pinned, or expired without a
sweep having recorded it, and its expiry is after the hour of the moment (`expires_at >
as_of_hour`): the engine takes expiry at the hour for links, like decay. Weights are stored as
the engine stores them (the weight set at creation or by the last
reinforcement, the time its decay clock started, the reinforcement count, the decay rate of
its memory's type); the effective weight at a moment is
`weight * exp(-decay_rate * days / (1 + reinforced_count))`, days since `decay_from` taken at
the hour (engine/decay.py), and 0 for links of hidden memories.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

import msgspec
import numpy as np
import numpy.typing as npt

from .. import events as ev
from ..clock import EPOCH
from ..decay import HOUR_US, rates
from ..model import BIDIRECTIONAL, MEMORY_TYPES, NEURON_TYPES, SYNAPSE_TYPES, NeuronType
from ..projection import ERASED, EXPIRED, FORGOTTEN, NO_EXPIRY, PINNED, View
from ..reads import entry

if TYPE_CHECKING:
    from ..api import HistoryEntry
    from ..reads import BrainView
    from .base import Target

I64 = npt.NDArray[np.int64]
_T_TIME = NEURON_TYPES.index(NeuronType.TIME)


def iso(us: int) -> str:
    """UTC ISO 8601 with microseconds, always the same width: text order is time order."""
    return (EPOCH + timedelta(microseconds=int(us))).isoformat(timespec="microseconds")


class BrainRow(msgspec.Struct, frozen=True):
    id: str
    name: str
    config: str  # JSON of the brain's configuration
    created_at: str


class NeuronRow(msgspec.Struct, frozen=True):
    """A neuron other than a memory's anchor (the anchor is the memory row)."""

    id: str  # "n<idx>"
    idx: int
    type: str
    key: str
    content: str
    time_start: str | None  # time neurons: the span they stand for
    time_end: str | None
    created_at: str


class MemoryRow(msgspec.Struct, frozen=True):
    """A memory (fiber + typed memory + anchor neuron); an erased one keeps only its id, times
    and status: its text, tags and metadata are gone."""

    id: str
    idx: int
    anchor: int  # the index of its anchor neuron
    text: str | None
    memory_type: str
    priority: int
    status: str  # active | pinned | expired | forgotten | erased
    expiry_recorded: bool  # an expiry sweep recorded it as expired (not only past its expiry)
    event_time: str
    event_end: str
    recorded_at: str
    expires_at: str | None
    tags: list[str]
    project_id: str | None
    source: str
    salience: float
    metadata: str  # JSON object


class LinkRow(msgspec.Struct, frozen=True):
    id: str  # "s<idx>"
    idx: int
    source_id: str  # always a memory
    target_id: str
    target_memory: bool  # the target is a memory (a neighbour in time), not a neuron
    type: str
    direction: str  # uni | bi
    weight: float
    reinforced_count: int
    decay_from_us: int  # µs since the epoch, UTC
    decay_rate: float  # per day; 0 for links of pinned memories
    created_at: str


class GoneLink(msgspec.Struct, frozen=True):
    id: str
    source_id: str
    type: str


class ProjectRow(msgspec.Struct, frozen=True):
    id: str
    name: str
    description: str
    start_date: str
    end_date: str | None
    tags: list[str]
    priority: float


class EventRow(msgspec.Struct, frozen=True):
    seq: int
    recorded_at: str
    type: str
    memory_ids: list[str]
    summary: str
    body: str  # JSON of the event (`events.to_jsonable`)


@dataclass(slots=True)
class Batch:
    """Everything a target writes to stand for brain `brain.id` at (`seq`, `time`)."""

    brain: BrainRow
    seq: int
    time: int
    hour: int  # `time` taken at the hour: what decay and the links' expiry use
    since: int | None  # the seq the target held before (None: nothing of this brain)
    neurons: list[NeuronRow] = field(default_factory=list)
    gone_neurons: list[str] = field(default_factory=list)
    memories: list[MemoryRow] = field(default_factory=list)
    links: list[LinkRow] = field(default_factory=list)
    gone_links: list[GoneLink] = field(default_factory=list)
    projects: list[ProjectRow] = field(default_factory=list)
    gone_projects: list[str] = field(default_factory=list)
    events: list[EventRow] = field(default_factory=list)
    redacted: list[EventRow] = field(default_factory=list)  # earlier events an erase rewrote
    erased: list[str] = field(default_factory=list)  # memories erased since the target saw them

    @property
    def size(self) -> int:
        return (len(self.neurons) + len(self.memories) + len(self.links) + len(self.gone_links)
                + len(self.gone_neurons) + len(self.projects) + len(self.events))  # fmt: skip


def event_row(h: HistoryEntry, memory_ids: list[str]) -> EventRow:
    return EventRow(
        seq=h.seq,
        recorded_at=iso(h.event["t"]),
        type=h.type,
        memory_ids=memory_ids,
        summary=h.summary,
        body=msgspec.json.encode(h.event).decode(),
    )


def _event_rows(envs: list[ev.Envelope]) -> list[EventRow]:
    return [event_row(entry(env), ev.touched(env.body)) for env in envs]


def _rewritten(view: BrainView, memory_id: str) -> list[EventRow]:
    """The events of one memory as the log holds them now (an erase redacted them)."""
    out = []
    for h in view.history(memory_id):
        env = msgspec.convert({**h.event, "body": {**h.event["body"], "type": h.type}},
                              ev.Envelope)  # fmt: skip
        out.append(event_row(h, ev.touched(env.body)))
    return out


def statuses(view: View, fibers: int) -> npt.NDArray[np.int8]:
    """Status code per memory (index into STATUSES) as of the view's time."""
    flags = view.col("f_flags")[:fibers]
    pinned = (flags & PINNED) != 0
    expired = ((flags & EXPIRED) != 0) | (~pinned & (view.col("f_expires")[:fibers] <= view.time))
    out = np.where(pinned, 1, 0).astype(np.int8)
    out[expired] = 2
    out[(flags & FORGOTTEN) != 0] = 3
    out[(flags & ERASED) != 0] = 4
    return out


STATUSES = ("active", "pinned", "expired", "forgotten", "erased")


def node_id(view: View, neuron: int) -> str:
    fiber = int(view.p.n_fiber[neuron])
    return view.p.f_id[fiber] if fiber >= 0 else f"n{neuron}"


def batch(
    before: BrainView | None,
    after: BrainView,
    events: list[ev.Envelope],
    target: Target,
) -> Batch:
    """The rows that take a target from `before` (None: it holds nothing of this brain) to
    `after`; `events` are the events between the two (seq before.seq+1 .. after.seq)."""
    with after.state() as new:
        if before is None:
            return _batch(None, new, after, events, target)
        with before.state() as old:
            return _batch(old, new, after, events, target)


def _batch(
    old: View | None, new: View, after: BrainView, events: list[ev.Envelope], target: Target
) -> Batch:
    p = new.p
    n1, s1, f1 = (0, 0, 0) if old is None else (old.neurons, old.synapses, old.fibers)
    config = msgspec.json.encode(p.config_at(new.seq)).decode()
    out = Batch(
        brain=BrainRow(p.brain_id, p.name, config, iso(p.time_of(1))),
        seq=new.seq,
        time=new.time,
        hour=new.time // HOUR_US * HOUR_US,
        since=None if old is None else old.seq,
    )
    fibers: set[int] = set()  # changed memories (new ones: f1 and after)
    relink: set[int] = set()  # memories whose links' decay rate may have changed
    links: set[int] = set()  # changed links (new ones: s1 and after)
    projects: set[str] = set()
    for env in events:
        b = env.body
        if isinstance(b, ev.MemoryEdited):
            fibers.add(p.ids[b.fiber_id])
            links.update(b.removed)
        elif isinstance(b, ev.MemoryRetyped | ev.MemoryPinned | ev.MemoryUnpinned):
            relink.add(p.ids[b.fiber_id])
        elif isinstance(b, ev.MemoryForgotten | ev.MemoryRestored | ev.MemoryErased):
            fibers.add(p.ids[b.fiber_id])
        elif isinstance(b, ev.MemoriesExpired):
            fibers.update(p.ids[fid] for fid in b.fiber_ids)
        elif isinstance(b, ev.SynapsesReinforced):
            links.update(b.synapses)
        elif isinstance(b, ev.DecayApplied):
            links.update(b.pruned)
        elif isinstance(b, ev.ProjectCreated | ev.ProjectChanged):
            projects.add(b.project.id)
        elif isinstance(b, ev.ProjectDeleted):
            projects.add(b.project_id)
    status = statuses(new, new.fibers)
    if old is not None:  # time moved: expiries passed (or a new expiry brought one back)
        moved = np.flatnonzero(statuses(old, f1) != status[:f1])
        fibers.update(moved.tolist())
    erased = np.flatnonzero(status[:f1] == STATUSES.index("erased"))
    if len(erased):
        out.erased = target.not_erased(p.brain_id, p.f_id.pick(erased.astype(np.int64)))
    if out.erased:
        gone = np.asarray([p.ids[fid] for fid in out.erased], dtype=np.int64)
        fibers.update(gone.tolist())
        anchors = p.f_anchor.values[gone]  # its links, and its neighbours' links to it
        m = new.synapses
        touching = np.isin(p.s_src.values[:m], anchors) | np.isin(p.s_dst.values[:m], anchors)
        links.update(np.flatnonzero(touching).tolist())
        anchor = p.n_fiber.values[:n1] >= 0
        blank = (p.n_content.lengths()[:n1] == 0) & (p.n_key.lengths()[:n1] == 0) & ~anchor
        out.gone_neurons = [f"n{i}" for i in np.flatnonzero(blank).tolist()]
        if target.wants_events:
            out.redacted = [row for fid in out.erased for row in _rewritten(after, fid)]
    fibers |= relink
    if relink:
        anchors = p.f_anchor.values[np.fromiter(relink, dtype=np.int64)]
        owned = np.flatnonzero(np.isin(p.s_src.values[: new.synapses], anchors))
        links.update(owned.tolist())
    out.neurons = _neurons(new, n1)
    out.memories = _memories(new, _with_range(fibers, f1, new.fibers).tolist(), status)
    out.links, out.gone_links = _links(new, _with_range(links, s1, new.synapses))
    for pid in sorted(projects):
        state = p.project_at(pid, new.seq)
        if state is None:
            out.gone_projects.append(pid)
        else:
            out.projects.append(_project(state))
    if old is None:  # a first batch: every project that exists
        out.projects = [_project(pr) for pid in p.project_ids
                        if (pr := p.project_at(pid, new.seq)) is not None]  # fmt: skip
    if target.wants_events:
        out.events = _event_rows(events)
    return out


def _with_range(changed: set[int], lo: int, hi: int) -> I64:
    """Sorted rows: the changed ones before `lo`, and every row from `lo` to `hi`."""
    old = np.fromiter((r for r in changed if r < lo), dtype=np.int64, count=-1)
    return np.concatenate((np.sort(old), np.arange(lo, hi, dtype=np.int64)))


def _neurons(view: View, first: int) -> list[NeuronRow]:
    p = view.p
    rows = np.arange(first, view.neurons, dtype=np.int64)
    rows = rows[p.n_fiber.values[rows] < 0]
    keys, contents = p.n_key.pick(rows), p.n_content.pick(rows)
    created = np.searchsorted(p.n_at.values, rows, side="right")
    out = []
    for n, key, content, c in zip(rows.tolist(), keys, contents, created.tolist(), strict=True):
        if not key and not content:
            continue  # an erased memory's own neuron
        kind = int(p.n_type[n])
        timed = kind == _T_TIME and int(p.n_start[n]) != 0
        out.append(
            NeuronRow(
                id=f"n{n}",
                idx=n,
                type=NEURON_TYPES[kind].value,
                key=key,
                content=content,
                time_start=iso(p.n_start[n]) if timed else None,
                time_end=iso(p.n_end[n]) if timed else None,
                created_at=iso(p.times[int(c)]),
            )
        )
    return out


def _memories(view: View, fibers: list[int], status: npt.NDArray[np.int8]) -> list[MemoryRow]:
    p = view.p
    idx = np.asarray(fibers, dtype=np.int64)
    kinds = view.col("f_type")[idx].tolist()
    prios = view.col("f_priority")[idx].tolist()
    expires = view.col("f_expires")[idx].tolist()
    projects = view.col("f_project")[idx].tolist()
    flags = view.col("f_flags")[idx].tolist()
    out = []
    for i, f in enumerate(fibers):
        state = STATUSES[int(status[f])]
        erased = state == "erased"
        code = projects[i]
        out.append(
            MemoryRow(
                id=p.f_id[f],
                idx=f,
                anchor=int(p.f_anchor[f]),
                text=None if erased else view.text(f),
                memory_type=MEMORY_TYPES[kinds[i]].value,
                priority=prios[i],
                status=state,
                expiry_recorded=bool(flags[i] & EXPIRED),
                event_time=iso(p.f_start[f]),
                event_end=iso(p.f_end[f]),
                recorded_at=iso(p.f_t[f]),
                expires_at=None if expires[i] == NO_EXPIRY else iso(expires[i]),
                tags=[] if erased else view.tags(f),
                project_id=p.project_ids[code] if code >= 0 and not erased else None,
                source=p.source(f),
                salience=round(float(p.f_salience[f]), 6),
                metadata="{}" if erased else msgspec.json.encode(p.meta(f)).decode(),
            )
        )
    return out


def _links(view: View, rows: I64) -> tuple[list[LinkRow], list[GoneLink]]:
    """Link rows, column by column (a full export writes millions of them)."""
    p, seq = view.p, view.seq
    if not len(rows):
        return [], []
    src, dst = p.s_src.values[rows], p.s_dst.values[rows]
    owner = p.n_fiber.values[src].astype(np.int64)
    flags = view.col("f_flags")[owner]
    alive = ((p.s_dead.values[rows] > seq) & ((flags & ERASED) == 0)).tolist()
    weight = np.round(p.s_w.at_rows(seq, rows).astype(np.float64), 6).tolist()
    clock = p.clock_times(p.s_clock.at_rows(seq, rows)).tolist()
    count = p.s_count.at_rows(seq, rows).tolist()
    rate = rates(view.col("f_type")[owner], (flags & PINNED) != 0).astype(np.float64).tolist()
    made = np.searchsorted(p.s_at.values, rows, side="right")
    when = _isos(p.times.values[made])
    kinds = [SYNAPSE_TYPES[k] for k in p.s_type.values[rows].tolist()]
    sources = p.f_id.pick(owner)
    to_fiber = p.n_fiber.values[dst].astype(np.int64)
    to_memory = to_fiber >= 0
    targets = [f"n{n}" for n in dst.tolist()]
    for i, fid in zip(np.flatnonzero(to_memory).tolist(), p.f_id.pick(to_fiber[to_memory]),
                      strict=True):  # fmt: skip
        targets[i] = fid
    memory_target = to_memory.tolist()
    links: list[LinkRow] = []
    gone: list[GoneLink] = []
    for i, s in enumerate(rows.tolist()):
        kind = kinds[i]
        if not alive[i]:
            gone.append(GoneLink(f"s{s}", sources[i], kind.value))
            continue
        links.append(
            LinkRow(f"s{s}", s, sources[i], targets[i], memory_target[i], kind.value,
                    "bi" if kind in BIDIRECTIONAL else "uni", weight[i], count[i], clock[i],
                    rate[i], when[i])
        )  # fmt: skip
    return links, gone


def _isos(times: I64) -> list[str]:
    """`iso` of many times, each distinct time formatted once."""
    uniq, back = np.unique(times, return_inverse=True)
    text = [iso(t) for t in uniq.tolist()]
    return [text[i] for i in back.tolist()]


def _project(pr: ev.Project) -> ProjectRow:
    return ProjectRow(
        id=pr.id,
        name=pr.name,
        description=pr.description,
        start_date=iso(pr.start),
        end_date=None if pr.end is None else iso(pr.end),
        tags=list(pr.tags),
        priority=pr.priority,
    )
