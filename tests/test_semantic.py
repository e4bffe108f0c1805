"""The semantic layer with a deterministic fake embedder: vectors in events, replay without
the model, edits re-embed, erase zeroes every copy, model switches as events, fallbacks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from unittest.mock import patch

import numpy as np
import pytest
from fake_embedder import FakeEmbedder, fake_model
from helpers import replayed
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import Brain, MemoryInput, Store
from engine import events as ev
from engine.errors import InputError, IntegrityError, OperationalError
from engine.fold import apply
from engine.projection import state_bytes
from engine.retrieval import recall
from engine.semantic import hybrid, registry, vectors
from engine.semantic.base import quantize

TEXTS = [
    "Caroline went to the benefit basketball game on Friday",
    "Melanie dresses up her dogs in little hats",
    "My sister got married in June",
    "The quarterly report is due next week",
]


@pytest.fixture
def fake() -> Iterator[FakeEmbedder]:
    with fake_model() as f:
        yield f


def texts(result: object) -> list[str]:
    return [m.memory.text for m in result.memories]  # type: ignore[attr-defined]


def test_neighbours_in_meaning_close_a_vocabulary_gap(store: Store, fake: FakeEmbedder) -> None:
    brain = store.brain("gap")
    brain.remember_many([MemoryInput(text=t) for t in TEXTS])
    assert "My sister got married in June" not in texts(brain.recall("who had a wedding?"))
    status = brain.semantic_enable("fake-64")
    assert (status["model"], status["embedded"], status["missing"]) == ("fake-64", 4, 0)
    assert texts(brain.recall("who had a wedding?"))[0] == "My sister got married in June"
    assert texts(brain.recall("a charity fundraiser"))[0] == TEXTS[0]
    got = brain.recall("who had a wedding?")
    assert 0 < got.confidence <= 1
    # a past view before the layer answers as the brain did then: lexically
    assert "My sister got married in June" not in texts(brain.at(5).recall("who had a wedding?"))


def test_the_question_s_vector_leaves_out_names_most_memories_carry(
    store: Store, fake: FakeEmbedder
) -> None:
    """A conversation's speakers are named in every turn: the probe's vector is mostly the
    question without them (the words match them), rarer names stay."""
    brain = store.brain("names")
    brain.semantic_enable("fake-64")
    said = [f"Alice: {t}" for t in TEXTS] + ["Bob: the office in Lisbon"]
    brain.remember_many(
        [MemoryInput(text=t) for t in said + [f"Alice: note {i}" for i in range(40)]]
    )
    question = "When did Alice's sister visit Bob in Lisbon?"
    with brain.state() as view:
        assert hybrid.meaning(view, question) == "When did   sister visit Bob in Lisbon?"
        assert hybrid.meaning(view, "the quarterly report") == "the quarterly report"
        got = hybrid.probe(view, question)
        centre = hybrid.centre(view, "fake-64")
    assert got is not None
    assert centre is not None
    assert got.centre is not None
    assert got.centre[0].tolist() == centre[0].tolist()
    assert got.centre[1] == centre[1]
    plain, named = fake.embed(["When did sister visit Bob in Lisbon?", question])
    mixed = (1 - hybrid.NAMES) * plain + hybrid.NAMES * named
    want, scale = vectors.about(mixed[None, :], centre)
    assert got.vector.tolist() == want[0].tolist()
    assert got.scale == pytest.approx(float(scale[0]))


def layered(store: Store, name: str) -> Brain:
    """A brain with the fake model on from the start, holding TEXTS."""
    brain = store.brain(name)
    brain.semantic_enable("fake-64")
    brain.remember_many([MemoryInput(text=t) for t in TEXTS])
    return brain


def test_vectors_travel_in_the_events_and_replay_never_runs_the_model(
    store: Store, fake: FakeEmbedder
) -> None:
    brain = layered(store, "ev")
    with store.log.reader() as r:
        encoded = [
            e.body for e in r.events(brain.id, 0, None) if isinstance(e.body, ev.MemoryEncoded)
        ]
    want, scales = quantize(fake.embed([b.text for b in encoded]))
    assert [b.vector for b in encoded] == [row.tobytes() for row in want]
    assert [b.vector_scale for b in encoded] == pytest.approx(scales.tolist())
    calls = fake.calls
    live = state_bytes(brain._refreshed())
    registry.unregister("fake-64")  # no model at all: replay still gives the same state
    assert state_bytes(replayed(store, brain.id)) == live
    assert fake.calls == calls


def test_an_edit_re_embeds_and_a_past_view_keeps_the_old_meaning(
    store: Store, fake: FakeEmbedder
) -> None:
    brain = store.brain("edit")
    brain.semantic_enable("fake-64")
    first = brain.remember("Melanie dresses up her dogs in little hats")
    brain.remember("The quarterly report is due next week")
    before = brain.seq
    brain.edit(first.id, text="Melanie planned the wedding")
    assert texts(brain.recall("married"))[0] == "Melanie planned the wedding"
    assert "Melanie" not in " ".join(texts(brain.recall("costumes for pets")))
    past = brain.at(before)
    assert (
        texts(past.recall("costumes for pets"))[0] == "Melanie dresses up her dogs in little hats"
    )
    assert state_bytes(replayed(store, brain.id)) == state_bytes(brain._refreshed())
    assert brain.semantic()["embedded"] == 2


def test_erase_zeroes_the_vector_in_the_log_and_in_every_file(
    store_path: Path, fake: FakeEmbedder
) -> None:
    secret = "Zorblax hats for the dogs"
    with Store(store_path) as store:
        brain = store.brain("erase")
        brain.semantic_enable("fake-64")
        keep = brain.remember("The quarterly report is due next week")
        gone = brain.remember(secret)
        brain.edit(gone.id, text=secret + " and puppies")
        brain.semantic_rebuild()  # a memories_embedded record holding it too
        rows = [r.tobytes() for r in quantize(fake.embed([secret, secret + " and puppies"]))[0]]
        brain.checkpoint()
        brain.erase(gone.id)
        with store.log.reader() as r:
            for env in r.events(brain.id, 0, None):
                body = env.body
                if (
                    isinstance(body, ev.MemoryEncoded | ev.MemoryEdited)
                    and body.fiber_id == gone.id
                ):
                    assert body.vector == bytes(64)
                    assert body.vector_scale == 0.0
                if isinstance(body, ev.MemoriesEmbedded):
                    i = body.fiber_ids.index(gone.id)
                    assert body.vectors[64 * i : 64 * (i + 1)] == bytes(64)
        assert all(m.memory.id != gone.id for m in brain.recall("costumes for pets").memories)
        live = state_bytes(brain._refreshed())
        assert state_bytes(replayed(store, brain.id)) == live
        store.compact()
    for path in store_path.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for row in rows:
                assert row not in data, f"an erased vector is in {path}"
    with Store(store_path) as store:
        brain = store.brain("erase")
        assert state_bytes(brain._refreshed()) == live
        assert [m.memory.id for m in brain.recall("quarterly report").memories] == [keep.id]


def test_switching_models_is_an_event_and_past_views_keep_their_model(
    store: Store, fake: FakeEmbedder
) -> None:
    brain = layered(store, "switch")
    on_a = brain.seq
    with fake_model("fake-16", 16):
        status = brain.semantic_enable("fake-16")
        assert (status["model"], status["dims"], status["embedded"]) == ("fake-16", 16, 4)
        kinds = [h.type for h in brain.history()]
        assert kinds.count("semantic_model_set") == 2
        assert brain.at(on_a).semantic()["model"] == "fake-64"
        assert texts(brain.recall("who had a wedding?"))[0] == "My sister got married in June"
        off = brain.semantic_disable()
        assert off["model"] is None
        assert off["switched"]
        assert brain.semantic_disable()["switched"] is False
        assert "My sister got married in June" not in texts(brain.recall("who had a wedding?"))
        assert brain.at(on_a).semantic()["dims"] == 64
        assert state_bytes(replayed(store, brain.id)) == state_bytes(brain._refreshed())


def test_without_the_layer_recall_is_unchanged(store: Store, fake: FakeEmbedder) -> None:
    plain, layered = store.brain("plain"), store.brain("layered")
    when = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)  # one event time: the priors agree exactly
    for brain in (plain, layered):
        brain.remember_many([MemoryInput(text=t, event_time=when) for t in TEXTS])
    layered.semantic_enable("fake-64")
    layered.semantic_disable()
    now = store.now()  # both read at one moment: the recency prior depends on it
    for query in ("benefit game", "dogs", "report next week", "who had a wedding?"):
        views = [b._refreshed().view(b._refreshed().seq, now) for b in (plain, layered)]
        assert hybrid.probe(views[1], query) is None
        a, b = (recall(v, query) for v in views)
        assert [(m.memory.text, m.score) for m in a.memories] == [
            (m.memory.text, m.score) for m in b.memories
        ]
        assert a.confidence == b.confidence


def test_a_model_this_process_cannot_load_refuses_writes_and_reads_lexically(
    store: Store, fake: FakeEmbedder
) -> None:
    brain = store.brain("missing")
    brain.semantic_enable("fake-64")
    brain.remember("Melanie dresses up her dogs in little hats")

    def broken() -> FakeEmbedder:
        raise ImportError("no module named 'model2vec'", name="model2vec")

    registry.register("fake-64", broken)
    with pytest.raises(OperationalError, match=r"pip install 'neuralmemory\[semantic\]'"):
        brain.remember("another one")
    assert texts(brain.recall("dogs")) == ["Melanie dresses up her dogs in little hats"]
    assert brain.semantic()["available"] is False
    with pytest.raises(InputError, match="unknown embedding model"):
        brain.semantic_enable("no-such-model")
    with pytest.raises(InputError, match="must be 1-64"):
        registry.register("Bad Id!", broken)


def test_vector_records_that_do_not_fit_are_refused(store: Store, fake: FakeEmbedder) -> None:
    brain = store.brain("bad")
    brain.remember("hello world")
    p = brain._refreshed()
    fid = p.f_id[0]
    env = ev.Envelope(seq=p.seq + 1, t=1, cid="x", body=ev.MemoriesEmbedded(
        model="fake-64", fiber_ids=[fid], vectors=bytes(64), scales=[0.1]))  # fmt: skip
    with pytest.raises(IntegrityError, match="not the brain's model"):
        apply(p, env)
    brain.semantic_enable("fake-64")
    p = brain._refreshed()
    for body in (
        ev.MemoriesEmbedded(model="fake-64", fiber_ids=[fid], vectors=bytes(63), scales=[0.1]),
        ev.MemoriesEmbedded(
            model="fake-64", fiber_ids=[fid, fid], vectors=bytes(128), scales=[0.1, 0.1]
        ),
        ev.SemanticModelSet(model="fake-64", dims=16),
        ev.MemoriesEmbedded(
            model="fake-64", fiber_ids=[fid], vectors=bytes(64), scales=[float("nan")]
        ),
    ):
        with pytest.raises(IntegrityError, match=r"dims|differ|dimensions|scale"):
            apply(p, ev.Envelope(seq=p.seq + 1, t=1, cid="x", body=body))


def test_quantize_keeps_the_ranking_and_zero_rows() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((50, 64)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    x[3] = 0
    rows, scale = quantize(x)
    assert rows.dtype == np.int8
    assert scale[3] == 0
    assert not rows[3].any()
    approx = rows.astype(np.float32) * scale[:, None]
    assert np.abs(approx - x).max() <= scale.max() / 2 + 1e-7
    q = x[7]
    assert int(np.argmax(approx @ q)) == int(np.argmax(x @ q)) == 7


def test_a_history_with_vectors_round_trips_through_json(store: Store, fake: FakeEmbedder) -> None:
    import json

    source = store.brain("source")
    source.remember_many([MemoryInput(text=t) for t in TEXTS[:2]])
    source.semantic_enable("fake-64")
    source.remember_many([MemoryInput(text=t) for t in TEXTS[2:]])
    lines = [json.loads(json.dumps(r)) for r in source.export_history()]
    calls = fake.calls
    copy = store.brain("copy")
    copy.import_history(lines)
    assert fake.calls == calls  # the vectors came with the events
    mine, theirs = copy._refreshed(), source._refreshed()
    assert {m: (s.arrays()["rows"].tobytes(), s.arrays()["fiber"].tolist())
            for m, s in mine.vectors.items()} == {
        m: (s.arrays()["rows"].tobytes(), s.arrays()["fiber"].tolist())
        for m, s in theirs.vectors.items()}  # fmt: skip
    assert texts(copy.recall("who had a wedding?"))[0] == "My sister got married in June"


def _store(rows: np.ndarray, scale: np.ndarray) -> vectors.VectorStore:
    store = vectors.VectorStore(rows.shape[1])
    n = len(rows)
    store.add(np.arange(n), np.arange(1, n + 1), rows.tobytes(), scale.tolist(),
              np.zeros(n, dtype=bool))  # fmt: skip
    return store


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 300),
    dims=st.sampled_from([8, 32, 96]),
    prefix=st.sampled_from([4, 16, 64]),
    k=st.integers(1, 25),
    wanted=st.integers(1, 320),
)
def test_the_coarse_search_misses_only_rows_its_prefix_ranks_below_the_candidates(
    seed: int, n: int, dims: int, prefix: int, k: int, wanted: int
) -> None:
    """The fast search returns exact cosines of allowed rows, the exact top-k when its
    candidates cover every allowed row, and otherwise misses an exact top-k row only if that
    row's prefix cosine (recomputed in int64) is below the last candidate's."""
    rng = np.random.default_rng(seed)
    decay = np.exp(-np.arange(dims) / 12).astype(np.float32)  # leading dimensions carry most
    unit = rng.standard_normal((n + 1, dims)).astype(np.float32) * decay
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    rows, scale = quantize(unit[:n])
    q, q_scale = quantize(unit[n:])
    ok = rng.random(n) < 0.8
    with patch.multiple(vectors, PREFIX=prefix, CANDIDATES=wanted, FAST_FROM=0):
        store = _store(rows, scale)
        got, sims = vectors.nearest(store, n, ok, q[0], float(q_scale[0]), k)
        wanted = vectors.candidates(n)
    exact = vectors.similarities(store, n, q[0], float(q_scale[0]))
    allowed = np.flatnonzero(ok)
    assert np.all(ok[got])
    assert len(set(got.tolist())) == len(got) == min(k, len(allowed))
    assert np.array_equal(sims, exact[got])
    best = allowed[np.argsort(-exact[allowed], kind="stable")][:k]
    if wanted >= len(allowed) or wanted <= k:
        assert np.array_equal(np.sort(sims), np.sort(exact[best]))
        return
    width = min(prefix, dims)
    head = (rows[:, :width].astype(np.int64) @ q[0, :width].astype(np.int64)) * scale
    last = np.sort(head[allowed])[::-1][wanted - 1]
    kth = np.sort(sims)[0]
    for row in best:
        if row not in got and exact[row] > kth:
            assert head[row] < last


def test_the_coarse_search_is_exact_integers_and_erase_zeroes_its_copy() -> None:
    """The float32 prefix holds the int8 values themselves, grows with the rows, and an erase
    zeroes the erased memory's rows in it as in the rows."""
    rng = np.random.default_rng(3)
    rows, scale = quantize(rng.standard_normal((500, 256)).astype(np.float32))
    store = _store(rows[:300], scale[:300])
    assert np.array_equal(store.prefix(300), rows[:300, : vectors.PREFIX].astype(np.float32))
    store.add(np.arange(300, 500), np.arange(301, 501), rows[300:].tobytes(),
              scale[300:].tolist(), np.zeros(200, dtype=bool))  # fmt: skip
    store.erase(7)
    store.erase(400)
    want = rows[:, : vectors.PREFIX].astype(np.float32)
    want[[7, 400]] = 0
    assert np.array_equal(store.prefix(500), want)
    assert not store.matrix(500)[400].any()


