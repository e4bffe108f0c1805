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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

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


@contextmanager
def serving(store: Path, *extra: str) -> Iterator[str]:
    """`nmem serve --store STORE --port N` in a subprocess; yields its URL once /health answers;
    stops it with Ctrl-C and checks it stopped cleanly."""
    port = free_port()
    errors = tempfile.TemporaryFile("w+")  # noqa: SIM115 - not a pipe: a request log fills one
    proc = subprocess.Popen(
        nmem("serve", "--store", str(store), "--port", str(port), *extra),
        stdout=subprocess.DEVNULL,
        stderr=errors,
        text=True,
        cwd=ROOT,
    )

    def stderr() -> str:
        errors.seek(0)
        return errors.read()

    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            raise AssertionError(f"the server did not start: {stderr()}")
        time.sleep(0.05)
    try:
        yield url
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        err = stderr()
        errors.close()
        assert proc.returncode == 0, err
        assert "Traceback" not in err, err
        assert "ERROR" not in err, err
