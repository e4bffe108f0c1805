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
    episodic_cost: int = 4  # edges a memory sends on the last hop (its neighbours in time)
    fanout_exponent: float = 1.0
    # memory -> memory links (neighbours in time) carry this gain, unsplit: the turn after a
    # matching one is often the answer; the turn before it, its context (half as strongly)
    episodic: float = 3.0
    backward: float = 0.5


@dataclass(frozen=True, slots=True)
class Activation:
    nodes: I64  # sorted neuron indices that received activation
    level: F64  # total activation per node
    hits: I64  # distinct anchors linked directly to the node (first hop)
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
    src, dst = p.s_src.values, p.s_dst.values
    n = view.neurons
    if not len(anchors):
        empty = np.empty(0, dtype=np.int64)
        return Activation(empty, np.empty(0), empty, empty)

    anchor_degree = graph.degree(anchors, src, dst, view.synapses)
    frontier, level = anchors, initial(anchor_degree)
    total = np.zeros(n, dtype=np.float64)
    total[anchors] += level
    hits: I64 = np.zeros(n, dtype=np.int64)
    for hop in range(params.hops):
        last = hop + 1 == params.hops
        _, nbr, flow = _hop(view, frontier, level, params, last)
        if not len(nbr):
            break
        arrived: F64 = np.bincount(nbr, weights=flow, minlength=n)  # type: ignore[assignment]
        if hop == 0:
            hits = np.bincount(nbr, minlength=n)
        total += arrived
        if last:
            break
        frontier, level = _next_frontier(view, arrived, params, last_next=hop + 2 == params.hops)
        if not len(frontier):
            break

    active = np.flatnonzero(total > 0)
    return Activation(active, total[active], hits[active], anchor_degree)


def _hop(
    view: View, frontier: I64, level: F64, params: SpreadParams, last: bool
) -> tuple[I64, npt.NDArray[np.int32], F64]:
    """One step: (sender position, receiver, activation carried) for every edge used.

    A memory's links to other memories (its neighbours in time) and to its words are two
    channels: the word channel splits the memory's activation among its words (fan-out
    normalisation); the time channel, a few links by construction, passes it on unsplit,
    forward fully and backward at `params.backward`. Words, names and times link to
    memories only. On the last hop only what reaches memories can change the ranking, so
    memories send along their time channel alone.
    """
    p = view.p
    src, dst, weight = p.s_src.values, p.s_dst.values, p.s_w.values
    fiber_of = p.n_fiber.values
    sender_is_memory = fiber_of[frontier] >= 0
    parts: list[tuple[I64, npt.NDArray[np.int32], F64]] = []
    if last and sender_is_memory.any():
        words = np.flatnonzero(~sender_is_memory)
        memories = np.flatnonzero(sender_is_memory)
        owner, nbr, syn = p.graph.gather(frontier[words], src, dst, view.synapses)
        fanout = np.bincount(owner, minlength=len(words)).astype(np.float64)
        flow = (level[words] / fanout**params.fanout_exponent)[owner] * weight[syn]
        parts.append((words[owner], nbr, flow * params.hop_decay))
        owner, nbr, syn = p.episodes.gather(
            frontier[memories], src, dst, view.synapses, p.between_memories
        )
        owner = memories[owner]
        parts.append((owner, nbr, _episodic(frontier, level, owner, syn, src, weight, params)))
    else:
        owner, nbr, syn = p.graph.gather(frontier, src, dst, view.synapses)
        episodic = (fiber_of[nbr] >= 0) & sender_is_memory[owner]
        channel = owner * 2 + episodic
        fanout = np.bincount(channel, minlength=2 * len(frontier)).astype(np.float64)
        flow = level[owner] / fanout[channel] ** params.fanout_exponent * weight[syn]
        flow *= params.hop_decay
        ep = np.flatnonzero(episodic)
        flow[ep] = _episodic(frontier, level, owner[ep], syn[ep], src, weight, params)
        if last:
            keep = np.flatnonzero(fiber_of[nbr] >= 0)
            owner, nbr, flow = owner[keep], nbr[keep], flow[keep]
        parts.append((owner, nbr, flow))
    if len(parts) == 1:
        return parts[0]
    return (
        np.concatenate([x[0] for x in parts]),
        np.concatenate([x[1] for x in parts]),
        np.concatenate([x[2] for x in parts]),
    )


def _episodic(
    frontier: I64,
    level: F64,
    owner: I64,
    syn: npt.NDArray[np.int32],
    src: npt.NDArray[np.int32],
    weight: npt.NDArray[np.float32],
    params: SpreadParams,
) -> F64:
    """Activation a memory passes to a neighbour in time: unsplit, weaker backward."""
    backward = src[syn] == frontier[owner]  # the sender is the later memory
    gain = np.where(backward, params.backward, 1.0) * (params.episodic * params.hop_decay)
    carried: F64 = level[owner] * weight[syn] * gain
    return carried


def _next_frontier(
    view: View, arrived: F64, params: SpreadParams, *, last_next: bool
) -> tuple[I64, F64]:
    """Neurons to expand next: strong enough, best activation per edge first, within budget.

    On the last hop a memory only reaches its few neighbours in time, so it costs a few
    edges whatever its degree; anything else costs its degree.
    """
    p = view.p
    nodes = np.flatnonzero(arrived > 0)
    levels = arrived[nodes]
    strong = np.flatnonzero(levels >= params.threshold * levels.max())
    nodes, levels = nodes[strong], levels[strong]
    cost = np.full(len(nodes), params.episodic_cost, dtype=np.int64)
    costly = np.flatnonzero(p.n_fiber.values[nodes] < 0) if last_next else np.arange(len(nodes))
    cost[costly] = p.graph.degree(nodes[costly], p.s_src.values, p.s_dst.values, view.synapses)
    per_edge = levels / np.maximum(cost, 1).astype(np.float64) ** params.fanout_exponent
    order = np.arange(len(nodes))
    if len(order) > params.max_frontier:  # keep the best, found in linear time
        order = np.argpartition(-per_edge, params.max_frontier - 1)[: params.max_frontier]
    order = order[np.argsort(-per_edge[order], kind="stable")]
    within = np.cumsum(cost[order]) <= params.edge_budget
    within[:1] = True
    chosen = np.sort(order[within])
    return nodes[chosen], levels[chosen]
