"""Recall: query -> anchors -> spreading activation -> ranked memories -> context.

Runs entirely on a `View`, so the same code answers for the live brain and for any past
moment. Nothing here writes.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from datetime import datetime
from typing import ParamSpec

import msgspec
import numpy as np
import numpy.typing as npt

from . import freshness, sets
from .activation import Activation, SpreadParams, live_edges, spread
from .api import Memory, RecalledMemory, RecallResult
from .clock import DAY_US, from_us, to_us
from .errors import InputError
from .extraction import tokens
from .extraction.classify import INTENT_DEPTH, Intent, detect_intent, detect_type_intent
from .extraction.entities import extract_entities
from .extraction.temporal import TimeHint, extract_time_hints, yearless
from .model import MEMORY_TYPES, NEURON_TYPES, NeuronType, memory_type
from .projection import ERASED, EXPIRED, FORGOTTEN, NO_EXPIRY, PINNED, View
from .semantic import hybrid

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
P = ParamSpec("P")

MAX_QUERY_CHARS = 10_000
MAX_LIMIT = 1000
_T_TIME = NEURON_TYPES.index(NeuronType.TIME)
_TOKEN = re.compile(r"\w+|[^\w\s]")

ENTITY_BOOST = 1.5  # a named thing in the question is a stronger cue than a common word
TIME_WEIGHT = 1.0
TYPE_WEIGHT = 1.0
SEED_LINK = 0.8  # memories a cue picks out get it as through a link of this weight
RELEVANCE_FLOOR, INDIRECT_FLOOR = 0.1, 0.4  # shares of the best score (see `_relevant`)
EVIDENCE_SCALE = 2.0  # IDF-weighted cue strength for ~63% sureness (see `_confidence`)
INTERSECTION_BONUS = 0.25
RECENCY_WEIGHT, RECENCY_DAYS = 0.5, 14.0
REINFORCED = 3  # a recall strengthens the links that led to its best few memories
CUE_EVIDENCE = 3.0  # a period or type the question names and a memory is of: like a rare word
# words of how a question is asked, not of what it asks about: unseen, they say nothing
QUESTION_WORDS = frozenset(
    "happen happened happens happening go went going thing things anything something "
    "stuff know remember tell recall make made show list open pending outstanding "
    "remaining left current latest".split()
)


def count_tokens(text: str) -> int:
    """Words and punctuation marks: within a few percent of LLM tokenizers on English prose."""
    return len(_TOKEN.findall(text))


class Cue(msgspec.Struct, frozen=True):
    """A cue of the question that picks memories out directly, with no neuron of its own:
    the memories of a period it names (their event time), or of a type it asks for."""

    fibers: I64
    weight: float  # cue strength before IDF
    label: str  # what the question said; cues of one label are one cue to confidence
    kind: str  # "period" or "type"


class Anchors(msgspec.Struct, frozen=True):
    nodes: I64
    weights: F64  # cue strength per anchor before IDF (entity > keyword)
    labels: list[str]
    missing: float  # cue strength of query words the brain has never seen
    cues: tuple[Cue, ...] = ()


def find_anchors(view: View, query: str) -> Anchors:
    p = view.p
    found: dict[int, tuple[float, str]] = {}

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
    words = tokens.keywords(query)
    unseen = [surface for key, surface in words if not add("k:" + key, 1.0, surface)]
    cues: list[Cue] = []
    hints = extract_time_hints(query, from_us(view.time).astimezone(), prefer="past")
    if hints:
        n = view.neurons
        is_time = p.n_type.values[:n] == _T_TIME
        starts, ends = p.n_start.values[:n], p.n_end.values[:n]
        happened = p.f_start.values[: view.fibers]
        for hint in hints:
            lo, hi, within = _period(view, query, hint, happened)
            hit = np.flatnonzero(
                is_time & (starts < hi) & (ends > lo) & (ends - starts <= hi - lo + DAY_US)
            )
            # the days memories happened on are their event times; a time phrase in a
            # memory's text ("last Saturday") is a neuron of its own: the memories that name
            # a time of the period join those that happened in it, one cue (64 phrases of
            # one day each would otherwise outweigh the period itself)
            phrases = [i for i in hit.tolist() if not _is_day(p.n_key[i])][:64]
            if phrases:
                _, nbr, _, _ = live_edges(view, np.asarray(phrases, dtype=np.int64))
                named = p.n_fiber.values[nbr]
                named = sets.unique(named[(named >= 0) & (named < view.fibers)])
                if len(named):  # saying so and happening then: two pieces of evidence
                    cues.append(Cue(named, TIME_WEIGHT, hint.text, "period"))
            if len(within):
                cues.append(Cue(within, TIME_WEIGHT, hint.text, "period"))
    kind = detect_type_intent(query)
    if kind is not None:
        of_type = np.flatnonzero(view.col("f_type") == MEMORY_TYPES.index(kind[0]))
        if len(of_type):
            cues.append(Cue(of_type, TYPE_WEIGHT, kind[1], "type"))
    # a word the brain has never seen counts against confidence, unless it only says how
    # the question is asked ("what happened") or belongs to a cue ("todos", "mid-August")
    said = " ".join([c.label for c in cues] + [h.text for h in hints]).lower()
    missing = float(sum(w.lower() not in QUESTION_WORDS and not _within(w.lower(), said)
                        for w in unseen))  # fmt: skip
    order = sorted(found)
    return Anchors(
        nodes=np.asarray(order, dtype=np.int64),
        weights=np.asarray([found[i][0] for i in order], dtype=np.float64),
        labels=[found[i][1] for i in order] + [c.label for c in cues],
        missing=missing,
        cues=tuple(cues),
    )


def _within(word: str, text: str) -> bool:
    """Whether `word` is a whole word (or words) of `text`."""
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text) is not None


YEARS_BACK = 100  # how far a year-less period is looked for


def _period(view: View, query: str, hint: TimeHint, happened: I64) -> tuple[int, int, I64]:
    """The period a hint names, [lo, hi) in µs, and the memories that happened in it. A
    period named without its year ("the first weekend of August") is the latest such one
    past that the brain has memories of: asked in 2026 about a team's 2023, it is 2023's."""
    lo, hi = to_us(hint.start), to_us(hint.end)
    within = np.flatnonzero((happened >= lo) & (happened < hi))
    if len(within) or not len(happened) or not yearless(hint):
        return lo, hi, within
    earliest, ref = int(happened.min()), from_us(view.time).astimezone()
    visible = view.visible()[: len(happened)]  # a year of forgotten memories is no answer
    for year in range(ref.year - 1, max(ref.year - YEARS_BACK, 1) - 1, -1):
        then = ref.replace(year=year, day=28) if (ref.month, ref.day) == (2, 29) else (
            ref.replace(year=year)
        )  # fmt: skip
        same = [h for h in extract_time_hints(query, then, prefer="past") if h.span == hint.span]
        if not same or to_us(same[0].end) <= earliest:
            break
        a, b = to_us(same[0].start), to_us(same[0].end)
        found = np.flatnonzero((happened >= a) & (happened < b) & visible)
        if len(found):
            return a, b, found
    return lo, hi, within


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
    # a word of a longer cue is that cue ("last" and "week" of "last week")
    kept = [v for k, v in seen.items() if not any(k != o and _within(k, o) for o in seen)]
    return sorted(kept, key=lambda label: low.find(label.lower()) % (len(low) + 1))


def idf(degree: I64, documents: int) -> F64:
    """BM25's inverse document frequency, on the graph degree of a neuron."""
    d = degree.astype(np.float64)
    return np.log1p((documents - d + 0.5) / (d + 0.5)).clip(min=0.0)


