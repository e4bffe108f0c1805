"""Checkpoints: the projection saved at some sequence, so opening is load + replay of the tail.

They are caches, never the truth: a checkpoint that is corrupt, from another projection
version, or older than the brain's last hard erase is skipped (and deleted) and the log is
replayed instead. Files are written to a temporary name, fsynced and renamed, so a crash
leaves either the old set or the new one.
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path
from typing import Final

import msgspec
import numpy as np
import structlog

from .errors import DataError
from .projection import Projection, State, from_state, to_state

PROJECTION_VERSION: Final = 1
_MAGIC: Final = b"NMCKPT"
_HEADER: Final = struct.Struct(">6sHIQ")  # magic, projection version, crc32, payload length
KEEP: Final = 2

log = structlog.get_logger("neuralmemory.checkpoint")


class _Graph(msgspec.Struct, frozen=True):
    indptr: bytes
    nbr: bytes
    syn: bytes
    nodes: int
    synapses: int


class _Checkpoint(msgspec.Struct, frozen=True):
    state: State
    graph: _Graph


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
    p.sync_graph(force=True)
    g = p.graph
    payload = msgspec.msgpack.encode(
        _Checkpoint(
            state=to_state(p),
            graph=_Graph(g.indptr.tobytes(), g.nbr.tobytes(), g.syn.tobytes(), g.nodes, g.synapses),
        )
    )
    header = _HEADER.pack(_MAGIC, PROJECTION_VERSION, zlib.crc32(payload), len(payload))
    folder.mkdir(parents=True, exist_ok=True)
    target = _path(folder, p.seq)
    tmp = target.with_suffix(f".tmp{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(header)
        fh.write(payload)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return target


def load(path: Path, brain_id: str) -> Projection:
    """Load one checkpoint file; any inconsistency raises DataError."""
    data = path.read_bytes()
    if len(data) < _HEADER.size:
        raise DataError(f"checkpoint {path.name} is truncated")
    magic, version, crc, length = _HEADER.unpack_from(data)
    if magic != _MAGIC:
        raise DataError(f"{path.name} is not a checkpoint")
    if version != PROJECTION_VERSION:
        raise DataError(f"checkpoint {path.name} has projection version {version}")
    payload = memoryview(data)[_HEADER.size :]
    if len(payload) != length or zlib.crc32(payload) != crc:
        raise DataError(f"checkpoint {path.name} is corrupt (checksum mismatch)")
    try:
        ckpt = msgspec.msgpack.decode(payload, type=_Checkpoint)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise DataError(f"checkpoint {path.name} cannot be decoded: {exc}") from exc
    if ckpt.state.brain_id != brain_id or _seq_of(path) != ckpt.state.seq:
        raise DataError(f"checkpoint {path.name} belongs to another brain or sequence")
    p = from_state(ckpt.state)
    g = ckpt.graph
    p.graph.indptr = np.frombuffer(g.indptr, dtype=np.int64)
    p.graph.nbr = np.frombuffer(g.nbr, dtype=np.int32)
    p.graph.syn = np.frombuffer(g.syn, dtype=np.int32)
    p.graph.nodes, p.graph.synapses = g.nodes, g.synapses
    if g.nodes > p.neuron_count or g.synapses > p.synapse_count:
        raise DataError(f"checkpoint {path.name} has an adjacency larger than its state")
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
    log.warning("checkpoint_skipped", file=str(path), reason=why)
    path.unlink(missing_ok=True)
