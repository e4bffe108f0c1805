"""Adjacency of the synapse graph: CSR over most synapses plus a short unsorted tail.

Activation treats every synapse as an association both ways (a memory reaches its words and
the words reach the memory), so each synapse is stored in both endpoints' rows. Each row is
sorted by synapse index, and synapses are numbered in log order, so the edges a past view
may use are a prefix of every row: found by binary search, never filtered one by one. New
synapses land in the tail, which gathers scan directly; when the tail passes a few thousand
synapses it is merged into the CSR in O(edges) without re-sorting the old rows.
"""

from __future__ import annotations

import mmap
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from .columns import Check

I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]

TAIL_LIMIT = 4096
FEW_ROWS = 16  # gathers of at most this many rows copy slices, not index arrays
_SPARSE_BYTES = 1 << 25  # kept weights this large are read a few rows at a time (`_zeros`)
_EMPTY_I64: I64 = np.empty(0, dtype=np.int64)
_EMPTY_I32: I32 = np.empty(0, dtype=np.int32)
_EMPTY_BOOL: npt.NDArray[np.bool_] = np.empty(0, dtype=bool)

# Which synapses of a slice [lo, hi) an adjacency holds: None means all of them.
Select = Callable[[I32, I32], npt.NDArray[np.bool_]] | None
# A fixed flag of each edge, from its row's node and its synapse (`Adjacency.gather_flagged`).
Flag = Callable[[I64, I32], npt.NDArray[np.bool_]]
F32 = npt.NDArray[np.float32]


class Weigh(Protocol):
    """The effective weights of links by synapse (`Adjacency.gather_weighted`). `token` says
    what they hold for: the weights the adjacency keeps beside its edges are those of one
    token (None: keep none, compute every one)."""

    @property
    def token(self) -> object | None: ...

    def __call__(self, syn: I32) -> F32: ...


