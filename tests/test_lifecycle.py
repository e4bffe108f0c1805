"""Lifecycle events: edit, retype, pin, forget, erase, reinforcement, decay, expiry, projects."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import Clock

from engine import InputError, NotFoundError, Store
from engine.clock import DAY_US
from engine.fold import apply
from engine.projection import Projection, state_bytes


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def timed(store_path: Path, clock: Clock) -> Iterator[Store]:
    s = Store(store_path, clock=clock)
    yield s
    s.close()


def ids(result: object) -> list[str]:
    return [m.memory.id for m in result.memories]  # type: ignore[attr-defined]


def replayed(store: Store, brain_id: str) -> bytes:
    p = Projection(brain_id)
    with store.log.reader() as r:
        for env in r.events(brain_id):
            apply(p, env)
    return state_bytes(p)


def test_edit_relinks_the_memory_and_keeps_the_old_text_in_the_past(timed: Store) -> None:
    brain = timed.brain("t")
    m = brain.remember("The billing service runs on MySQL")
    before = brain.seq
    done = brain.edit(m.id, "The billing service runs on CockroachDB")
    assert done.event == "memory_edited"
    assert ids(brain.recall("CockroachDB billing")) == [m.id]
    assert brain.recall("MySQL").memories == []
    assert brain.get(m.id).text == "The billing service runs on CockroachDB"
    assert brain.at(before).get(m.id).text == "The billing service runs on MySQL"
    assert ids(brain.at(before).recall("MySQL")) == [m.id]
    assert [e.type for e in brain.history(m.id)][-1] == "memory_edited"
    assert brain.edit(m.id, "The billing service runs on CockroachDB").event == "unchanged"
    assert replayed(timed, brain.id) == state_bytes(brain._refreshed())


def test_retype_changes_type_priority_tags_and_expiry(timed: Store) -> None:
    brain = timed.brain("t")
    m = brain.remember("Ship the invoice export", memory_type="fact")
    brain.edit(m.id, memory_type="todo", priority=9, tags=["billing"], expires_in_days=3)
    got = brain.get(m.id)
    assert (got.memory_type.value, got.priority, got.tags) == ("todo", 9, ("billing",))
    assert got.expires_at is not None
    assert brain.recall("invoice export", tags=["billing"]).memories
    assert brain.recall("invoice export", types=["fact"]).memories == []
    assert brain.at(m.seq).get(m.id).memory_type.value == "fact"


def test_forget_hides_and_restore_brings_back(timed: Store) -> None:
    brain = timed.brain("t")
    m = brain.remember("The staging cluster lives in Frankfurt")
    brain.forget(m.id, reason="moved")
    assert brain.recall("staging cluster Frankfurt").memories == []
    assert brain.memories() == []
    assert [x.id for x in brain.memories(status="forgotten")] == [m.id]
    assert brain.get(m.id).status == "forgotten"
    assert ids(brain.at(m.seq).recall("staging cluster")) == [m.id]
    brain.restore(m.id)
    assert ids(brain.recall("staging cluster")) == [m.id]
    assert replayed(timed, brain.id) == state_bytes(brain._refreshed())


def test_pinned_memories_do_not_expire_or_decay(timed: Store, clock: Clock) -> None:
    brain = timed.brain("t")
    pinned = brain.remember("Remember to rotate the VPN certificate", memory_type="context")
    loose = brain.remember("Remember to water the office plants", memory_type="context")
    brain.pin(pinned.id)
    clock.advance(120)  # context memories expire after 7 days and fade within weeks
    assert ids(brain.recall("rotate VPN certificate")) == [pinned.id]
    assert brain.recall("water office plants").memories == []
    swept = brain.decay()
    assert swept["pruned"] > 0
    p = brain._refreshed()
    anchor = int(p.f_anchor[p.ids[pinned.id]])
    own = [s for s in range(p.synapse_count) if p.s_src[s] == anchor]
    assert all(p.s_dead[s] > p.seq for s in own), "a pinned memory's links were pruned"
    expired = brain.cleanup()
    assert expired == [loose.id]
    assert brain.get(loose.id).status == "expired"
    assert brain.get(pinned.id).status == "pinned"


def test_expired_memories_are_hidden_before_and_after_the_sweep(timed: Store, clock: Clock) -> None:
    brain = timed.brain("t")
    m = brain.remember("Temporary door code for the Lisbon office", expires_in_days=1)
    assert ids(brain.recall("Lisbon door code")) == [m.id]
    clock.advance(2)
    assert brain.recall("Lisbon door code").memories == []  # no sweep yet
    assert brain.recall("Lisbon door code", include_expired=True).memories
    assert brain.cleanup(dry_run=True) == [m.id]
    assert brain.cleanup() == [m.id]
    assert brain.recall("Lisbon door code").memories == []
    assert brain.cleanup() == []
    assert ids(brain.at(m.seq).recall("Lisbon door code")) == [m.id]


def test_recall_reinforces_the_links_it_used(timed: Store) -> None:
    brain = timed.brain("t")
    m = brain.remember("Alice owns the payments roadmap")
    first = brain.recall("payments roadmap")
    assert first.links
    brain.flush()
    entries = brain.history(m.id)
    assert entries[-1].type == "synapses_reinforced"
    p = brain._refreshed()
    assert all(float(p.s_w[s]) > 0.6 for s in first.links)
    again = brain.recall("payments roadmap")
    assert again.memories[0].score > first.memories[0].score
    past = brain.at(first.seq).recall("payments roadmap")
    assert past.memories[0].score == pytest.approx(first.memories[0].score)
    brain.flush()
    assert replayed(timed, brain.id) == state_bytes(brain._refreshed())


def test_past_views_never_reinforce(timed: Store) -> None:
    brain = timed.brain("t")
    m = brain.remember("Bob maintains the search indexer")
    brain.at(m.seq).recall("search indexer")
    brain.flush()
    assert [e.type for e in brain.history()] == ["brain_created", "memory_encoded"]


def test_hard_erase_leaves_no_trace_of_the_text_in_any_file(store_path: Path) -> None:
    secret = "Zorblax-Quintessence-7781 is the vault phrase"
    with Store(store_path) as store:
        brain = store.brain("t")
        keep = brain.remember("The vault audit happens every March")
        gone = brain.remember(secret)
        brain.edit(gone.id, secret + " for Q3")
        brain.checkpoint()  # a checkpoint holding the text
        brain.recall("vault phrase")
        brain.flush()
        done = brain.erase(gone.id)
        assert done.event == "memory_erased"
        assert brain.recall("Zorblax vault phrase").memories == [] or all(
            m.memory.id != gone.id for m in brain.recall("Zorblax vault phrase").memories
        )
        erased = brain.get(gone.id)
        assert (erased.status, erased.text) == ("erased", "")
        history = brain.history(gone.id)
        assert history[-1].type == "memory_erased"
        assert all("Zorblax" not in str(e.event) for e in history)
        assert ids(brain.recall("vault audit March")) == [keep.id]
        with pytest.raises(InputError, match="already erased"):
            brain.erase(gone.id)
        live = state_bytes(brain._refreshed())
        assert replayed(store, brain.id) == live
        report = store.compact()
        assert report["bytes_after"] <= report["bytes_before"]
    for path in store_path.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert b"Zorblax" not in data, f"erased text found in {path}"
            assert b"Quintessence" not in data, f"erased text found in {path}"
    with Store(store_path) as store:
        brain = store.brain("t")
        assert state_bytes(brain._refreshed()) == live
        assert ids(brain.recall("vault audit")) == [keep.id]


def test_compact_refuses_while_another_process_has_the_store(store_path: Path) -> None:
    import subprocess
    import sys

    from engine import OperationalError

    with Store(store_path) as store:
        store.brain("t").remember("hello")
        holder = subprocess.Popen(
            [sys.executable, "-c",
             "import sys, time; from engine import Store; s = Store(sys.argv[1]); "
             "print('ready', flush=True); time.sleep(30)", str(store_path)],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert holder.stdout is not None
            assert holder.stdout.readline().strip() == "ready"
            with pytest.raises(OperationalError, match="in use"):
                store.compact()
        finally:
            holder.kill()
            holder.wait()
        store.compact()
        assert store.brain("t").recall("hello").memories


def test_projects(timed: Store) -> None:
    brain = timed.brain("t")
    project = brain.create_project("Payments Q4", duration_days=30, tags=["billing"])
    with pytest.raises(InputError, match="already exists"):
        brain.create_project("payments q4")
    m = brain.remember("Migrate invoices to the new ledger", project="payments q4")
    other = brain.remember("Migrate the wiki to the new server")
    assert brain.get(m.id).project == "Payments Q4"
    assert [x.id for x in brain.memories(project="Payments Q4")] == [m.id]
    assert ids(brain.recall("migrate", project="Payments Q4")) == [m.id]
    assert other.id in ids(brain.recall("migrate"))
    extended = brain.extend_project("Payments Q4", 10)
    assert extended.end == (project.end or 0) + 10 * DAY_US
    brain.delete_project("Payments Q4")
    assert brain.projects() == []
    assert brain.get(m.id).project is None
    with pytest.raises(NotFoundError):
        brain.remember("x", project="Payments Q4")
    ongoing = brain.create_project("Forever")
    with pytest.raises(InputError, match="ongoing"):
        brain.extend_project(ongoing.name, 3)


def test_sensitive_content_is_blocked_redacted_or_allowed(timed: Store) -> None:
    brain = timed.brain("t")
    before = brain.seq
    with pytest.raises(InputError) as blocked:
        brain.remember("the prod database password=hunter2-Xy9z")
    assert "password" in str(blocked.value)
    assert "hunter2" not in str(blocked.value)
    assert brain.seq == before
    red = brain.remember("the prod database password=hunter2-Xy9z", sensitive="redact")
    assert "hunter2" not in brain.get(red.id).text
    allowed = brain.remember("card 4111 1111 1111 1111 on file", sensitive="allow")
    assert "4111" in brain.get(allowed.id).text
    brain.configure(sensitive_policy="redact")
    quiet = brain.remember("api_key=sk-abcdefghijklmnopqrstuvwx12")
    assert "sk-abcdef" not in brain.get(quiet.id).text


@pytest.mark.parametrize(
    "call",
    [
        lambda b, m: b.edit("ffffffffff", "x"),
        lambda b, m: b.pin("nope-nope"),
        lambda b, m: b.edit(m, memory_type="gossip"),
        lambda b, m: b.edit(m, priority=11),
        lambda b, m: b.edit(m, expires_in_days=-2),
        lambda b, m: b.edit(m, ""),
        lambda b, m: b.forget(""),
        lambda b, m: b.configure(unknown_knob=3),
        lambda b, m: b.configure(sensitive_policy="shrug"),
        lambda b, m: b.create_project("  "),
        lambda b, m: b.create_project("Short", duration_days=-1),
        lambda b, m: b.memories(status="sleeping"),
        lambda b, m: b.history(types=["memory_vanished"]),
    ],
)
def test_bad_input_is_a_clear_error_and_changes_nothing(timed: Store, call: object) -> None:
    brain = timed.brain("t")
    m = brain.remember("A memory to poke at")
    before = brain.seq
    with pytest.raises((InputError, NotFoundError)):
        call(brain, m.id)  # type: ignore[operator]
    assert brain.seq == before


def test_diff_between_two_moments(timed: Store, clock: Clock) -> None:
    brain = timed.brain("t")
    a = brain.remember("Alice leads payments")
    b = brain.remember("Bob leads search")
    start = brain.seq
    c = brain.remember("Carol leads growth")
    brain.forget(a.id)
    brain.edit(b.id, "Bob leads search and ranking")
    brain.recall("Carol growth")
    brain.flush()
    diff = brain.diff(brain.at(start))
    assert diff["added"] == [c.id]
    assert diff["forgotten"] == [a.id]
    assert diff["changed"] == [b.id]
    assert diff["weights"], "reinforcement moved some weights"
    with pytest.raises(InputError):
        brain.at(start).diff(brain)


def test_brains_are_separate_and_deletable(store_path: Path) -> None:
    with Store(store_path) as store:
        store.brain("work").remember("work thing about kubernetes")
        store.brain("home").remember("home thing about gardening")
        assert store.brain("work").recall("gardening").memories == []
        store.use("work")
        with pytest.raises(InputError, match="current brain"):
            store.delete_brain("work")
        store.delete_brain("home")
        assert "home" not in store.brain_names()
        with pytest.raises(NotFoundError):
            store.brain("home", create=False)
        assert store.brain("work").recall("kubernetes").memories


def test_history_time_bounds_and_limit(timed: Store, clock: Clock) -> None:
    brain = timed.brain("t")
    stamps = []
    for day in range(4):
        m = brain.remember(f"daily note {day} about the release train")
        stamps.append(brain.get(m.id).recorded_at)
        clock.advance(1)
    since = [e.seq for e in brain.history(since=stamps[1])]
    assert since == [3, 4, 5]
    until = [e.seq for e in brain.history(until=stamps[2])]
    assert until == [1, 2, 3, 4]
    both = [e.seq for e in brain.history(since=stamps[1], until=stamps[2])]
    assert both == [3, 4]
    assert [e.seq for e in brain.history(limit=2)] == [4, 5]
    assert [e.seq for e in brain.history(limit=2, until=stamps[1])] == [2, 3]
    assert [e.seq for e in brain.history(types=["brain_created"], limit=1)] == [1]
