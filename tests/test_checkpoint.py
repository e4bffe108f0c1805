"""Checkpoint integrity: opening checks the header and the index; each array is verified when a
column made of it is first used, and a damaged one is rebuilt from the log, so damaged bytes
never reach an answer."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import DataError, MemoryInput, Store
from engine import checkpoint as ckpt
from engine.projection import state_bytes

QUERY = "invoice batch for Acme"


class Built:
    """A store with one checkpoint (journals and all) and what a sound open must give."""

    def __init__(self, root: Path) -> None:
        self.store = root / "pristine"
        with Store(self.store) as s:
            brain = s.brain("t")
            ids = [r.id for r in brain.remember_many(
                [MemoryInput(f"Alice reviewed invoice batch {i} for Acme") for i in range(40)]
            )]  # fmt: skip
            for _ in range(40):  # journaled weights, counts and times
                brain.recall(QUERY)
            brain.flush()
            brain.edit(ids[0], text="Alice rejected invoice batch 0 for Acme")
            brain.forget(ids[1])
            brain.checkpoint()
            self.brain_id = brain.id
            self.live = state_bytes(brain._refreshed())
            self.answer = [m.memory.id for m in brain.recall(QUERY, reinforce=False).memories]
        (self.file,) = self.store.rglob("*.ckpt")
        self.bytes = self.file.read_bytes()
        index, base = ckpt._index(self.bytes, "pristine")
        self.arrays = {  # name -> (offset in the file, size)
            a.name: (base + a.offset, a.length * np.dtype(a.dtype).itemsize) for a in index.arrays
        }

    def copy(self, to: Path, damage: int | None = None) -> Path:
        """A copy of the store, its checkpoint with the byte at `damage` flipped."""
        shutil.rmtree(to, ignore_errors=True)
        shutil.copytree(self.store, to)
        if damage is not None:
            data = bytearray(self.bytes)
            data[damage] ^= 0x5A
            (to / self.file.relative_to(self.store)).write_bytes(bytes(data))
        return to


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return Built(tmp_path_factory.mktemp("checkpoint"))


def test_every_array_damaged_on_disk_is_rebuilt_from_the_log_when_used(
    built: Built, tmp_path: Path
) -> None:
    for name, (offset, size) in built.arrays.items():
        if not size:
            continue
        store = built.copy(tmp_path / "s", damage=offset + size // 2)
        with Store(store) as s:
            brain = s.brain("t")
            answer = [m.memory.id for m in brain.recall(QUERY, reinforce=False).memories]
            assert answer == built.answer, name
            assert state_bytes(brain._refreshed()) == built.live, name
        assert not list(store.rglob("*.ckpt")), f"{name}: the damaged checkpoint is removed"


def test_opening_verifies_only_what_it_reads(built: Built, tmp_path: Path) -> None:
    """Link decay clocks are not read to open a brain: their damage is found by the first
    recall, which then answers from the log's replay."""
    offset, size = built.arrays["s_clock"]
    store = built.copy(tmp_path / "s", damage=offset + size // 2)
    with Store(store) as s:
        brain = s.brain("t")
        assert brain.seq > 0
        assert list(store.rglob("*.ckpt")), "not read yet, so not found yet"
        assert [m.memory.id for m in brain.recall(QUERY, reinforce=False).memories] == (
            built.answer
        )
        assert not list(store.rglob("*.ckpt"))


def test_without_a_log_to_replay_a_damaged_column_is_refused_with_its_name(
    built: Built, tmp_path: Path
) -> None:
    offset, size = built.arrays["s_w"]
    data = bytearray(built.bytes)
    data[offset + size // 2] ^= 0x5A
    seq = int(built.file.stem)
    p = ckpt.load(bytes(data), "c.ckpt", built.brain_id, seq)
    assert len(p.s_w) > 0  # sizes need no data
    with pytest.raises(DataError, match="column s_w is corrupt"):
        p.s_w.values  # noqa: B018


@pytest.mark.parametrize("where", ["index", "version"])
def test_a_damaged_index_or_an_older_format_is_skipped_at_open(
    built: Built, tmp_path: Path, where: str
) -> None:
    at = ckpt._HEADER.size + 3 if where == "index" else 7  # the version's low byte
    store = built.copy(tmp_path / "s", damage=at)
    with Store(store) as s:
        assert state_bytes(s.brain("t")._refreshed()) == built.live
    assert not list(store.rglob("*.ckpt"))


def test_a_checkpoint_of_the_int64_link_columns_is_rebuilt_from_the_log_and_saved_anew(
    built: Built, tmp_path: Path
) -> None:
    """Version 6 held link clocks as times and counts and deaths as wider integers: such a
    checkpoint is skipped, the brain is the log's replay, and closing saves this version."""
    store = built.copy(tmp_path / "s")
    data = bytearray(built.bytes)
    data[6:8] = (6).to_bytes(2, "big")  # the header's projection version
    (store / built.file.relative_to(built.store)).write_bytes(bytes(data))
    with Store(store) as s:
        assert state_bytes(s.brain("t")._refreshed()) == built.live
        s.brain("t").checkpoint()
    (saved,) = store.rglob("*.ckpt")
    assert saved.read_bytes()[6:8] == ckpt.PROJECTION_VERSION.to_bytes(2, "big")
    assert ckpt.PROJECTION_VERSION > 6
    with Store(store) as s:
        assert state_bytes(s.brain("t")._refreshed()) == built.live
    assert list(store.rglob("*.ckpt")) == [saved]


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_whatever_byte_is_damaged_the_brain_equals_the_log_replay(
    built: Built, tmp_path: Path, data: st.DataObject
) -> None:
    at = data.draw(st.integers(0, len(built.bytes) - 1))
    store = built.copy(tmp_path / "s", damage=at)
    with Store(store) as s:
        brain = s.brain("t")
        assert [m.memory.id for m in brain.recall(QUERY, reinforce=False).memories] == (
            built.answer
        )
        assert state_bytes(brain._refreshed()) == built.live
