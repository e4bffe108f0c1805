"""A drop-in for the original NeuralMemory's agents: its tool names, its argument names and the
shapes of its answers, checked against what the original itself does.

`tests/data/original_mcp.json` was recorded from the original `neural-memory` 4.63.0 by
`tools/compat/peer_mcp.py` (its MCP server, the official SDK client): every tool of its full
tier with its arguments, and the answer shapes of the calls in `original_mcp_calls.json`. Here
the same calls are replayed against `nmem mcp`.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp_client import fails, ok, server, server_log
from services import need

from adapters.mcp.compat import NOT_SERVED, NOT_SERVED_IN_BATCH_ITEMS, SHAPING_ARGUMENTS

COMPAT = Path(__file__).resolve().parents[1] / "tools" / "compat"
if str(COMPAT) not in sys.path:
    sys.path.insert(0, str(COMPAT))

from peer_mcp import json_type, record  # noqa: E402  (the recorder itself)

pytestmark = pytest.mark.anyio

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parents[1]
ORIGINAL = json.loads((DATA / "original_mcp.json").read_text())
CALLS = json.loads((DATA / "original_mcp_calls.json").read_text())["calls"]
DEFAULT_TIER = {name for name, tool in ORIGINAL["tools"].items() if tool["tier"] == "standard"}
LIFECYCLE = {"nmem_show", "nmem_edit", "nmem_pin", "nmem_forget", "nmem_stats"}

# Keys of the original's answers that we do not give, and why (the README says it too).
NOT_GIVEN: dict[str, dict[str, str]] = {
    "nmem_remember": dict.fromkeys(
        (
            "tier",
            "auto_importance",
            "enrichment_status",
            "encoding_profile",
            "quality",
            "score",
            "hints",
            "layer",
        ),
        "no tiers, layers, write-quality scoring or enrichment queue here",
    ),
    "nmem_recall": {"confidence_score": "one confidence, not the original's five parts"},
    "nmem_context": dict.fromkeys(
        ("token_budget", "hot_memories_injected", "fidelity_stats"),
        "no hot tier or fidelity levels here; tokens_used is given",
    ),
    "nmem_eternal": dict.fromkeys(
        ("message_count", "context_usage"), "the server does not count conversation messages"
    ),
    "nmem_stats": dict.fromkeys(
        (
            "pro_installed",
            "is_pro",
            "hot_neurons",
            "conflicts_active",
            "reflex_count",
            "tier_distribution",
            "layers",
            "upgrade_url",
            "hints",
        ),
        "no Pro edition, reflexes, tiers, layers or conflict tracking here",
    ),
    "nmem_show": dict.fromkeys(
        ("anchor_neuron_id", "neuron_count", "summary", "synapses", "trust_score"),
        "a memory's neurons and links are in its memory_encoded event (nmem_history)",
    ),
    "nmem_pin": dict.fromkeys(("tier_promoted", "grounded"), "no tiers or grounding here"),
    "nmem_auto": dict.fromkeys(
        ("surface_regenerated", "reflection"), "no knowledge surface or session reflection"
    ),
}


def compatible(original: str, ours: str) -> bool:
    numbers = {"integer", "number"}
    return original == ours or "null" in (original, ours) or {original, ours} <= numbers


def test_the_recording_is_the_original_4_63_with_its_63_tools() -> None:
    assert ORIGINAL["server"] == {"name": "neural-memory", "version": "4.63.0"}
    assert len(ORIGINAL["tools"]) == 63
    assert {
        "nmem_remember",
        "nmem_remember_batch",
        "nmem_recall",
        "nmem_context",
        "nmem_todo",
        "nmem_auto",
        "nmem_session",
        "nmem_eternal",
        "nmem_recap",
        "nmem_situation",
    } == DEFAULT_TIER


async def test_the_recording_is_what_the_original_serves() -> None:
    """The recording (and so the README's mapping, checked against it below) is still true of
    the original itself: its MCP server, listed and called now through the SDK client, has
    the same 63 tools, arguments and answer shapes."""
    server_exe = Path(os.environ.get("NMEM_PEER_VENV", "/work/peer-venv")) / "bin" / "nmem-mcp"
    if not server_exe.exists():
        need("neural-memory 4.63.0 with mcp", f"no {server_exe} (set NMEM_PEER_VENV)")
    live = await record(str(server_exe))
    assert live["server"] == ORIGINAL["server"]
    assert live["tools"] == ORIGINAL["tools"]
    assert live["answers"] == ORIGINAL["answers"]


async def test_every_argument_of_the_original_works_or_is_refused_with_a_reason(
    tmp_path: Path,
) -> None:
    """For each served tool of the original: our schema has each of its arguments, or the
    argument is refused in one line that names it and says why; nothing more is required."""
    store = tmp_path / "store"
    async with server(store) as session:
        tools = {t.name: t.input_schema for t in (await session.list_tools()).tools}
        assert set(tools) >= DEFAULT_TIER | LIFECYCLE
        for name in sorted(DEFAULT_TIER | LIFECYCLE):
            theirs = ORIGINAL["tools"][name]
            ours = tools[name]
            # we require no more than the original (some of its required ones have defaults)
            assert set(ours.get("required", [])) <= set(theirs["required"]), name
            for arg in theirs["arguments"]:
                if arg in ours["properties"]:
                    continue
                reason = NOT_SERVED.get(name, {}).get(arg)
                assert reason, (
                    f"{name}: the original's argument {arg!r} is neither served nor refused"
                )
                message = await fails(
                    session, name, **{arg: _sample(theirs, arg)}, **_required(name)
                )
                assert f"'{arg}'" in message
                assert "not supported here" in message
                assert reason in message
        # the original's two arguments of every tool are ours too
        for name, schema in tools.items():
            assert set(SHAPING_ARGUMENTS) <= set(schema["properties"]), name
    assert "Traceback" not in server_log(store)


def _required(name: str) -> dict[str, Any]:
    return {
        "nmem_remember": {"content": "A harmless note about tea"},
        "nmem_recall": {"query": "tea"},
        "nmem_edit": {"memory_id": "abcd1234"},
    }.get(name, {})


def _sample(tool: dict[str, Any], arg: str) -> Any:
    kind = tool["arguments"][arg].split(" or ")[0]
    return {
        "string": "x",
        "integer": 1,
        "number": 0.5,
        "boolean": True,
        "array": ["x"],
        "object": {},
    }.get(kind, "x")


async def test_the_originals_calls_replayed_get_its_answer_shapes(tmp_path: Path) -> None:
    """The calls an agent written for the original makes, with its argument names: each one
    succeeds here, and the answer has the original's keys with the same JSON types (ours are
    added beside them), except the keys in NOT_GIVEN."""
    store = tmp_path / "store"
    answers = ORIGINAL["answers"]
    assert [a["tool"] for a in answers] == [name for name, _ in CALLS]
    async with server(store) as session:
        ids: list[str | None] = []
        for (name, arguments), recorded in zip(CALLS, answers, strict=True):
            text = json.dumps(arguments)
            for i, fiber_id in enumerate(ids):
                if fiber_id is not None:
                    text = text.replace(f'"${i}"', json.dumps(fiber_id))
            answer = await ok(session, name, **json.loads(text))
            ids.append(answer.get("fiber_id"))
            for key, kind in recorded["shape"].items():
                if key in NOT_GIVEN.get(name, {}):
                    continue
                assert key in answer, f"{name}({text}): the original answers {key!r}"
                assert compatible(kind, json_type(answer[key])), (name, key, kind, answer[key])
    assert "Traceback" not in server_log(store)


async def test_batch_items_refuse_the_originals_unserved_arguments_one_by_one(
    tmp_path: Path,
) -> None:
    async with server(tmp_path / "store") as session:
        done = await ok(
            session,
            "nmem_remember_batch",
            memories=[
                {"content": "The office moved to Porto", "trust_score": 0.9},
                {"content": "Grace reviews every schema change"},
                {"content": "Hal owns on-call", "bogus": 1},
            ],
        )
    assert [r["status"] for r in done["results"]] == ["error", "ok", "error"]
    assert "trust_score" in done["results"][0]["reason"]
    assert NOT_SERVED_IN_BATCH_ITEMS["trust_score"] in done["results"][0]["reason"]
    assert "bogus" in done["results"][2]["reason"]
    assert (done["saved"], done["failed"], done["total"]) == (1, 2, 3)


def test_the_readme_maps_every_tool_of_the_original() -> None:
    """The README's table names each of the original's 63 tools once: served (as which of
    ours) or not, with why."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("#### The original's tools", 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\| `(nmem_\w+)` \| (.+?) \| (.+?) \|$", section, re.MULTILINE)
    named = [name for name, _, _ in rows]
    assert sorted(named) == sorted(ORIGINAL["tools"]), set(named) ^ set(ORIGINAL["tools"])
    for name, served, why in rows:
        assert why.strip(), name
        assert served.startswith(("`nmem_", "no")), (name, served)
