"""`apply`: the fold of events into a projection. The one code path for live updates,
opening a brain, and replay.

Handlers validate an event against the projection before changing anything, so a corrupt
or forged record raises IntegrityError instead of leaving a half-applied state. Changes to
what existed before are journaled (engine/columns.py) so past views stay exact; a hard erase
is the exception: it rewrites the past on purpose, exactly as the redacted log replays.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from itertools import chain, islice
from operator import attrgetter

import msgspec
import numpy as np
import numpy.typing as npt
from msgspec.structs import astuple

from . import events as ev
from .errors import IntegrityError
from .idindex import IdIndex
from .logstore.base import BATCH
from .model import MEMORY_TYPES, NEURON_TYPES, NeuronType
from .projection import (
    ALIVE,
    ERASED,
    EXPIRED,
    FORGOTTEN,
    MAX_SEQ,
    NO_EXPIRY,
    PINNED,
    TAG_SEP,
    Projection,
)
from .semantic.vectors import VectorStore

# memories folded per run: small enough that their decoded records stay in cache (2048 was
# ~15% slower at 1M in CPU time)
_RUN = 1024
_CONCEPT = NEURON_TYPES.index(NeuronType.CONCEPT)
_TYPE_CODE = {t.value: i for i, t in enumerate(MEMORY_TYPES)}
_meta_encoder = msgspec.json.Encoder()
# the fields of a memory record, in the order `msgspec.structs.astuple` gives them: a run's
# records become one tuple per field in two C calls per record (attribute lookups cost twice)
_MEMORY_FIELDS = ev.MemoryEncoded.__struct_fields__
_ENVELOPE_FIELDS = ev.Envelope.__struct_fields__
_SPEC_FIELDS = ev.NeuronSpec.__struct_fields__
_NONE = np.zeros(0, dtype=np.int64)  # no rows
_BODY = attrgetter("body")


def apply(p: Projection, env: ev.Envelope) -> Projection:
    """Fold one event into the projection (in place, for speed) and return it."""
    return apply_all(p, (env,))


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off for a block that makes many objects and no cycles
    (a fold): otherwise it rescans every live object again and again as they pile up."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def apply_all(p: Projection, envs: Iterable[ev.Envelope]) -> Projection:
    """Fold events in order (taken a list at a time, see `apply_batches`)."""
    it = iter(envs)
    return apply_batches(p, iter(lambda: list(islice(it, BATCH)), []))


def apply_batches(p: Projection, batches: Iterable[list[ev.Envelope]]) -> Projection:
    """Fold lists of events in order (a log's `Reader.batches`). Runs of `memory_encoded`
    are folded column by column, which is what makes replay fast; the result is the same as
    folding them one by one."""
    with gc_paused():
        run: list[ev.Envelope] = []
        for batch in batches:
            kinds = list(map(type, map(_BODY, batch)))
            start = 0
            if kinds.count(ev.MemoryEncoded) != len(batch):  # else the usual batch: all run
                for i in [i for i, kind in enumerate(kinds) if kind is not ev.MemoryEncoded]:
                    run += batch[start:i]
                    if run:
                        _memories_encoded(p, run)
                        run = []
                    _apply_one(p, batch[i])
                    start = i + 1
            run += batch[start:] if start else batch
            if len(run) >= _RUN:
                _memories_encoded(p, run)
                run = []
        if run:
            _memories_encoded(p, run)
    return p


def _apply_one(p: Projection, env: ev.Envelope) -> None:
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


def _check_seq(p: Projection, env: ev.Envelope, offset: int) -> None:
    if env.seq != p.seq + 1 + offset:
        raise IntegrityError(f"event seq {env.seq} does not follow projection seq {p.seq + offset}")
    _check_cap(env.seq)


def _check_cap(seq: int) -> None:
    """Link columns hold seqs as int32: a brain takes no event past MAX_SEQ (a write of one
    fails whole, as the fold runs inside its transaction)."""
    if seq > MAX_SEQ:
        raise IntegrityError(f"event seq {seq} is past the last a brain can hold ({MAX_SEQ})")


def _fiber(p: Projection, env: ev.Envelope, fiber_id: str) -> int:
    fiber = p.ids.get(fiber_id)
    if fiber is None:
        raise IntegrityError(f"seq {env.seq}: unknown memory {fiber_id}")
    return fiber


def _erased(p: Projection, fiber: int) -> bool:
    return bool(p.f_flags[fiber] & ERASED)


def _project_code(p: Projection, env: ev.Envelope, project_id: str | None) -> int:
    if project_id is None:
        return -1
    if project_id not in p.projects:
        raise IntegrityError(f"seq {env.seq}: unknown project {project_id}")
    return p.project_ids.index(project_id)


def _source_code(p: Projection, source: str) -> int:
    try:
        return p.sources.index(source)
    except ValueError:
        p.sources.append(source)
        return len(p.sources) - 1


def _check_links(
    env: ev.Envelope, targets: list[int], types: list[int], weights: list[float], n_after: int
) -> None:
    k = len(targets)
    if k and not (min(targets) >= 0 and max(targets) < n_after):
        raise IntegrityError(f"seq {env.seq}: link to an unknown neuron")
    if not k == len(types) == len(weights):
        raise IntegrityError(f"seq {env.seq}: link columns differ in length")


# -- brain ------------------------------------------------------------------------------------


def _brain_created(p: Projection, env: ev.Envelope) -> None:
    body = env.body
    assert isinstance(body, ev.BrainCreated)
    p.name = body.name
    p.configs = [(env.seq, body.config)]


def _brain_configured(p: Projection, env: ev.Envelope) -> None:
    body = env.body
    assert isinstance(body, ev.BrainConfigured)
    p.configs.append((env.seq, body.config))


# -- memories ---------------------------------------------------------------------------------


def _memories_encoded(p: Projection, envs: list[ev.Envelope]) -> None:
    """Append a run of memories: per-event checks in one pass, then every column filled as
    a whole array (anchors and new neurons at positions computed once). Packed links of the
    whole run become one array through one join, with no Python object per link. Numbers
    become arrays through `np.fromiter` (a third of the time `np.asarray` takes on a tuple)."""
    n = len(envs)
    base = p.neuron_count
    fiber = p.fiber_count
    e = dict(zip(_ENVELOPE_FIELDS, zip(*map(astuple, envs), strict=True), strict=True))
    bodies: tuple[ev.MemoryEncoded, ...] = e["body"]
    c = dict(zip(_MEMORY_FIELDS, zip(*map(astuple, bodies), strict=True), strict=True))
    fiber_ids, neurons, parts, listed = c["fiber_id"], c["neurons"], c["links"], c["link_targets"]
    seqs, t_arr = list(e["seq"]), np.fromiter(e["t"], np.int64, n)
    if seqs != list(range(p.seq + 1, p.seq + 1 + n)):
        seq = next(s for i, s in enumerate(seqs) if s != p.seq + 1 + i)
        raise IntegrityError(f"event seq {seq} does not follow projection seq {seq - 1}")
    _check_cap(seqs[-1])
    widths = np.fromiter(map(len, neurons), dtype=np.int64, count=n) + 1
    limits = base + np.cumsum(widths)  # neurons that exist once each memory is folded
    anchors = limits - widths
    firsts = np.fromiter(c["first_neuron"], np.int64, n)
    if not np.array_equal(anchors, firsts):
        i = int(np.flatnonzero(anchors != firsts)[0])
        raise IntegrityError(
            f"seq {seqs[i]}: memory expects neuron {firsts[i]}, projection has {anchors[i]}"
        )
    ids = p._ids  # checked and kept if built, else checked when it is built (see `ids`)
    if ids is None and len(set(fiber_ids)) != n:
        _repeated_id(None, seqs, fiber_ids)
    kinds = c["memory_type"]
    try:
        f_type = np.fromiter(map(_TYPE_CODE.__getitem__, kinds), np.int8, n)
    except KeyError:
        i = next(i for i, k in enumerate(kinds) if k not in _TYPE_CODE)
        raise IntegrityError(f"seq {seqs[i]}: unknown memory type {kinds[i]!r}") from None
    projects = c["project"]
    codes = np.full(n, -1, dtype=np.int32)
    if any(projects):
        codes[:] = [_project_code(p, env, x) for env, x in zip(envs, projects, strict=True)]
    packed: list[bytes] = list(parts)
    old_or_bad = (
        [] if all(parts) and not any(listed) else enumerate(zip(parts, listed, strict=True))
    )
    for i in [i for i, (x, old) in old_or_bad if not x or old]:
        try:  # a schema-1 record (link lists), or a malformed one
            packed[i] = bodies[i].link_columns().tobytes()
        except IntegrityError as exc:
            raise IntegrityError(f"seq {seqs[i]}: {exc}") from None

    sizes = np.fromiter(map(len, packed), dtype=np.int64, count=n)
    if (sizes % ev.LINK.itemsize).any():
        bad = envs[int(np.flatnonzero(sizes % ev.LINK.itemsize)[0])].seq
        raise IntegrityError(f"seq {bad}: packed links are cut short")
    count = sizes // ev.LINK.itemsize
    links_all = np.frombuffer(b"".join(packed), dtype=ev.LINK)
    dst = links_all["dst"]
    wrong = dst >= np.repeat(limits, count)
    if wrong.any():
        owner = int(np.searchsorted(np.cumsum(count), np.flatnonzero(wrong)[0], side="right"))
        raise IntegrityError(f"seq {envs[owner].seq}: link to an unknown neuron")
    if ids is not None:  # a repeat within the run, or of a known id, is refused
        new_ids = dict(zip(fiber_ids, range(fiber, fiber + n), strict=True))
        if len(new_ids) != n or not ids.add(new_ids):
            _repeated_id(ids, seqs, fiber_ids)

    starts = np.fromiter(c["event_start"], np.int64, n)
    ends = np.fromiter(c["event_end"], np.int64, n)
    _new_neurons(p, neurons, anchors - base, int(limits[-1]) - base, starts, ends)
    s_base = p.synapse_count
    dead = np.fromiter(c["erased"], bool, n)
    p.s_src.extend_array(np.repeat(anchors, count))
    p.s_dst.extend_array(dst)
    p.s_type.extend_array(links_all["type"])
    p.s_w.extend_array(links_all["w"])
    p.s_clock.extend_array(np.repeat(np.arange(seqs[0], seqs[0] + n, dtype=np.int32), count))
    p.s_count.extend_fill(0, len(dst))
    if dead.any():
        p.s_dead.extend_array(np.repeat(np.where(dead, 0, ALIVE), count))
    else:  # the usual run: every link alive, no array of them made
        p.s_dead.extend_fill(ALIVE, len(dst))

    # whole arrays, never lists of Python numbers: a replay of a million memories would hold
    # each as an object until the column is next read
    p.f_id.extend(fiber_ids)
    p.f_anchor.extend_array(anchors)
    p.f_t.extend_array(t_arr)
    p.f_start.extend_array(starts)
    p.f_end.extend_array(ends)
    p.f_type.extend_array(f_type)
    p.f_priority.extend_array(np.fromiter(c["priority"], np.int8, n))
    expiries = c["expires_at"]
    if expiries.count(None) == n:
        p.f_expires.extend_fill(NO_EXPIRY, n)
    else:
        p.f_expires.extend_array(
            np.fromiter((NO_EXPIRY if x is None else x for x in expiries), np.int64, n)
        )
    p.f_flags.extend_array(np.where(dead, ERASED, 0))
    p.f_project.extend_array(codes)
    p.f_salience.extend_array(np.fromiter(c["salience"], np.float32, n))
    sources = c["source"]
    source_code = {source: _source_code(p, source) for source in dict.fromkeys(sources)}
    p.f_source.extend_array(np.fromiter(map(source_code.__getitem__, sources), np.int16, n))
    p.f_text.extend(c["text"])
    tags, metas = c["tags"], c["meta"]
    if any(tags):
        p.f_tags.extend(map(TAG_SEP.join, tags))
    else:
        p.f_tags.extend_sparse(n, _NONE, [])
    if any(metas):
        p.f_meta.extend([_meta_encoder.encode(m).decode() if m else "" for m in metas])
    else:
        p.f_meta.extend_sparse(n, _NONE, [])

    if any(c["vector"]):
        _encoded_vectors(p, envs, c["vector"], c["vector_scale"], dead, fiber)

    p.seq = envs[-1].seq
    p.times.extend_array(t_arr)
    p.n_at.extend_array(limits)
    p.s_at.extend_array(s_base + np.cumsum(count))
    p.f_at.extend_array(np.arange(fiber + 1, fiber + 1 + n, dtype=np.int64))


def _new_neurons(
    p: Projection,
    neurons: tuple[list[ev.NeuronSpec], ...],
    anchor_at: npt.NDArray[np.int64],
    total: int,
    starts: npt.NDArray[np.int64],
    ends: npt.NDArray[np.int64],
) -> None:
    """The `total` neurons of a run: each memory's anchor (at `anchor_at`, spanning its
    memory's `starts` to `ends`), then the neurons its record creates. Only those have a key
    and content: text columns get just theirs."""
    specs = list(chain.from_iterable(neurons))
    spec_at = np.ones(total, dtype=bool)
    spec_at[anchor_at] = False
    rows = np.flatnonzero(spec_at)
    n_type = np.full(total, _CONCEPT, dtype=np.int8)
    n_start = np.zeros(total, dtype=np.int64)
    n_end = np.zeros(total, dtype=np.int64)
    n_start[anchor_at] = starts
    n_end[anchor_at] = ends
    keys: tuple[str, ...] = ()
    contents: tuple[str, ...] = ()
    if specs:
        spec = dict(zip(_SPEC_FIELDS, zip(*map(astuple, specs), strict=True), strict=True))
        keys, contents = spec["key"], spec["content"]
        n_type[rows] = np.fromiter(spec["type"], np.int8, len(rows))
        n_start[rows] = np.fromiter(spec["start"], np.int64, len(rows))
        n_end[rows] = np.fromiter(spec["end"], np.int64, len(rows))
        at = (p.neuron_count + rows).tolist()
        p.keys.update(
            zip(keys, at, strict=True)
            if all(keys)
            else ((k, r) for k, r in zip(keys, at, strict=True) if k)
        )
    p.n_key.extend_sparse(total, rows, keys)
    p.n_content.extend_sparse(total, rows, contents)
    p.n_type.extend_array(n_type)
    p.n_start.extend_array(n_start)
    p.n_end.extend_array(n_end)
    n_fiber = np.full(total, -1, dtype=np.int32)
    n_fiber[anchor_at] = np.arange(p.fiber_count, p.fiber_count + len(anchor_at))
    p.n_fiber.extend_array(n_fiber)


def _repeated_id(ids: IdIndex | None, seqs: list[int], fiber_ids: tuple[str, ...]) -> None:
    """Raise for the first memory of a run whose id repeats one before it (or one of `ids`)."""
    seen: set[str] = set()
    for seq, fid in zip(seqs, fiber_ids, strict=True):
        if fid in seen or (ids is not None and fid in ids):
            raise IntegrityError(f"seq {seq}: memory id {fid} already exists")
        seen.add(fid)


def _store_for(
    p: Projection, env: ev.Envelope, size: int, rows: int, scales: list[float]
) -> VectorStore:
    """The vector store of the model in force, checked against `size` bytes for `rows` rows
    and their scales (a unit vector's int8 scale lies in [0, 1/127]; NaN would poison search)."""
    if not all(0.0 <= s <= 1.0 for s in scales):
        raise IntegrityError(f"seq {env.seq}: a vector scale outside [0, 1]")
    model, dims = p.model_at(p.seq + 1)
    if not model:
        raise IntegrityError(f"seq {env.seq}: a vector, but the brain has no embedding model")
    if size != dims * rows:
        raise IntegrityError(f"seq {env.seq}: vector bytes do not fit model {model} ({dims} dims)")
    return p.vectors[model]


def _encoded_vectors(
    p: Projection,
    envs: list[ev.Envelope],
    vectors: tuple[bytes, ...],
    scales: tuple[float, ...],
    erased: npt.NDArray[np.bool_],
    fiber: int,
) -> None:
    """Rows for the memories of a run that carry a vector (all under one model: a model
    switch is an event of its own, so it ends a run)."""
    have = [i for i, vector in enumerate(vectors) if vector]
    data = b"".join(vectors[i] for i in have)
    have_scales = [scales[i] for i in have]
    store = _store_for(p, envs[have[0]], len(data), len(have), have_scales)
    at = np.asarray(have, dtype=np.int64)
    store.add(
        fiber + at,
        np.asarray([envs[i].seq for i in have], dtype=np.int64),
        data,
        have_scales,
        erased[at],
    )


def _memory_edited(p: Projection, env: ev.Envelope) -> None:
    b = env.body
    assert isinstance(b, ev.MemoryEdited)
    fiber = _fiber(p, env, b.fiber_id)
    first = p.neuron_count
    if b.first_neuron != first:
        raise IntegrityError(f"seq {env.seq}: edit expects neuron {b.first_neuron}, have {first}")
    n_after = first + len(b.neurons)
    _check_links(env, b.link_targets, b.link_types, b.link_weights, n_after)
    anchor = int(p.f_anchor[fiber])
    if b.removed and (min(b.removed) < 0 or max(b.removed) >= p.synapse_count):
        raise IntegrityError(f"seq {env.seq}: edit removes an unknown link")
    erased = b.erased or _erased(p, fiber)
    for spec in b.neurons:
        if spec.key:
            p.keys[spec.key] = p.neuron_count
        p.n_key.append(spec.key)
        p.n_content.append(spec.content)
        p.n_type.append(spec.type)
        p.n_start.append(spec.start)
        p.n_end.append(spec.end)
        p.n_fiber.append(-1)
    _prune(p, b.removed, 0 if erased else env.seq)
    p.relinked(b.removed)
    k = len(b.link_targets)
    p.s_src.extend([anchor] * k)
    p.s_dst.extend(b.link_targets)
    p.s_type.extend(b.link_types)
    p.s_w.extend(b.link_weights)
    p.s_clock.extend([env.seq] * k)
    p.s_count.extend([0] * k)
    p.s_dead.extend([0 if erased else ALIVE] * k)
    if not erased:
        p.f_text.change(fiber, b.text, env.seq)
    # the old text's vectors no longer describe it, whatever model made them
    rows, at = np.asarray([fiber], dtype=np.int64), np.asarray([env.seq], dtype=np.int64)
    for store in p.vectors.values():
        store.supersede(rows, at)
    if b.vector:
        store = _store_for(p, env, len(b.vector), 1, [b.vector_scale])
        store.add(rows, at, b.vector, [b.vector_scale], np.asarray([erased]))


def _memory_retyped(p: Projection, env: ev.Envelope) -> None:
    b = env.body
    assert isinstance(b, ev.MemoryRetyped)
    fiber = _fiber(p, env, b.fiber_id)
    if b.memory_type not in _TYPE_CODE:
        raise IntegrityError(f"seq {env.seq}: unknown memory type {b.memory_type!r}")
    project = _project_code(p, env, b.project)
    if _erased(p, fiber):
        return
    seq = env.seq
    p.changed()
    p.f_type.change(fiber, _TYPE_CODE[b.memory_type], seq)
    p.f_priority.change(fiber, b.priority, seq)
    p.f_expires.change(fiber, NO_EXPIRY if b.expires_at is None else b.expires_at, seq)
    if b.expires_at is None or b.expires_at > env.t:  # a new expiry revives an expired memory
        p.f_flags.change(fiber, int(p.f_flags[fiber]) & ~EXPIRED, seq)
    p.f_tags.change(fiber, TAG_SEP.join(b.tags), seq)
    p.f_project.change(fiber, project, seq)


def _flag(set_bits: int, clear_bits: int) -> Callable[[Projection, ev.Envelope], None]:
    def handler(p: Projection, env: ev.Envelope) -> None:
        fiber = _fiber(p, env, env.body.fiber_id)  # type: ignore[union-attr]
        if not _erased(p, fiber):
            flags = int(p.f_flags[fiber])
            p.f_flags.change(fiber, (flags | set_bits) & ~clear_bits, env.seq)
            p.changed()

    return handler


def _memory_erased(p: Projection, env: ev.Envelope) -> None:
    """Erase rewrites the past: the memory is erased in every view, its journal entries are
    dropped, its links are invisible everywhere, and the neurons that only it used lose
    their text. The redacted log replays to exactly this state."""
    b = env.body
    assert isinstance(b, ev.MemoryErased)
    fiber = _fiber(p, env, b.fiber_id)
    if b.neurons and (min(b.neurons) < 0 or max(b.neurons) >= p.neuron_count):
        raise IntegrityError(f"seq {env.seq}: erase of an unknown neuron")
    if b.synapses and (min(b.synapses) < 0 or max(b.synapses) >= p.synapse_count):
        raise IntegrityError(f"seq {env.seq}: erase of an unknown link")
    p.changed()
    rows = np.asarray([fiber], dtype=np.int64)
    for name in ("f_type", "f_priority", "f_expires", "f_flags", "f_project"):
        getattr(p, name).forget_rows(rows, restore=True)
    p.f_flags.set(fiber, ERASED)
    for text in (p.f_text, p.f_tags):
        text.forget_row(fiber)
        text.set(fiber, "")
    p.f_meta.set(fiber, "")
    for neuron in b.neurons:
        key = p.n_key[neuron]
        if key and p.keys.get(key) == neuron:
            del p.keys[key]
        p.n_key.set(neuron, "")
        p.n_content.set(neuron, "")
    synapses = np.asarray(b.synapses, dtype=np.int64)
    for name in ("s_w", "s_clock", "s_count"):
        getattr(p, name).forget_rows(synapses, restore=True)
    _prune(p, b.synapses, 0)
    for store in p.vectors.values():
        store.erase(fiber)


def _prune(p: Projection, synapses: Iterable[int], seq: int) -> None:
    """Mark links dead from `seq` on (0: never visible); an earlier death stands."""
    dead = p.s_dead
    for syn in synapses:
        if dead[syn] > seq:
            dead.set(syn, seq)


def _synapses_reinforced(p: Projection, env: ev.Envelope) -> None:
    b = env.body
    assert isinstance(b, ev.SynapsesReinforced)
    if len(b.synapses) != len(b.weights):
        raise IntegrityError(f"seq {env.seq}: reinforcement columns differ in length")
    if b.counts and len(b.counts) != len(b.synapses):
        raise IntegrityError(f"seq {env.seq}: reinforcement columns differ in length")
    if b.synapses and (min(b.synapses) < 0 or max(b.synapses) >= p.synapse_count):
        raise IntegrityError(f"seq {env.seq}: reinforcement of an unknown link")
    seq = env.seq
    synapses = np.asarray(b.synapses, dtype=np.int64)
    live = p.s_dead.values[synapses] > seq  # not pruned or erased since it was recalled
    rows = synapses[live]
    counts = np.asarray(b.counts or np.ones(len(synapses)), dtype=np.int64)[live]
    p.s_count.change_many(rows, counts, seq, add=True)
    p.s_w.change_many(rows, np.asarray(b.weights, dtype=np.float64)[live], seq)
    p.s_clock.change_many(rows, np.full(len(rows), seq, dtype=np.int32), seq)
    p.relinked(b.synapses)


def _decay_applied(p: Projection, env: ev.Envelope) -> None:
    b = env.body
    assert isinstance(b, ev.DecayApplied)
    if b.pruned and (min(b.pruned) < 0 or max(b.pruned) >= p.synapse_count):
        raise IntegrityError(f"seq {env.seq}: decay prunes an unknown link")
    _prune(p, b.pruned, env.seq)
    p.relinked(b.pruned)
    p.sweeps.append((env.seq, env.t))


def _memories_expired(p: Projection, env: ev.Envelope) -> None:
    b = env.body
    assert isinstance(b, ev.MemoriesExpired)
    p.changed()
    for fiber in [_fiber(p, env, fid) for fid in b.fiber_ids]:
        if not _erased(p, fiber):
            p.f_flags.change(fiber, int(p.f_flags[fiber]) | EXPIRED, env.seq)


# -- semantic layer -----------------------------------------------------------------------------


def _semantic_model_set(p: Projection, env: ev.Envelope) -> None:
    b = env.body
    assert isinstance(b, ev.SemanticModelSet)
    if bool(b.model) != (b.dims > 0):
        raise IntegrityError(f"seq {env.seq}: a model needs dimensions, and no model none")
    if b.model:
        store = p.vectors.get(b.model)
        if store is not None and store.dims != b.dims:
            raise IntegrityError(f"seq {env.seq}: model {b.model} changed its dimensions")
        if store is None:
            p.vectors[b.model] = VectorStore(b.dims)
    p.models.append((env.seq, b.model, b.dims))


def _memories_embedded(p: Projection, env: ev.Envelope) -> None:
    b = env.body
    assert isinstance(b, ev.MemoriesEmbedded)
    if b.model != p.model_at(env.seq)[0]:
        raise IntegrityError(f"seq {env.seq}: vectors of {b.model}, not the brain's model")
    if len(b.scales) != len(b.fiber_ids) or len(set(b.fiber_ids)) != len(b.fiber_ids):
        raise IntegrityError(f"seq {env.seq}: vector columns differ in length or repeat")
    store = _store_for(p, env, len(b.vectors), len(b.fiber_ids), b.scales)
    fibers = np.asarray([_fiber(p, env, fid) for fid in b.fiber_ids], dtype=np.int64)
    seqs = np.full(len(fibers), env.seq, dtype=np.int64)
    store.supersede(fibers, seqs)
    erased = (p.f_flags.values[fibers] & ERASED) != 0
    store.add(fibers, seqs, b.vectors, b.scales, erased)


# -- projects -----------------------------------------------------------------------------------


def _project_created(p: Projection, env: ev.Envelope) -> None:
    b = env.body
    assert isinstance(b, ev.ProjectCreated)
    if b.project.id in p.projects:
        raise IntegrityError(f"seq {env.seq}: project {b.project.id} already exists")
    p.projects[b.project.id] = [(env.seq, b.project)]
    p.project_ids.append(b.project.id)


def _project_changed(p: Projection, env: ev.Envelope) -> None:
    b = env.body
    assert isinstance(b, ev.ProjectChanged)
    if b.project.id not in p.projects:
        raise IntegrityError(f"seq {env.seq}: unknown project {b.project.id}")
    p.projects[b.project.id].append((env.seq, b.project))


def _project_deleted(p: Projection, env: ev.Envelope) -> None:
    b = env.body
    assert isinstance(b, ev.ProjectDeleted)
    if b.project_id not in p.projects:
        raise IntegrityError(f"seq {env.seq}: unknown project {b.project_id}")
    p.projects[b.project_id].append((env.seq, None))


_HANDLERS: dict[type, Callable[[Projection, ev.Envelope], None]] = {
    ev.BrainCreated: _brain_created,
    ev.BrainConfigured: _brain_configured,
    ev.MemoryEdited: _memory_edited,
    ev.MemoryRetyped: _memory_retyped,
    ev.MemoryPinned: _flag(PINNED, EXPIRED),  # pinned memories do not expire: back it comes
    ev.MemoryUnpinned: _flag(0, PINNED),
    ev.MemoryForgotten: _flag(FORGOTTEN, 0),
    ev.MemoryRestored: _flag(0, FORGOTTEN),
    ev.MemoryErased: _memory_erased,
    ev.SynapsesReinforced: _synapses_reinforced,
    ev.DecayApplied: _decay_applied,
    ev.MemoriesExpired: _memories_expired,
    ev.SemanticModelSet: _semantic_model_set,
    ev.MemoriesEmbedded: _memories_embedded,
    ev.ProjectCreated: _project_created,
    ev.ProjectChanged: _project_changed,
    ev.ProjectDeleted: _project_deleted,
}