class Adjacency:
    __slots__ = (
        "check",
        "flags",
        "indptr",
        "known",
        "known_for",
        "nbr",
        "nodes",
        "syn",
        "synapses",
    )

    def __init__(self) -> None:
        # a loaded checkpoint's: every method that reads the arrays runs it first (_verify)
        self.check: Check | None = None
        self.indptr: I64 = np.zeros(1, dtype=np.int64)
        self.nbr: I32 = np.empty(0, dtype=np.int32)
        self.syn: I32 = np.empty(0, dtype=np.int32)
        self.nodes = 0  # rows covered by indptr
        self.synapses = 0  # synapses [0, synapses) are in the CSR
        # a flag per CSR edge, beside `nbr` (`gather_flagged`): made on first use, kept by merges
        self.flags: npt.NDArray[np.bool_] | None = None
        # link weights beside `nbr`, 0 where not known yet, for the token `known_for`
        # (`gather_weighted`): a hop reads them in the order it reads the edges, where a
        # lookup by synapse jumps about the whole column; dropped by merges
        self.known: F32 | None = None
        self.known_for: object | None = None

    def _verify(self) -> None:
        if self.check is not None:
            self.check(self)
            self.check = None

    def adopt(self, other: Adjacency) -> None:
        """Take another adjacency's contents (a repair: the same CSR from a replay)."""
        self.indptr, self.nbr, self.syn = other.indptr, other.nbr, other.syn
        self.nodes, self.synapses, self.check = other.nodes, other.synapses, None
        self.flags = self.known = None

    def sync(
        self,
        src: I32,
        dst: I32,
        n_nodes: int,
        select: Select = None,
        *,
        force: bool = False,
        flag: Flag | None = None,
    ) -> None:
        """Merge the tail into the CSR if it has grown past the limit (or always, if forced);
        `flag` computes the merged edges' flags, if the CSR has them."""
        tail = len(src) - self.synapses
        if tail <= 0 and n_nodes <= self.nodes:
            return
        if force or tail > TAIL_LIMIT:
            self._merge(src, dst, n_nodes, select, flag)

    def _merge(self, src: I32, dst: I32, n_nodes: int, select: Select, flag: Flag | None) -> None:
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
        flags = None if self.flags is None or flag is None else np.empty(total, dtype=bool)
        # A row is its old entries, then its new ones: the old keep their order in the places
        # the new leave free (a mask, three times faster than scattering them by index).
        group_start = np.searchsorted(owners, owners, side="left")
        rank = np.arange(len(owners), dtype=np.int64) - group_start
        pos = indptr[owners] + old_counts[owners] + rank
        old = np.ones(total, dtype=np.bool_)
        old[pos] = False
        nbr[old], syn[old] = self.nbr, self.syn
        nbr[pos], syn[pos] = nbrs, syns
        if flags is not None and flag is not None:
            flags[old] = self.flags
            if len(owners):
                flags[pos] = flag(owners.astype(np.int64), syns)
        self.indptr, self.nbr, self.syn, self.flags = indptr, nbr, syn, flags
        self.nodes, self.synapses, self.known = n_nodes, hi, None

    def _rows(self, nodes: I64, limit: int) -> tuple[I64, I64]:
        """Start and length of each node's CSR row, cut to synapses below `limit`."""
        if self.check is not None:
            self._verify()
        inside = np.minimum(nodes, self.nodes)  # nodes past the CSR have empty rows
        starts = self.indptr[inside]
        ends = np.where(nodes < self.nodes, self.indptr[np.minimum(nodes + 1, self.nodes)], starts)
        if limit < self.synapses and len(nodes):
            ends = self._first_at_least(starts, ends, limit)
        return starts, ends - starts

    def _first_at_least(self, lo: I64, hi: I64, syn: int | I64) -> I64:
        """Per row [lo, hi) of the CSR, the position of its first synapse >= `syn` (a row
        is sorted by synapse): a vectorised binary search."""
        lo, hi = lo.copy(), hi.copy()
        while True:
            open_ = lo < hi
            if not open_.any():
                return lo
            mid = (lo + hi) // 2
            below = open_ & (self.syn[np.minimum(mid, len(self.syn) - 1)] < syn)
            lo = np.where(below, mid + 1, lo)
            hi = np.where(open_ & ~below, mid, hi)

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
        self,
        node: int,
        src: I32,
        dst: I32,
        limit: int,
        weigh: Weigh,
        pick: Callable[[I32], npt.NDArray[np.intp] | slice],
    ) -> tuple[I32, F32]:
        """Edges of one node among synapses below `limit`, in synapse order (oldest first),
        those `pick(neighbours)` keeps (ascending): (neighbour, weight), the weights read as
        `gather_weighted` reads them. The CSR part is a view of the row, not a copy, so a node
        with hundreds of thousands of links costs no gather."""
        self._verify()
        nodes = np.asarray([node], dtype=np.int64)
        lo = hi = 0
        if node < self.nodes:
            lo, hi = int(self.indptr[node]), int(self.indptr[node + 1])
            if limit < self.synapses:
                hi = lo + int(np.searchsorted(self.syn[lo:hi], limit))
        nbr, syn = self.nbr[lo:hi], self.syn[lo:hi]
        tail = self._tail(nodes, src, dst, limit, None)
        if tail:
            t_nbr = np.concatenate([t[1] for t in tail])
            t_syn = np.concatenate([t[2] for t in tail])
            order = np.argsort(t_syn, kind="stable")
            nbr, syn = np.concatenate((nbr, t_nbr[order])), np.concatenate((syn, t_syn[order]))
        kept = np.arange(len(nbr))[pick(nbr)]
        csr = int(np.searchsorted(kept, hi - lo))  # the kept edges of the CSR come first
        return nbr[kept], self._weights(kept[:csr] + lo, csr, syn[kept], weigh)

    def gather(
        self, nodes: I64, src: I32, dst: I32, limit: int, select: Select = None
    ) -> tuple[I64, I32, I32]:
        """Edges of `nodes` (sorted, unique) among synapses below `limit`:
        (position in `nodes`, neighbour, synapse)."""
        owner, nbr, syn, _, _, _ = self._gather(nodes, src, dst, limit, select, None)
        return owner, nbr, syn

    def gather_weighted(
        self,
        nodes: I64,
        src: I32,
        dst: I32,
        limit: int,
        weigh: Weigh,
        select: Select = None,
        flag: Flag | None = None,
    ) -> tuple[I64, I32, I32, npt.NDArray[np.bool_] | None, F32]:
        """`gather`, each edge's `flag(node, synapse)` if given, and each edge's weight.

        The flags are read beside the neighbours from an array kept with the CSR (made here
        the first time), so a flag that would take a gather per synapse column costs none.
        The weights are read from those kept beside the edges for `weigh.token`; the ones not
        known yet are asked of `weigh` by synapse, and kept."""
        if flag is not None and (self.flags is None or len(self.flags) != len(self.nbr)):
            self._verify()
            rows = np.repeat(np.arange(self.nodes, dtype=np.int64), np.diff(self.indptr))
            self.flags = flag(rows, self.syn)
        owner, nbr, syn, flags, pos, csr = self._gather(nodes, src, dst, limit, select, flag)
        return owner, nbr, syn, flags, self._weights(pos, csr, syn, weigh)

    def _weights(
        self, pos: npt.NDArray[np.int64] | list[slice], csr: int, syn: I32, weigh: Weigh
    ) -> F32:
        """Weights of edges whose first `csr` are the CSR's at `pos` (the rest the tail's)."""
        token = weigh.token
        if token is None or not csr:
            return weigh(syn)
        if self.known is None or self.known_for is not token:
            self.known, self.known_for = _zeros(len(self.nbr)), token
        got: F32 = _take(self.known, pos)
        if len(syn) > csr:
            got = np.concatenate((got, weigh(syn[csr:])))
        miss = np.flatnonzero(got[:csr] == 0)  # not known (or 0, which costs a lookup)
        if len(miss):
            new = weigh(syn[miss])
            got[miss] = new
            at = np.concatenate([np.arange(c.start, c.stop) for c in pos]) if isinstance(
                pos, list
            ) else pos  # fmt: skip
            self.known[at[miss]] = new
        return got

    def forget_weights(self, synapses: I64, src: I32, dst: I32) -> None:
        """The kept weights of these synapses are stale: found in both endpoints' rows (a
        binary search each; twice in one row for a link of a node to itself) and dropped."""
        if self.known is None:
            return
        synapses = synapses[synapses < self.synapses]
        for end in (src[synapses], dst[synapses]):
            inside = end < self.nodes
            rows, wanted = end[inside].astype(np.int64), synapses[inside]
            row_end = self.indptr[rows + 1]
            at = self._first_at_least(self.indptr[rows], row_end, wanted)
            for _ in range(2):
                inside = at < row_end
                at, wanted, row_end = at[inside], wanted[inside], row_end[inside]
                found = self.syn[at] == wanted
                at, wanted, row_end = at[found], wanted[found], row_end[found]
                self.known[at] = 0.0
                at = at + 1

    def _gather(
        self, nodes: I64, src: I32, dst: I32, limit: int, select: Select, flag: Flag | None
    ) -> tuple[
        I64, I32, I32, npt.NDArray[np.bool_] | None, npt.NDArray[np.int64] | list[slice], int
    ]:
        """`gather`, with the CSR's flags when `flag` is given (the tail's computed by it), and
        where the CSR's edges (the first ones) were read: positions or slices, and how many."""
        pos: npt.NDArray[np.int64] | list[slice] = []
        no_flags = None if flag is None else _EMPTY_BOOL
        if not len(nodes):
            return _EMPTY_I64, _EMPTY_I32, _EMPTY_I32, no_flags, pos, 0
        starts, lens = self._rows(nodes, limit)
        total = int(lens.sum())
        parts: list[tuple[I64, I32, I32, npt.NDArray[np.bool_] | None]] = [
            (o, n, s, None if flag is None else flag(nodes[o], s))
            for o, n, s in self._tail(nodes, src, dst, limit, select)
        ]
        if total:
            owner = np.repeat(np.arange(len(nodes), dtype=np.int64), lens)
            if len(nodes) <= FEW_ROWS:  # a few rows (a question's anchors): copied as slices
                pos = [slice(a, a + n) for a, n in zip(starts.tolist(), lens.tolist(), strict=True)]
            else:
                pos = np.repeat(starts - (np.cumsum(lens) - lens), lens) + np.arange(total)
            flags = None if flag is None else self.flags
            parts.insert(0, (owner, _take(self.nbr, pos), _take(self.syn, pos),
                             None if flags is None else _take(flags, pos)))  # fmt: skip
        if not parts:
            return _EMPTY_I64, _EMPTY_I32, _EMPTY_I32, no_flags, pos, 0
        if len(parts) == 1:
            return (*parts[0], pos, total)
        got = [np.concatenate([p[k] for p in parts]) for k in range(3)]
        flagged = None if flag is None else np.concatenate([p[3] for p in parts])
        return got[0], got[1], got[2], flagged, pos, total


def _zeros(size: int) -> F32:
    """Zeros for weights kept beside `size` edges. numpy asks for huge pages for a large
    array: each first write in 2 MiB clears all of it. That suits the episodic adjacency's
    (16 MB at 1M memories), which a hop in time reads all over (in 4 KiB pages, a TLB miss a
    row: 11% of a recall); the whole adjacency's (136 MB) is read a few rows at a time, so it
    is a plain map, its pages made as rows on them are first written (huge pages cost the
    recalls after a fresh open 30-120 ms of clearing)."""
    if size * 4 < _SPARSE_BYTES:
        return np.zeros(size, dtype=np.float32)
    return np.frombuffer(mmap.mmap(-1, size * 4), dtype=np.float32)


def _take(
    arr: npt.NDArray[np.generic], pos: npt.NDArray[np.int64] | list[slice]
) -> npt.NDArray[Any]:
    """Elements of `arr` at positions, or the slices concatenated (cheaper for a few rows)."""
    if isinstance(pos, list):
        return np.concatenate([arr[c] for c in pos])
    return arr[pos]
