"""Journaled columns: reading a few rows as of a past seq (the sorted-journal lookup) agrees
with reading the whole column as of that seq, through appends, changes and hard erases. Text
columns hold what was appended, whether a batch is all ASCII (one encode) or not, whole or
sparse."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import idindex
from engine.columns import Column, TextColumn, Versioned, VersionedText
from engine.idindex import IdIndex

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
    """Appended as a batch, or as a batch's non-empty strings at their rows (`extend_sparse`),
    with strings replaced between batches: every read (one row, rows picked, lengths, the
    canonical form) gives what was appended or set, and a replaced string's bytes are gone
    from the blob."""
    col, plain = TextColumn(), []
    for i, (batch, sparse) in enumerate(batches):
        if sparse:
            rows = [i for i, s in enumerate(batch) if s]
            col.extend_sparse(len(batch), np.asarray(rows, np.int64), [batch[i] for i in rows])
        else:
            col.extend(batch)
        plain.extend(batch)
        for share, value in changes[i::2] if plain else []:
            row = int(share * len(plain))
            col.set(row, value)
            plain[row] = value
    assert [col[i] for i in range(len(plain))] == plain
    picked = np.arange(len(plain) - 1, -1, -1, dtype=np.int64)
    assert col.pick(picked) == plain[::-1]
    assert col.lengths().tolist() == [len(s.encode()) for s in plain]
    blob, ends = col.canonical()
    assert blob == "".join(plain).encode()
    assert ends.tolist() == np.cumsum([len(s.encode()) for s in plain], dtype=np.int64).tolist()
    kept = "".join(s for row, s in enumerate(plain) if row not in col._moved)
    assert bytes(col._blob).replace(b"\0", b"") == kept.encode().replace(b"\0", b"")


@settings(max_examples=150, deadline=None)
@given(
    first=st.lists(st.text(alphabet="ab", max_size=2), min_size=1, max_size=5),
    changes=st.lists(
        st.tuples(st.floats(0, 0.999), st.text(alphabet="abc", max_size=2), st.integers(0, 2)),
        max_size=12,
    ),
    rows=st.lists(st.floats(0, 0.999), max_size=8),
)
def test_texts_picked_as_of_a_seq_are_the_texts_the_history_had_then(
    first: list[str], changes: list[tuple[float, str, int]], rows: list[float]
) -> None:
    """`pick_at` (one pass over many rows, repeats allowed) against a replay of the changes."""
    col, seq, history = VersionedText(), 1, [list(first)]
    col.extend(first)
    for share, value, skip in changes:
        seq += skip + 1
        row = int(share * len(first))
        col.change(row, value, seq)
        while len(history) < seq:
            history.append(list(history[-1]))
        history[-1][row] = value
    picked = np.asarray([int(share * len(first)) for share in rows], dtype=np.int64)
    for at in range(1, seq + 2):
        then = history[min(at, len(history)) - 1]
        assert col.pick_at(picked, at) == [then[r] for r in picked.tolist()]
        assert [col.get_at(r, at) for r in range(len(first))] == then


@settings(max_examples=150, deadline=None)
@given(
    batches=st.lists(st.lists(st.text(alphabet="abc", max_size=3), max_size=6), max_size=8),
    probes=st.lists(st.text(alphabet="abcd", max_size=3), max_size=10),
    collide=st.booleans(),
)
def test_the_id_index_answers_as_a_dict_would(
    batches: list[list[str]], probes: list[str], collide: bool
) -> None:
    """Batches of ids are added (refused whole if one is known), merged into the sorted
    arrays every few ids, and looked up like a dict; with `collide`, ids share hashes."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(idindex, "_TAIL", 3)
        patch.setattr(idindex, "_hash", len if collide else hash)
        _index_against_dict(batches, probes)


def _index_against_dict(batches: list[list[str]], probes: list[str]) -> None:
    col, plain = TextColumn(), {}
    index = IdIndex(col)
    for batch in batches:
        new = dict(zip(batch, range(len(plain), len(plain) + len(batch)), strict=False))
        if len(new) < len(batch):
            continue  # a run repeating an id is refused by the fold before the index
        known = not plain.keys().isdisjoint(new)
        assert index.add(new) is not known
        if not known:
            plain.update(new)
            col.extend(new)
    for fid in [*plain, *probes]:
        assert index.get(fid) == plain.get(fid)
        assert (fid in index) == (fid in plain)
    assert len(index) == len(plain)
    rebuilt = IdIndex.of(col)
    assert rebuilt is not None
    assert all(rebuilt[fid] == row for fid, row in plain.items())
    col.extend(list(plain)[:1])
    assert IdIndex.of(col) is None or not plain  # an id twice: no index


