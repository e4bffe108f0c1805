"""The public data shapes of the engine: what callers pass in and get back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import msgspec

from .clock import from_us
from .events import Meta, Project
from .model import MemoryType


class MemoryInput(msgspec.Struct, frozen=True):
    """One thing to remember.

    `event_time` is when it happened (default: now); `cid` is the caller's idempotency key,
    so a retried write is stored once. `expires_in_days=None` takes the type's default;
    `expires_at` instead gives an absolute expiry (a datetime, possibly past: the memory is
    then expired at once) or "never". `id` keeps a memory id chosen elsewhere (an import): 1-64
    characters of [A-Za-z0-9_-], unused in the brain; None (default) draws a random one.
    """

    text: str
    event_time: datetime | None = None
    memory_type: MemoryType | str | None = None
    priority: int = 5
    tags: Sequence[str] = ()
    expires_in_days: float | None = None
    project: str | None = None
    source: str = "api"
    meta: Meta = msgspec.field(default_factory=dict)
    cid: str | None = None
    sensitive: str | None = None  # block | redact | allow; None: the brain's policy
    id: str | None = None
    expires_at: datetime | Literal["never"] | None = None


class Remembered(msgspec.Struct, frozen=True):
    id: str
    seq: int
    memory_type: MemoryType
    priority: int
    expires_at: datetime | None
    neurons_created: int
    neurons_linked: int
    synapses_created: int
    duplicate: bool  # True when the cid had been stored before: nothing new was written

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "seq": self.seq,
            "memory_type": self.memory_type.value,
            "priority": self.priority,
            "expires_at": _iso(self.expires_at),
            "neurons_created": self.neurons_created,
            "neurons_linked": self.neurons_linked,
            "synapses_created": self.synapses_created,
            "duplicate": self.duplicate,
        }


class Memory(msgspec.Struct, frozen=True):
    id: str
    text: str
    memory_type: MemoryType
    priority: int
    event_time: datetime
    recorded_at: datetime
    expires_at: datetime | None
    tags: tuple[str, ...]
    source: str
    salience: float
    seq: int
    meta: Meta
    status: str  # active | pinned | forgotten | expired | erased
    project: str | None
    freshness: str
    age_days: float

    @property
    def pinned(self) -> bool:
        return self.status == "pinned"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "type": self.memory_type.value,
            "priority": self.priority,
            "status": self.status,
            "event_time": _iso(self.event_time),
            "recorded_at": _iso(self.recorded_at),
            "expires_at": _iso(self.expires_at),
            "tags": list(self.tags),
            "project": self.project,
            "source": self.source,
            "salience": round(self.salience, 4),
            "freshness": self.freshness,
            "age_days": round(self.age_days, 2),
            "seq": self.seq,
            "meta": dict(self.meta),
        }


class RecalledMemory(msgspec.Struct, frozen=True):
    memory: Memory
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {**self.memory.to_dict(), "score": round(self.score, 6)}


@dataclass(frozen=True, slots=True)
class RecallResult:
    query: str
    memories: list[RecalledMemory]
    context: str
    confidence: float
    neurons_activated: int
    depth: int
    intent: str
    anchors: list[str]
    latency_ms: float
    at: datetime
    seq: int
    freshness_warnings: list[str] = field(default_factory=list)
    # the event-time window the memories were kept to (`since`/`until`), if any
    since: datetime | None = None
    until: datetime | None = None
    # links that carried the question to the best memories: what recall reinforces
    links: tuple[int, ...] = field(default=(), repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "freshness_warnings": self.freshness_warnings,
            "memories": [m.to_dict() for m in self.memories],
            "context": self.context,
            "confidence": round(self.confidence, 4),
            "neurons_activated": self.neurons_activated,
            "depth": self.depth,
            "intent": self.intent,
            "anchors": self.anchors,
            "latency_ms": round(self.latency_ms, 3),
            "at": _iso(self.at),
            "seq": self.seq,
            "since": _iso(self.since),
            "until": _iso(self.until),
        }


class HistoryEntry(msgspec.Struct, frozen=True):
    """One event of a history, or (`folded`) a run of reinforcements shown as one line: then
    seq, time and event are the run's last, `folded` says how many events and since when."""

    seq: int
    recorded_at: datetime
    type: str
    summary: str
    event: dict[str, Any]
    folded: Folded | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "recorded_at": _iso(self.recorded_at),
            "type": self.type,
            "summary": self.summary,
            "event": self.event,
            "folded": None if self.folded is None else self.folded.to_dict(),
        }


class Folded(msgspec.Struct, frozen=True):
    events: int
    first_seq: int
    since: datetime
    recalls: int  # the recalls these events record (of the memory, in a memory's history)

    def to_dict(self) -> dict[str, Any]:
        return {"events": self.events, "first_seq": self.first_seq, "since": _iso(self.since),
                "recalls": self.recalls}  # fmt: skip


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


class Changed(msgspec.Struct, frozen=True):
    """The answer of a write on one memory: which memory, and the event that recorded it
    (the last one when a write appended several: `appended` lists them all, oldest first)."""

    id: str
    seq: int
    event: str
    duplicate: bool = False
    appended: tuple[tuple[int, str], ...] = ()

    @property
    def events(self) -> list[tuple[int, str]]:
        """(seq, event type) of every event this write appended; none when nothing changed."""
        if self.appended:
            return list(self.appended)
        return [] if self.event == "unchanged" or self.duplicate else [(self.seq, self.event)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "seq": self.seq,
            "event": self.event,
            "duplicate": self.duplicate,
            "events": [{"seq": seq, "event": event} for seq, event in self.events],
        }


def project_dict(project: Project, memories: int | None = None) -> dict[str, Any]:
    """A project as JSON-able data (times as ISO strings), with its memory count if known."""
    data: dict[str, Any] = msgspec.to_builtins(project)
    data["start"] = from_us(project.start).isoformat()
    data["end"] = None if project.end is None else from_us(project.end).isoformat()
    if memories is not None:
        data["memories"] = memories
    return data
