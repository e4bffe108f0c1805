"""`Adjacency` (engine/graph.py) against a brute-force scan of the synapse list (hypothesis).

The adjacency holds each synapse in both endpoints' rows, in a CSR merged from time to time
plus an unsorted tail; a gather below `limit` must return exactly the edges of the first
`limit` synapses, whatever has been merged, with or without a `select` filter. Past views
rely on that: a view at an earlier seq gathers with `limit = view.synapses`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pytest
from helpers import fold_memory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import events as ev
from engine.fold import apply
from engine.graph import I32, TAIL_LIMIT, Adjacency, Select
from engine.model import NEURON_TYPES, SYNAPSE_TYPES, NeuronType, SynapseType
from engine.projection import Projection

Triple = tuple[int, int, int]  # (node, neighbour, synapse)
PySelect = Callable[[int, int], bool]

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parity(s: int, d: int) -> bool:
    return (s + d) % 2 == 0


SELECTS: dict[str, PySelect | None] = {"all": None, "parity": parity}


def vectorised(select: PySelect | None) -> Select:
    """The same selection as the adjacency takes it: over arrays of endpoints."""
    if select is None:
        return None
    return lambda s, d: (s.astype(np.int64) + d) % 2 == 0


def brute_edges(
    src: list[int], dst: list[int], nodes: list[int], limit: int, select: PySelect | None
) -> list[Triple]:
    """Every synapse below `limit` seen from each of its endpoints that is in `nodes`."""
    wanted = set(nodes)
    out: list[Triple] = []
    for syn in range(min(limit, len(src))):
        s, d = src[syn], dst[syn]
        if select is not None and not select(s, d):
            continue
        if s in wanted:
            out.append((s, d, syn))
        if d in wanted:
            out.append((d, s, syn))
    return sorted(out)


def gathered(
    adj: Adjacency, src: I32, dst: I32, nodes: list[int], limit: int, select: Select
) -> list[Triple]:
    arr = np.asarray(nodes, dtype=np.int64)
    owner, nbr, syn = adj.gather(arr, src, dst, limit, select)
    assert len(owner) == len(nbr) == len(syn)
    return sorted(zip(arr[owner].tolist(), nbr.tolist(), syn.tolist(), strict=True))


def check(
    adj: Adjacency, src: I32, dst: I32, nodes: list[int], limit: int, select: PySelect | None
) -> None:
    want = brute_edges(src.tolist(), dst.tolist(), nodes, limit, select)
    assert gathered(adj, src, dst, nodes, limit, vectorised(select)) == want
    degree = adj.degree(np.asarray(nodes, dtype=np.int64), src, dst, limit, vectorised(select))
    counts = Counter(node for node, _, _ in want)
    assert degree.tolist() == [counts[n] for n in nodes]


def rows_sorted(adj: Adjacency) -> bool:
    """Each CSR row is ordered by synapse: what the binary search for `limit` needs."""
    return all(
        np.all(np.diff(adj.syn[adj.indptr[i] : adj.indptr[i + 1]]) >= 0) for i in range(adj.nodes)
    )


@st.composite
def growing_graphs(draw: st.DrawFn) -> tuple[I32, I32, list[int], list[bool]]:
    """Synapses over a node set that grows as they are added (as neurons do in a brain),
    with the points where the adjacency is synced and whether each sync is forced."""
    n_syn = draw(st.integers(0, 120))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    # node count when each synapse is added: non-decreasing, self-loops allowed
    nodes_at = np.maximum(1, np.sort(rng.integers(1, 40, size=n_syn)))
    src = (rng.random(n_syn) * nodes_at).astype(np.int32)
    dst = (rng.random(n_syn) * nodes_at).astype(np.int32)
    cuts = sorted(draw(st.lists(st.integers(0, n_syn), max_size=5)))
    forced = draw(st.lists(st.booleans(), min_size=len(cuts) + 1, max_size=len(cuts) + 1))
    return src, dst, [*cuts, n_syn], forced


def node_count(src: I32, dst: I32, extra: int = 0) -> int:
    return int(max(src.max(initial=-1), dst.max(initial=-1))) + 1 + extra


@SETTINGS
@given(
    graph=growing_graphs(),
    select_name=st.sampled_from(sorted(SELECTS)),
    data=st.data(),
)
def test_gather_and_degree_match_brute_force(
    graph: tuple[I32, I32, list[int], list[bool]], select_name: str, data: st.DataObject
) -> None:
    src_all, dst_all, cuts, forced = graph
    select = SELECTS[select_name]
    adj = Adjacency()
    for cut, force in zip(cuts, forced, strict=True):
        src, dst = src_all[:cut], dst_all[:cut]  # the live columns at this moment
        n = max(node_count(src, dst, extra=data.draw(st.integers(0, 3))), adj.nodes, 1)
        adj.sync(src, dst, n, vectorised(select), force=force)
        if force:
            assert adj.synapses == cut
            assert adj.nodes == n
        assert rows_sorted(adj)
        nodes = data.draw(st.lists(st.integers(0, n - 1), unique=True, max_size=n).map(sorted))
        # limits below, at and above the CSR, and above every synapse
        limits = {0, adj.synapses, max(adj.synapses - 1, 0), cut, cut + 3}
        limits.add(data.draw(st.integers(0, max(cut, 0))))
        for limit in sorted(limits):
            check(adj, src, dst, nodes, limit, select)


@pytest.mark.parametrize("select_name", sorted(SELECTS))
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), data=st.data())
def test_tail_merges_past_the_limit_without_force(
    select_name: str, seed: int, data: st.DataObject
) -> None:
    select = SELECTS[select_name]
    rng = np.random.default_rng(seed)
    total = 3 * (TAIL_LIMIT // 2 + 100)
    n_nodes = 300
    src_all = rng.integers(0, n_nodes, total).astype(np.int32)
    dst_all = rng.integers(0, n_nodes, total).astype(np.int32)
    adj = Adjacency()
    step = total // 3  # above half the tail limit: every second sync merges
    expected_csr = [0, 2 * step, 2 * step]
    for k in range(3):
        cut = (k + 1) * step
        src, dst = src_all[:cut], dst_all[:cut]
        adj.sync(src, dst, n_nodes, vectorised(select))
        assert adj.synapses == expected_csr[k]
        nodes = sorted(set(rng.integers(0, n_nodes, 25).tolist()))
        limits = {adj.synapses, cut, data.draw(st.integers(0, cut))}
        limits.add(max(adj.synapses - 1, 0))
        limits.add(data.draw(st.integers(0, max(adj.synapses, 1))))
        for limit in sorted(limits):
            check(adj, src, dst, nodes, limit, select)
    assert rows_sorted(adj)


def flag_of(node: int, syn: int) -> bool:
    return (7 * node + syn) % 3 == 0


def vectorised_flag(nodes: np.ndarray, syn: I32) -> np.ndarray:
    return (7 * nodes + syn.astype(np.int64)) % 3 == 0


class Weights:
    """A weight per synapse that tests change, with the token a change of all renews."""

    def __init__(self) -> None:
        self.of: dict[int, float] = {}
        self.token: object | None = object()

    def __call__(self, syn: I32) -> npt.NDArray[np.float32]:
        return np.asarray([self.of.get(s, (s % 5) / 4) for s in syn.tolist()], dtype=np.float32)


@SETTINGS
@given(
    graph=growing_graphs(),
    select_name=st.sampled_from(sorted(SELECTS)),
    data=st.data(),
)
def test_weighted_gather_matches_brute_force(
    graph: tuple[I32, I32, list[int], list[bool]], select_name: str, data: st.DataObject
) -> None:
    """`gather_weighted`'s flags, kept beside the CSR (made on first use, carried through the
    merges after it) and computed for the tail, are the flag of each edge found by a scan; its
    weights, kept beside the CSR for a token, are what the weigher says now, after weights
    changed for some synapses (`forget_weights`) or for all (a new token), as are `row`'s."""
    src_all, dst_all, cuts, forced = graph
    select = SELECTS[select_name]
    adj, weigh = Adjacency(), Weights()
    for cut, force in zip(cuts, forced, strict=True):
        src, dst = src_all[:cut], dst_all[:cut]
        n = max(node_count(src, dst, extra=data.draw(st.integers(0, 3))), adj.nodes, 1)
        adj.sync(src, dst, n, vectorised(select), force=force, flag=vectorised_flag)
        change = data.draw(st.sampled_from(["none", "some", "all", "untracked"]), label="change")
        if change == "all":
            weigh.of, weigh.token = dict.fromkeys(range(cut), 0.5), object()
        elif change == "untracked":
            weigh.token = None
        elif change == "some" and cut:
            changed = data.draw(st.lists(st.integers(0, cut - 1), max_size=6), label="changed")
            weigh.token = weigh.token or object()
            weigh.of.update({s: 0.75 - weigh.of.get(s, 0.0) for s in changed})
            adj.forget_weights(np.asarray(changed, dtype=np.int64), src, dst)
        if not data.draw(st.booleans(), label="gather now"):
            continue
        nodes = data.draw(st.lists(st.integers(0, n - 1), unique=True, max_size=n).map(sorted))
        arr = np.asarray(nodes, dtype=np.int64)
        for limit in sorted({0, adj.synapses, cut, data.draw(st.integers(0, max(cut, 0)))}):
            got = adj.gather_weighted(
                arr, src, dst, limit, weigh, vectorised(select), vectorised_flag
            )
            assert got[3] is not None
            _, nbr, syn, flags, weights = (a.tolist() for a in got)
            assert weights == weigh(got[2]).tolist()
            edges = zip(arr[got[0]].tolist(), nbr, syn, flags, strict=True)
            want = brute_edges(src.tolist(), dst.tolist(), nodes, limit, select)
            assert sorted(edges) == [(a, b, s, flag_of(a, s)) for a, b, s in want]
            assert gathered(adj, src, dst, nodes, limit, vectorised(select)) == want
        if select is None and nodes:  # a row, oldest first, what a pick keeps of it
            node, limit = nodes[0], data.draw(st.integers(0, max(cut, 0)))
            want_row = sorted((s, b) for a, b, s in brute_edges(
                src.tolist(), dst.tolist(), [node], limit, None
            ))  # fmt: skip
            keep = data.draw(
                st.lists(st.booleans(), min_size=len(want_row), max_size=len(want_row))
            )
            picked = np.flatnonzero(keep)
            nbr_, weights_ = adj.row(node, src, dst, limit, weigh, lambda _, picked=picked: picked)
            kept = [sb for sb, k in zip(want_row, keep, strict=True) if k]
            assert nbr_.tolist() == [b for _, b in kept]
            syns = np.asarray([s for s, _ in kept], dtype=np.int32)
            assert weights_.tolist() == weigh(syns).tolist()


