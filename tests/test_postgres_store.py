"""Brains on the PostgreSQL log, against a real server (the `postgres` fixture): the laws the
LMDB suites check (replay == live, a view at S == the events up to S, idempotency, history,
erase, checkpoints), the same answers as LMDB for the same writes, several processes, and the
CLI, `nmem serve` and `nmem mcp` with `--store URL`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from helpers import NMEM, Clock, replayed
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import MemoryInput, NotFoundError, Store
from engine.projection import state_bytes
from engine.retrieval import recall

ROOT = Path(__file__).resolve().parents[1]
T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
WORDS = "alice bob payments invoices postgresql redis deploy release crash lisbon webhook".split()
texts = st.lists(st.sampled_from([*WORDS, "Alice", "Lisbon", "Redis"]), min_size=1, max_size=8)
memory = st.builds(
    lambda words, hours, cid: MemoryInput(
        text=" ".join(words), event_time=T0 + timedelta(hours=hours), cid=cid
    ),
    texts,
    st.integers(min_value=0, max_value=24 * 20),
    st.one_of(st.none(), st.sampled_from([f"c{i}" for i in range(5)])),
)
batches = st.lists(st.lists(memory, min_size=1, max_size=5), min_size=1, max_size=6)
SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
QUERIES = ["alice payments", "redis crash", "Lisbon webhook", "postgresql release"]


@pytest.fixture
def url(postgres: Any) -> str:
    return str(postgres.new_store())


@SETTINGS
@given(history=batches, data=st.data())
def test_replay_and_past_views_on_postgres(
    postgres: Any, history: list[list[MemoryInput]], data: st.DataObject
) -> None:
    with Store(postgres.new_store()) as store:
        brain = store.brain("p")
        for batch in history:
            brain.remember_many(batch)
        brain.remember_many(history[0])  # retried: stored once
        assert state_bytes(replayed(store, brain.id)) == state_bytes(brain._refreshed())
        seq = data.draw(st.integers(min_value=0, max_value=brain.seq), label="seq")
        past = brain.at(seq)
        partial = replayed(store, brain.id, upto=seq)
        alone = partial.view(partial.seq, int(past.time.timestamp() * 1_000_000))
        for query in QUERIES:
            got, want = past.recall(query, limit=20), recall(alone, query, limit=20)
            assert [m.memory.id for m in got.memories] == [m.memory.id for m in want.memories]
            assert got.context == want.context


def _write_the_same(store: Store) -> list[list[str]]:
    brain = store.brain("same")
    brain.remember_many(
        MemoryInput(f"note {i}: Alice moved invoices {i % 7} to Redis in Lisbon", cid=f"n{i}")
        for i in range(120)
    )
    first = brain.recall("Alice invoices Redis", limit=5).memories[0].memory.id
    brain.edit(first, text="Alice moved the invoices to PostgreSQL 16")
    brain.forget(brain.recall("Lisbon", limit=1).memories[0].memory.id)
    for _ in range(40):
        brain.recall("Alice invoices")
    return [
        [m.memory.text for m in brain.recall(q, limit=8).memories]
        for q in ("Alice invoices", "PostgreSQL", "Redis Lisbon")
    ]


def test_postgres_answers_as_lmdb_does_for_the_same_writes(url: str, tmp_path: Path) -> None:
    with Store(url, clock=Clock()) as pg, Store(tmp_path / "lmdb", clock=Clock()) as lm:
        assert _write_the_same(pg) == _write_the_same(lm)
        a, b = pg.brain("same"), lm.brain("same")
        assert a.stats() == b.stats()
        assert [e.type for e in a.history()] == [e.type for e in b.history()]


def test_history_erase_and_compact_leave_no_trace_in_the_database(url: str, postgres: Any) -> None:
    import psycopg

    with Store(url) as store:
        brain = store.brain("e")
        secret = brain.remember("Zorblat9931 is the launch codename").id
        kept = brain.remember("The launch is on Friday").id
        brain.edit(secret, text="Zorblat9931 is the launch codename for Q3")
        brain.checkpoint()
        assert [e.type for e in brain.history(secret)] == ["memory_encoded", "memory_edited"]
        brain.erase(secret)
        assert [e.type for e in brain.history(secret)][-1] == "memory_erased"
        assert brain.recall("Zorblat9931").memories == []
        store.compact()
    with Store(url) as store:
        brain = store.brain("e")
        assert [m.memory.id for m in brain.recall("launch Friday").memories] == [kept]
        assert brain.recall("Zorblat9931").memories == []
        schema = url.rsplit("%3D", 1)[1]
        with psycopg.connect(postgres.url) as conn:
            columns = {"nmem_events": "record", "nmem_meta": "value",
                       "nmem_checkpoints": "data", "nmem_refs": "fiber"}  # fmt: skip
            for table, column in columns.items():
                rows = conn.execute(f"SELECT {column} FROM {schema}.{table}").fetchall()
                blob = b"".join(v if isinstance(v, bytes) else str(v).encode() for (v,) in rows)
                assert b"Zorblat9931" not in blob, table


def test_checkpoints_live_in_postgres_and_open_the_brain(url: str) -> None:
    with Store(url) as store:
        brain = store.brain("c")
        brain.configure(checkpoint_every=100)
        brain.remember_many(MemoryInput(f"entry {i} about the webhook retries") for i in range(250))
        live = state_bytes(brain._refreshed())
        seqs = store.log.checkpoints.seqs(brain.id)
        assert seqs, "no checkpoint was written"
    with Store(url) as store:
        brain = store.brain("c")
        assert state_bytes(brain._refreshed()) == live
        assert brain._ckpt_seq == seqs[-1], "the brain opened from its checkpoint"


def test_a_read_of_a_missing_postgres_store_creates_nothing(url: str) -> None:
    with pytest.raises(NotFoundError, match="no store at"):
        Store(url, create=False)
    with Store(url) as store:
        store.brain("real")
    with Store(url, create=False) as store, pytest.raises(NotFoundError, match="no brain"):
        store.brain("other")
    with Store(url) as store:
        assert sorted(store.brain_names()) == ["real"]


WRITER = """
import sys
from engine import MemoryInput, Store
with Store(sys.argv[1]) as store:
    brain = store.brain("shared")
    for b in range(6):
        brain.remember_many([MemoryInput(f"{sys.argv[2]} batch {b} item {i} about Redis",
                                         cid=f"{sys.argv[2]}:{b}:{i}") for i in range(20)])
