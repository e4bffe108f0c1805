"""Remember, recall, time travel and history through the public engine API."""

from __future__ import annotations

import itertools
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from engine import InputError, MemoryInput, MemoryType, NotFoundError, Store
from engine.brain import CHECKPOINT_BYTES_PER_EVENT
from engine.fold import apply
from engine.projection import Projection, state_bytes

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_remember_links_a_second_memory_to_the_first_through_shared_neurons(store: Store) -> None:
    brain = store.brain("t")
    first = brain.remember("Alice moved payments to PostgreSQL 16", event_time=T0)
    second = brain.remember("Alice prefers small pull requests", event_time=T0)
    assert first.neurons_linked == 0
    # reused, not duplicated: the day, "Alice" the entity, "alice" the keyword, and the first
    # memory itself as the neighbour in time
    assert second.neurons_linked == 4
    p = brain._refreshed()
    alice = p.keys["e:alice"]
    linked_from = p.s_src.values[p.s_dst.values == alice]
    assert len(linked_from) == 2


def test_a_batch_reports_what_each_memory_added(store: Store) -> None:
    """The counts of a batch (links counted for the whole batch at once) are each memory's own,
    read back from its event; a retried client id reports the stored memory as a duplicate."""
    brain = store.brain("t")
    brain.remember("Alice moved payments to PostgreSQL 16", event_time=T0, cid="a")
    texts = ["Alice prefers small pull requests", "Bob moved to Lisbon", "Alice met Bob"]
    out = brain.remember_many(
        [MemoryInput("Alice moved payments to PostgreSQL 16", event_time=T0, cid="a")]
        + [MemoryInput(t, event_time=T0 + timedelta(hours=i)) for i, t in enumerate(texts)]
    )
    assert [r.duplicate for r in out] == [True, False, False, False]
    with store.log.reader() as r:
        for got in out:
            env = r.event(brain.id, got.seq)
            assert env is not None
            body = env.body
            links = body.link_columns()
            assert got.id == body.fiber_id
            assert got.memory_type == MemoryType(body.memory_type)
            assert got.neurons_created == 1 + len(body.neurons)
            assert got.synapses_created == len(links)
            assert got.neurons_linked == int((links["dst"] < body.first_neuron).sum())
    assert out[3].neurons_linked > 0  # Alice and Bob were there before it


def test_recall_ranks_the_memory_that_answers_first(store: Store) -> None:
    brain = store.brain("t")
    brain.remember_many(
        [
            MemoryInput("We decided to keep payments on PostgreSQL 13", event_time=T0),
            MemoryInput("Bob found the invoice export crashes without a VAT number", event_time=T0),
            MemoryInput("Alice prefers small pull requests", event_time=T0),
        ]
    )
    result = brain.recall("invoice export crash", limit=3)
    assert result.memories[0].memory.text.startswith("Bob found the invoice export")
    assert result.confidence > 0.5
    assert "## Relevant memories" in result.context
    assert "invoice export" in result.context


def test_confidence_reflects_whether_the_answer_is_there(store: Store) -> None:
    brain = store.brain("t")
    brain.remember("The staging database password rotates every Monday", event_time=T0)
    brain.remember("Carol organises the team offsite in Lisbon", event_time=T0)
    good = brain.recall("when does the staging database password rotate?")
    poor = brain.recall("what did the kubernetes autoscaler do to the staging cluster?")
    assert good.confidence > poor.confidence
    assert brain.recall("zebra quantum").confidence == 0.0


def test_context_respects_the_token_budget(store: Store) -> None:
    from engine.retrieval import count_tokens

    brain = store.brain("t")
    brain.remember_many(
        [
            MemoryInput(f"Release {i} of the payments service shipped with fixes for invoices")
            for i in range(30)
        ]
    )
    for budget in (3, 12, 20, 60, 400):
        result = brain.recall("payments invoices release", limit=30, max_tokens=budget)
        assert count_tokens(result.context) <= budget + 1  # the ellipsis of a cut line
        assert bool(result.context) == (budget > 5)


def test_types_are_detected_with_word_boundaries(store: Store) -> None:
    brain = store.brain("t")
    fixed = brain.remember("Bob fixed the login timeout bug")
    address = brain.remember("The office address moved to Main Street")
    todo = brain.remember("We need to add retries to the webhook sender")
    assert fixed.memory_type is MemoryType.ERROR  # "fixed" is not the todo word "fix"
    assert address.memory_type is MemoryType.FACT  # "address" does not contain the word "add"
    assert todo.memory_type is MemoryType.TODO
    assert todo.expires_at is not None


