"""Decide what a new memory adds to the graph: the `MemoryEncoded` event, nothing else.

Extraction runs here once; its result goes into the log, so replay never re-extracts. A new
memory links to the neurons the brain already has ("Alice" in a second memory reaches the
first through the one shared neuron), and to at most a few neighbours in time, so no neuron
becomes a hub by being recent.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Final

from . import events as ev
from . import screening
from .api import MemoryInput
from .clock import DAY_US, aware, days_us, from_us, to_us
from .errors import InputError
from .extraction import tokens
from .extraction.classify import TYPE_LABELS, detect_memory_type
from .extraction.entities import CAPITAL, extract_entities, normalize_name
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
MAX_DAYS_AHEAD = 366  # an event time further ahead is a typo ("2062"), not a plan
# "Alice: ..." — a message attributed to a participant of a conversation
SPEAKER = re.compile(rf"\s*({CAPITAL}[\w'’.-]*(?: {CAPITAL}[\w'’.-]*){{0,2}}):\s")
MAX_TAGS = 64
MAX_TAG_CHARS = 100
MEMORY_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")

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
_TYPE_NAMES: Final = {kind: kind.value for kind in MemoryType}  # `.value` is a slow descriptor


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


@lru_cache(maxsize=4096)
def _day_label(local_day: int) -> str:
    return from_us(local_day * DAY_US).date().isoformat()


def day_key(us: int, tz_offset: timedelta) -> tuple[str, int, int]:
    """Key and [start, end) of the calendar day holding `us`, in the memory's own timezone."""
    offset = int(tz_offset.total_seconds() * 1_000_000)
    local_day = (us + offset) // DAY_US
    start = local_day * DAY_US - offset
    return f"t:day:{_day_label(local_day)}", start, start + DAY_US


@dataclass(frozen=True, slots=True)
class Prepared:
    """A validated input: everything about the memory that does not depend on the brain."""

    text: str
    tags: list[str]
    kind: MemoryType
    priority: int
    expires_days: float | None
    event_time: datetime | None
    source: str
    meta: ev.Meta
    cid: str | None
    project: str | None
    id: str | None = None  # a memory id chosen by the caller (checked unused when decided)
    expires_at: int | None = None  # absolute expiry (µs); overrides `expires_days`
    policy: str = "block"  # the sensitive-content policy its event is appended under


def screen(text: str, policy: str) -> str:
    """The memory text under the sensitive-content policy, before extraction: so a redacted
    secret never reaches a neuron. Every other field is screened at the log's boundary."""
    return screening.text(text, policy)


def prepare(inp: MemoryInput, policy: str = "block", project: str | None = None) -> Prepared:
    """Validate one input; a batch is prepared whole before anything is written.

    `project` is the id the brain resolved `inp.project` to.
    """
    policy = screening.check_policy(inp.sensitive or policy)
    text = screen(validate_text(inp.text), policy)
    kind = memory_type(inp.memory_type) if inp.memory_type else detect_memory_type(text)
    if inp.event_time is not None and not isinstance(inp.event_time, datetime):
        raise InputError(f"event_time must be a datetime, got {type(inp.event_time).__name__}")
    if not isinstance(inp.source, str) or not inp.source:
        raise InputError("source must be a non-empty string")
    if inp.cid is not None and (not isinstance(inp.cid, str) or not 0 < len(inp.cid) <= 200):
        raise InputError("an idempotency key must be a string of 1-200 characters")
    if inp.id is not None and (not isinstance(inp.id, str) or not MEMORY_ID.fullmatch(inp.id)):
        raise InputError(f"invalid memory id {inp.id!r}: use 1-64 letters, digits, '_' or '-'")
    expires_days, expires_at = _expiry(inp, kind)
    return Prepared(
        text=text,
        tags=validate_tags(inp.tags),
        kind=kind,
        priority=priority(inp.priority),
        expires_days=expires_days,
        event_time=None if inp.event_time is None else aware(inp.event_time),
        source=inp.source,
        meta=validate_meta(inp.meta),
        cid=inp.cid,
        project=project,
        id=inp.id,
        expires_at=expires_at,
        policy=policy,
    )


def _expiry(inp: MemoryInput, kind: MemoryType) -> tuple[float | None, int | None]:
    """(days from the write, absolute µs): at most one is set; both None means never."""
    if inp.expires_at is None:
        return _expiry_days(inp.expires_in_days, kind), None
    if inp.expires_in_days is not None:
        raise InputError("give expires_in_days or expires_at, not both")
    if inp.expires_at == "never":
        return None, None
    if not isinstance(inp.expires_at, datetime):
        raise InputError(f"expires_at must be a datetime or 'never', got {inp.expires_at!r}")
    return None, to_us(inp.expires_at)


def validate_meta(meta: object) -> ev.Meta:
    if not isinstance(meta, dict):
        raise InputError("meta must be a mapping of names to plain values")
    for key, value in meta.items():
        if not isinstance(key, str) or not isinstance(value, str | int | float | bool | None):
            raise InputError(f"meta {key!r}: values must be strings, numbers, booleans or null")
    return dict(meta)


class Batch:
    """What deciding needs beyond the projection: the memories decided earlier in the same
    batch, which are applied together after the whole batch is decided."""

    def __init__(self, p: Projection) -> None:
        self.p = p
        self.next_neuron = p.neuron_count
        self.keys: dict[str, int] = {}
        self.recent: list[tuple[int, int]] = []  # (event time, anchor) of decided memories
        self.ids: set[str] = set()  # memory ids decided in this batch

    def neighbours(self, limit: int) -> list[tuple[int, int]]:
        """(event time, anchor) of the newest memories, newest first."""
        out = self.recent[: -limit - 1 : -1] if limit else []
        if len(out) < limit:
            n = self.p.fiber_count
            lo = max(0, n - (limit - len(out)))
            starts = self.p.f_start.values[lo:n].tolist()
            anchors = self.p.f_anchor.values[lo:n].tolist()
            out.extend(zip(reversed(starts), reversed(anchors), strict=True))
        return out


