"""Freshness bands, their warnings, and the vectorised histogram used by stats."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from engine import freshness


def test_bands_and_warnings_follow_the_original() -> None:
    names = [freshness.band(d).name for d in (2, 15, 60, 180, 400)]
    assert names == ["fresh", "recent", "aging", "stale", "ancient"]
    assert freshness.warning(2) is None
    assert freshness.warning(15) is None
    assert (freshness.warning(60) or "").startswith("[~]")
    assert "STALE" in (freshness.warning(180) or "")
    assert "ANCIENT" in (freshness.warning(800) or "")
    assert freshness.format_age(0.2) == "today"
    assert freshness.format_age(1.5) == "yesterday"
    assert freshness.format_age(20) == "2 weeks ago"
    assert freshness.format_age(800) == "2 years ago"


@given(st.lists(st.floats(min_value=0, max_value=5000), max_size=50))
def test_histogram_counts_what_band_says(ages: list[float]) -> None:
    counts = freshness.histogram(np.asarray(ages, dtype=np.float64))
    expected = {b.name: 0 for b in freshness.BANDS}
    for days in ages:
        expected[freshness.band(days).name] += 1
    assert counts == expected
