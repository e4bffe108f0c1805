"""What keeps slow or idle clients from holding `nmem serve`'s connections: a deadline for a
request's headers (here, on uvicorn's h11 protocol: uvicorn has none), one for its body (in
the app: `read_body`), and a connection limit (uvicorn's `limit_concurrency`: 503 over it).

A connection is cut when its next request's headers are not complete `headers` seconds after
it opened or after its last response, and when it still sends a body nobody reads (the
route took none, or answered already) by then.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:  # the CLI reads the defaults below: asyncio alone is tens of ms to import
    import asyncio

__all__ = ["BODY_TIMEOUT", "HEADER_TIMEOUT", "MAX_CONNECTIONS", "Limits", "protocol"]

HEADER_TIMEOUT: Final = 10.0
BODY_TIMEOUT: Final = 30.0
MAX_CONNECTIONS: Final = 64


@dataclass(frozen=True, slots=True)
class Limits:
    """Seconds for a request's headers and for its body; connections served at once."""

    headers: float = HEADER_TIMEOUT
    body: float = BODY_TIMEOUT
    connections: int = MAX_CONNECTIONS

    def __post_init__(self) -> None:
        from engine.errors import InputError

        for name in ("headers", "body"):
            value = getattr(self, name)
            if not 0 < value <= 3600:
                raise InputError(f"the {name} timeout must be 0-3600 seconds, got {value:g}")
        if not 1 <= self.connections <= 100_000:
            raise InputError(f"the connection limit must be 1-100000, got {self.connections}")


def protocol(limits: Limits) -> type[Any]:
    """uvicorn's h11 protocol with a deadline for each request's headers, for
    `uvicorn.Config(http=...)` (uvicorn is imported here: the CLI reads the defaults above
    without it)."""
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class GuardedH11Protocol(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(limits.headers, self._late)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _late(self) -> None:
            self._deadline = None
            waiting = self.conn.their_state is h11.IDLE  # the headers are not complete
            unread = self.conn.their_state is h11.SEND_BODY and (
                self.cycle is None or self.cycle.response_complete
            )
            if (waiting or unread) and not self.transport.is_closing():
                self.transport.close()

    return GuardedH11Protocol
