"""The benchmark's own arithmetic: the encode rate of the last 10% of a load."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools" / "bench"))
from bench import tail_rate


def test_a_single_batch_is_its_own_tail() -> None:
    assert tail_rate([(1000, 0.5)], 100) == 2000


def test_the_tail_is_the_last_batches_holding_a_tenth() -> None:
    batches = [(1000, 1.0)] * 9 + [(1000, 0.25)]
    assert tail_rate(batches, 1000) == 4000
    assert tail_rate(batches, 1500) == 2000 / 1.25
