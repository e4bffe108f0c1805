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
MAX_DAYS = 36_500  # a span of days longer than a century is a typo (and would overflow µs)


def days_us(days: object, what: str) -> int:
    """A positive number of days below `MAX_DAYS`, in µs; anything else (0, negative, NaN,
    infinite, huge, not a number) is refused naming `what`."""
    from .errors import InputError

    if isinstance(days, bool) or not isinstance(days, int | float) or not 0 < days < MAX_DAYS:
        raise InputError(f"{what} must be a positive number of days below {MAX_DAYS}, got {days!r}")
    return int(days * DAY_US)
