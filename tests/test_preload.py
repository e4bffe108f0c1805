"""`nmem preload`: a real preloaded process on a real unix socket answers `nmem` commands with
the bytes and exit code a fresh process gives, and `nmem` runs the command itself when that
process is gone."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import NMEM
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FORWARD = """
import sys
from adapters.cli.preload import forward
code = forward(sys.argv[1], sys.argv[2:])
sys.stdout.write(f"\\nforwarded: {code}\\n")
"""


def _env(home: Path, sock: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "NMEM_PRELOAD"}
    env.update(NMEM_HOME=str(home), NO_COLOR="1")
    if sock is not None:
        env["NMEM_PRELOAD"] = str(sock)
    return env


def run(home: Path, *args: str, sock: Path | None = None, stdin: str = "") -> tuple[int, str, str]:
    done = subprocess.run([NMEM, *args], capture_output=True, text=True, input=stdin,
                          env=_env(home, sock), timeout=120, check=False)  # fmt: skip
    # what differs between two runs of one read: its timing, the moment it answered at and the
    # scores' last digits (recency moves on between the two)
    out = re.sub(r"confidence [0-9.]+|[0-9.]+ ms · as known at [^(]*", "", done.stdout)
    out = re.sub(r'"(latency_ms|at|score|confidence)": [^,\n]*', "", out)
    return done.returncode, out, done.stderr


def forwarded(home: Path, sock: Path, *args: str) -> str:
    done = subprocess.run([sys.executable, "-c", FORWARD, str(sock), *args],
                          capture_output=True, text=True, input="", env=_env(home, None),
                          timeout=120, check=False)  # fmt: skip
    return done.stdout.rsplit("forwarded: ", 1)[-1].strip()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    for text in ("Alice moved payments to PostgreSQL 16", "Bob chose Redis for the session cache",
                 "We chose PostgreSQL for its JSON support"):  # fmt: skip
        assert run(home, "remember", text, "--brain", "work")[0] == 0
    return home


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    sock = tmp_path / "nmem.sock"
    proc = subprocess.Popen([NMEM, "preload", "--socket", str(sock)], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    assert proc.stderr is not None
    assert "serving on" in proc.stderr.readline()  # written once it listens
    yield proc, sock
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)


COMMANDS = [
    ("recall", "Why did we choose PostgreSQL?", "--brain", "work"),
    ("--json", "recall", "payments database", "--brain", "work"),
    ("recall", "anything", "--brain", "nosuch"),  # exit 1
    ("recal", "anything"),  # exit 2, a usage error
    ("--version",),
    ("recall", "--help"),
    ("list", "--brain", "work"),
    ("--json", "stats", "--brain", "work"),
]


def test_a_preloaded_process_answers_as_a_fresh_one(
    home: Path, server: tuple[subprocess.Popen[str], Path]
) -> None:
    _, sock = server
    assert stat.S_IMODE(sock.stat().st_mode) == 0o600  # only its user may hand it commands
    assert forwarded(home, sock, "stats", "--brain", "work") == "0"  # it did answer
    for args in COMMANDS:
        assert run(home, *args, sock=sock) == run(home, *args), args
    # standard input is the caller's: a memory read from a pipe
    code, out, _ = run(home, "remember", "-", "--brain", "work", sock=sock, stdin="Dana owns QA")
    assert code == 0
    assert "Remembered" in out
    assert "Dana owns QA" in run(home, "recall", "who owns QA?", "--brain", "work")[1]
    assert forwarded(home, sock, "stats", "--brain", "work") == "0"  # still answering


def _ask(sock: Path, message: bytes, fds: int = 3) -> bytes:
    """What the preloaded process answers to `message` sent with `fds` file descriptors."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn, open(os.devnull, "rb") as null:
        conn.connect(str(sock))
        try:
            socket.send_fds(conn, [message[: 1 << 16]], [null.fileno()] * fds)
            conn.sendall(message[1 << 16 :])
            conn.shutdown(socket.SHUT_WR)
        except OSError:  # refused before it was all sent: it closed the connection
            pass
        with conn.makefile("rb") as reply:  # one line: reading on to the end could meet a reset
            return reply.readline()  # (it closed with bytes of a too big request unread)


GOOD = {"argv": ["stats"], "cwd": "/", "env": {}, "umask": 0o22,
        "streams": [["utf-8", "strict", False]] * 3, "sigint_ignored": False}  # fmt: skip


