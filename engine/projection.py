"""The in-memory projection of one brain, and `apply`, the fold that builds it from events.

Live updates, opening a store and time travel all use this one fold. Neurons, synapses and
memories are appended in log order and the projection records how many of each existed
after every event, so the state as of any earlier sequence is a prefix of every column: a
past view is three array lookups, not a replay.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

from . import events as ev
from .columns import Column, TextColumn
from .errors import IntegrityError
from .graph import Adjacency
from .model import MEMORY_TYPES, NEURON_TYPES, NeuronType

NO_EXPIRY = np.iinfo(np.int64).max
TAG_SEP = "\x1f"
_CONCEPT = NEURON_TYPES.index(NeuronType.CONCEPT)
_meta_encoder = msgspec.json.Encoder()
_meta_decoder = msgspec.json.Decoder(dict[str, str | int | float | bool | None])


class Projection:
    """Columns of neurons, synapses and memories (fibers), each indexed by a dense integer."""

    def __init__(self, brain_id: str) -> None:
        self.brain_id = brain_id
        self.name = ""
        self.config = ev.BrainConfig()
        self.seq = 0
        self.sources: list[str] = []  # provenance names; memories store an index into it
        # per event (index seq - 1): recorded time, and how many rows existed after it
        self.times = Column(np.int64)
        self.n_at = Column(np.int64)
        self.s_at = Column(np.int64)
        self.f_at = Column(np.int64)

        self.n_type = Column(np.int8)
        self.n_start = Column(np.int64)
        self.n_end = Column(np.int64)
        self.n_fiber = Column(np.int32)  # the memory a neuron anchors, or -1
        self.n_key = TextColumn()
        self.n_content = TextColumn()
        self.keys: dict[str, int] = {}

        self.s_src = Column(np.int32)
        self.s_dst = Column(np.int32)
        self.s_type = Column(np.int8)
        self.s_w = Column(np.float32)

        self.f_id = TextColumn()
        self._ids: dict[str, int] | None = {}
        self.f_anchor = Column(np.int32)
        self.f_t = Column(np.int64)
        self.f_start = Column(np.int64)
        self.f_end = Column(np.int64)
        self.f_type = Column(np.int8)
        self.f_priority = Column(np.int8)
        self.f_expires = Column(np.int64)
        self.f_salience = Column(np.float32)
        self.f_source = Column(np.int16)
        self.f_text = TextColumn()
        self.f_tags = TextColumn()
        self.f_meta = TextColumn()

        self.graph = Adjacency()  # every synapse
        self.episodes = Adjacency()  # memory-to-memory synapses only: neighbours in time

    @property
    def ids(self) -> dict[str, int]:
        """Memory id -> index, built on first use: opening a brain to recall never needs it."""
        if self._ids is None:
            ids = {fid: i for i, fid in enumerate(self.f_id.slice(0, len(self.f_id)))}
            if len(ids) != self.fiber_count:
                raise IntegrityError("two memories of this brain share an id")
            self._ids = ids
        return self._ids

    @property
    def neuron_count(self) -> int:
        return len(self.n_type)

    @property
    def synapse_count(self) -> int:
        return len(self.s_src)

    @property
    def fiber_count(self) -> int:
        return len(self.f_anchor)

    def sync_graph(self, *, force: bool = False) -> None:
        src, dst, n = self.s_src.values, self.s_dst.values, self.neuron_count
        self.graph.sync(src, dst, n, force=force)
        self.episodes.sync(src, dst, n, self.between_memories, force=force)

    def between_memories(self, src: npt.NDArray[np.int32], dst: npt.NDArray[np.int32]) -> Any:
        """Which of these synapses join two memories (the episodic adjacency's selection)."""
        fiber_of = self.n_fiber.values
        return (fiber_of[src] >= 0) & (fiber_of[dst] >= 0)

    def view(self, seq: int, time_us: int) -> View:
        """The state as of `seq`, with time-dependent rules (expiry) evaluated at `time_us`."""
        if seq >= self.seq:
            return View(
                self, self.seq, time_us, self.neuron_count, self.synapse_count, self.fiber_count
            )
        if seq <= 0:
            return View(self, 0, time_us, 0, 0, 0)
        return View(self, seq, time_us, self.n_at[seq - 1], self.s_at[seq - 1], self.f_at[seq - 1])

    def time_of(self, seq: int) -> int:
        """Recorded time of an applied seq (0 for seq 0, before the brain existed)."""
        return 0 if seq <= 0 else int(self.times[seq - 1])

    def seq_at(self, time_us: int) -> int:
        """The last seq recorded at or before `time_us`."""
        return int(np.searchsorted(self.times.values, time_us, side="right"))

    def fiber_seq(self, fiber: int) -> int:
        """The seq of the event that created a memory."""
        return int(np.searchsorted(self.f_at.values, fiber, side="right")) + 1

    def tags(self, fiber: int) -> list[str]:
        joined = self.f_tags[fiber]
        return joined.split(TAG_SEP) if joined else []

    def meta(self, fiber: int) -> ev.Meta:
        raw = self.f_meta[fiber]
        return _meta_decoder.decode(raw) if raw else {}

    def source(self, fiber: int) -> str:
        return self.sources[int(self.f_source[fiber])]


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
        p.n_at.append(p.neuron_count)
        p.s_at.append(p.synapse_count)
        p.f_at.append(p.fiber_count)
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
    n_key: list[str] = []
    n_content: list[str] = []
    n_type: list[int] = []
    n_start: list[int] = []
    n_end: list[int] = []
    n_fiber: list[int] = []
    s_dst: list[int] = []
    s_src: list[int] = []
    s_type: list[int] = []
    s_w: list[float] = []
    n_at: list[int] = []
    s_at: list[int] = []
    neuron = p.neuron_count
    fiber = p.fiber_count
    ids = p._ids  # checked here if built, else when it is built
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
        if (ids is not None and b.fiber_id in ids) or b.fiber_id in new_ids:
            raise IntegrityError(f"seq {seq}: memory id {b.fiber_id} already exists")
        n_after = neuron + 1 + len(b.neurons)
        targets = b.link_targets
        k = len(targets)
        if k and not (min(targets) >= 0 and max(targets) < n_after):
            raise IntegrityError(f"seq {seq}: link to an unknown neuron")
        if not k == len(b.link_types) == len(b.link_weights):
            raise IntegrityError(f"seq {seq}: link columns differ in length")
        if b.memory_type not in _TYPE_CODE:
            raise IntegrityError(f"seq {seq}: unknown memory type {b.memory_type!r}")
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
        s_src.extend([neuron] * k)
        s_dst.extend(targets)
        s_type.extend(b.link_types)
        s_w.extend(b.link_weights)
        neuron = n_after
        n_at.append(neuron)
        s_at.append(len(s_src))

    base = p.neuron_count
    p.keys.update((key, base + j) for j, key in enumerate(n_key) if key)
    p.n_key.extend(n_key)
    p.n_content.extend(n_content)
    p.n_type.extend(n_type)
    p.n_start.extend(n_start)
    p.n_end.extend(n_end)
    p.n_fiber.extend(n_fiber)
    s_base = p.synapse_count
    p.s_src.extend(s_src)
    p.s_dst.extend(s_dst)
    p.s_type.extend(s_type)
    p.s_w.extend(s_w)

    if ids is not None:
        ids.update(new_ids)
    p.f_id.extend(new_ids)
    p.f_anchor.extend(b.first_neuron for b in bodies)
    p.f_t.extend(e.t for e in envs)
    p.f_start.extend(b.event_start for b in bodies)
    p.f_end.extend(b.event_end for b in bodies)
    p.f_type.extend(_TYPE_CODE[b.memory_type] for b in bodies)
    p.f_priority.extend(b.priority for b in bodies)
    p.f_expires.extend(NO_EXPIRY if b.expires_at is None else b.expires_at for b in bodies)
    p.f_salience.extend(b.salience for b in bodies)
    p.f_source.extend(_source_code(p, b.source) for b in bodies)
    p.f_text.extend(b.text for b in bodies)
    p.f_tags.extend(TAG_SEP.join(b.tags) for b in bodies)
    p.f_meta.extend(_meta_encoder.encode(b.meta).decode() if b.meta else "" for b in bodies)

    p.seq = envs[-1].seq
    p.times.extend(e.t for e in envs)
    p.n_at.extend(n_at)
    p.s_at.extend(s_base + c for c in s_at)
    p.f_at.extend(range(fiber + 1, fiber + 1 + len(envs)))


def _source_code(p: Projection, source: str) -> int:
    try:
        return p.sources.index(source)
    except ValueError:
        p.sources.append(source)
        return len(p.sources) - 1


_TYPE_CODE = {t.value: i for i, t in enumerate(MEMORY_TYPES)}
_HANDLERS: dict[type, Callable[[Projection, ev.Envelope], None]] = {
    ev.BrainCreated: _brain_created,
    ev.BrainConfigured: _brain_configured,
}


# -- state as data: checkpoints and equality --------------------------------------------------

NUMERIC = (
    "times", "n_at", "s_at", "f_at",
    "n_type", "n_start", "n_end", "n_fiber",
    "s_src", "s_dst", "s_type", "s_w",
    "f_anchor", "f_t", "f_start", "f_end", "f_type", "f_priority", "f_expires", "f_salience",
    "f_source",
)  # fmt: skip
TEXT = ("n_key", "n_content", "f_id", "f_text", "f_tags", "f_meta")


class Header(msgspec.Struct, frozen=True):
    """The scalar part of a projection's state."""

    brain_id: str
    name: str
    config: ev.BrainConfig
    seq: int
    sources: list[str]


def to_arrays(p: Projection) -> tuple[Header, dict[str, npt.NDArray[np.generic]]]:
    """Everything `apply` produced, as plain arrays (text columns in canonical form).

    Equal states give equal arrays, so this is also how tests compare projections.
    """
    arrays: dict[str, npt.NDArray[np.generic]] = {n: getattr(p, n).values for n in NUMERIC}
    for name in TEXT:
        blob, ends = getattr(p, name).canonical()
        arrays[name + ".blob"] = np.frombuffer(blob, dtype=np.uint8)
        arrays[name + ".ends"] = ends
    return Header(p.brain_id, p.name, p.config, p.seq, list(p.sources)), arrays


def state_bytes(p: Projection) -> bytes:
    header, arrays = to_arrays(p)
    return msgspec.msgpack.encode(header) + b"".join(
        name.encode() + arr.tobytes() for name, arr in sorted(arrays.items())
    )


def from_arrays(header: Header, arrays: dict[str, npt.NDArray[np.generic]]) -> Projection:
    p = Projection(header.brain_id)
    p.name, p.config, p.seq = header.name, header.config, header.seq
    p.sources = list(header.sources)
    for name in NUMERIC:
        setattr(p, name, Column(getattr(p, name).dtype, arrays[name]))
    for name in TEXT:
        blob = arrays[name + ".blob"].tobytes()
        setattr(p, name, TextColumn(blob, arrays[name + ".ends"]))
    counts = {len(p.times), len(p.n_at), len(p.s_at), len(p.f_at)}
    if counts != {p.seq} or len(p.n_key) != p.neuron_count or len(p.f_id) != p.fiber_count:
        raise IntegrityError("checkpoint state is inconsistent with itself")
    keys = p.n_key.slice(0, p.neuron_count)
    p.keys = {key: i for i, key in enumerate(keys) if key}
    p._ids = None
    return p
