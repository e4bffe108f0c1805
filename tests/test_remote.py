"""`--remote URL --token T`: the CLI (main(argv) in this process, and subprocesses for the
failures) and `nmem mcp --remote` (the official MCP SDK client) against a real `nmem serve`.
Reads come from a local replica, writes go to the server and are acknowledged once committed
there and folded here: the next read sees them."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp_client import fails, ok, server
from services import free_port, nmem, serving

from adapters.cli.main import main
from engine import Store

WRITER, READER = "writer-token-1", "reader-token-1"
TOKENS = {
    "tokens": [
        {"token": WRITER, "brains": ["*"], "access": "write", "name": "writer"},
        {"token": READER, "brains": ["work"], "access": "read", "name": "reader"},
    ]
}


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("remote")
    (root / "tokens.json").write_text(json.dumps(TOKENS))
    with serving(root / "store", "--tokens", str(root / "tokens.json"), "--request-log",
                 "off") as u:  # fmt: skip
        yield u


@pytest.fixture
def api(url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {WRITER}"}) as client:
        yield client


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def remote(url: str, replica: Path, brain: str, token: str = WRITER) -> list[str]:
    return ["--remote", url, "--token", token, "--store", str(replica), "--brain", brain]


def as_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def server_head(api: httpx.Client, brain: str) -> int:
    heads = {b["name"]: b["seq"] for b in api.get("/brains").json()["brains"]}
    return int(heads[brain])


def test_remote_brain_takes_brains_arguments_and_sends_them_by_the_apis_names(
    url: str, api: httpx.Client, tmp_path: Path
) -> None:
    """RemoteBrain's writes have Brain's own signatures (not restated): every argument of
    Brain.edit and Brain.create_project reaches the server, under the HTTP API's names."""
    import inspect

    from adapters.remote import RemoteBrain, connect
    from engine import Brain, InputError

    for name in ("edit", "create_project", "semantic_enable"):
        ours, theirs = getattr(RemoteBrain, name), getattr(Brain, name)
        assert inspect.signature(ours) == inspect.signature(theirs), name
    with connect(url, WRITER, "edits", tmp_path / "replica", source="api") as brain:
        made = brain.create_project("Ledger", duration_days=10, tags=["q4"], priority=2.0)
        done = brain.remember("Bob owns the ledger export")
        brain.edit(done.id, "Bob owns the ledger export and its alerts", memory_type="decision",
                   priority=9, tags=["ledger"], expires_in_days=3, project="Ledger")  # fmt: skip
        there = api.get(f"/brains/edits/memories/{done.id}").json()
        assert (there["text"], there["type"], there["priority"], there["tags"]) == (
            "Bob owns the ledger export and its alerts", "decision", 9, ["ledger"],
        )  # fmt: skip
        assert there["expires_at"] is not None
        assert there["project"] == made.name == "Ledger"
        brain.edit(done.id, project=None)  # None clears, the default (False) keeps
        assert api.get(f"/brains/edits/memories/{done.id}").json()["project"] is None
        with pytest.raises(InputError, match="idempotency key on an edit"):
            brain.edit(done.id, priority=1, cid="k1")
        with pytest.raises(TypeError):
            brain.edit(done.id, prio=1)  # type: ignore[call-arg]