@settings(max_examples=100, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    steps=st.lists(st.sampled_from(["add", "supersede", "erase", "ask"]), max_size=30),
    block=st.sampled_from([1, 2, 3, 1024]),
)
def test_the_centre_is_the_sum_over_the_rows_live_at_any_seq(
    seed: int, steps: list[str], block: int
) -> None:
    """The rows' sum, from blocks kept as rows are added and erased, is to the bit the sum
    over the rows a view at any seq sees (so replay and past views centre alike), and over
    scale x row it is the mean of the vectors."""
    with patch.object(vectors, "BLOCK", block):
        _centre_steps(seed, steps)


def _centre_steps(seed: int, steps: list[str]) -> None:
    rng = np.random.default_rng(seed)
    store, seq, fibers = vectors.VectorStore(16), 0, 0
    unit = rng.standard_normal((4, 16)).astype(np.float32)
    rows, scale = quantize(unit / np.linalg.norm(unit, axis=1, keepdims=True))
    store.add(np.arange(4), np.arange(1, 5), rows.tobytes(), scale.tolist(), np.zeros(4, bool))
    seq, fibers = 4, 4
    store.centre(seq)  # blocks are summed from here on
    for step in steps:
        seq += 1
        if step == "add":
            unit = rng.standard_normal((2, 16)).astype(np.float32)
            new, sc = quantize(unit / np.linalg.norm(unit, axis=1, keepdims=True))
            erased = rng.random(2) < 0.2
            store.add(np.arange(fibers, fibers + 2), np.full(2, seq), new.tobytes(),
                      sc.tolist(), erased)  # fmt: skip
            fibers += 2
        elif step == "supersede":  # an edit: the memory's new row replaces its old one
            fiber = int(rng.integers(fibers))
            store.supersede(np.asarray([fiber]), np.asarray([seq]))
            unit = rng.standard_normal((1, 16)).astype(np.float32)
            new, sc = quantize(unit / np.linalg.norm(unit))
            store.add(np.asarray([fiber]), np.asarray([seq]), new.tobytes(), sc.tolist(),
                      np.zeros(1, bool))  # fmt: skip
        elif step == "erase":
            store.erase(int(rng.integers(fibers)))
        else:
            past = int(rng.integers(seq + 1))
            assert _centre_at(store, past) == _as_tuple(store.centre(past))
    assert _centre_at(store, seq) == _as_tuple(store.centre(seq))
    live = store.live(seq)
    total, count = store.centre(seq)
    if count:
        mean = (store.matrix(len(live))[live] * store.scale.values[: len(live)][live, None]).mean(0)
        assert np.allclose(total / count / 2.0**vectors.SCALE_BITS, mean, atol=1e-6)


