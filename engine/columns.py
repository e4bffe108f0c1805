"""Growable columns: cheap appends during replay, contiguous arrays for the hot path.

Appends go to a Python list (tens of nanoseconds each); the first read after a batch of
appends moves them into the numpy buffer in one vectorised copy. Replay appends millions of
values and reads rarely; recall reads often and appends never, so both stay fast. A column
may start on a checkpoint's buffer: a read-only one is copied when first written, a private
map (a checkpoint file) is written in place, a page at a time.

Strings live in `TextColumn`s: one UTF-8 blob plus start/end offsets, so a brain of a million
memories holds no million Python string objects and saves and loads as three buffers.
"""

from __future__ import annotations

import mmap
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

# Verifies a column's data once, before its first use, given the column: if the data is
# damaged it raises, or gives the column sound contents (`adopt`).
Check = Callable[[Any], None]

# numpy asks the kernel for huge pages for every array of 4 MiB or more; a column that grows by
# doubling then faults in fresh 2 MiB pages that the kernel compacts memory for (4-5 s of system
# time in a replay of a million memories, more than half the fold's CPU). A buffer this large is
# a plain private anonymous map instead: 4 KiB pages, each made when a row on it is first
# written, and grown in place by mremap (`Column._writable`), which moves pages instead of
# copying them into fresh ones (a shared map would be shmem: dearer faults, and no growth).
_MAPPED_BYTES = 1 << 22


class _Map(mmap.mmap):
    """A column's own private anonymous map: the one kind of buffer that may be resized (a
    checkpoint's file map never is)."""


def _buffer(size: int, dtype: np.dtype[Any]) -> npt.NDArray[Any]:
    """An uninitialised array of `size` rows (zeros, for a mapped one)."""
    nbytes = size * dtype.itemsize
    if nbytes < _MAPPED_BYTES:
        return np.empty(size, dtype=dtype)
    return np.frombuffer(_Map(-1, nbytes, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS), dtype)


_NO_ROWS = np.zeros(0, dtype=np.uint8)


class Column:
    __slots__ = ("_arr", "_check", "_n", "_pending", "dtype")

    def __init__(
        self, dtype: npt.DTypeLike, data: npt.ArrayLike | None = None, check: Check | None = None
    ) -> None:
        self.dtype = np.dtype(dtype)
        self._check = check
        if data is None:
            self._arr: npt.NDArray[Any] = np.empty(64, dtype=self.dtype)
            self._n = 0
        else:
            self._arr = np.asarray(data, dtype=self.dtype)
            self._n = len(self._arr)
        self._pending: list[Any] = []

    def _verify(self) -> None:
        check = self._check
        if check is not None:
            check(self)
            self._check = None

    def adopt(self, other: Column) -> None:
        """Take another column's contents (a repair: the same rows from a replay)."""
        self._arr, self._n, self._pending = other.values, len(other), []
        self._check = None

    def __len__(self) -> int:
        return self._n + len(self._pending)

    def append(self, value: Any) -> None:
        self._pending.append(value)

    def extend(self, values: Iterable[Any]) -> None:
        self._pending.extend(values)

    def extend_array(self, values: npt.NDArray[Any]) -> None:
        """Append a whole array in one copy (what replay uses for link columns)."""
        self._flush()
        need = self._n + len(values)
        self._writable(need)
        self._arr[self._n : need] = values
        self._n = need

    def extend_fill(self, value: Any, k: int) -> None:
        """Append `k` rows of one value, written in place (no temporary array of them)."""
        self._flush()
        need = self._n + k
        self._writable(need)
        self._arr[self._n : need] = value
        self._n = need

    def _writable(self, need: int) -> None:
        """Room for `need` rows in a buffer of our own. A read-only one (a checkpoint) is copied
        at its size when first written; a full one doubles, which keeps appends amortised O(1)
        with few copies (a replay of millions of rows copies each about once); the rows not yet
        written are never touched, so they cost address space, not memory."""
        if self._check is not None:
            self._verify()
        arr = self._arr
        if need <= len(arr) and arr.flags.writeable:
            return
        size = len(arr) if need <= len(arr) else max(need, 2 * len(arr), 64)
        view = arr.base
        if size > len(arr) and isinstance(view, memoryview) and type(view.obj) is _Map:
            mapped = view.obj
            del arr, view
            self._arr = _NO_ROWS  # the last view of the map: now it may move
            try:
                mapped.resize(size * self.dtype.itemsize)
            except BufferError:  # a reader still holds a view of the rows: copy them
                pass
            finally:
                self._arr = arr = np.frombuffer(mapped, self.dtype)
            if len(arr) == size:
                return
        grown = _buffer(size, self.dtype)
        grown[: self._n] = arr[: self._n]
        self._arr = grown

    def _flush(self) -> None:
        pending = self._pending
        if not pending:
            return
        need = self._n + len(pending)
        self._writable(need)
        self._arr[self._n : need] = pending
        self._n = need
        pending.clear()

    @property
    def values(self) -> npt.NDArray[Any]:
        """The live contents (a view: valid until the next append)."""
        if self._check is not None:
            self._verify()
        self._flush()
        return self._arr[: self._n]

    def __getitem__(self, index: int) -> Any:
        if self._check is not None:
            self._verify()
        if self._pending:
            self._flush()
        return self._arr[: self._n][index].item()

    def set(self, index: int, value: Any) -> None:
        self._flush()
        self._writable(self._n)
        self._arr[index] = value

    def set_many(self, rows: npt.NDArray[np.int64], values: Any) -> None:
        """Set many rows at once (one copy-on-write check, one vectorised store)."""
        self._flush()
        self._writable(self._n)
        self._arr[rows] = values


