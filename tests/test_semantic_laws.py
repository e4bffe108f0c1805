"""The core laws with the semantic layer on (hypothesis): replay equals the live projection,
and a view at seq S answers like a brain that saw only events 1..S, across model switches,
backfills, edits and erasures; also with the coarse-to-fine search forced on these small
brains (2 anchors from 3 candidates chosen on a 4-dimension prefix), whose choice must be
a function of the rows a view sees."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from unittest.mock import patch

import pytest
from helpers import replayed
from hypothesis import given
from hypothesis import strategies as st
from test_properties import QUERIES, SETTINGS, _fresh_store, batches

from engine import Brain, MemoryInput, Store
from engine.projection import state_bytes
from engine.retrieval import recall
from engine.semantic import hybrid, vectors

from fake_embedder import fake_model  # isort: skip

STEPS = st.lists(st.sampled_from(["enable", "enable16", "disable", "edit", "erase", "rebuild"]))


def _build(
    history: list[list[MemoryInput]], steps: list[str]
) -> tuple[tempfile.TemporaryDirectory[str], Store, Brain]:
    tmp, store = _fresh_store()
    brain = store.brain("p")
    for i, batch in enumerate(history):
        done = brain.remember_many(batch)
        step = steps[i] if i < len(steps) else None
        if step == "enable":
            brain.semantic_enable("fake-64")
        elif step == "enable16":
            brain.semantic_enable("fake-16")
        elif step == "disable":
            brain.semantic_disable()
        elif step == "rebuild" and brain.semantic()["model"]:
            brain.semantic_rebuild()
        elif step == "edit" and not done[0].duplicate:
            brain.edit(done[0].id, text="the wedding of Alice in Lisbon")
        elif step == "erase" and brain.get(done[-1].id).status != "erased":
            brain.erase(done[-1].id)
    return tmp, store, brain


@SETTINGS
@given(batches, STEPS)
def test_replay_equals_live_with_the_layer(
    history: list[list[MemoryInput]], steps: list[str]
) -> None:
    with fake_model(), fake_model("fake-16", 16):
        tmp, store, brain = _build(history, steps)
        with tmp, store:
            assert state_bytes(replayed(store, brain.id)) == state_bytes(brain._refreshed())


@contextmanager
def _coarse() -> Iterator[None]:
    with (
        patch.multiple(vectors, PREFIX=4, CANDIDATES=3, FAST_FROM=0),
        patch.object(hybrid, "NEIGHBOURS", 2),
    ):
        yield


@pytest.mark.parametrize("coarse", [False, True], ids=["exact", "coarse"])
@SETTINGS
@given(batches, STEPS, st.data())
def test_view_at_seq_equals_a_brain_that_only_saw_events_up_to_it_with_the_layer(
    coarse: bool, history: list[list[MemoryInput]], steps: list[str], data: st.DataObject
) -> None:
    with fake_model(), fake_model("fake-16", 16), _coarse() if coarse else nullcontext():
        tmp, store, brain = _build(history, steps)
        with tmp, store:
            seq = data.draw(st.integers(min_value=0, max_value=brain.seq), label="seq")
            past = brain.at(seq)
            partial = replayed(store, brain.id, upto=seq)
            alone = partial.view(partial.seq, int(past.time.timestamp() * 1_000_000))
            for query in [
                *QUERIES,
                "marriage ceremony",
                "dogs wearing costumes",
                "Alice in Lisbon",
            ]:
                got = past.recall(query, limit=20)
                want = recall(alone, query, limit=20, probe=hybrid.probe(alone, query))
                assert [(m.memory.id, round(m.score, 9)) for m in got.memories] == [
                    (m.memory.id, round(m.score, 9)) for m in want.memories
                ]
                assert got.confidence == want.confidence
            assert past.semantic()["model"] == (partial.model_at(seq)[0] or None)
