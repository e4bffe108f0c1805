"""The core laws, checked on random histories (hypothesis).

- replaying the log gives the live projection, byte for byte;
- a view at seq S answers exactly like a brain that only ever saw events 1..S;
- a retried append with the same client id is applied once.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import MemoryInput, Store
from engine.fold import apply
from engine.projection import Projection, state_bytes
from engine.retrieval import recall

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


def _replay(store: Store, brain_id: str, upto: int | None = None) -> Projection:
    p = Projection(brain_id)
    with store.log.reader() as r:
        for env in r.events(brain_id, 0, upto):
            apply(p, env)
    return p


@SETTINGS
@given(batches)
def test_replay_of_the_log_equals_the_live_projection(history: list[list[MemoryInput]]) -> None:
    tmp, store = _fresh_store()
    with tmp, store:
        brain = store.brain("p")
        for batch in history:
            brain.remember_many(batch)
        live = brain._refreshed()
        replayed = _replay(store, brain.id)
        assert state_bytes(replayed) == state_bytes(live)


@SETTINGS
@given(batches, st.data())
def test_view_at_seq_equals_a_brain_that_only_saw_events_up_to_it(
    history: list[list[MemoryInput]], data: st.DataObject
) -> None:
    tmp, store = _fresh_store()
    with tmp, store:
        brain = store.brain("p")
        for batch in history:
            brain.remember_many(batch)
        seq = data.draw(st.integers(min_value=0, max_value=brain.seq), label="seq")
        past = brain.at(seq)
        partial = _replay(store, brain.id, upto=seq)
        time = int(past.time.timestamp() * 1_000_000)
        alone = partial.view(partial.seq, time)
        for query in QUERIES:
            got = past.recall(query, limit=20)
            want = recall(alone, query, limit=20)
            assert [(m.memory.id, round(m.score, 9)) for m in got.memories] == [
                (m.memory.id, round(m.score, 9)) for m in want.memories
            ]
            assert got.context == want.context
            assert got.confidence == want.confidence
        assert past.stats()["memories"] == partial.fiber_count
        assert [m.id for m in past.memories(limit=100)] == list(
            reversed(partial.f_id.slice(0, partial.fiber_count))
        )[:100]


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
