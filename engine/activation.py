"""Spreading activation as a few vectorised sparse steps over the adjacency.

Each hop takes the frontier's edges in one gather, scales the activation by the links'
effective weights (decayed; 0 for pruned links and hidden memories), per-hop decay and the
sender's fan-out (a neuron linked to thousands of memories passes on little to each: the
graph's own inverse document frequency), and sums what arrives. Sums, not maxima: a memory
reached from several anchors outranks one reached from one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import msgspec
import numpy as np
import numpy.typing as npt

from . import sets
from .projection import View

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]


class SpreadParams(msgspec.Struct, frozen=True):
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
    # sorting an index written costs about what a pass over this many neurons does (numpy 2):
    # the neurons a hop reached are found the cheaper way (0: always by sorting)
    sort_share: int = 8


class Activation(msgspec.Struct, frozen=True):
    nodes: I64  # sorted neuron indices that received activation
    level: F64  # total activation per node
    hits: I64  # distinct anchors linked directly to the node (first hop)
    anchor_degree: I64  # live links of each anchor in the view


def live_edges(
    view: View, nodes: I64, *, include_expired: bool = False
) -> tuple[I64, I32, I32, npt.NDArray[np.float32]]:
    """Live edges of `nodes`: (position in `nodes`, neighbour, synapse, effective weight)."""
    p = view.p
    owner, nbr, syn, _, weight = p.graph.gather_weighted(
        nodes,
        p.s_src.values,
        p.s_dst.values,
        view.synapses,
        view.weigher(include_expired=include_expired),
    )
    live = weight > 0
    if not live.all():
        owner, nbr, syn, weight = owner[live], nbr[live], syn[live], weight[live]
    return owner, nbr, syn, weight


def live_episodes(
    view: View, memories: I64, *, include_expired: bool = False
) -> tuple[I64, I32, npt.NDArray[np.bool_], npt.NDArray[np.float32]]:
    """Live links of these memory neurons to other memories (their neighbours in time):
    (position in `memories`, neighbour, whether the neighbour is earlier, effective weight)."""
    p = view.p
    src, dst = p.s_src.values, p.s_dst.values
    weigh = view.weigher(include_expired=include_expired)
    owner, nbr, _, earlier, weight = p.episodes.gather_weighted(
        memories, src, dst, view.synapses, weigh, p.between_memories, p.earlier
    )
    assert earlier is not None
    live = weight > 0
    if not live.all():
        owner, nbr, earlier, weight = owner[live], nbr[live], earlier[live], weight[live]
    return owner, nbr, earlier, weight


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
    with _scratch(n) as work:
        return _spread(view, anchors, initial, params, seeds, work)


def _spread(
    view: View,
    anchors: I64,
    initial: Callable[[I64], F64],
    params: SpreadParams,
    seeds: tuple[I64, F64] | None,
    work: _Scratch,
) -> Activation:
    """`spread` on zeroed work arrays: sums land in them by index, each hop before the last
    reads back the neurons it reached and clears them, so no array the size of the brain is
    made; one is passed over only when that is cheaper than sorting the indices written
    (`_written`). The last hop's sums go into the totals."""
    n = view.neurons
    total, arrived, hits = work.total[:n], work.arrived[:n], work.hits[:n]
    owner, nbr, weight, anchor_degree, seeds = _first_hop(view, anchors, params, seeds, work)
    level = initial(anchor_degree)
    total[anchors] += level
    # words, names and times link to memories only: the first hop is one fan-out channel
    fanout = np.maximum(anchor_degree, 1).astype(np.float64) ** params.fanout_exponent
    flow = (level / fanout)[owner] * weight * params.hop_decay
    first: I64 = nbr.astype(np.int64) if seeds is None else np.concatenate((nbr, seeds[0]))
    np.add.at(hits, first, 1)  # (an int64 count: other types take a slow path)
    frontier = anchors
    into_total: list[npt.NDArray[np.integer]] = [anchors]  # where `total` was written
    for hop in range(params.hops):
        last = hop + 1 == params.hops
        if hop:
            nbr, flow = _hop(view, frontier, level, params, last=last)
        if not len(nbr) and (hop or seeds is None):
            break
        # what the last hop carries is expanded no further: it is summed into the totals
        # directly, with no pass over the brain for the neurons it reached
        into = total if last else arrived
        np.add.at(into, nbr, flow)  # in edge order, as a bincount sums
        if not hop and seeds is not None:
            np.add.at(into, seeds[0], seeds[1])
        written = nbr if hop else first  # the first hop's receivers and the seeds
        if last:
            into_total.append(written)
            break
        reached = _written(arrived, [written], params.sort_share)
        into_total.append(reached)
        levels = arrived[reached]
        arrived[reached] = 0.0
        total[reached] += levels
        frontier, level = _next_frontier(
            view, reached, levels, params, last_next=hop + 2 == params.hops
        )
        if not len(frontier):
            break
    active = _written(total, into_total, params.sort_share)
    out = Activation(active, total[active], hits[active], anchor_degree)
    total[active] = 0.0
    hits[first] = 0
    return out


