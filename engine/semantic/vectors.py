"""The vectors of one embedding model as projection columns, and exact top-k over them.

Rows are appended in log order (each remembers the memory, the seq that wrote it, and the
seq from which a newer row or an erase replaced it), so the rows of a past view are a prefix
and a mask, like synapses: no journal, no replay. An erase zeroes the rows' bytes in place,
exactly as the redacted log replays.
"""

from __future__ import annotations

import threading

import numpy as np
import numpy.typing as npt

from ..columns import Check, Column
from .base import quantize

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
        # derived from the rows, in memory only (see `prefix`)
        self._prefix = np.empty((0, min(PREFIX, dims)), dtype=np.float32)
        self._filled = 0
        self._norms = np.empty(0, dtype=np.int32)  # each row's squared length (`norms`)
        self._prefix_lock = threading.Lock()
        # the sum of each BLOCK rows, once `centre` asks (see there); kept as rows come
        self._blocks = np.empty((0, dims), dtype=np.int64)
        self._sum_lock = threading.Lock()

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
        with self._sum_lock:  # the rows' bytes leave their blocks' sums
            done = rows[rows < len(self._blocks) * BLOCK]
            each = self.matrix(len(self))[done].astype(np.int64) * self._units(done)[:, None]
            np.subtract.at(self._blocks, done // BLOCK, each)
        self.dead.set_many(rows, 0)
        self.scale.set_many(rows, 0.0)
        cells = (rows[:, None] * self.dims + np.arange(self.dims)).ravel()
        self.rows.set_many(cells, 0)
        with self._prefix_lock:
            self._prefix[rows[rows < self._filled]] = 0
            self._norms[rows[rows < len(self._norms)]] = 0

    def live(self, seq: int) -> npt.NDArray[np.bool_]:
        """Which of the rows that existed at `seq` (a prefix) were live then."""
        n = int(np.searchsorted(self.seq.values, seq, side="right"))
        out: npt.NDArray[np.bool_] = self.dead.values[:n] > seq
        return out

    def centre(self, seq: int) -> tuple[I64, int]:
        """The sum of the rows live at `seq` and how many there are. Each row counts times
        its scale in units of 2**-SCALE_BITS: exact integers, so the sum does not depend on
        the order of adding, and a past view, a replayed brain and the live one agree to the
        bit. The rows written by `seq` are whole blocks (their sums kept) and a tail; the
        rows among them dead by then (superseded; erased rows are zero) are taken off."""
        n = int(np.searchsorted(self.seq.values, seq, side="right"))
        full = n // BLOCK
        with self._sum_lock:
            have = len(self._blocks)
            if full > have:
                fresh = self.matrix(full * BLOCK)[have * BLOCK :].reshape(full - have, BLOCK, -1)
                units = self._units(np.arange(have * BLOCK, full * BLOCK)).reshape(-1, BLOCK)
                more = np.einsum("bij,bi->bj", fresh, units, dtype=np.int64)
                self._blocks = np.concatenate((self._blocks, more))
            total = self._blocks[:full].sum(axis=0)
        total += self._weighted(np.arange(full * BLOCK, n))
        dead = np.flatnonzero(self.dead.values[:n] <= seq)
        total -= self._weighted(dead)
        return total, n - len(dead)

    def _units(self, rows: I64) -> I64:
        units: I64 = np.rint(self.scale.values[rows].astype(np.float64) * 2.0**SCALE_BITS)
        return units.astype(np.int64)

    def _weighted(self, rows: I64) -> I64:
        out: I64 = np.einsum("ij,i->j", self.matrix(len(self))[rows], self._units(rows),
                             dtype=np.int64)  # fmt: skip
        return out

    def matrix(self, n: int) -> I8:
        out: I8 = self.rows.values[: n * self.dims].reshape(n, self.dims)
        return out

    def norms(self, n: int) -> npt.NDArray[np.int32]:
        """The first `n` rows' squared lengths in int8 units (exact), computed once per row,
        kept in memory like `prefix`."""
        with self._prefix_lock:
            done = len(self._norms)
            if n > done:
                more = self.matrix(n)[done:]
                fresh = np.einsum("ij,ij->i", more, more, dtype=np.int32)
                self._norms = np.concatenate((self._norms, fresh))
            out: npt.NDArray[np.int32] = self._norms[:n]
            return out

    def prefix(self, n: int) -> F32:
        """The first `n` rows' leading PREFIX dimensions as float32 (the int8 values, not
        scaled): what the coarse search multiplies. Converted once, extended as rows
        arrive, never saved (a checkpoint holds the rows), so an erase zeroes it here."""
        with self._prefix_lock:
            if n > self._filled:
                width = self._prefix.shape[1]
                if n > len(self._prefix):
                    grown = np.empty((n + n // 8, width), dtype=np.float32)
                    grown[: self._filled] = self._prefix[: self._filled]
                    self._prefix = grown
                self._prefix[self._filled : n] = self.matrix(n)[self._filled :, :width]
                self._filled = n
            out: F32 = self._prefix[:n]
            return out


Centre = tuple[I8, float]  # the mean of the rows, as an int8 row and its scale


def mean_row(total: I64, count: int) -> Centre | None:
    """The mean of the rows from `VectorStore.centre`'s sum, as an int8 row and its scale."""
    if not count:
        return None
    mean = total.astype(np.float64) / (count * 2.0**SCALE_BITS)
    rows, scales = quantize(mean[None, :].astype(np.float32))
    return rows[0], float(scales[0])


def about(queries: F32, centre: Centre | None) -> tuple[I8, F32]:
    """Query vectors taken about the centre (minus it, unit length again), quantized."""
    x = queries.astype(np.float64)
    if centre is not None:
        x = x - centre[0].astype(np.float64) * centre[1]
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    unit = np.divide(x, norm, out=np.zeros_like(x), where=norm > 0)
    return quantize(unit.astype(np.float32))


def nearest(
    store: VectorStore,
    n: int,
    ok: npt.NDArray[np.bool_],
    query: I8,
    query_scale: float,
    k: int,
    centre: Centre | None = None,
) -> tuple[I64, F32]:
    """The `k` rows among the first `n` where `ok` nearest the query (unordered), with their
    exact cosines (about `centre` when given: see `centred`). A store of more than FAST_FROM
    rows is searched coarse to fine; the coarse stage ranks by the query's dot product,
    which about a centre ranks as the centred dot product, not yet divided by each row's
    distance from the centre."""
    rows = np.flatnonzero(ok)
    wanted = candidates(n)
    fast = n > FAST_FROM and k < wanted < len(rows)
    if fast:
        rows = coarse(store, n, ok, query, wanted)
    if centre is not None:
        sims = centred(store, n, rows, query, query_scale, centre)
    elif fast:
        sims = cosines(store, n, rows, query, query_scale)
    else:
        sims = similarities(store, n, query, query_scale)[rows]
    if len(rows) > k:
        best = np.argpartition(-sims, k - 1)[:k]
        rows, sims = rows[best], sims[best]
    return rows, sims


def candidates(n: int) -> int:
    """How many rows the coarse search keeps: a fixed share of a growing store."""
    return max(CANDIDATES, n // 50)


def coarse(store: VectorStore, n: int, ok: npt.NDArray[np.bool_], query: I8, wanted: int) -> I64:
    """The rows among `ok` with the best cosines over the leading PREFIX dimensions (at least
    `wanted`; all tied with the last). Integer dot products below 2**24 are exact in float32
    in any order of summation, so the choice depends only on each row's own bytes."""
    prefix = store.prefix(n)
    # einsum's own loop, not BLAS: OpenBLAS's threads spin, costing a busy machine 2x the CPU
    score = np.einsum("ij,j->i", prefix, query[: prefix.shape[1]].astype(np.float32))
    score *= store.scale.values[:n]
    score[~ok] = -np.inf
    threshold = np.partition(score, n - wanted)[n - wanted]
    return np.flatnonzero(score >= threshold)


def similarities(store: VectorStore, n: int, query: I8, query_scale: float) -> F32:
    """Cosine of the query with each of the first `n` rows: int8 dot products accumulated in
    int32 (exact), times both scales."""
    dots = np.einsum("ij,j->i", store.matrix(n), query, dtype=np.int32)
    return _scaled(dots, store.scale.values[:n], query_scale)


def cosines(store: VectorStore, n: int, rows: I64, query: I8, query_scale: float) -> F32:
    """`similarities` of these of the first `n` rows only."""
    dots = np.einsum("ij,j->i", store.matrix(n)[rows], query, dtype=np.int32)
    return _scaled(dots, store.scale.values[rows], query_scale)


def centred(
    store: VectorStore, n: int, rows: I64, query: I8, query_scale: float, centre: Centre
) -> F32:
    """Cosines about the centre: (x - c) . q / |x - c| for a query already taken about it (a
    unit vector). Every dot product is of int8 rows in int32, exact; the rest is per row, so
    a row's cosine depends only on its own bytes, the query and the centre."""
    row_c, scale_c = centre
    whole = 2 * len(rows) > n  # most rows: multiply them all, no copy of the chosen ones
    m = store.matrix(n) if whole else store.matrix(n)[rows]
    along_q = np.einsum("ij,j->i", m, query, dtype=np.int32)
    along_c = np.einsum("ij,j->i", m, row_c, dtype=np.int32)
    if whole:
        along_q, along_c = along_q[rows], along_c[rows]
    own = store.norms(n)[rows].astype(np.float64)
    s = store.scale.values[rows].astype(np.float64)
    cq = float(np.dot(row_c.astype(np.int64), query.astype(np.int64)))
    cc = float(np.dot(row_c.astype(np.int64), row_c.astype(np.int64)))
    dot = query_scale * (s * along_q - scale_c * cq)
    far = s * s * own - 2 * s * scale_c * along_c.astype(np.float64) + scale_c * scale_c * cc
    out: F32 = np.divide(dot, np.sqrt(np.maximum(far, 0.0)), out=np.zeros(len(rows)),
                         where=far > 0).astype(np.float32)  # fmt: skip
    return out


def _scaled(dots: npt.NDArray[np.int32], scale: F32, query_scale: float) -> F32:
    out: F32 = dots.astype(np.float32) * scale * np.float32(query_scale)
    return out


BLOCK = 1024  # rows per kept sum of `VectorStore.centre`
SCALE_BITS = 30  # a row's scale as an integer count of 2**-30 (see `VectorStore.centre`)
PREFIX = 64  # leading dimensions of the coarse search (integer dot products exact up to 1040)
CANDIDATES = 2000  # rows rescored exactly: recall@20 0.99 of the full scan at 100k (README)
FAST_FROM = 16_384  # below this many rows the full scan costs about as much as the coarse one
