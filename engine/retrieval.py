"""Recall: query -> anchors -> spreading activation -> ranked memories -> context.

Runs entirely on a `View`, so the same code answers for the live brain and for any past
moment. Nothing here writes.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from . import freshness
from .activation import Activation, SpreadParams, live_edges, spread
from .api import Memory, RecalledMemory, RecallResult
from .clock import DAY_US, from_us, to_us
from .errors import InputError
from .extraction import tokens
from .extraction.classify import INTENT_DEPTH, detect_intent
from .extraction.entities import extract_entities
from .extraction.temporal import extract_time_hints
from .model import MEMORY_TYPES, NEURON_TYPES, NeuronType, memory_type
from .projection import ERASED, EXPIRED, FORGOTTEN, NO_EXPIRY, PINNED, View

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

MAX_QUERY_CHARS = 10_000
MAX_LIMIT = 1000
_T_TIME = NEURON_TYPES.index(NeuronType.TIME)
_TOKEN = re.compile(r"\w+|[^\w\s]")

ENTITY_BOOST = 1.5  # a named thing in the question is a stronger cue than a common word
TIME_WEIGHT = 1.0
INTERSECTION_BONUS = 0.25
RECENCY_WEIGHT, RECENCY_DAYS = 0.5, 14.0
REINFORCED = 3  # a recall strengthens the links that led to its best few memories


def count_tokens(text: str) -> int:
    """Words and punctuation marks: within a few percent of LLM tokenizers on English prose."""
    return len(_TOKEN.findall(text))


@dataclass(frozen=True, slots=True)
class Anchors:
    nodes: I64
    weights: F64  # cue strength per anchor before IDF (entity > keyword)
    labels: list[str]
    missing: float  # cue strength of query words the brain has never seen


def find_anchors(view: View, query: str) -> Anchors:
    p = view.p
    found: dict[int, tuple[float, str]] = {}
    missing = 0.0

    def add(key: str, strength: float, label: str) -> bool:
        idx = p.keys.get(key)
        if idx is None or idx >= view.neurons:
            return False
        if idx not in found or found[idx][0] < strength:
            found[idx] = (strength, label)
        return True

    for ent in extract_entities(query):
        add("e:" + ent.key, ENTITY_BOOST, ent.text)
        add("s:" + ent.key, ENTITY_BOOST, ent.text + " (speaker)")
    for key, surface in tokens.keywords(query):
        if not add("k:" + key, 1.0, surface):
            missing += 1.0
    hints = extract_time_hints(query, from_us(view.time).astimezone())
    if hints:
        n = view.neurons
        is_time = p.n_type.values[:n] == _T_TIME
        starts, ends = p.n_start.values[:n], p.n_end.values[:n]
        for hint in hints:
            lo, hi = to_us(hint.start), to_us(hint.end)
            hit = np.flatnonzero(
                is_time & (starts < hi) & (ends > lo) & (ends - starts <= hi - lo + DAY_US)
            )
            for idx in hit[:64].tolist():
                found.setdefault(idx, (TIME_WEIGHT, hint.text))
    order = sorted(found)
    return Anchors(
        nodes=np.asarray(order, dtype=np.int64),
        weights=np.asarray([found[i][0] for i in order], dtype=np.float64),
        labels=[found[i][1] for i in order],
        missing=missing,
    )


def idf(degree: I64, documents: int) -> F64:
    """BM25's inverse document frequency, on the graph degree of a neuron."""
    d = degree.astype(np.float64)
    return np.log1p((documents - d + 0.5) / (d + 0.5)).clip(min=0.0)


@dataclass(frozen=True, slots=True)
class Filters:
    types: frozenset[int] | None = None
    tags: frozenset[str] | None = None
    any_tag: bool = False  # a memory with any of `tags` matches (default: all of them)
    include_expired: bool = False
    min_priority: int = 0
    project: int | None = None  # index into the projection's project ids


def status_of(flags: int, expired: bool) -> str:
    if flags & ERASED:
        return "erased"
    if flags & FORGOTTEN:
        return "forgotten"
    if flags & EXPIRED or expired:
        return "expired"
    return "pinned" if flags & PINNED else "active"


