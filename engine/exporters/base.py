"""The two small protocols every export format implements, and the options they take.

A *file* format (snapshot JSON/msgpack, history JSONL/msgpack, GraphML) renders one view of a
brain as a stream of bytes: the CLI writes it to a file or standard output, the HTTP server
streams it. A *target* (SQLite, Neo4j, FalkorDB, a Cypher file) is a projection of the brain
kept in another store: it holds its own position (the last seq it applied), so an export
resumes exactly, is incremental on re-run, and can follow a live brain (`engine.exporters.sync`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ..reads import BrainView
    from .rows import Batch

Progress = Callable[[int, int], None]  # (done, total)


@dataclass(frozen=True, slots=True)
class FileOptions:
    """`after`: histories continue after this seq; `exclude_sensitive`: snapshots leave out
    memories with sensitive content; `progress` is told how far a long export is; `name`: the
    name of the file written, without its suffix (original-sqlite: the brain's id there)."""

    after: int = 0
    exclude_sensitive: bool = False
    progress: Progress | None = None
    name: str | None = None


class FileFormat(Protocol):
    """A view rendered as bytes (what it holds and its media type: the registry's `Format`).
    `chunks` fills `summary` (counts) as it goes."""

    def chunks(
        self, view: BrainView, options: FileOptions, summary: dict[str, Any]
    ) -> Iterator[bytes]: ...


@dataclass(frozen=True, slots=True)
class Position:
    """Where a target stands for one brain: the last seq it applied and the moment its
    time-dependent parts (expiry, the weights' decay) were evaluated at (µs)."""

    brain_id: str
    brain_name: str
    seq: int
    time: int


class Target(Protocol):
    """A projection of brains kept in another store, written in batches. `apply` writes a
    batch and the new position together (one transaction where the store has them; else
    idempotent writes with the position last), so a killed export resumes without
    duplicates or gaps."""

    name: str
    wants_events: bool  # keeps a table of the events themselves (SQLite)
    append_only: bool  # cannot take anything back out (a file of statements): see `restart`

    def position(self, brain_id: str) -> Position | None: ...

    def not_erased(self, brain_id: str, memory_ids: Sequence[str]) -> list[str]:
        """Which of these memories the target still holds with their content."""
        ...

    def apply(self, batch: Batch) -> None: ...

    def restart(self) -> None:
        """Append-only targets: forget everything and start again (an erase needs it)."""
        ...

    def close(self) -> None: ...


@contextmanager
def replaced(path: Path, *, text: bool = False) -> Iterator[IO[Any]]:
    """A file written under a temporary name beside it and renamed over `path` once complete:
    a failed or killed export leaves no half-written file (the umask applies)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        with (
            os.fdopen(fd, "w", encoding="utf-8", newline="") if text else os.fdopen(fd, "wb") as fh
        ):
            yield fh
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def one_line(exc: BaseException) -> str:
    """A driver's error message on one line (some span several)."""
    return " ".join(str(exc).split())
