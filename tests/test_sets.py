"""engine.sets answers as numpy's set operations do (which it stands in for on the recall
path, so that a fresh process does not import numpy.ma)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import sets

ids = st.lists(st.integers(-(2**40), 2**40) | st.integers(0, 12), max_size=40)


@settings(max_examples=300, deadline=None)
@given(a=ids, b=ids)
def test_unique_and_isin_are_numpys(a: list[int], b: list[int]) -> None:
    x, y = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    for runs in (False, True):
        got = sets.unique(x, runs=runs)
        assert got.dtype == x.dtype
        assert got.tolist() == np.unique(x).tolist()
    assert sets.isin(x, y).tolist() == np.isin(x, y).tolist()
    assert sets.isin(x, b).tolist() == np.isin(x, b).tolist()  # a list, as filters pass


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(st.integers(0, 6) | st.floats(-1e6, 1e6), max_size=600),
    k=st.integers(1, 700),
)
def test_top_is_the_k_largest_the_last_of_equals(values: list[float], k: int) -> None:
    """`top`'s choice is a sort's: by value, of equal values the last positions; with
    `ties`, every position whose value equals the k-th largest joins (few distinct values,
    as spreading gives, make the sample's threshold take many)."""
    x = np.asarray(values, dtype=np.float64)
    best = sorted(range(len(x)), key=lambda i: (-x[i], -i))[:k]
    assert sets.top(x, k).tolist() == sorted(best)
    kth = x[best[-1]] if best else 0.0
    assert sets.top(x, k, ties=True).tolist() == (
        [i for i in range(len(x)) if x[i] >= kth] if k < len(x) else list(range(len(x)))
    )
