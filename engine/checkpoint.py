"""Checkpoints: the projection saved at some sequence, so opening is load + replay of the tail.

They are caches, never the truth: a checkpoint that is corrupt, from another projection
version, or older than the brain's last hard erase is skipped (and deleted) and the log is
replayed instead. This module is the format (a header, an index with a checksum of its own
and one per array, raw arrays aligned for numpy) and the policy (which to keep, which to
load); where the bytes live is the log backend's `CheckpointStore` (files beside an LMDB log,
a table in PostgreSQL), which writes a checkpoint whole or not at all.

Opening verifies the header, the size and the index; each array is verified (xxh3, tens of
GB/s) when a column made of it is first used, so opening a large brain reads only the pages
it needs. A damaged array found then removes the checkpoint, and the column is rebuilt from a
replay of the log up to the checkpoint's seq: a damaged file costs a replay, never an answer.
"""

from __future__ import annotations

import mmap
import struct
from collections.abc import Callable
from functools import partial
from typing import Any, Final

import msgspec
import numpy as np
import xxhash

from . import logs
from .errors import DataError, IntegrityError
from .logstore.base import Buffer, CheckpointStore
from .projection import Header, Projection, from_arrays, to_arrays

PROJECTION_VERSION: Final = 7
_MAGIC: Final = b"NMCKPT"
# magic, projection version, xxh3-64 of the index, index length, payload length
_HEADER: Final = struct.Struct(">6sHQIQ")
_ALIGN: Final = 64
_WINDOW: Final = 1 << 24  # bytes verified at a time
KEEP: Final = 2
_digest = xxhash.xxh3_64_intdigest


class _Array(msgspec.Struct, array_like=True, frozen=True):
    name: str
    dtype: str
    offset: int
    length: int
    digest: int  # xxh3-64 of the array's bytes

    def end(self) -> int:
        """Where the array's bytes end in the payload (a bad dtype raises TypeError)."""
        return self.offset + self.length * np.dtype(self.dtype).itemsize


class _Index(msgspec.Struct, frozen=True):
    header: Header
    arrays: list[_Array]
    graph_nodes: int
    graph_synapses: int
    episodes_nodes: int
    episodes_synapses: int


def _padding(index_len: int) -> int:
    return -(_HEADER.size + index_len) % _ALIGN


def save(store: CheckpointStore, p: Projection) -> int:
    """Store the projection (and its adjacency, so opening skips the sort) as raw arrays,
    straight from the columns: no second copy of a brain that may be gigabytes. Returns the
    checkpoint's size in bytes."""
    p.sync_graph(force=True)
    header, arrays = to_arrays(p)
    g, e = p.graph, p.episodes
    arrays.update({"graph.indptr": g.indptr, "graph.nbr": g.nbr, "graph.syn": g.syn})
    arrays.update({"episodes.indptr": e.indptr, "episodes.nbr": e.nbr, "episodes.syn": e.syn})
    specs: list[_Array] = []
    datas: list[memoryview] = []
    offset = 0
    for name, arr in arrays.items():
        data = np.ascontiguousarray(arr).data.cast("B")
        specs.append(_Array(name, arr.dtype.str, offset, len(arr), _digest(data)))
        datas.append(data)
        offset += len(data) + -len(data) % _ALIGN
    index = msgspec.msgpack.encode(_Index(header, specs, g.nodes, g.synapses, e.nodes, e.synapses))
    parts: list[Buffer] = [index + bytes(_padding(len(index)))]  # arrays start aligned
    for data in datas:
        parts += [data, bytes(-len(data) % _ALIGN)]
    head = _HEADER.pack(_MAGIC, PROJECTION_VERSION, _digest(index), len(index), offset)
    store.put(p.brain_id, p.seq, [head, *parts])
    return len(head) + sum(len(part) for part in parts)


def _index(data: Buffer, name: str) -> tuple[_Index, int]:
    """Check a checkpoint's header, size and index; returns the index and where the arrays
    start."""
    size = len(data)
    if size < _HEADER.size:
        raise DataError(f"checkpoint {name} is truncated")
    magic, version, digest, index_len, payload_len = _HEADER.unpack_from(data)
    if magic != _MAGIC:
        raise DataError(f"{name} is not a checkpoint")
    if version != PROJECTION_VERSION:
        raise DataError(f"checkpoint {name} has projection version {version}")
    pad = _padding(index_len)
    if size != _HEADER.size + index_len + pad + payload_len:
        raise DataError(f"checkpoint {name} is truncated")
    body = memoryview(data)[_HEADER.size :]
    raw = body[:index_len]
    if _digest(raw) != digest:
        raise DataError(f"checkpoint {name} is corrupt (index checksum mismatch)")
    try:
        index = msgspec.msgpack.decode(raw, type=_Index)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise DataError(f"checkpoint {name} cannot be decoded: {exc}") from exc
    try:
        ends = [a.end() for a in index.arrays]
    except TypeError as exc:
        raise DataError(f"checkpoint {name} cannot be decoded: {exc}") from exc
    if any(min(a.offset, a.length) < 0 for a in index.arrays) or max(ends, default=0) > payload_len:
        raise DataError(f"checkpoint {name} has an array past its end")
    return index, _HEADER.size + index_len + pad


