"""Log backends behind one protocol (`base.py`); `open_log` picks one from a store's location:
a `postgresql://` URL is the PostgreSQL backend, anything else a directory for the embedded
LMDB one. A backend's module (and its driver) is imported only when a store of its kind is
opened, so `nmem` starts without either."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from .base import CheckpointStore, LogStore, Reader, Writer

__all__ = ["CheckpointStore", "LogStore", "Reader", "Writer", "is_url", "open_log"]

_URL_SCHEMES = ("postgresql://", "postgres://")


def is_url(location: str | Path) -> bool:
    return isinstance(location, str) and location.startswith(_URL_SCHEMES)


def open_log(location: str | Path, *, create: bool = True, map_size: int | None = None) -> LogStore:
    """The log store at `location`. With `create=False` nothing is created: a missing store
    raises NotFoundError."""
    if is_url(location):
        try:
            from .postgres import PostgresLogStore
        except ImportError as exc:
            raise InputError(
                f"a PostgreSQL store needs psycopg ({exc}): pip install 'neuralmemory[postgres]'"
            ) from None
        return PostgresLogStore(str(location), create=create)
    from .lmdb import DEFAULT_MAP_SIZE, LmdbLogStore

    return LmdbLogStore(Path(location), create=create, map_size=map_size or DEFAULT_MAP_SIZE)
