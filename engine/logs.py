"""Engine log messages, through structlog, imported only when something is worth saying.

A library should not decide where logs go, except that they must never land on stdout, which
belongs to the CLI's output and the MCP protocol: if the application has not configured
structlog, messages go to stderr.
"""

from __future__ import annotations

import sys
from typing import Any


def warning(event: str, **fields: Any) -> None:
    import structlog

    if not structlog.is_configured():
        structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))
    structlog.get_logger("neuralmemory").warning(event, **fields)
