"""The live brain's cached link weights against a fresh computation (hypothesis).

The live view remembers each link's effective weight for the hour once a read computed it
(`View.link_weights` for the links a hop gathers, `View.weights` for all), and forgets the
links that events reinforce or prune, or all of them when a memory's state changes. After any
sequence of such events and reads of some links or of all, what it answers must equal the
weights computed from the columns, equal those of a replayed projection that never cached
them, and give the same spreads.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from helpers import fold_memory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import events as ev
from engine.activation import SpreadParams, live_edges, live_episodes, spread
from engine.decay import HOUR_US
from engine.fold import apply
from engine.projection import Projection

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DAY_US = 24 * HOUR_US
Step = tuple[Any, ...]

fraction = st.floats(0, 1, exclude_max=True)
steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("memory"),
            st.lists(st.integers(0, 7), unique=True, max_size=4),
            st.lists(st.integers(1, 3), unique=True, max_size=2),
        ),
        st.tuples(
            st.just("reinforce"),
            st.lists(st.tuples(fraction, st.floats(0.05, 1), st.integers(1, 40)), max_size=6),
        ),
        st.tuples(st.just("prune"), st.lists(fraction, max_size=3)),
        st.tuples(st.just("forget"), fraction),
        st.tuples(st.just("restore"), fraction),
        st.tuples(st.just("later"), st.integers(0, 3 * DAY_US)),
    ),
    max_size=25,
)


def fold(p: Projection, anchors: list[int], step: Step, t: int) -> int:
    """Apply one step at time `t`; returns the time after it."""
    kind, *args = step
    if kind == "later":
        return t + args[0]
    if kind == "memory":
        fold_memory(p, anchors, args[0], args[1], varied=True, t=t)
        return t
    body: ev.Body
    if kind == "reinforce":
        picks = [(int(f * p.synapse_count), w, c) for f, w, c in args[0] if p.synapse_count]
        body = ev.SynapsesReinforced(
            [s for s, _, _ in picks], [w for _, w, _ in picks], counts=[c for _, _, c in picks]
        )
    elif kind == "prune":
        body = ev.DecayApplied(sorted({int(f * p.synapse_count) for f in args[0]}))
    else:
        memory = f"m{int(args[0] * len(anchors))}"
        body = ev.MemoryForgotten(memory) if kind == "forget" else ev.MemoryRestored(memory)
    apply(p, ev.Envelope(p.seq + 1, t, "c", body))
    return t


def started(first: list[list[int]]) -> tuple[Projection, list[int]]:
    """A brain of these memories (their words), each linked to the one before."""
    p, anchors = Projection("w"), list[int]()
    apply(p, ev.Envelope(1, HOUR_US, "c", ev.BrainCreated("w")))
    for words in first:
        fold_memory(p, anchors, words, [1], varied=True, t=HOUR_US)
    return p, anchors


@SETTINGS
@given(
    first=st.lists(
        st.lists(st.integers(0, 7), unique=True, min_size=1, max_size=4), min_size=1, max_size=8
    ),
    steps=steps,
    data=st.data(),
)
def test_cached_weights_equal_a_fresh_computation(
    first: list[list[int]], steps: list[Step], data: st.DataObject
) -> None:
    p, anchors = started(first)
    t, log = HOUR_US, list[tuple[Step, int]]()
    for step in steps:
        t = fold(p, anchors, step, t)
        log.append((step, t))
        read = data.draw(st.sampled_from(["none", "some", "all", "edges"]), label="read")
        view = p.view(p.seq, t)
        if read == "all":
            assert view.weights().tobytes() == view._compute_weights(None).tobytes()
        elif read == "some" and p.synapse_count:  # a hop's links, repeats and all
            rows = np.asarray(
                data.draw(st.lists(st.integers(0, p.synapse_count - 1), max_size=12)),
                dtype=np.int32,
            )
            got = view.link_weights(rows)
            assert got.tobytes() == view._compute_weights(rows).tobytes()
        elif read == "edges":  # a hop's: weights kept beside the adjacency's edges
            p.sync_graph(force=data.draw(st.booleans(), label="merge"))
            picked = sorted(data.draw(st.sets(st.integers(0, p.neuron_count - 1))))
            nodes = np.asarray(picked, dtype=np.int64)
            _, nbr, syn, weight = live_edges(view, nodes)
            assert weight.tobytes() == view._compute_weights(syn).tobytes()
            _, _, all_syn = p.graph.gather(nodes, p.s_src.values, p.s_dst.values, view.synapses)
            assert len(nbr) == int((view._compute_weights(all_syn) > 0).sum())
            memories_ = nodes[p.n_fiber.values[nodes] >= 0]
            _, _, _, m_weight = live_episodes(view, memories_)
            _, _, s2 = p.episodes.gather(
                memories_, p.s_src.values, p.s_dst.values, p.synapse_count, p.between_memories
            )
            want = view._compute_weights(s2)
            assert m_weight.tobytes() == want[want > 0].tobytes()
    view = p.view(p.seq, t)
    got = view.weights()
    assert got.tobytes() == view._compute_weights(None).tobytes()

    again, again_anchors = started(first)  # the same events, its weights computed once
    for step, at in log:
        fold(again, again_anchors, step, at)
    fresh = again.view(again.seq, t)
    assert got.tobytes() == fresh.weights().tobytes()
    for brain in (p, again):  # merged alike: edges in one order, sums in one order
        brain.sync_graph(force=True)
    words = sorted(p.keys.values())
    cues = np.asarray(sorted(data.draw(st.sets(st.sampled_from(words)))), dtype=np.int64)
    params = SpreadParams(hops=3)
    want = spread(fresh, cues, lambda d: np.ones(len(d)), params)
    spread_ = spread(view, cues, lambda d: np.ones(len(d)), params)
    assert spread_.nodes.tolist() == want.nodes.tolist()
    assert spread_.level.tobytes() == want.level.tobytes()
