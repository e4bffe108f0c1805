"""One JSON line per request of `nmem serve` (structlog), and the request counts of /metrics.

    {"event": "request", "request_id": "9f0c...", "method": "POST",
     "route": "/brains/{brain}/recall", "status": 200, "duration_ms": 3.1, "brain": "work",
     "token": "ci-reader", "client": "10.0.0.7", "level": "info", "time": "2026-12-02T..."}

The route is the template, never the path (which holds memory ids and project names); bodies,
query strings and headers are never logged, and a token appears by its name in the token file
(`"name"`), never as the secret. `X-Request-Id` is taken from the request when it is a sane id
(1-128 characters of letters, digits and ._:-), else a new one is drawn; either way it is sent
back on the response, so a client or a load balancer can match its request to the log line.
WebSocket streams are logged when they end (status 101 once accepted).
"""

from __future__ import annotations

import re
import time
import uuid
from typing import TYPE_CHECKING, Any, Final, TextIO

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from adapters.metrics import Metrics

__all__ = ["GRANT_KEY", "HEADER", "RequestLog", "request_logger"]

HEADER: Final = "x-request-id"
GRANT_KEY: Final = "nmem.grant"  # where the endpoint leaves the token it accepted
UNMATCHED: Final = "unmatched"  # the route of a request no route took (404): bounded labels
_SANE_ID: Final = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def request_logger(stream: TextIO) -> Any:
    """A structlog logger writing one JSON object per line to `stream`."""
    return structlog.wrap_logger(
        structlog.PrintLogger(stream),
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
            structlog.processors.JSONRenderer(),
        ],
    )


def request_id(headers: list[tuple[bytes, bytes]]) -> str:
    for key, value in headers:
        if key.lower() == HEADER.encode():
            text = value.decode("latin-1")
            if _SANE_ID.fullmatch(text):
                return text
            break
    return uuid.uuid4().hex


class RequestLog:
    """ASGI middleware: times every HTTP request and WebSocket stream, answers with its
    request id, logs it (when `log` is given) and counts it in `metrics`."""

    def __init__(self, app: ASGIApp, metrics: Metrics, log: Any | None = None) -> None:
        self.app = app
        self.metrics = metrics
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        rid = request_id(scope.get("headers", []))
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            kind = message["type"]
            if kind in ("http.response.start", "websocket.http.response.start"):
                status = int(message["status"])
            elif kind == "websocket.accept":
                status = 101
            elif kind == "websocket.close" and status == 500:
                status = 403  # refused before the handshake completed
            if kind in ("http.response.start", "websocket.http.response.start",
                        "websocket.accept"):  # fmt: skip
                message["headers"] = [*message.get("headers", []), (HEADER.encode(), rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            self._done(scope, rid, status, time.perf_counter() - started)

    def _done(self, scope: Scope, rid: str, status: int, seconds: float) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) or UNMATCHED
        method = "WS" if scope["type"] == "websocket" else str(scope.get("method", ""))
        self.metrics.observe(method, template, status, seconds)
        if self.log is None:
            return
        grant = scope.get(GRANT_KEY)
        client = scope.get("client")
        fields = {
            "request_id": rid,
            "method": method,
            "route": template,
            "status": status,
            "duration_ms": round(seconds * 1000, 3),
            "brain": scope.get("path_params", {}).get("brain"),
            "token": None if grant is None else grant.name,
            "client": client[0] if client else None,
        }
        if status >= 500:
            self.log.error("request", **fields)
        else:
            self.log.info("request", **fields)
