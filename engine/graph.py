"""Adjacency of the synapse graph: CSR over most synapses plus a short unsorted tail.

Activation treats every synapse as an association both ways (a memory reaches its words and
the words reach the memory), so each synapse is stored in both endpoints' rows. New synapses
land in the tail, which gathers scan directly; when the tail passes a few thousand synapses
it is merged into the CSR in O(edges) without re-sorting the old rows.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]

TAIL_LIMIT = 4096


class Adjacency:
    __slots__ = ("indptr", "nbr", "nodes", "syn", "synapses")

    def __init__(self) -> None:
        self.indptr: I64 = np.zeros(1, dtype=np.int64)
        self.nbr: I32 = np.empty(0, dtype=np.int32)
        self.syn: I32 = np.empty(0, dtype=np.int32)
        self.nodes = 0  # rows covered by indptr
        self.synapses = 0  # synapses [0, synapses) are in the CSR

    def sync(self, src: I32, dst: I32, n_nodes: int, *, force: bool = False) -> None:
        """Merge the tail into the CSR if it has grown past the limit (or always, if forced)."""
        tail = len(src) - self.synapses
        if tail <= 0 and n_nodes <= self.nodes:
            return
        if force or tail > TAIL_LIMIT:
            self._merge(src, dst, n_nodes)

    def _merge(self, src: I32, dst: I32, n_nodes: int) -> None:
        lo, hi = self.synapses, len(src)
        t_syn = np.arange(lo, hi, dtype=np.int32)
        owners = np.concatenate((src[lo:hi], dst[lo:hi]))
        nbrs = np.concatenate((dst[lo:hi], src[lo:hi]))
        syns = np.concatenate((t_syn, t_syn))
        order = np.argsort(owners, kind="stable")
        owners, nbrs, syns = owners[order], nbrs[order], syns[order]

        old_counts = np.zeros(n_nodes, dtype=np.int64)
        old_counts[: self.nodes] = np.diff(self.indptr)
        add_counts = np.bincount(owners, minlength=n_nodes).astype(np.int64)
        indptr = np.zeros(n_nodes + 1, dtype=np.int64)
        np.cumsum(old_counts + add_counts, out=indptr[1:])

        total = int(indptr[-1])
        nbr = np.empty(total, dtype=np.int32)
        syn = np.empty(total, dtype=np.int32)
        if len(self.nbr):
            shift = np.repeat(indptr[: self.nodes] - self.indptr[:-1], old_counts[: self.nodes])
            old_pos = np.arange(len(self.nbr), dtype=np.int64) + shift
            nbr[old_pos] = self.nbr
            syn[old_pos] = self.syn
        if len(owners):
            group_start = np.searchsorted(owners, owners, side="left")
            rank = np.arange(len(owners), dtype=np.int64) - group_start
            pos = indptr[owners] + old_counts[owners] + rank
            nbr[pos] = nbrs
            syn[pos] = syns
        self.indptr, self.nbr, self.syn = indptr, nbr, syn
        self.nodes, self.synapses = n_nodes, hi

    def gather(self, frontier: I64, src: I32, dst: I32, limit: int) -> tuple[I64, I32, I32]:
        """Edges of `frontier` nodes among synapses [0, limit): (position, neighbour, synapse).

        `frontier` must be sorted and unique. `limit` cuts synapses created after a past view.
        """
        parts_owner: list[I64] = [np.empty(0, dtype=np.int64)]
        parts_nbr: list[I32] = [np.empty(0, dtype=np.int32)]
        parts_syn: list[I32] = [np.empty(0, dtype=np.int32)]
        if not len(frontier):
            return parts_owner[0], parts_nbr[0], parts_syn[0]
        in_csr = frontier < self.nodes
        f = frontier[in_csr]
        if len(f):
            starts = self.indptr[f]
            lens = self.indptr[f + 1] - starts
            total = int(lens.sum())
            if total:
                pos = np.repeat(starts - (np.cumsum(lens) - lens), lens) + np.arange(total)
                owner = np.repeat(np.flatnonzero(in_csr), lens)
                nbr, syn = self.nbr[pos], self.syn[pos]
                if limit < self.synapses:
                    keep = syn < limit
                    owner, nbr, syn = owner[keep], nbr[keep], syn[keep]
                parts_owner.append(owner)
                parts_nbr.append(nbr)
                parts_syn.append(syn)
        lo, hi = self.synapses, min(limit, len(src))
        if hi > lo:
            for a, b in ((src, dst), (dst, src)):
                ends = a[lo:hi]
                idx = np.minimum(np.searchsorted(frontier, ends), len(frontier) - 1)
                hit = np.flatnonzero(frontier[idx] == ends)
                if len(hit):
                    parts_owner.append(idx[hit].astype(np.int64))
                    parts_nbr.append(b[lo:hi][hit])
                    parts_syn.append((hit + lo).astype(np.int32))
        return (
            np.concatenate(parts_owner),
            np.concatenate(parts_nbr).astype(np.int32, copy=False),
            np.concatenate(parts_syn).astype(np.int32, copy=False),
        )
