"""Decide what a new memory adds to the graph: the `MemoryEncoded` event, nothing else.

Extraction runs here once; its result goes into the log, so replay never re-extracts. A new
memory links to the neurons the brain already has ("Alice" in a second memory reaches the
first through the one shared neuron), and to at most a few neighbours in time, so no neuron
becomes a hub by being recent.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from . import events as ev
from .api import MemoryInput
from .clock import DAY_US, aware, from_us, to_us
from .errors import InputError
from .extraction import tokens
from .extraction.classify import detect_memory_type
from .extraction.entities import extract_entities
from .extraction.temporal import extract_time_hints
from .model import (
    DEFAULT_EXPIRY_DAYS,
    NEURON_TYPES,
    SYNAPSE_TYPES,
    MemoryType,
    NeuronType,
    SynapseType,
    memory_type,
    priority,
)
from .projection import Projection

MAX_TEXT_CHARS = 100_000
MAX_TAGS = 64
MAX_TAG_CHARS = 100

# Link weights by what the memory links to: a named thing says more about a memory than a
# common word, an explicit time phrase more than the day it was stored.
W_KEYWORD = 0.6
W_ENTITY = 0.8
W_TIME_PHRASE = 0.9
W_DAY = 0.5
W_NEIGHBOUR = 0.4

_T_TIME = NEURON_TYPES.index(NeuronType.TIME)
_T_ENTITY = NEURON_TYPES.index(NeuronType.ENTITY)
_T_SPATIAL = NEURON_TYPES.index(NeuronType.SPATIAL)
_T_CONCEPT = NEURON_TYPES.index(NeuronType.CONCEPT)
_S_RELATED = SYNAPSE_TYPES.index(SynapseType.RELATED_TO)
_S_INVOLVES = SYNAPSE_TYPES.index(SynapseType.INVOLVES)
_S_AT_LOCATION = SYNAPSE_TYPES.index(SynapseType.AT_LOCATION)
_S_HAPPENED_AT = SYNAPSE_TYPES.index(SynapseType.HAPPENED_AT)
_S_AFTER = SYNAPSE_TYPES.index(SynapseType.AFTER)
_S_BEFORE = SYNAPSE_TYPES.index(SynapseType.BEFORE)


def validate_text(text: str) -> str:
    if not isinstance(text, str):
        raise InputError("memory text must be a string")
    stripped = text.strip()
    if not stripped:
        raise InputError("memory text is empty")
    if len(stripped) > MAX_TEXT_CHARS:
        raise InputError(f"memory text is too long ({len(stripped)} > {MAX_TEXT_CHARS} characters)")
    return stripped


def validate_tags(tags: object) -> list[str]:
    if isinstance(tags, str) or not hasattr(tags, "__iter__"):
        raise InputError("tags must be a list of strings")
    out: list[str] = []
    for tag in tags:
        if not isinstance(tag, str) or not tag.strip():
            raise InputError(f"invalid tag {tag!r}: tags are non-empty strings")
        clean = tag.strip()
        if len(clean) > MAX_TAG_CHARS:
            raise InputError(f"tag too long ({len(clean)} > {MAX_TAG_CHARS} characters)")
        if clean not in out:
            out.append(clean)
    if len(out) > MAX_TAGS:
        raise InputError(f"too many tags ({len(out)} > {MAX_TAGS})")
    return out


def day_key(us: int, tz_offset: timedelta) -> tuple[str, int, int]:
    """Key and [start, end) of the calendar day holding `us`, in the memory's own timezone."""
    offset = int(tz_offset.total_seconds() * 1_000_000)
    start = (us + offset) // DAY_US * DAY_US - offset
    return f"t:day:{from_us(start + offset).date().isoformat()}", start, start + DAY_US


def check_input(inp: MemoryInput) -> None:
    """Every check `decide_encode` makes on the input alone, so a batch fails before writing."""
    text = validate_text(inp.text)
    validate_tags(inp.tags)
    kind = memory_type(inp.memory_type) if inp.memory_type else detect_memory_type(text)
    priority(inp.priority)
    _expiry(inp, kind, 0)
    if inp.event_time is not None and not isinstance(inp.event_time, datetime):
        raise InputError(f"event_time must be a datetime, got {type(inp.event_time).__name__}")
    if not isinstance(inp.source, str) or not isinstance(inp.meta, dict):
        raise InputError("source must be a string and meta a dict")