def test_expired_memories_are_not_recalled_now_but_are_in_the_past(store: Store) -> None:
    brain = store.brain("t")
    done = brain.remember("Temporary note about the payments freeze", expires_in_days=1)
    assert brain.recall("payments freeze").memories
    later = done.expires_at + timedelta(seconds=1)
    view = brain.at(done.seq)
    assert view.recall("payments freeze").memories
    from engine.projection import View

    p = brain._refreshed()
    expired_view = View(
        p, p.seq, int(later.timestamp() * 1e6), p.neuron_count, p.synapse_count, p.fiber_count
    )
    from engine.retrieval import recall

    assert recall(expired_view, "payments freeze").memories == []


def test_view_at_a_seq_sees_only_what_was_known_then(store: Store) -> None:
    brain = store.brain("t")
    old = brain.remember("Payments run on PostgreSQL 13", event_time=T0)
    new = brain.remember("Payments moved to PostgreSQL 16", event_time=T0 + timedelta(days=1))
    past = brain.at(old.seq)
    assert [m.memory.id for m in past.recall("payments PostgreSQL").memories] == [old.id]
    assert {m.memory.id for m in brain.recall("payments PostgreSQL").memories} == {old.id, new.id}
    with pytest.raises(NotFoundError, match="at that time"):
        past.get(new.id)
    assert past.get(old.id).text == "Payments run on PostgreSQL 13"
    assert brain.at(0).recall("payments").memories == []


def test_at_accepts_times_phrases_and_rejects_nonsense(store: Store) -> None:
    brain = store.brain("t")
    brain.remember("Something happened")
    assert brain.at("1 hour ago").seq == 0  # before the brain had any event
    assert brain.at(datetime.now(UTC)).seq == brain.seq
    assert brain.at(str(brain.seq)).seq == brain.seq
    with pytest.raises(InputError, match="cannot read"):
        brain.at("the day after never")
    with pytest.raises(InputError, match="future"):
        brain.at(datetime.now(UTC) + timedelta(days=2))
    with pytest.raises(InputError, match="out of range"):
        brain.at(brain.seq + 5)


def test_history_of_a_memory_and_of_the_brain(store: Store) -> None:
    brain = store.brain("t")
    a = brain.remember("Alice joined the payments team")
    brain.remember("Bob joined the search team")
    entries = brain.history(a.id[:6])
    assert [e.type for e in entries] == ["memory_encoded"]
    assert entries[0].event["body"]["text"] == "Alice joined the payments team"
    all_events = brain.history()
    assert [e.type for e in all_events] == ["brain_created", "memory_encoded", "memory_encoded"]
    assert [e.seq for e in brain.history(limit=2)] == [2, 3]
    assert brain.history(types=["brain_created"])[0].seq == 1
    with pytest.raises(NotFoundError):
        brain.history("ffffffffffff")
    with pytest.raises(InputError, match="too short"):
        brain.history("ab")


def test_bad_input_changes_nothing(store: Store) -> None:
    brain = store.brain("t")
    brain.remember("keep me")
    before = brain.seq
    bad = [
        MemoryInput(""),
        MemoryInput("x" * 200_000),
        MemoryInput("ok", priority=11),
        MemoryInput("ok", memory_type="gossip"),
        MemoryInput("ok", tags=["", "x"]),
        MemoryInput("ok", expires_in_days=-3),
    ]
    for item in bad:
        with pytest.raises(InputError):
            brain.remember_many([MemoryInput("fine"), item])
    assert brain.seq == before
    with pytest.raises(InputError):
        brain.recall("")
    with pytest.raises(InputError):
        brain.recall("ok", depth=7)


def test_retried_batch_with_client_ids_is_stored_once(store: Store) -> None:
    brain = store.brain("t")
    items = [MemoryInput(f"memory {i}", cid=f"k{i}") for i in range(5)]
    first = brain.remember_many(items)
    again = brain.remember_many(items)
    assert [r.id for r in first] == [r.id for r in again]
    assert all(r.duplicate for r in again)
    assert not any(r.duplicate for r in first)
    assert brain.stats()["memories"] == 5


def test_reopening_replays_to_the_same_state(store_path: Path) -> None:
    with Store(store_path) as s:
        brain = s.brain("t")
        brain.remember_many([MemoryInput(f"Team note {i} about invoices") for i in range(40)])
        live = state_bytes(brain._refreshed())
    with Store(store_path) as s:
        again = state_bytes(s.brain("t")._refreshed())
    assert again == live


