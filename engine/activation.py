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
    threshold: float = 0.02  # neurons below this share of the hop's best are not expanded
    edge_budget: int = 40_000  # edges gathered per hop beyond the first
    max_frontier: int = 4096  # neurons expanded per hop beyond the first
    fanout_exponent: float = 1.0
    # memory -> memory links (neighbours in time) carry this gain, unsplit: the turn after a
    # matching one is often the answer; the turn before it, its context (half as strongly)
    episodic: float = 3.0
    backward: float = 0.5


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
    fiber_of = p.n_fiber.values
    n = view.neurons
    if not len(anchors):
        empty = np.empty(0, dtype=np.int64)
        return Activation(empty, np.empty(0), np.empty(0, dtype=np.int32), empty)

    anchor_degree = graph.degree(anchors, src, dst, view.synapses)
    frontier, level = anchors, initial(anchor_degree)
    total = np.zeros(n, dtype=np.float64)
    total[anchors] += level
    hits = np.zeros(n, dtype=np.int32)
    exponent, decay = params.fanout_exponent, params.hop_decay
    for hop in range(params.hops):
        owner, nbr, syn = graph.gather(frontier, src, dst, view.synapses)
        if not len(nbr):
            break
        # a memory's links to other memories (its neighbours in time) and to its words are
        # two channels: each splits the memory's activation among its own links only
        episodic = (fiber_of[nbr] >= 0) & (fiber_of[frontier[owner]] >= 0)
        channel = owner * 2 + episodic
        fanout = np.bincount(channel, minlength=2 * len(frontier)).astype(np.float64) ** exponent
        fanout[1::2] = 1.0  # the episodic channel is bounded by construction: no split
        forward = np.where(src[syn] == frontier[owner], params.backward, 1.0)
        gain = np.where(episodic, forward * params.episodic, 1.0)
        flow = level[owner] / fanout[channel] * weight[syn] * decay * gain
        arrived: F64 = np.bincount(nbr, weights=flow, minlength=n).astype(np.float64)
        nodes = np.flatnonzero(arrived)
        degrees = graph.degree(nodes, src, dst, view.synapses)
        if hop == 0:
            hits = np.bincount(nbr, minlength=n).astype(np.int32)
        total += arrived
        if hop + 1 == params.hops:
            break
        levels = arrived[nodes]
        per_edge = levels / np.maximum(degrees, 1).astype(np.float64) ** exponent
        strong = np.flatnonzero(levels >= params.threshold * levels.max())
        if not len(strong):
            break
        if len(strong) > params.max_frontier:  # keep the best, found in linear time
            best = np.argpartition(-per_edge[strong], params.max_frontier - 1)
            strong = np.sort(strong[best[: params.max_frontier]])
        order = strong[np.argsort(-per_edge[strong], kind="stable")]
        within = np.cumsum(degrees[order]) <= params.edge_budget
        within[0] = True
        chosen = np.sort(order[within])
        frontier, level = nodes[chosen], levels[chosen]

    active = np.flatnonzero(total)
    return Activation(active, total[active], hits[active], anchor_degree)