def _written(values: F64, written: list[npt.NDArray[np.integer]], sort_share: int) -> I64:
    """Sorted indices of the positive `values`, all of them among `written`: from the
    indices, sorted, when they are few beside the array (at a million memories a hop writes
    a few percent of it), else by a pass over the array. Either way the same answer."""
    count = sum(len(w) for w in written)
    if count * sort_share >= len(values):
        return np.flatnonzero(values > 0)
    # as int32 (what the adjacency holds), which sorts in half the time of int64; a row's
    # neighbours are in the order of its links, mostly that of their neurons, and a hop's
    # senders are sorted: what a hop writes is a few ascending runs
    nodes = sets.unique(np.concatenate(written, dtype=np.int32), runs=True).astype(np.int64)
    return nodes[values[nodes] > 0]


class _Scratch:
    """Work arrays of one spread, zero (False) between uses, for neurons up to `size`."""

    __slots__ = ("arrived", "hits", "marks", "size", "total")

    def __init__(self, size: int) -> None:
        self.size = size
        self.total = np.zeros(size, dtype=np.float64)
        self.arrived = np.zeros(size, dtype=np.float64)
        self.hits = np.zeros(size, dtype=np.int64)
        self.marks = np.zeros(size, dtype=bool)


_POOL: list[_Scratch] = []  # one per concurrent spread that has run: reused, never shared


