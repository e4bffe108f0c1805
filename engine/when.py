"""Reading a time typed by a person: ISO time, "3 days ago", "yesterday 3pm", "3d", "now"."""

from __future__ import annotations

from datetime import datetime

from .clock import from_us, to_us
from .errors import InputError
from .extraction.temporal import parse_period


def parse_span(value: str | datetime, now_us: int, prefer: str = "past") -> tuple[int, int]:
    """The period `value` names, [start, end) in µs (a moment: start == end), read relative
    to `now_us`. `prefer` "future" reads bare durations and times of day ahead (expiries)."""
    if isinstance(value, datetime):
        t = to_us(value)
        return t, t
    parsed = parse_period(str(value), from_us(now_us).astimezone(), prefer)
    if parsed is None:
        raise InputError(
            f"cannot read {value!r} as a time: use an ISO time (2026-03-01T12:00), a date "
            "(12/01/2026), or a phrase like '3 days ago', '3d', 'yesterday 3pm'"
        )
    return to_us(parsed[0]), to_us(parsed[1])


def parse_when(value: str | datetime, now_us: int, prefer: str = "past") -> int:
    """Microseconds since the epoch for `value`: the moment it names, or its period's start."""
    return parse_span(value, now_us, prefer)[0]
