"""The MCP tools beyond a plain remember/recall, through the official SDK client against
`nmem mcp`: strict arguments, the confirmation of a hard erase, sessions and project context,
auto-capture, batches, edits, pins, filters and the shaping of answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers import Clock
from mcp_client import fails, ok, server, server_log

pytestmark = pytest.mark.anyio


def no_cli_flags(message: str) -> str:
    """Errors speak to an agent: no command-line flags in them."""
    assert " --" not in message, message
    return message


async def test_unknown_arguments_are_errors_and_the_originals_names_work(tmp_path: Path) -> None:
    store = tmp_path / "store"
    async with server(store) as session:
        message = no_cli_flags(await fails(session, "nmem_remember", content="x y", colour="red"))
        assert "unknown argument 'colour'" in message
        assert "content" in message
        assert "event_at" in message
        assert "tags" in message
        assert "compact" not in message  # the shaping arguments are not the tool's own
        refused = no_cli_flags(await fails(session, "nmem_remember", content="x y", tier="hot"))
        assert "'tier'" in refused
        assert "not supported here" in refused
        assert "nmem_pin" in refused
        assert (await ok(session, "nmem_stats"))["memories"] == 0  # nothing was stored

        then = await ok(
            session,
            "nmem_remember",
            content="The Lisbon office opened",
            event_at="2025-06-01T09:00:00+00:00",
            tags=["office"],
        )
        assert then["event_time"] == "2025-06-01T09:00:00+00:00"
        shown = await ok(session, "nmem_show", memory_id=then["fiber_id"])
        assert shown["event_time"] == "2025-06-01T09:00:00+00:00"
        assert shown["content"] == "The Lisbon office opened"
        phrase = await ok(
            session, "nmem_remember", content="The Porto office opened", event_at="3 days ago"
        )
        assert phrase["event_time"] < shown["recorded_at"]
        assert "cannot read" in await fails(
            session, "nmem_remember", content="a b", event_at="the twelfth of never"
        )

        past = await ok(session, "nmem_recall", query="office opened", as_of=shown["recorded_at"])
        assert past["fibers_matched"] == [then["fiber_id"]]  # the Porto one was not known yet
        same = await ok(session, "nmem_recall", query="office opened", at=then["seq"])
        assert same["fibers_matched"] == past["fibers_matched"]
        assert "not both" in await fails(session, "nmem_recall", query="q", at=1, as_of="now")
        assert "layer 'global'" in await fails(session, "nmem_recall", query="q", layer="global")
        assert "Unknown tool" in await fails(session, "nmem_teleport")
        assert "compact" in await fails(session, "nmem_stats", compact="yes")
        assert "token_budget" in await fails(session, "nmem_stats", token_budget=10)
    assert "Traceback" not in server_log(store)


async def test_a_hard_erase_needs_a_token_that_works_once_for_its_memory(tmp_path: Path) -> None:
    store = tmp_path / "store"
    async with server(store) as session:
        a = await ok(session, "nmem_remember", content="Ivan's home address is Rua Augusta 12")
        b = await ok(session, "nmem_remember", content="Judy's desk is on the third floor")

        first = await ok(session, "nmem_forget", memory_id=a["fiber_id"][:8], hard=True)
        assert first["status"] == "pending_confirmation"
        assert first["memory_id"] == a["fiber_id"]
        assert first["will_delete"]["memories"] == 1
        assert first["expires_in_seconds"] == 300
        assert first["confirm_token"] in first["message"]
        assert "Rua Augusta" in json.dumps(await ok(session, "nmem_export"))  # nothing erased yet

        # the original's confirm=true is not enough: a token is needed
        again = await ok(session, "nmem_forget", memory_id=a["fiber_id"], hard=True, confirm=True)
        assert again["status"] == "pending_confirmation"
        assert "not enough" in again["message"]
        assert again["confirm_token"] != first["confirm_token"]

        # a token names one memory: not another one, and it stays good for its own
        wrong = no_cli_flags(
            await fails(
                session,
                "nmem_forget",
                memory_id=b["fiber_id"],
                hard=True,
                confirm_token=first["confirm_token"],
            )
        )
        assert "another memory" in wrong
        assert "bogus" not in wrong
        forged = await fails(
            session, "nmem_forget", memory_id=a["fiber_id"], hard=True, confirm_token="bogus"
        )
        assert "unknown or expired" in forged

        done = await ok(
            session,
            "nmem_forget",
            memory_id=a["fiber_id"],
            hard=True,
            confirm_token=first["confirm_token"],
        )
        assert done["status"] == "hard_deleted"
        assert done["event"] == "memory_erased"
        assert "Rua Augusta" not in json.dumps(await ok(session, "nmem_export"))
        reused = await fails(
            session,
            "nmem_forget",
            memory_id=b["fiber_id"],
            hard=True,
            confirm_token=again["confirm_token"],
        )
        assert "another memory" in reused
        spent = await fails(
            session,
            "nmem_forget",
            memory_id=a["fiber_id"],
            hard=True,
            confirm_token=first["confirm_token"],
        )
        assert "erased" in spent or "unknown or expired" in spent

        soft = await ok(session, "nmem_forget", memory_id=b["fiber_id"], reason="moved")
        assert soft["status"] == "soft_deleted"
        back = await ok(session, "nmem_restore", memory_id=b["fiber_id"])
        assert back["status"] == "restored"
        assert (await ok(session, "nmem_stats"))["memories"] == 1
        history = await ok(session, "nmem_history", memory_id=b["fiber_id"])
        assert [e["type"] for e in history["events"]] == [
            "memory_encoded",
            "memory_forgotten",
            "memory_restored",
        ]


def test_confirmation_tokens_expire_and_are_single_use() -> None:
    from adapters.mcp.confirm import Confirmations

    now = [1000.0]
    tokens = Confirmations(ttl=300, clock=lambda: now[0])
    old = tokens.issue("erase", "work/abc")
    fresh = tokens.issue("erase", "work/abc")
    now[0] += 299
    assert tokens.redeem(fresh, "erase", "work/abc") is None
    assert tokens.redeem(fresh, "erase", "work/abc") is not None  # used once already
    now[0] += 2
    assert "expired" in (tokens.redeem(old, "erase", "work/abc") or "")
    other = tokens.issue("erase", "work/def")
    assert tokens.redeem(other, "erase", "work/abc") == (
        "this confirm_token was issued for another memory"
    )
    assert tokens.redeem(other, "erase", "work/def") is None


async def test_session_project_context_recap_and_situation(tmp_path: Path) -> None:
    store = tmp_path / "store"
    async with server(store) as session:
        assert (await ok(session, "nmem_session"))["active"] is False
        fresh = await ok(session, "nmem_situation")
        assert fresh["active_task"] is None
        assert "Fresh start" in fresh["suggestion"]

        state = await ok(
            session,
            "nmem_session",
            action="set",
            feature="billing",
            task="move invoices to the queue",
            progress=0.25,
        )
        assert state["started_at"]
        later = await ok(session, "nmem_session", action="set", progress=0.5, notes="half")
        assert (later["feature"], later["progress"], later["notes"]) == ("billing", 0.5, "half")
        assert later["started_at"] == state["started_at"]
        got = await ok(session, "nmem_session", action="get")
        assert (got["active"], got["task"], got["progress"]) == (
            True,
            "move invoices to the queue",
            0.5,
        )
        assert "go with action 'set'" in await fails(session, "nmem_session", task="x")

        seq_before = (await ok(session, "nmem_stats"))["seq"]
        saved = await ok(
            session,
            "nmem_eternal",
            action="save",
            project_name="Billing",
            tech_stack=["Python", "Kafka"],
            decision="Invoices go through Kafka",
            reason="retries for free",
            instruction="Never edit a sent invoice",
        )
        assert saved["items"] == ["project_context", "decision", "instruction"]
        renamed = await ok(session, "nmem_eternal", action="save", project_name="Billing v2")
        assert renamed["items"] == ["project_context"]
        status = await ok(session, "nmem_eternal")
        assert status["memory_counts"]["instruction"] == 1
        assert status["session"]["feature"] == "billing"

        await ok(
            session, "nmem_remember", content="The PDF renderer crashes on long names", type="error"
        )
        await ok(
            session,
            "nmem_remember",
            content="Waiting on the tax team for VAT rules",
            type="todo",
            tags=["blocker"],
        )
        one = (await ok(session, "nmem_recap"))["context"]
        assert "Project: Billing v2" in one
        assert "Project: Billing." not in one
        assert "Never edit a sent invoice" in one
        assert "Task: move invoices to the queue (50%)" in one
        assert "Active errors: 1" in one
        assert "PDF renderer" in one
        assert "Invoices go through Kafka" not in one
        two = (await ok(session, "nmem_recap", level=2))["context"]
        assert "## Key Decisions" in two
        assert "Reason: retries for free" in two
        assert "Waiting on the tax team" in two
        topic = await ok(session, "nmem_recap", topic="PDF renderer")
        assert "## Topic: PDF renderer" in topic["context"]
        assert topic["confidence"] > 0

        where = await ok(session, "nmem_situation")
        assert where["active_task"] == "move invoices to the queue"
        assert where["recent_decisions"][0]["content"].startswith("Decision: Invoices go")
        assert [b["content"] for b in where["open_blockers"]] == [
            "Waiting on the tax team for VAT rules"
        ]
        assert "1 open blocker" in where["suggestion"]

        ended = await ok(session, "nmem_session", action="end")
        assert ended["summary"].startswith("Session ended: worked on billing")
        assert (await ok(session, "nmem_session"))["active"] is False
        three = (await ok(session, "nmem_recap", level=3))["context"]
        assert "## Session History" in three
        assert "Session ended: worked on billing" in three
        before = await ok(session, "nmem_recap", at=seq_before)
        assert "Never edit" not in before["context"]  # as the brain stood then
        assert before["seq"] == seq_before


def test_an_abandoned_session_is_a_gap(tmp_path: Path) -> None:
    from adapters.mcp.session_tools import session_get, session_set, situation
    from engine import Store

    clock = Clock()
    with Store(tmp_path / "store", clock=clock) as store:
        brain = store.brain("work")
        session_set(brain, {"feature": "search", "task": "rank by recency"})
        assert session_get(brain)["active"] is True
        assert situation(brain)["gap_detected"] is False
        clock.advance(2)  # the state expires after a day without an end
        left = session_get(brain)
        assert left["active"] is False
        assert left["gap_detected"] is True
        assert situation(brain)["gap_detected"] is True
        assert "flush" in situation(brain)["suggestion"]


async def test_auto_capture_by_rules(tmp_path: Path) -> None:
    talk = (
        "We decided to ship the mobile app in May. Tom said the weather was nice. "
        "TODO: renew the signing certificate before April.\n"
        "The crash was caused by a stale cache key. Carol runs the Lisbon office now."
    )
    store = tmp_path / "store"
    async with server(store) as session:
        seen = await ok(session, "nmem_auto", action="analyze", text=talk)
        assert [(d["type"], d["content"][:12]) for d in seen["detected"]] == [
            ("decision", "We decided t"),
            ("todo", "TODO: renew "),
            ("error", "The crash wa"),
        ]
        assert (await ok(session, "nmem_stats"))["memories"] == 0  # analyze stores nothing
        done = await ok(session, "nmem_auto", action="process", text=talk)
        assert done["saved"] == 3
        stored = await ok(session, "nmem_list", tags=["auto-capture"])
        assert {m["type"] for m in stored["memories"]} == {"decision", "todo", "error"}
        again = await ok(session, "nmem_auto", action="process", text=talk)
        assert again["saved"] == 0
        assert {s["reason"] for s in again["skipped"]} == {"already remembered"}
        flushed = await ok(session, "nmem_auto", action="flush", text=talk)
        assert "Carol runs the Lisbon office now." in flushed["memories"]

        assert (await ok(session, "nmem_auto", action="disable"))["enabled"] is False
        off = await ok(session, "nmem_auto", action="process", text="We decided to use Rust.")
        assert off["saved"] == 0
        assert "disabled" in off["message"]
        assert (await ok(session, "nmem_auto", action="status"))["enabled"] is False
        await ok(session, "nmem_auto", action="enable")
        secret = await ok(
            session,
            "nmem_auto",
            action="process",
            text="We decided the password=hunter2-Xy9z stays for now.",
        )
        assert secret["saved"] == 0
        assert "hunter2" not in json.dumps(secret)
        assert "needs text" in await fails(session, "nmem_auto", action="process")
    assert "hunter2" not in server_log(store)


async def test_batch_edit_pin_list_and_diff(tmp_path: Path) -> None:
    store = tmp_path / "store"
    async with server(store) as session:
        batch = await ok(
            session,
            "nmem_remember_batch",
            memories=[
                {"content": "Kim maintains the billing API", "tags": ["billing"], "priority": 7},
                {"content": "deploy with API_KEY=sk-live-abcdefghijklmnopqrstuvwx0123"},
                {"content": "Leo prefers tabs over spaces", "event_at": "2026-01-05T10:00:00"},
            ],
        )
        statuses = [r["status"] for r in batch["results"]]
        assert statuses == ["ok", "error", "ok"]
        assert "remove the secret" in batch["results"][1]["reason"]
        assert "sk-live" not in json.dumps(batch)
        kim = batch["results"][0]["fiber_id"]

        edit = await ok(
            session,
            "nmem_edit",
            memory_id=kim[:8],
            content="Kim and Mia maintain the billing API",
            priority=9,
        )
        assert edit["status"] == "edited"
        assert [e["event"] for e in edit["events"]] == ["memory_edited", "memory_retyped"]
        assert any(c.startswith("text: ") for c in edit["changes"])
        assert "priority: 7 → 9" in edit["changes"]
        same = await ok(session, "nmem_edit", memory_id=kim, priority=9)
        assert (same["status"], same["events"], same["changes"]) == ("unchanged", [], [])
        assert "at least one" in await fails(session, "nmem_edit", memory_id=kim)
        old = await ok(session, "nmem_show", memory_id=kim, at=batch["results"][0]["seq"])
        assert old["content"] == "Kim maintains the billing API"

        pinned = await ok(session, "nmem_pin", fiber_ids=[kim])
        assert pinned["updated"] == 1
        listed = await ok(session, "nmem_pin", action="list")
        assert [f["fiber_id"] for f in listed["fibers"]] == [kim]
        assert listed["fibers"][0]["summary"] == "Kim and Mia maintain the billing API"
        assert "ffffffff" in await fails(session, "nmem_pin", fiber_ids=[kim, "ffffffff"])
        assert (await ok(session, "nmem_pin", action="list"))["pinned_count"] == 1
        assert (await ok(session, "nmem_unpin", fiber_ids=[kim]))["updated"] == 1
        assert (await ok(session, "nmem_pin", action="list"))["pinned_count"] == 0
        assert "needs fiber_ids" in await fails(session, "nmem_pin")

        billing = await ok(session, "nmem_list", tags=["billing"])
        assert [m["id"] for m in billing["memories"]] == [kim]
        everything = await ok(session, "nmem_list", tags=["billing", "nope"], tag_mode="or")
        assert everything["count"] == 1
        assert (await ok(session, "nmem_list", tags=["billing", "nope"]))["count"] == 0

        diff = await ok(session, "nmem_diff", start=batch["results"][0]["seq"])
        changed = diff["memories"]["changed"]
        assert changed["count"] == 1
        assert changed["memories"][0]["text"] == "Kim and Mia maintain the billing API"
        assert diff["memories"]["pinned"]["count"] == 1
        assert diff["memories"]["added"]["memories"][0]["text"] == "Leo prefers tabs over spaces"


async def test_recall_filters_modes_and_shaping(tmp_path: Path) -> None:
    store = tmp_path / "store"
    async with server(store) as session:
        ids: dict[str, Any] = {}
        for key, content, extra in (
            (
                "old",
                "The search cluster runs Elasticsearch 7",
                {"event_at": "2025-01-10T00:00:00", "tags": ["search"]},
            ),
            ("new", "The search cluster moved to OpenSearch 2", {"tags": ["search", "infra"]}),
            ("note", "Search cluster scratch note: reindex at noon", {"ephemeral": True}),
            ("soon", "The search cluster certificate expires soon", {"expires_days": 3}),
        ):
            ids[key] = (await ok(session, "nmem_remember", content=content, **extra))["fiber_id"]
        everything = await ok(session, "nmem_recall", query="search cluster")
        assert set(everything["fibers_matched"]) == set(ids.values())
        assert everything["tokens_used"] > 0

        infra = await ok(session, "nmem_recall", query="search cluster", tags=["infra"])
        assert infra["fibers_matched"] == [ids["new"]]
        either = await ok(
            session, "nmem_recall", query="search cluster", tags=["infra", "search"], tag_mode="or"
        )
        assert set(either["fibers_matched"]) == {ids["old"], ids["new"]}
        both = await ok(session, "nmem_recall", query="search cluster", tags=["infra", "search"])
        assert both["fibers_matched"] == [ids["new"]]

        then = await ok(session, "nmem_recall", query="search cluster", until="2025-06-01")
        assert then["fibers_matched"] == [ids["old"]]  # what happened by then (event time)
        since = await ok(session, "nmem_recall", query="search cluster", since="2025-06-01")
        assert ids["old"] not in since["fibers_matched"]
        listed = await ok(session, "nmem_list", until="2025-06-01")
        assert [m["id"] for m in listed["memories"]] == [ids["old"]]
        recent = await ok(session, "nmem_recall", query="search cluster", prefer_recent=True)
        assert recent["fibers_matched"][-1] == ids["old"]  # the oldest event last
        lasting = await ok(session, "nmem_recall", query="search cluster", permanent_only=True)
        assert ids["note"] not in lasting["fibers_matched"]
        assert "scratch note" not in lasting["answer"]
        warned = await ok(session, "nmem_recall", query="search cluster", warn_expiry_days=7)
        assert {w["fiber_id"] for w in warned["expiry_warnings"]} == {ids["soon"], ids["note"]}

        exact = await ok(session, "nmem_recall", query="OpenSearch", mode="exact")
        assert "answer" not in exact
        assert exact["memories"][0]["content"] == "The search cluster moved to OpenSearch 2"
        assert exact["memories"][0]["citation"]["source"] == "mcp"
        plain = await ok(
            session, "nmem_recall", query="OpenSearch", clean_for_prompt=True, show_provenance=False
        )
        assert plain["answer"].splitlines()[0] == "- The search cluster moved to OpenSearch 2"
        none = await ok(
            session, "nmem_recall", query="search cluster", min_confidence=1.0, tags=["nope"]
        )
        assert none["answer"] is None
        assert none["fibers_matched"] == []

        compact = await ok(session, "nmem_recall", query="search cluster", compact=True, limit=20)
        assert compact["fibers_matched_count"] == 4
        assert "fibers_matched" not in compact
        small = await ok(session, "nmem_context", token_budget=60)
        assert small["_token_budget_applied"] is True
        assert len(json.dumps(small)) < len(json.dumps(await ok(session, "nmem_context")))
        assert "_token_budget_applied" not in await ok(session, "nmem_context", token_budget=50_000)

        expired = await ok(
            session, "nmem_recall", query="search cluster", include_status=["expired"]
        )
        assert expired["fibers_matched"] == []  # nothing has expired yet
