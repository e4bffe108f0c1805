"""Journaled columns: reading a few rows as of a past seq (the sorted-journal lookup) agrees
with reading the whole column as of that seq, through appends, changes and hard erases. Text
columns hold what was appended, whether a batch is all ASCII (one encode) or not, whole or
sparse."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.columns import TextColumn, Versioned

# (row as a share of the rows that exist, new value, seqs to skip before it); erase a row
step = st.one_of(
    st.tuples(st.just("change"), st.floats(0, 0.999), st.integers(-3, 3), st.integers(0, 2)),
    st.tuples(st.just("append"), st.integers(-3, 3)),
    st.tuples(st.just("erase"), st.floats(0, 0.999)),
)


@settings(max_examples=150, deadline=None)
@given(steps=st.lists(step, max_size=60), probes=st.lists(st.integers(0, 70), max_size=8))
def test_rows_as_of_a_seq_are_the_whole_column_as_of_it(
    steps: list[tuple], probes: list[int]
) -> None:
    col = Versioned(np.int64, np.arange(4))
    seq = 1
    for kind, *args in steps:
        if kind == "append":
            col.append(args[0])
        elif kind == "erase":
            col.forget_rows(np.asarray([int(args[0] * len(col))]), restore=True)
        else:
            share, value, skip = args
            seq += skip
            col.change(int(share * len(col)), value, seq)
        # a read between changes builds the sorted journal that the next change makes stale
        for at in probes:
            rows = np.arange(len(col), dtype=np.int64)[::-1]
            assert col.at_rows(at, rows).tolist() == col.at(at, len(col))[rows].tolist()
    rng = np.random.default_rng(len(steps))
    for at in [0, *probes, seq]:
        rows = rng.integers(0, len(col), size=10)
        assert col.at_rows(at, rows).tolist() == col.at(at, len(col))[rows].tolist()


@settings(max_examples=150, deadline=None)
@given(
    batches=st.lists(
        st.tuples(
            st.lists(st.one_of(st.text(max_size=8), st.from_regex(r"[ -~]{0,8}", fullmatch=True))),
            st.booleans(),
        ),
        max_size=6,
    ),
    changes=st.lists(st.tuples(st.floats(0, 0.999), st.text(max_size=8)), max_size=4),
)
def test_a_text_column_holds_what_was_appended(
    batches: list[tuple[list[str], bool]], changes: list[tuple[float, str]]
) -> None:
    """Appended as a batch, or as a batch's non-empty strings at their rows (`extend_sparse`)."""
    col, plain = TextColumn(), []
    for batch, sparse in batches:
        if sparse:
            rows = [i for i, s in enumerate(batch) if s]
            col.extend_sparse(len(batch), np.asarray(rows, np.int64), [batch[i] for i in rows])
        else:
            col.extend(batch)
        plain.extend(batch)
    for share, value in changes if plain else []:
        row = int(share * len(plain))
        col.set(row, value)
        plain[row] = value
    assert [col[i] for i in range(len(plain))] == plain
    blob, ends = col.canonical()
    assert blob == "".join(plain).encode()
    assert ends.tolist() == np.cumsum([len(s.encode()) for s in plain], dtype=np.int64).tolist()
