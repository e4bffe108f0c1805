"""The core laws, checked on random histories (hypothesis).

- replaying the log gives the live projection, byte for byte;
- a view at seq S answers exactly like a brain that only ever saw events 1..S;
- a retried append with the same client id is applied once.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest
from helpers import replayed
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import Brain, MemoryInput, Store, retrieval
from engine.activation import SpreadParams
from engine.projection import state_bytes

WORDS = [
    "alice",
    "bob",
    "carol",
    "payments",
    "invoices",
    "postgresql",
    "redis",
    "search",
    "deploy",
    "release",
    "bug",
    "crash",
    "decided",
    "prefers",
    "office",
    "lisbon",
    "tuesday",
    "yesterday",
    "webhook",
    "retries",
    "migration",
    "team",
    "lead",
]
NAMES = ["Alice", "Bob", "Carol", "Lisbon", "PostgreSQL", "Redis"]
QUERIES = [
    "alice payments",
    "redis crash",
    "who decided the migration?",
    "Lisbon office",
    "bob release bug",
    "postgresql",
]
T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)

texts = st.lists(st.sampled_from(WORDS + NAMES), min_size=1, max_size=9).map(" ".join)
memory = st.builds(
    lambda text, hours, cid: MemoryInput(
        text=text, event_time=T0 + timedelta(hours=hours), cid=cid
    ),
    texts,
    st.integers(min_value=0, max_value=24 * 20),
    st.one_of(st.none(), st.sampled_from([f"c{i}" for i in range(6)])),
)
batches = st.lists(st.lists(memory, min_size=1, max_size=5), min_size=1, max_size=8)

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _fresh_store() -> tuple[tempfile.TemporaryDirectory[str], Store]:
    tmp = tempfile.TemporaryDirectory()
    return tmp, Store(Path(tmp.name) / "store")


@SETTINGS
@given(batches)
def test_replay_of_the_log_equals_the_live_projection(history: list[list[MemoryInput]]) -> None:
    tmp, store = _fresh_store()
    with tmp, store:
        brain = store.brain("p")
        for batch in history:
            brain.remember_many(batch)
        live = brain._refreshed()
        folded = replayed(store, brain.id)
        assert state_bytes(folded) == state_bytes(live)


# later changes to earlier memories: what past views must undo
changes = st.one_of(
    st.sampled_from(["pin", "unpin", "forget", "restore"]).map(lambda a: (a, None)),
    texts.map(lambda t: ("edit", t)),
    st.integers(min_value=1, max_value=10).map(lambda n: ("priority", n)),
)


def change(brain: Brain, memory_id: str, what: tuple[str, str | int | None]) -> None:
    action, value = what
    if action == "edit":
        brain.edit(memory_id, str(value))
    elif action == "priority":
        brain.edit(memory_id, priority=int(value or 1))
    else:
        getattr(brain, action)(memory_id)


@pytest.mark.parametrize("first_cap", [None, 2])
@SETTINGS
@given(history=batches, data=st.data())
def test_view_at_seq_equals_a_brain_that_only_saw_events_up_to_it(
    first_cap: int | None, history: list[list[MemoryInput]], data: st.DataObject
) -> None:
    """The oracle is another brain, in a fresh store, given only events 1..S (a history
    import keeps their seqs, recorded times and ids) and asked at the recorded time of S: it
    has no later memory events, so its answers need no past view (`Versioned.at`). With a
    `first_cap` of 2, nearly every anchor is a hub whose first hop is cut (to its newest
    links and those rarer cues reached): the cut must be the same in both."""
    tmp, store = _fresh_store()
    with tmp, store, pytest.MonkeyPatch.context() as mp:
        if first_cap is not None:
            mp.setattr(retrieval, "SpreadParams", partial(SpreadParams, first_cap=first_cap))
        brain = store.brain("p")
        ids: list[str] = []
        for batch in history:
            ids += [r.id for r in brain.remember_many(batch)]
            change(brain, data.draw(st.sampled_from(ids)), data.draw(changes, label="change"))
        seq = data.draw(st.integers(min_value=1, max_value=brain.seq), label="seq")
        past = brain.at(seq)
        records = list(brain.export_history())
        prefix = [{**records[0], "seq": seq}, *(r for r in records[1:] if r["seq"] <= seq)]
        assert records[seq]["seq"] == seq
        moment = records[seq]["t"]
        with Store(Path(tmp.name) / "oracle", clock=lambda: moment) as oracle_store:
            alone = oracle_store.brain("alone")
            alone.import_history(prefix)
            # one more event that no read depends on, so that event S is not at the oracle's
            # head either (a view cut at its own head would share an off-by-one at S)
            alone.create_project("boundary")
            assert alone.seq == seq + 1
            for query in QUERIES:
                got = past.recall(query, limit=20)
                want = alone.recall(query, limit=20, reinforce=False)
                assert [(m.memory.id, round(m.score, 9)) for m in got.memories] == [
                    (m.memory.id, round(m.score, 9)) for m in want.memories
                ]
                assert got.context == want.context
                assert got.confidence == want.confidence
            assert past.stats()["memories"] == alone.stats()["memories"]
            assert [m.id for m in past.memories(limit=100)] == [
                m.id for m in alone.memories(limit=100)
            ]


@SETTINGS
@given(
    st.lists(
        st.tuples(st.sampled_from([f"c{i}" for i in range(5)]), texts), min_size=1, max_size=25
    ),
    st.integers(min_value=1, max_value=6),
)
def test_a_retried_client_id_is_applied_once(items: list[tuple[str, str]], chunk: int) -> None:
    tmp, store = _fresh_store()
    with tmp, store:
        brain = store.brain("p")
        first_text: dict[str, str] = {}
        for cid, text in items:
            first_text.setdefault(cid, text)
        inputs = [MemoryInput(text=t, cid=c) for c, t in items]
        for i in range(0, len(inputs), chunk):
            brain.remember_many(inputs[i : i + chunk])
        brain.remember_many(inputs)  # the whole thing retried
        stored = brain.memories(limit=100)
        assert len(stored) == len(first_text)
        assert {m.text for m in stored} == {t.strip() for t in first_text.values()}
