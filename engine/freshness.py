"""How old a memory's information is, in the original's bands, with its warnings.

Age is counted from the memory's event time (when the thing happened), not from when it was
stored: "we use PostgreSQL 13", remembered today about last year, is already a year old.
"""

from __future__ import annotations

import msgspec
import numpy as np
import numpy.typing as npt

from .clock import DAY_US


class Band(msgspec.Struct, frozen=True):
    name: str
    below_days: float
    score: float
    indicator: str


BANDS: tuple[Band, ...] = (
    Band("fresh", 7, 1.0, "[+]"),
    Band("recent", 30, 0.8, "[+]"),
    Band("aging", 90, 0.5, "[~]"),
    Band("stale", 365, 0.3, "[!]"),
    Band("ancient", float("inf"), 0.1, "[!!]"),
)


def age_days(event_us: int, now_us: int) -> float:
    return max(now_us - event_us, 0) / DAY_US


def band(days: float) -> Band:
    return next(b for b in BANDS if days < b.below_days)


def format_age(days: float) -> str:
    whole = int(days)
    if whole == 0:
        return "today"
    if whole == 1:
        return "yesterday"
    if whole < 14:
        return f"{whole} days ago"
    if whole < 60:
        return f"{whole // 7} weeks ago"
    if whole < 730:
        return f"{whole // 30} months ago"
    return f"{whole // 365} years ago"


def warning(days: float) -> str | None:
    """The original's warning for information this old, or None while it is recent."""
    b = band(days)
    if b.name == "aging":
        return f"[~] {format_age(days)} - information may have changed"
    if b.name == "stale":
        return f"[!] STALE: {format_age(days)} - verify before relying on it"
    if b.name == "ancient":
        return f"[!!] ANCIENT: {format_age(days)} ({days / 365:.1f} years) - likely outdated"
    return None


def histogram(ages_days: npt.NDArray[np.float64]) -> dict[str, int]:
    """How many memories fall in each band (vectorised: stats over a large brain)."""
    edges = np.asarray([b.below_days for b in BANDS[:-1]])
    counts = np.bincount(np.searchsorted(edges, ages_days, side="right"), minlength=len(BANDS))
    return {b.name: int(c) for b, c in zip(BANDS, counts, strict=True)}
