"""Recall: query -> anchors -> spreading activation -> ranked memories -> context.

Runs entirely on a `View`, so the same code answers for the live brain and for any past
moment. Nothing here writes.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

from . import freshness
from .activation import Activation, SpreadParams, live_edges, spread
from .api import Memory, RecalledMemory, RecallResult
from .clock import DAY_US, from_us, to_us
from .errors import InputError
from .extraction import tokens
from .extraction.classify import INTENT_DEPTH, detect_intent, detect_type_intent
from .extraction.entities import extract_entities
from .extraction.temporal import extract_time_hints
from .model import MEMORY_TYPES, NEURON_TYPES, NeuronType, memory_type
from .projection import ERASED, EXPIRED, FORGOTTEN, NO_EXPIRY, PINNED, View
from .semantic import hybrid

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

MAX_QUERY_CHARS = 10_000
MAX_LIMIT = 1000
_T_TIME = NEURON_TYPES.index(NeuronType.TIME)
_TOKEN = re.compile(r"\w+|[^\w\s]")

ENTITY_BOOST = 1.5  # a named thing in the question is a stronger cue than a common word
TIME_WEIGHT = 1.0
TYPE_WEIGHT = 1.0
SEED_LINK = 0.8  # memories a cue picks out get it as through a link of this weight
RELEVANCE_FLOOR, INDIRECT_FLOOR = 0.1, 0.25  # shares of the best score (see `_relevant`)
EVIDENCE_SCALE = 2.0  # IDF-weighted cue strength for ~63% sureness (see `_confidence`)
INTERSECTION_BONUS = 0.25
RECENCY_WEIGHT, RECENCY_DAYS = 0.5, 14.0
REINFORCED = 3  # a recall strengthens the links that led to its best few memories


def count_tokens(text: str) -> int:
    """Words and punctuation marks: within a few percent of LLM tokenizers on English prose."""
    return len(_TOKEN.findall(text))


@dataclass(frozen=True, slots=True)
class Cue:
    """A cue of the question that picks memories out directly, with no neuron of its own:
    the memories of a period it names (their event time), or of a type it asks for."""

    fibers: I64
    weight: float  # cue strength before IDF
    label: str


@dataclass(frozen=True, slots=True)
class Anchors:
    nodes: I64
    weights: F64  # cue strength per anchor before IDF (entity > keyword)
    labels: list[str]
    missing: float  # cue strength of query words the brain has never seen
    cues: tuple[Cue, ...] = ()


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
    cues: list[Cue] = []
    hints = extract_time_hints(query, from_us(view.time).astimezone(), prefer="past")
    if hints:
        n = view.neurons
        is_time = p.n_type.values[:n] == _T_TIME
        starts, ends = p.n_start.values[:n], p.n_end.values[:n]
        happened = p.f_start.values[: view.fibers]
        for hint in hints:
            lo, hi = to_us(hint.start), to_us(hint.end)
            hit = np.flatnonzero(
                is_time & (starts < hi) & (ends > lo) & (ends - starts <= hi - lo + DAY_US)
            )
            # the days memories happened on are their event times, the cue below; a time
            # phrase in a memory's text ("last Saturday") is a neuron of its own
            phrases = [i for i in hit.tolist() if not _is_day(p.n_key[i])]
            for idx in phrases[:64]:
                found.setdefault(idx, (TIME_WEIGHT, hint.text))
            within = np.flatnonzero((happened >= lo) & (happened < hi))
            if len(within):
                cues.append(Cue(within, TIME_WEIGHT, hint.text))
    kind = detect_type_intent(query)
    if kind is not None:
        of_type = np.flatnonzero(view.col("f_type") == MEMORY_TYPES.index(kind[0]))
        if len(of_type):
            cues.append(Cue(of_type, TYPE_WEIGHT, kind[1]))
    order = sorted(found)
    return Anchors(
        nodes=np.asarray(order, dtype=np.int64),
        weights=np.asarray([found[i][0] for i in order], dtype=np.float64),
        labels=[found[i][1] for i in order] + [c.label for c in cues],
        missing=missing,
        cues=tuple(cues),
    )


def _is_day(key: str) -> bool:
    """A memory's event day ("t:day:2023-05-08"), not a phrase ("t:day:2023-05-08T00:00...")."""
    return len(key) == 16 and key.startswith("t:day:")


