"""`spread`'s fast path against the plain computation (hypothesis).

`spread` sums activation into reused work arrays and reads back only the neurons each hop
reached, and its first hop cuts hub anchors and large seed sets (`SpreadParams.first_cap`).
The oracle here does the same arithmetic the plain way: each anchor's links found by
scanning the synapse list, the first hop's cut applied link by link, and dense arrays the
size of the brain summed with `bincount`, as `spread` did before it had a fast path. The
later hops' choices (`_hop`, `_next_frontier`) are shared: they are not what is tested.
"""

from __future__ import annotations

import numpy as np
from helpers import fold_memory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import events as ev
from engine.activation import (
    Activation,
    SpreadParams,
    _hop,
    _next_frontier,
    live_edges,
    live_episodes,
    spread,
)
from engine.fold import apply
from engine.model import NEURON_TYPES, SYNAPSE_TYPES, NeuronType, SynapseType
from engine.projection import Projection, View

CONCEPT = NEURON_TYPES.index(NeuronType.CONCEPT)
RELATED = SYNAPSE_TYPES.index(SynapseType.RELATED_TO)
AFTER = SYNAPSE_TYPES.index(SynapseType.AFTER)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

memories = st.lists(
    st.tuples(
        st.lists(st.integers(0, 7), unique=True, max_size=5),  # words (of 8)
        st.lists(st.integers(1, 3), unique=True, max_size=2),  # neighbours: k memories back
        st.booleans(),  # forgotten later: its links weigh 0 (not live)
        st.booleans(),  # sync the adjacency (forced) after this memory
    ),
    min_size=1,
    max_size=30,
)


def build(history: list[tuple[list[int], list[int], bool, bool]]) -> Projection:
    p = Projection("s")
    apply(p, ev.Envelope(1, 1, "c", ev.BrainCreated("s")))
    anchors: list[int] = []
    for words, back, _, sync in history:
        fold_memory(p, anchors, words, back, varied=True)
        if sync:
            p.sync_graph(force=True)
    for i, (_, _, forgotten, _) in enumerate(history):
        if forgotten:
            apply(p, ev.Envelope(p.seq + 1, 1, "c", ev.MemoryForgotten(f"m{i}")))
    return p


