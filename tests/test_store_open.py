"""Opening a store: `create=False` creates nothing; what is not a store is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import InputError, MemoryInput, NotFoundError, Store


def files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_a_missing_store_is_not_created_by_a_read(tmp_path: Path) -> None:
    where = tmp_path / "typo" / "store"
    with pytest.raises(NotFoundError, match="no store at"):
        Store(where, create=False)
    assert not (tmp_path / "typo").exists()


def test_an_empty_directory_is_not_made_a_store_by_a_read(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="no store at"):
        Store(tmp_path, create=False)
    assert files(tmp_path) == []


def test_a_read_creates_no_brain_and_no_file(tmp_path: Path) -> None:
    with Store(tmp_path / "s") as s:
        s.brain("work").remember("Alice moved payments to PostgreSQL 16")
    before = files(tmp_path)
    with Store(tmp_path / "s", create=False) as s:
        with pytest.raises(NotFoundError, match="no brain named 'nope'"):
            s.brain("nope")
        with pytest.raises(NotFoundError, match="no brain named 'default'"):
            s.brain()  # the current brain was never made
        assert s.brain("work").recall("payments database").memories
        assert sorted(s.brain_names()) == ["work"]
    assert files(tmp_path) == before
    with Store(tmp_path / "s") as s:
        assert sorted(s.brain_names()) == ["work"]


def test_a_plain_file_is_not_a_store(tmp_path: Path) -> None:
    plain = tmp_path / "notes.txt"
    plain.write_text("hello")
    for create in (True, False):
        with pytest.raises(InputError, match="is a file, not a store"):
            Store(plain, create=create)
    assert plain.read_text() == "hello"


def test_a_reinforcement_after_the_checkpoint_writes_pages_of_its_map_not_the_file(
    tmp_path: Path,
) -> None:
    with Store(tmp_path / "s") as s:
        brain = s.brain("work")
        brain.remember_many(MemoryInput(text=f"Alice fixed payments bug {i}") for i in range(50))
        brain.checkpoint()
    (ckpt,) = (tmp_path / "s").rglob("*.ckpt")
    before = ckpt.read_bytes()
    with Store(tmp_path / "s") as s:
        brain = s.brain("work")
        p = brain._refreshed()
        names = ("s_w", "s_clock", "s_count")
        where = {name: getattr(p, name).values.ctypes.data for name in names}
        seq = brain.seq
        assert brain.recall("payments bug").memories
        brain.flush()
        assert brain.seq == seq + 1  # the reinforcement, folded onto the loaded columns
        assert p.s_count.values.max() > 0
        assert {n: getattr(p, n).values.ctypes.data for n in where} == where  # not copied
    assert ckpt.read_bytes() == before
