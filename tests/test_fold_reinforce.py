"""The fold of a reinforcement changes its links in array passes: it leaves exactly the state
(values and journals) that changing them link by link, in the event's order, leaves, with
links pruned before it skipped and a link named twice in one event changed twice."""

from __future__ import annotations

from typing import Any

import msgspec
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_fold_packed import T0, memories, records

from engine import events as ev
from engine.decay import DAY_US, HOUR_US, retention
from engine.errors import IntegrityError
from engine.fold import apply, apply_all
from engine.projection import MAX_SEQ, PINNED, Projection, state_bytes

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
        p.s_clock.change(syn, env.seq, env.seq)
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
        for name in ("s_w", "s_clock", "s_count"):
            assert a.col(name).tobytes() == b.col(name).tobytes()


COUNT_TOP = 2**16 - 1
# per event: (link as a share of the links that exist, count) pairs, and the time since the
# last event (0: several events at one time)
recalled = st.tuples(
    st.lists(st.tuples(st.floats(0, 0.999), st.integers(1, 40_000)), max_size=8),
    st.sampled_from([0, 1, HOUR_US, 3 * DAY_US]),
)


@settings(max_examples=60, deadline=None)
@given(spec=memories, steps=st.lists(recalled, max_size=6), later=st.integers(0, 400 * DAY_US))
def test_link_clocks_as_seqs_and_saturating_counts_decay_links_as_times_and_counts_did(
    spec: list[Any], steps: list[Any], later: int
) -> None:
    """A link's clock is kept as the seq whose time started it, and its count saturates at
    65,535: in every view, live and past, a link's clock time and count are the time (int64)
    and the count (unbounded, taken at 65,535 past it) of the events that set them, and its
    decay is that of those numbers."""
    envs = records(spec, packed=True)
    p = apply_all(Projection("b"), envs)
    clock = [env.t for env in envs[1:] for _ in range(len(env.body.links) // ev.LINK.itemsize)]
    count = [0] * len(clock)
    then = {p.seq: (list(clock), list(count))}
    for i, (pairs, gap) in enumerate(steps):
        seq, t = p.seq + 1, p.time_of(p.seq) + gap
        synapses = [int(share * len(clock)) for share, _ in pairs] if clock else []
        counts = [c for _, c in pairs][: len(synapses)]
        weights = [0.5] * len(synapses)
        body = ev.SynapsesReinforced(synapses=synapses, weights=weights, counts=counts)
        apply(p, ev.Envelope(seq, t, f"r{i}", body))
        for syn, c in zip(synapses, counts, strict=True):
            if p.s_dead[syn] > seq:
                clock[syn], count[syn] = t, count[syn] + c
        then[seq] = (list(clock), list(count))
    for seq, (times, counts) in then.items():
        view = p.view(seq, p.time_of(p.seq) + later)
        owner = p.n_fiber.values[p.s_src.values[: view.synapses]]
        kinds, pinned = view.col("f_type")[owner], (view.col("f_flags")[owner] & PINNED) != 0
        assert p.clock_times(view.col("s_clock")).tolist() == times
        assert view.col("s_count").tolist() == [min(c, COUNT_TOP) for c in counts]
        by_time = retention(
            np.arange(1, len(times) + 1, dtype=np.int32), np.asarray(times, dtype=np.int64),
            np.minimum(counts, COUNT_TOP).astype(np.uint16), kinds, pinned, view.time,
        )  # fmt: skip
        kept = retention(view.col("s_clock"), p.times.values, view.col("s_count"), kinds, pinned,
                         view.time)  # fmt: skip
        assert kept.tobytes() == by_time.tobytes()


def test_no_event_past_the_seqs_link_columns_hold_is_folded() -> None:
    """Link columns hold seqs as int32: an event at MAX_SEQ folds (a link pruned by it is dead
    from then on), one past it is refused before anything changes, memories or not."""
    envs = records([(1, [(0.5, 0, 1.0)], False), (0, [(0.1, 0, 1.0)], False)], packed=True)
    p = apply_all(Projection("b"), envs[:-1])
    p.seq = MAX_SEQ - 1  # as if the events between had been folded
    apply(p, ev.Envelope(MAX_SEQ, T0 + 10**9, "d", ev.DecayApplied(pruned=[0])))
    assert p.s_dead[0] == MAX_SEQ
    assert p.view(MAX_SEQ, T0).weights()[0] == 0.0
    before = state_bytes(p)
    later = (
        msgspec.structs.replace(envs[-1], seq=MAX_SEQ + 1),
        ev.Envelope(MAX_SEQ + 1, T0 + 10**9, "r", ev.SynapsesReinforced(synapses=[0], weights=[1])),
    )
    for env in later:
        with pytest.raises(IntegrityError, match="past the last a brain can hold"):
            apply(p, env)
        assert state_bytes(p) == before
