"""`nmem preload`: a real preloaded process on a real unix socket answers `nmem` commands with
the bytes and exit code a fresh process gives, and `nmem` runs the command itself when that
process is gone."""

from __future__ import annotations

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
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as junk:  # not a request: ignored
        junk.connect(str(sock))
        junk.sendall(b"not json")
        assert junk.recv(1) == b""
    assert forwarded(home, sock, "stats", "--brain", "work") == "0"  # it did answer
    for args in COMMANDS:
        assert run(home, *args, sock=sock) == run(home, *args), args
    # standard input is the caller's: a memory read from a pipe
    code, out, _ = run(home, "remember", "-", "--brain", "work", sock=sock, stdin="Dana owns QA")
    assert code == 0
    assert "Remembered" in out
    assert "Dana owns QA" in run(home, "recall", "who owns QA?", "--brain", "work")[1]
    assert forwarded(home, sock, "stats", "--brain", "work") == "0"  # still answering


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
