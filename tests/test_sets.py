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
    got = sets.unique(x)
    assert got.dtype == x.dtype
    assert got.tolist() == np.unique(x).tolist()
    assert sets.isin(x, y).tolist() == np.isin(x, y).tolist()
    assert sets.isin(x, b).tolist() == np.isin(x, b).tolist()  # a list, as filters pass
