"""Time as the engine keeps it: integer microseconds since the epoch, UTC.

Datetimes at the edges are always timezone-aware; a naive datetime from a caller means the
caller's local time (what a person typing "2026-03-01 12:00" means), never silently UTC.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def now_us() -> int:
    return time.time_ns() // 1000


def aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo is not None else dt.astimezone()


def to_us(dt: datetime) -> int:
    delta = aware(dt) - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1_000_000, tz=UTC)


DAY_US = 86_400 * 1_000_000
