"""The round-trip laws every target keeps, on random histories (hypothesis):

- a target exported as of T holds exactly `brain.at(T)` (memories, types, statuses, links and
  their effective weights), read back with the target's own query language;
- exporting in several runs (incrementally, at random moments) ends where one full export
  does, and a re-run with nothing new changes nothing;
- an erase reaches a target that already held the memory.
"""

from __future__ import annotations

import random
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import Clock
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from readback import Shape, expected, falkordb_shape, same, sqlite_shape
from test_transfer import ops, run_ops

from engine import Brain, Store
from engine.exporters import open_target
from engine.exporters.base import Target
from engine.exporters.sync import export

# `kind` hands out a fresh target each time it is asked, so sharing it across examples is safe
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


class SqliteKind:
    """Fresh SQLite targets in a temporary directory, read back with SQL."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0

    def new(self) -> tuple[Callable[[], Target], Callable[[str], Shape]]:
        self.count += 1
        path = self.folder / f"t{self.count}.db"
        return (lambda: open_target("sqlite", output=str(path))), (
            lambda brain_id: sqlite_shape(path, brain_id)
        )


class FalkorKind:
    """Fresh graphs on the session's FalkorDB server, read back with Cypher."""

    count = 0

    def __init__(self, url: str) -> None:
        self.url = url

    def new(self) -> tuple[Callable[[], Target], Callable[[str], Shape]]:
        FalkorKind.count += 1
        graph = f"g{FalkorKind.count}"
        return (lambda: open_target("falkordb", url=self.url, graph=graph)), (
            lambda brain_id: falkordb_shape(self.url, graph, brain_id)
        )


@pytest.fixture(params=["sqlite", "falkordb"])
def kind(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if request.param == "falkordb":
        return FalkorKind(request.getfixturevalue("falkordb_url"))
    return SqliteKind(tmp_path)


def _brain(folder: str, clock: Clock, steps: list[tuple[Any, ...]]) -> tuple[Store, Brain]:
    store = Store(Path(folder) / "store", clock=clock)
    brain = store.brain("work")
    run_ops(store, brain, clock, steps)
    return store, brain


def _run(opener: Callable[[], Target], brain: Brain, **kw: Any) -> dict[str, Any]:
    target = opener()
    try:
        return export(brain, target, **kw)
    finally:
        target.close()


@SETTINGS
@given(steps=ops, where=st.floats(0, 1), chunk=st.sampled_from([1, 3, 4096]))
def test_a_target_as_of_t_holds_the_brain_at_t(
    kind: Any, steps: list[tuple[Any, ...]], where: float, chunk: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        clock = Clock()
        store, brain = _brain(tmp, clock, steps)
        try:
            seq = max(1, round(where * brain.seq))
            opener, read = kind.new()
            _run(opener, brain, at=seq, chunk=chunk)
            same(read(brain.id), expected(brain.at(seq)))
        finally:
            store.close()


@SETTINGS
@given(steps=ops, more=ops, cuts=st.lists(st.floats(0, 1), max_size=4), seed=st.integers(0, 99))
def test_incremental_runs_end_where_one_full_export_does(
    kind: Any, steps: list[tuple[Any, ...]], more: list[tuple[Any, ...]], cuts: list[float],
    seed: int,
) -> None:  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        clock = Clock()
        store, brain = _brain(tmp, clock, steps)
        try:
            opener, read = kind.new()
            for cut in sorted(cuts):  # as-of runs at increasing seqs...
                _run(opener, brain, at=max(1, round(cut * brain.seq)), chunk=5)
            _run(opener, brain, chunk=random.Random(seed).choice([2, 7, 4096]))
            run_ops(store, brain, clock, more)  # ... then more happens, time passes
            clock.advance(3)
            _run(opener, brain)
            full_opener, full_read = kind.new()
            _run(full_opener, brain)
            want = expected(brain)
            same(read(brain.id), want)
            same(full_read(brain.id), want)
            again = _run(opener, brain)  # nothing new: nothing changes
            assert again["memories"] == again["links"] == again["links_removed"] == 0
            same(read(brain.id), want)
        finally:
            store.close()


def test_an_erase_reaches_a_target_that_held_the_memory(kind: Any, store: Store) -> None:
    brain = store.brain("work")
    secret = brain.remember("Zanzibar-Quokka holds the vault keys for payments").id
    brain.remember("payments moved to postgres on tuesday")
    opener, read = kind.new()
    _run(opener, brain)
    assert read(brain.id)[0][secret][0].startswith("Zanzibar")
    brain.erase(secret)
    report = _run(opener, brain)
    assert report["erased"] == 1
    memories, links = read(brain.id)
    assert memories[secret] == (None, None, "erased", None, [])
    assert not any(row[0] == secret for row in links.values())
    same(read(brain.id), expected(brain))


def test_an_erase_after_the_moment_exported_still_removes_the_text(kind: Any, store: Store) -> None:
    """An erase rewrites the past: a target brought to a moment before the erase, after it
    happened, holds no text of it either."""
    brain = store.brain("work")
    secret = brain.remember("Zanzibar-Quokka holds the vault keys").id
    opener, read = kind.new()
    _run(opener, brain)
    brain.remember("payments moved to postgres")
    middle = brain.seq
    brain.erase(secret)
    _run(opener, brain, at=middle)
    assert read(brain.id)[0][secret][2] == "erased"
    same(read(brain.id), expected(brain.at(middle)))


def test_two_brains_share_one_sqlite_file(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "both.db"
    for name in ("work", "home"):
        store.brain(name).remember(f"{name} memory about payments")
        _run(lambda: open_target("sqlite", output=str(path)), store.brain(name))
    db = sqlite3.connect(path)
    assert sorted(r[0] for r in db.execute("SELECT name FROM brains")) == ["home", "work"]
    assert db.execute("SELECT count(*) FROM export_positions").fetchone() == (2,)


def test_a_brain_on_postgresql_exports_the_same_way(postgres: Any, tmp_path: Path) -> None:
    """Exporters read through the feed, whichever backend holds the log."""
    clock = Clock()
    with Store(postgres.new_store(), clock=clock) as store:
        brain = store.brain("work")
        run_ops(store, brain, clock, [("remember", "alice payments postgresql", "fact", ("a",)),
                                      ("remember", "bob redis crash", None, ()),
                                      ("recall", "alice payments"), ("time", 3.0)])  # fmt: skip
        opener, read = SqliteKind(tmp_path).new()
        _run(opener, brain)
        same(read(brain.id), expected(brain))
        secret = brain.remember("Zanzibar-Quokka holds the vault").id
        _run(opener, brain)
        brain.erase(secret)
        report = _run(opener, brain)
        assert report["erased"] == 1
        same(read(brain.id), expected(brain))
