"""Commands that connect agents: `nmem mcp` (the MCP server on stdio) and `nmem mcp-config`."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import sys
from pathlib import Path
from typing import Any

from .base import EXIT_OK, Commands, UsageError


def register(command: Commands) -> None:
    command(
        "mcp",
        "Run the MCP server on stdin/stdout (started by an MCP client, not by hand).",
        cmd_mcp,
        "example: nmem mcp --brain work   (see 'nmem mcp-config' for the client configuration)",
    )
    p = command(
        "mcp-config",
        "Print the block to paste into an MCP client's configuration (Claude Desktop, Claude "
        "Code, ...).",
        cmd_mcp_config,
        "example: nmem mcp-config --brain work --json",
    )
    p.add_argument(
        "--name",
        default="neuralmemory",
        help="the server's name in the client's configuration (default: neuralmemory)",
    )


def cmd_mcp(args: argparse.Namespace) -> int:
    try:
        from adapters.mcp_server import serve
    except ImportError as exc:
        raise UsageError(
            f"the MCP server needs the 'mcp' package ({exc}); "
            "install it with: pip install 'neuralmemory[mcp]'"
        ) from None
    if sys.stdin.isatty():
        sys.stderr.write(
            "nmem mcp: serving MCP on stdin/stdout; an MCP client starts this command "
            "(see 'nmem mcp-config'). Ctrl-D or Ctrl-C to stop.\n"
        )
    serve(args.store, args.brain)
    return EXIT_OK


def mcp_config(args: argparse.Namespace) -> dict[str, Any]:
    """The `mcpServers` block that starts this installation's `nmem mcp`."""
    from engine.store import default_home

    command, prefix = nmem_command()
    server_args = [*prefix, "mcp"]
    if args.brain:
        server_args += ["--brain", args.brain]
    home = Path(args.store).expanduser() if args.store else default_home()
    entry = {
        "command": command,
        "args": server_args,
        "env": {"NMEM_HOME": str(home.absolute())},
    }
    return {"mcpServers": {args.name: entry}}


def nmem_command() -> tuple[str, list[str]]:
    """The absolute path of the `nmem` executable running now (else the one next to this
    Python, else on PATH), or this Python running the CLI module."""
    me = Path(sys.argv[0])
    if me.name == "nmem" and me.is_file():
        return str(me.absolute()), []
    beside = Path(sys.executable).parent / "nmem"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside), []
    found = shutil.which("nmem")
    if found:
        return str(Path(found).absolute()), []
    return sys.executable, ["-m", "adapters.cli.main"]


def cmd_mcp_config(args: argparse.Namespace) -> int:
    from importlib.util import find_spec

    from .output import emit_json, say

    config = mcp_config(args)
    if find_spec("mcp") is None:
        sys.stderr.write(
            "nmem: warning: the 'mcp' package is not installed, so 'nmem mcp' cannot start; "
            "install it with: pip install 'neuralmemory[mcp]'\n"
        )
    if args.json:
        emit_json(config)
        return EXIT_OK
    entry = config["mcpServers"][args.name]
    say("Add this to your MCP client's configuration:")
    say('  Claude Desktop: the "mcpServers" object of claude_desktop_config.json, then restart')
    say("    (macOS: ~/Library/Application Support/Claude/, Windows: %APPDATA%\\Claude\\)")
    say("  Claude Code:    .mcp.json in your project, or run:")
    say(f"    claude mcp add-json {shlex.quote(args.name)} {shlex.quote(json.dumps(entry))}")
    say(f"The server uses the store {entry['env']['NMEM_HOME']}, brain "
        f"{args.brain or 'current (nmem brain use)'}.")  # fmt: skip
    say()
    emit_json(config)
    return EXIT_OK
