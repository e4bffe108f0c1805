"""Growable numpy columns: cheap appends during replay, contiguous arrays for the hot path.

Appends go to a Python list (tens of nanoseconds each); the first read after a batch of
appends moves them into the numpy buffer in one vectorised copy. Replay appends millions of
values and reads rarely; recall reads often and appends never, so both stay fast.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt


class Column:
    __slots__ = ("_arr", "_n", "_pending", "dtype")

    def __init__(self, dtype: npt.DTypeLike, data: npt.ArrayLike | None = None) -> None:
        self.dtype = np.dtype(dtype)
        arr = np.asarray(data if data is not None else [], dtype=self.dtype)
        self._n = len(arr)
        self._arr = np.empty(max(64, self._n + self._n // 4), dtype=self.dtype)
        self._arr[: self._n] = arr
        self._pending: list[Any] = []

    def __len__(self) -> int:
        return self._n + len(self._pending)

    def append(self, value: Any) -> None:
        self._pending.append(value)

    def extend(self, values: Iterable[Any]) -> None:
        self._pending.extend(values)

    def _flush(self) -> None:
        pending = self._pending
        if not pending:
            return
        need = self._n + len(pending)
        if need > len(self._arr):
            grown = np.empty(max(need, 2 * len(self._arr)), dtype=self.dtype)
            grown[: self._n] = self._arr[: self._n]
            self._arr = grown
        self._arr[self._n : need] = pending
        self._n = need
        pending.clear()

    @property
    def values(self) -> npt.NDArray[Any]:
        """The live contents (a view: valid until the next append)."""
        self._flush()
        return self._arr[: self._n]

    def __getitem__(self, index: int) -> Any:
        if self._pending:
            self._flush()
        return self._arr[: self._n][index].item()

    def set(self, index: int, value: Any) -> None:
        self._flush()
        self._arr[index] = value
