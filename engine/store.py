"""A store: the log of all its brains and their checkpoints, in one backend.

`Store(location)` picks the backend from the location: a directory (the embedded LMDB
default; `$NMEM_HOME`, else `~/.neuralmemory`) or a `postgresql://` URL. Any number of
processes may open the same store at once (CLI, MCP server, HTTP server); the backend
serialises their writes. `Store(location, create=False)` creates nothing (no directory, file,
table or brain): a missing store or brain raises NotFoundError.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import msgspec

from . import checkpoint, screening
from . import events as ev
from .brain import Brain
from .clock import now_us
from .errors import InputError, NotFoundError
from .logstore import LogStore, Writer, is_url, open_log

DEFAULT_BRAIN = "default"
NAME_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"  # brain names
_NAME = re.compile(NAME_PATTERN)


def default_home() -> Path:
    env = os.environ.get("NMEM_HOME")
    return Path(env).expanduser() if env else Path.home() / ".neuralmemory"


def default_location() -> Path | str:
    """Where a store opens when none is named: $NMEM_HOME (a directory or a postgresql://
    URL), else ~/.neuralmemory."""
    env = os.environ.get("NMEM_HOME")
    return env if env and is_url(env) else default_home()


def check_brain_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InputError(
            f"invalid brain name {name!r}: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


class BrainExistsError(InputError):
    """A brain of that name exists already."""


class Store:
    """`clock` (microseconds since the epoch) is for tests that need time to pass; `map_size`
    is the LMDB backend's first map size (it grows by itself)."""

    def __init__(
        self,
        location: Path | str | None = None,
        *,
        create: bool = True,
        map_size: int | None = None,
        clock: Callable[[], int] = now_us,
    ) -> None:
        if location is None:
            location = default_location()
        elif not is_url(location):
            location = Path(location)
        self.create = create
        self.now = clock
        # told (done, total) while a brain folds a long stretch of log at open
        self.on_replay: Callable[[int, int], None] | None = None
        # a replica (a follower of a remote brain) must not write sweeps of its own
        self.auto_sweep = True
        self.log: LogStore = open_log(location, create=create, map_size=map_size)
        self.location = self.log.location
        self._brains: dict[str, Brain] = {}

    @property
    def read_only(self) -> bool:
        """Opened without write access: reads work, writes are refused (OperationalError)."""
        return self.log.read_only

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for brain in self._brains.values():
            brain.close()
        self._brains.clear()
        self.log.close()

    def compact(self) -> dict[str, Any]:
        """Drop stale checkpoints and give back the log's free space: after a hard erase this
        is what takes the erased text out of every file of the store. Needs the store to
        itself: no other process may have it open."""
        with self.log.exclusive():
            for brain in self._brains.values():
                brain.close()
            self._brains.clear()
            with self.log.reader() as r:
                floors = {bid: int(r.meta(bid, "checkpoint_floor") or b"0")
                          for bid in r.brains().values()}  # fmt: skip
            dropped = 0
            ckpts = self.log.checkpoints
            ckpts.remove_leftovers(exclusive=True)
            for brain_id in ckpts.brains():
                floor = floors.get(brain_id)
                if floor is None:  # a deleted brain's checkpoints
                    ckpts.remove_brain(brain_id)
                else:
                    dropped += checkpoint.drop_below(ckpts, brain_id, floor)
            size_before, size_after = self.log.compact()
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
        self.log.write(lambda w: w.delete_brain(name, brain_id))
        self.log.checkpoints.remove_brain(brain_id)

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
        self.log.write(lambda w: w.put_meta(None, "current_brain", name.encode()))

    def create_brain(self, name: str, config: ev.BrainConfig | None = None) -> Brain:
        check_brain_name(name)
        config = ev.settings(msgspec.structs.asdict(config)) if config else ev.BrainConfig()
        screening.name(name, config.sensitive_policy, "brain name")
        brain_id = uuid.uuid4().hex
        self.log.write(lambda w: self.register(w, name, brain_id, config))
        return self.brain(name)

    def register(self, w: Writer, name: str, brain_id: str, config: ev.BrainConfig) -> None:
        """Register a brain and append its creation, in the write `w`."""
        if name in w.brains():
            raise BrainExistsError(f"brain {name!r} already exists")
        w.register_brain(name, brain_id)
        body = ev.BrainCreated(name=name, config=config)
        w.append(brain_id, body, t_us=self.now(), policy=config.sensitive_policy)

    def brain_to_fill(self, name: str | None = None) -> Brain:
        """A brain to import into: the one of that name, or a new one that exists only once its
        first write commits, so a refused import leaves no empty brain behind."""
        name = check_brain_name(name or self.current)
        if name in self._brains or name in self.brain_names() or not self.create:
            return self.brain(name)
        screening.name(name, ev.BrainConfig().sensitive_policy, "brain name")
        brain = Brain(self, uuid.uuid4().hex, name, registered=False)
        self._brains[name] = brain
        return brain

    def brain(self, name: str | None = None, *, create: bool = True) -> Brain:
        """A brain by name (default: the current one), created on first use if `create` (and
        the store was not opened with `create=False`)."""
        name = check_brain_name(name or self.current)
        cached = self._brains.get(name)
        if cached is not None:
            return cached
        brain_id = self.brain_names().get(name)
        if brain_id is None:
            if not (create and self.create) or self.read_only:
                raise NotFoundError(f"no brain named {name!r}")
            try:
                return self.create_brain(name)
            except BrainExistsError:  # created by another process meanwhile
                brain_id = self.brain_names()[name]
        brain = Brain(self, brain_id, name)
        self._brains[name] = brain
        return brain

    def opened(self) -> dict[str, Brain]:
        """The brains this store has opened (each holds a projection), by name."""
        return dict(self._brains)

    def refresh(self) -> dict[str, int]:
        """Fold into every brain this store has open what has been committed since (by other
        processes or servers), and say the seq each one is at. A server holding projections
        calls it when the log tells of a commit, so its next read has nothing left to fold.
        A brain another process deleted (or deleted and made again) is let go unclosed: closing
        would write its pending reinforcement into a log that is gone."""
        registered = self.brain_names()
        for name, brain in self.opened().items():
            if registered.get(name) != brain.id:
                del self._brains[name]
        return {name: brain.seq for name, brain in self.opened().items()}

    def info(self) -> dict[str, Any]:
        return {
            "path": self.location,
            "brains": sorted(self.brain_names()),
            "current": self.current,
        }