@dataclass(slots=True)
class Links:
    """Neurons to create and links to make, as the event stores them."""

    neurons: list[ev.NeuronSpec]
    targets: list[int]
    types: list[int]
    weights: list[float]
    entities: int


def link_terms(batch: Batch, text: str, when: datetime, first_new: int) -> Links:
    """Words, names, speakers and times of `text`, as links to existing neurons where the
    brain has them and to new neurons (numbered from `first_new`) where it does not."""
    event_us = to_us(when)
    entities = extract_entities(text)
    # (key, content, neuron type, synapse type, weight, start, end) of everything linked to
    wanted: list[tuple[str, str, int, int, float, int, int]] = [
        ("e:" + e.key, e.text, _T_SPATIAL, _S_AT_LOCATION, W_ENTITY, 0, 0)
        if e.type == NeuronType.SPATIAL
        else ("e:" + e.key, e.text, _T_ENTITY, _S_INVOLVES, W_ENTITY, 0, 0)
        for e in entities
    ]
    speaker = SPEAKER.match(text)
    if speaker and speaker.group(1).lower() not in TYPE_LABELS:  # "Insight: ..." is no one
        name = speaker.group(1)
        wanted.append(("s:" + normalize_name(name), name, _T_ENTITY, _S_INVOLVES, W_ENTITY, 0, 0))
    wanted += [
        ("k:" + key, surface, _T_CONCEPT, _S_RELATED, W_KEYWORD, 0, 0)
        for key, surface in tokens.keywords(text)
    ]
    for hint in extract_time_hints(text, when):
        label = f"t:{hint.granularity}:{hint.start.isoformat(timespec='minutes')}"
        wanted.append((label, hint.text, _T_TIME, _S_HAPPENED_AT, W_TIME_PHRASE,
                       to_us(hint.start), to_us(hint.end)))  # fmt: skip
    key, d_start, d_end = day_key(event_us, when.utcoffset() or timedelta(0))
    wanted.append((key, key[6:], _T_TIME, _S_HAPPENED_AT, W_DAY, d_start, d_end))

    known, pending = batch.p.keys, batch.keys
    neurons: list[ev.NeuronSpec] = []
    targets: list[int] = []
    types: list[int] = []
    weights: list[float] = []
    linked: set[int] = set()
    for key, content, ntype, stype, weight, start, end in wanted:
        idx = known.get(key)
        if idx is None:
            idx = pending.get(key)
        if idx is None:
            idx = pending[key] = first_new + len(neurons)
            neurons.append(ev.NeuronSpec(ntype, key, content, start, end))
        elif idx in linked:
            continue
        linked.add(idx)
        targets.append(idx)
        types.append(stype)
        weights.append(weight)
    return Links(neurons, targets, types, weights, len(entities))


def decide_encode(batch: Batch, prep: Prepared, now: int) -> ev.MemoryEncoded:
    """Turn one prepared input into the event that records it, linked against the brain."""
    p = batch.p
    fiber_id = os.urandom(16).hex() if prep.id is None else prep.id
    if prep.id is not None and (prep.id in p.ids or prep.id in batch.ids):
        raise InputError(f"memory id {prep.id!r} is already used in this brain")
    when = prep.event_time or from_us(now).astimezone()
    event_us = to_us(when)
    if event_us > now + MAX_DAYS_AHEAD * DAY_US:
        raise InputError(
            f"event time {when.isoformat(timespec='minutes')} is "
            f"{(event_us - now) // DAY_US} days ahead: an event time says when something "
            f"happened (at most {MAX_DAYS_AHEAD} days ahead, for what is planned); is the year "
            "right?"
        )
    first = batch.next_neuron
    links = link_terms(batch, prep.text, when, first + 1)
    targets, types, weights = links.targets, links.types, links.weights

    cfg = p.config
    window = cfg.temporal_link_window_s * 1_000_000
    for other, anchor in batch.neighbours(cfg.temporal_links):
        if abs(event_us - other) <= window:
            targets.append(anchor)
            types.append(_S_AFTER if event_us >= other else _S_BEFORE)
            weights.append(W_NEIGHBOUR)

    batch.ids.add(fiber_id)
    batch.next_neuron = first + 1 + len(links.neurons)
    batch.recent.append((event_us, first))
    salience = min(1.0, 0.3 + 0.1 * links.entities + 0.02 * len(targets))
    if prep.expires_at is not None:
        expires_at: int | None = prep.expires_at
    else:
        expires_at = None if prep.expires_days is None else now + int(prep.expires_days * DAY_US)
    return ev.MemoryEncoded(
        fiber_id=fiber_id,
        text=prep.text,
        first_neuron=first,
        event_start=event_us,
        event_end=event_us,
        memory_type=_TYPE_NAMES[prep.kind],
        priority=prep.priority,
        salience=round(salience, 4),
        neurons=links.neurons,
        links=ev.pack_links(targets, types, weights),
        tags=prep.tags,
        expires_at=expires_at,
        project=prep.project,
        source=prep.source,
        meta=prep.meta,
    )


def _expiry_days(days: float | None, kind: MemoryType) -> float | None:
    if days is None:
        return DEFAULT_EXPIRY_DAYS[kind]
    days_us(days, "expiry")
    return float(days)  # checked by days_us