def memories_at(view: View, fibers: list[int]) -> list[Memory]:
    """Memories by index as of the view, reading each column once for the whole list."""
    p = view.p
    idx = np.asarray(fibers, dtype=np.int64)
    columns = zip(
        fibers,
        view.col("f_type")[idx].tolist(),
        view.col("f_priority")[idx].tolist(),
        p.f_start.values[idx].tolist(),
        p.f_t.values[idx].tolist(),
        view.col("f_expires")[idx].tolist(),
        view.col("f_flags")[idx].tolist(),
        view.col("f_project")[idx].tolist(),
        p.f_salience.values[idx].tolist(),
        strict=True,
    )
    out: list[Memory] = []
    for f, kind, prio, start, t, exp, flags, project, sal in columns:
        days = freshness.age_days(start, view.time)
        pinned = bool(flags & PINNED)
        state = p.project_at(p.project_ids[project], view.seq) if project >= 0 else None
        out.append(
            Memory(
                id=p.f_id[f],
                text=view.text(f),
                memory_type=MEMORY_TYPES[kind],
                priority=prio,
                event_time=from_us(start),
                recorded_at=from_us(t),
                expires_at=None if exp == NO_EXPIRY else from_us(exp),
                tags=tuple(view.tags(f)),
                source=p.source(f),
                salience=sal,
                seq=p.fiber_seq(f),
                meta=p.meta(f),
                status=status_of(flags, not pinned and exp <= view.time),
                project=None if state is None else state.name,
                freshness=freshness.band(days).name,
                age_days=days,
            )
        )
    return out


