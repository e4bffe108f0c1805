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
    threshold: float = 0.02  # an edge carrying less than this share of the hop's best is skipped
    edge_budget: int = 40_000  # edges gathered per hop beyond the first
    max_frontier: int = 4096  # neurons expanded per hop beyond the first
    fanout_exponent: float = 1.0


@dataclass(frozen=True, slots=True)
class Activation:
    nodes: I64  # sorted neuron indices that received activation
    level: F64  # total activation per node
    hits: npt.NDArray[np.int32]  # distinct anchors linked directly to the node (first hop)
    anchor_degree: I64  # degree of each anchor in the view


def spread(
    view: View,
    anchors: I64,
    initial: Callable[[I64], F64],
    params: SpreadParams,
) -> Activation:
    """Spread from `anchors` (sorted, unique); `initial(degrees)` sets their starting levels.

    Beyond the first hop the frontier is chosen by activation per edge: a neuron linked to
    thousands of memories passes almost nothing to each, so it is expanded only while the
    hop's edge budget lasts. That bounds every hop, however large the brain.
    """
    p = view.p
    graph = p.graph
    src, dst, weight = p.s_src.values, p.s_dst.values, p.s_w.values
    n = view.neurons
    if not len(anchors):
        empty = np.empty(0, dtype=np.int64)
        return Activation(empty, np.empty(0), np.empty(0, dtype=np.int32), empty)

    degree = graph.degree(anchors, src, dst, view.synapses)
    anchor_degree = degree
    frontier, level = anchors, initial(degree)
    total = np.zeros(n, dtype=np.float64)
    total[anchors] += level
    hits = np.zeros(n, dtype=np.int32)
    exponent, decay = params.fanout_exponent, params.hop_decay
    for hop in range(params.hops):
        owner, nbr, syn = graph.gather(frontier, src, dst, view.synapses)
        if not len(nbr):
            break
        fanout = np.maximum(degree, 1).astype(np.float64) ** exponent
        flow = (level / fanout)[owner] * weight[syn] * decay
        arrived: F64 = np.bincount(nbr, weights=flow, minlength=n).astype(np.float64)
        if hop == 0:
            hits = np.bincount(nbr, minlength=n).astype(np.int32)
        total += arrived
        if hop + 1 == params.hops:
            break
        nodes = np.flatnonzero(arrived)
        levels = arrived[nodes]
        degrees = graph.degree(nodes, src, dst, view.synapses)
        per_edge = levels / np.maximum(degrees, 1).astype(np.float64) ** exponent
        strong = np.flatnonzero(per_edge * decay >= params.threshold * levels.max())
        if not len(strong):
            break
        if len(strong) > params.max_frontier:  # keep the best, found in linear time
            best = np.argpartition(-per_edge[strong], params.max_frontier - 1)
            strong = np.sort(strong[best[: params.max_frontier]])
        order = strong[np.argsort(-per_edge[strong], kind="stable")]
        within = np.cumsum(degrees[order]) <= params.edge_budget
        within[0] = True
        chosen = np.sort(order[within])
        frontier, level, degree = nodes[chosen], levels[chosen], degrees[chosen]

    active = np.flatnonzero(total)
    return Activation(active, total[active], hits[active], anchor_degree)
