"""Confirmation tokens for what cannot be undone (a hard erase over MCP).

The first call gets `pending_confirmation` and a token; only a second call that hands the token
back does it. A token names one memory of one brain, works once, and expires: an agent cannot
erase by guessing, by replaying an old answer, or by sending `confirm=true` on the first call.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

TOKEN_TTL_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class Pending:
    action: str
    target: str
    expires: float


class Confirmations:
    """Tokens handed out and not yet used. `clock` (seconds, monotonic) is for tests."""

    def __init__(
        self, ttl: float = TOKEN_TTL_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self._clock = clock
        self._pending: dict[str, Pending] = {}
        self._lock = threading.Lock()

    def issue(self, action: str, target: str) -> str:
        """A fresh token for doing `action` to `target` (e.g. "erase", "work/3fa2c1d0...")."""
        token = secrets.token_urlsafe(12)
        with self._lock:
            self._drop_expired()
            self._pending[token] = Pending(action, target, self._clock() + self.ttl)
        return token

    def redeem(self, token: str, action: str, target: str) -> str | None:
        """Use a token: None if it is valid for this action and target (it is spent now),
        else why not. A token shown for another memory stays valid for that one."""
        with self._lock:
            self._drop_expired()
            pending = self._pending.get(token)
            if pending is None:
                minutes = f"{self.ttl / 60:g} minutes"
                return f"unknown or expired confirm_token (a token works once, for {minutes})"
            if (pending.action, pending.target) != (action, target):
                return "this confirm_token was issued for another memory"
            del self._pending[token]
        return None

    def _drop_expired(self) -> None:
        now = self._clock()
        for token in [t for t, p in self._pending.items() if p.expires <= now]:
            del self._pending[token]