def anchor_labels(query: str, labels: list[str]) -> list[str]:
    """The cues found, each once ("Redis" the name and "redis" the word are one cue to a
    reader; a time phrase matching many time neurons is one), in the question's order."""
    low = query.lower()
    seen: dict[str, str] = {}
    for label in sorted(labels, key=lambda label: label not in query):  # as typed first
        seen.setdefault(label.removesuffix(" (speaker)").lower(), label)
    return sorted(seen.values(), key=lambda label: low.find(label.lower()) % (len(low) + 1))


def idf(degree: I64, documents: int) -> F64:
    """BM25's inverse document frequency, on the graph degree of a neuron."""
    d = degree.astype(np.float64)
    return np.log1p((documents - d + 0.5) / (d + 0.5)).clip(min=0.0)


Window = tuple[int | None, int | None]  # [start, end) in µs; None: unbounded


@dataclass(frozen=True, slots=True)
class Filters:
    types: frozenset[int] | None = None
    tags: frozenset[str] | None = None
    any_tag: bool = False  # a memory with any of `tags` matches (default: all of them)
    include_expired: bool = False
    min_priority: int = 0
    project: int | None = None  # index into the projection's project ids
    happened: Window | None = None  # event time


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
    probe: hybrid.Probe | None = None,
) -> RecallResult:
    """`probe`: the question's vector when the brain has the semantic layer (its nearest
    memories become anchors too); None is the lexical recall."""
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
    seeds, seed_cue = _seeds(view, anchors.cues, reachable, documents, config.hop_decay)
    near = None if probe is None else hybrid.seeds(view, probe, reachable, documents,
                                                   config.hop_decay)  # fmt: skip
    if near is not None and len(near.nodes):  # the semantic layer's anchors join the seeds
        old = seeds or (near.nodes[:0], near.levels[:0])
        seeds = (np.concatenate((old[0], near.nodes)), np.concatenate((old[1], near.levels)))
    act = spread(view, anchors.nodes, initial, params, seeds)
    ranked = _rank(view, act, filters, limit, shallow=use_depth <= 1)
    found = memories_at(view, [f for f, _ in ranked])
    memories = [RecalledMemory(m, s) for m, (_, s) in zip(found, ranked, strict=True)]
    cue = anchors.weights * idf(act.anchor_degree, documents)
    confidence = _confidence(view, act, anchors, cue, seed_cue, ranked)
    if near is not None and ranked:
        confidence = max(confidence, hybrid.confidence(near, ranked[0][0]))
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
        anchors=anchor_labels(query, anchors.labels),
        latency_ms=(time.perf_counter() - started) * 1000,
        at=from_us(view.time),
        seq=view.seq,
        since=_bound(filters.happened, 0),
        until=_bound(filters.happened, 1),
    )


def _bound(window: Window | None, side: int) -> datetime | None:
    value = None if window is None else window[side]
    return None if value is None else from_us(value)


def _rank(
    view: View, act: Activation, filters: Filters, limit: int, *, shallow: bool = False
) -> list[tuple[int, float]]:
    """Top memories: activation with the intersection bonus, then mild priors on a shortlist;
    padding cut (`_relevant`)."""
    p = view.p
    fiber_of = p.n_fiber.values[act.nodes]
    is_memory = (fiber_of >= 0) & (fiber_of < view.fibers)
    fibers = fiber_of[is_memory].astype(np.int64)
    score = act.level[is_memory] * (
        1.0 + INTERSECTION_BONUS * np.maximum(act.hits[is_memory] - 1, 0)
    )
    direct = act.hits[is_memory] > 0  # linked to a cue of the question itself
    ok = view.visible()[fibers]
    if filters.include_expired:
        ok |= view.expired()[fibers]
    if filters.min_priority:
        ok &= view.col("f_priority")[fibers] >= filters.min_priority
    if filters.types is not None:
        ok &= np.isin(view.col("f_type")[fibers], list(filters.types))
    if filters.project is not None:
        ok &= view.col("f_project")[fibers] == filters.project
    if filters.happened is not None:
        lo, hi = filters.happened
        start = p.f_start.values[fibers]
        if lo is not None:
            ok &= start >= lo
        if hi is not None:
            ok &= start < hi
    fibers, score, direct = fibers[ok], score[ok], direct[ok]
    # priors move a score by a few percent at most, so a shortlist by activation suffices
    shortlist = max(8 * limit, 64) if filters.tags is None else max(64 * limit, 512)
    if len(score) > shortlist:
        top = np.argpartition(-score, shortlist - 1)[:shortlist]
        fibers, score, direct = fibers[top], score[top], direct[top]
    if filters.tags is not None:
        keep = tag_match(view, fibers, filters.tags, any_tag=filters.any_tag)
        fibers, score, direct = fibers[keep], score[keep], direct[keep]
    if not len(fibers):
        return []
    score = score * _priors(view, fibers)
    order = np.lexsort((fibers, -score))
    if shallow:  # deeper spreading is asked for associations, which score low by nature
        order = order[_relevant(score[order], direct[order])]
    order = order[:limit]
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


