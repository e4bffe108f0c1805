"""The fold of a reinforcement changes its links in array passes: it leaves exactly the state
(values and journals) that changing them link by link, in the event's order, leaves, with
links pruned before it skipped and a link named twice in one event changed twice."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from test_fold_packed import T0, memories, records

from engine import events as ev
from engine.fold import apply, apply_all
from engine.projection import Projection, state_bytes

# per event: (link as a share of the links that exist, weight, count) pairs; whether it
# carries counts; or a decay sweep that prunes some links
reinforcement = st.tuples(
    st.lists(
        st.tuples(st.floats(0, 0.999), st.floats(0, 1) | st.just(-0.0), st.integers(1, 3)),
        max_size=12,
    ),
    st.booleans(),
)
sweep = st.lists(st.floats(0, 0.999), min_size=1, max_size=3)


def link_by_link(p: Projection, env: ev.Envelope) -> None:
    """A reinforcement folded as the engine did before it worked in array passes."""
    b = env.body
    assert isinstance(b, ev.SynapsesReinforced)
    counts = b.counts or [1] * len(b.synapses)
    for syn, weight, count in zip(b.synapses, b.weights, counts, strict=True):
        if p.s_dead[syn] <= env.seq:
            continue
        p.s_w.change(syn, weight, env.seq)
        p.s_t.change(syn, env.t, env.seq)
        p.s_count.change(syn, int(p.s_count[syn]) + count, env.seq)
    p.relinked(b.synapses)
    p.seq = env.seq
    p.times.append(env.t)
    p.n_at.append(p.neuron_count)
    p.s_at.append(p.synapse_count)
    p.f_at.append(p.fiber_count)


@settings(max_examples=80, deadline=None)
@given(spec=memories, steps=st.lists(reinforcement | sweep, max_size=6))
def test_a_reinforcement_folds_as_link_by_link(spec: list[Any], steps: list[Any]) -> None:
    envs = records(spec, packed=True)
    p, reference = apply_all(Projection("b"), envs), apply_all(Projection("b"), envs)
    links = p.synapse_count
    for i, step in enumerate(steps):
        seq, t = p.seq + 1, T0 + 10**9 + i
        if isinstance(step, list):
            pruned = sorted({int(share * links) for share in step}) if links else []
            env = ev.Envelope(seq, t, f"d{i}", ev.DecayApplied(pruned=pruned))
            apply(p, env)
            apply(reference, env)
            continue
        pairs, counted = step
        pairs = pairs if links else []
        body = ev.SynapsesReinforced(
            synapses=[int(share * links) for share, _, _ in pairs],
            weights=[w for _, w, _ in pairs],
            counts=[c for _, _, c in pairs] if counted else [],
        )
        env = ev.Envelope(seq, t, f"r{i}", body)
        apply(p, env)
        link_by_link(reference, env)
    assert state_bytes(p) == state_bytes(reference)
    for seq in range(len(envs), p.seq + 1):  # and every past view of the links
        a, b = p.view(seq, T0), reference.view(seq, T0)
        for name in ("s_w", "s_t", "s_count"):
            assert a.col(name).tobytes() == b.col(name).tobytes()