@pytest.mark.parametrize(
    ("message", "fds", "why"),
    [
        (b"not json\n", 3, "not a request: JSON is malformed"),
        (b'{"argv": "stats"}\n', 3, "not a request: Expected `array`, got `str` - at `$.argv`"),
        (json.dumps({**GOOD, "umask": 4096}).encode() + b"\n", 3, "<= 511 - at `$.umask`"),
        (json.dumps({**GOOD, "streams": [["utf-8", "strict", 1]] * 3}).encode() + b"\n", 3,
         "Expected `bool`, got `int` - at `$.streams[0][2]`"),
        (json.dumps({**GOOD, "more": 1}).encode() + b"\n", 3, "unknown field `more`"),
        (json.dumps({k: v for k, v in GOOD.items() if k != "cwd"}).encode() + b"\n", 3,
         "missing required field `cwd`"),
        (b'{"argv": ["\xff\xfe"]}\n', 3, "not a request: Invalid UTF-8"),
        (b'{"argv": ["a\\udcff"]}\n', 3, "not a request: JSON is malformed"),
        (b"\x00\x01\x02\n", 3, "not a request: JSON is malformed"),
        (b'{"argv": [' + b'"x",' * (1 << 21) + b'"y"]}\n', 3, "at most 4194304 bytes"),
        (json.dumps(GOOD).encode(), 3, "ends with a newline"),
        (json.dumps(GOOD).encode() + b"\n", 1, "3 file descriptors (standard streams), got 1"),
    ],
)  # fmt: skip
def test_a_request_that_is_not_one_gets_an_error_and_the_process_keeps_serving(
    home: Path, server: tuple[subprocess.Popen[str], Path], message: bytes, fds: int, why: str
) -> None:  # fmt: skip
    proc, sock = server
    reply = _ask(sock, message, fds)
    assert reply.startswith(b"error: "), reply
    assert reply.endswith(b"\n"), reply
    assert why in reply.decode(), reply
    assert proc.stderr is not None
    assert why in proc.stderr.readline()  # its user sees it too
    assert forwarded(home, sock, "stats", "--brain", "work") == "0"  # still answering
    assert proc.poll() is None


def test_a_caller_refused_runs_the_command_itself(
    home: Path, server: tuple[subprocess.Popen[str], Path]
) -> None:
    """An environment with bytes that are not UTF-8 cannot be a JSON request: the caller is
    told, and runs the command itself with the same output."""
    _, sock = server
    env = {**_env(home, sock), "ODD": "caf\udce9"}
    args = [NMEM, "recall", "Why did we choose PostgreSQL?", "--brain", "work"]
    bytes_env = {os.fsencode(k): os.fsencode(v) for k, v in env.items()}
    done = subprocess.run(args, capture_output=True, env=bytes_env, timeout=120, check=False)
    assert done.returncode == 0
    assert b"PostgreSQL" in done.stdout


def test_without_the_preloaded_process_nmem_runs_the_command_itself(
    home: Path, server: tuple[subprocess.Popen[str], Path]
) -> None:
    proc, sock = server
    proc.kill()  # its socket file stays behind
    proc.wait(timeout=30)
    assert sock.exists()
    assert forwarded(home, sock, "stats", "--brain", "work") == "None"
    for args in COMMANDS[:3]:
        assert run(home, *args, sock=sock) == run(home, *args), args
    assert forwarded(home, home / "no.sock", "stats") == "None"  # never started


WORDS = ["PostgreSQL", "Redis", "payments", "session", "cache", "why", "chose", "Alice", "JSON"]


@settings(max_examples=6, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    words=st.lists(st.sampled_from(WORDS), min_size=1, max_size=4),
    as_json=st.booleans(),
    limit=st.integers(min_value=1, max_value=5),
)
def test_a_forwarded_recall_is_the_fresh_one(
    home: Path, server: tuple[subprocess.Popen[str], Path], words: list[str], as_json: bool,
    limit: int,
) -> None:  # fmt: skip
    _, sock = server
    args = [*(["--json"] if as_json else []), "recall", " ".join(words), "--limit", str(limit),
            "--brain", "work"]  # fmt: skip
    assert run(home, *args, sock=sock) == run(home, *args)


def test_a_preloaded_process_stopped_by_sigterm_removes_its_socket(
    server: tuple[subprocess.Popen[str], Path],
) -> None:
    proc, sock = server
    proc.terminate()
    assert proc.wait(timeout=30) == 0
    assert not sock.exists()
