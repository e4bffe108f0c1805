"""Adjacency of the synapse graph: CSR over most synapses plus a short unsorted tail.

Activation treats every synapse as an association both ways (a memory reaches its words and
the words reach the memory), so each synapse is stored in both endpoints' rows. Each row is
sorted by synapse index, and synapses are numbered in log order, so the edges a past view
may use are a prefix of every row: found by binary search, never filtered one by one. New
synapses land in the tail, which gathers scan directly; when the tail passes a few thousand
synapses it is merged into the CSR in O(edges) without re-sorting the old rows.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from .columns import Check

I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]

TAIL_LIMIT = 4096
FEW_ROWS = 16  # gathers of at most this many rows copy slices, not index arrays
_EMPTY_I64: I64 = np.empty(0, dtype=np.int64)
_EMPTY_I32: I32 = np.empty(0, dtype=np.int32)

# Which synapses of a slice [lo, hi) an adjacency holds: None means all of them.
Select = Callable[[I32, I32], npt.NDArray[np.bool_]] | None


class Adjacency:
    __slots__ = ("check", "indptr", "nbr", "nodes", "syn", "synapses")

    def __init__(self) -> None:
        # a loaded checkpoint's: every method that reads the arrays runs it first (_verify)
        self.check: Check | None = None
        self.indptr: I64 = np.zeros(1, dtype=np.int64)
        self.nbr: I32 = np.empty(0, dtype=np.int32)
        self.syn: I32 = np.empty(0, dtype=np.int32)
        self.nodes = 0  # rows covered by indptr
        self.synapses = 0  # synapses [0, synapses) are in the CSR

    def _verify(self) -> None:
        if self.check is not None:
            self.check(self)
            self.check = None

    def adopt(self, other: Adjacency) -> None:
        """Take another adjacency's contents (a repair: the same CSR from a replay)."""
        self.indptr, self.nbr, self.syn = other.indptr, other.nbr, other.syn
        self.nodes, self.synapses, self.check = other.nodes, other.synapses, None

    def sync(
        self, src: I32, dst: I32, n_nodes: int, select: Select = None, *, force: bool = False
    ) -> None:
        """Merge the tail into the CSR if it has grown past the limit (or always, if forced)."""
        tail = len(src) - self.synapses
        if tail <= 0 and n_nodes <= self.nodes:
            return
        if force or tail > TAIL_LIMIT:
            self._merge(src, dst, n_nodes, select)

    def _merge(self, src: I32, dst: I32, n_nodes: int, select: Select) -> None:
        self._verify()
        lo, hi = self.synapses, len(src)
        t_syn = np.arange(lo, hi, dtype=np.int32)
        t_src, t_dst = src[lo:hi], dst[lo:hi]
        if select is not None:
            keep = select(t_src, t_dst)
            t_syn, t_src, t_dst = t_syn[keep], t_src[keep], t_dst[keep]
        owners = np.concatenate((t_src, t_dst))
        nbrs = np.concatenate((t_dst, t_src))
        syns = np.concatenate((t_syn, t_syn))
        order = np.lexsort((syns, owners))  # by row, then by synapse: rows stay sorted
        owners, nbrs, syns = owners[order], nbrs[order], syns[order]

        old_counts = np.zeros(n_nodes, dtype=np.int64)
        old_counts[: self.nodes] = np.diff(self.indptr)
        add_counts = np.bincount(owners, minlength=n_nodes).astype(np.int64)
        indptr = np.zeros(n_nodes + 1, dtype=np.int64)
        np.cumsum(old_counts + add_counts, out=indptr[1:])

        total = int(indptr[-1])
        nbr = np.empty(total, dtype=np.int32)
        syn = np.empty(total, dtype=np.int32)
        # A row is its old entries, then its new ones: the old keep their order in the places
        # the new leave free (a mask, three times faster than scattering them by index).
        group_start = np.searchsorted(owners, owners, side="left")
        rank = np.arange(len(owners), dtype=np.int64) - group_start
        pos = indptr[owners] + old_counts[owners] + rank
        old = np.ones(total, dtype=np.bool_)
        old[pos] = False
        nbr[old], syn[old] = self.nbr, self.syn
        nbr[pos], syn[pos] = nbrs, syns
        self.indptr, self.nbr, self.syn = indptr, nbr, syn
        self.nodes, self.synapses = n_nodes, hi

    def _rows(self, nodes: I64, limit: int) -> tuple[I64, I64]:
        """Start and length of each node's CSR row, cut to synapses below `limit`."""
        if self.check is not None:
            self._verify()
        inside = np.minimum(nodes, self.nodes)  # nodes past the CSR have empty rows
        starts = self.indptr[inside]
        ends = np.where(nodes < self.nodes, self.indptr[np.minimum(nodes + 1, self.nodes)], starts)
        if limit < self.synapses and len(nodes):
            lo, hi = starts.copy(), ends.copy()
            while True:  # vectorised binary search for the first synapse >= limit per row
                open_ = lo < hi
                if not open_.any():
                    break
                mid = (lo + hi) // 2
                below = open_ & (self.syn[np.minimum(mid, len(self.syn) - 1)] < limit)
                lo = np.where(below, mid + 1, lo)
                hi = np.where(open_ & ~below, mid, hi)
            ends = lo
        return starts, ends - starts

    def _tail(
        self, nodes: I64, src: I32, dst: I32, limit: int, select: Select
    ) -> list[tuple[I64, I32, I32]]:
        lo, hi = self.synapses, min(limit, len(src))
        out: list[tuple[I64, I32, I32]] = []
        if hi <= lo or not len(nodes):
            return out
        t_src, t_dst = src[lo:hi], dst[lo:hi]
        keep = None if select is None else select(t_src, t_dst)
        for a, b in ((t_src, t_dst), (t_dst, t_src)):
            idx = np.minimum(np.searchsorted(nodes, a), len(nodes) - 1)
            found = nodes[idx] == a
            hit = np.flatnonzero(found if keep is None else found & keep)
            if len(hit):
                out.append((idx[hit].astype(np.int64), b[hit], (hit + lo).astype(np.int32)))
        return out

    def degree(self, nodes: I64, src: I32, dst: I32, limit: int, select: Select = None) -> I64:
        """Number of synapses below `limit` touching each of `nodes` (sorted, unique)."""
        _, counts = self._rows(nodes, limit)
        for owner, _, _ in self._tail(nodes, src, dst, limit, select):
            counts = counts + np.bincount(owner, minlength=len(nodes))
        return counts

    def row(
        self, node: int, src: I32, dst: I32, limit: int, select: Select = None
    ) -> tuple[I32, I32]:
        """Edges of one node among synapses below `limit`, in synapse order (oldest first):
        (neighbour, synapse). The CSR part is a view of the row, not a copy, so a node with
        hundreds of thousands of links costs no gather."""
        self._verify()
        nodes = np.asarray([node], dtype=np.int64)
        if node < self.nodes:
            lo, hi = int(self.indptr[node]), int(self.indptr[node + 1])
            if limit < self.synapses:
                hi = lo + int(np.searchsorted(self.syn[lo:hi], limit))
            nbr, syn = self.nbr[lo:hi], self.syn[lo:hi]
        else:
            nbr, syn = _EMPTY_I32, _EMPTY_I32
        tail = self._tail(nodes, src, dst, limit, select)
        if not tail:
            return nbr, syn
        t_nbr = np.concatenate([t[1] for t in tail])
        t_syn = np.concatenate([t[2] for t in tail])
        order = np.argsort(t_syn, kind="stable")
        return np.concatenate((nbr, t_nbr[order])), np.concatenate((syn, t_syn[order]))

    def gather(
        self, nodes: I64, src: I32, dst: I32, limit: int, select: Select = None
    ) -> tuple[I64, I32, I32]:
        """Edges of `nodes` (sorted, unique) among synapses below `limit`:
        (position in `nodes`, neighbour, synapse)."""
        if not len(nodes):
            return _EMPTY_I64, _EMPTY_I32, _EMPTY_I32
        starts, lens = self._rows(nodes, limit)
        total = int(lens.sum())
        parts = self._tail(nodes, src, dst, limit, select)
        if total:
            owner = np.repeat(np.arange(len(nodes), dtype=np.int64), lens)
            if len(nodes) <= FEW_ROWS:  # a few rows (a question's anchors): copied as slices
                cut = [slice(a, a + n) for a, n in zip(starts.tolist(), lens.tolist(), strict=True)]
                nbr, syn = self.nbr, self.syn
                parts.insert(0, (owner, np.concatenate([nbr[c] for c in cut]),
                                 np.concatenate([syn[c] for c in cut])))  # fmt: skip
            else:
                pos = np.repeat(starts - (np.cumsum(lens) - lens), lens) + np.arange(total)
                parts.insert(0, (owner, self.nbr[pos], self.syn[pos]))
        if not parts:
            return _EMPTY_I64, _EMPTY_I32, _EMPTY_I32
        if len(parts) == 1:
            return parts[0]
        return (
            np.concatenate([p[0] for p in parts]),
            np.concatenate([p[1] for p in parts]),
            np.concatenate([p[2] for p in parts]),
        )
