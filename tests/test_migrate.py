"""`nmem migrate`: a store copied LMDB -> PostgreSQL -> LMDB is the same log (events, memory-id
index, meta, brains) and replays to the same projection and answers, past ones included; a run
again continues a copy; a target holding something else is refused untouched."""

from __future__ import annotations

import contextlib
import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from helpers import NMEM, Clock
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import MemoryInput, Store
from engine.errors import Error
from engine.logstore import open_log
from engine.logstore.copy import copy_log, differences
from engine.projection import state_bytes

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
QUERIES = ["payments database", "redis outage", "release friday", "who owns the webhook"]


def nmem(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([NMEM, *args], capture_output=True, text=True, timeout=300, check=False)


def build(location: str | Path) -> None:
    """A store with something of every kind: memories, an edit, a forget, a hard erase,
    reinforcement (an event, and some still pending in the meta), a pin, a project, a config
    change, a decay sweep, a consumer position, a second brain and a current brain."""
    clock = Clock()
    with Store(location, clock=clock) as store:
        work = store.brain("work")
        work.create_project("Payments Q4", duration_days=90)
        made = work.remember_many(
            MemoryInput(text=t, event_time=T0 + timedelta(hours=i), cid=f"m{i}")
            for i, t in enumerate(
                [
                    "Alice moved payments to PostgreSQL 16",
                    "The redis outage on Friday took the webhook sender down",
                    "Decision: release on Fridays only after the smoke tests",
                    "Bob owns the webhook sender",
                    "Password rotation for the payments database is due",
                    "Carol prefers small pull requests",
                ]
            )
        )
        work.edit(made[0].id, text="Alice moved payments to PostgreSQL 17", priority=8)
        work.forget(made[5].id, reason="stale")
        work.pin(made[3].id)
        for query in QUERIES * 9:
            work.recall(query)
        clock.advance(40)
        work.decay()
        work.erase(made[4].id)
        work.configure(max_context_tokens=900)
        for query in QUERIES[:2]:
            work.recall(query)  # pending reinforcement, left in the log's meta on close
        store.log.write(lambda w: w.set_position("sqlite-export", work.id, 5))
        store.brain("notes").remember("Dana paged the on-call")
        store.use("notes")


def answers(location: str | Path) -> dict[str, Any]:
    """Everything a reader can ask, for every brain, now and at every seq."""
    out: dict[str, Any] = {}
    with Store(location, create=False) as store:
        store.auto_sweep = False
        out["current"] = store.current
        for name in sorted(store.brain_names()):
            brain = store.brain(name)
            head = brain.seq
            ids = [m.id for m in brain.memories(status="all", limit=1000)]
            out[name] = {
                "state": state_bytes(brain._refreshed()),
                "history": {i: [h.to_dict() for h in brain.history(i)] for i in ids},
                "past": [
                    [brain.at(seq).recall(q).to_dict()["memories"] for q in QUERIES]
                    for seq in range(1, head + 1)
                ],
                "config": brain.config,
            }
    return out


def test_migrate_lmdb_to_postgres_and_back_is_exact(tmp_path: Path, postgres: Any) -> None:
    lmdb, url, back = tmp_path / "lmdb", postgres.new_store(), tmp_path / "back"
    build(lmdb)
    expected = answers(lmdb)
    there = nmem("migrate", "--from", str(lmdb), "--to", url, "--json")
    assert there.returncode == 0, there.stderr
    result = json.loads(there.stdout)
    assert result["brains"]["work"]["copied"] == result["brains"]["work"]["events"] > 15
    assert "password" not in there.stdout.lower()
    returned = nmem("migrate", "--store", url, "--to", str(back))
    assert returned.returncode == 0, returned.stderr
    assert "the copy is the same log" in returned.stdout
    for a, b in ((lmdb, url), (url, back), (lmdb, back)):
        src, dst = open_log(a, create=False), open_log(b, create=False)
        try:
            assert differences(src, dst) == []
            assert dst.checkpoints.seqs(_brain_id(dst, "work")), "the copy was folded once"
        finally:
            src.close()
            dst.close()
    assert answers(url) == expected
    assert answers(back) == expected


def _brain_id(log: Any, name: str) -> str:
    with log.reader() as r:
        brain_id: str = r.brains()[name]
        return brain_id


def test_migrate_again_copies_only_what_was_written_since(tmp_path: Path, postgres: Any) -> None:
    lmdb, url = tmp_path / "lmdb", postgres.new_store()
    build(lmdb)
    assert nmem("migrate", "--from", str(lmdb), "--to", url).returncode == 0
    with Store(lmdb) as store:
        store.brain("work").remember("Erin joined the payments team")
    again = nmem("migrate", "--from", str(lmdb), "--to", url, "--json")
    assert again.returncode == 0, again.stderr
    brains = json.loads(again.stdout)["brains"]
    assert brains["work"]["copied"] == 1
    assert brains["notes"]["copied"] == 0
    assert answers(url) == answers(lmdb)


def test_migrate_refuses_a_target_that_holds_something_else(tmp_path: Path, postgres: Any) -> None:
    lmdb, url = tmp_path / "lmdb", postgres.new_store()
    build(lmdb)
    with Store(url) as other:
        other.brain("work").remember("a different brain of the same name")
    before = answers(url)
    done = nmem("migrate", "--from", str(lmdb), "--to", url)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1, done.stderr
    assert "already holds a brain 'work'" in done.stderr
    assert "Traceback" not in done.stderr
    assert answers(url) == before, "a refused target is left untouched"

    same = nmem("migrate", "--from", str(lmdb), "--to", str(lmdb))
    assert same.returncode == 2
    assert "same store" in same.stderr
    missing = nmem("migrate", "--from", str(tmp_path / "nothing"), "--to", str(tmp_path / "x"))
    assert missing.returncode == 1, missing.stderr
    assert not (tmp_path / "nothing").exists()
    assert not (tmp_path / "x").exists()


WORDS = "alice bob payments redis deploy release crash webhook friday".split()
ops = st.lists(
    st.one_of(
        st.tuples(st.just("remember"), st.lists(st.sampled_from(WORDS), min_size=1, max_size=5)),
        st.tuples(st.sampled_from(["edit", "forget", "erase", "pin", "recall"]), st.integers(0, 9)),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(history=ops)
def test_a_copied_log_is_the_same_log_whatever_happened(
    history: list[tuple[str, Any]], tmp_path_factory: pytest.TempPathFactory, postgres: Any
) -> None:
    lmdb = tmp_path_factory.mktemp("src") / "store"
    url = postgres.new_store()
    with Store(lmdb, clock=Clock()) as store:
        brain = store.brain("b")
        ids: list[str] = []
        for op, arg in history:
            if op == "remember":
                ids.append(brain.remember(" ".join(arg)).id)
            elif op == "recall":
                brain.recall(WORDS[arg % len(WORDS)])
            elif ids:
                extra = {"text": "edited " + WORDS[arg % len(WORDS)]} if op == "edit" else {}
                with contextlib.suppress(Error):  # e.g. an edit of an erased memory
                    getattr(brain, op)(ids[arg % len(ids)], **extra)
        expected = state_bytes(brain._refreshed())
    src, dst = open_log(lmdb), open_log(url)
    try:
        copy_log(src, dst, batch=3)
        assert differences(src, dst) == []
    finally:
        src.close()
        dst.close()
    with Store(url) as copy:
        copy.auto_sweep = False
        assert state_bytes(copy.brain("b")._refreshed()) == expected