class TextColumn:
    """Strings as one UTF-8 blob and each one's end offset: row i is blob[ends[i-1]:ends[i]],
    so no column of starts is kept (8 bytes a row less, in six columns of every projection).
    A string `set` replaces is kept in `_moved` instead, its old bytes zeroed in the blob:
    edits and erasures are rare, and a checkpoint saves the column gap-free again."""

    __slots__ = ("_blob", "_check", "_ends", "_moved", "_pending")

    def __init__(
        self,
        blob: bytes | memoryview = b"",
        ends: npt.ArrayLike | None = None,
        check: Check | None = None,
    ) -> None:
        self._blob: bytes | bytearray | memoryview = blob  # read-only (a checkpoint) until written
        self._ends = Column(np.int64, ends)
        self._check = check  # of the blob and the ends
        self._moved: dict[int, str] = {}  # rows `set` replaced: their strings
        self._pending: list[str] = []

    def _flush(self) -> npt.NDArray[np.int64]:
        """Move pending strings into the blob (once the data is verified); returns the ends."""
        if self._check is not None:
            self._check(self)
            self._check = None
        if self._pending:
            self._ends.extend_array(self._append(*_utf8(self._pending))[1:])
            self._pending.clear()
        return self._ends.values

    def adopt(self, other: TextColumn) -> None:
        """Take another text column's contents (a repair: the same rows from a replay)."""
        other._flush()
        self._blob, self._ends, self._moved = other._blob, other._ends, other._moved
        self._pending, self._check = [], None

    def __len__(self) -> int:
        return len(self._ends) + len(self._pending)

    def append(self, value: str) -> None:
        self._pending.append(value)

    def extend(self, values: Iterable[str]) -> None:
        """Append many strings, into the blob at once: a replay's million texts are never
        held as Python strings."""
        self._pending.extend(values)
        self._flush()

    def extend_sparse(
        self, total: int, rows: npt.NDArray[np.int64], strings: Sequence[str]
    ) -> None:
        """Append `total` strings: `strings` at these rows (ascending), "" at every other (the
        neurons of a replayed run: only the ones a record creates have a key)."""
        self._flush()
        data, lengths = _utf8(strings)
        if len(rows) != total:
            placed, lengths = lengths, np.zeros(total, dtype=np.int64)
            lengths[rows] = placed
        self._ends.extend_array(self._append(data, lengths)[1:])

    def _append(self, data: bytes, lengths: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """Append encoded strings of these lengths to the blob; returns their offsets (first
        start, then each end). The blob ends where the last row does: nothing else is
        written to it."""
        if not isinstance(self._blob, bytearray):
            self._blob = bytearray(self._blob)
        offsets = np.empty(len(lengths) + 1, dtype=np.int64)
        offsets[0] = len(self._blob)
        np.cumsum(lengths, out=offsets[1:])
        offsets[1:] += offsets[0]
        self._blob += data
        return offsets

    def _spans(self, rows: npt.NDArray[np.int64]) -> tuple[list[int], list[int]]:
        """Start and end of each row's bytes in the blob."""
        ends = self._flush()
        last = ends[rows]
        first = ends[rows - 1]
        first[rows == 0] = 0
        return first.tolist(), last.tolist()

    def __getitem__(self, index: int) -> str:
        return self.pick(np.asarray([index], dtype=np.int64))[0]

    def slice(self, lo: int, hi: int) -> list[str]:
        """Strings lo..hi-1 (decoded in one pass: for scans such as id-prefix lookups)."""
        return self.pick(np.arange(lo, min(hi, len(self)), dtype=np.int64))

    def lengths(self) -> npt.NDArray[np.int64]:
        """Each row's length in bytes."""
        ends = self._flush()
        lengths = np.diff(ends, prepend=np.int64(0))
        for row, value in self._moved.items():
            lengths[row] = len(value.encode())
        return lengths

    def pick(self, rows: npt.NDArray[np.int64]) -> list[str]:
        """The strings at these rows, decoded in one pass."""
        starts, ends = self._spans(rows)
        blob = self._blob
        out = [str(blob[s:e], "utf-8") for s, e in zip(starts, ends, strict=True)]
        if self._moved:
            moved = self._moved
            for i, row in enumerate(rows.tolist()):
                if row in moved:
                    out[i] = moved[row]
        return out

    def set(self, index: int, value: str) -> None:
        """Replace one string; the old bytes are zeroed, not left behind in the blob."""
        (start,), (end,) = self._spans(np.asarray([index], dtype=np.int64))
        if not isinstance(self._blob, bytearray):
            self._blob = bytearray(self._blob)
        self._blob[start:end] = bytes(end - start)
        self._moved[index] = value

    def canonical(self) -> tuple[bytes, npt.NDArray[np.int64]]:
        """The contents as one gap-free blob and its end offsets: equal for equal strings."""
        ends = self._flush()
        if not self._moved:
            return bytes(self._blob[: int(ends[-1]) if len(ends) else 0]), ends.copy()
        parts: list[bytes | bytearray | memoryview] = []
        done = 0
        for row in sorted(self._moved):  # the blob between moved rows, then each moved row
            parts.append(self._blob[done : int(ends[row - 1]) if row else 0])
            parts.append(self._moved[row].encode())
            done = int(ends[row])
        parts.append(self._blob[done : int(ends[-1])])
        return b"".join(parts), np.cumsum(self.lengths())


def _utf8(strings: Sequence[str]) -> tuple[bytes, npt.NDArray[np.int64]]:
    """Strings as one UTF-8 buffer and each one's length in it."""
    joined = "".join(strings)
    if joined.isascii():  # a character is a byte: one encode for all, lengths as they are
        data, lengths = joined.encode(), map(len, strings)
    else:
        parts = [s.encode() for s in strings]
        data, lengths = b"".join(parts), map(len, parts)
    return data, np.fromiter(lengths, np.int64, len(strings))


class Versioned(Column):
    """A mutable column that remembers: every change journals (seq, row, old value), so the
    column as of any earlier sequence is the current one with the later changes undone."""

    __slots__ = ("_by_row", "j_old", "j_row", "j_seq")

    def __init__(
        self, dtype: npt.DTypeLike, data: npt.ArrayLike | None = None, check: Check | None = None
    ) -> None:
        super().__init__(dtype, data, check)
        self.j_seq = Column(np.int64)
        self.j_row = Column(np.int64)
        self.j_old = Column(dtype)
        # the journal sorted by (row, seq), for `at_rows`: (journal, its length, stride, keys,
        # order); rebuilt when the journal grows or is replaced
        self._by_row: tuple[Column, int, int, npt.NDArray[np.int64], npt.NDArray[np.intp]] | None
        self._by_row = None

    def change(self, row: int, value: Any, seq: int) -> None:
        old = self[row]
        if old != value:
            self.j_seq.append(seq)
            self.j_row.append(row)
            self.j_old.append(old)
            self.set(row, value)

    def change_many(
        self, rows: npt.NDArray[np.int64], values: npt.NDArray[Any], seq: int, *, add: bool = False
    ) -> None:
        """`change(row, value, seq)` for each pair in order (with `add`: to the current value
        plus `value`, an integer sum held within the column's range: a count saturates), in
        array passes: the same values and journal (a reinforcement changes thousands of
        links). A row given k times takes k rounds over a copy of the rows, each round over
        rows given once, so a repeat changes from what its predecessor left."""
        if not len(rows):
            return
        self._flush()
        self._writable(self._n)
        arr = self._arr[: self._n]
        order = np.argsort(rows, kind="stable")
        ranked = rows[order]
        heads = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])
        group, rank = np.empty_like(order), np.empty_like(order)
        group[order] = np.repeat(np.arange(len(heads)), np.diff(np.r_[heads, len(rows)]))
        rank[order] = np.arange(len(rows)) - heads[group[order]]
        current = arr[ranked[heads]]
        moved, olds = np.zeros(len(rows), dtype=bool), np.empty(len(rows), dtype=arr.dtype)
        for k in range(int(rank.max()) + 1):
            at = np.flatnonzero(rank == k)  # pairs in order, a row at most once
            g = group[at]
            old = current[g]
            new = old + values[at] if add else values[at]
            if add and arr.dtype.kind in "iu":
                info = np.iinfo(arr.dtype)
                new = np.clip(new, info.min, info.max)
            moved[at] = changed = old != new
            olds[at] = old
            current[g[changed]] = new[changed]
        arr[ranked[heads]] = current
        at = np.flatnonzero(moved)
        self.j_seq.extend_fill(seq, len(at))
        self.j_row.extend_array(rows[at])
        self.j_old.extend_array(olds[at])

    def at(self, seq: int, n: int) -> npt.NDArray[Any]:
        """The first `n` rows as they were after event `seq`."""
        current = self.values[:n]
        seqs = self.j_seq.values
        first = int(np.searchsorted(seqs, seq, side="right"))
        if first == len(seqs):
            return current
        rows = self.j_row.values[first:]
        olds = self.j_old.values[first:]
        inside = rows < n
        rows, olds = rows[inside], olds[inside]
        uniq, oldest = np.unique(rows, return_index=True)  # the first change after seq wins
        out = current.copy()
        out[uniq] = olds[oldest]
        return out

    def at_rows(self, seq: int, rows: npt.NDArray[np.int64]) -> npt.NDArray[Any]:
        """Only these rows as they were after event `seq`: cheap when the rows are few. Each
        row's first change after `seq` is found by a binary search of the journal sorted by
        (row, seq), so the cost follows the rows asked for, not the changes made since."""
        out = self.values[rows]
        seqs = self.j_seq.values
        if not len(seqs) or seqs[-1] <= seq:
            return out
        stride, keys, order = self._journal_by_row()
        probe = rows.astype(np.int64) * stride + seq
        at = np.searchsorted(keys, probe, side="right")  # the first change after seq, if any
        hit = at < len(keys)
        hit[hit] = keys[at[hit]] < probe[hit] - seq + stride  # ... and it is of this row
        if hit.any():
            out = out.copy()
            out[hit] = self.j_old.values[order[at[hit]]]
        return out

    def _journal_by_row(self) -> tuple[int, npt.NDArray[np.int64], npt.NDArray[np.intp]]:
        """The journal as keys row * stride + seq in sorted order (stride: past every seq),
        and where each key's entry is in the journal."""
        cached = self._by_row
        if cached is not None and cached[0] is self.j_seq and cached[1] == len(self.j_seq):
            return cached[2], cached[3], cached[4]
        seqs, rows = self.j_seq.values, self.j_row.values
        stride = int(seqs[-1]) + 1
        if (int(rows.max()) + 1) * stride >= 2**63:
            raise OverflowError("journal too large for a row-and-seq key")
        keys = rows * stride + seqs
        order = np.argsort(keys, kind="stable")
        self._by_row = (self.j_seq, len(self.j_seq), stride, keys[order], order)
        return stride, keys[order], order

    def forget_rows(self, rows: npt.NDArray[np.int64], restore: bool) -> None:
        """Drop the journal of these rows (a hard erase); with `restore`, first put back the
        value each row had before its first journaled change."""
        jrows = self.j_row.values
        mine = np.isin(jrows, rows)
        if not mine.any():
            return
        if restore:
            hit = np.flatnonzero(mine)
            uniq, oldest = np.unique(jrows[hit], return_index=True)
            arr = self.values
            self._writable(len(arr))
            self._arr[uniq] = self.j_old.values[hit[oldest]]
        keep = ~mine
        self.j_seq = Column(np.int64, self.j_seq.values[keep])
        self.j_row = Column(np.int64, jrows[keep])
        self.j_old = Column(self.dtype, self.j_old.values[keep])


class VersionedText(TextColumn):
    """A text column whose changes are journaled like `Versioned` (old strings kept)."""

    __slots__ = ("journal",)

    def __init__(self, *parts: Any) -> None:
        super().__init__(*parts)
        self.journal: list[tuple[int, int, str]] = []  # (seq, row, old text)

    def change(self, row: int, value: str, seq: int) -> None:
        old = self[row]
        if old != value:
            self.journal.append((seq, row, old))
            self.set(row, value)

    def get_at(self, row: int, seq: int) -> str:
        return self.pick_at(np.asarray([row], dtype=np.int64), seq)[0]

    def pick_at(self, rows: npt.NDArray[np.int64], seq: int) -> list[str]:
        """The strings at these rows as of `seq`, today's decoded in one pass."""
        out = self.pick(rows)
        if not self.journal:
            return out
        then: dict[int, str] = {}
        for s, r, old in self.journal:  # in seq order: the first change after seq holds it
            if s > seq:
                then.setdefault(r, old)
        return [then.get(r, text) for r, text in zip(rows.tolist(), out, strict=True)]

    def forget_row(self, row: int) -> None:
        self.journal = [entry for entry in self.journal if entry[1] != row]
