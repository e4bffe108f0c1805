"""External services the integration suites need (PostgreSQL, FalkorDB, Chromium, ...).

A suite asks with `need(what, reason)` when its service cannot be found or started: on a
developer's machine the suite is skipped with that reason (shown by `-ra`); under CI
(`NMEM_CI=1`, set by `.ci/run`, which installs every service) it fails instead, so CI never
skips. Each suite starts its own server on 127.0.0.1 (a free port, a temporary directory) and
stops it when the session ends.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]

IN_CI = os.environ.get("NMEM_CI") == "1"


def need(what: str, reason: str) -> NoReturn:
    """Skip (developer machine) or fail (CI) because `what` is not available."""
    message = f"{what} not available: {reason}"
    if IN_CI:
        pytest.fail(f"{message} (CI installs it: see .ci/setup.d/)", pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def nmem(*args: str) -> list[str]:
    exe = Path(sys.executable).parent / "nmem"
    return (
        [str(exe), *args] if exe.is_file() else [sys.executable, "-m", "adapters.cli.main", *args]
    )


def start_serving(store: Path | str, *extra: str) -> tuple[subprocess.Popen[str], str]:
    """`nmem serve --store STORE --port N` in a subprocess, and its URL once /health answers."""
    port = free_port()
    proc = subprocess.Popen(
        nmem("serve", "--store", str(store), "--port", str(port), *extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    url = f"http://127.0.0.1:{port}"
    wait_for_health(proc, url, "the server")
    return proc, url


def wait_for_health(
    proc: subprocess.Popen[str], url: str, what: str, why: Callable[[], str] = str
) -> None:
    """Until `url`/health answers 200; if `proc` ends or 30 s pass first, kill it and fail
    with its stderr (and `why()`)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"{what} did not start: {proc.communicate()[1]}{why()}")
        time.sleep(0.05)


def terminate(proc: subprocess.Popen[Any]) -> None:
    """SIGTERM, then SIGKILL if it is still there after 10 s."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def stop_serving(proc: subprocess.Popen[str]) -> None:
    """Stop a server with Ctrl-C and check it stopped cleanly."""
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    assert proc.returncode == 0, err
    assert "Traceback" not in err, err
    assert "ERROR" not in err, err


@contextmanager
def serving(store: Path | str, *extra: str) -> Iterator[str]:
    """A served store for the `with` block (start_serving, then stop_serving)."""
    proc, url = start_serving(store, *extra)
    try:
        yield url
    finally:
        stop_serving(proc)
