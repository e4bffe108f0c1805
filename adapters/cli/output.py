"""Printing for the CLI: JSON when asked, readable text otherwise, colour only on a terminal."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

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
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def say(line: str = "") -> None:
    sys.stdout.write(line + "\n")


def memory_line(m: Memory) -> str:
    when = m.event_time.astimezone().strftime("%Y-%m-%d %H:%M")
    tags = f" #{' #'.join(m.tags)}" if m.tags else ""
    return f"{dim(m.id[:8])} {dim(when)} [{m.memory_type.value}] {m.text}{dim(tags)}"


def recall_text(result: RecallResult) -> str:
    lines = [result.context] if result.context else []
    at = result.at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    lines.append(
        dim(
            f"[confidence {result.confidence:.2f} · {len(result.memories)} memories · "
            f"depth {result.depth} · {result.neurons_activated} neurons · "
            f"{result.latency_ms:.1f} ms · as of {at} (seq {result.seq})]"
        )
    )
    return "\n".join(lines)


def history_line(entry: HistoryEntry) -> str:
    when = entry.recorded_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    return f"{dim(f'#{entry.seq:<6}')} {dim(when)} {bold(entry.type)}  {entry.summary}"
