"""The in-memory projection of one brain, and `apply`, the fold that builds it from events.

Live updates, opening a store and time travel all use this one fold. Every neuron, synapse
and memory records the sequence number that created it and they are appended in log order,
so the state as of any earlier sequence is a prefix of every column: a past view costs a few
binary searches, not a replay.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

from . import events as ev
from .columns import Column
from .errors import IntegrityError
from .graph import Adjacency
from .model import MEMORY_TYPES, NEURON_TYPES, MemoryType, NeuronType

NO_EXPIRY = np.iinfo(np.int64).max
_CONCEPT = NEURON_TYPES.index(NeuronType.CONCEPT)


class Projection:
    """Columns of neurons, synapses and memories (fibers), each indexed by a dense integer."""

    def __init__(self, brain_id: str) -> None:
        self.brain_id = brain_id
        self.name = ""
        self.config = ev.BrainConfig()
        self.seq = 0
        self.times = Column(np.int64)  # recorded time of seq i + 1

        self.n_type = Column(np.int8)
        self.n_seq = Column(np.int64)
        self.n_start = Column(np.int64)
        self.n_end = Column(np.int64)
        self.n_fiber = Column(np.int32)  # the memory a neuron anchors, or -1
        self.n_key: list[str] = []
        self.n_content: list[str] = []
        self.keys: dict[str, int] = {}

        self.s_src = Column(np.int32)
        self.s_dst = Column(np.int32)
        self.s_type = Column(np.int8)
        self.s_w = Column(np.float32)
        self.s_seq = Column(np.int64)

        self.f_id: list[str] = []
        self.ids: dict[str, int] = {}
        self.f_anchor = Column(np.int32)
        self.f_seq = Column(np.int64)
        self.f_t = Column(np.int64)
        self.f_start = Column(np.int64)
        self.f_end = Column(np.int64)
        self.f_type = Column(np.int8)
        self.f_priority = Column(np.int8)
        self.f_expires = Column(np.int64)
        self.f_salience = Column(np.float32)
        self.f_text: list[str] = []
        self.f_tags: list[list[str]] = []
        self.f_source: list[str] = []
        self.f_meta: list[ev.Meta] = []

        self.graph = Adjacency()

    @property
    def neuron_count(self) -> int:
        return len(self.n_key)

    @property
    def synapse_count(self) -> int:
        return len(self.s_src)

    @property
    def fiber_count(self) -> int:
        return len(self.f_id)

    def sync_graph(self, *, force: bool = False) -> None:
        self.graph.sync(self.s_src.values, self.s_dst.values, self.neuron_count, force=force)

    def view(self, seq: int, time_us: int) -> View:
        """The state as of `seq`, with time-dependent rules (expiry) evaluated at `time_us`."""
        if seq >= self.seq:
            return View(
                self, self.seq, time_us, self.neuron_count, self.synapse_count, self.fiber_count
            )
        return View(
            self,
            seq,
            time_us,
            int(np.searchsorted(self.n_seq.values, seq, side="right")),
            int(np.searchsorted(self.s_seq.values, seq, side="right")),
            int(np.searchsorted(self.f_seq.values, seq, side="right")),
        )

    def time_of(self, seq: int) -> int:
        """Recorded time of an applied seq (0 for seq 0, before the brain existed)."""
        return 0 if seq <= 0 else int(self.times[seq - 1])

    def seq_at(self, time_us: int) -> int:
        """The last seq recorded at or before `time_us`."""
        return int(np.searchsorted(self.times.values, time_us, side="right"))


@dataclass(frozen=True, slots=True)
class View:
    """A projection seen as of one sequence number: counts cut every column to a prefix."""

    p: Projection
    seq: int
    time: int
    neurons: int
    synapses: int
    fibers: int

    def alive(self) -> npt.NDArray[np.bool_]:
        """Memories visible in this view: not expired at the view's time."""
        return self.p.f_expires.values[: self.fibers] > self.time


