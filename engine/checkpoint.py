"""Checkpoints: the projection saved at some sequence, so opening is load + replay of the tail.

They are caches, never the truth: a checkpoint that is corrupt, from another projection
version, or older than the brain's last hard erase is skipped (and deleted) and the log is
replayed instead. This module is the format (a header with a checksum, an index, raw arrays
aligned for numpy) and the policy (which to keep, which to load); where the bytes live is the
log backend's `CheckpointStore` (files beside an LMDB log, a table in PostgreSQL), which
writes a checkpoint whole or not at all.
"""

from __future__ import annotations

import mmap
import struct
import zlib
from typing import Final

import msgspec
import numpy as np

from . import logs
from .errors import DataError, IntegrityError
from .logstore.base import Buffer, CheckpointStore
from .projection import Header, Projection, from_arrays, to_arrays

PROJECTION_VERSION: Final = 5
_MAGIC: Final = b"NMCKPT"
# magic, projection version, crc32 of the rest, index length, payload length
_HEADER: Final = struct.Struct(">6sHIIQ")
_ALIGN: Final = 64
_WINDOW: Final = 1 << 24  # bytes checked at a time when verifying a checkpoint (page-aligned)
KEEP: Final = 2


class _Array(msgspec.Struct, array_like=True, frozen=True):
    name: str
    dtype: str
    offset: int
    length: int


class _Index(msgspec.Struct, frozen=True):
    header: Header
    arrays: list[_Array]
    graph_nodes: int
    graph_synapses: int
    episodes_nodes: int
    episodes_synapses: int


def _padding(index_len: int) -> int:
    return -(_HEADER.size + index_len) % _ALIGN


def save(store: CheckpointStore, p: Projection) -> None:
    """Store the projection (and its adjacency, so opening skips the sort) as raw arrays,
    straight from the columns: no second copy of a brain that may be gigabytes."""
    p.sync_graph(force=True)
    header, arrays = to_arrays(p)
    g, e = p.graph, p.episodes
    arrays.update({"graph.indptr": g.indptr, "graph.nbr": g.nbr, "graph.syn": g.syn})
    arrays.update({"episodes.indptr": e.indptr, "episodes.nbr": e.nbr, "episodes.syn": e.syn})
    specs: list[_Array] = []
    offset = 0
    for name, arr in arrays.items():
        specs.append(_Array(name, arr.dtype.str, offset, len(arr)))
        offset += arr.nbytes + -arr.nbytes % _ALIGN
    index = msgspec.msgpack.encode(_Index(header, specs, g.nodes, g.synapses, e.nodes, e.synapses))
    parts: list[Buffer] = [index + bytes(_padding(len(index)))]  # arrays start aligned
    for arr in arrays.values():
        data = np.ascontiguousarray(arr).data.cast("B")
        parts += [data, bytes(-len(data) % _ALIGN)]
    crc = 0
    for part in parts:
        crc = zlib.crc32(part, crc)
    head = _HEADER.pack(_MAGIC, PROJECTION_VERSION, crc, len(index), offset)
    store.put(p.brain_id, p.seq, [head, *parts])


def _verified(data: Buffer, name: str) -> tuple[int, int]:
    """Check a checkpoint's header and checksum; returns the index length and its padding.
    The check reads every page, a window at a time, and lets each window of a mapped file go
    again: the arrays are served from the map, so only the pages recall touches stay resident."""
    size = len(data)
    if size < _HEADER.size:
        raise DataError(f"checkpoint {name} is truncated")
    magic, version, crc, index_len, payload_len = _HEADER.unpack_from(data)
    if magic != _MAGIC:
        raise DataError(f"{name} is not a checkpoint")
    if version != PROJECTION_VERSION:
        raise DataError(f"checkpoint {name} has projection version {version}")
    pad = _padding(index_len)
    if size != _HEADER.size + index_len + pad + payload_len:
        raise DataError(f"checkpoint {name} is truncated")
    got = 0
    with memoryview(data) as view:
        for start in range(0, size, _WINDOW):
            got = zlib.crc32(view[max(start, _HEADER.size) : start + _WINDOW], got)
            if isinstance(data, mmap.mmap):
                data.madvise(mmap.MADV_DONTNEED, start, min(_WINDOW, size - start))
    if got != crc:
        raise DataError(f"checkpoint {name} is corrupt (checksum mismatch)")
    return index_len, pad


def load(data: Buffer, name: str, brain_id: str, seq: int) -> Projection:
    """Load one checkpoint, its arrays read-only views of `data` (columns copy on their first
    write); any inconsistency raises DataError."""
    index_len, pad = _verified(data, name)
    body = memoryview(data)[_HEADER.size :]
    try:
        index = msgspec.msgpack.decode(body[:index_len], type=_Index)
        payload = body[index_len + pad :]
        arrays = {
            a.name: np.frombuffer(payload, dtype=np.dtype(a.dtype), count=a.length, offset=a.offset)
            for a in index.arrays
        }
        if index.header.brain_id != brain_id or index.header.seq != seq:
            raise DataError(f"checkpoint {name} belongs to another brain or sequence")
        p = from_arrays(index.header, arrays)
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError, KeyError) as exc:
        raise DataError(f"checkpoint {name} cannot be decoded: {exc}") from exc
    except IntegrityError as exc:
        raise DataError(f"checkpoint {name}: {exc}") from exc
    for part, adj, nodes, synapses in (
        ("graph", p.graph, index.graph_nodes, index.graph_synapses),
        ("episodes", p.episodes, index.episodes_nodes, index.episodes_synapses),
    ):
        adj.indptr, adj.nbr, adj.syn = (
            arrays[f"{part}.{piece}"] for piece in ("indptr", "nbr", "syn")
        )
        adj.nodes, adj.synapses = nodes, synapses
        if nodes > p.neuron_count or synapses > p.synapse_count or len(adj.indptr) != nodes + 1:
            raise DataError(f"checkpoint {name} has an adjacency that does not fit its state")
    return p


def load_best(store: CheckpointStore, brain_id: str, head: int, min_seq: int) -> Projection | None:
    """The newest usable checkpoint with min_seq <= seq <= head; unusable ones are removed."""
    for seq in reversed(store.seqs(brain_id)):
        name = store.name(brain_id, seq)
        if seq > head or seq < min_seq:
            _remove(store, brain_id, seq, "stale" if seq < min_seq else "ahead of the log")
            continue
        try:
            return load(store.get(brain_id, seq), name, brain_id, seq)
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