def _as_tuple(got: tuple[np.ndarray, int]) -> tuple[list[int], int]:
    return got[0].tolist(), got[1]


def _centre_at(store: vectors.VectorStore, seq: int) -> tuple[list[int], int]:
    """The sum recomputed over the rows live at `seq`, in Python integers."""
    live = np.flatnonzero(store.live(seq))
    units = [round(float(s) * 2**vectors.SCALE_BITS) for s in store.scale.values[live]]
    rows = store.matrix(len(store))[live].astype(int).tolist()
    total = [sum(u * row[j] for u, row in zip(units, rows, strict=True)) for j in range(16)]
    return total, len(live)


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 200), k=st.integers(1, 25),
       coarse=st.booleans())  # fmt: skip
def test_cosines_about_the_centre_are_those_of_the_centred_vectors(
    seed: int, n: int, k: int, coarse: bool
) -> None:
    """`nearest` about a centre returns the cosines of (row - centre) with the query, exact
    or coarse to fine, and with candidates covering every row the exact top k."""
    rng = np.random.default_rng(seed)
    unit = rng.standard_normal((n + 2, 32)).astype(np.float32) + 1.5  # a shared direction
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    rows, scale = quantize(unit[:n])
    (c_row,), (c_scale,) = quantize(unit[n : n + 1] * 0.8)
    q = unit[n + 1] - c_row * c_scale
    (q_row,), (q_scale,) = quantize((q / np.linalg.norm(q))[None, :])
    ok = rng.random(n) < 0.8
    store = _store(rows, scale)
    with patch.multiple(vectors, FAST_FROM=0 if coarse else 10**9, CANDIDATES=n):
        got, sims = vectors.nearest(store, n, ok, q_row, float(q_scale), k,
                                    (c_row, float(c_scale)))  # fmt: skip
    x = rows.astype(np.float64) * scale[:, None] - c_row * float(c_scale)
    want = (x @ (q_row * float(q_scale))) / np.linalg.norm(x, axis=1)
    allowed = np.flatnonzero(ok)
    assert np.all(ok[got])
    assert len(got) == min(k, len(allowed))
    assert np.allclose(sims, want[got], atol=1e-5)
    if len(allowed):
        assert np.allclose(np.sort(sims), np.sort(want[allowed])[::-1][: len(got)][::-1],
                           atol=1e-5)  # fmt: skip
