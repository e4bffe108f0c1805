"""An MCP client session with `nmem mcp` over the official SDK's stdio client, for the MCP
suites: the server is a real process on a temporary store."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
from helpers import NMEM
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

CALL_TIMEOUT = 20.0


@asynccontextmanager
async def server(
    store: Path,
    *args: str,
    command: str | None = None,
    env: dict[str, str] | None = None,
    log: Path | None = None,
) -> AsyncIterator[ClientSession]:
    """An initialized client session with `nmem mcp --store <store>` (or the given command);
    the server's stderr goes to `<store>-server.log`."""
    params = StdioServerParameters(
        command=command or NMEM,
        args=list(args) if command else ["mcp", "--store", str(store), *args],
        env=env,
    )
    with (log or log_path(store)).open("a") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write, read_timeout_seconds=CALL_TIMEOUT) as session,
        ):
            await session.initialize()
            yield session


async def ok(session: ClientSession, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await session.call_tool(tool, arguments)
    text = result.content[0].text if result.content else ""  # type: ignore[union-attr]
    assert not result.is_error, f"{tool}({arguments}) failed: {text}"
    assert result.structured_content is not None
    assert json.loads(text) == result.structured_content  # the text block carries the same JSON
    content: dict[str, Any] = result.structured_content
    return content


async def fails(session: ClientSession, tool: str, **arguments: Any) -> str:
    result = await session.call_tool(tool, arguments)
    assert result.is_error, f"{tool}({arguments}) should have failed: {result.content}"
    assert len(result.content) == 1
    text: str = result.content[0].text  # type: ignore[union-attr]
    assert text
    assert "\n" not in text, f"not one line: {text!r}"
    assert "Traceback" not in text
    return text


async def cli(store: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return await anyio.run_process(
        [NMEM, *args, "--store", str(store)],
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )


def log_path(store: Path) -> Path:
    return store.parent / f"{store.name}-server.log"


def server_log(store: Path) -> str:
    path = log_path(store)
    return path.read_text() if path.exists() else ""