def test_gather_of_no_nodes_and_empty_graph() -> None:
    adj = Adjacency()
    empty = np.empty(0, dtype=np.int32)
    owner, nbr, syn = adj.gather(np.empty(0, dtype=np.int64), empty, empty, 10)
    assert len(owner) == len(nbr) == len(syn) == 0
    adj.sync(empty, empty, 5, force=True)
    nodes = np.arange(5, dtype=np.int64)
    assert adj.degree(nodes, empty, empty, 10).tolist() == [0] * 5
    assert len(adj.gather(nodes, empty, empty, 10)[0]) == 0


# -- through the projection: a view's gathers stop at its own synapse count -------------------

CONCEPT = NEURON_TYPES.index(NeuronType.CONCEPT)
RELATED = SYNAPSE_TYPES.index(SynapseType.RELATED_TO)
AFTER = SYNAPSE_TYPES.index(SynapseType.AFTER)

memories = st.lists(
    st.tuples(
        st.lists(st.integers(0, 11), unique=True, max_size=4),  # words (of 12)
        st.lists(st.integers(1, 3), unique=True, max_size=2),  # neighbours: k memories back
        st.booleans(),  # sync the adjacency (forced) after this memory
    ),
    min_size=1,
    max_size=25,
)


@SETTINGS
@given(history=memories, data=st.data())
def test_projection_views_gather_only_their_own_links(
    history: list[tuple[list[int], list[int], bool]], data: st.DataObject
) -> None:
    p = Projection("g")
    apply(p, ev.Envelope(1, 1, "c", ev.BrainCreated("g")))
    anchors: list[int] = []
    for words, back, sync in history:
        fold_memory(p, anchors, words, back)
        if sync:
            p.sync_graph(force=True)
    p.sync_graph(force=data.draw(st.booleans()))

    src, dst = p.s_src.values, p.s_dst.values
    fiber_of = p.n_fiber.values

    def between(s: int, d: int) -> bool:
        return bool(fiber_of[s] >= 0 and fiber_of[d] >= 0)

    for seq in range(1, p.seq + 1):
        view = p.view(seq, 1)
        nodes = list(range(view.neurons))
        arr = np.asarray(nodes, dtype=np.int64)
        want = brute_edges(src.tolist(), dst.tolist(), nodes, view.synapses, None)
        assert gathered(p.graph, src, dst, nodes, view.synapses, None) == want
        assert all(nbr < view.neurons for _, nbr, _ in want)
        want_ep = brute_edges(src.tolist(), dst.tolist(), nodes, view.synapses, between)
        got_ep = gathered(p.episodes, src, dst, nodes, view.synapses, p.between_memories)
        assert got_ep == want_ep
        degree = p.graph.degree(arr, src, dst, view.synapses)
        assert int(degree.sum()) == 2 * view.synapses  # each link counted at both ends
