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
import tempfile
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


class Served:
    """`nmem serve --store STORE --port N` in a subprocess, once /health answers. Its stderr
    goes to a temporary file, not a pipe: a request log would fill a pipe nobody reads."""

    def __init__(self, store: Path | str, *extra: str) -> None:
        self.errors = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed by stop()
        self.proc = subprocess.Popen(
            nmem("serve", "--store", str(store), "--port", str(port := free_port()), *extra),
            stdout=subprocess.DEVNULL,
            stderr=self.errors,
            text=True,
            cwd=ROOT,
        )
        self.url = f"http://127.0.0.1:{port}"
        wait_for_health(self.proc, self.url, "the server", self.stderr)

    def stderr(self) -> str:
        self.errors.seek(0)
        return self.errors.read()

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        self.proc.kill()
        self.proc.wait(timeout=10)
        self.errors.close()

    def stop(self) -> None:
        """Stop with Ctrl-C and check it stopped cleanly."""
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        err = self.stderr()
        self.errors.close()
        assert self.proc.returncode == 0, err
        assert "Traceback" not in err, err
        assert "ERROR" not in err, err


def wait_for_health(
    proc: subprocess.Popen[Any], url: str, what: str, why: Callable[[], str] = str
) -> None:
    """Until `url`/health answers 200; if `proc` ends or 30 s pass first, kill it and fail
    with what `why()` says (its stderr)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            raise AssertionError(f"{what} did not start: {why()}")
        time.sleep(0.05)


def terminate(proc: subprocess.Popen[Any]) -> None:
    """SIGTERM, then SIGKILL if it is still there after 10 s."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def serving(store: Path | str, *extra: str) -> Iterator[str]:
    """A served store for the `with` block; yields its URL."""
    served = Served(store, *extra)
    try:
        yield served.url
    finally:
        served.stop()
