"""Memory id -> row, without a Python object per memory.

A dict of a million ids held each id as a string, its row as an int and an entry in the
table: about 160 bytes a memory, 160 MB at a million, kept by every projection (a replay
makes a second). Here most ids are a sorted array of their hashes beside an array of rows
(12 bytes a memory); the ids added since the last merge stay in a small dict. A hash is only
a candidate: a lookup compares the id stored at each row with that hash (`TextColumn`), so two
ids that hash alike are told apart. Hashes are Python's own: this index is never saved.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from .columns import TextColumn

_TAIL = 1 << 16  # ids kept in the dict before a merge (or an eighth of the index, if more)
_CHUNK = 1 << 16  # ids decoded at a time when the index is built from a column
_hash = hash  # a name of its own, so tests can make ids collide


class IdIndex:
    __slots__ = ("_hashes", "_ids", "_rows", "_tail")

    def __init__(self, ids: TextColumn) -> None:
        self._ids = ids  # the id of every row (rows in the index are rows of this column)
        self._hashes: npt.NDArray[np.int64] = np.empty(0, dtype=np.int64)
        self._rows: npt.NDArray[np.int32] = np.empty(0, dtype=np.int32)
        self._tail: dict[str, int] = {}

    @classmethod
    def of(cls, ids: TextColumn) -> IdIndex | None:
        """The index of a column's ids, or None if two of them are equal."""
        index, n = cls(ids), len(ids)
        parts = [
            np.fromiter(map(_hash, ids.slice(lo, lo + _CHUNK)), np.int64, min(_CHUNK, n - lo))
            for lo in range(0, n, _CHUNK)
        ]
        hashes = np.concatenate(parts) if parts else index._hashes
        order = np.argsort(hashes, kind="stable")
        index._hashes, index._rows = hashes[order], order.astype(np.int32)
        alike = np.flatnonzero(index._hashes[1:] == index._hashes[:-1])
        if len(alike):  # equal hashes: the same id twice, or (rarely) two that hash alike
            rows = np.unique(np.concatenate((index._rows[alike], index._rows[alike + 1])))
            texts = ids.pick(rows.astype(np.int64))
            if len(set(texts)) < len(texts):
                return None
        return index

    def __len__(self) -> int:
        return len(self._hashes) + len(self._tail)

    def get(self, fid: str) -> int | None:
        row = self._tail.get(fid)
        return row if row is not None else self._merged(fid)

    def __getitem__(self, fid: str) -> int:
        row = self.get(fid)
        if row is None:
            raise KeyError(fid)
        return row

    def __contains__(self, fid: object) -> bool:
        return isinstance(fid, str) and self.get(fid) is not None

    def _merged(self, fid: str) -> int | None:
        hashes, key = self._hashes, _hash(fid)
        at = int(np.searchsorted(hashes, key))
        while at < len(hashes) and hashes[at] == key:
            row = int(self._rows[at])
            if self._ids[row] == fid:
                return row
            at += 1
        return None

    def add(self, new: dict[str, int]) -> bool:
        """Add ids not in the index yet (rows numbered past every row it has); False, with
        nothing added, if one of them is in it already."""
        if len(self._tail) >= max(_TAIL, len(self._hashes) // 8):
            self._merge()
        if not self._tail.keys().isdisjoint(new):
            return False
        if len(self._hashes) and new:
            probe = np.fromiter(map(_hash, new), np.int64, len(new))
            at = np.minimum(np.searchsorted(self._hashes, probe), len(self._hashes) - 1)
            alike = np.flatnonzero(self._hashes[at] == probe)
            if len(alike) and any(self._merged(fid) is not None for fid in _at(new, alike)):
                return False
        self._tail.update(new)
        return True

    def _merge(self) -> None:
        """Move the dict's ids into the sorted arrays, in one pass over them."""
        tail = self._tail
        hashes = np.fromiter(map(_hash, tail), np.int64, len(tail))
        rows = np.fromiter(tail.values(), np.int32, len(tail))
        order = np.argsort(hashes, kind="stable")
        hashes, rows = hashes[order], rows[order]
        at = np.searchsorted(self._hashes, hashes)
        self._hashes = np.insert(self._hashes, at, hashes)
        self._rows = np.insert(self._rows, at, rows)
        self._tail = {}


def _at(new: dict[str, int], positions: npt.NDArray[np.intp]) -> Iterable[str]:
    """The keys of `new` at these positions (in insertion order)."""
    wanted = set(positions.tolist())
    return (fid for i, fid in enumerate(new) if i in wanted)
