"""Commands that connect agents: `nmem mcp` (the MCP server on stdio), `nmem mcp-config` and
`nmem serve` (the HTTP server)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from adapters.http_limits import BODY_TIMEOUT, HEADER_TIMEOUT, MAX_CONNECTIONS

from . import fatal
from .base import EXIT_OK, Commands, UsageError

UI_PORT = 8765


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
    p = command(
        "serve",
        "Run the HTTP server: REST for every command (OpenAPI at /openapi.json), a WebSocket "
        "stream of each brain's events, bearer tokens per brain. Loopback only unless --tokens.",
        cmd_serve,
        "example: nmem serve --port 8765   |   nmem serve --host 0.0.0.0 --tokens tokens.json",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="port (default: 8765)")
    p.add_argument(
        "--tokens",
        metavar="FILE",
        help='token file: {"tokens": [{"token": "...", "brains": ["work"], "access": "read"}]} '
        "(access read or write; brains may be '*'); required to bind a non-loopback host",
    )
    p.add_argument(
        "--max-body",
        type=_size,
        default=1 << 20,
        metavar="BYTES",
        help="largest request body, e.g. 1048576, 512k, 8M (default: 1M)",
    )
    p.add_argument(
        "--request-log",
        metavar="FILE",
        default="-",
        help="one JSON line per request (request id, method, route, status, duration_ms, "
        "brain, token name; never bodies or secrets): '-' standard error (default), a file "
        "(appended) or 'off'",
    )
    p.add_argument(
        "--header-timeout",
        type=float,
        default=HEADER_TIMEOUT,
        metavar="S",
        help=f"seconds a request's headers may take to arrive (default: {HEADER_TIMEOUT:g})",
    )
    p.add_argument(
        "--body-timeout",
        type=float,
        default=BODY_TIMEOUT,
        metavar="S",
        help=f"seconds a request's body may take to arrive (default: {BODY_TIMEOUT:g})",
    )
    p.add_argument(
        "--max-connections",
        type=int,
        default=MAX_CONNECTIONS,
        metavar="N",
        help=f"connections served at once; more get 503 (default: {MAX_CONNECTIONS})",
    )

    p = command(
        "ui",
        "Open the brain explorer: start the HTTP server on loopback and open its dashboard "
        "(overview, graph, memories, recall, diff; a time slider on every page) in a browser.",
        cmd_ui,
        "example: nmem ui   |   nmem ui --brain work --port 9000 --no-open",
    )
    p.add_argument(
        "--port", type=int, help=f"port (default: {UI_PORT}, or a free one if that is taken)"
    )
    p.add_argument("--no-open", action="store_true", help="print the address, open no browser")


def cmd_mcp(args: argparse.Namespace) -> int:
    try:
        from adapters.mcp.server import serve
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
    from engine.store import default_location

    fatal.install(str(args.store or default_location()))
    serve(args.store, args.brain, args.remote, args.token)
    return EXIT_OK


def mcp_config(args: argparse.Namespace) -> dict[str, Any]:
    """The `mcpServers` block that starts this installation's `nmem mcp`."""
    from engine.logstore import is_url
    from engine.store import default_location

    command, prefix = nmem_command()
    server_args = [*prefix, "mcp"]
    if args.brain:
        server_args += ["--brain", args.brain]
    where = args.store or default_location()
    home = where if is_url(where) else str(Path(where).expanduser().absolute())
    env = {"NMEM_HOME": home}
    if args.remote:  # a served brain; its replica under NMEM_HOME
        server_args += ["--remote", args.remote]
        if args.token:
            env["NMEM_TOKEN"] = args.token  # in the client's config, not on a command line
    entry = {"command": command, "args": server_args, "env": env}
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
    import shutil

    found = shutil.which("nmem")
    if found:
        return str(Path(found).absolute()), []
    return sys.executable, ["-m", "adapters.cli.main"]


def cmd_mcp_config(args: argparse.Namespace) -> int:
    import json
    import shlex
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