def test_checkpoint_then_tail_equals_full_replay(store_path: Path) -> None:
    with Store(store_path) as s:
        brain = s.brain("t")
        brain.remember_many([MemoryInput(f"Alice note {i} on payments") for i in range(20)])
        brain.checkpoint()
        brain.remember_many([MemoryInput(f"Bob note {i} on search") for i in range(20)])
        live = state_bytes(brain._refreshed())
        ckpt_files = list(s.log.checkpoints.folder(brain.id).glob("*.ckpt"))
        assert ckpt_files
    with Store(store_path) as s:
        brain = s.brain("t")
        reopened = brain._refreshed()
        assert state_bytes(reopened) == live
        replay = Projection(brain.id)
        with s.log.reader() as r:
            for env in r.events(brain.id):
                apply(replay, env)
        assert state_bytes(replay) == live


_WRITER = """
import os, sys
from engine import MemoryInput, Store
store = Store(sys.argv[1])
brain = store.brain("t")
brain.configure(checkpoint_every=1)
ckpts = store.log.checkpoints
for b in range(int(sys.argv[2])):
    brain.remember_many([MemoryInput(f"Carol note {b}-{i} on billing retries") for i in range(10)])
    last = ckpts.seqs(brain.id)[-1]
    size = os.path.getsize(ckpts.name(brain.id, last))
    print(brain.seq, last, size, flush=True)
os._exit(0)  # a crash: no clean close, so no last checkpoint
"""


