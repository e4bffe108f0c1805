"""Checkpoints as files, `<root>/<brain id>/<seq>.ckpt`: the LMDB backend keeps them under
the store's `checkpoints/` directory.

A checkpoint is written to a temporary name, fsynced and renamed (and the directory fsynced),
so a crash leaves either the old set or the new one; it is read back as a private
(copy-on-write) map, so a process keeps resident only the pages it reads, and a change to a
loaded column (a reinforcement after the checkpoint) copies the pages it writes, never the
file, and never reaches the file.
"""

from __future__ import annotations

import mmap
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from .base import Buffer, CheckpointStore


class FileCheckpoints(CheckpointStore):
    def __init__(self, root: Path, *, writable: bool = True) -> None:
        self.root = root
        self.writable = writable

    def folder(self, brain_id: str) -> Path:
        return self.root / brain_id

    def _path(self, brain_id: str, seq: int) -> Path:
        return self.folder(brain_id) / f"{seq:020d}.ckpt"

    def seqs(self, brain_id: str) -> list[int]:
        folder = self.folder(brain_id)
        if not folder.is_dir():
            return []
        return sorted(s for f in folder.iterdir() if (s := _seq_of(f)) is not None)

    def put(self, brain_id: str, seq: int, parts: Sequence[Buffer]) -> None:
        folder = self.folder(brain_id)
        folder.mkdir(parents=True, exist_ok=True)
        target = self._path(brain_id, seq)
        tmp = target.with_suffix(f".tmp{os.getpid()}")
        with open(tmp, "wb") as fh:
            for part in parts:
                fh.write(part)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def get(self, brain_id: str, seq: int) -> Buffer:
        with open(self._path(brain_id, seq), "rb") as fh:
            if os.fstat(fh.fileno()).st_size == 0:
                return b""
            return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_COPY)

    def remove(self, brain_id: str, seq: int) -> None:
        try:
            self._path(brain_id, seq).unlink(missing_ok=True)
        except OSError:
            if self.writable:
                raise  # an erase relies on this: never pass over it silently

    def brains(self) -> set[str]:
        if not self.root.is_dir():
            return set()
        return {f.name for f in self.root.iterdir() if f.is_dir()}

    def remove_brain(self, brain_id: str) -> None:
        shutil.rmtree(self.folder(brain_id), ignore_errors=True)

    def name(self, brain_id: str, seq: int) -> str:
        return str(self._path(brain_id, seq))

    def remove_leftovers(self, *, exclusive: bool) -> int:
        """Temporary files (`<seq>.tmp<pid>`) of writers that died before their rename: all of
        them when `exclusive`, else those whose process is gone."""
        removed = 0
        for brain_id in self.brains():
            try:
                files = list(self.folder(brain_id).iterdir())
            except FileNotFoundError:  # the brain was deleted meanwhile
                continue
            for f in files:
                pid = _writer_of(f)
                if pid is not None and (exclusive or not _alive(pid)):
                    f.unlink(missing_ok=True)
                    removed += 1
        return removed


def _seq_of(path: Path) -> int | None:
    try:
        return int(path.stem) if path.suffix == ".ckpt" else None
    except ValueError:
        return None


def _writer_of(path: Path) -> int | None:
    """The pid in a temporary checkpoint's name, or None for any other file."""
    tail = path.suffix[4:]
    return int(tail) if path.suffix.startswith(".tmp") and tail.isdigit() else None


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True  # another thread of this process may be writing it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True