# -- apply -----------------------------------------------------------------------------------

_RUN = 2048


def apply(p: Projection, env: ev.Envelope) -> Projection:
    """Fold one event into the projection (in place, for speed) and return it."""
    return apply_all(p, (env,))


def apply_all(p: Projection, envs: Iterable[ev.Envelope]) -> Projection:
    """Fold events in order. Runs of `memory_encoded` are folded column by column, which is
    what makes replay fast; the result is the same as folding them one by one."""
    run: list[ev.Envelope] = []
    for env in envs:
        if type(env.body) is ev.MemoryEncoded:
            run.append(env)
            if len(run) >= _RUN:
                _memories_encoded(p, run)
                run = []
            continue
        if run:
            _memories_encoded(p, run)
            run = []
        handler = _HANDLERS.get(type(env.body))
        if handler is None:
            raise IntegrityError(f"no apply rule for {type(env.body).__name__}")
        _check_seq(p, env, 0)
        handler(p, env)
        p.seq = env.seq
        p.times.append(env.t)
    if run:
        _memories_encoded(p, run)
    return p


def _check_seq(p: Projection, env: ev.Envelope, offset: int) -> None:
    if env.seq != p.seq + 1 + offset:
        raise IntegrityError(f"event seq {env.seq} does not follow projection seq {p.seq + offset}")


def _brain_created(p: Projection, env: ev.Envelope) -> None:
    body = env.body
    assert isinstance(body, ev.BrainCreated)
    p.name = body.name
    p.config = body.config


def _brain_configured(p: Projection, env: ev.Envelope) -> None:
    body = env.body
    assert isinstance(body, ev.BrainConfigured)
    p.config = body.config


def _memories_encoded(p: Projection, envs: list[ev.Envelope]) -> None:
    """Append a run of memories: validated one by one, copied into the columns in bulk."""
    n_key, n_content, n_type, n_start, n_end, n_fiber, n_seq = [], [], [], [], [], [], []
    s_src, s_dst, s_type, s_w, s_seq = [], [], [], [], []
    neuron = len(p.n_key)
    fiber = len(p.f_id)
    new_ids: dict[str, int] = {}
    bodies: list[ev.MemoryEncoded] = []
    for i, env in enumerate(envs):
        b = env.body
        assert isinstance(b, ev.MemoryEncoded)
        _check_seq(p, env, i)
        seq = env.seq
        if b.first_neuron != neuron:
            raise IntegrityError(
                f"seq {seq}: memory expects neuron {b.first_neuron}, projection has {neuron}"
            )
        if b.fiber_id in p.ids or b.fiber_id in new_ids:
            raise IntegrityError(f"seq {seq}: memory id {b.fiber_id} already exists")
        n_after = neuron + 1 + len(b.neurons)
        targets = b.link_targets
        k = len(targets)
        if k and not (min(targets) >= 0 and max(targets) < n_after):
            raise IntegrityError(f"seq {seq}: link to an unknown neuron")
        if not k == len(b.link_types) == len(b.link_weights):
            raise IntegrityError(f"seq {seq}: link columns differ in length")
        MemoryType(b.memory_type)  # raises on an unknown type before anything is changed
        new_ids[b.fiber_id] = fiber + i
        bodies.append(b)

        n_key.append("")
        n_content.append("")
        n_type.append(_CONCEPT)
        n_start.append(b.event_start)
        n_end.append(b.event_end)
        n_fiber.append(fiber + i)
        for spec in b.neurons:
            n_key.append(spec.key)
            n_content.append(spec.content)
            n_type.append(spec.type)
            n_start.append(spec.start)
            n_end.append(spec.end)
            n_fiber.append(-1)
        n_seq.extend([seq] * (n_after - neuron))
        s_src.extend([neuron] * k)
        s_dst.extend(targets)
        s_type.extend(b.link_types)
        s_w.extend(b.link_weights)
        s_seq.extend([seq] * k)
        neuron = n_after

    base = len(p.n_key)
    p.keys.update((key, base + j) for j, key in enumerate(n_key) if key)
    p.n_key.extend(n_key)
    p.n_content.extend(n_content)
    p.n_type.extend(n_type)
    p.n_start.extend(n_start)
    p.n_end.extend(n_end)
    p.n_fiber.extend(n_fiber)
    p.n_seq.extend(n_seq)
    p.s_src.extend(s_src)
    p.s_dst.extend(s_dst)
    p.s_type.extend(s_type)
    p.s_w.extend(s_w)
    p.s_seq.extend(s_seq)

    p.f_id.extend(new_ids)
    p.ids.update(new_ids)
    p.f_anchor.extend(b.first_neuron for b in bodies)
    p.f_seq.extend(e.seq for e in envs)
    p.f_t.extend(e.t for e in envs)
    p.f_start.extend(b.event_start for b in bodies)
    p.f_end.extend(b.event_end for b in bodies)
    p.f_type.extend(_TYPE_CODE[b.memory_type] for b in bodies)
    p.f_priority.extend(b.priority for b in bodies)
    p.f_expires.extend(NO_EXPIRY if b.expires_at is None else b.expires_at for b in bodies)
    p.f_salience.extend(b.salience for b in bodies)
    p.f_text.extend(b.text for b in bodies)
    p.f_tags.extend(list(b.tags) for b in bodies)
    p.f_source.extend(b.source for b in bodies)
    p.f_meta.extend(dict(b.meta) for b in bodies)
    p.seq = envs[-1].seq
    p.times.extend(e.t for e in envs)


