"""Reinforcement a person can live with: recalls in many processes (each CLI recall is one)
coalesce into one event per REINFORCE_EVERY recalls or per interval, waiting in the log's
meta meanwhile; histories fold runs of reinforcement into one line; the demo's rerun and
empty automatic sweeps append nothing. Replay and past views are unaffected by what waits.
Deciding the event resolves the recalled memories' ids without indexing every id."""

from __future__ import annotations

import io
from contextlib import redirect_stdout
from pathlib import Path

from helpers import Clock, fold_memory
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.cli.main import main
from engine import Store
from engine import events as ev
from engine.brain import REINFORCE_EVERY, REINFORCE_INTERVAL_US
from engine.fold import apply, apply_all
from engine.projection import Projection, from_arrays, state_bytes, to_arrays
from engine.retrieval import memories_at


def replayed(store: Store, brain_id: str) -> bytes:
    p = Projection(brain_id)
    with store.log.reader() as r:
        apply_all(p, r.events(brain_id))
    return state_bytes(p)


def kinds(store: Store) -> list[str]:
    return [e.type for e in store.brain("t").history()]


def one_recall(path: Path, clock: Clock, query: str = "payments roadmap") -> list[int]:
    """What one `nmem recall` does: open the store, recall, close."""
    with Store(path, clock=clock) as store:
        return list(store.brain("t").recall(query).links)


def test_recalls_in_separate_processes_make_one_event(store_path: Path) -> None:
    clock = Clock()
    with Store(store_path, clock=clock) as store:
        m = store.brain("t").remember("Alice owns the payments roadmap")
    links = []
    for _ in range(REINFORCE_EVERY - 1):
        links = one_recall(store_path, clock)
    with Store(store_path, clock=clock) as store:
        assert kinds(store) == ["brain_created", "memory_encoded"]  # all of them still waiting
        before = store.brain("t")._refreshed().s_count.values[links].tolist()
    one_recall(store_path, clock)  # the REINFORCE_EVERY-th
    with Store(store_path, clock=clock) as store:
        brain = store.brain("t")
        assert kinds(store) == ["brain_created", "memory_encoded", "synapses_reinforced"]
        [entry] = brain.history(m.id, types=["synapses_reinforced"])
        body = entry.event["body"]
        assert body["recalls"] == REINFORCE_EVERY
        assert body["uses"] == [REINFORCE_EVERY]
        assert body["counts"] == [REINFORCE_EVERY] * len(links)
        p = brain._refreshed()
        # every recall counts towards how slowly the link decays, not every event
        assert (p.s_count.values[links] - before).tolist() == [REINFORCE_EVERY] * len(links)
        # weights moved as if each recall had been written on its own
        assert all(float(p.s_w[s]) > 0.6 + 0.3 for s in links)
        assert replayed(store, brain.id) == state_bytes(p)
        assert brain.at(entry.seq - 1).recall("payments roadmap").memories[0].score < (
            brain.at(entry.seq).recall("payments roadmap").memories[0].score
        )


def test_an_hour_after_the_first_recall_the_next_one_writes_the_event(store_path: Path) -> None:
    clock = Clock()
    with Store(store_path, clock=clock) as store:
        store.brain("t").remember("Alice owns the payments roadmap")
    one_recall(store_path, clock)
    one_recall(store_path, clock)
    clock.advance(REINFORCE_INTERVAL_US / 86_400e6)
    with Store(store_path, clock=clock) as store:
        assert "synapses_reinforced" not in kinds(store)  # opening alone writes nothing
    one_recall(store_path, clock)
    with Store(store_path, clock=clock) as store:
        [entry] = store.brain("t").history(types=["synapses_reinforced"])
    assert entry.event["body"]["recalls"] == 3


def test_waiting_reinforcement_skips_what_was_erased_meanwhile(store_path: Path) -> None:
    clock = Clock()
    with Store(store_path, clock=clock) as store:
        brain = store.brain("t")
        keep = brain.remember("Alice owns the payments roadmap")
        gone = brain.remember("Bob drafts the payments roadmap review")
    one_recall(store_path, clock)
    with Store(store_path, clock=clock) as store:
        brain = store.brain("t")
        brain.forget(gone.id, hard=True)  # a write: the waiting reinforcement still waits
        assert "synapses_reinforced" not in kinds(store)
        brain.flush()
        [entry] = brain.history(types=["synapses_reinforced"])
        assert entry.event["body"]["fiber_ids"] == [keep.id]
        p = brain._refreshed()
        assert all(int(p.s_dead[s]) > p.seq for s in entry.event["body"]["synapses"])
        assert replayed(store, brain.id) == state_bytes(p)