def test_checkpoints_amortise_their_size_and_a_crash_replays_at_most_that_tail(
    store_path: Path,
) -> None:
    """Past `checkpoint_every`, a brain checkpoints once the events since its last checkpoint
    number that checkpoint's size over CHECKPOINT_BYTES_PER_EVENT: each event pays for a
    bounded share of a whole rewrite. A writer killed between checkpoints leaves at most that
    tail, and reopening (checkpoint + tail) equals the replay of the log."""
    out = subprocess.run(
        [sys.executable, "-c", _WRITER, str(store_path), "60"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rows = [tuple(int(x) for x in line.split()) for line in out.splitlines()]
    made = sorted({(last, size) for _, last, size in rows})  # every checkpoint the writer made
    assert len(made) >= 3
    writes = [head for head, _, _ in rows]
    for (seq, size), (following, _) in itertools.pairwise(made):
        due = size // CHECKPOINT_BYTES_PER_EVENT
        assert following - seq >= due  # not before its size is amortised
        assert writes[writes.index(following) - 1] - seq < due  # and at the first write after
    head, last, size = rows[-1]
    assert size // CHECKPOINT_BYTES_PER_EVENT > 10, "the size decides, not checkpoint_every (1)"
    assert 0 < head - last < size // CHECKPOINT_BYTES_PER_EVENT  # the tail the crash left
    with Store(store_path) as s:
        brain = s.brain("t")
        reopened = brain._refreshed()
        assert brain._ckpt_seq == last, "it opened from the last checkpoint"
        replay = Projection(brain.id)
        with s.log.reader() as r:
            for env in r.events(brain.id):
                apply(replay, env)
        assert state_bytes(reopened) == state_bytes(replay)


def test_corrupt_checkpoint_is_skipped_and_rebuilt(store_path: Path) -> None:
    with Store(store_path) as s:
        brain = s.brain("t")
        brain.remember_many([MemoryInput(f"note {i}") for i in range(10)])
        brain.checkpoint()
        live = state_bytes(brain._refreshed())
        path = next(s.log.checkpoints.folder(brain.id).glob("*.ckpt"))
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with Store(store_path) as s:
        assert state_bytes(s.brain("t")._refreshed()) == live
    assert not path.exists(), "the corrupt checkpoint should have been removed"


def test_truncated_checkpoint_is_skipped_and_rebuilt(store_path: Path) -> None:
    with Store(store_path) as s:
        brain = s.brain("t")
        brain.remember_many([MemoryInput(f"note {i}") for i in range(10)])
        brain.checkpoint()
        live = state_bytes(brain._refreshed())
        path = next(s.log.checkpoints.folder(brain.id).glob("*.ckpt"))
    path.write_bytes(path.read_bytes()[:-100])
    with Store(store_path) as s:
        assert state_bytes(s.brain("t")._refreshed()) == live
    assert not path.exists()


def test_writes_after_loading_a_checkpoint_copy_its_columns_not_the_file(store_path: Path) -> None:
    """A loaded checkpoint serves its columns straight from the file; every kind of write
    (new rows, text edits, flags, journaled weights) must copy first and leave the file as
    it was, and the result must equal a full replay."""
    with Store(store_path) as s:
        brain = s.brain("t")
        ids = [r.id for r in brain.remember_many(
            [MemoryInput(f"Alice reviewed invoice batch {i} for Acme") for i in range(30)]
        )]  # fmt: skip
        brain.checkpoint()
        path = next(s.log.checkpoints.folder(brain.id).glob("*.ckpt"))
        saved = path.read_bytes()
    with Store(store_path) as s:
        brain = s.brain("t")
        brain.recall("invoice batch for Acme")
        brain.edit(ids[0], text="Alice rejected invoice batch 0 for Acme")
        brain.forget(ids[1])
        brain.pin(ids[2])
        for _ in range(40):  # enough recalls to write their reinforcement
            brain.recall("Alice invoice Acme")
        brain.remember("Bob approved the Acme invoices")
        live = state_bytes(brain._refreshed())
        assert path.read_bytes() == saved
        replay = Projection(brain.id)
        with s.log.reader() as r:
            for env in r.events(brain.id):
                apply(replay, env)
        assert state_bytes(replay) == live
        assert brain.get(ids[0]).text == "Alice rejected invoice batch 0 for Acme"


def test_missing_checkpoints_mean_a_full_replay(store_path: Path) -> None:
    with Store(store_path) as s:
        brain = s.brain("t")
        brain.remember_many([MemoryInput(f"note {i}") for i in range(10)])
        brain.checkpoint()
        live = state_bytes(brain._refreshed())
        folder = s.log.checkpoints.folder(brain.id)
    for f in folder.iterdir():
        f.unlink()
    folder.rmdir()
    with Store(store_path) as s:
        assert state_bytes(s.brain("t")._refreshed()) == live


def test_corrupt_event_gives_a_clear_error(store_path: Path) -> None:
    from engine import DataError
    from engine.logstore.lmdb import brain_key

    with Store(store_path) as s:
        brain = s.brain("t")
        brain.remember("fine")
        with s.log.env.begin(write=True) as txn:
            key = brain_key(brain.id) + (brain.seq + 1).to_bytes(8, "big")
            txn.put(key, b"\x92\x01not msgpack", db=s.log._dbs["events"])
    with Store(store_path) as s, pytest.raises(DataError, match="corrupt"):
        s.brain("t").recall("fine")


def test_graph_adjacency_matches_the_synapse_columns(store: Store) -> None:
    brain = store.brain("t")
    for batch in range(6):
        brain.remember_many(
            [
                MemoryInput(f"Project {batch} milestone {i} reviewed by Alice and Bob")
                for i in range(300)
            ]
        )
        p = brain._refreshed()
        p.sync_graph(force=batch % 2 == 0)
        src, dst = p.s_src.values, p.s_dst.values
        nodes = np.unique(np.concatenate([src[:50], dst[:50], src[-50:], dst[-50:]])).astype(
            np.int64
        )
        owner, nbr, syn = p.graph.gather(nodes, src, dst, p.synapse_count)
        got = sorted(zip(nodes[owner].tolist(), nbr.tolist(), syn.tolist(), strict=True))
        want = sorted(
            [
                (int(src[s]), int(dst[s]), s)
                for s in range(len(src))
                if src[s] in set(nodes.tolist())
            ]
            + [
                (int(dst[s]), int(src[s]), s)
                for s in range(len(src))
                if dst[s] in set(nodes.tolist())
            ]
        )
        assert got == want


def test_a_long_catch_up_reports_its_progress(store_path: Path) -> None:
    with Store(store_path) as s:
        brain = s.brain("t")
        brain.remember_many([MemoryInput(f"note {i} about invoices") for i in range(9000)])
        live = state_bytes(brain._refreshed())
        folder = s.log.checkpoints.folder(brain.id)
    for f in folder.glob("*.ckpt"):
        f.unlink()
    with Store(store_path) as s:
        seen: list[tuple[int, int]] = []
        s.on_replay = lambda done, total: seen.append((done, total))
        assert state_bytes(s.brain("t")._refreshed()) == live
    assert seen == [(8192, 9001), (9001, 9001)]


def test_an_update_outranks_the_fact_it_replaced(store: Store) -> None:
    brain = store.brain("t")
    now = datetime.now(UTC)
    old = brain.remember("The billing service runs on MySQL 5", event_time=now - timedelta(days=20))
    new = brain.remember("The billing service runs on MySQL 8", event_time=now - timedelta(days=1))
    ranked = [m.memory.id for m in brain.recall("what does the billing service run on?").memories]
    assert ranked[:2] == [new.id, old.id]
