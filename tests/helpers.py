"""Shared test helpers (pytest puts this folder on sys.path)."""

from __future__ import annotations

from datetime import UTC, datetime

from engine.clock import DAY_US, to_us


class Clock:
    """A settable clock, so tests can let days pass."""

    def __init__(self) -> None:
        self.t = to_us(datetime(2026, 5, 4, 9, 0, tzinfo=UTC))

    def __call__(self) -> int:
        self.t += 1
        return self.t

    def advance(self, days: float) -> None:
        self.t += int(days * DAY_US)