def decide_encode(p: Projection, inp: MemoryInput, now: int) -> ev.MemoryEncoded:
    """Turn one input into the event that records it, linking against the current projection."""
    text = validate_text(inp.text)
    tags = validate_tags(inp.tags)
    kind = memory_type(inp.memory_type) if inp.memory_type else detect_memory_type(text)
    prio = priority(inp.priority)
    when = aware(inp.event_time) if inp.event_time is not None else from_us(now).astimezone()
    event_us = to_us(when)
    expires = _expiry(inp, kind, now)

    first = p.neuron_count
    new: list[ev.NeuronSpec] = []
    pending: dict[str, int] = {}
    targets: list[int] = []
    types: list[int] = []
    weights: list[float] = []

    def link(
        key: str, content: str, ntype: int, stype: int, weight: float, start: int = 0, end: int = 0
    ) -> None:
        idx = p.keys.get(key)
        if idx is None:
            idx = pending.get(key)
        if idx is None:
            idx = first + 1 + len(new)
            pending[key] = idx
            new.append(ev.NeuronSpec(ntype, key, content, start, end))
        elif idx in targets:
            return
        targets.append(idx)
        types.append(stype)
        weights.append(weight)

    entities = extract_entities(text)
    for ent in entities:
        spatial = ent.type == NeuronType.SPATIAL
        link(
            "e:" + ent.key,
            ent.text,
            _T_SPATIAL if spatial else _T_ENTITY,
            _S_AT_LOCATION if spatial else _S_INVOLVES,
            W_ENTITY,
        )
    for key, surface in tokens.keywords(text):
        link("k:" + key, surface, _T_CONCEPT, _S_RELATED, W_KEYWORD)
    for hint in extract_time_hints(text, when):
        h_start, h_end = to_us(hint.start), to_us(hint.end)
        label = f"{hint.granularity}:{hint.start.isoformat(timespec='minutes')}"
        link("t:" + label, hint.text, _T_TIME, _S_HAPPENED_AT, W_TIME_PHRASE, h_start, h_end)
    offset = when.utcoffset() or timedelta(0)
    key, d_start, d_end = day_key(event_us, offset)
    link(key, key[6:], _T_TIME, _S_HAPPENED_AT, W_DAY, d_start, d_end)

    _link_neighbours(p, event_us, targets, types, weights)

    salience = min(1.0, 0.3 + 0.1 * len(entities) + 0.02 * len(targets))
    return ev.MemoryEncoded(
        fiber_id=uuid.uuid4().hex,
        text=text,
        first_neuron=first,
        event_start=event_us,
        event_end=event_us,
        memory_type=kind.value,
        priority=prio,
        salience=round(salience, 4),
        neurons=new,
        link_targets=targets,
        link_types=types,
        link_weights=weights,
        tags=tags,
        expires_at=expires,
        source=inp.source,
        meta=dict(inp.meta),
    )


def _expiry(inp: MemoryInput, kind: MemoryType, now: int) -> int | None:
    days = inp.expires_in_days
    if days is None:
        days = DEFAULT_EXPIRY_DAYS[kind]
        if days is None:
            return None
    if isinstance(days, bool) or not isinstance(days, int | float) or days <= 0:
        raise InputError(f"expiry must be a positive number of days, got {inp.expires_in_days!r}")
    return now + int(days * DAY_US)


def _link_neighbours(
    p: Projection, event_us: int, targets: list[int], types: list[int], weights: list[float]
) -> None:
    """Link to the last few memories close in time: bounded, so recency makes no hubs."""
    cfg = p.config
    window = cfg.temporal_link_window_s * 1_000_000
    starts = p.f_start
    anchors = p.f_anchor
    found = 0
    for fiber in range(p.fiber_count - 1, max(-1, p.fiber_count - 1 - 4 * cfg.temporal_links), -1):
        other = starts[fiber]
        if abs(event_us - other) > window:
            continue
        targets.append(anchors[fiber])
        types.append(_S_AFTER if event_us >= other else _S_BEFORE)
        weights.append(W_NEIGHBOUR)
        found += 1
        if found >= cfg.temporal_links:
            break
