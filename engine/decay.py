"""Ebbinghaus-style forgetting of links, evaluated at any moment rather than stored.

A link keeps the weight it was given (or reinforced to) and the time its clock started; at
time t it is worth w * exp(-rate * days / (1 + reinforcements)), with a rate per memory
type: context fades in weeks, instructions and references over years, and every
reinforcement slows the fall. Pinned memories do not decay. Time is taken at the hour, so a
live brain can reuse one computation for an hour and a past view computes the same numbers.
Sweeps (`DecayApplied` events) only record which links fell below the floor and are pruned.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .model import MEMORY_TYPES, MemoryType

HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US

RATE_PER_DAY: dict[MemoryType, float] = {
    MemoryType.CONTEXT: 0.05,
    MemoryType.TODO: 0.01,
    MemoryType.ERROR: 0.01,
    MemoryType.DECISION: 0.002,
    MemoryType.INSIGHT: 0.002,
    MemoryType.WORKFLOW: 0.002,
    MemoryType.FACT: 0.002,
    MemoryType.PREFERENCE: 0.001,
    MemoryType.INSTRUCTION: 0.001,
    MemoryType.REFERENCE: 0.001,
}
_RATES = np.array([RATE_PER_DAY[t] for t in MEMORY_TYPES], dtype=np.float32)


def rates(
    memory_type: npt.NDArray[np.int8], pinned: npt.NDArray[np.bool_]
) -> npt.NDArray[np.float32]:
    """Decay rate per day of links of memories of these types (0 for pinned ones)."""
    rate = _RATES[memory_type]
    rate[pinned] = 0.0
    return rate


def retention(
    t0: npt.NDArray[np.int64],
    count: npt.NDArray[np.int32],
    memory_type: npt.NDArray[np.int8],
    pinned: npt.NDArray[np.bool_],
    now: int,
) -> npt.NDArray[np.float32]:
    """Share of its weight each link keeps at `now` (taken at the hour). Computed in float32
    and in place: over millions of links the temporaries are what costs memory."""
    kept = ((now // HOUR_US) * HOUR_US - t0).astype(np.float32)
    np.maximum(kept, 0.0, out=kept)
    kept *= np.float32(-1.0 / DAY_US)
    rate = rates(memory_type, pinned)
    kept *= rate
    del rate
    kept /= count.astype(np.float32) + np.float32(1.0)
    np.exp(kept, out=kept)
    return kept


def effective_weights(
    weight: npt.NDArray[np.float32],
    t0: npt.NDArray[np.int64],
    count: npt.NDArray[np.int32],
    memory_type: npt.NDArray[np.int8],
    pinned: npt.NDArray[np.bool_],
    now: int,
) -> npt.NDArray[np.float32]:
    eff = retention(t0, count, memory_type, pinned, now)
    eff *= weight
    return eff