Window = tuple[int | None, int | None]  # [start, end) in µs; None: unbounded


class Filters(msgspec.Struct, frozen=True):
    types: frozenset[int] | None = None
    tags: frozenset[str] | None = None
    any_tag: bool = False  # a memory with any of `tags` matches (default: all of them)
    include_expired: bool = False
    min_priority: int = 0
    project: int | None = None  # index into the projection's project ids
    happened: Window | None = None  # event time


NO_FILTERS = Filters()


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
    ids, texts, tags = p.f_id.pick(idx), view.texts(idx), view.tag_lists(idx)
    sources, seqs, metas = p.source_names(idx), p.fiber_seqs(idx), p.metas(idx)
    columns = zip(
        range(len(fibers)),
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
    for i, kind, prio, start, t, exp, flags, project, sal in columns:
        days = freshness.age_days(start, view.time)
        pinned = bool(flags & PINNED)
        state = p.project_at(p.project_ids[project], view.seq) if project >= 0 else None
        out.append(
            Memory(
                id=ids[i],
                text=texts[i],
                memory_type=MEMORY_TYPES[kind],
                priority=prio,
                event_time=from_us(start),
                recorded_at=from_us(t),
                expires_at=None if exp == NO_EXPIRY else from_us(exp),
                tags=tuple(tags[i]),
                source=sources[i],
                salience=sal,
                seq=seqs[i],
                meta=metas[i],
                status=status_of(flags, not pinned and exp <= view.time),
                project=None if state is None else state.name,
                freshness=freshness.band(days).name,
                age_days=days,
            )
        )
    p.saw(fibers, [m.id for m in out])
    return out


class Spread(msgspec.Struct, frozen=True):
    """What a question set alight: its anchors, the memories its cues picked out directly,
    and the activation spread from them."""

    anchors: Anchors
    act: Activation
    documents: int  # memories a recall could reach (the IDF's collection size)
    depth: int
    intent: Intent
    seed_cue: F64
    near: hybrid.Seeds | None
    reachable: npt.NDArray[np.bool_]

    def starts(self, view: View) -> dict[int, str]:
        """Anchor neuron -> what picked it, of the memories the cues picked out (built only
        to explain: a type cue picks a large share of the memories)."""
        found = {
            int(n): c.label
            for c in self.anchors.cues
            for n in view.p.f_anchor.values[c.fibers[self.reachable[c.fibers]]].tolist()
        }
        if self.near is not None:
            found.update((int(n), "similar in meaning") for n in self.near.nodes.tolist())
        return found


def check_query(query: str) -> None:
    if not isinstance(query, str) or not query.strip():
        raise InputError("query is empty")
    if len(query) > MAX_QUERY_CHARS:
        raise InputError(f"query is too long ({len(query)} > {MAX_QUERY_CHARS} characters)")


def activate(
    view: View,
    query: str,
    *,
    depth: int | None,
    include_expired: bool,
    probe: hybrid.Probe | None = None,
) -> Spread:
    """Anchors of `query` (IDF-weighted), the memories its cues pick out, and the activation
    spread from them."""
    config = view.p.config_at(view.seq)
    view.p.sync_graph()
    intent = detect_intent(query)
    use_depth = INTENT_DEPTH[intent] if depth is None else depth
    anchors = find_anchors(view, query)
    reachable = view.visible() | view.expired() if include_expired else view.visible()
    documents = max(int(np.count_nonzero(reachable)), 1)  # (8x a bool sum at 1M)
    exponent = 1.0

    def initial(degree: I64) -> F64:
        level: F64 = anchors.weights * idf(degree, documents)
        return level * np.maximum(degree, 1).astype(np.float64) ** exponent

    params = SpreadParams(
        hops=use_depth + 1,
        hop_decay=config.hop_decay,
        threshold=config.activation_threshold,
        include_expired=include_expired,
        fanout_exponent=exponent,
    )
    seeds, seed_cue = _seeds(view, anchors.cues, reachable, documents, config.hop_decay)
    near = None if probe is None else hybrid.seeds(view, probe, reachable, documents,
                                                   config.hop_decay)  # fmt: skip
    if near is not None and len(near.nodes):  # the semantic layer's anchors join the seeds
        old = seeds or (near.nodes[:0], near.levels[:0])
        seeds = (np.concatenate((old[0], near.nodes)), np.concatenate((old[1], near.levels)))
    act = spread(view, anchors.nodes, initial, params, seeds)
    return Spread(anchors, act, documents, use_depth, intent, seed_cue, near, reachable)


def traced_recall(
    view: View,
    query: str,
    *,
    depth: int | None = None,
    limit: int = 10,
    max_tokens: int | None = None,
    filters: Filters = NO_FILTERS,
    probe: hybrid.Probe | None = None,
) -> tuple[RecallResult, Spread]:
    """`recall`, and the spread behind it (for explaining an answer). `probe`: the question's
    vector when the brain has the semantic layer (its nearest memories become anchors too);
    None is the lexical recall."""
    started = time.perf_counter()
    check_query(query)
    if depth is not None and depth not in (0, 1, 2, 3):
        raise InputError(f"depth must be 0, 1, 2 or 3, got {depth}")
    if not 1 <= limit <= MAX_LIMIT:
        raise InputError(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    config = view.p.config_at(view.seq)
    budget = config.max_context_tokens if max_tokens is None else max_tokens
    if budget < 1:
        raise InputError(f"max_tokens must be positive, got {budget}")

    sp = activate(view, query, depth=depth, include_expired=filters.include_expired, probe=probe)
    anchors, act, near = sp.anchors, sp.act, sp.near
    # asked only for a type ("what are my open todos"), its memories are the answer: what
    # was told just before or after one is no todo
    typed = not len(anchors.nodes) and all(c.kind == "type" for c in anchors.cues)
    ranked = _rank(view, act, filters, limit, shallow=sp.depth <= 1, indirect=not typed)
    found = memories_at(view, [f for f, _ in ranked])
    memories = [RecalledMemory(m, s) for m, (_, s) in zip(found, ranked, strict=True)]
    cue = anchors.weights * idf(act.anchor_degree, sp.documents)
    confidence = _confidence(view, act, anchors, cue, sp.seed_cue, ranked)
    if near is not None and ranked:
        confidence = max(confidence, hybrid.confidence(near, ranked[0][0]))
    context = assemble_context(memories, budget)
    links = _carriers(view, anchors.nodes, [f for f, _ in ranked[:REINFORCED]])
    warned = (freshness.warning(m.memory.age_days) for m in memories)
    warnings = list(dict.fromkeys(w for w in warned if w))
    result = RecallResult(
        freshness_warnings=warnings[:3],
        links=links,
        query=query,
        memories=memories,
        context=context,
        confidence=confidence,
        neurons_activated=len(act.nodes),
        depth=sp.depth,
        intent=sp.intent.value,
        anchors=anchor_labels(query, anchors.labels),
        latency_ms=(time.perf_counter() - started) * 1000,
        at=from_us(view.time),
        seq=view.seq,
        since=_bound(filters.happened, 0),
        until=_bound(filters.happened, 1),
    )
    return result, sp


def _untraced(traced: Callable[P, tuple[RecallResult, Spread]]) -> Callable[P, RecallResult]:
    def recall(*args: P.args, **kwargs: P.kwargs) -> RecallResult:
        """Memories that answer `query`, ranked, with a Markdown context: `traced_recall`
        without the spread (its arguments, typed as there: one keyword list for both)."""
        return traced(*args, **kwargs)[0]

    return recall


recall = _untraced(traced_recall)


def _bound(window: Window | None, side: int) -> datetime | None:
    value = None if window is None else window[side]
    return None if value is None else from_us(value)


def _rank(
    view: View,
    act: Activation,
    filters: Filters,
    limit: int,
    *,
    shallow: bool = False,
    indirect: bool = True,
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
        ok &= sets.isin(view.col("f_type")[fibers], list(filters.types))
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
    # priors move a score by a few percent at most, so a shortlist by activation suffices;
    # memories that score alike all join it (the priors tell them apart)
    shortlist = max(8 * limit, 64) if filters.tags is None else max(64 * limit, 512)
    if len(score) > shortlist:
        top = sets.top(score, shortlist, ties=True)
        fibers, score, direct = fibers[top], score[top], direct[top]
    if filters.tags is not None:
        keep = tag_match(view, fibers, filters.tags, any_tag=filters.any_tag)
        fibers, score, direct = fibers[keep], score[keep], direct[keep]
    if not len(fibers):
        return []
    score = score * _priors(view, fibers)
    order = np.lexsort((fibers, -score))
    if shallow:  # deeper spreading is asked for associations, which score low by nature
        order = order[_relevant(score[order], direct[order], indirect=indirect)]
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


def _relevant(
    score: F64, direct: npt.NDArray[np.bool_], *, indirect: bool = True
) -> npt.NDArray[np.bool_]:
    """Which of these ranked memories (best first) are answers rather than padding: at least
    RELEVANCE_FLOOR of the best score, and, for one that shares no cue with the question
    (reached through a neighbour in time or a word of another memory), INDIRECT_FLOOR of it,
    or none of those when `indirect` is off. The memory told right after the best one (0.6
    of it) stays; memories told around weaker matches, or before the best one (0.3), go: in
    a brain told one thing after another, those are other topics. On LoCoMo's dev split
    this cut costs nothing at hit@10 (0.25 to 0.45 of the best: the same 0.814)."""
    best = score[0]
    keep: npt.NDArray[np.bool_] = (score >= RELEVANCE_FLOOR * best) & (
        direct | (indirect & (score >= INDIRECT_FLOOR * best))
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
    memory_nodes = sets.unique(view.p.f_anchor.values[np.asarray(fibers, dtype=np.int64)])
    _, nbr, syn, _ = live_edges(view, memory_nodes.astype(np.int64))
    return tuple(int(s) for s in syn[sets.isin(nbr, anchors)])


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
    word shared keeps it low. A period or type the question names is one cue however many
    ways it picks memories, and weighs at least CUE_EVIDENCE: "what are my open todos"
    answered with the todos is sure, however many todos the brain holds.
    """
    if not ranked or not (len(anchors.nodes) or len(seed_cue)):
        return 0.0
    top = ranked[0][0]
    anchor = int(view.p.f_anchor[top])
    _, nbr, _, _ = live_edges(view, np.asarray([anchor], dtype=np.int64))
    linked = sets.isin(anchors.nodes, nbr)
    groups: dict[str, tuple[float, bool]] = {}
    for c, value in zip(anchors.cues, seed_cue.tolist(), strict=True):
        strength, hit = groups.get(c.label, (0.0, False))
        floored = max(value, CUE_EVIDENCE) if value > 0 else 0.0
        groups[c.label] = max(strength, floored), hit or bool((c.fibers == top).any())
    picked = np.asarray([v for v, _ in groups.values()], dtype=np.float64)
    covered = np.asarray([h for _, h in groups.values()], dtype=bool)
    strengths = np.concatenate((cue, picked))
    top_idf = float(strengths.max()) if len(strengths) else 1.0
    total = float(strengths.sum()) + anchors.missing * top_idf
    if total <= 0:
        return 0.0
    share = float(cue[linked].sum()) + float(picked[covered].sum())
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
