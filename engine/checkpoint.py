"""Checkpoints: the projection saved at some sequence, so opening is load + replay of the tail.

They are caches, never the truth: a checkpoint that is corrupt, from another projection
version, or older than the brain's last hard erase is skipped (and deleted) and the log is
replayed instead. Files are written to a temporary name, fsynced and renamed, so a crash
leaves either the old set or the new one.
"""

from __future__ import annotations

import mmap
import os
import struct
import zlib
from pathlib import Path
from typing import Final

import msgspec
import numpy as np

from . import logs
from .errors import DataError, IntegrityError
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


def _path(folder: Path, seq: int) -> Path:
    return folder / f"{seq:020d}.ckpt"


def _seq_of(path: Path) -> int | None:
    try:
        return int(path.stem) if path.suffix == ".ckpt" else None
    except ValueError:
        return None


def list_seqs(folder: Path) -> list[int]:
    if not folder.is_dir():
        return []
    return sorted(s for f in folder.iterdir() if (s := _seq_of(f)) is not None)


def save(folder: Path, p: Projection) -> Path:
    """Write the projection (and its adjacency, so opening skips the sort) as raw arrays,
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
    padding = bytes(_padding(len(index)))  # arrays start aligned: numpy's fast paths need it
    folder.mkdir(parents=True, exist_ok=True)
    target = _path(folder, p.seq)
    tmp = target.with_suffix(f".tmp{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(bytes(_HEADER.size))  # filled in once the checksum is known
        crc = zlib.crc32(index + padding)
        fh.write(index + padding)
        for arr in arrays.values():
            data = np.ascontiguousarray(arr).data.cast("B")
            pad = bytes(-len(data) % _ALIGN)
            crc = zlib.crc32(pad, zlib.crc32(data, crc))
            fh.write(data)
            fh.write(pad)
        fh.seek(0)
        fh.write(_HEADER.pack(_MAGIC, PROJECTION_VERSION, crc, len(index), offset))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return target


def _verified(path: Path) -> tuple[mmap.mmap, int, int]:
    """Map a checkpoint and check its header and checksum; returns the map, the index length
    and its padding. The check reads every page, a window at a time, and lets each window go
    again: the arrays are served from the map, so only the pages recall touches stay resident."""
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size < _HEADER.size:
            raise DataError(f"checkpoint {path.name} is truncated")
        data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    magic, version, crc, index_len, payload_len = _HEADER.unpack_from(data)
    if magic != _MAGIC:
        raise DataError(f"{path.name} is not a checkpoint")
    if version != PROJECTION_VERSION:
        raise DataError(f"checkpoint {path.name} has projection version {version}")
    pad = _padding(index_len)
    if size != _HEADER.size + index_len + pad + payload_len:
        raise DataError(f"checkpoint {path.name} is truncated")
    got = 0
    with memoryview(data) as view:
        for start in range(0, size, _WINDOW):
            got = zlib.crc32(view[max(start, _HEADER.size) : start + _WINDOW], got)
            data.madvise(mmap.MADV_DONTNEED, start, min(_WINDOW, size - start))
    if got != crc:
        raise DataError(f"checkpoint {path.name} is corrupt (checksum mismatch)")
    return data, index_len, pad


def load(path: Path, brain_id: str) -> Projection:
    """Load one checkpoint file, its arrays read-only views of the file (columns copy on their
    first write); any inconsistency raises DataError."""
    data, index_len, pad = _verified(path)
    body = memoryview(data)[_HEADER.size :]
    try:
        index = msgspec.msgpack.decode(body[:index_len], type=_Index)
        payload = body[index_len + pad :]
        arrays = {
            a.name: np.frombuffer(payload, dtype=np.dtype(a.dtype), count=a.length, offset=a.offset)
            for a in index.arrays
        }
        if index.header.brain_id != brain_id or _seq_of(path) != index.header.seq:
            raise DataError(f"checkpoint {path.name} belongs to another brain or sequence")
        p = from_arrays(index.header, arrays)
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError, KeyError) as exc:
        raise DataError(f"checkpoint {path.name} cannot be decoded: {exc}") from exc
    except IntegrityError as exc:
        raise DataError(f"checkpoint {path.name}: {exc}") from exc
    for name, adj, nodes, synapses in (
        ("graph", p.graph, index.graph_nodes, index.graph_synapses),
        ("episodes", p.episodes, index.episodes_nodes, index.episodes_synapses),
    ):
        adj.indptr, adj.nbr, adj.syn = (
            arrays[f"{name}.{part}"] for part in ("indptr", "nbr", "syn")
        )
        adj.nodes, adj.synapses = nodes, synapses
        if nodes > p.neuron_count or synapses > p.synapse_count or len(adj.indptr) != nodes + 1:
            raise DataError(f"checkpoint {path.name} has an adjacency that does not fit its state")
    return p


def load_best(folder: Path, brain_id: str, head: int, min_seq: int) -> Projection | None:
    """The newest usable checkpoint with min_seq <= seq <= head; unusable ones are removed."""
    for seq in reversed(list_seqs(folder)):
        path = _path(folder, seq)
        if seq > head or seq < min_seq:
            _remove(path, "stale" if seq < min_seq else "ahead of the log")
            continue
        try:
            return load(path, brain_id)
        except (DataError, OSError) as exc:
            _remove(path, str(exc))
    return None


def prune(folder: Path, keep: int = KEEP) -> None:
    for seq in list_seqs(folder)[:-keep]:
        _path(folder, seq).unlink(missing_ok=True)


def drop_below(folder: Path, seq: int) -> None:
    for s in list_seqs(folder):
        if s < seq:
            _path(folder, s).unlink(missing_ok=True)


def _remove(path: Path, why: str) -> None:
    logs.warning("checkpoint_skipped", file=str(path), reason=why)
    path.unlink(missing_ok=True)
