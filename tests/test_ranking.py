"""Ranking mechanisms of recall, each pinned on a small hand-made brain.

Most brains here are folded from hand-written `memory_encoded` events, so every neuron,
link and weight is known; activation is then read straight from `spread` or through
`retrieval.recall` on a view. Each test names the mechanism it pins and is built so that
removing the mechanism changes the outcome (usually: a tie broken the other way by the
lower memory index, or a hand-computed number that no longer holds).

Hand formulas used below (all at the view's own time, so link weights are undecayed):
- first hop of `spread`: anchor level / anchor degree * link weight * hop_decay;
- `recall` starts an anchor at cue * idf * degree, so a memory linked to it directly gets
  cue * idf(degree, documents) * link weight * hop_decay, times the intersection bonus
  1 + INTERSECTION_BONUS * (anchors linked - 1) and equal priors;
- a memory's neighbour in time gets level * link weight * episodic * hop_decay (forward),
  times `backward` for the earlier neighbour.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import Clock

from engine import MemoryInput, MemoryType, Store
from engine import events as ev
from engine.activation import Activation, SpreadParams, _next_frontier, spread
from engine.api import RecallResult
from engine.clock import DAY_US, to_us
from engine.decay import RATE_PER_DAY, retention
from engine.extraction import tokens
from engine.extraction.classify import INTENT_DEPTH, Intent, detect_intent, detect_memory_type
from engine.fold import apply
from engine.model import MEMORY_TYPES, NEURON_TYPES, SYNAPSE_TYPES, NeuronType, SynapseType
from engine.projection import Projection, View
from engine.retrieval import (
    EVIDENCE_SCALE,
    INTERSECTION_BONUS,
    Filters,
    assemble_context,
    count_tokens,
    idf,
    recall,
)

T0 = to_us(datetime(2026, 1, 5, 12, 0, tzinfo=UTC))  # on the hour: no decay at T0
CONCEPT = NEURON_TYPES.index(NeuronType.CONCEPT)
RELATED = SYNAPSE_TYPES.index(SynapseType.RELATED_TO)
AFTER = SYNAPSE_TYPES.index(SynapseType.AFTER)
ONE_DAY = timedelta(days=1)
W_TIME = 0.4  # weight of a link to a neighbour in time (as the encoder makes them)


def key(word: str) -> str:
    """The neuron key a query word maps to (the same function the encoder uses)."""
    (found,) = tokens.keywords(word)
    return "k:" + found[0]


class Graph:
    """A projection folded from hand-written events: exact control over neurons and links."""

    def __init__(self) -> None:
        self.p = Projection("b")
        self.fiber: dict[str, int] = {}
        self.synapses: dict[str, range] = {}
        self.fold(ev.BrainCreated(name="b"))

    def fold(self, body: ev.Body, t: int = T0) -> int:
        apply(self.p, ev.Envelope(seq=self.p.seq + 1, t=t, cid="test", body=body))
        return self.p.seq

    def memory(
        self,
        name: str,
        words: Sequence[str] = (),
        *,
        weights: Sequence[float] | None = None,
        links: Sequence[tuple[str, int]] = (),
        memory_type: str = "fact",
        expires_at: int | None = None,
        start: int = T0,
        text: str | None = None,
    ) -> int:
        """Fold one memory linked to `words` (weight 1 unless `weights`) and to the
        memories in `links` ((name, synapse type), weight W_TIME). Returns its seq."""
        p = self.p
        first = p.neuron_count
        neurons: list[ev.NeuronSpec] = []
        targets: list[int] = []
        for word in words:
            k = key(word)
            idx = p.keys.get(k)
            if idx is None:
                idx = first + 1 + len(neurons)
                neurons.append(ev.NeuronSpec(CONCEPT, k, word))
            targets.append(idx)
        types = [RELATED] * len(targets)
        link_weights = list(weights) if weights is not None else [1.0] * len(targets)
        for other, kind in links:
            targets.append(self.anchor(other))
            types.append(kind)
            link_weights.append(W_TIME)
        s0 = p.synapse_count
        seq = self.fold(
            ev.MemoryEncoded(
                fiber_id=name,
                text=text if text is not None else f"{name}: {' '.join(words)}",
                first_neuron=first,
                event_start=start,
                event_end=start,
                memory_type=memory_type,
                priority=5,
                salience=0.5,
                neurons=neurons,
                link_targets=targets,
                link_types=types,
                link_weights=link_weights,
                expires_at=expires_at,
            )
        )
        self.fiber[name] = p.fiber_count - 1
        self.synapses[name] = range(s0, p.synapse_count)
        return seq

    def anchor(self, name: str) -> int:
        return int(self.p.f_anchor[self.fiber[name]])

    def word(self, word: str) -> int:
        return self.p.keys[key(word)]

    def words(self, *words: str) -> np.ndarray:
        return np.asarray(sorted(self.word(w) for w in words), dtype=np.int64)

    def view(self, seq: int | None = None, time: int = T0) -> View:
        return self.p.view(self.p.seq if seq is None else seq, time)

    def levels(self, act: Activation) -> dict[str, float]:
        """Activation of every memory that received some, by name."""
        level = dict(zip(act.nodes.tolist(), act.level.tolist(), strict=True))
        out = {name: level.get(self.anchor(name), 0.0) for name in self.fiber}
        return {name: v for name, v in out.items() if v > 0}


def ones(degree: np.ndarray) -> np.ndarray:
    """Every anchor starts at level 1, whatever its degree."""
    return np.ones(len(degree))


def ids(result: RecallResult) -> list[str]:
    return [m.memory.id for m in result.memories]


def scores(result: RecallResult) -> dict[str, float]:
    return {m.memory.id: m.score for m in result.memories}


def bm25_idf(d: int, n: int) -> float:
    return max(math.log1p((n - d + 0.5) / (d + 0.5)), 0.0)


# -- 1. IDF anchor weighting ------------------------------------------------------------------


def test_idf_is_bm25_on_graph_degree() -> None:
    degrees = np.asarray([0, 1, 3, 10, 20], dtype=np.int64)
    got = idf(degrees, 10)
    assert got.tolist() == pytest.approx([bm25_idf(int(d), 10) for d in degrees])
    assert np.all(np.diff(got[:4]) < 0)  # the rarer the word, the stronger the cue
    assert got[-1] == 0.0  # more links than documents: clipped, never negative


def test_idf_rare_query_word_outranks_common_one() -> None:
    g = Graph()
    g.memory("common", ["violin"])  # lowest index: wins every tie
    for i in range(5):
        g.memory(f"filler{i}", ["violin"])
    g.memory("rare", ["zebra"])
    result = recall(g.view(), "violin zebra", depth=0)
    assert ids(result)[0] == "rare"
    s = scores(result)
    # depth 0: score = cue * idf(degree, 7 documents) * weight * hop_decay, equal priors
    assert s["rare"] / s["common"] == pytest.approx(bm25_idf(1, 7) / bm25_idf(6, 7))
    assert s["common"] == pytest.approx(s["filler0"])


# -- 2. fan-out normalisation ---------------------------------------------------------------


def test_fanout_a_word_linked_to_many_memories_passes_less_to_each() -> None:
    g = Graph()
    for i in range(4):
        g.memory(f"crowd{i}", ["violin"])
    g.memory("solo", ["zebra"])
    params = SpreadParams(hops=1)
    lv = g.levels(spread(g.view(), g.words("violin", "zebra"), ones, params))
    # level 1 / degree * weight 1 * hop_decay
    assert lv["solo"] == pytest.approx(params.hop_decay)
    for i in range(4):
        assert lv[f"crowd{i}"] == pytest.approx(params.hop_decay / 4)


@pytest.mark.parametrize("degree", [1, 3, 40])
def test_fanout_total_outflow_of_a_word_is_bounded(degree: int) -> None:
    g = Graph()
    for i in range(degree):
        g.memory(f"m{i}", ["violin"], weights=[0.6])
    params = SpreadParams(hops=1)
    lv = g.levels(spread(g.view(), g.words("violin"), ones, params))
    assert len(lv) == degree
    assert sum(lv.values()) == pytest.approx(1.0 * 0.6 * params.hop_decay, rel=1e-6)


def test_fanout_on_a_later_hop_a_hub_word_passes_less_than_a_niche_word() -> None:
    g = Graph()
    for i in range(10):  # behind the hub, and first: they would win a tie
        g.memory(f"hub{i}", ["harbor"])
    g.memory("start", ["zebra", "harbor", "walnut"])
    g.memory("far", ["walnut"])
    result = recall(g.view(), "zebra", depth=2, limit=20)
    assert ids(result)[:2] == ["start", "far"]
    s = scores(result)
    # both words get the same share of start; harbor splits it 11 ways, walnut 2 ways
    for i in range(10):
        assert s["far"] / s[f"hub{i}"] == pytest.approx(11 / 2)


# -- 3. summation and the intersection bonus --------------------------------------------------


def test_summation_and_intersection_bonus_two_anchors_beat_one() -> None:
    g = Graph()
    g.memory("one_a", ["zebra"])
    g.memory("both", ["zebra", "violin"])
    g.memory("one_b", ["violin"])  # zebra and violin: degree 2 each, the same idf
    act = spread(g.view(), g.words("zebra", "violin"), ones, SpreadParams(hops=1))
    lv = g.levels(act)
    assert lv["both"] == pytest.approx(lv["one_a"] + lv["one_b"])  # sums, not maxima
    hits = dict(zip(act.nodes.tolist(), act.hits.tolist(), strict=True))
    assert hits[g.anchor("both")] == 2
    assert hits[g.anchor("one_a")] == 1

    result = recall(g.view(), "zebra violin", depth=0)
    assert ids(result)[0] == "both"
    s = scores(result)
    assert s["one_a"] == pytest.approx(s["one_b"])
    assert s["both"] / s["one_a"] == pytest.approx(2 * (1 + INTERSECTION_BONUS))


def test_intersection_bonus_breaks_a_tie_of_summed_activation() -> None:
    g = Graph()
    g.memory("single", ["zebra"])  # lowest index: first on a tie
    g.memory("double", ["zebra", "violin"], weights=[0.5, 0.5])  # sums to single's
    g.memory("other", ["violin"])
    result = recall(g.view(), "zebra violin", depth=0)
    assert ids(result)[0] == "double"
    s = scores(result)
    assert s["double"] / s["single"] == pytest.approx(1 + INTERSECTION_BONUS)


# -- 4. the episodic channel ------------------------------------------------------------------


def episodic_graph() -> Graph:
    g = Graph()
    g.memory("before", ["copper"])
    g.memory("match", ["zebra", "meadow", "orbit", "falcon"], links=[("before", AFTER)])
    g.memory("after", ["lantern"], links=[("match", AFTER)])
    g.memory("wordmate", ["meadow"])  # shares a word with match, not a neighbour in time
    return g


@pytest.mark.parametrize("backward", [0.5, 0.25])
def test_episodic_neighbours_get_unsplit_activation_forward_more_than_backward(
    backward: float,
) -> None:
    g = episodic_graph()
    params = SpreadParams(hops=2, backward=backward)
    lv = g.levels(spread(g.view(), g.words("zebra"), ones, params))
    match = 1.0 * params.hop_decay  # zebra has one memory
    # unsplit: match has 5 links, but each neighbour gets match's whole level
    forward = match * W_TIME * params.episodic * params.hop_decay
    assert lv["match"] == pytest.approx(match)
    assert lv["after"] == pytest.approx(forward)
    assert lv["before"] == pytest.approx(forward * backward)
    # last hop: a memory sends through its neighbours in time only, never its words
    assert "wordmate" not in lv


def test_episodic_channel_in_recall_ranks_later_turn_above_earlier() -> None:
    g = episodic_graph()
    assert ids(recall(g.view(), "zebra", depth=2))[:3] == ["match", "after", "before"]
    # at the default depth the turn before (0.3 of the best) is padding, the one after stays
    assert ids(recall(g.view(), "zebra", depth=1)) == ["match", "after"]


def test_episodic_direction_through_public_api(tmp_path: Path) -> None:
    t = datetime(2026, 1, 5, 10, tzinfo=UTC)
    with Store(tmp_path / "s") as store:
        brain = store.brain("t")
        brain.remember_many(
            [
                MemoryInput("walnut meadow", event_time=t - timedelta(hours=1)),
                MemoryInput("zebra violin", event_time=t),
                MemoryInput("copper lantern", event_time=t + timedelta(hours=1)),
            ]
        )
        found = [m.memory.text for m in brain.recall("zebra", depth=2).memories]
    assert found == ["zebra violin", "copper lantern", "walnut meadow"]


def test_episodic_direction_follows_event_time_not_log_order(tmp_path: Path) -> None:
    t = datetime(2026, 1, 5, 10, tzinfo=UTC)
    with Store(tmp_path / "s") as store:
        brain = store.brain("t")
        brain.remember_many(  # stored out of time order: later, match, earlier
            [
                MemoryInput("copper lantern", event_time=t + timedelta(hours=1)),
                MemoryInput("zebra violin", event_time=t),
                MemoryInput("walnut meadow", event_time=t - timedelta(hours=1)),
            ]
        )
        found = [m.memory.text for m in brain.recall("zebra", depth=2).memories]
    assert found == ["zebra violin", "copper lantern", "walnut meadow"]


# -- 5. depth and hops ----------------------------------------------------------------------


def test_depth_zero_direct_only_depth_two_through_a_shared_word() -> None:
    g = Graph()
    g.memory("direct", ["zebra", "walnut"])
    g.memory("second", ["walnut", "meadow"])
    g.memory("unrelated", ["orbit"])
    view = g.view()
    assert ids(recall(view, "zebra", depth=0)) == ["direct"]
    # depth 1: the last hop leaves a memory only through its neighbours in time (none here)
    assert ids(recall(view, "zebra", depth=1)) == ["direct"]
    assert ids(recall(view, "zebra", depth=2)) == ["direct", "second"]
    assert ids(recall(view, "zebra", depth=3)) == ["direct", "second"]
    # intent picks the depth: a why-question spreads 3 hops, a bare word 1
    assert ids(recall(view, "why zebra")) == ["direct", "second"]
    assert ids(recall(view, "zebra")) == ["direct"]


def test_depth_through_public_api(tmp_path: Path) -> None:
    day = datetime(2026, 1, 5, 10, tzinfo=UTC)
    with Store(tmp_path / "s") as store:
        brain = store.brain("t")
        brain.remember_many(  # days apart: no neighbours in time, no shared day
            [
                MemoryInput("The zebra escaped from the harbor", event_time=day),
                MemoryInput("The harbor master repaired the gate", event_time=day + 3 * ONE_DAY),
                MemoryInput("Quartz prices rose sharply", event_time=day + 6 * ONE_DAY),
            ]
        )
        shallow = [m.memory.text for m in brain.recall("zebra", depth=0).memories]
        deep = [m.memory.text for m in brain.recall("zebra", depth=2).memories]
    assert shallow == ["The zebra escaped from the harbor"]
    assert deep == ["The zebra escaped from the harbor", "The harbor master repaired the gate"]


# -- 6. edge budget and frontier --------------------------------------------------------------


def frontier_graph() -> Graph:
    g = Graph()
    for i in range(30):
        g.memory(f"hub{i}", ["harbor"])
    g.memory("niche0", ["walnut"])
    g.memory("niche1", ["walnut"])
    g.memory("big", [f"w{i}x" for i in range(30)])
    return g


def frontier(
    g: Graph, levels: dict[int, float], *, last_next: bool = False, **params: Any
) -> set[int]:
    """The neurons `_next_frontier` expands when `levels` arrived."""
    view = g.view()
    reached = np.asarray(sorted(levels), dtype=np.int64)
    arrived = np.asarray([levels[n] for n in reached.tolist()])
    nodes, got = _next_frontier(
        view, reached, arrived, SpreadParams(hops=3, **params), last_next=last_next
    )
    assert got.tolist() == [levels[n] for n in nodes.tolist()]
    return set(nodes.tolist())


def test_edge_budget_hub_beyond_budget_is_not_expanded() -> None:
    g = frontier_graph()
    hub, niche = g.word("harbor"), g.word("walnut")
    levels = {hub: 1.0, niche: 0.3}  # hub: 1/31 per edge; niche: 0.3/2 per edge
    assert frontier(g, levels) == {hub, niche}
    assert frontier(g, levels, edge_budget=10) == {niche}
    assert frontier(g, levels, edge_budget=1) == {niche}  # the best one is always expanded
    assert frontier(g, levels, max_frontier=1) == {niche}
    assert frontier(g, {hub: 1.0, niche: 0.01}) == {hub}  # below threshold * best


def test_edge_budget_a_memory_costs_few_edges_before_the_last_hop() -> None:
    g = frontier_graph()
    big, niche = g.anchor("big"), g.word("walnut")
    levels = {big: 1.0, niche: 0.3}
    # before the last hop a memory sends along its 30 words: 1/30 per edge, over budget
    assert frontier(g, levels, edge_budget=10) == {niche}
    # on the last hop it only reaches its neighbours in time: episodic_cost edges
    assert frontier(g, levels, edge_budget=10, last_next=True) == {big, niche}


def test_edge_budget_bounds_spread_and_results_stay_deterministic() -> None:
    g = Graph()
    for i in range(30):
        g.memory(f"hub{i}", ["harbor"])
    g.memory("start", ["zebra", "harbor", "walnut"])
    g.memory("far", ["walnut"])
    anchors = g.words("zebra")
    tight = SpreadParams(hops=3, edge_budget=10)
    lv = g.levels(spread(g.view(), anchors, ones, tight))
    assert set(lv) == {"start", "far"}  # the hub (31 edges) is skipped
    wide = g.levels(spread(g.view(), anchors, ones, SpreadParams(hops=3)))
    assert set(wide) == set(g.fiber)
    again = spread(g.view(), anchors, ones, tight)
    first = spread(g.view(), anchors, ones, tight)
    assert np.array_equal(again.nodes, first.nodes)
    assert np.array_equal(again.level, first.level)
    # equal scores come back in memory order, run after run
    tied = recall(g.view(), "harbor", depth=0, limit=40)
    assert ids(tied)[:30] == [f"hub{i}" for i in range(30)]
    assert ids(recall(g.view(), "harbor", depth=0, limit=40)) == ids(tied)


# -- 7. past views --------------------------------------------------------------------------


@pytest.mark.parametrize("merged", [False, True])
def test_past_view_never_reaches_later_links(merged: bool) -> None:
    g = Graph()
    g.memory("old", ["zebra"])
    seq_old = g.p.seq
    g.memory("new", ["zebra", "violin"])
    seq_new = g.p.seq
    g.fold(
        ev.MemoryEdited(  # old loses its zebra link (synapse 0) and links to glacier
            fiber_id="old",
            text="old: glacier",
            first_neuron=g.p.neuron_count,
            removed=[g.synapses["old"][0]],
            neurons=[ev.NeuronSpec(CONCEPT, key("glacier"), "glacier")],
            link_targets=[g.p.neuron_count],
            link_types=[RELATED],
            link_weights=[1.0],
        )
    )
    if merged:  # rows in the CSR: past views cut them by binary search, not in the tail
        g.p.sync_graph(force=True)

    past = g.view(seq_old)
    act = spread(past, g.words("zebra"), ones, SpreadParams(hops=3))
    assert act.anchor_degree.tolist() == [1]  # new's link to zebra is later than the view
    assert act.nodes.max() < past.neurons
    assert ids(recall(past, "zebra violin")) == ["old"]
    assert ids(recall(g.view(seq_new), "zebra violin")) == ["new", "old"]
    assert ids(recall(g.view(seq_new), "glacier")) == []
    live = g.view()
    assert ids(recall(live, "zebra")) == ["new"]  # the edit cut old's zebra link
    assert ids(recall(live, "glacier")) == ["old"]


# -- 8. decay and effective weights -----------------------------------------------------------


def test_decay_retention_by_type_pinned_and_reinforcement() -> None:
    codes = np.arange(len(MEMORY_TYPES), dtype=np.int8)
    k = len(codes)
    now = 10 * DAY_US + 59 * 60 * 1_000_000  # taken at the hour: exactly 10 days
    clock, times = np.ones(k, dtype=np.int32), np.zeros(1, dtype=np.int64)  # seq 1, at time 0
    count = np.zeros(k, dtype=np.uint16)
    kept = retention(clock, times, count, codes, np.zeros(k, dtype=bool), now)
    rates = [RATE_PER_DAY[t] for t in MEMORY_TYPES]
    assert kept.tolist() == pytest.approx([math.exp(-r * 10) for r in rates])
    by_type = dict(zip(MEMORY_TYPES, kept.tolist(), strict=True))
    assert by_type[MemoryType.CONTEXT] < by_type[MemoryType.TODO] < by_type[MemoryType.FACT]
    assert by_type[MemoryType.FACT] < by_type[MemoryType.REFERENCE] < 1.0
    assert retention(clock, times, count, codes, np.ones(k, dtype=bool), now).tolist() == [1.0] * k
    context = np.full(3, MEMORY_TYPES.index(MemoryType.CONTEXT), dtype=np.int8)
    counts = np.asarray([0, 1, 3], dtype=np.uint16)
    slowed = retention(clock[:3], times, counts, context, np.zeros(3, bool), now)
    assert slowed.tolist() == pytest.approx([math.exp(-0.05 * 10 / (1 + c)) for c in counts])
    assert slowed[0] < slowed[1] < slowed[2]


def test_weights_zero_for_hidden_memories_and_pruned_links() -> None:
    g = Graph()
    g.memory("kept", ["zebra"], weights=[0.6])
    g.memory("forgotten", ["zebra"])
    g.memory("erased", ["zebra"])
    g.memory("pruned", ["zebra"])
    g.memory("expired", ["zebra"], expires_at=T0 + DAY_US)
    g.memory("pinned", ["zebra"], memory_type="context")
    g.memory("reinforced", ["zebra"], memory_type="context")
    g.memory("plain", ["zebra"], memory_type="context")
    before = g.p.seq
    g.fold(ev.MemoryForgotten("forgotten"))
    g.fold(ev.MemoryErased("erased", by="test", neurons=[], synapses=[*g.synapses["erased"]]))
    g.fold(ev.DecayApplied(pruned=[*g.synapses["pruned"]], fiber_ids=["pruned"]))
    g.fold(ev.MemoryPinned("pinned"))
    g.fold(ev.SynapsesReinforced(synapses=[*g.synapses["reinforced"]], weights=[1.0]))

    def weight(view: View, name: str, **kw: bool) -> float:
        (syn,) = g.synapses[name]
        return float(view.weights(**kw)[syn])

    later = T0 + 20 * DAY_US
    live, past = g.view(time=later), g.view(before, time=later)
    assert weight(live, "kept") == pytest.approx(0.6 * math.exp(-0.002 * 20), rel=1e-6)
    for name in ("forgotten", "erased", "pruned", "expired"):
        assert weight(live, name) == 0.0, name
    assert weight(live, "expired", include_expired=True) > 0
    assert weight(past, "forgotten") > 0  # forgotten and pruned later than this view
    assert weight(past, "pruned") > 0
    assert weight(past, "erased") == 0.0  # erase rewrites the past
    assert weight(live, "pinned") == 1.0  # pinned: no decay
    assert weight(past, "pinned") == pytest.approx(math.exp(-0.05 * 20), rel=1e-6)
    assert weight(live, "reinforced") == pytest.approx(math.exp(-0.05 * 20 / 2), rel=1e-6)
    assert weight(live, "plain") == pytest.approx(math.exp(-0.05 * 20), rel=1e-6)

    found = set(ids(recall(live, "zebra", limit=20)))
    assert found == {"kept", "pinned", "reinforced", "plain"}
    wider = recall(live, "zebra", limit=20, filters=Filters(include_expired=True))
    assert set(ids(wider)) == found | {"expired"}


def test_include_expired_finds_expired_memories_that_outnumber_visible_ones(
    tmp_path: Path,
) -> None:
    clock = Clock()
    with Store(tmp_path / "s", clock=clock) as store:
        brain = store.brain("t")
        brain.remember_many(
            [
                MemoryInput("zebra sighting at the harbor", expires_in_days=1),
                MemoryInput("zebra stripes photographed", expires_in_days=1),
                MemoryInput("violin lesson"),
            ]
        )
        clock.advance(2)
        assert brain.recall("zebra").memories == []  # expired: hidden by default
        found = {m.memory.text for m in brain.recall("zebra", include_expired=True).memories}
    assert found >= {"zebra sighting at the harbor", "zebra stripes photographed"}


# -- 9. confidence and context ----------------------------------------------------------------


def test_confidence_zero_without_anchors_and_empty_context() -> None:
    g = Graph()
    g.memory("m", ["zebra"])
    result = recall(g.view(), "qwertyuiop")
    assert result.memories == []
    assert result.confidence == 0.0
    assert result.context == ""
    assert result.anchors == []


def evidence(covered: float) -> float:
    return 1.0 - math.exp(-covered / EVIDENCE_SCALE)


def test_confidence_near_one_when_top_memory_links_every_distinctive_anchor() -> None:
    g = Graph()
    g.memory("both", ["zebra", "violin"])
    for i in range(50):
        g.memory(f"filler{i}", [f"word{i}"])
    g.memory("one", ["violin"])
    covered = bm25_idf(1, 52) + bm25_idf(2, 52)
    assert recall(g.view(), "zebra violin").confidence == pytest.approx(evidence(covered), abs=1e-4)
    assert recall(g.view(), "zebra violin").confidence > 0.95


def test_one_common_word_shared_is_little_evidence() -> None:
    """ "how do I release?" against memories that mention a release: all of the question is
    covered, but by one word that a fifth of the brain has."""
    g = Graph()
    for i in range(2):
        g.memory(f"release{i}", ["release", f"other{i}"])
    for i in range(8):
        g.memory(f"filler{i}", [f"word{i}"])
    result = recall(g.view(), "release")
    assert result.confidence == pytest.approx(evidence(bm25_idf(2, 10)), abs=1e-4)
    assert result.confidence < 0.6


def test_confidence_lower_for_unknown_words_and_unlinked_anchors() -> None:
    g = Graph()
    g.memory("common", ["violin"])
    for i in range(5):
        g.memory(f"filler{i}", ["violin"])
    g.memory("rare", ["zebra"])
    # one known word, linked by the top memory, and one unknown word (counted at top idf)
    zebra = bm25_idf(1, 7)
    assert recall(g.view(), "zebra qwertyuiop").confidence == pytest.approx(
        0.5 * evidence(zebra), abs=1e-4
    )
    # top memory links zebra, not violin: the share of the idf-weighted cue it covers
    expected = zebra / (zebra + bm25_idf(6, 7)) * evidence(zebra)
    assert recall(g.view(), "zebra violin").confidence == pytest.approx(expected, abs=1e-4)


def test_context_fits_max_tokens() -> None:
    g = Graph()
    for i in range(6):
        text = f"Note {i}: the zebra crossed the harbor bridge at dawn, carrying walnut crates."
        g.memory(f"m{i}", ["zebra"], text=text)
    view = g.view()
    full = recall(view, "zebra", max_tokens=10_000)
    assert all(m.memory.text in full.context for m in full.memories)
    for budget in range(1, 120, 3):
        result = recall(view, "zebra", max_tokens=budget)
        assert count_tokens(result.context) <= budget, budget
        assert result.context == assemble_context(result.memories, budget)
    assert count_tokens("Hello, world!") == 4
    assert assemble_context([], 100) == ""


# -- 10. intent and memory type rules -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Bob fixed the login bug", MemoryType.ERROR),  # "fixed" is not the imperative "fix"
        ("Her address is 12 Elm Street", MemoryType.FACT),  # "address" is not "add"
        ("The debugger shipped on time", MemoryType.FACT),  # "debugger" is not "bug"
        ("The mustard was great", MemoryType.FACT),  # "mustard" is not "must"
        ("Add retries to the webhook", MemoryType.TODO),
        ("We decided to use PostgreSQL", MemoryType.DECISION),
    ],
)
def test_memory_type_rules_are_word_bounded(text: str, kind: MemoryType) -> None:
    assert detect_memory_type(text) is kind


@pytest.mark.parametrize(
    ("query", "intent"),
    [
        ("Why did the build fail?", Intent.WHY),
        ("Did the build fail?", Intent.RECALL),  # "fail" holds "ai" (who), as a substring
        ("Show me the fairground photos", Intent.RECALL),
        ("Who fixed the bug?", Intent.WHO),
        ("What time is standup?", Intent.WHEN),
        ("How do I deploy?", Intent.HOW),
    ],
)
def test_intent_rules_are_word_bounded(query: str, intent: Intent) -> None:
    assert detect_intent(query) is intent


def test_intent_sets_depth() -> None:
    assert set(INTENT_DEPTH) == set(Intent)
    assert all(0 <= d <= 3 for d in INTENT_DEPTH.values())
    assert INTENT_DEPTH[Intent.WHY] == 3
    assert INTENT_DEPTH[Intent.WHAT] == 1
    g = Graph()
    g.memory("m", ["build"])
    for query in ("Why did the build fail?", "How was the build?", "Did the build fail?"):
        result = recall(g.view(), query)
        assert result.intent == detect_intent(query).value
        assert result.depth == INTENT_DEPTH[detect_intent(query)]
    assert recall(g.view(), "Why did the build fail?", depth=0).depth == 0


def test_memory_type_through_public_api(tmp_path: Path) -> None:
    with Store(tmp_path / "s") as store:
        brain = store.brain("t")
        assert brain.remember("Bob fixed the login bug").memory_type is MemoryType.ERROR
        assert brain.remember("Her address is 12 Elm Street").memory_type is MemoryType.FACT