# pairs of (row, value) a batch changes, rows repeating; values as a column of each dtype takes
_pairs = st.lists(st.tuples(st.integers(0, 5), st.integers(-3, 3)), max_size=20)


@settings(max_examples=200, deadline=None)
@given(
    batches=st.lists(st.tuples(_pairs, st.booleans()), max_size=5),
    weights=st.lists(st.floats(-1, 1, width=32) | st.floats(-1, 1) | st.just(-0.0), max_size=20),
)
def test_many_changes_at_once_are_the_changes_one_by_one(
    batches: list[tuple[list[tuple[int, int]], bool]], weights: list[float]
) -> None:
    """`change_many` leaves the same bytes in the column and its journal as `change` called
    pair by pair: counts added (`add`), times and weights (float32, rounding and -0.0) set."""
    for dtype in (np.int32, np.int64, np.float32):
        one, many = Versioned(dtype, np.arange(6) % 3), Versioned(dtype, np.arange(6) % 3)
        for seq, (pairs, counted) in enumerate(batches, start=1):
            rows = np.asarray([r for r, _ in pairs], dtype=np.int64)
            add = counted and dtype is not np.float32
            if dtype is np.float32:
                given = (weights * len(pairs))[: len(pairs)] if weights else [0.5] * len(pairs)
                values = np.asarray(given, dtype=np.float64)
            else:
                values = np.asarray([v for _, v in pairs], dtype=np.int64)
            for row, value in zip(rows.tolist(), values.tolist(), strict=True):
                one.change(row, one[row] + value if add else value, seq)
            many.change_many(rows, values, seq, add=add)
            for a, b in ((one, many), (one.j_seq, many.j_seq), (one.j_row, many.j_row)):
                assert a.values.tobytes() == b.values.tobytes()
            assert one.j_old.values.tobytes() == many.j_old.values.tobytes()


def test_a_count_at_the_top_of_its_column_saturates_and_journals_only_real_changes() -> None:
    col = Versioned(np.uint16, [2**16 - 2, 0, 2**16 - 1])
    col.change_many(np.asarray([0, 1, 0, 2, 0]), np.asarray([1, 1, 1, 5, 1]), 1, add=True)
    assert col.values.tolist() == [2**16 - 1, 1, 2**16 - 1]
    assert col.j_row.values.tolist() == [0, 1]  # the repeats and the full row changed nothing
    assert col.j_old.values.tolist() == [2**16 - 2, 0]


def test_a_column_grown_past_the_mapped_size_keeps_its_rows_and_takes_writes() -> None:
    """Buffers of 4 MiB or more are anonymous maps (no huge pages): same rows, still writable."""
    col = Column(np.int64)
    parts = [np.arange(k, k + 100_000, dtype=np.int64) for k in range(0, 1_200_000, 100_000)]
    for part in parts:
        col.extend_array(part)
    col.extend([7, 8])
    expected = np.concatenate([*parts, np.array([7, 8])])
    assert isinstance(col.values.base.base, memoryview)  # on a map of its own, not numpy's heap
    np.testing.assert_array_equal(col.values, expected)
    col.set_many(np.array([0, 1_199_999], dtype=np.int64), np.array([-1, -2]))
    expected[[0, 1_199_999]] = [-1, -2]
    np.testing.assert_array_equal(col.values, expected)


@settings(max_examples=40, deadline=None)
@given(steps=st.lists(st.tuples(st.integers(0, 400_000), st.booleans()), min_size=1, max_size=7))
def test_a_mapped_column_grown_in_place_keeps_rows_and_the_views_readers_hold(
    steps: list[tuple[int, bool]],
) -> None:
    """A map of its own grows by mremap when no reader holds a view of it, by a copy when one
    does (the view keeps the rows it showed); either way the column holds every row."""
    col, total, held = Column(np.int64), 0, []
    for k, hold in steps:
        col.extend_array(np.arange(total, total + k, dtype=np.int64))
        total += k
        if hold:
            view = col.values
            held.append((view, view.copy()))
    np.testing.assert_array_equal(col.values, np.arange(total, dtype=np.int64))
    for view, seen in held:
        np.testing.assert_array_equal(view, seen)
