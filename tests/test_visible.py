"""The live view's visible memories, reused across views until the next event or expiry,
against the plain computation from the columns (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import events as ev
from engine.fold import apply
from engine.projection import HIDDEN, PINNED, Projection

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

steps = st.lists(
    st.one_of(
        st.tuples(st.just("remember"), st.one_of(st.none(), st.integers(1, 40))),  # expiry
        st.tuples(st.sampled_from(["forget", "pin", "unpin", "restore"]), st.integers(0, 9)),
        st.tuples(st.just("read"), st.integers(0, 50)),  # a view of the live brain at this time
    ),
    min_size=1,
    max_size=40,
)
BODIES = {
    "forget": ev.MemoryForgotten,
    "pin": ev.MemoryPinned,
    "unpin": ev.MemoryUnpinned,
    "restore": ev.MemoryRestored,
}


def plain(p: Projection, time: int) -> list[bool]:
    flags, expires = p.f_flags.values, p.f_expires.values
    pinned = (flags & PINNED) != 0
    return (((flags & HIDDEN) == 0) & (pinned | (expires > time))).tolist()


@SETTINGS
@given(steps)
def test_live_visible_equals_the_plain_computation(script: list[tuple[str, int | None]]) -> None:
    p = Projection("v")
    apply(p, ev.Envelope(1, 0, "c", ev.BrainCreated("v")))
    for action, value in script:
        if action == "read":
            assert value is not None
            got = p.view(p.seq, value).visible()
            assert got.tolist() == plain(p, value)
            assert not got.flags.writeable
            continue
        if action == "remember":
            body: ev.Body = ev.MemoryEncoded(
                fiber_id=f"m{p.fiber_count}",
                text="m",
                first_neuron=p.neuron_count,
                event_start=0,
                event_end=0,
                memory_type="fact",
                priority=5,
                salience=0.5,
                expires_at=value,
            )
        elif p.fiber_count:
            body = BODIES[action](f"m{(value or 0) % p.fiber_count}")
        else:
            continue
        apply(p, ev.Envelope(p.seq + 1, 0, "c", body))
    assert np.array_equal(p.view(p.seq, 0).visible(), plain(p, 0))
