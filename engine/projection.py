"""The in-memory projection of one brain: what `apply` (engine/fold.py) builds from the log.

Neurons, synapses and memories are appended in log order and the projection records how
many of each existed after every event, so what existed as of an earlier sequence is a
prefix of every column. What can change after creation (a memory's type, flags, text; a
link's weight) lives in journaled columns that can be read as of any sequence. A past view
is therefore a few array operations on the live projection, never a replay.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

from . import events as ev
from . import sets
from .columns import Check, Column, TextColumn, Versioned, VersionedText
from .decay import HOUR_US, effective_weights
from .errors import IntegrityError
from .graph import Adjacency
from .idindex import IdIndex
from .model import SYNAPSE_TYPES, SynapseType
from .semantic.vectors import PARTS as VECTOR_PARTS
from .semantic.vectors import VectorStore
from .weightmemo import WeightMemo

NO_EXPIRY = np.iinfo(np.int64).max
# Link columns hold seqs as int32 (8 bytes a link less than int64 at tens of millions of links):
# s_dead of a live synapse is past every seq a brain may hold, and 0 means never visible (erased)
ALIVE = np.iinfo(np.int32).max
MAX_SEQ = ALIVE - 1  # the fold refuses events past it
TAG_SEP = "\x1f"

# memory flags
PINNED, FORGOTTEN, ERASED, EXPIRED = 1, 2, 4, 8
HIDDEN = FORGOTTEN | ERASED | EXPIRED
_AFTER = SYNAPSE_TYPES.index(SynapseType.AFTER)

_meta_decoder = msgspec.json.Decoder(dict[str, str | int | float | bool | None])


def _decode_meta(raw: str) -> ev.Meta:
    return _meta_decoder.decode(raw) if raw else {}


def _split_tags(joined: str) -> list[str]:
    return joined.split(TAG_SEP) if joined else []


class Projection:
    """Columns of neurons, synapses and memories (fibers), each indexed by a dense integer."""

    def __init__(self, brain_id: str) -> None:
        self.brain_id = brain_id
        self.name = ""
        self.seq = 0
        self.configs: list[tuple[int, ev.BrainConfig]] = [(0, ev.BrainConfig())]
        self.sources: list[str] = []  # provenance names; memories store an index into it
        self.projects: dict[str, list[tuple[int, ev.Project | None]]] = {}  # id -> versions
        self.project_ids: list[str] = []  # memories store an index into it
        self.sweeps: list[tuple[int, int]] = []  # (seq, time) of decay sweeps
        self.models: list[tuple[int, str, int]] = []  # (seq, embedding model, dims) switches
        self.vectors: dict[str, VectorStore] = {}  # per embedding model ever used
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

        self.s_src = Column(np.int32)  # always a memory's anchor: the memory that made the link
        self.s_dst = Column(np.int32)
        self.s_type = Column(np.int8)
        self.s_w = Versioned(np.float32)
        # the seq of the event whose recorded time (re)started the link's decay clock: half
        # the bytes of the time itself (`clock_times`)
        self.s_clock = Versioned(np.int32)
        # times reinforced, saturating at 65,535 (by then a link's decay is 1/65,536 of its rate)
        self.s_count = Versioned(np.uint16)
        self.s_dead = Column(np.int32)  # seq of the event that pruned it, ALIVE, or 0

        self.f_id = TextColumn()
        # memory id -> index: made on first use (`ids`), as a replay or a recall never needs it
        self._ids: IdIndex | None = None
        self._seen: dict[str, int] = {}  # ids that reads returned, and their memories' index
        self.f_anchor = Column(np.int32)
        self.f_t = Column(np.int64)
        self.f_start = Column(np.int64)
        self.f_end = Column(np.int64)
        self.f_salience = Column(np.float32)
        self.f_source = Column(np.int16)
        self.f_type = Versioned(np.int8)
        self.f_priority = Versioned(np.int8)
        self.f_expires = Versioned(np.int64)
        self.f_flags = Versioned(np.int8)
        self.f_project = Versioned(np.int32)
        self.f_text = VersionedText()
        self.f_tags = VersionedText()
        self.f_meta = TextColumn()

        self.graph = Adjacency()  # every synapse
        self.episodes = Adjacency()  # memory-to-memory synapses only: neighbours in time
        # the live view's effective link weights for one hour, computed as reads ask for them
        # and forgotten as links change (`View.link_weights`)
        self._live_weights: WeightMemo | None = None
        self._relinked: list[int] = []  # links whose weight changed since the cache was made
        self._weight_reads = 0  # live reads without a cached weight array
        # the live view's visible memories: (seq, from, until, mask), valid for times in
        # [from, until) at that seq (`View.visible`)
        self._live_visible: tuple[int, int, int, npt.NDArray[np.bool_]] | None = None

    # -- sizes and indexes ------------------------------------------------------------------

    @property
    def neuron_count(self) -> int:
        return len(self.n_type)

    @property
    def synapse_count(self) -> int:
        return len(self.s_src)

    @property
    def fiber_count(self) -> int:
        return len(self.f_anchor)

    @property
    def config(self) -> ev.BrainConfig:
        return self.configs[-1][1]

    @property
    def ids(self) -> IdIndex:
        """Memory id -> index, built on first use: a replay, or opening a brain to recall,
        never needs it. Two memories with one id (a forged log) are refused here."""
        if self._ids is None:
            ids = IdIndex.of(self.f_id)
            if ids is None:
                raise IntegrityError("two memories of this brain share an id")
            self._ids, self._seen = ids, {}  # the index answers every id from now on
        return self._ids

    def fiber_of(self, fiber_id: str) -> int | None:
        """A memory's index by id. An id a read returned is found without building the index
        of every id (a second at a million memories, which the first reinforcement of each
        process paid): a memory keeps its index for good."""
        if self._ids is None and (seen := self._seen.get(fiber_id)) is not None:
            return seen
        return self.ids.get(fiber_id)

    def saw(self, fibers: list[int], fiber_ids: list[str]) -> None:
        """A read returned these memories (`fiber_of`)."""
        if self._ids is None:
            self._seen.update(zip(fiber_ids, fibers, strict=True))

    def sync_graph(self, *, force: bool = False) -> None:
        src, dst, n = self.s_src.values, self.s_dst.values, self.neuron_count
        self.graph.sync(src, dst, n, force=force)
        self.episodes.sync(src, dst, n, self.between_memories, force=force, flag=self.earlier)

    def between_memories(self, src: npt.NDArray[np.int32], dst: npt.NDArray[np.int32]) -> Any:
        """Which of these synapses join two memories (the episodic adjacency's selection)."""
        fiber_of = self.n_fiber.values
        return (fiber_of[src] >= 0) & (fiber_of[dst] >= 0)

    def earlier(self, nodes: npt.NDArray[np.int64], syn: npt.NDArray[np.int32]) -> Any:
        """Whether each link's other end happened before `nodes` (its end the link is seen
        from): an `after` link says its source happened after its target (`before`, the
        reverse), so the other end is earlier when the node is the source of an `after` link
        or the target of a `before` one. The episodic adjacency keeps it per edge
        (`Adjacency.gather_flagged`): a hop in time then reads no synapse column for it."""
        return (self.s_src.values[syn] == nodes) == (self.s_type.values[syn] == _AFTER)

    def changed(self) -> None:
        """Called by the fold when a memory's state changed: cached weights are stale."""
        if self._live_weights is not None:
            self._live_weights.forget()
        self._relinked.clear()

    def relinked(self, synapses: list[int]) -> None:
        """Called by the fold when only these links changed: the cache is patched, not redone."""
        if self._live_weights is not None:
            self._relinked.extend(synapses)

    # -- time ---------------------------------------------------------------------------------

    def view(self, seq: int, time_us: int) -> View:
        """The state as of `seq`, with time-dependent rules (expiry, decay) at `time_us`."""
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

    def clock_times(self, clocks: npt.NDArray[np.int32]) -> npt.NDArray[np.int64]:
        """When these link clocks (`s_clock`) started: the recorded times of their seqs."""
        times: npt.NDArray[np.int64] = self.times.values[clocks - 1]
        return times

    def seq_at(self, time_us: int) -> int:
        """The last seq recorded at or before `time_us`."""
        return int(np.searchsorted(self.times.values, time_us, side="right"))

    def model_at(self, seq: int) -> tuple[str, int]:
        """The embedding model (id, dims) in force at `seq`; ("", 0) when the layer is off."""
        model: tuple[str, int] = ("", 0)
        for at, name, dims in self.models:
            if at > seq:
                break
            model = (name, dims)
        return model

    def config_at(self, seq: int) -> ev.BrainConfig:
        config = self.configs[0][1]
        for at, c in self.configs:
            if at > seq:
                break
            config = c
        return config

    # -- rows as Python values -------------------------------------------------------------------

    def fiber_seq(self, fiber: int) -> int:
        """The seq of the event that created a memory."""
        return self.fiber_seqs(np.asarray([fiber], dtype=np.int64))[0]

    def fiber_seqs(self, fibers: npt.NDArray[np.int64]) -> list[int]:
        """`fiber_seq` of each of these memories, in one search."""
        seqs: list[int] = (np.searchsorted(self.f_at.values, fibers, side="right") + 1).tolist()
        return seqs

    def meta(self, fiber: int) -> ev.Meta:
        return _decode_meta(self.f_meta[fiber])

    def metas(self, fibers: npt.NDArray[np.int64]) -> list[ev.Meta]:
        """`meta` of each of these memories, their strings read in one pass."""
        return [_decode_meta(raw) for raw in self.f_meta.pick(fibers)]

    def source(self, fiber: int) -> str:
        return self.sources[int(self.f_source[fiber])]

    def source_names(self, fibers: npt.NDArray[np.int64]) -> list[str]:
        """`source` of each of these memories."""
        return [self.sources[s] for s in self.f_source.values[fibers].tolist()]

    def project_at(self, project_id: str, seq: int) -> ev.Project | None:
        state = None
        for at, version in self.projects.get(project_id, []):
            if at > seq:
                break
            state = version
        return state

    def project_by_name(self, name: str, seq: int) -> ev.Project | None:
        """A project (not deleted as of `seq`) by case-insensitive name."""
        wanted = name.strip().lower()
        for pid in self.project_ids:
            project = self.project_at(pid, seq)
            if project is not None and project.name.lower() == wanted:
                return project
        return None


@dataclass(frozen=True, slots=True)
class View:
    """A projection seen as of one sequence number: counts cut every column to a prefix and
    journaled columns are read as of `seq`. Derived arrays are computed once per view."""

    p: Projection
    seq: int
    time: int
    neurons: int
    synapses: int
    fibers: int
    cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def live(self) -> bool:
        return self.seq == self.p.seq

    def col(self, name: str) -> npt.NDArray[Any]:
        """A journaled fiber or synapse column as of this view."""
        got = self.cache.get(name)
        if got is None:
            column: Versioned = getattr(self.p, name)
            n = self.fibers if name.startswith("f_") else self.synapses
            got = self.cache[name] = column.at(self.seq, n)
        return got

    def text(self, fiber: int) -> str:
        return self.p.f_text.get_at(fiber, self.seq)

    def texts(self, fibers: npt.NDArray[np.int64]) -> list[str]:
        """`text` of each of these memories, read in one pass."""
        return self.p.f_text.pick_at(fibers, self.seq)

    def tags(self, fiber: int) -> list[str]:
        return _split_tags(self.p.f_tags.get_at(fiber, self.seq))

    def tag_lists(self, fibers: npt.NDArray[np.int64]) -> list[list[str]]:
        """`tags` of each of these memories, read in one pass."""
        return [_split_tags(joined) for joined in self.p.f_tags.pick_at(fibers, self.seq)]

    def visible(self) -> npt.NDArray[np.bool_]:
        """Memories a read may return: not forgotten, erased or expired at the view's time
        (pinned memories never expire)."""
        got: npt.NDArray[np.bool_] | None = self.cache.get("visible")
        if got is not None:
            return got
        cached = self.p._live_visible if self.live else None
        if cached is not None and cached[0] == self.seq and cached[1] <= self.time < cached[2]:
            got = cached[3]
        else:
            flags, expires = self.col("f_flags"), self.col("f_expires")
            unexpired = expires > self.time
            got = ((flags & HIDDEN) == 0) & (((flags & PINNED) != 0) | unexpired)
            got.flags.writeable = False  # shared by the views that reuse it
            if self.live:  # the same until the next event or the next expiry
                later = expires[unexpired]
                until = int(later.min()) if len(later) else NO_EXPIRY
                self.p._live_visible = (self.seq, self.time, until, got)
        self.cache["visible"] = got
        return got

    def expired(self) -> npt.NDArray[np.bool_]:
        """Memories past their expiry (swept or not) and neither forgotten nor erased."""
        flags = self.col("f_flags")
        past = ((flags & PINNED) == 0) & (self.col("f_expires") <= self.time)
        expired: npt.NDArray[np.bool_] = ((flags & (FORGOTTEN | ERASED)) == 0) & (
            past | ((flags & EXPIRED) != 0)
        )
        return expired

    def link_weights(
        self, rows: npt.NDArray[np.int32] | npt.NDArray[np.int64], *, include_expired: bool = False
    ) -> npt.NDArray[np.float32]:
        """Effective weights of these links (what a hop reads). From its second read on, the
        live brain remembers every link weight it computed for the hour and computes only the
        links no read asked for yet; a one-off read (a CLI call, a past view) computes just
        the links it gathered."""
        memo = None if include_expired else self._read_memo()
        if memo is None:
            return self._compute_weights(rows, include_expired=include_expired)
        got: npt.NDArray[np.float32] = memo.weights[rows]
        missing = np.isnan(got)
        if missing.any():
            new = rows[missing]
            got[missing] = memo.learn(new, self._compute_weights(new))
        return got

    def weigher(self, *, include_expired: bool = False) -> Weigher:
        """How a gather weighs its edges (`Adjacency.gather_weighted`): by `link_weights`, and
        from the weights the adjacency keeps beside its edges while the live memo they came
        from stands."""
        memo = None if include_expired else self._read_memo()
        return Weigher(self, include_expired, None if memo is None else memo.generation)

    def _read_memo(self) -> WeightMemo | None:
        """The live memo this read's weights come from; None for a past view, and for the
        first read of a process or of an hour, which computes just the links it gathered."""
        if not self.live:
            return None
        p = self.p
        if p._live_weights is None or p._live_weights.hour != self.time // HOUR_US:
            if "counted" not in self.cache:  # one read = one view (a recall reads several hops)
                self.cache["counted"] = True
                p._weight_reads += 1
            if p._weight_reads < 2:
                return None
        return self._live_memo()

    def weights(self, *, include_expired: bool = False) -> npt.NDArray[np.float32]:
        """Effective weights of every link at this view's time: decayed, and 0 for links that
        are pruned or belong to a hidden memory (expired ones count as hidden unless asked
        for). The live view's array is kept across reads (`link_weights`)."""
        if self.live and not include_expired:
            memo = self._live_memo()
            unknown = np.flatnonzero(np.isnan(memo.weights))
            if len(unknown) == len(memo):  # read whole columns, not gathered rows
                memo.learn(unknown, self._compute_weights(None))
            elif len(unknown):
                memo.learn(unknown, self._compute_weights(unknown))
            return memo.weights
        key = "weights+expired" if include_expired else "weights"
        got: npt.NDArray[np.float32] | None = self.cache.get(key)
        if got is None:
            got = self.cache[key] = self._compute_weights(None, include_expired=include_expired)
        return got

    def _live_memo(self) -> WeightMemo:
        """The live weights known for this hour, with the links that changed since forgotten.
        Patched in place, not copied (a copy of millions of links after every reinforcement
        was most of a recall's mean time): an array handed out is valid while the brain's lock
        is held, as every read holds it, and a view that is no longer live computes its own."""
        p, hour = self.p, self.time // HOUR_US
        memo = p._live_weights
        if memo is None or memo.hour != hour or len(memo) > self.synapses:
            memo = p._live_weights = WeightMemo(hour, self.synapses)
            p._relinked.clear()
        elif p._relinked:  # recomputed now, in one go (reads would each pay a small call)
            stale = sets.unique(np.asarray(p._relinked, dtype=np.int64))
            stale = stale[stale < len(memo)]
            stale = stale[~np.isnan(memo.weights[stale])]
            memo.learn(stale, self._compute_weights(stale))
            for adjacency in (p.graph, p.episodes):  # what they keep of the memo (`weigher`)
                adjacency.forget_weights(stale, p.s_src.values, p.s_dst.values)
            p._relinked.clear()
        memo.grow(self.synapses)
        return memo

    def _compute_weights(
        self,
        rows: npt.NDArray[np.int32] | npt.NDArray[np.int64] | None,
        *,
        include_expired: bool = False,
    ) -> npt.NDArray[np.float32]:
        """Weights of these links, or of every link (None): those are read as views of the
        columns, not gathered copies, which over millions of links is most of the memory."""
        p = self.p
        pick: slice | npt.NDArray[np.int64]
        if rows is None:
            pick = slice(0, self.synapses)
            w, clock, count = (c.at(self.seq, self.synapses) for c in (p.s_w, p.s_clock, p.s_count))
        else:
            pick = np.asarray(rows, dtype=np.int64)
            w, clock, count = (c.at_rows(self.seq, pick) for c in (p.s_w, p.s_clock, p.s_count))
        owner = p.n_fiber.values[p.s_src.values[pick]]
        flags = self.col("f_flags")[owner]
        eff = effective_weights(
            w,
            clock,
            p.times.values,
            count,
            self.col("f_type")[owner],
            (flags & PINNED) != 0,
            self.time,
        )
        hidden = ((flags & (FORGOTTEN | ERASED)) != 0) | (p.s_dead.values[pick] <= self.seq)
        if not include_expired:
            # expiry is taken at the hour, like decay, so a cached live array and a past view
            # computed later agree exactly
            hour_time = self.time // HOUR_US * HOUR_US
            past = ((flags & PINNED) == 0) & (self.col("f_expires")[owner] <= hour_time)
            hidden |= past | ((flags & EXPIRED) != 0)
        eff[hidden] = 0.0
        return eff


class Weigher:
    """A view's `link_weights` as an adjacency asks for them (`graph.Weigh`)."""

    __slots__ = ("include_expired", "token", "view")

    def __init__(self, view: View, include_expired: bool, token: object | None) -> None:
        self.view, self.include_expired, self.token = view, include_expired, token

    def __call__(self, syn: npt.NDArray[np.int32]) -> npt.NDArray[np.float32]:
        return self.view.link_weights(syn, include_expired=self.include_expired)


# -- state as data: checkpoints and equality --------------------------------------------------

NUMERIC = (
    "times", "n_at", "s_at", "f_at",
    "n_type", "n_start", "n_end", "n_fiber",
    "s_src", "s_dst", "s_type", "s_w", "s_clock", "s_count", "s_dead",
    "f_anchor", "f_t", "f_start", "f_end", "f_salience", "f_source",
    "f_type", "f_priority", "f_expires", "f_flags", "f_project",
)  # fmt: skip
TEXT = ("n_key", "n_content", "f_id", "f_text", "f_tags", "f_meta")


class ProjectVersion(msgspec.Struct, array_like=True, frozen=True):
    project_id: str
    seq: int
    state: ev.Project | None


class Header(msgspec.Struct, frozen=True):
    """The scalar and small parts of a projection's state."""

    brain_id: str
    name: str
    seq: int
    configs: list[tuple[int, ev.BrainConfig]]
    sources: list[str]
    project_ids: list[str]
    projects: list[ProjectVersion]
    sweeps: list[tuple[int, int]]
    text_journals: dict[str, list[tuple[int, int, str]]]
    models: list[tuple[int, str, int]] = []
    vector_dims: dict[str, int] = {}


def to_arrays(p: Projection) -> tuple[Header, dict[str, npt.NDArray[np.generic]]]:
    """Everything the fold produced, as plain arrays (text columns in canonical form).

    Equal states give equal arrays, so this is also how tests compare projections.
    """
    arrays: dict[str, npt.NDArray[np.generic]] = {}
    for name in NUMERIC:
        column = getattr(p, name)
        arrays[name] = column.values
        if isinstance(column, Versioned):
            arrays[name + ".j_seq"] = column.j_seq.values
            arrays[name + ".j_row"] = column.j_row.values
            arrays[name + ".j_old"] = column.j_old.values
    journals: dict[str, list[tuple[int, int, str]]] = {}
    for name in TEXT:
        column = getattr(p, name)
        blob, ends = column.canonical()
        arrays[name + ".blob"] = np.frombuffer(blob, dtype=np.uint8)
        arrays[name + ".ends"] = ends
        if isinstance(column, VersionedText):
            journals[name] = list(column.journal)
    for model, store in p.vectors.items():
        for part, values in store.arrays().items():
            arrays[f"v:{model}.{part}"] = values
    projects = [
        ProjectVersion(pid, seq, state)
        for pid, versions in p.projects.items()
        for seq, state in versions
    ]
    header = Header(
        brain_id=p.brain_id,
        name=p.name,
        seq=p.seq,
        configs=list(p.configs),
        sources=list(p.sources),
        project_ids=list(p.project_ids),
        projects=projects,
        sweeps=list(p.sweeps),
        text_journals=journals,
        models=list(p.models),
        vector_dims={model: store.dims for model, store in p.vectors.items()},
    )
    return header, arrays


def state_bytes(p: Projection) -> bytes:
    header, arrays = to_arrays(p)
    return msgspec.msgpack.encode(header) + b"".join(
        name.encode() + arr.tobytes() for name, arr in sorted(arrays.items())
    )


def unchecked(*names: str) -> Check | None:
    return None


def from_arrays(
    header: Header,
    arrays: dict[str, npt.NDArray[np.generic]],
    checks: Callable[..., Check | None] = unchecked,
) -> Projection:
    """The projection these arrays hold; `checks(*names)` gives the check that verifies the
    named arrays before a column made of them is first used (a checkpoint's checksums)."""
    p = Projection(header.brain_id)
    p.name, p.seq = header.name, header.seq
    p.configs = [(int(s), c) for s, c in header.configs]
    p.sources = list(header.sources)
    p.project_ids = list(header.project_ids)
    for version in header.projects:
        p.projects.setdefault(version.project_id, []).append((version.seq, version.state))
    p.sweeps = [(int(s), int(t)) for s, t in header.sweeps]
    p.models = [(int(s), m, int(d)) for s, m, d in header.models]
    for model, dims in header.vector_dims.items():
        names = {part: f"v:{model}.{part}" for part in VECTOR_PARTS}
        parts = {part: arrays[name] for part, name in names.items()}
        vector_checks = {part: c for part, name in names.items() if (c := checks(name))}
        p.vectors[model] = VectorStore(dims, parts, vector_checks)
    for name in NUMERIC:
        template = getattr(p, name)
        if isinstance(template, Versioned):
            column = Versioned(template.dtype, arrays[name], checks(name))
            for part in ("j_seq", "j_row", "j_old"):
                key = f"{name}.{part}"
                dtype = template.dtype if part == "j_old" else np.int64
                setattr(column, part, Column(dtype, arrays[key], checks(key)))
            setattr(p, name, column)
        else:
            setattr(p, name, Column(template.dtype, arrays[name], checks(name)))
    for name in TEXT:
        blob = arrays[name + ".blob"].data
        kind = VersionedText if name in header.text_journals else TextColumn
        text = kind(blob, arrays[name + ".ends"], checks(name + ".blob", name + ".ends"))
        if isinstance(text, VersionedText):
            text.journal = [(int(s), int(r), o) for s, r, o in header.text_journals[name]]
        setattr(p, name, text)
    counts = {len(p.times), len(p.n_at), len(p.s_at), len(p.f_at)}
    if counts != {p.seq} or len(p.n_key) != p.neuron_count or len(p.f_id) != p.fiber_count:
        raise IntegrityError("checkpoint state is inconsistent with itself")
    lengths = p.n_key.lengths()
    named = np.flatnonzero(lengths > 0)
    p.keys = dict(zip(p.n_key.pick(named), named.tolist(), strict=True))
    p._ids = None
    return p
