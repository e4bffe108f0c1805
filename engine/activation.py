"""Spreading activation as a few vectorised sparse steps over the adjacency.

Each hop takes the frontier's edges in one gather, scales the activation by link weight,
per-hop decay and the sender's fan-out (a neuron linked to thousands of memories passes on
little to each: the graph's own inverse document frequency), and sums what arrives. Sums,
not maxima: a memory reached from several anchors outranks one reached from one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .projection import View

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class SpreadParams:
    hops: int
    hop_decay: float = 0.5
    threshold: float = 0.02  # relative to the strongest neuron of the hop
    frontier_cap: int = 256
    fanout_exponent: float = 1.0


@dataclass(frozen=True, slots=True)
class Activation:
    nodes: I64  # sorted neuron indices that received activation
    level: F64  # total activation per node
    hits: npt.NDArray[np.int32]  # distinct anchors linked directly to the node (first hop)
    anchor_degree: I64  # valid degree of each anchor, as the first gather saw it


def _aggregate(nodes: npt.NDArray[np.int32], values: F64) -> tuple[I64, F64]:
    uniq, inverse = np.unique(nodes, return_inverse=True)
    summed: F64 = np.bincount(inverse, weights=values, minlength=len(uniq)).astype(
        np.float64, copy=False
    )
    return uniq.astype(np.int64), summed


def spread(
    view: View,
    anchors: I64,
    initial: Callable[[I64], F64],
    params: SpreadParams,
) -> Activation:
    """Spread from `anchors` (sorted, unique); `initial(degrees)` sets their starting levels."""
    p = view.p
    src, dst, weight = p.s_src.values, p.s_dst.values, p.s_w.values
    empty_i = np.empty(0, dtype=np.int64)
    if not len(anchors):
        return Activation(empty_i, np.empty(0), np.empty(0, dtype=np.int32), empty_i)

    frontier = anchors
    owner, nbr, syn = p.graph.gather(frontier, src, dst, view.synapses)
    degree = np.bincount(owner, minlength=len(frontier)).astype(np.int64)
    level = initial(degree)
    anchor_degree = degree

    got_nodes: list[I64] = [anchors]
    got_level: list[F64] = [level]
    hits_nodes, hits_count = _aggregate(nbr, np.ones(len(nbr)))
    for hop in range(params.hops):
        if hop:
            owner, nbr, syn = p.graph.gather(frontier, src, dst, view.synapses)
            degree = np.bincount(owner, minlength=len(frontier)).astype(np.int64)
        if not len(nbr):
            break
        fanout = np.maximum(degree, 1).astype(np.float64) ** params.fanout_exponent
        flow = (level / fanout)[owner] * weight[syn] * params.hop_decay
        nodes, arrived = _aggregate(nbr, flow)
        got_nodes.append(nodes)
        got_level.append(arrived)
        keep = arrived >= params.threshold * arrived.max()
        if keep.sum() > params.frontier_cap:
            top = np.argpartition(-arrived, params.frontier_cap)[: params.frontier_cap]
            keep = np.zeros(len(arrived), dtype=bool)
            keep[top] = True
        frontier, level = nodes[keep], arrived[keep]

    nodes, total = _aggregate(np.concatenate(got_nodes).astype(np.int32), np.concatenate(got_level))
    hits = np.zeros(len(nodes), dtype=np.int32)
    pos = np.searchsorted(nodes, hits_nodes)
    hits[pos] = hits_count.astype(np.int32)
    return Activation(nodes, total, hits, anchor_degree)