def _size(text: str) -> int:
    """A byte count: 1048576, 512k, 8M, 1MiB."""
    units = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    raw = text.strip().lower().removesuffix("ib").removesuffix("b")
    unit = raw[-1:] if raw[-1:] in ("k", "m", "g") else ""
    try:
        value = float(raw[: len(raw) - len(unit)]) * units[unit]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 1048576, 512k, 8M)") from None
    if not 1 <= value < 1 << 40:
        raise argparse.ArgumentTypeError(f"size out of range: {text!r}")
    return int(value)


def _not_remote(args: argparse.Namespace) -> None:
    if args.remote:
        raise UsageError(f"nmem {args.command} serves a local store (--store); --remote is for "
                         "its clients")  # fmt: skip


def cmd_serve(args: argparse.Namespace) -> int:
    _not_remote(args)
    try:
        from adapters.http_server import serve
    except ImportError as exc:
        raise UsageError(
            f"the HTTP server needs starlette and uvicorn ({exc}); "
            "install them with: pip install 'neuralmemory[http]'"
        ) from None

    def ready(url: str, store: str) -> None:
        fatal.install(store)
        auth = f"tokens from {args.tokens}" if args.tokens else "no tokens, loopback only"
        sys.stderr.write(
            f"nmem serve: store {store} on {url} ({auth}); API: {url}/openapi.json; "
            "Ctrl-C to stop\n"
        )

    from adapters.http_limits import Limits

    limits = Limits(args.header_timeout, args.body_timeout, args.max_connections)
    with _request_log(args.request_log) as request_log:
        try:
            serve(args.store, host=args.host, port=args.port, tokens=args.tokens,
                  max_body_bytes=args.max_body, limits=limits, request_log=request_log,
                  ready=ready)  # fmt: skip
        except KeyboardInterrupt:  # Ctrl-C: uvicorn has shut down cleanly and closed the store
            sys.stderr.write("nmem serve: stopped\n")
    return EXIT_OK


@contextmanager
def _request_log(where: str) -> Iterator[TextIO | None]:
    """The stream of `--request-log`: standard error, a file opened for appending, or none."""
    if where == "off":
        yield None
    elif where == "-":
        yield sys.stderr
    else:
        try:
            stream = Path(where).expanduser().open("a", encoding="utf-8", buffering=1)
        except OSError as exc:
            raise UsageError(f"cannot open --request-log {where}: {exc.strerror or exc}") from None
        with stream:
            yield stream


def cmd_ui(args: argparse.Namespace) -> int:
    """`nmem serve` on 127.0.0.1 (no tokens: loopback only), then the dashboard in a browser
    once the server answers. The browser opens from a background thread, so a browser that
    never returns (or none at all) cannot hold the server up."""
    _not_remote(args)
    try:
        from adapters.http_server import serve
    except ImportError as exc:
        raise UsageError(
            f"the dashboard needs starlette and uvicorn ({exc}); "
            "install them with: pip install 'neuralmemory[http]'"
        ) from None
    import threading
    from urllib.parse import quote

    port = _ui_port() if args.port is None else args.port
    fragment = f"#/overview?brain={quote(args.brain, safe='')}" if args.brain else ""

    def ready(url: str, store: str) -> None:
        fatal.install(store)
        page = f"{url}/ui{fragment}"
        sys.stderr.write(f"nmem ui: the brain explorer is at {page} (store {store}); "
                         "Ctrl-C to stop\n")  # fmt: skip
        if not args.no_open:
            threading.Thread(target=_open_when_up, args=(url, page), daemon=True).start()

    try:
        serve(args.store, host="127.0.0.1", port=port, ready=ready)
    except KeyboardInterrupt:
        sys.stderr.write("nmem ui: stopped\n")
    return EXIT_OK


def _ui_port() -> int:
    """UI_PORT when it is free on loopback, else any free port."""
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", UI_PORT))
        except OSError:
            s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _open_when_up(url: str, page: str) -> None:
    import time
    import urllib.request
    import webbrowser

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1) as answer:
                if answer.status == 200:
                    break
        except OSError:
            time.sleep(0.1)
    if not webbrowser.open(page):
        sys.stderr.write(f"nmem ui: no browser found; open {page}\n")
