"""Keeping a target up to date: from the position it holds to a view of the brain, in batches.

Each batch is a stretch of the public feed (`BrainView.events`) with the rows it changed
(engine/exporters/rows.py), written by the target together with its new position. A killed
export therefore resumes from the last batch the target committed, and a re-run applies only
what is new (nothing, if nothing is). `follow` repeats that as events are committed, and
now and then without them, since time alone expires memories.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..clock import to_us
from ..errors import InputError
from ..reads import BrainView
from . import rows
from .base import Progress, Target

if TYPE_CHECKING:
    from ..brain import Brain

CHUNK = 4096  # events per batch


def export(
    brain: Brain,
    target: Target,
    *,
    at: str | int | datetime | None = None,
    chunk: int = CHUNK,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> dict[str, Any]:
    """Bring `target` to the brain as of `at` (default: now): everything on a first run, then
    only what changed since the position the target holds. A set `stop` ends it after the
    batch being written (the target then holds that batch's position)."""
    end = brain.at(at) if at is not None else BrainView(brain, brain.seq, brain.store.now())
    end_time = to_us(end.time)
    pos = target.position(brain.id)
    if pos is not None and pos.seq > end.seq:
        raise InputError(
            f"the {target.name} target holds brain {brain.name!r} as of seq {pos.seq}, later "
            f"than seq {end.seq}: a target only moves forward (export into a new one)"
        )
    start = 0 if pos is None else pos.seq
    report: dict[str, Any] = {
        "brain": brain.name,
        "format": target.name,
        "from_seq": start,
        "seq": start,
        "events": 0,
        "batches": 0,
        "memories": 0,
        "neurons": 0,
        "links": 0,
        "links_removed": 0,
        "erased": 0,
    }
    started = time.perf_counter()
    before: BrainView | None = None if pos is None else BrainView(brain, pos.seq, pos.time)
    if pos is not None and pos.seq == end.seq and pos.time == end_time:
        report["seconds"] = 0.0
        return report
    total = end.seq - start
    while True:
        events = end.events(after=start, limit=chunk)
        seq = events[-1].seq if events else start
        after = end if seq == end.seq else brain.at(seq)
        batch = rows.batch(before, after, events, target)
        if batch.erased and target.append_only:  # it cannot take the text back out: anew
            target.restart()
            return export(brain, target, at=at, chunk=chunk, progress=progress, stop=stop)
        target.apply(batch)
        report["events"] += len(events)
        report["batches"] += 1
        report["memories"] += len(batch.memories)
        report["neurons"] += len(batch.neurons)
        report["links"] += len(batch.links)
        report["links_removed"] += len(batch.gone_links)
        report["erased"] += len(batch.erased)
        report["seq"] = seq
        if progress is not None:
            progress(seq - (0 if pos is None else pos.seq), total)
        before, start = after, seq
        if seq >= end.seq or (stop is not None and stop.is_set()):
            break
    report["seconds"] = round(time.perf_counter() - started, 3)
    return report


def follow(
    brain: Brain,
    target: Target,
    *,
    stop: threading.Event,
    poll: float = 0.5,
    refresh: float = 60.0,
    chunk: int = CHUNK,
    on_export: Any = None,
) -> dict[str, Any]:
    """Export, then keep exporting as new events are committed (checked every `poll`
    seconds; every `refresh` seconds without events, for the expiries time brings), until
    `stop` is set. Returns the totals; `on_export(report)` hears of each run that applied
    events."""
    totals: dict[str, Any] = {}
    last = 0.0
    while not stop.is_set():
        report = export(brain, target, chunk=chunk, stop=stop)
        last = time.monotonic()
        for key, value in report.items():
            if isinstance(value, int | float) and key not in ("seq", "from_seq"):
                totals[key] = totals.get(key, 0) + value
            else:
                totals.setdefault(key, value)
        totals["seq"] = report["seq"]
        if report["events"] and on_export is not None:
            on_export(report)
        while not stop.wait(poll):
            if brain.events(after=report["seq"], limit=1) or time.monotonic() - last >= refresh:
                break
    totals.setdefault("seq", 0)
    return totals
