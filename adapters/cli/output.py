"""Printing for the CLI: JSON when asked, readable text otherwise, colour only on a terminal."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine.clock import from_us, to_us

if TYPE_CHECKING:  # the engine (numpy) loads when a command opens its store
    from engine.api import HistoryEntry, Memory, RecallResult


def _color_enabled() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def style(text: str, code: str) -> str:
    return f"\033[{code}m{text}\033[0m" if _color_enabled() else text


def bold(text: str) -> str:
    return style(text, "1")


def dim(text: str) -> str:
    return style(text, "2")


def emit_json(data: Any) -> None:
    """JSON as UTF-8, or with \\u escapes when standard output cannot carry every character."""
    import codecs
    import json

    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    utf8 = codecs.lookup(encoding).name == "utf-8"
    sys.stdout.write(json.dumps(data, ensure_ascii=not utf8, indent=2) + "\n")


def say(line: str = "") -> None:
    sys.stdout.write(line + "\n")


def memory_line(m: Memory) -> str:
    from engine.freshness import BANDS

    indicator = next(b.indicator for b in BANDS if b.name == m.freshness)
    when = m.event_time.astimezone().strftime("%Y-%m-%d %H:%M")
    tags = f" #{' #'.join(m.tags)}" if m.tags else ""
    status = "" if m.status == "active" else f" ({m.status})"
    return (
        f"{indicator} {dim(m.id[:8])} {dim(when)} [{m.memory_type.value} "
        f"p{m.priority}]{status} {m.text}{dim(tags)}"
    )


@dataclass(frozen=True, slots=True)
class TimeNote:
    """Which times a read used: the brain as known at `at` (recorded time, up to event
    `seq`) and, if given, the event-time window of what happened (µs, [start, end))."""

    at: datetime
    seq: int
    window: tuple[int | None, int | None] | None = None

    @classmethod
    def of(cls, result: RecallResult) -> TimeNote:
        if result.since is None and result.until is None:
            return cls(result.at, result.seq)
        lo = None if result.since is None else to_us(result.since)
        hi = None if result.until is None else to_us(result.until)
        return cls(result.at, result.seq, (lo, hi))

    def __str__(self) -> str:
        text = f"as known at {_local(self.at)} (recorded time, seq {self.seq})"
        if self.window is not None:
            lo, hi = self.window
            since = "" if lo is None else f" from {_local(from_us(lo))}"
            until = "" if hi is None else f" before {_local(from_us(hi))}"
            text += f" · what happened{since}{until} (event time)"
        return text

    def to_dict(self) -> dict[str, Any]:
        lo, hi = self.window or (None, None)
        return {
            "at": self.at.isoformat(),
            "seq": self.seq,
            "since": None if lo is None else from_us(lo).isoformat(),
            "until": None if hi is None else from_us(hi).isoformat(),
        }


def _local(t: datetime) -> str:
    return t.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def recall_text(result: RecallResult) -> str:
    lines = [result.context] if result.context else []
    lines.extend(dim(w) for w in result.freshness_warnings)
    lines.append(
        dim(
            f"[confidence {result.confidence:.2f} · {len(result.memories)} memories · "
            f"depth {result.depth} · {result.neurons_activated} neurons · "
            f"{result.latency_ms:.1f} ms · {TimeNote.of(result)}]"
        )
    )
    return "\n".join(lines)


def history_line(entry: HistoryEntry) -> str:
    when = entry.recorded_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    return f"{dim(f'#{entry.seq:<6}')} {dim(when)} {bold(entry.type)}  {entry.summary}"


def memory_detail(m: Memory) -> str:
    rows = [
        ("id", m.id),
        ("text", m.text),
        ("type", m.memory_type.value),
        ("priority", str(m.priority)),
        ("status", m.status),
        ("happened", m.event_time.astimezone().isoformat(timespec="seconds")),
        ("recorded", m.recorded_at.astimezone().isoformat(timespec="seconds")),
        (
            "expires",
            m.expires_at.astimezone().isoformat(timespec="seconds") if m.expires_at else "never",
        ),
        ("freshness", f"{m.freshness} ({m.age_days:.1f} days)"),
        ("tags", ", ".join(m.tags) or "-"),
        ("project", m.project or "-"),
        ("source", m.source),
        ("event", f"#{m.seq}"),
    ]
    return "\n".join(f"{bold(name + ':'):<12} {value}" for name, value in rows)


def table(rows: list[tuple[str, str]]) -> str:
    width = max((len(k) for k, _ in rows), default=0)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)