@contextmanager
def _scratch(n: int) -> Iterator[_Scratch]:
    """Zeroed work arrays for `n` neurons. Fresh arrays the size of the brain on every recall
    would fault in their pages each time (most of a recall's time at a million memories);
    these are reused. A spread that fails may leave them dirty: they are dropped then."""
    work = None
    while _POOL and work is None:
        work = _POOL.pop()
        if work.size < n:
            work = None
    if work is None:
        work = _Scratch(n + n // 4 + 64)
    yield work
    _POOL.append(work)


def _first_hop(
    view: View, anchors: I64, params: SpreadParams, seeds: tuple[I64, F64] | None, work: _Scratch
) -> tuple[I64, I32, npt.NDArray[np.float32], I64, tuple[I64, F64] | None]:
    """The anchors' live edges (position in `anchors`, neighbour, weight), their degrees,
    and the seeds the first hop gives their level to.

    An anchor with more than `params.first_cap` links (a word in a large share of the
    brain) sends along its `first_cap` newest links and those to memories that a rarer
    anchor or the seeds reached; seeds more than `first_cap` (a type that picks a large
    share of the memories) are cut alike, to their last `first_cap` and those the anchors
    reached. What a hub adds to the memories other cues found stays exact; what it would
    pass to memories nothing else names, little to each (its IDF is low), goes to its newest
    ones only. That bounds the first hop as the edge budget bounds the later ones, whatever
    the size of the brain. A cut anchor's degree is its links in the view, live or not
    (counting the live ones would mean weighing every link).
    """
    p = view.p
    src, dst = p.s_src.values, p.s_dst.values
    links = p.graph.degree(anchors, src, dst, view.synapses)
    cap, expired = params.first_cap, params.include_expired
    seeded = 0 if seeds is None else len(seeds[0])
    if int(links.max(initial=0)) <= cap and seeded <= cap:
        owner, nbr, _, weight = live_edges(view, anchors, include_expired=expired)
        return owner, nbr, weight, np.bincount(owner, minlength=len(anchors)), seeds
    reached = work.marks
    marked: list[npt.NDArray[np.integer]] = []  # what was marked in `reached`, to clear
    edges: list[tuple[I64, I32, npt.NDArray[np.float32]]] = []
    weigh = view.weigher(include_expired=expired)
    try:
        for i in np.argsort(np.append(links, seeded), kind="stable").tolist():  # rarest first
            if i == len(anchors):  # the seeds
                if seeds is None:
                    continue
                pick = _newest_and_reached(seeds[0], reached, cap)
                seeds = seeds[0][pick], seeds[1][pick]
                marked.append(seeds[0])
            else:
                nbr, weight = p.graph.row(
                    int(anchors[i]), src, dst, view.synapses, weigh,
                    lambda nbr: _newest_and_reached(nbr, reached, cap),
                )  # fmt: skip
                live = np.flatnonzero(weight > 0)
                edges.append((np.full(len(live), i, dtype=np.int64), nbr[live], weight[live]))
                marked.append(edges[-1][1])
            reached[marked[-1]] = True
    finally:
        for nodes in marked:
            reached[nodes] = False
    owner = np.concatenate([e[0] for e in edges]) if edges else np.empty(0, dtype=np.int64)
    degree = np.where(links > cap, links, np.bincount(owner, minlength=len(anchors)))
    if not edges:
        return owner, np.empty(0, dtype=np.int32), np.empty(0, dtype=np.float32), degree, seeds
    nbr = np.concatenate([e[1] for e in edges])
    return owner, nbr, np.concatenate([e[2] for e in edges]), degree, seeds


def _newest_and_reached(
    nodes: npt.NDArray[np.integer], reached: npt.NDArray[np.bool_], cap: int
) -> npt.NDArray[np.intp] | slice:
    """Which of these (oldest first) a hub keeps: the last `cap`, and those reached."""
    if len(nodes) <= cap:
        return slice(None)
    older = len(nodes) - cap  # only these are looked up
    return np.concatenate((np.flatnonzero(reached[nodes[:older]]), np.arange(older, len(nodes))))


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
        memories = np.flatnonzero(sender_is_memory)
        m_owner, m_nbr, earlier, m_weight = live_episodes(
            view, frontier[memories], include_expired=params.include_expired
        )
        episodic = _episodic(level[memories][m_owner], earlier, m_weight, params)
        if len(memories) == len(frontier):  # the usual last hop: from memories alone
            return m_nbr, episodic
        words = np.flatnonzero(~sender_is_memory)
        owner, nbr, _, weight = live_edges(
            view, frontier[words], include_expired=params.include_expired
        )
        fanout = np.bincount(owner, minlength=len(words)).astype(np.float64)
        carried = (level[words] / fanout**params.fanout_exponent)[owner] * weight
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
    earlier = view.p.earlier(frontier[owner[ep]], syn[ep])
    flow[ep] = _episodic(level[owner[ep]], earlier, weight[ep], params)
    if last:
        keep = np.flatnonzero(fiber_of[nbr] >= 0)
        nbr, flow = nbr[keep], flow[keep]
    return nbr, flow


def _episodic(
    sent: F64,
    earlier: npt.NDArray[np.bool_],
    weight: npt.NDArray[np.float32],
    params: SpreadParams,
) -> F64:
    """Activation a memory passes to a neighbour in time, from the sender's level per edge:
    unsplit, weaker backward (to an earlier neighbour, `Projection.earlier`)."""
    gain = np.where(earlier, params.backward, 1.0) * (params.episodic * params.hop_decay)
    carried: F64 = sent * weight * gain
    return carried


def _next_frontier(
    view: View, nodes: I64, levels: F64, params: SpreadParams, *, last_next: bool
) -> tuple[I64, F64]:
    """Of the neurons a hop reached (`nodes`, sorted, and their `levels`), those to expand
    next: strong enough, best activation per edge first, within budget.

    On the last hop a memory only reaches its few neighbours in time, so it costs a few
    edges whatever its degree; anything else costs its degree.
    """
    p = view.p
    if not len(nodes):
        return nodes, levels
    strong = np.flatnonzero(levels >= params.threshold * levels.max())
    nodes, levels = nodes[strong], levels[strong]
    cost = np.full(len(nodes), params.episodic_cost, dtype=np.int64)
    costly = np.flatnonzero(p.n_fiber.values[nodes] < 0) if last_next else np.arange(len(nodes))
    cost[costly] = p.graph.degree(nodes[costly], p.s_src.values, p.s_dst.values, view.synapses)
    per_edge = levels / np.maximum(cost, 1).astype(np.float64) ** params.fanout_exponent
    chosen = sets.top(per_edge, params.max_frontier)  # the best (of equals, the newest)
    if int(cost[chosen].sum()) > params.edge_budget:  # best first, while the budget lasts
        order = chosen[np.argsort(-per_edge[chosen], kind="stable")]
        within = np.cumsum(cost[order]) <= params.edge_budget
        within[:1] = True
        chosen = np.sort(order[within])
    return nodes[chosen], levels[chosen]
