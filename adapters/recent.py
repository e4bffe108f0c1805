"""The newest memories of a view: the last N, or those recorded since a moment (today's).

Memories are stored in the order they were recorded, so both walk back from the newest and
stop as soon as they have enough: a brain of a million memories reads only what it shows."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine import BrainView, Memory


def recorded_since(view: BrainView, since: datetime, cap: int = 10_000) -> list[Memory]:
    """Visible memories recorded at or after `since`, newest first (at most `cap`)."""
    limit = 64
    while True:
        newest = view.context(limit=min(limit, cap))
        found = [m for m in newest if m.recorded_at >= since]
        if len(found) < len(newest) or len(newest) < min(limit, cap) or limit >= cap:
            return found
        limit *= 4


def local_midnight(moment: datetime) -> datetime:
    """The start of `moment`'s day in the local time zone."""
    local = moment.astimezone()
    return local.replace(hour=0, minute=0, second=0, microsecond=0)
