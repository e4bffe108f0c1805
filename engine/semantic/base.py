"""What an embedding model is to the engine, and how its vectors are stored.

A vector is stored as int8 with one float32 scale per row (the row's largest magnitude /
127): a quarter of float32's bytes, and the rows searched are exactly the rows stored, so a
replayed brain and a past view rank exactly as the live brain did.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
I8 = npt.NDArray[np.int8]
MODEL_ID = re.compile(r"^[a-z0-9][a-z0-9.-]{0,63}$")
MAX_DIMS = 4096


class Embedder(Protocol):
    """A local embedding model: texts in, one unit-length float32 row per text out."""

    @property
    def model(self) -> str:
        """The id recorded in the log: same id, same vectors for the same text."""
        ...

    @property
    def dims(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> F32: ...


def quantize(vectors: F32) -> tuple[I8, F32]:
    """Unit rows -> (int8 rows, float32 scale per row); an all-zero row keeps scale 0."""
    x = np.asarray(vectors, dtype=np.float32)
    peak = np.abs(x).max(axis=1) if x.size else np.zeros(len(x), dtype=np.float32)
    scale = (peak / 127.0).astype(np.float32)
    safe = np.where(scale > 0, scale, 1.0).astype(np.float32)
    rows = np.clip(np.rint(x / safe[:, None]), -127, 127).astype(np.int8)
    return rows, scale


def encode_rows(vectors: F32) -> tuple[bytes, list[float]]:
    """Vectors as an event carries them: int8 bytes (row after row) and the scales."""
    rows, scale = quantize(vectors)
    return rows.tobytes(), [float(s) for s in scale]