def recall(
    view: View,
    query: str,
    *,
    depth: int | None = None,
    limit: int = 10,
    max_tokens: int | None = None,
    filters: Filters = Filters(),
) -> RecallResult:
    started = time.perf_counter()
    if not isinstance(query, str) or not query.strip():
        raise InputError("query is empty")
    if len(query) > MAX_QUERY_CHARS:
        raise InputError(f"query is too long ({len(query)} > {MAX_QUERY_CHARS} characters)")
    if depth is not None and depth not in (0, 1, 2, 3):
        raise InputError(f"depth must be 0, 1, 2 or 3, got {depth}")
    if not 1 <= limit <= MAX_LIMIT:
        raise InputError(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    config = view.p.config_at(view.seq)
    budget = config.max_context_tokens if max_tokens is None else max_tokens
    if budget < 1:
        raise InputError(f"max_tokens must be positive, got {budget}")

    p = view.p
    p.sync_graph()
    intent = detect_intent(query)
    use_depth = INTENT_DEPTH[intent] if depth is None else depth
    anchors = find_anchors(view, query)
    reachable = view.visible() | view.expired() if filters.include_expired else view.visible()
    documents = max(int(reachable.sum()), 1)
    exponent = 1.0

    def initial(degree: I64) -> F64:
        level: F64 = anchors.weights * idf(degree, documents)
        return level * np.maximum(degree, 1).astype(np.float64) ** exponent

    params = SpreadParams(
        hops=use_depth + 1,
        hop_decay=config.hop_decay,
        threshold=config.activation_threshold,
        include_expired=filters.include_expired,
        fanout_exponent=exponent,
    )
    act = spread(view, anchors.nodes, initial, params)
    ranked = _rank(view, act, filters, limit)
    found = memories_at(view, [f for f, _ in ranked])
    memories = [RecalledMemory(m, s) for m, (_, s) in zip(found, ranked, strict=True)]
    cue = anchors.weights * idf(act.anchor_degree, documents)
    confidence = _confidence(view, act, anchors, cue, ranked)
    context = assemble_context(memories, budget)
    links = _carriers(view, anchors.nodes, [f for f, _ in ranked[:REINFORCED]])
    warned = (freshness.warning(m.memory.age_days) for m in memories)
    warnings = list(dict.fromkeys(w for w in warned if w))
    return RecallResult(
        freshness_warnings=warnings[:3],
        links=links,
        query=query,
        memories=memories,
        context=context,
        confidence=confidence,
        neurons_activated=len(act.nodes),
        depth=use_depth,
        intent=intent.value,
        anchors=anchors.labels,
        latency_ms=(time.perf_counter() - started) * 1000,
        at=from_us(view.time),
        seq=view.seq,
    )


def _rank(view: View, act: Activation, filters: Filters, limit: int) -> list[tuple[int, float]]:
    """Top memories: activation with the intersection bonus, then mild priors on a shortlist."""
    p = view.p
    fiber_of = p.n_fiber.values[act.nodes]
    is_memory = (fiber_of >= 0) & (fiber_of < view.fibers)
    fibers = fiber_of[is_memory].astype(np.int64)
    score = act.level[is_memory] * (
        1.0 + INTERSECTION_BONUS * np.maximum(act.hits[is_memory] - 1, 0)
    )
    ok = view.visible()[fibers]
    if filters.include_expired:
        ok |= view.expired()[fibers]
    if filters.min_priority:
        ok &= view.col("f_priority")[fibers] >= filters.min_priority
    if filters.types is not None:
        ok &= np.isin(view.col("f_type")[fibers], list(filters.types))
    if filters.project is not None:
        ok &= view.col("f_project")[fibers] == filters.project
    fibers, score = fibers[ok], score[ok]
    # priors move a score by a few percent at most, so a shortlist by activation suffices
    shortlist = max(8 * limit, 64) if filters.tags is None else max(64 * limit, 512)
    if len(score) > shortlist:
        top = np.argpartition(-score, shortlist - 1)[:shortlist]
        fibers, score = fibers[top], score[top]
    if filters.tags is not None:
        keep = tag_match(view, fibers, filters.tags, any_tag=filters.any_tag)
        fibers, score = fibers[keep], score[keep]
    if not len(fibers):
        return []
    score = score * _priors(view, fibers)
    order = np.lexsort((fibers, -score))[:limit]
    return [(int(fibers[i]), float(score[i])) for i in order]


def tag_match(
    view: View, fibers: I64, wanted: frozenset[str], *, any_tag: bool
) -> npt.NDArray[np.bool_]:
    """Which of these memories carry all (or, with `any_tag`, any) of the wanted tags."""
    if any_tag:
        hits = (not wanted.isdisjoint(view.tags(f)) for f in fibers.tolist())
    else:
        hits = (wanted.issubset(view.tags(f)) for f in fibers.tolist())
    return np.fromiter(hits, dtype=bool, count=len(fibers))


def _priors(view: View, fibers: I64) -> F64:
    """Factors beside activation: priority, salience (mild), and recency of the event: what
    happened in the last days outranks an equally good older match, so an update beats the
    fact it replaced (up to +50% today, +9% a month ago, nothing after a few months)."""
    p = view.p
    prio = view.col("f_priority")[fibers].astype(np.float64)
    age_days = np.maximum(view.time - p.f_start.values[fibers], 0) / DAY_US
    recency = np.exp(-age_days / RECENCY_DAYS)
    salience = p.f_salience.values[fibers].astype(np.float64)
    prior: F64 = (
        (1.0 + 0.04 * (prio - 5)) * (1.0 + RECENCY_WEIGHT * recency) * (0.95 + 0.1 * salience)
    )
    return prior


def _carriers(view: View, anchors: I64, fibers: list[int]) -> tuple[int, ...]:
    """The live links between the question's anchors and these memories."""
    if not fibers or not len(anchors):
        return ()
    memory_nodes = np.unique(view.p.f_anchor.values[np.asarray(fibers, dtype=np.int64)])
    _, nbr, syn, _ = live_edges(view, memory_nodes.astype(np.int64))
    return tuple(int(s) for s in syn[np.isin(nbr, anchors)])


def _confidence(
    view: View, act: Activation, anchors: Anchors, cue: F64, ranked: list[tuple[int, float]]
) -> float:
    """Share of the question's cue strength (IDF-weighted) that the best memory links to.

    0 when nothing matched, 1 when the top memory contains every distinctive word and name of
    the question; unknown words count against it, since the brain cannot have the answer to
    what it has never heard of.
    """
    if not ranked or not len(anchors.nodes):
        return 0.0
    anchor = int(view.p.f_anchor[ranked[0][0]])
    _, nbr, _, _ = live_edges(view, np.asarray([anchor], dtype=np.int64))
    linked = np.isin(anchors.nodes, nbr, kind="sort")
    top_idf = float(cue.max()) if len(cue) else 1.0
    total = float(cue.sum()) + anchors.missing * top_idf
    if total <= 0:
        return 0.0
    return round(min(1.0, float(cue[linked].sum()) / total), 4)


def assemble_context(memories: list[RecalledMemory], max_tokens: int) -> str:
    """Markdown for an LLM prompt: best memories first, cut to fit `max_tokens`."""
    if not memories:
        return ""
    header = "## Relevant memories"
    lines = [header]
    used = count_tokens(header)
    for item in memories:
        m = item.memory
        line = f"- ({m.event_time.date().isoformat()}, {m.memory_type.value}) {m.text}"
        cost = count_tokens(line)
        if used + cost > max_tokens:
            if len(lines) == 1 and (cut := _truncate(line, max_tokens - used)):
                lines.append(cut)
            break
        lines.append(line)
        used += cost
    return "\n".join(lines) if len(lines) > 1 else ""


def _truncate(line: str, budget: int) -> str:
    end = 0
    for i, m in enumerate(_TOKEN.finditer(line)):
        if i >= budget - 1:
            break
        end = m.end()
    return line[:end] + " …" if end else ""


def parse_types(values: list[str] | None) -> frozenset[int] | None:
    if not values:
        return None
    return frozenset(MEMORY_TYPES.index(memory_type(v)) for v in values)