"""


def test_processes_writing_one_postgres_brain_at_once_lose_nothing(url: str) -> None:
    with Store(url) as s:
        s.brain("shared")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-c", WRITER, url]
    procs = [
        subprocess.Popen([*command, name], cwd=ROOT, stderr=subprocess.PIPE, text=True, env=env)
        for name in ("a", "b", "c")
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
    with Store(url) as s:
        brain = s.brain("shared")
        assert brain.stats()["memories"] == 3 * 6 * 20
        assert state_bytes(replayed(s, brain.id)) == state_bytes(brain._refreshed())


def cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([NMEM, *args, "--store", url], capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip


def test_the_cli_on_a_postgres_store(url: str) -> None:
    nothing = cli(url, "recall", "anything")
    assert nothing.returncode == 1, nothing.stderr
    done = cli(url, "remember", "Alice moved payments to PostgreSQL 16", "--json")
    assert done.returncode == 0, done.stderr
    memory_id = json.loads(done.stdout)["id"]
    found = cli(url, "recall", "which database do payments use?", "--json")
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["memories"][0]["id"] == memory_id
    assert cli(url, "forget", memory_id[:8], "--hard", "--force").returncode == 0
    history = cli(url, "history", memory_id[:8], "--json")
    assert [e["type"] for e in json.loads(history.stdout)["events"]][-1] == "memory_erased"
    compact = cli(url, "compact", "--json")
    assert compact.returncode == 0, compact.stderr
    stats = cli(url, "stats", "--json")
    assert json.loads(stats.stdout)["erased"] == 1


def test_a_postgres_url_with_a_password_is_not_printed(postgres: Any) -> None:
    wrong = postgres.url.replace("postgres@", "nobody:hunter2@") + "_missing"
    done = cli(wrong, "stats")
    assert done.returncode in (1, 2), done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "hunter2" not in done.stderr
    assert "nobody:***@" in done.stderr


def test_nmem_serve_on_a_postgres_store(url: str) -> None:
    from test_http import serving

    with serving(url) as served, httpx.Client(base_url=served, timeout=30) as api:
        made = api.post("/brains/team/memories", json={"text": "Eve owns the billing service"})
        assert made.status_code in (200, 201), made.text
        got = api.post("/brains/team/recall", json={"query": "who owns billing?"})
        assert got.status_code == 200, got.text
        assert "Eve owns" in got.text
    done = cli(url, "recall", "who owns billing?", "--brain", "team")  # another process
    assert "Eve owns" in done.stdout


def test_nmem_mcp_on_a_postgres_store(url: str, tmp_path: Path) -> None:
    from mcp_client import ok, server

    async def check() -> None:
        async with server(url, log=tmp_path / "mcp.log") as session:
            await ok(session, "nmem_remember", content="Mallory rotates the API keys monthly")
            found = await ok(session, "nmem_recall", query="who rotates the keys?")
            assert "Mallory" in json.dumps(found)

    anyio.run(check, backend="asyncio")
    assert "Mallory" in cli(url, "recall", "who rotates the keys?").stdout


def test_a_lost_listener_reconnects_and_reports_possible_news(url: str, postgres: Any) -> None:
    """A server's LISTEN connection that dies (a restart, a network cut) fails one wait with
    one line; the next reconnects and answers True at once (commits made meanwhile sent
    notifications nobody got), and it listens again."""
    import psycopg

    from engine import events as ev
    from engine.errors import OperationalError
    from engine.logstore import open_log

    log, other = open_log(url), open_log(url)
    try:
        assert log.wait_for_events(0.05) is False  # now listening
        channel = log.channel
        with psycopg.connect(postgres.url, autocommit=True) as admin:
            killed = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query = %s",
                (f'LISTEN "{channel}"',),
            ).fetchone()
        assert killed == (1,)
        with pytest.raises(OperationalError, match="cannot use the store"):
            log.wait_for_events(5)
        assert log.wait_for_events(0.05) is True
        assert log.wait_for_events(0.05) is False
        other.write(lambda w: w.append("0" * 31 + "1", ev.BrainCreated(name="after")))
        assert log.wait_for_events(10) is True
    finally:
        log.close()
        other.close()
