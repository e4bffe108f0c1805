"""`nmem preload`: the engine kept loaded, so an agent's `nmem` commands start in tens of ms.

A fresh `nmem recall` spends most of its time importing (numpy alone is about half). With
`nmem preload --socket PATH` running and NMEM_PRELOAD=PATH set, an `nmem` process hands its
command line to the preloaded process over that unix socket; a fork of it runs the command
with the caller's own standard input, output and error (passed as file descriptors), working
directory, environment and umask, and the caller exits with its exit code: the same bytes
out as a fresh process, without the imports. The preloaded process opens no store: each fork
opens what its command names, as a fresh process would.

The caller runs the command itself when no preloaded process answers (none started, or it
stopped), when a terminal is attached (a fork is not in the terminal's foreground, so it could
not prompt) and for `nmem preload` itself. The preloaded process stops when a module it loaded
changes on disk (an upgrade): it would no longer run what a fresh process runs.

The request is one line of JSON (a `Request`) sent with the caller's three standard streams.
One that is not (malformed, of the wrong shape, not UTF-8, over `_LIMIT` bytes, without the
streams; an environment with bytes that are not UTF-8 too, which JSON cannot carry) is
answered with a line "error: why", written to the preloaded process's standard error too, and
the caller runs the command itself; the preloaded process keeps serving.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # not typing's, as in main.py: a forwarded command does not import typing
if TYPE_CHECKING:
    import argparse
    import socket
    from typing import Any

    from .base import Commands
    from .preload_schema import Request

ENV = "NMEM_PRELOAD"
_LIMIT = 1 << 22  # bytes of a request: an environment and command line (ARG_MAX is 2 MiB)
_WAIT = 10.0  # seconds a caller has to send its request: the preloaded process serves one at a time


def register(command: Commands) -> None:
    p = command(
        "preload",
        f"Keep the engine loaded and run the nmem commands of processes that set {ENV} to "
        "the socket (each in a fork of this process, with the caller's files, directory and "
        "environment), so they start without the imports.",
        cmd_preload,
        f"example: nmem preload --socket /tmp/nmem.sock &   then   export {ENV}=/tmp/nmem.sock",
    )
    p.add_argument("--socket", required=True, metavar="PATH", help="unix socket to listen on")


def forward(path: str, argv: list[str]) -> int | None:
    """The exit code of `argv` run by the preloaded process at `path`, or None when it is not
    to be used (see the module's docstring): then the caller runs the command itself."""
    if (argv[:1] == ["preload"] or any(os.isatty(fd) for fd in (0, 1, 2))
            or not os.path.exists(path)):  # fmt: skip
        return None
    import contextlib
    import json
    import signal
    import socket

    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(path)
    except OSError:
        return None
    with conn:
        mask = os.umask(0)
        os.umask(mask)
        request = {"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ), "umask": mask,
                   "streams": [_shape(s) for s in (sys.stdin, sys.stdout, sys.stderr)],
                   "sigint_ignored": signal.getsignal(signal.SIGINT) is signal.SIG_IGN}  # fmt: skip
        try:
            socket.send_fds(conn, [json.dumps(request).encode() + b"\n"], [0, 1, 2])
            reply = conn.makefile("rb")
            pid = reply.readline()
        except OSError:  # a standard stream closed, or the preloaded process gone meanwhile
            return None
        if not pid.rstrip(b"\n").isdigit():  # "error: ...", or closed: its code changed on disk
            return None
        child = int(pid)

        def relay(signum: int, _: Any) -> None:  # Ctrl-C and the like reach the command
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signum)

        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, relay)
        code = reply.read(1)
    return code[0] if code else 2  # no code: the fork was stopped (its own message said why)


def _shape(stream: Any) -> list[Any]:
    """How this process's standard stream decodes or encodes text: the fork's is made alike."""
    if stream is None:
        return ["utf-8", "strict", False]
    return [stream.encoding, stream.errors, stream.line_buffering]


