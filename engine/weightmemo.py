"""The live brain's effective link weights for one hour, each computed when a read first asks.

Decay is taken at the hour, so a weight computed once serves every read of that hour. A read
computes only the links no earlier read of the hour asked for: a fresh process or a new hour
pays for the links its recalls touch, never for all of them at once (1.3 s at a million
memories), and an event that changes a memory's state only forgets what is known. A link not
computed yet holds NaN (no weight is NaN: events carry finite numbers), so a read finds what
it misses in the weights it gathered, without a second gather.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .columns import Column

Rows = npt.NDArray[np.int32] | npt.NDArray[np.int64]


class WeightMemo:
    __slots__ = ("_weights", "generation", "hour")

    def __init__(self, hour: int, links: int) -> None:
        self.hour = hour
        # what copies of these weights (`Adjacency.known`) are valid for: renewed by `forget`
        self.generation = object()
        self._weights = Column(np.float32, np.full(links, np.nan, np.float32))

    def __len__(self) -> int:
        return len(self._weights)

    @property
    def weights(self) -> npt.NDArray[np.float32]:
        """Every link's weight, NaN where not computed yet."""
        return self._weights.values

    def grow(self, links: int) -> None:
        """Room for links added since (not computed until asked for)."""
        more = links - len(self._weights)
        if more > 0:
            self._weights.extend_fill(np.nan, more)

    def learn(self, rows: Rows, weights: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Remember these links' weights; returns them."""
        self._weights.set_many(rows, weights)  # type: ignore[arg-type]
        return weights

    def forget(self) -> None:
        """A memory's state changed (its links' weights with it): compute again when asked."""
        self.weights[:] = np.nan
        self.generation = object()
