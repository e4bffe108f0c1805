"""Spreading activation as a few vectorised sparse steps over the adjacency.

Each hop takes the frontier's edges in one gather, scales the activation by the links'
effective weights (decayed; 0 for pruned links and hidden memories), per-hop decay and the
sender's fan-out (a neuron linked to thousands of memories passes on little to each: the
graph's own inverse document frequency), and sums what arrives. Sums, not maxima: a memory
reached from several anchors outranks one reached from one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .model import SYNAPSE_TYPES, SynapseType
from .projection import View

_AFTER = SYNAPSE_TYPES.index(SynapseType.AFTER)
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]


@dataclass(frozen=True, slots=True)
class SpreadParams:
    hops: int
    hop_decay: float = 0.5
    threshold: float = 0.02  # neurons below this share of the hop's best are not expanded
    edge_budget: int = 40_000  # edges gathered per hop beyond the first
    first_cap: int = 8192  # newest links a hub anchor sends along on the first hop (see below)
    max_frontier: int = 4096  # neurons expanded per hop beyond the first
    episodic_cost: int = 4  # edges a memory sends on the last hop (its neighbours in time)
    fanout_exponent: float = 1.0
    # memory -> memory links (neighbours in time) carry this gain, unsplit: the turn after a
    # matching one is often the answer; the turn before it, its context (half as strongly)
    episodic: float = 3.0
    backward: float = 0.5
    include_expired: bool = False


@dataclass(frozen=True, slots=True)
class Activation:
    nodes: I64  # sorted neuron indices that received activation
    level: F64  # total activation per node
    hits: I64  # distinct anchors linked directly to the node (first hop)
    anchor_degree: I64  # live links of each anchor in the view


def live_edges(
    view: View, nodes: I64, *, episodes: bool = False, include_expired: bool = False
) -> tuple[I64, I32, I32, npt.NDArray[np.float32]]:
    """Live edges of `nodes`: (position in `nodes`, neighbour, synapse, effective weight)."""
    p = view.p
    src, dst = p.s_src.values, p.s_dst.values
    if episodes:
        owner, nbr, syn = p.episodes.gather(nodes, src, dst, view.synapses, p.between_memories)
    else:
        owner, nbr, syn = p.graph.gather(nodes, src, dst, view.synapses)
    weight = view.link_weights(syn, include_expired=include_expired)
    live = weight > 0
    if not live.all():
        owner, nbr, syn, weight = owner[live], nbr[live], syn[live], weight[live]
    return owner, nbr, syn, weight


def spread(
    view: View,
    anchors: I64,
    initial: Callable[[I64], F64],
    params: SpreadParams,
    seeds: tuple[I64, F64] | None = None,
) -> Activation:
    """Spread from `anchors` (sorted, unique); `initial(degrees)` sets their starting levels.

    `seeds` (memory neurons, levels) are memories a cue picks out without a neuron of its own
    (the memories of a type, or of a period the question names): they receive their level
    on the first hop, as if linked to an anchor, and pass it on from there (to their
    neighbours in time on the last hop).

    Beyond the first hop the frontier is chosen by activation per edge: a neuron linked to
    thousands of memories passes almost nothing to each, so it is expanded only while the
    hop's edge budget lasts. That bounds every hop, however large the brain.
    """
    n = view.neurons
    empty = np.empty(0, dtype=np.int64)
    if not len(anchors) and seeds is None:
        return Activation(empty, np.empty(0), empty, empty)

    owner, nbr, weight, anchor_degree = _first_hop(
        view, anchors, params, None if seeds is None else seeds[0]
    )
    level = initial(anchor_degree)
    total = np.zeros(n, dtype=np.float64)
    total[anchors] += level
    # words, names and times link to memories only: the first hop is one fan-out channel
    fanout = np.maximum(anchor_degree, 1).astype(np.float64) ** params.fanout_exponent
    flow = (level / fanout)[owner] * weight * params.hop_decay
    hits: I64 = np.bincount(nbr, minlength=n)
    if seeds is not None:
        np.add.at(hits, seeds[0], 1)
    frontier = anchors
    for hop in range(params.hops):
        if hop:
            last = hop + 1 == params.hops
            nbr, flow = _hop(view, frontier, level, params, last=last)
        if not len(nbr) and (hop or seeds is None):
            break
        arrived: F64 = (
            np.bincount(nbr, weights=flow, minlength=n)  # type: ignore[assignment]
            if len(nbr)
            else np.zeros(n)  # (bincount of nothing is an integer array)
        )
        if not hop and seeds is not None:
            np.add.at(arrived, seeds[0], seeds[1])
        total += arrived
        if hop + 1 == params.hops:
            break
        frontier, level = _next_frontier(view, arrived, params, last_next=hop + 2 == params.hops)
        if not len(frontier):
            break

    active = np.flatnonzero(total > 0)
    return Activation(active, total[active], hits[active], anchor_degree)


def _first_hop(
    view: View, anchors: I64, params: SpreadParams, seeded: I64 | None
) -> tuple[I64, I32, npt.NDArray[np.float32], I64]:
    """The anchors' live edges (position in `anchors`, neighbour, weight) and their degrees.

    An anchor with more than `params.first_cap` links (a word in a large share of the
    brain) sends along its `first_cap` newest links and those to memories that a rarer
    anchor or a cue's seeds reached. What it adds to the memories other cues found stays
    exact; what it would pass to memories nothing else names, little to each (its IDF is
    low), goes to its newest ones only. That bounds the first hop as the edge budget bounds
    the later ones, whatever the size of the brain. Such an anchor's degree is its links in
    the view, live or not (counting the live ones would mean weighing every link).
    """
    p = view.p
    src, dst = p.s_src.values, p.s_dst.values
    links = p.graph.degree(anchors, src, dst, view.synapses)
    cap, expired = params.first_cap, params.include_expired
    if not len(anchors) or int(links.max()) <= cap:
        owner, nbr, _, weight = live_edges(view, anchors, include_expired=expired)
        return owner, nbr, weight, np.bincount(owner, minlength=len(anchors))
    reached = _take_marks(view.neurons)
    parts: list[tuple[I64, I32, npt.NDArray[np.float32]]] = []
    try:
        if seeded is not None:
            reached[seeded] = True
        for i in np.argsort(links, kind="stable").tolist():  # rarest first
            nbr, syn = p.graph.row(int(anchors[i]), src, dst, view.synapses)
            if len(nbr) > cap:
                keep = reached[nbr]
                keep[-cap:] = True
                pick = np.flatnonzero(keep)
                nbr, syn = nbr[pick], syn[pick]
            weight = view.link_weights(syn, include_expired=expired)
            live = np.flatnonzero(weight > 0)
            nbr, weight = nbr[live], weight[live]
            parts.append((np.full(len(nbr), i, dtype=np.int64), nbr, weight))
            reached[nbr] = True
    finally:
        for _, nbr, _ in parts:
            reached[nbr] = False
        if seeded is not None:
            reached[seeded] = False
        _MARKS.append(reached)
    owner = np.concatenate([part[0] for part in parts])
    degree = np.where(links > cap, links, np.bincount(owner, minlength=len(anchors)))
    return (
        owner,
        np.concatenate([part[1] for part in parts]),
        np.concatenate([part[2] for part in parts]),
        degree,
    )


_MARKS: list[npt.NDArray[np.bool_]] = []  # scratch marks, all False, reused across recalls


def _take_marks(n: int) -> npt.NDArray[np.bool_]:
    """A scratch array of at least `n` False marks (the caller clears what it set and puts
    it back in `_MARKS`): a fresh one per recall would fault in its pages every time."""
    while _MARKS:
        marks = _MARKS.pop()
        if len(marks) >= n:
            return marks
    return np.zeros(n + n // 4 + 64, dtype=bool)


def _hop(
    view: View, frontier: I64, level: F64, params: SpreadParams, *, last: bool
) -> tuple[I32, F64]:
    """One step beyond the first: (receiver, activation carried) for every edge used.

    A memory's links to other memories (its neighbours in time) and to its words are two
    channels: the word channel splits the memory's activation among its words (fan-out
    normalisation); the time channel, a few links by construction, passes it on unsplit,
    forward fully and backward at `params.backward`. On the last hop only what reaches
    memories can change the ranking, so memories send along their time channel alone.
    """
    p = view.p
    fiber_of = p.n_fiber.values
    sender_is_memory = fiber_of[frontier] >= 0
    if last and sender_is_memory.any():
        words = np.flatnonzero(~sender_is_memory)
        memories = np.flatnonzero(sender_is_memory)
        owner, nbr, _, weight = live_edges(
            view, frontier[words], include_expired=params.include_expired
        )
        fanout = np.bincount(owner, minlength=len(words)).astype(np.float64)
        carried = (level[words] / fanout**params.fanout_exponent)[owner] * weight
        m_owner, m_nbr, m_syn, m_weight = live_edges(
            view, frontier[memories], episodes=True, include_expired=params.include_expired
        )
        m_owner = memories[m_owner]
        episodic = _episodic(view, frontier, level, m_owner, m_syn, m_weight, params)
        return (
            np.concatenate((nbr, m_nbr)),
            np.concatenate((carried * params.hop_decay, episodic)),
        )
    owner, nbr, syn, weight = live_edges(view, frontier, include_expired=params.include_expired)
    episodic_edge = (fiber_of[nbr] >= 0) & sender_is_memory[owner]
    channel = owner * 2 + episodic_edge
    fanout = np.bincount(channel, minlength=2 * len(frontier)).astype(np.float64)
    flow: F64 = level[owner] / fanout[channel] ** params.fanout_exponent * weight
    flow *= params.hop_decay
    ep = np.flatnonzero(episodic_edge)
    flow[ep] = _episodic(view, frontier, level, owner[ep], syn[ep], weight[ep], params)
    if last:
        keep = np.flatnonzero(fiber_of[nbr] >= 0)
        nbr, flow = nbr[keep], flow[keep]
    return nbr, flow


def _episodic(
    view: View,
    frontier: I64,
    level: F64,
    owner: I64,
    syn: I32,
    weight: npt.NDArray[np.float32],
    params: SpreadParams,
) -> F64:
    """Activation a memory passes to a neighbour in time: unsplit, weaker backward.

    An `after` link says its source happened after its target (`before`, the reverse), so the
    receiver is earlier than the sender when the sender is the source of an `after` link or
    the target of a `before` one."""
    src, link_type = view.p.s_src.values, view.p.s_type.values
    sender_is_source = src[syn] == frontier[owner]
    backward = sender_is_source == (link_type[syn] == _AFTER)
    gain = np.where(backward, params.backward, 1.0) * (params.episodic * params.hop_decay)
    carried: F64 = level[owner] * weight * gain
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
    if not len(nodes):
        return nodes, arrived[nodes]
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
