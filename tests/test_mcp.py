"""The MCP server, driven by the official SDK's stdio client against the installed `nmem mcp`.

Every test starts a real server process on a temporary store; nothing is mocked.
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest
from anyio.streams.buffered import BufferedByteReceiveStream
from helpers import NMEM
from mcp_client import cli, fails, ok, server, server_log

pytestmark = pytest.mark.anyio

# the original's default tier, its lifecycle tools, and ours
TOOLS = {
    "nmem_remember", "nmem_remember_batch", "nmem_recall", "nmem_context", "nmem_todo",
    "nmem_auto", "nmem_session", "nmem_eternal", "nmem_recap", "nmem_situation",
    "nmem_show", "nmem_edit", "nmem_pin", "nmem_forget", "nmem_stats",
    "nmem_unpin", "nmem_restore", "nmem_list", "nmem_history", "nmem_diff", "nmem_export",
    "nmem_semantic",
}  # fmt: skip
READS = {"nmem_recall", "nmem_context", "nmem_recap", "nmem_situation", "nmem_show",
         "nmem_list", "nmem_stats", "nmem_history", "nmem_export"}  # fmt: skip


# -- protocol ------------------------------------------------------------------------------------


def test_literal_memory_types_match_the_engine() -> None:
    from adapters.mcp.args import MEMORY_TYPES
    from engine import MemoryType

    assert tuple(t.value for t in MemoryType) == MEMORY_TYPES


async def test_initialize_and_list_tools_with_their_schemas(tmp_path: Path) -> None:
    from engine import MemoryType

    store = tmp_path / "store"
    async with server(store) as session:
        info = session.initialize_result
        assert info is not None
        assert info.server_info.name == "neuralmemory"
        assert info.capabilities.tools is not None
        assert info.instructions
        assert "nmem_recall" in info.instructions
        tools = {t.name: t for t in (await session.list_tools()).tools}

    assert set(tools) == TOOLS
    schema = {name: t.input_schema for name, t in tools.items()}
    for name, tool in tools.items():
        assert tool.description
        assert len(tool.description) > 60, name
        assert schema[name]["type"] == "object"
    remember = schema["nmem_remember"]
    assert remember["required"] == ["content"]
    assert remember["properties"]["type"]["enum"] == [t.value for t in MemoryType]
    assert remember["properties"]["priority"] == {
        **remember["properties"]["priority"], "type": "integer", "minimum": 0, "maximum": 10,
    }  # fmt: skip
    assert remember["properties"]["tags"]["items"] == {"type": "string", "maxLength": 100}
    assert remember["properties"]["expires_days"]["type"] == "number"
    recall = schema["nmem_recall"]
    assert recall["required"] == ["query"]
    assert set(recall["properties"]) >= {
        "query", "depth", "max_tokens", "min_confidence", "limit", "at", "as_of", "tags",
        "tag_mode", "types", "project", "mode",
    }  # fmt: skip
    assert recall["properties"]["tag_mode"]["enum"] == ["and", "or"]
    for name, tool_schema in schema.items():  # the original's two arguments of every tool
        assert tool_schema["properties"]["compact"]["type"] == "boolean", name
        assert tool_schema["properties"]["token_budget"]["minimum"] == 50, name
    batch_item = schema["nmem_remember_batch"]["properties"]["memories"]["items"]
    assert batch_item["required"] == ["content"]
    assert {"content", "type", "priority", "tags", "event_at"} <= set(batch_item["properties"])
    assert (recall["properties"]["depth"]["minimum"], recall["properties"]["depth"]["maximum"]) == (
        0,
        3,
    )
    assert recall["properties"]["max_tokens"]["default"] == 500
    assert recall["properties"]["min_confidence"]["maximum"] == 1
    assert recall["properties"]["at"]["anyOf"] == [{"type": "string"}, {"type": "integer"}]
    assert schema["nmem_context"]["properties"]["limit"]["default"] == 10
    assert schema["nmem_context"]["properties"]["fresh_only"]["type"] == "boolean"
    assert schema["nmem_todo"]["required"] == ["task"]
    assert schema["nmem_todo"]["properties"]["priority"]["default"] == 5
    assert schema["nmem_forget"]["required"] == ["memory_id"]
    assert schema["nmem_forget"]["properties"]["hard"]["default"] is False
    assert schema["nmem_history"]["properties"]["limit"]["default"] == 50
    for name in READS:
        assert {"at", "as_of"} <= set(schema[name]["properties"]), name
        annotations = tools[name].annotations
        assert annotations is not None
        assert annotations.read_only_hint is True, name
    forget = tools["nmem_forget"].annotations
    assert forget is not None
    assert forget.destructive_hint is True


# -- every tool ----------------------------------------------------------------------------------


async def test_every_tool_round_trip(tmp_path: Path) -> None:
    store = tmp_path / "store"
    async with server(store) as session:
        empty = await ok(session, "nmem_recall", query="which database do payments use?")
        assert empty["answer"] == "No relevant memories found."
        assert empty["memories"] == []
        assert (await ok(session, "nmem_context"))["count"] == 0

        done = await ok(
            session,
            "nmem_remember",
            content="Alice moved payments to PostgreSQL 16",
            type="decision",
            priority=8,
            tags=["payments", "db"],
            expires_days=10,
        )
        assert done["success"] is True
        assert done["memory_type"] == "decision"
        assert done["priority"] == 8
        assert done["fiber_id"] == done["id"]
        assert "PostgreSQL 16" in done["message"]
        expires = datetime.fromisoformat(done["expires_at"])
        assert abs(expires - (datetime.now(expires.tzinfo) + timedelta(days=10))) < timedelta(
            minutes=5
        )
        plain = await ok(session, "nmem_remember", content="Bob prefers dark mode in every editor")
        assert plain["memory_type"] == "preference"  # detected from the text
        assert plain["expires_at"] is None

        found = await ok(session, "nmem_recall", query="which database do payments use?", depth=2)
        assert "PostgreSQL 16" in found["answer"]
        best = found["memories"][0]
        assert best["id"] == done["id"]
        assert best["type"] == "decision"
        assert best["score"] > 0
        assert set(best) >= {"id", "text", "type", "score", "event_time"}
        assert 0 < found["confidence"] <= 1
        assert found["depth_used"] == 2
        assert found["neurons_activated"] > 0
        assert found["seq"] >= plain["seq"]
        assert isinstance(found["freshness_warnings"], list)

        picky = await ok(session, "nmem_recall", query="payments database", min_confidence=1.0)
        assert picky["answer"] is None
        assert "min_confidence" in picky["message"]

        past = await ok(session, "nmem_recall", query="payments PostgreSQL", at=done["seq"] - 1)
        assert past["memories"] == []
        assert past["seq"] == done["seq"] - 1
        then = await ok(session, "nmem_recall", query="payments PostgreSQL", at=str(done["seq"]))
        assert [m["id"] for m in then["memories"]] == [done["id"]]
        before = await ok(session, "nmem_recall", query="payments", at="1 hour ago")
        assert before["memories"] == []

        context = await ok(session, "nmem_context", limit=5)
        assert context["count"] == 2
        assert context["context"].splitlines() == [
            "- Bob prefers dark mode in every editor",
            "- Alice moved payments to PostgreSQL 16",
        ]
        assert [m["id"] for m in context["memories"]] == [plain["id"], done["id"]]
        assert (await ok(session, "nmem_context", at=done["seq"]))["count"] == 1
        assert (await ok(session, "nmem_context", fresh_only=True))["count"] == 2

        todo = await ok(session, "nmem_todo", task="Rotate the staging TLS certificates")
        assert todo["memory_type"] == "todo"
        assert todo["priority"] == 5
        due = datetime.fromisoformat(todo["expires_at"]) - datetime.now(timezone_of(todo))
        assert timedelta(days=29) < due <= timedelta(days=30)

        stats = await ok(session, "nmem_stats")
        assert stats["memories"] == stats["fiber_count"] == 3
        assert stats["by_type"]["todo"] == stats["by_type"]["decision"] == 1
        assert stats["neuron_count"] == stats["neurons"] > 0
        assert (await ok(session, "nmem_stats", at=done["seq"]))["memories"] == 1

        history = await ok(session, "nmem_history", memory_id=done["id"][:8])
        assert history["events"][0]["type"] == "memory_encoded"
        assert history["events"][0]["seq"] == done["seq"]
        brain_events = await ok(session, "nmem_history", limit=2)
        assert brain_events["count"] == 2
        assert brain_events["events"][-1]["seq"] == brain_events["seq"]

        snapshot = await ok(session, "nmem_export")
        assert "Rotate the staging TLS certificates" in json.dumps(snapshot)
        old = await ok(session, "nmem_export", at=done["seq"])
        assert "Rotate the staging TLS certificates" not in json.dumps(old)
        assert "PostgreSQL 16" in json.dumps(old)

        gone = await ok(session, "nmem_forget", memory_id=done["id"], reason="superseded")
        assert gone["id"] == done["id"]
        assert gone["event"] == "memory_forgotten"
        after = await ok(session, "nmem_recall", query="which database do payments use?")
        assert done["id"] not in [m["id"] for m in after["memories"]]
        assert (await ok(session, "nmem_stats"))["memories"] == 2
        trail = await ok(session, "nmem_history", memory_id=done["id"])
        assert trail["events"][-1]["type"] == "memory_forgotten"

        pending = await ok(session, "nmem_forget", memory_id=plain["id"], hard=True)
        assert pending["status"] == "pending_confirmation"
        assert "dark mode" in json.dumps(await ok(session, "nmem_export"))  # not yet
        erased = await ok(session, "nmem_forget", memory_id=plain["id"], hard=True,
                          confirm_token=pending["confirm_token"])  # fmt: skip
        assert erased["status"] == "hard_deleted"
        assert erased["event"] == "memory_erased"
        assert "dark mode" not in json.dumps(await ok(session, "nmem_export"))
        assert "Traceback" not in server_log(store)


def timezone_of(result: dict[str, Any]) -> Any:
    return datetime.fromisoformat(result["expires_at"]).tzinfo


# -- bad input ------------------------------------------------------------------------------------


async def test_bad_arguments_are_one_line_tool_errors(tmp_path: Path) -> None:
    store = tmp_path / "store"
    async with server(store) as session:
        assert "content" in await fails(session, "nmem_remember")
        assert "query" in await fails(session, "nmem_recall", depth=1)
        assert "task" in await fails(session, "nmem_todo")
        assert "memory_id" in await fails(session, "nmem_forget")

        message = await fails(session, "nmem_remember", content="x is y", priority=42)
        assert "priority" in message
        assert "10" in message
        assert "42" in message
        assert "priority" in await fails(session, "nmem_todo", task="t", priority=-1)
        assert "priority" in await fails(session, "nmem_remember", content="a b", priority="high")
        assert "content" in await fails(session, "nmem_remember", content=123)
        assert "tags" in await fails(session, "nmem_remember", content="a b", tags="payments")
        assert "type" in await fails(session, "nmem_remember", content="a b", type="rumour")
        assert "expires_days" in await fails(session, "nmem_remember", content="a", expires_days=0)
        assert "depth" in await fails(session, "nmem_recall", query="q", depth=7)
        assert "min_confidence" in await fails(session, "nmem_recall", query="q", min_confidence=2)
        assert "limit" in await fails(session, "nmem_context", limit=0)
        assert "hard" in await fails(session, "nmem_forget", memory_id="abcd", hard=[1])
        assert "boolean" in await fails(session, "nmem_todo", task="t", priority=True)
        assert "boolean" in await fails(session, "nmem_stats", at=True)
        assert "empty" in await fails(session, "nmem_remember", content="   ")

        # unknown ids, prefixes, moments: the engine's own message
        assert "no memory 'deadbeef'" in await fails(session, "nmem_forget", memory_id="deadbeef")
        assert "deadbeef" in await fails(session, "nmem_history", memory_id="deadbeef")
        assert "cannot read" in await fails(session, "nmem_recall", query="q", at="whenever")
        assert "out of range" in await fails(session, "nmem_stats", at=999)
        assert "future" in await fails(session, "nmem_context", at="2999-01-01T00:00:00")
        assert "Unknown tool" in await fails(session, "nmem_teleport")

        # secrets are refused by the engine: the kinds are named, the secret is not echoed
        blocked = await fails(session, "nmem_remember", content="my password=hunter2-Xy9z")
        assert "password" in blocked
        assert "nothing was stored" in blocked
        assert "hunter2" not in blocked
        assert (
            "api"
            in (
                await fails(
                    session, "nmem_todo", task="use key sk-ant-api03-abcdefghijklmnopqrstuvwx"
                )
            ).lower()
        )

        # nothing was stored, and the server is still serving
        stats = await ok(session, "nmem_stats")
        assert stats["memories"] == 0
        events = await ok(session, "nmem_history")
        assert "memory_encoded" not in [e["type"] for e in events["events"]]
        assert "hunter2" not in json.dumps(await ok(session, "nmem_export"))
        await ok(session, "nmem_remember", content="The server survived every bad call")
        assert (await ok(session, "nmem_stats"))["memories"] == 1
    log = server_log(store)
    assert "Traceback" not in log, log
    assert "hunter2" not in log


# -- other processes ------------------------------------------------------------------------------


async def test_cli_and_mcp_see_each_others_writes(tmp_path: Path) -> None:
    store = tmp_path / "store"
    async with server(store) as session:
        await ok(session, "nmem_stats")  # the server has its store open from here on
        done = await cli(store, "remember", "Carol runs the Lisbon office", "--json")
        assert done.returncode == 0, done.stderr
        stored = json.loads(done.stdout)

        found = await ok(session, "nmem_recall", query="who runs the Lisbon office?")
        assert [m["id"] for m in found["memories"]][:1] == [stored["id"]]
        assert "Carol" in found["answer"]
        assert (await ok(session, "nmem_context"))["count"] == 1

        mine = await ok(session, "nmem_remember", content="Dave leads the Berlin data team")
        shown = await cli(store, "recall", "who leads the Berlin data team?", "--json")
        assert shown.returncode == 0, shown.stderr
        recalled = json.loads(shown.stdout)
        assert recalled["memories"][0]["id"] == mine["id"]
        assert recalled["memories"][0]["source"] == "mcp"

        forgotten = await ok(session, "nmem_forget", memory_id=stored["id"][:8])
        history = await cli(store, "history", stored["id"], "--json")
        assert json.loads(history.stdout)["events"][-1]["seq"] == forgotten["seq"]

        # many calls in flight at once, while the CLI writes too: each is answered, none lost
        answers: dict[str, dict[str, Any]] = {}

        async def remember_then_recall(i: int) -> None:
            text = f"Service s{i}x listens on port {8100 + i}"
            answers[f"w{i}"] = await ok(session, "nmem_remember", content=text)
            answers[f"r{i}"] = await ok(session, "nmem_recall", query=f"service s{i}x port")

        async with anyio.create_task_group() as tasks:
            for i in range(8):
                tasks.start_soon(remember_then_recall, i)
            tasks.start_soon(cli, store, "remember", "Frank audits the payroll service")
        assert len(answers) == 16
        for i in range(8):
            assert answers[f"r{i}"]["memories"][0]["id"] == answers[f"w{i}"]["id"]
        assert (await ok(session, "nmem_stats"))["memories"] == 1 + 8 + 1


# -- configuration and process behaviour ----------------------------------------------------------


def test_mcp_config_prints_a_working_client_block(tmp_path: Path) -> None:
    store = tmp_path / "store"
    env = {**os.environ, "NO_COLOR": "1"}
    raw = subprocess.run(
        [NMEM, "mcp-config", "--json", "--store", str(store), "--brain", "work"],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert raw.returncode == 0, raw.stderr
    config = json.loads(raw.stdout)
    entry = config["mcpServers"]["neuralmemory"]
    assert Path(entry["command"]).is_absolute()
    assert Path(entry["command"]).samefile(NMEM)
    assert entry["args"] == ["mcp", "--brain", "work"]
    assert entry["env"] == {"NMEM_HOME": str(store.absolute())}

    human = subprocess.run(
        [NMEM, "mcp-config", "--store", str(store), "--name", "memory"],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert human.returncode == 0, human.stderr
    assert "Claude" in human.stdout
    block = json.loads(human.stdout[human.stdout.index("\n{") :])
    assert list(block["mcpServers"]) == ["memory"]
    assert block["mcpServers"]["memory"]["args"] == ["mcp"]

    async def use_it() -> None:
        async with server(store, *entry["args"], command=entry["command"], env=entry["env"]) as s:
            done = await ok(s, "nmem_remember", content="Configured through mcp-config")
            stats = await ok(s, "nmem_stats")
            assert stats["brain"] == "work"
            assert stats["memories"] == 1
            assert done["brain"] == "work"

    anyio.run(use_it, backend="asyncio")


async def test_stdout_is_only_protocol_and_end_of_input_stops_the_server(tmp_path: Path) -> None:
    """Raw JSON-RPC over the pipes: every stdout line is a JSON-RPC message (logs go to
    stderr); when the client closes stdin the server exits at once, cleanly, having written
    what recall reinforced."""
    store = tmp_path / "store"
    calls: list[dict[str, Any]] = [
        {"name": "nmem_remember", "arguments": {"content": "Eve owns the release checklist"}},
        {"name": "nmem_forget", "arguments": {"memory_id": "ffffffff"}},
        {"name": "nmem_recall", "arguments": {"query": "who owns the release checklist?"}},
    ]
    replies: dict[int, dict[str, Any]] = {}
    with anyio.fail_after(30):
        process = await anyio.open_process([NMEM, "mcp", "--store", str(store)])
        async with process:
            assert process.stdin is not None
            assert process.stdout is not None
            lines = BufferedByteReceiveStream(process.stdout)

            async def send(message: dict[str, Any]) -> None:
                assert process.stdin is not None
                await process.stdin.send((json.dumps(message) + "\n").encode())

            async def answer(request_id: int) -> dict[str, Any]:
                while True:
                    message = json.loads(await lines.receive_until(b"\n", 10_000_000))
                    assert message["jsonrpc"] == "2.0"
                    if message.get("id") == request_id:
                        return dict(message)

            await send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "protocolVersion": "2025-06-18", "capabilities": {},
                "clientInfo": {"name": "raw", "version": "0"}}})  # fmt: skip
            replies[1] = await answer(1)
            await send({"jsonrpc": "2.0", "method": "notifications/initialized"})
            for request_id, params in enumerate(calls, start=2):
                await send({"jsonrpc": "2.0", "id": request_id, "method": "tools/call",
                            "params": params})  # fmt: skip
                replies[request_id] = await answer(request_id)
            await process.stdin.aclose()
            with anyio.fail_after(60):  # a hang guard, not a speed test: end of input stops it
                assert await process.wait() == 0
            with pytest.raises(anyio.IncompleteRead):  # stdout ended, with nothing more on it
                await lines.receive_until(b"\n", 10_000_000)
            assert lines.buffer == b""
            assert process.stderr is not None
            errors = b"".join([chunk async for chunk in process.stderr]).decode()
    assert "Traceback" not in errors, errors
    assert f"serving brain 'default' of store {store}" in errors  # logs go to stderr

    assert replies[1]["result"]["serverInfo"]["name"] == "neuralmemory"
    assert replies[2]["result"]["isError"] is False
    assert replies[3]["result"]["isError"] is True
    assert "ffffffff" in replies[3]["result"]["content"][0]["text"]
    assert "Eve owns" in replies[4]["result"]["structuredContent"]["answer"]
    # the recall's reinforcement, pending in memory, was kept in the log when the server stopped
    from engine import Store

    with Store(store) as opened:
        brain = opened.brain()
        brain.flush()
        [entry] = brain.history(types=["synapses_reinforced"])
    assert entry.event["body"]["recalls"] == 1


def test_an_unusable_store_is_a_tool_error_not_a_dead_server(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the store's directory should be")

    async def check() -> None:
        async with server(blocker / "store", log=tmp_path / "server.log") as session:
            message = await fails(session, "nmem_stats")
            assert "cannot open a store" in message
            assert "Not a directory" in message
            assert len((await session.list_tools()).tools) == len(TOOLS)  # still serving

    anyio.run(check, backend="asyncio")