def plain_first_hop(
    view: View, anchors: list[int], cap: int, seeds: tuple[np.ndarray, np.ndarray] | None
) -> tuple[list[tuple[int, int, float]], np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    """(anchor position, neighbour, weight) of the first hop's live edges, the anchors'
    degrees, and the seeds kept: rarest group first, a group of more than `cap` keeping its
    last `cap` and those a group before it reached."""
    src = view.p.s_src.values[: view.synapses].tolist()
    dst = view.p.s_dst.values[: view.synapses].tolist()

    def row(node: int) -> list[tuple[int, int]]:  # (neighbour, synapse), oldest first
        out = []
        for syn, (s, d) in enumerate(zip(src, dst, strict=True)):
            out += [(d, syn)] * (s == node) + [(s, syn)] * (d == node)
        return out

    rows = [row(a) for a in anchors]
    sizes = [len(r) for r in rows] + [0 if seeds is None else len(seeds[0])]
    reached: set[int] = set()
    edges: list[tuple[int, int, float]] = []
    live = [0] * len(anchors)
    kept = seeds
    for i in sorted(range(len(sizes)), key=lambda i: (sizes[i], i)):
        if i == len(anchors):
            if seeds is not None:
                nodes = seeds[0].tolist()
                keep = [j for j, x in enumerate(nodes) if j >= len(nodes) - cap or x in reached]
                kept = seeds[0][keep], seeds[1][keep]
                reached |= {nodes[j] for j in keep}
            continue
        r = rows[i]
        keep_links = [(x, s) for j, (x, s) in enumerate(r) if j >= len(r) - cap or x in reached]
        syns = np.asarray([s for _, s in keep_links], dtype=np.int64)
        for (x, _), w in zip(keep_links, view.link_weights(syns).tolist(), strict=True):
            if w > 0:
                edges.append((i, x, w))
                live[i] += 1
        reached |= {x for i2, x, _ in edges if i2 == i}
    degree = [s if s > cap else n for s, n in zip(sizes, [*live, 0], strict=True)][:-1]
    return edges, np.asarray(degree, dtype=np.int64), kept


def plain_spread(
    view: View,
    anchors: np.ndarray,
    params: SpreadParams,
    seeds: tuple[np.ndarray, np.ndarray] | None,
) -> Activation:
    """The spread with dense arrays the size of the brain (the anchors start at level 1)."""
    n = view.neurons
    edges, degree, seeds = plain_first_hop(view, anchors.tolist(), params.first_cap, seeds)
    owner = np.asarray([e[0] for e in edges], dtype=np.int64)
    nbr = np.asarray([e[1] for e in edges], dtype=np.int64)
    weight = np.asarray([e[2] for e in edges], dtype=np.float64)
    level = np.ones(len(anchors))
    total = np.zeros(n)
    total[anchors] += level
    flow = (level / np.maximum(degree, 1))[owner] * weight * params.hop_decay
    hits = np.bincount(nbr, minlength=n)
    if seeds is not None:
        np.add.at(hits, seeds[0], 1)
    frontier: np.ndarray = anchors
    for hop in range(params.hops):
        if hop:
            nbr, flow = _hop(view, frontier, level, params, last=hop + 1 == params.hops)
        if not len(nbr) and (hop or seeds is None):
            break
        arrived = np.bincount(nbr, weights=flow, minlength=n) if len(nbr) else np.zeros(n)
        if not hop and seeds is not None:
            np.add.at(arrived, seeds[0], seeds[1])
        total += arrived
        if hop + 1 == params.hops:
            break
        reached = np.flatnonzero(arrived > 0)
        frontier, level = _next_frontier(
            view, reached, arrived[reached], params, last_next=hop + 2 == params.hops
        )
        if not len(frontier):
            break
    active = np.flatnonzero(total > 0)
    return Activation(active, total[active], hits[active], degree)


@SETTINGS
@given(history=memories, data=st.data())
def test_spread_equals_the_plain_computation(
    history: list[tuple[list[int], list[int], bool, bool]], data: st.DataObject
) -> None:
    p = build(history)
    p.sync_graph(force=data.draw(st.booleans(), label="merged"))
    seq = data.draw(st.integers(1, p.seq), label="seq")
    view = p.view(seq, 1)
    if not view.neurons:
        return
    words = sorted(v for k, v in p.keys.items() if v < view.neurons)
    anchors = np.asarray(sorted(data.draw(st.sets(st.sampled_from(words))) if words else []))
    anchors = anchors.astype(np.int64)
    memory_nodes = p.f_anchor.values[: view.fibers].astype(np.int64)
    picked = data.draw(st.lists(st.sampled_from(memory_nodes.tolist()), max_size=8))
    seeds = None
    if picked:
        seeds = np.asarray(picked, dtype=np.int64), np.linspace(0.1, 0.9, len(picked))
    params = SpreadParams(
        hops=data.draw(st.integers(1, 4), label="hops"),
        first_cap=data.draw(st.integers(1, 6), label="cap"),
        edge_budget=data.draw(st.integers(1, 40), label="budget"),
        # the neurons reached found from the indices written, or by a pass over the brain
        sort_share=data.draw(st.sampled_from([0, 8, 1 << 40]), label="sort_share"),
    )
    want = plain_spread(view, anchors, params, seeds)
    for _ in range(2):  # the work arrays, reused, start clean
        got = spread(view, anchors, lambda d: np.ones(len(d)), params, seeds)
        assert got.nodes.tolist() == want.nodes.tolist()
        assert got.hits.tolist() == want.hits.tolist()
        assert got.anchor_degree.tolist() == want.anchor_degree.tolist()
        np.testing.assert_allclose(got.level, want.level, rtol=1e-12)


def test_a_hub_anchor_sends_along_its_newest_links_and_those_rarer_cues_reached() -> None:
    # word 0 is linked to memories 0..9, word 1 to memory 0 only
    p = build([([0, 1], [], False, False)] + [([0], [], False, False)] * 9)
    view = p.view(p.seq, 1)
    hub, rare = p.keys["k:w0"], p.keys["k:w1"]
    anchors = np.asarray(sorted([hub, rare]), dtype=np.int64)
    memory = p.f_anchor.values.tolist()
    ones = lambda d: np.ones(len(d))  # noqa: E731

    def reached(cap: int, seeds: tuple[np.ndarray, np.ndarray] | None = None) -> list[int]:
        act = spread(view, anchors, ones, SpreadParams(hops=1, first_cap=cap), seeds)
        assert act.anchor_degree.tolist() == [10, 1] if hub < rare else [1, 10]
        return sorted(memory.index(n) for n in act.nodes.tolist() if n in memory)

    assert reached(10) == list(range(10))
    assert reached(3) == [0, 7, 8, 9]  # its 3 newest, and the one the rare word reached
    seed = np.asarray([memory[4]], dtype=np.int64), np.asarray([0.5])
    assert reached(3, seed) == [0, 4, 7, 8, 9]  # ... and the one a cue picked out


@SETTINGS
@given(history=memories, data=st.data())
def test_episodic_edges_and_their_direction_equal_the_plain_scan(
    history: list[tuple[list[int], list[int], bool, bool]], data: st.DataObject
) -> None:
    """`live_episodes` reads whether a neighbour in time is earlier from a flag kept with the
    episodic adjacency (made on first use, carried by later merges); the plain way is every
    live link between two memories, its direction taken from the synapse's source and type."""
    p = build(history)
    if data.draw(st.booleans(), label="flags made before the last merge"):
        live_episodes(p.view(p.seq, 1), p.f_anchor.values.astype(np.int64))
    p.sync_graph(force=data.draw(st.booleans(), label="merged"))
    src, kind = p.s_src.values.tolist(), p.s_type.values.tolist()
    for seq in range(1, p.seq + 1):
        view = p.view(seq, 1)
        memories_ = np.unique(p.f_anchor.values[: view.fibers]).astype(np.int64)
        owner, nbr, syn, weight = live_edges(view, memories_)
        between = p.n_fiber.values[nbr] >= 0
        want = sorted(
            (int(memories_[o]), int(x), (src[s] == memories_[o]) == (kind[s] == AFTER), w)
            for o, x, s, w, b in zip(owner, nbr, syn, weight.tolist(), between, strict=True)
            if b
        )
        o2, x2, earlier, w2 = live_episodes(view, memories_)
        got = zip(memories_[o2].tolist(), x2.tolist(), earlier.tolist(), w2.tolist(), strict=True)
        assert sorted(got) == want
