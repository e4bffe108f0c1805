"""External services the integration suites need (PostgreSQL, FalkorDB, Chromium, ...).

A suite asks with `need(what, reason)` when its service cannot be found or started: on a
developer's machine the suite is skipped with that reason (shown by `-ra`); under CI
(`NMEM_CI=1`, set by `.ci/run`, which installs every service) it fails instead, so CI never
skips. Each suite starts its own server on 127.0.0.1 (a free port, a temporary directory) and
stops it when the session ends.
"""

from __future__ import annotations

import os
import socket
from typing import NoReturn

import pytest

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