def _relevant(score: F64, direct: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """Which of these ranked memories (best first) are answers rather than padding: at least
    RELEVANCE_FLOOR of the best score, and, for one that shares no cue with the question
    (reached through a neighbour in time or a word of another memory), INDIRECT_FLOOR of it:
    the best memory's own neighbours in time (0.6 and 0.3 of it) stay, those of weak
    matches go. On LoCoMo's dev split no evidence memory in the top 20 falls below a tenth
    of the best, and one indirect one below a quarter."""
    best = score[0]
    keep: npt.NDArray[np.bool_] = (score >= RELEVANCE_FLOOR * best) & (
        direct | (score >= INDIRECT_FLOOR * best)
    )
    return keep


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


def _seeds(
    view: View,
    cues: tuple[Cue, ...],
    reachable: npt.NDArray[np.bool_],
    documents: int,
    hop_decay: float,
) -> tuple[tuple[I64, F64] | None, F64]:
    """The memories the cues pick out, with the level each receives (like a word's: cue
    strength times the IDF of how many memories the cue picks, times the hop decay), and
    each cue's IDF-weighted strength (for confidence)."""
    if not cues:
        return None, np.empty(0)
    nodes, levels, strength = [], [], []
    for c in cues:
        fibers = c.fibers[reachable[c.fibers]]
        value = c.weight * float(idf(np.asarray([len(fibers)]), documents)[0])
        strength.append(value if len(fibers) else 0.0)
        nodes.append(view.p.f_anchor.values[fibers].astype(np.int64))
        levels.append(np.full(len(fibers), value * SEED_LINK * hop_decay))
    return (np.concatenate(nodes), np.concatenate(levels)), np.asarray(strength)


def _confidence(
    view: View,
    act: Activation,
    anchors: Anchors,
    cue: F64,
    seed_cue: F64,
    ranked: list[tuple[int, float]],
) -> float:
    """Share of the question's cue strength (IDF-weighted) that the best memory links to,
    times how much evidence that is (1 - exp(-covered / EVIDENCE_SCALE)).

    0 when nothing matched; near 1 when the top memory holds every distinctive word and name
    of the question (and is of the period or type it names); unknown words count against it,
    since the brain cannot have the answer to what it has never heard of; a single common
    word shared keeps it low.
    """
    if not ranked or not (len(anchors.nodes) or len(seed_cue)):
        return 0.0
    top = ranked[0][0]
    anchor = int(view.p.f_anchor[top])
    _, nbr, _, _ = live_edges(view, np.asarray([anchor], dtype=np.int64))
    linked = np.isin(anchors.nodes, nbr, kind="sort")
    covered = np.asarray([np.isin(top, c.fibers) for c in anchors.cues], dtype=bool)
    strengths = np.concatenate((cue, seed_cue))
    top_idf = float(strengths.max()) if len(strengths) else 1.0
    total = float(strengths.sum()) + anchors.missing * top_idf
    if total <= 0:
        return 0.0
    share = float(cue[linked].sum()) + float(seed_cue[covered].sum())
    # a memory that shares one common word with the question covers all of "how do I
    # release?" and proves little: the evidence counts too, saturating
    evidence = 1.0 - math.exp(-share / EVIDENCE_SCALE)
    return round(min(1.0, share / total) * evidence, 4)


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
