"""The vectors of one embedding model as projection columns, and exact top-k over them.

Rows are appended in log order (each remembers the memory, the seq that wrote it, and the
seq from which a newer row or an erase replaced it), so the rows of a past view are a prefix
and a mask, like synapses: no journal, no replay. An erase zeroes the rows' bytes in place,
exactly as the redacted log replays.
"""

from __future__ import annotations

import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import numpy.typing as npt

from ..columns import Check, Column

I64 = npt.NDArray[np.int64]
F32 = npt.NDArray[np.float32]
I8 = npt.NDArray[np.int8]
ALIVE = np.iinfo(np.int64).max
PARTS = ("rows", "scale", "fiber", "seq", "dead")


class VectorStore:
    """int8 rows (flat, `dims` per row), scale, owning memory, writing seq, dead-from seq."""

    def __init__(
        self,
        dims: int,
        arrays: dict[str, npt.NDArray[np.generic]] | None = None,
        checks: dict[str, Check] | None = None,
    ):
        self.dims = dims
        get, check = (arrays or {}).get, (checks or {}).get
        self.rows = Column(np.int8, get("rows"), check("rows"))
        self.scale = Column(np.float32, get("scale"), check("scale"))
        self.fiber = Column(np.int32, get("fiber"), check("fiber"))
        self.seq = Column(np.int64, get("seq"), check("seq"))
        self.dead = Column(np.int64, get("dead"), check("dead"))

    def __len__(self) -> int:
        return len(self.fiber)

    def arrays(self) -> dict[str, npt.NDArray[np.generic]]:
        return {name: getattr(self, name).values for name in PARTS}

    def supersede(self, fibers: I64, seqs: I64) -> None:
        """The live rows of these memories stop at these seqs (they were re-embedded)."""
        if not len(self):
            return
        owner = self.fiber.values
        live = np.flatnonzero((self.dead.values == ALIVE) & np.isin(owner, fibers))
        if len(live):
            at = dict(zip(fibers.tolist(), seqs.tolist(), strict=True))
            self.dead.set_many(live, [at[f] for f in owner[live].tolist()])

    def add(self, fibers: I64, seqs: I64, data: bytes, scales: list[float], erased: npt.NDArray[
            np.bool_]) -> None:  # fmt: skip
        """Append rows (already checked: len(data) == dims * len(fibers))."""
        self.rows.extend_array(np.frombuffer(data, dtype=np.int8))
        self.scale.extend_array(np.asarray(scales, dtype=np.float32))
        self.fiber.extend_array(fibers)
        self.seq.extend_array(seqs)
        self.dead.extend_array(np.where(erased, 0, ALIVE))

    def erase(self, fiber: int) -> None:
        """Zero a memory's rows and hide them from every view."""
        rows = np.flatnonzero(self.fiber.values == fiber)
        if not len(rows):
            return
        self.dead.set_many(rows, 0)
        self.scale.set_many(rows, 0.0)
        cells = (rows[:, None] * self.dims + np.arange(self.dims)).ravel()
        self.rows.set_many(cells, 0)

    def live(self, seq: int) -> npt.NDArray[np.bool_]:
        """Which of the rows that existed at `seq` (a prefix) were live then."""
        n = int(np.searchsorted(self.seq.values, seq, side="right"))
        out: npt.NDArray[np.bool_] = self.dead.values[:n] > seq
        return out

    def matrix(self, n: int) -> I8:
        out: I8 = self.rows.values[: n * self.dims].reshape(n, self.dims)
        return out


def similarities(store: VectorStore, n: int, query: I8, query_scale: float) -> F32:
    """Cosine of the query with each of the first `n` rows: int8 dot products accumulated in
    int32 (exact), times both scales. `numpy.einsum` releases the GIL, so a large store is
    scanned in row blocks on every core (~11 ms of one busy core per 100k x 256 rows)."""
    dots = np.empty(n, dtype=np.int32)
    matrix = store.matrix(n)
    blocks = min(WORKERS, n // PARALLEL_ROWS)
    if blocks > 1:
        edges = np.linspace(0, n, blocks + 1).astype(np.int64).tolist()
        spans = [slice(a, b) for a, b in itertools.pairwise(edges)]
        for done in [_pool().submit(_dots, matrix[s], query, dots[s]) for s in spans]:
            done.result()
    else:
        _dots(matrix, query, dots)
    out: F32 = dots.astype(np.float32) * store.scale.values[:n] * np.float32(query_scale)
    return out


PARALLEL_ROWS = 32_768  # below this a block costs less than handing it to a thread
WORKERS = max(1, min(4, os.cpu_count() or 1))
_threads: list[ThreadPoolExecutor] = []
_threads_lock = threading.Lock()


def _dots(rows: I8, query: I8, out: npt.NDArray[np.int32]) -> None:
    np.einsum("ij,j->i", rows, query, dtype=np.int32, out=out)


def _pool() -> ThreadPoolExecutor:
    """The scan's threads, started by the first large scan (a small brain starts none)."""
    with _threads_lock:
        if not _threads:
            _threads.append(ThreadPoolExecutor(WORKERS, thread_name_prefix="nmem-vectors"))
        return _threads[0]