def cmd_preload(args: argparse.Namespace) -> int:
    import gc
    import importlib
    import signal
    import socket

    from .base import EXIT_OK
    from .main import build_parser

    for name in ("engine.store", "adapters.cli.output"):  # what commands load, numpy among it
        importlib.import_module(name)
    build_parser()  # every command module
    loaded = _loaded()
    gc.collect()
    gc.freeze()  # shared with every fork, never copied by a collection
    path = args.socket
    if os.path.exists(path):
        os.unlink(path)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    umask = os.umask(0o177)  # the socket is made 0600: only its user may hand it commands
    try:
        server.bind(path)
    finally:
        os.umask(umask)
    server.listen(64)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # forks are reaped by the kernel
    try:  # from here on a stop removes the socket, one that comes right after the line too
        signal.signal(signal.SIGTERM, _stop)  # stopped from a script (where SIGINT is ignored)
        sys.stderr.write(f"nmem preload: serving on {path} (set {ENV}={path}); Ctrl-C stops\n")
        while True:
            conn, _ = server.accept()
            with conn:
                fds: list[int] = []
                try:
                    request = _receive(conn, fds)
                except OSError:  # a caller gone before it asked, or too slow to
                    request = None
                if _changed(loaded):
                    sys.stderr.write("nmem preload: its code changed on disk; stopping\n")
                    return EXIT_OK
                if isinstance(request, str):
                    _refuse(conn, request)
                elif request is not None and os.fork() == 0:
                    try:
                        server.close()
                        _run_forked(conn, request, fds)
                    finally:  # a fork that could not become the caller: it falls back
                        os._exit(70)
                for fd in fds:
                    os.close(fd)
    except KeyboardInterrupt:
        return EXIT_OK
    finally:
        server.close()
        if os.path.exists(path):
            os.unlink(path)


def _stop(signum: int, _: Any) -> None:
    raise KeyboardInterrupt


def _receive(conn: socket.socket, fds: list[int]) -> Request | str:
    """A caller's request, its standard streams put in `fds`; or why its bytes are not one."""
    import socket

    import msgspec

    from .preload_schema import Request

    conn.settimeout(_WAIT)
    try:
        message, got, _, _ = socket.recv_fds(conn, 1 << 16, 3)
        fds.extend(got)
        chunks, size = [message], len(message)
        while message and not message.endswith(b"\n"):
            if size > _LIMIT:
                return f"a request is at most {_LIMIT} bytes"
            message = conn.recv(1 << 16)
            chunks.append(message)
            size += len(message)
    except TimeoutError:
        return f"no request within {_WAIT:g} s"
    if not message:
        return "a request ends with a newline"
    if len(fds) != 3:
        return f"a request comes with 3 file descriptors (standard streams), got {len(fds)}"
    conn.settimeout(None)
    try:
        return msgspec.json.decode(b"".join(chunks), type=Request)
    except msgspec.MsgspecError as exc:  # what and where: "Expected `str`, got `int` - at ..."
        return f"not a request: {exc}"


def _refuse(conn: socket.socket, why: str) -> None:
    """Tell the caller (it runs the command itself) and the preloaded process's user."""
    import contextlib

    sys.stderr.write(f"nmem preload: refused a request: {why}\n")
    with contextlib.suppress(OSError):
        conn.sendall(f"error: {why}\n".encode())


def _loaded() -> dict[str, int]:
    """When each loaded module's file last changed."""
    files = (getattr(module, "__file__", None) for module in list(sys.modules.values()))
    return {where: _stamp(where) for where in files if where}


def _changed(loaded: dict[str, int]) -> bool:
    """Whether a file of the modules loaded at the start changed since."""
    return any(_stamp(where) != stamp for where, stamp in loaded.items())


def _stamp(where: str) -> int:
    try:
        return os.stat(where).st_mtime_ns
    except OSError:
        return -1


def _run_forked(conn: socket.socket, request: Request, fds: list[int]) -> None:
    """In the fork: become the caller's process (its files, directory, environment, umask,
    time zone) and run its command line; the exit code goes back over the connection."""
    import atexit
    import io
    import signal
    import time
    import traceback

    from .main import _run

    # the signals as a fresh interpreter started by the caller has them
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    ignored = request.sigint_ignored
    signal.signal(signal.SIGINT, signal.SIG_IGN if ignored else signal.default_int_handler)
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request.cwd)
    os.environ.clear()
    os.environ.update(request.env)
    os.umask(request.umask)
    time.tzset()
    streams = []
    for fd, (encoding, errors, line_buffering) in enumerate(request.streams):
        raw = io.FileIO(fd, "r" if fd == 0 else "w", closefd=False)
        buffered = io.BufferedReader(raw) if fd == 0 else io.BufferedWriter(raw)
        streams.append(io.TextIOWrapper(buffered, encoding=encoding, errors=errors,
                                        line_buffering=line_buffering))  # fmt: skip
    sys.stdin, sys.stdout, sys.stderr = streams
    sys.argv = ["nmem", *request.argv]
    conn.sendall(f"{os.getpid()}\n".encode())
    code = 1
    try:
        code = _run(None)
    except SystemExit as exc:  # --help, --version: what the interpreter makes of it
        code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
        if not isinstance(exc.code, int | None):
            print(exc.code, file=sys.stderr)
    except BaseException:
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
            atexit._run_exitfuncs()
            conn.sendall(bytes([code & 0xFF]))
        finally:
            os._exit(code & 0xFF)