def test_cli_writes_on_the_server_and_reads_its_own_writes_locally(
    url: str, api: httpx.Client, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    opts = remote(url, tmp_path / "replica", "work")
    done = as_json(capsys, "remember", "Alice moved payments to PostgreSQL 16", "-t", "db", *opts)
    # acknowledged once committed: the server has it ...
    stored = api.get(f"/brains/work/memories/{done['id']}")
    assert stored.status_code == 200
    assert stored.json()["source"] == "cli"
    # ... and once folded: the replica holds the event the answer names
    with Store(tmp_path / "replica") as replica:
        assert replica.brain("work").seq >= done["seq"] == server_head(api, "work")

    found = as_json(capsys, "recall", "which database do payments use?", *opts)
    assert [m["id"] for m in found["memories"]] == [done["id"]]

    code, out, _ = run(capsys, "edit", done["id"][:8], "--priority", "8", *opts)
    assert code == 0
    assert "memory retyped" in out
    assert as_json(capsys, "show", done["id"][:8], *opts)["priority"] == 8
    assert api.get(f"/brains/work/memories/{done['id']}").json()["priority"] == 8

    forgot = as_json(capsys, "forget", done["id"], *opts)
    assert forgot["event"] == "memory_forgotten"
    code, out, _ = run(capsys, "list", *opts)
    assert code == 1
    assert "No memories match" in out
    assert as_json(capsys, "restore", done["id"], *opts)["event"] == "memory_restored"
    assert as_json(capsys, "pin", done["id"], *opts)["event"] == "memory_pinned"

    # the replica's history is the server's, seq for seq; --at reads it as of any seq
    ours = as_json(capsys, "history", "--all", *opts)["events"]
    theirs = api.get("/brains/work/history", params={"all": "true"}).json()["events"]
    assert [(e["seq"], e["type"]) for e in ours] == [(e["seq"], e["type"]) for e in theirs]
    code, out, _ = run(capsys, "recall", "payments", "--at", str(done["seq"] - 1), "--json", *opts)
    assert code == 1
    assert json.loads(out)["memories"] == []
    then = as_json(capsys, "recall", "payments", "--at", str(done["seq"]), *opts)
    there = api.post("/brains/work/recall", json={"query": "payments", "at": done["seq"]}).json()
    assert [m["id"] for m in then["memories"]] == [m["id"] for m in there["memories"]]
    code, out, _ = run(capsys, "stats", *opts)
    assert code == 0
    assert "memories" in out

    # projects and settings go through the server too
    made = as_json(capsys, "project", "create", "Payments Q4", "--duration", "30", *opts)
    assert made["name"] == "Payments Q4"
    assert as_json(capsys, "project", "extend", "Payments Q4", "5", *opts)["end"]
    config = as_json(capsys, "brain", "config", "sensitive_policy=redact", *opts)
    assert config["sensitive_policy"] == "redact"
    assert api.get("/brains/work/config").json()["sensitive_policy"] == "redact"
    assert as_json(capsys, "project", "delete", "Payments Q4", *opts) == {"deleted": "Payments Q4"}

    # sweeps run on the server; diffs and exports are reads of the replica
    assert as_json(capsys, "decay", *opts)["seq"] == server_head(api, "work")
    assert as_json(capsys, "cleanup", "--dry-run", *opts) == {"expired": [], "dry_run": True}
    assert done["id"] in as_json(capsys, "diff", "--from", "1", *opts)["added"]
    history = tmp_path / "work.jsonl"
    code, _, err = run(capsys, "export", "--format", "history", "-o", str(history), *opts)
    assert code == 0, err
    assert len(history.read_text().splitlines()) == 1 + server_head(api, "work")  # header


def test_cli_sees_writes_of_other_clients_at_its_next_read(
    url: str, api: httpx.Client, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    opts = remote(url, tmp_path / "replica", "team", READER)
    code, _, err = run(capsys, "list", *opts)
    assert code == 1
    assert "or the token lacks it" in err
    opts = remote(url, tmp_path / "replica", "team")
    code, _, err = run(capsys, "list", *opts)
    assert code == 1
    assert "no brain 'team'" in err
    first = api.post("/brains/team/memories", json={"text": "Dana paged the on-call"}).json()
    assert as_json(capsys, "list", *opts)["memories"][0]["id"] == first["id"]
    second = api.post("/brains/team/memories", json={"text": "Erin fixed the pager"}).json()
    ids = {m["id"] for m in as_json(capsys, "list", *opts)["memories"]}
    assert ids == {first["id"], second["id"]}


def test_read_tokens_and_local_only_commands_are_refused_in_one_line(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    opts = remote(url, tmp_path / "replica", "work", READER)
    code, _, err = run(capsys, "remember", "Frank joined", *opts)
    assert code == 2
    assert "403" in err
    assert "read-only" in err
    assert err.count("\n") == 1
    code, _, err = run(capsys, "show", "ffffffff", *remote(url, tmp_path / "replica", "work"))
    assert code == 1
    assert "ffffffff" in err
    export = tmp_path / "x.json"
    export.write_text("{}")
    for command in (["serve"], ["ui"]):
        code, _, err = run(capsys, *command, *opts)
        assert code == 2, err
        assert "serves a local store" in err
    for command in (["compact"], ["brain", "list"], ["import", str(export)], ["demo"]):
        code, _, err = run(capsys, *command, *opts)
        assert code == 2, (command, err)
        assert "works on a local store" in err, (command, err)


def test_unreachable_server_and_wrong_token_fail_in_one_line_without_traceback(
    url: str, tmp_path: Path
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    cases = [
        (nowhere, WRITER, "cannot reach"),
        (url, "not-a-token-at-all", "401"),
    ]
    for where, token, expected in cases:
        for command in (["recall", "payments"], ["remember", "Gina left"]):
            done = subprocess.run(
                nmem(*command, "--remote", where, "--token", token, "--store",
                     str(tmp_path / "replica")),
                capture_output=True, text=True, check=False, timeout=60,
            )  # fmt: skip
            assert done.returncode == 2, done
            assert done.stderr.count("\n") == 1, done.stderr
            assert expected in done.stderr, done.stderr
            assert "Traceback" not in done.stderr
            assert done.stdout == ""


@pytest.mark.anyio
async def test_mcp_remote_reads_its_writes_and_follows_others(
    url: str, api: httpx.Client, tmp_path: Path
) -> None:
    replica = tmp_path / "replica"
    async with server(replica, "--remote", url, "--token", WRITER, "--brain", "agents") as session:
        done = await ok(session, "nmem_remember", content="Hana chose Kafka for invoices",
                        tags=["billing"])  # fmt: skip
        found = await ok(session, "nmem_recall", query="what did Hana choose for invoices?")
        assert done["fiber_id"] in found["fibers_matched"]  # read-your-writes, no waiting
        assert api.get(f"/brains/agents/memories/{done['fiber_id']}").json()["source"] == "mcp"

        # session state lives in a memory's meta, project context never expires: both go
        # through the server and read back from the replica
        await ok(session, "nmem_session", action="set", feature="billing", task="queue invoices")
        got = await ok(session, "nmem_session", action="get")
        assert (got["active"], got["task"]) == (True, "queue invoices")
        saved = await ok(session, "nmem_eternal", action="save", project_name="Billing")
        assert saved["items"] == ["project_context"]
        listed = api.get("/brains/agents/memories", params={"limit": 50}).json()["memories"]
        context = [m for m in listed if "project_context" in m["tags"]]
        assert len(context) == 1
        assert context[0]["expires_at"] is None

        forgot = await ok(session, "nmem_forget", memory_id=done["fiber_id"])
        assert forgot["status"] == "soft_deleted"
        after = await ok(session, "nmem_recall", query="what did Hana choose for invoices?")
        assert done["fiber_id"] not in after["fibers_matched"]
        asked = await ok(session, "nmem_forget", memory_id=done["fiber_id"], hard=True)
        erased = await ok(session, "nmem_forget", memory_id=done["fiber_id"], hard=True,
                          confirm_token=asked["confirm_token"])  # fmt: skip
        assert erased["status"] == "hard_deleted"
        on_server = api.get(f"/brains/agents/memories/{done['fiber_id']}").json()
        assert on_server["status"] == "erased"
        assert on_server["text"] == ""

        # a write by another client reaches the replica by the event stream
        other = api.post("/brains/agents/memories", json={"text": "Ivan moved billing to Go"})
        deadline = time.monotonic() + 10
        while True:
            seen = await ok(session, "nmem_recall", query="where did Ivan move billing?")
            if other.json()["id"] in seen["fibers_matched"] or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert other.json()["id"] in seen["fibers_matched"]
        stats = await ok(session, "nmem_stats")
        assert stats["seq"] == server_head(api, "agents")


@pytest.mark.anyio
async def test_mcp_remote_errors_are_one_line_tool_errors(url: str, tmp_path: Path) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    async with server(tmp_path / "a", "--remote", nowhere, "--token", WRITER) as session:
        assert "cannot reach" in await fails(session, "nmem_recall", query="anything")
    async with server(tmp_path / "b", "--remote", url, "--token", "wrong-token-1") as session:
        assert "401" in await fails(session, "nmem_remember", content="Jo joined the team")


def test_mcp_config_for_a_served_brain_keeps_the_token_off_the_command_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = as_json(capsys, "mcp-config", "--remote", "http://mem:8765", "--token", WRITER,
                     "--brain", "work")  # fmt: skip
    entry = config["mcpServers"]["neuralmemory"]
    assert entry["args"][-4:] == ["--brain", "work", "--remote", "http://mem:8765"]
    assert WRITER not in entry["args"]
    assert entry["env"]["NMEM_TOKEN"] == WRITER
