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
    clock: npt.NDArray[np.int32],
    times: npt.NDArray[np.int64],
    count: npt.NDArray[np.uint16],
    memory_type: npt.NDArray[np.int8],
    pinned: npt.NDArray[np.bool_],
    now: int,
) -> npt.NDArray[np.float32]:
    """Share of its weight each link keeps at `now` (taken at the hour). A link's clock is the
    seq whose recorded time (`times[seq - 1]`) started it; the days since are computed per
    link, or per event when there are more links than events (the same numbers, a smaller
    temporary). Computed in float32 and in place: over millions of links the temporaries are
    what costs memory."""
    hour = (now // HOUR_US) * HOUR_US
    at = clock - 1
    kept = (
        _days_ago(hour, times).take(at) if len(at) > len(times) else _days_ago(hour, times.take(at))
    )
    del at
    rate = rates(memory_type, pinned)
    kept *= rate
    del rate
    kept /= count.astype(np.float32) + np.float32(1.0)
    np.exp(kept, out=kept)
    return kept


def _days_ago(hour: int, times: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
    """Minus the days from each time to `hour` (0 for a time after it), in float32."""
    days = (hour - times).astype(np.float32)
    np.maximum(days, 0.0, out=days)
    days *= np.float32(-1.0 / DAY_US)
    return days


def effective_weights(
    weight: npt.NDArray[np.float32],
    clock: npt.NDArray[np.int32],
    times: npt.NDArray[np.int64],
    count: npt.NDArray[np.uint16],
    memory_type: npt.NDArray[np.int8],
    pinned: npt.NDArray[np.bool_],
    now: int,
) -> npt.NDArray[np.float32]:
    eff = retention(clock, times, count, memory_type, pinned, now)
    eff *= weight
    return eff
