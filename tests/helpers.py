"""Shared test helpers (pytest puts this folder on sys.path)."""

from __future__ import annotations

import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

from engine import Store
from engine.clock import DAY_US, to_us
from engine.fold import apply
from engine.projection import Projection


def _installed_nmem() -> str:
    """The `nmem` script installed beside the interpreter running the tests, so the suites run
    without the virtualenv on PATH; a missing one fails those suites loudly instead of skipping."""
    beside = Path(sys.executable).with_name("nmem")
    return str(beside) if beside.exists() else shutil.which("nmem") or "nmem (not installed)"


NMEM = _installed_nmem()


class Clock:
    """A settable clock, so tests can let days pass."""

    def __init__(self) -> None:
        self.t = to_us(datetime(2026, 5, 4, 9, 0, tzinfo=UTC))

    def __call__(self) -> int:
        self.t += 1
        return self.t

    def advance(self, days: float) -> None:
        self.t += int(days * DAY_US)


def replayed(store: Store, brain_id: str, upto: int | None = None) -> Projection:
    """A fresh projection folded event by event from the log (up to seq `upto`): the oracle
    that live state and past views are compared with."""
    p = Projection(brain_id)
    with store.log.reader() as r:
        for env in r.events(brain_id, 0, upto):
            apply(p, env)
    return p
