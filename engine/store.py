"""A store: one directory holding the LMDB log of all its brains and their checkpoints.

The default store lives in `$NMEM_HOME`, else `~/.neuralmemory`. Any number of processes may
open the same store at once (CLI, MCP server, HTTP server); LMDB serialises their writes.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import checkpoint
from . import events as ev
from .brain import Brain
from .clock import now_us
from .errors import InputError, NotFoundError, OperationalError
from .log import DEFAULT_MAP_SIZE, EventLog

DEFAULT_BRAIN = "default"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def default_home() -> Path:
    env = os.environ.get("NMEM_HOME")
    return Path(env).expanduser() if env else Path.home() / ".neuralmemory"


def check_brain_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InputError(
            f"invalid brain name {name!r}: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


class Store:
    """`clock` (microseconds since the epoch) is for tests that need time to pass."""

    def __init__(
        self,
        path: Path | str | None = None,
        *,
        map_size: int = DEFAULT_MAP_SIZE,
        clock: Callable[[], int] = now_us,
    ) -> None:
        self.path = Path(path).expanduser() if path is not None else default_home()
        self.now = clock
        # told (done, total) while a brain folds a long stretch of log at open
        self.on_replay: Callable[[int, int], None] | None = None
        # a replica (a follower of a remote brain) must not write sweeps of its own
        self.auto_sweep = True
        self.log = EventLog(self.path / "log", map_size=map_size)
        # every process holds this lock shared; compaction needs it alone
        self._lock_fd = os.open(self.path / "lock", os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self._lock_fd, fcntl.LOCK_SH)
        self._brains: dict[str, Brain] = {}

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for brain in self._brains.values():
            brain.close()
        self._brains.clear()
        self.log.close()
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1

    def compact(self) -> dict[str, Any]:
        """Drop stale checkpoints and rewrite the log without free pages: after a hard erase
        this is what takes the erased text out of every file of the store. Needs the store
        to itself: no other process may have it open."""
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OperationalError(
                "the store is in use by another process (an MCP server, a CLI call?); "
                "stop it and run compact again"
            ) from None
        try:
            for brain in self._brains.values():
                brain.close()
            self._brains.clear()
            dropped = 0
            with self.log.reader() as r:
                floors = {bid: int(r.meta(bid, "checkpoint_floor") or b"0")
                          for bid in r.brains().values()}  # fmt: skip
            for folder in (self.path / "checkpoints").glob("*"):
                floor = floors.get(folder.name)
                if floor is None:  # a deleted brain's checkpoints
                    shutil.rmtree(folder, ignore_errors=True)
                    continue
                before = len(checkpoint.list_seqs(folder))
                checkpoint.drop_below(folder, floor)
                dropped += before - len(checkpoint.list_seqs(folder))
            size_before, size_after = self.log.compact()
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_SH)
        return {"bytes_before": size_before, "bytes_after": size_after,
                "checkpoints_dropped": dropped}  # fmt: skip

    def delete_brain(self, name: str) -> None:
        """Delete a brain and its whole history (not the current brain)."""
        brain_id = self.brain_names().get(name)
        if brain_id is None:
            raise NotFoundError(f"no brain named {name!r}")
        if name == self.current:
            raise InputError(f"{name!r} is the current brain; switch with 'brain use' first")
        cached = self._brains.pop(name, None)
        if cached is not None:
            cached.close()
        self.log.delete_brain(name, brain_id)
        shutil.rmtree(self.path / "checkpoints" / brain_id, ignore_errors=True)

    # -- brains -------------------------------------------------------------------------------

    def brain_names(self) -> dict[str, str]:
        """Registered brains, name -> id."""
        with self.log.reader() as r:
            return r.brains()

    def brain_heads(self) -> dict[str, tuple[str, int]]:
        """Registered brains with their last seq, name -> (id, seq), read at one moment
        without loading any brain."""
        with self.log.reader() as r:
            return {name: (bid, r.head(bid)) for name, bid in r.brains().items()}

    @property
    def current(self) -> str:
        with self.log.reader() as r:
            raw = r.meta(None, "current_brain")
        return raw.decode() if raw else DEFAULT_BRAIN

    def use(self, name: str) -> None:
        if name not in self.brain_names():
            raise NotFoundError(f"no brain named {name!r}")
        with self.log.writer() as w:
            w.put_meta(None, "current_brain", name.encode())

    def create_brain(self, name: str, config: ev.BrainConfig | None = None) -> Brain:
        check_brain_name(name)
        brain_id = uuid.uuid4().hex
        with self.log.writer() as w:
            if name in w.brains():
                raise InputError(f"brain {name!r} already exists")
            w.register_brain(name, brain_id)
            body = ev.BrainCreated(name=name, config=config or ev.BrainConfig())
            w.append(brain_id, body, t_us=self.now())
        return self.brain(name)

    def brain(self, name: str | None = None, *, create: bool = True) -> Brain:
        """A brain by name (default: the current one), created on first use if `create`."""
        name = check_brain_name(name or self.current)
        cached = self._brains.get(name)
        if cached is not None:
            return cached
        brain_id = self.brain_names().get(name)
        if brain_id is None:
            if not create:
                raise NotFoundError(f"no brain named {name!r}")
            try:
                return self.create_brain(name)
            except InputError:  # created by another process meanwhile
                brain_id = self.brain_names()[name]
        brain = Brain(self, brain_id, name)
        self._brains[name] = brain
        return brain

    def info(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "brains": sorted(self.brain_names()),
            "current": self.current,
        }
