"""Reading a moment typed by a person: ISO time, "3 days ago", "yesterday", "now"."""

from __future__ import annotations

from datetime import datetime

from .clock import from_us, to_us
from .errors import InputError
from .extraction.temporal import parse_moment


def parse_when(value: str | datetime, now_us: int) -> int:
    """Microseconds since the epoch for `value`, read relative to `now_us`."""
    if isinstance(value, datetime):
        return to_us(value)
    parsed = parse_moment(str(value), from_us(now_us).astimezone())
    if parsed is None:
        raise InputError(
            f"cannot read {value!r} as a time: use an ISO time (2026-03-01T12:00) "
            "or a phrase like '3 days ago'"
        )
    return to_us(parsed)