def test_a_long_running_process_coalesces_its_own_recalls(store: Store) -> None:
    brain = store.brain("t")
    brain.remember("Alice owns the payments roadmap")
    for _ in range(3 * REINFORCE_EVERY):
        brain.recall("payments roadmap")
    events = brain.history(types=["synapses_reinforced"])
    assert [e.event["body"]["recalls"] for e in events] == [REINFORCE_EVERY] * 3


def test_history_folds_runs_of_reinforcement(store: Store) -> None:
    brain = store.brain("t")
    m = brain.remember("Alice owns the payments roadmap")
    for _ in range(3):
        brain.recall("payments roadmap")
        brain.recall("Alice roadmap")
        brain.flush()
    brain.edit(m.id, priority=8)
    brain.recall("payments roadmap")
    brain.flush()
    raw = brain.history(m.id)
    assert [e.type for e in raw] == ["memory_encoded", *["synapses_reinforced"] * 3,
                                     "memory_retyped", "synapses_reinforced"]  # fmt: skip
    folded = brain.history(m.id, fold=True)
    assert [e.type for e in folded] == ["memory_encoded", "synapses_reinforced",
                                        "memory_retyped", "synapses_reinforced"]  # fmt: skip
    run = folded[1]
    assert run.summary.startswith("reinforced 6 times on ")
    assert run.folded is not None
    assert (run.folded.events, run.folded.first_seq, run.folded.recalls) == (3, raw[1].seq, 6)
    assert run.seq == raw[3].seq
    assert folded[3].summary.startswith("reinforced once on ")
    whole = brain.history(fold=True)
    assert "by 6 recalls" in whole[2].summary


def test_cli_history_folds_unless_all(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    with Store(store) as opened:
        brain = opened.brain()
        m = brain.remember("Alice owns the payments roadmap")
        for _ in range(4):
            brain.recall("payments roadmap")
            brain.flush()

    def history(*extra: str) -> list[str]:
        out = io.StringIO()
        with redirect_stdout(out):
            assert main(["history", m.id[:8], "--store", store, *extra]) == 0
        return out.getvalue().splitlines()

    folded = history()
    assert len(folded) == 2
    assert "reinforced 4 times on " in folded[1]
    assert len(history("--all")) == 5


def test_the_demo_run_again_appends_nothing(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    with redirect_stdout(io.StringIO()):
        assert main(["demo", "--store", store]) == 0
    with Store(store) as opened:
        head = opened.brain("demo").seq
    for _ in range(3):
        with redirect_stdout(io.StringIO()):
            assert main(["demo", "--store", store]) == 0
    with Store(store) as opened:
        assert opened.brain("demo").seq == head


def test_an_automatic_sweep_that_prunes_nothing_is_no_event(store_path: Path) -> None:
    clock = Clock()
    with Store(store_path, clock=clock) as store:
        store.brain("t").remember("Alice owns the payments roadmap")
    clock.advance(2)  # the last sweep is a day old: opening sweeps
    with Store(store_path, clock=clock) as store:
        assert kinds(store) == ["brain_created", "memory_encoded"]
    with Store(store_path, clock=clock) as store:
        brain = store.brain("t")
        brain.remember("Bob runs the context meeting", memory_type="context")
    clock.advance(200)  # context fades in weeks: this sweep prunes, and is recorded
    with Store(store_path, clock=clock) as store:
        assert kinds(store)[-1] == "decay_applied"


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 12), read=st.lists(st.integers(0, 11)), asked=st.lists(st.integers(0, 14)))
def test_ids_a_read_returned_resolve_as_the_index_does(
    n: int, read: list[int], asked: list[int]
) -> None:
    p, anchors = Projection("r"), list[int]()
    apply(p, ev.Envelope(1, 1, "c", ev.BrainCreated("r")))
    for i in range(n):
        fold_memory(p, anchors, [i % 3], [1])
    loaded = from_arrays(*to_arrays(p))  # as opened from a checkpoint: no index of ids yet
    returned = [
        memory.id for memory in memories_at(loaded.view(loaded.seq, 1), [r for r in read if r < n])
    ]
    ids = [f"m{k}" for k in asked]
    got = [loaded.fiber_of(fid) for fid in ids]
    assert got == [p.ids.get(fid) for fid in ids]
    assert (loaded._ids is None) == set(ids).issubset(returned)