class _Checks:
    """The checks of one loaded checkpoint's arrays. A check runs when a column made of those
    arrays is first used; on a mismatch it removes the checkpoint and gives the column the
    contents of the same column in a replay of the log up to the checkpoint's seq (made once,
    on the first mismatch); without a replay it raises DataError."""

    def __init__(
        self,
        data: Buffer,
        base: int,
        index: _Index,
        drop: Callable[[str], None],
        replay: Callable[[], Projection] | None,
    ) -> None:
        self.data, self.drop, self.replay = data, drop, replay
        self.specs = {a.name: a for a in index.arrays}
        self.base = base  # where the arrays start in `data`
        self.fresh: Projection | None = None

    def __call__(self, *names: str) -> Callable[[Any], None]:
        def check(holder: Any) -> None:
            for name in names:
                if not self._sound(self.specs[name]):
                    holder.adopt(_holder(self._rebuilt(name), name))
                    return

        return check

    def _sound(self, a: _Array) -> bool:
        """Whether an array's bytes match its digest. They are read a window at a time, and
        each window of a mapped file is let go again (its pages wholly inside the array: the
        array is not written before this check, its neighbours may be), so only the pages
        that reads touch stay resident, as if the check had not read them."""
        start = self.base + a.offset
        end = self.base + a.end()
        digest = xxhash.xxh3_64()
        with memoryview(self.data) as view:
            for lo in range(start, end, _WINDOW):
                hi = min(lo + _WINDOW, end)
                digest.update(view[lo:hi])
                if isinstance(self.data, mmap.mmap):
                    first, last = -(-lo // mmap.PAGESIZE), hi // mmap.PAGESIZE
                    if last > first:
                        pages = mmap.PAGESIZE
                        self.data.madvise(mmap.MADV_DONTNEED, first * pages, (last - first) * pages)
        return bool(digest.intdigest() == a.digest)

    def _rebuilt(self, name: str) -> Projection:
        if self.fresh is None:
            why = f"column {name} is corrupt (checksum mismatch)"
            self.drop(why)
            if self.replay is None:
                raise DataError(why)
            self.fresh = self.replay()
            self.fresh.sync_graph(force=True)
        return self.fresh


def _holder(p: Projection, name: str) -> Any:
    """What holds a saved array in a projection: a column, a journal, an adjacency."""
    if name.startswith("v:"):
        model, part = name[2:].rsplit(".", 1)
        return getattr(p.vectors[model], part)
    base, _, part = name.partition(".")
    holder = getattr(p, base)
    return getattr(holder, part) if part.startswith("j_") else holder


def load(
    data: Buffer,
    name: str,
    brain_id: str,
    seq: int,
    *,
    drop: Callable[[], None] | None = None,
    replay: Callable[[], Projection] | None = None,
) -> Projection:
    """Load one checkpoint, its arrays read-only views of `data` (columns copy on their first
    write), each verified on first use (a mismatch calls `drop` and takes the column from
    `replay`); any inconsistency found now raises DataError."""
    index, base = _index(data, name)
    payload = memoryview(data)[base:]

    def dropped(why: str) -> None:
        logs.warning("checkpoint_damaged", checkpoint=name, reason=why)
        if drop is not None:
            drop()

    checks = _Checks(data, base, index, dropped, replay)
    try:
        arrays = {
            a.name: np.frombuffer(payload, dtype=np.dtype(a.dtype), count=a.length, offset=a.offset)
            for a in index.arrays
        }
        if index.header.brain_id != brain_id or index.header.seq != seq:
            raise DataError(f"checkpoint {name} belongs to another brain or sequence")
        p = from_arrays(index.header, arrays, checks)
    except (ValueError, KeyError, TypeError) as exc:
        raise DataError(f"checkpoint {name} cannot be decoded: {exc}") from exc
    except IntegrityError as exc:
        raise DataError(f"checkpoint {name}: {exc}") from exc
    for part, adj, nodes, synapses in (
        ("graph", p.graph, index.graph_nodes, index.graph_synapses),
        ("episodes", p.episodes, index.episodes_nodes, index.episodes_synapses),
    ):
        pieces = [f"{part}.{piece}" for piece in ("indptr", "nbr", "syn")]
        adj.indptr, adj.nbr, adj.syn = (arrays[piece] for piece in pieces)
        adj.nodes, adj.synapses, adj.check = nodes, synapses, checks(*pieces)
        if nodes > p.neuron_count or synapses > p.synapse_count or len(adj.indptr) != nodes + 1:
            raise DataError(f"checkpoint {name} has an adjacency that does not fit its state")
    return p


def load_best(
    store: CheckpointStore,
    brain_id: str,
    head: int,
    min_seq: int,
    replay: Callable[[int], Projection] | None = None,
) -> tuple[Projection, int] | None:
    """The newest usable checkpoint with min_seq <= seq <= head, and its size in bytes;
    unusable ones are removed. `replay(seq)` (the log folded up to seq) rebuilds a column found
    damaged later."""
    for seq in reversed(store.seqs(brain_id)):
        name = store.name(brain_id, seq)
        if seq > head or seq < min_seq:
            _remove(store, brain_id, seq, "stale" if seq < min_seq else "ahead of the log")
            continue
        try:
            data = store.get(brain_id, seq)
            p = load(
                data, name, brain_id, seq,
                drop=partial(store.remove, brain_id, seq),
                replay=None if replay is None else partial(replay, seq),
            )  # fmt: skip
            return p, len(data)
        except (DataError, OSError) as exc:
            _remove(store, brain_id, seq, str(exc))
    return None


def prune(store: CheckpointStore, brain_id: str, keep: int = KEEP) -> None:
    for seq in store.seqs(brain_id)[:-keep]:
        store.remove(brain_id, seq)


def drop_below(store: CheckpointStore, brain_id: str, seq: int) -> int:
    """Remove a brain's checkpoints older than `seq`; returns how many went."""
    old = [s for s in store.seqs(brain_id) if s < seq]
    for s in old:
        store.remove(brain_id, s)
    return len(old)


def _remove(store: CheckpointStore, brain_id: str, seq: int, why: str) -> None:
    logs.warning("checkpoint_skipped", checkpoint=store.name(brain_id, seq), reason=why)
    store.remove(brain_id, seq)
