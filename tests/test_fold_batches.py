"""Events folded a list at a time (`apply_batches`, what a log's `Reader.batches` gives): the
same state as folding them one by one, however a log of memories mixed with other events is
cut into lists; and a reader's lists are its events, in order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from test_fold_packed import T0, memories, records

from engine import events as ev
from engine.fold import apply, apply_batches
from engine.logstore.base import BATCH
from engine.logstore.lmdb import LmdbLogStore
from engine.projection import Projection, state_bytes


def mixed(spec: list[Any], others: list[int]) -> list[ev.Envelope]:
    """Memories with a pin, a reinforcement or a decay sweep after some of them."""
    bodies: list[Any] = []
    links = 0
    for env in records(spec, packed=True):
        bodies.append(env.body)
        if isinstance(env.body, ev.MemoryEncoded):
            links += len(env.body.link_columns())
            kind = others[len(bodies) % len(others)] if others else 0
            if kind == 1:
                bodies.append(ev.MemoryPinned(fiber_id=env.body.fiber_id))
            elif kind == 2 and links:
                bodies.append(ev.SynapsesReinforced(synapses=[links - 1, 0], weights=[0.9, 0.7]))
            elif kind == 3 and links:
                bodies.append(ev.DecayApplied(pruned=[links // 2]))
    return [ev.Envelope(i, T0 + i, f"c{i}", body) for i, body in enumerate(bodies, start=1)]


@settings(max_examples=80, deadline=None)
@given(
    spec=memories,
    others=st.lists(st.integers(0, 3), max_size=6),
    cuts=st.lists(st.integers(1, 5), min_size=1, max_size=8),
)
def test_batches_fold_as_events_one_by_one(
    spec: list[Any], others: list[int], cuts: list[int]
) -> None:
    envs = mixed(spec, others)
    one_by_one = Projection("b")
    for env in envs:
        apply(one_by_one, env)
    batches, at = [], 0
    while at < len(envs):
        size = cuts[len(batches) % len(cuts)]
        batches.append(envs[at : at + size])
        at += size
    assert state_bytes(apply_batches(Projection("b"), batches)) == state_bytes(one_by_one)


def test_a_reader_hands_on_its_events_in_growing_lists(tmp_path: Path) -> None:
    log = LmdbLogStore(tmp_path / "log")
    brain = "0" * 31 + "1"
    n = 3 * BATCH + 5
    log.write(lambda w: [w.append(brain, ev.MemoryPinned(fiber_id=f"m{i}")) for i in range(n)])
    with log.reader() as r:
        sizes = [len(b) for b in r.batches(brain)]
        assert [e.seq for b in r.batches(brain, after=3, upto=n - 2) for e in b] == list(
            range(4, n - 1)
        )
        assert [e.seq for e in r.events(brain, after=BATCH)] == list(range(BATCH + 1, n + 1))
    log.close()
    assert sizes[:3] == [1, 2, 4]
    assert sum(sizes) == n
    assert max(sizes) == BATCH
