"""The engine's reads behind the dashboard: activity per day, neighbourhoods with activation,
explained recall with activation paths. Checked against the raw log and columns, against
plain recall, and by the law that a view at T equals a brain that saw only the events up to T."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from helpers import Clock

from engine import Brain, InputError, NotFoundError, Store

TEAM = [
    "Alice moved payments to PostgreSQL 16",
    "Bob fixed the login bug in the auth service",
    "Payments team decided to use Redis for caching",
    "Carol prefers dark mode in the editor",
    "The auth service runs on PostgreSQL 14",
    "Dave will migrate the payments ledger next sprint",
    "Eve wrote the runbook for the Redis failover",
]


@pytest.fixture
def team(tmp_path: Path) -> tuple[Store, Brain, Clock, list[str]]:
    clock = Clock()
    store = Store(tmp_path / "store", clock=clock)
    brain = store.brain("team")
    ids = []
    for i, text in enumerate(TEAM):
        ids.append(brain.remember(text).id)
        if i % 3 == 2:
            clock.advance(1.5)
    yield store, brain, clock, ids
    store.close()


def test_activity_counts_each_days_events_and_new_memories(
    team: tuple[Store, Brain, Clock, list[str]],
) -> None:
    store, brain, _clock, ids = team
    brain.pin(ids[0])
    brain.forget(ids[1])
    with store.log.reader() as r:
        events = list(r.events(brain.id, 0))
    day = lambda t: datetime.fromtimestamp(t / 1e6, tz=UTC).date().isoformat()  # noqa: E731
    expected_events = Counter(day(e.t) for e in events)
    expected_memories = Counter(
        day(e.t) for e in events if type(e.body).__name__ == "MemoryEncoded"
    )
    got = brain.activity()
    assert [d["day"] for d in got["days"]] == sorted(expected_events)
    assert {d["day"]: d["events"] for d in got["days"]} == dict(expected_events)
    assert {d["day"]: d["memories"] for d in got["days"] if d["memories"]} == dict(
        expected_memories
    )
    assert sum(d["events"] for d in got["days"]) == brain.seq
    # as of an earlier seq: only the events up to it
    past = brain.at(4).activity()
    assert sum(d["events"] for d in past["days"]) == 4
    assert brain.activity(days=1)["days"] == got["days"][-1:]


def test_activity_lists_the_last_decay_sweeps(team: tuple[Store, Brain, Clock, list[str]]) -> None:
    _, brain, clock, _ = team
    before = brain.seq
    clock.advance(40)
    first = brain.decay()
    clock.advance(40)
    second = brain.decay()
    sweeps = brain.activity()["sweeps"]
    assert [s["seq"] for s in sweeps] == [second["seq"], first["seq"]]  # newest first
    assert [s["pruned"] for s in sweeps] == [second["pruned"], first["pruned"]]
    assert brain.at(first["seq"]).activity()["sweeps"][0]["seq"] == first["seq"]
    assert brain.at(before).activity()["sweeps"] == []
    assert brain.activity(sweeps=1)["sweeps"] == sweeps[:1]


def _memory_ids(graph: dict[str, Any]) -> set[str]:
    return {n["memory_id"] for n in graph["nodes"] if n["kind"] == "memory"}


def test_neighbourhood_of_a_memory_holds_it_its_words_and_live_links(
    team: tuple[Store, Brain, Clock, list[str]],
) -> None:
    _, brain, _, ids = team
    graph = brain.neighbourhood(ids[0])
    assert graph["memory_id"] == ids[0]
    labels = {n["label"] for n in graph["nodes"]}
    assert {"payments", "postgresql"} <= {label.lower() for label in labels}
    assert ids[5] in _memory_ids(graph)  # shares "payments"
    p = brain._refreshed()
    nodes = {n["node"] for n in graph["nodes"]}
    for edge in graph["edges"]:  # each edge is that synapse, between two shown nodes
        s = edge["synapse"]
        assert (int(p.s_src[s]), int(p.s_dst[s])) == (edge["source"], edge["target"])
        assert {edge["source"], edge["target"]} <= nodes
        assert edge["weight"] > 0
    assert max(n["relative"] for n in graph["nodes"]) == 1.0
    assert len(brain.neighbourhood(ids[0], limit=3)["nodes"]) <= 4  # the centre is always kept


def test_neighbourhood_as_of_a_moment_leaves_out_what_came_later(
    team: tuple[Store, Brain, Clock, list[str]],
) -> None:
    _, brain, _, ids = team
    created = brain.get(ids[5]).seq
    now = _memory_ids(brain.neighbourhood(query="payments"))
    before = _memory_ids(brain.at(created - 1).neighbourhood(query="payments"))
    assert ids[5] in now
    assert ids[5] not in before
    assert ids[0] in before
    with pytest.raises(NotFoundError):
        brain.at(created - 1).neighbourhood(ids[5])
    brain.forget(ids[0])
    assert ids[0] not in _memory_ids(brain.neighbourhood(query="payments"))


def test_neighbourhood_refuses_bad_input(team: tuple[Store, Brain, Clock, list[str]]) -> None:
    _, brain, _, ids = team
    for bad in (
        brain.neighbourhood,
        lambda: brain.neighbourhood(ids[0], query="payments"),
        lambda: brain.neighbourhood(ids[0], limit=0),
        lambda: brain.neighbourhood(ids[0], limit=10**6),
        lambda: brain.neighbourhood(ids[0], depth=7),
        lambda: brain.neighbourhood(query="   "),
        lambda: brain.activity(days=0),
        lambda: brain.activity(sweeps=-1),
        lambda: brain.explain("payments", paths=0),
        lambda: brain.explain(""),
    ):
        with pytest.raises(InputError):
            bad()


def test_explain_ranks_as_recall_does_and_never_writes(
    team: tuple[Store, Brain, Clock, list[str]],
) -> None:
    _, brain, _, _ = team
    question = "which database do payments use?"
    seq = brain.seq
    for _ in range(40):  # more than the recalls that make a reinforcement event
        explained = brain.explain(question)
    brain.flush()
    assert brain.seq == seq  # looking never reinforced anything
    plain = brain.at(seq).recall(question)
    assert [(m["id"], m["score"]) for m in explained["memories"]] == [
        (m.memory.id, round(m.score, 6)) for m in plain.memories
    ]
    assert explained["confidence"] == round(plain.confidence, 4)


def test_explained_paths_run_from_an_anchor_along_real_links_to_the_memory(
    team: tuple[Store, Brain, Clock, list[str]],
) -> None:
    _, brain, _, ids = team
    explained = brain.explain("payments Redis")
    p = brain._refreshed()
    assert explained["memories"]
    for memory in explained["memories"]:
        for path in memory["paths"]:
            nodes = path["nodes"]
            # the anchor is a cue of the question (the answer lists each cue once, as typed)
            assert nodes[0]["anchor"].lower() in {a.lower() for a in explained["anchors"]}
            assert nodes[-1]["memory_id"] == memory["id"]
            assert len(path["links"]) == len(nodes) - 1
            for a, b, link in zip(nodes, nodes[1:], path["links"], strict=False):
                s = link["synapse"]
                assert {int(p.s_src[s]), int(p.s_dst[s])} == {a["node"], b["node"]}
                assert link["weight"] > 0
        carried = [path["carried"] for path in memory["paths"]]
        assert carried == sorted(carried, reverse=True)
    # a memory that contains both words is reached straight from an anchor
    both = next(m for m in explained["memories"] if m["id"] == ids[2])
    assert len(both["paths"][0]["nodes"]) == 2


def test_a_view_at_t_explores_like_a_brain_that_saw_only_the_events_up_to_t(
    team: tuple[Store, Brain, Clock, list[str]], tmp_path: Path
) -> None:
    _store, brain, clock, ids = team
    brain.pin(ids[2])
    brain.forget(ids[3])
    brain.remember("Frank moved the payments cache to Redis 7")
    clock.advance(3)
    brain.edit(ids[0], "Alice moved payments to PostgreSQL 17")
    for seq in (3, 6, brain.seq - 2, brain.seq):
        past = brain.at(seq)
        with Store(tmp_path / f"copy{seq}", clock=clock) as other:
            copy = other.brain("copy")
            copy.import_history(past.export_history())
            mirror = copy.at(copy.seq)
            assert mirror.seq == seq
            for question in ("payments Redis", "auth service PostgreSQL"):
                assert _strip(mirror.explain(question)) == _strip(past.explain(question))
                assert _strip(mirror.neighbourhood(query=question)) == _strip(
                    past.neighbourhood(query=question)
                )
            assert mirror.activity()["days"] == past.activity()["days"]
            first = past.memories(limit=1)
            if first:
                assert _strip(mirror.neighbourhood(first[0].id)) == _strip(
                    past.neighbourhood(first[0].id)
                )


def _strip(data: dict[str, Any]) -> dict[str, Any]:
    """Everything but the latency and the time the view was asked at."""
    return {k: v for k, v in data.items() if k not in ("latency_ms",)}


def test_activity_days_are_utc_calendar_days(tmp_path: Path) -> None:
    clock = Clock()
    clock.t = int(datetime(2026, 3, 1, 23, 59, tzinfo=UTC).timestamp() * 1e6)
    with Store(tmp_path / "s", clock=clock) as store:
        brain = store.brain("b")
        brain.remember("late on the first of March")
        clock.t += 2 * 60 * 1_000_000  # two minutes later: the second of March
        brain.remember("early on the second of March")
        days = brain.activity()["days"]
    assert [d["day"] for d in days] == ["2026-03-01", "2026-03-02"]
    assert [d["memories"] for d in days] == [1, 1]
    assert [d["events"] for d in days] == [2, 1]  # the brain's creation, then each memory
