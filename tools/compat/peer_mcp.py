"""Record the ORIGINAL neural-memory's MCP interface, through the official SDK client.

Usage: ``python tools/compat/peer_mcp.py --server /work/peer-venv/bin/nmem-mcp``

Starts the original's MCP server on a fresh temporary home, lists its tools in its default
("standard") tier and in the full one, and replays ``tests/data/original_mcp_calls.json``.
Writes ``tests/data/original_mcp.json``: per tool its tier, argument names with their JSON
types, and required arguments (no descriptions: the interface, not the text), and per call the
shape of the answer (key -> JSON type). tests/test_mcp_compat.py checks ours against it.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import anyio
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

DATA = Path(__file__).resolve().parents[2] / "tests" / "data"


def json_type(value: Any) -> str:
    for kind, name in (
        (bool, "boolean"),
        (int, "integer"),
        (float, "number"),
        (str, "string"),
        (list, "array"),
        (dict, "object"),
    ):
        if isinstance(value, kind):
            return name
    return "null"


def schema_type(prop: dict[str, Any]) -> str:
    kind = prop.get("type", "any")
    return " or ".join(kind) if isinstance(kind, list) else str(kind)


def interface(tool: Any, tier: str) -> dict[str, Any]:
    schema = tool.input_schema
    props = schema.get("properties", {})
    return {
        "tier": tier,
        "arguments": {name: schema_type(prop) for name, prop in props.items()},
        "required": schema.get("required", []),
    }


def session_for(server: str, home: Path, tier: str) -> StdioServerParameters:
    (home / "config.toml").write_text(f'[tool_tier]\ntier = "{tier}"\n')
    env = {**os.environ, "NEURALMEMORY_DIR": str(home), "HOME": str(home)}
    return StdioServerParameters(command=server, args=[], env=env)


async def record(server: str) -> dict[str, Any]:
    calls = json.loads((DATA / "original_mcp_calls.json").read_text())["calls"]
    tools: dict[str, Any] = {}
    answers: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp, open(os.devnull, "w") as errlog:
        for tier in ("standard", "full"):
            home = Path(tmp) / tier
            home.mkdir()
            params = session_for(server, home, tier)
            async with (
                stdio_client(params, errlog=errlog) as (read, write),
                ClientSession(read, write) as session,
            ):
                info = await session.initialize()
                listed = (await session.list_tools()).tools
                for tool in listed:
                    if tool.name not in tools:
                        tools[tool.name] = interface(tool, tier)
                if tier != "full":
                    continue
                ids: list[str | None] = []
                for name, arguments in calls:
                    text = json.dumps(arguments)
                    for i, fid in enumerate(ids):
                        if fid is not None:
                            text = text.replace(f'"${i}"', json.dumps(fid))
                    result = await session.call_tool(name, json.loads(text))
                    body = json.loads(result.content[0].text)  # type: ignore[union-attr]
                    ids.append(body.get("fiber_id") if isinstance(body, dict) else None)
                    answers.append(
                        {"tool": name, "shape": {k: json_type(v) for k, v in body.items()}}
                    )
    return {
        "server": {"name": info.server_info.name, "version": info.server_info.version},
        "tools": tools,
        "answers": answers,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="/work/peer-venv/bin/nmem-mcp")
    parser.add_argument("--out", type=Path, default=DATA / "original_mcp.json")
    args = parser.parse_args()
    data = anyio.run(record, args.server)
    args.out.write_text(json.dumps(data, indent=1) + "\n")
    print(f"{len(data['tools'])} tools, {len(data['answers'])} answers -> {args.out}")


if __name__ == "__main__":
    main()
