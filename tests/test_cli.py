"""The installed `nmem` command, run as a real subprocess against a temporary store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import NMEM

from engine import Store


def nmem(home: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NMEM_HOME": str(home), "NO_COLOR": "1"}
    return subprocess.run(
        [NMEM, *args], capture_output=True, text=True, env=env, input=stdin, timeout=60, check=False
    )


def test_remember_recall_history_round_trip(tmp_path: Path) -> None:
    done = nmem(
        tmp_path, "remember", "Alice moved payments to PostgreSQL 16", "-t", "payments", "--json"
    )
    assert done.returncode == 0, done.stderr
    stored = json.loads(done.stdout)
    assert stored["memory_type"] == "fact"
    assert stored["duplicate"] is False

    found = nmem(tmp_path, "recall", "which database do payments use?", "--json")
    assert found.returncode == 0, found.stderr
    result = json.loads(found.stdout)
    assert result["memories"][0]["id"] == stored["id"]
    assert result["memories"][0]["tags"] == ["payments"]
    assert "PostgreSQL 16" in result["context"]

    human = nmem(tmp_path, "recall", "payments database")
    assert "PostgreSQL 16" in human.stdout
    assert "confidence" in human.stdout

    history = nmem(tmp_path, "history", stored["id"][:8], "--json")
    events = json.loads(history.stdout)["events"]
    # each recall (a process of its own) left its reinforcement in the log's meta: no event yet
    assert [e["type"] for e in events] == ["memory_encoded"]
    with Store(tmp_path) as store:
        brain = store.brain()
        brain.flush()  # the two recalls' reinforcement, written as one event
        [entry] = brain.history(stored["id"], types=["synapses_reinforced"])
    assert entry.event["body"]["recalls"] == 2
    assert entry.event["body"]["uses"] == [2]


def test_recall_at_a_past_seq_and_a_phrase(tmp_path: Path) -> None:
    first = json.loads(nmem(tmp_path, "remember", "Payments run on PostgreSQL 13", "--json").stdout)
    nmem(tmp_path, "remember", "Payments moved to PostgreSQL 16")
    past = json.loads(
        nmem(tmp_path, "recall", "payments PostgreSQL", "--at", str(first["seq"]), "--json").stdout
    )
    assert [m["text"] for m in past["memories"]] == ["Payments run on PostgreSQL 13"]
    assert past["seq"] == first["seq"]
    before = nmem(tmp_path, "recall", "payments", "--at", "1 hour ago")
    assert before.returncode == 1  # nothing was known an hour ago
    assert "No memories found" in before.stdout


def test_idempotency_key_stores_once(tmp_path: Path) -> None:
    a = json.loads(nmem(tmp_path, "remember", "retry me", "--id", "k1", "--json").stdout)
    b = json.loads(nmem(tmp_path, "remember", "retry me", "--id", "k1", "--json").stdout)
    assert a["id"] == b["id"]
    assert b["duplicate"] is True


def test_remember_reads_standard_input(tmp_path: Path) -> None:
    done = nmem(tmp_path, "remember", "-", "--json", stdin="Carol runs the Lisbon office\n")
    assert done.returncode == 0, done.stderr
    got = json.loads(nmem(tmp_path, "recall", "Lisbon office", "--json").stdout)
    assert got["memories"][0]["text"] == "Carol runs the Lisbon office"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("remember", ""), "memory text is empty"),
        (("remember", "x", "--priority", "42"), "priority must be between 0 and 10"),
        (("remember", "x", "--type", "gossip"), "unknown memory type"),
        (("remember", "x", "--time", "the day after never"), "cannot read"),
        (("recall", "x", "--depth", "9"), "invalid choice"),
        (("recall", "x", "--at", "next century"), "cannot read"),
        (("history", "ab"), "too short"),
        (("frobnicate",), "unknown command 'frobnicate'"),
        (("recall",), "required"),
    ],
)
def test_user_mistakes_are_one_line_and_exit_2(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    assert nmem(tmp_path, "remember", "a first memory").returncode == 0  # reads need a brain
    done = nmem(tmp_path, *args)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_unknown_memory_exits_1(tmp_path: Path) -> None:
    nmem(tmp_path, "remember", "something")
    done = nmem(tmp_path, "history", "ffffffff")
    assert done.returncode == 1
    assert "no memory" in done.stderr


def test_corrupt_store_is_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    nmem(tmp_path, "remember", "something")
    (tmp_path / "log" / "data.mdb").write_bytes(b"this is not an lmdb file" * 100)
    done = nmem(tmp_path, "recall", "something")
    assert done.returncode == 2
    assert "store error" in done.stderr
    assert "Traceback" not in done.stderr


def test_demo_runs_twice_with_the_same_sequence_numbers(tmp_path: Path) -> None:
    first = nmem(tmp_path, "demo", "--json")
    assert first.returncode == 0, first.stderr
    again = nmem(tmp_path, "demo", "--json")
    a, b = json.loads(first.stdout), json.loads(again.stdout)
    assert [r["seq"] for r in a["remembered"]] == [r["seq"] for r in b["remembered"]]
    assert all(r["duplicate"] for r in b["remembered"])
    assert "PostgreSQL 16" in a["recall_now"]["memories"][0]["text"]  # the update comes first
    assert a["recall_past"]["memories"]
    assert all("PostgreSQL 16" not in m["text"] for m in a["recall_past"]["memories"])
    assert a["history_of_memory"][0]["type"] == "memory_encoded"


def test_lifecycle_commands_end_to_end(tmp_path: Path) -> None:
    def j(*args: str) -> dict:  # type: ignore[type-arg]
        done = nmem(tmp_path, *args, "--json")
        assert done.returncode == 0, (args, done.stderr)
        return json.loads(done.stdout)  # type: ignore[no-any-return]

    todo = j("todo", "add retries to the webhook sender", "-p", "8")
    assert (todo["memory_type"], todo["priority"]) == ("todo", 8)
    fact = j("remember", "Alice owns the payments roadmap", "-t", "payments")
    assert [m["id"] for m in j("list")["memories"]] == [todo["id"], fact["id"]]
    assert j("show", fact["id"][:8])["tags"] == ["payments"]

    assert j("edit", todo["id"], "--text", "add retries and backoff to webhooks")["event"] == (
        "memory_edited"
    )
    assert "backoff" in j("show", todo["id"])["text"]
    assert j("pin", todo["id"])["event"] == "memory_pinned"
    assert j("pin", todo["id"])["event"] == "unchanged"
    assert j("forget", fact["id"], "--reason", "old")["event"] == "memory_forgotten"
    assert nmem(tmp_path, "recall", "payments roadmap").returncode == 1
    assert [m["id"] for m in j("list", "--status", "forgotten")["memories"]] == [fact["id"]]
    j("restore", fact["id"])
    assert j("recall", "payments roadmap")["memories"][0]["id"] == fact["id"]

    project = j("project", "create", "Payments Q4", "--duration", "30")
    assert project["name"] == "Payments Q4"
    j("remember", "Ledger migration starts Monday", "-P", "payments q4")
    assert j("project", "list")["projects"][0]["memories"] == 1
    assert j("project", "extend", "Payments Q4", "5")["end"] > project["end"]

    stats = j("stats")
    assert stats["memories"] == 3
    assert stats["pinned"] == 1
    diff = j("diff", "--from", str(fact["seq"]))
    assert diff["forgotten"] == [fact["id"]]
    assert j("decay")["pruned"] == 0
    assert j("cleanup", "--dry-run")["expired"] == []

    assert j("brain", "create", "scratch")["created"] == "scratch"
    assert "scratch" in j("brain", "list")["brains"]
    assert j("brain", "config", "sensitive_policy=redact")["sensitive_policy"] == "redact"
    redacted = j("remember", "the db password=hunter2-Xy9z")
    assert "hunter2" not in j("show", redacted["id"])["text"]
    assert nmem(tmp_path, "brain", "delete", "scratch").returncode == 2  # needs --force
    assert j("brain", "delete", "scratch", "--force")["deleted"] == "scratch"

    erased = j("forget", todo["id"], "--hard", "--force")
    assert erased["event"] == "memory_erased"
    assert j("show", todo["id"])["status"] == "erased"
    assert j("compact")["bytes_after"] > 0
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert b"backoff to webhooks" not in path.read_bytes(), path


def test_check_reports_sensitive_content(tmp_path: Path) -> None:
    clean = nmem(tmp_path, "check", "Alice met Bob about the API design")
    assert clean.returncode == 0
    assert "No sensitive content" in clean.stdout
    dirty = nmem(tmp_path, "check", "aws_access_key_id=AKIAIOSFODNN7EXAMPLE", "--json")
    assert dirty.returncode == 1
    assert json.loads(dirty.stdout)["findings"][0]["kind"] == "aws_key"
    blocked = nmem(tmp_path, "remember", "card 4111 1111 1111 1111 please")
    assert blocked.returncode == 2
    assert "credit card" in blocked.stderr
    assert "4111" not in blocked.stderr


def test_completion_script_names_the_commands(tmp_path: Path) -> None:
    done = nmem(tmp_path, "completion", "bash")
    assert done.returncode == 0
    assert "_shtab_nmem" in done.stdout
    for name in ("remember", "recall", "forget", "project"):
        assert name in done.stdout
    check = subprocess.run(["bash", "-n"], input=done.stdout, text=True, capture_output=True,
                           check=False)  # fmt: skip
    assert check.returncode == 0, check.stderr


def test_help_explains_each_command_with_an_example(tmp_path: Path) -> None:
    for name in ("remember", "recall", "history", "forget", "diff", "stats", "list"):
        done = nmem(tmp_path, name, "--help")
        assert done.returncode == 0
        assert "example:" in done.stdout, name
        assert "--json" in done.stdout, name


# Modules a fresh `nmem recall` must not import (issue 10: its start-up is most of its wall
# time): the HTTP and MCP stacks, analysis (networkx), imports and exports, the semantic scan's
# thread pool, numpy's masked arrays (np.unique and np.isin load them: engine.sets instead),
# the encoder (writes), the analysis views, json, and the thirty-odd stemmers of languages we
# do not stem.
NOT_FOR_RECALL = (
    "asyncio", "networkx", "structlog", "anyio", "concurrent.futures", "uvicorn", "starlette",
    "httpx", "mcp", "model2vec", "engine.importing", "engine.snapshot", "engine.exporters.json",
    "numpy.ma", "engine.encoder", "engine.explore", "json",
)  # fmt: skip


def test_a_fresh_recall_imports_only_what_it_needs(tmp_path: Path) -> None:
    """Checked on the interpreter's own import log (PYTHONPROFILEIMPORTTIME), not on timing."""
    assert nmem(tmp_path, "remember", "Alice moved payments to PostgreSQL 16").returncode == 0
    env = {**os.environ, "NMEM_HOME": str(tmp_path), "PYTHONPROFILEIMPORTTIME": "1"}
    done = subprocess.run(
        [NMEM, "recall", "which database do payments use?"],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "PostgreSQL 16" in done.stdout
    imported = {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert {"engine.retrieval", "snowballstemmer.english_stemmer"} <= imported  # the log is read
    heavy = {m for m in imported for h in NOT_FOR_RECALL if m == h or m.startswith(h + ".")}
    stemmers = {m for m in imported if m.endswith("_stemmer")} - {"snowballstemmer.english_stemmer"}
    assert not heavy, f"a fresh recall imports {sorted(heavy)}"
    assert not stemmers, f"a fresh recall loads other languages' stemmers: {sorted(stemmers)}"


def test_a_fresh_recall_collects_no_garbage_while_it_starts(tmp_path: Path) -> None:
    """Imports and the store's opening run without the cyclic collector (its passes over
    numpy's objects were a tenth of a fresh recall), and it is back on for the command."""
    assert nmem(tmp_path, "remember", "Alice moved payments to PostgreSQL 16").returncode == 0
    probe = (
        "import gc, sys; from adapters.cli import base; from adapters.cli.main import parse\n"
        "args = parse(['recall', 'x']); passes = []\n"
        "gc.callbacks.append(lambda phase, _: passes.append(phase))\n"
        "store = base.open_store(args); print(len(passes), gc.isenabled(), 'numpy' in sys.modules)"
    )
    env = {**os.environ, "NMEM_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          env=env, timeout=60, check=True)  # fmt: skip
    assert done.stdout.split() == ["0", "True", "True"]


def test_the_cli_called_again_in_process_freezes_nothing(tmp_path: Path) -> None:
    import gc

    from adapters.cli import base
    from adapters.cli.main import parse

    frozen = gc.get_freeze_count()
    with base.open_store(parse(["recall", "x", "--store", str(tmp_path)]), create=True):
        assert gc.isenabled()
    assert gc.get_freeze_count() == frozen