_TYPE_CODE = {t.value: i for i, t in enumerate(MEMORY_TYPES)}
_HANDLERS: dict[type, Callable[[Projection, ev.Envelope], None]] = {
    ev.BrainCreated: _brain_created,
    ev.BrainConfigured: _brain_configured,
}


# -- state as data: checkpoints and equality --------------------------------------------------

_COLUMNS = (
    "times",
    "n_type",
    "n_seq",
    "n_start",
    "n_end",
    "n_fiber",
    "s_src",
    "s_dst",
    "s_type",
    "s_w",
    "s_seq",
    "f_anchor",
    "f_seq",
    "f_t",
    "f_start",
    "f_end",
    "f_type",
    "f_priority",
    "f_expires",
    "f_salience",
)
_LISTS = ("n_key", "n_content", "f_id", "f_text", "f_tags", "f_source", "f_meta")


class State(msgspec.Struct, frozen=True):
    """Everything `apply` produced, as plain data; derived indexes (dicts, CSR) are rebuilt."""

    brain_id: str
    name: str
    config: ev.BrainConfig
    seq: int
    columns: dict[str, bytes]
    lists: dict[str, Any]


def to_state(p: Projection) -> State:
    return State(
        brain_id=p.brain_id,
        name=p.name,
        config=p.config,
        seq=p.seq,
        columns={name: getattr(p, name).values.tobytes() for name in _COLUMNS},
        lists={name: getattr(p, name) for name in _LISTS},
    )


def from_state(state: State) -> Projection:
    p = Projection(state.brain_id)
    p.name, p.config, p.seq = state.name, state.config, state.seq
    for name in _COLUMNS:
        col: Column = getattr(p, name)
        setattr(p, name, Column(col.dtype, np.frombuffer(state.columns[name], dtype=col.dtype)))
    for name in _LISTS:
        setattr(p, name, state.lists[name])
    p.keys = {key: i for i, key in enumerate(p.n_key) if key}
    p.ids = {fid: i for i, fid in enumerate(p.f_id)}
    if len(p.times) != p.seq:
        raise IntegrityError("checkpoint state is inconsistent with its sequence number")
    return p
