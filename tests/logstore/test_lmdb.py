"""What only the LMDB backend has: map growth, one environment per process."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from engine import events as ev
from engine.logstore import Writer
from engine.logstore.lmdb import _RELEASE, LmdbLogStore

BRAIN = uuid.uuid4().hex


def test_a_full_map_grows_and_the_write_is_run_again(tmp_path: Path) -> None:
    lg = LmdbLogStore(tmp_path / "small", map_size=128 * 1024)
    try:
        big = ev.BrainCreated(name="x" * 60_000)
        runs = 0

        def work(w: object) -> None:
            nonlocal runs
            runs += 1
            w.append(BRAIN, big)  # type: ignore[attr-defined]

        for _ in range(50):
            lg.write(work)
        assert runs > 50, "the small map never filled up; the test proves nothing"
        assert lg.map_size > 128 * 1024
        with lg.reader() as r:
            assert r.head(BRAIN) == len(list(r.events(BRAIN))) == 50
    finally:
        lg.close()


def test_room_asked_for_grows_the_map_ahead_of_a_big_write(tmp_path: Path) -> None:
    lg = LmdbLogStore(tmp_path / "small", map_size=256 * 1024)
    try:
        runs = 0

        def work(w: object) -> None:
            nonlocal runs
            runs += 1
            for _ in range(100):
                w.append(BRAIN, ev.BrainCreated(name="y" * 50_000))  # type: ignore[attr-defined]

        lg.write(work, room=10 << 20)
        assert lg.map_size >= 20 << 20
        assert runs == 1, "with room made first, the write ran once"
    finally:
        lg.close()


def test_two_handles_in_one_process_share_the_environment(tmp_path: Path) -> None:
    a = LmdbLogStore(tmp_path / "store")
    b = LmdbLogStore(tmp_path / "store")
    try:
        a.write(lambda w: w.append(BRAIN, ev.BrainCreated(name="n")))
        with b.reader() as r:
            assert r.head(BRAIN) == 1
        assert a.env is b.env
    finally:
        a.close()
        b.close()


def _resident_kb(data: Path) -> int:
    """How much of the mapped file `data` is resident in this process (Linux smaps)."""
    total, inside = 0, False
    with open("/proc/self/smaps") as fh:
        for line in fh:
            head = line.split()
            if not head[0].endswith(":"):  # a mapping's first line: range, mode, ..., path
                inside = head[-1] == str(data.resolve())
            elif inside and head[0] == "Rss:":
                total += int(head[1])
    return total


@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="needs Linux's smaps")
def test_a_write_leaves_none_of_the_map_resident(tmp_path: Path) -> None:
    """A write reads pages all over the data file (index leaves of random keys); once it is
    committed the process keeps none of the map resident: the log is page cache, not this
    process's memory."""
    lg = LmdbLogStore(tmp_path / "store")
    data = tmp_path / "store" / "log" / "data.mdb"
    try:
        big = ev.BrainCreated(name="z" * 3000)
        for _ in range(10):
            lg.write(lambda w: [w.append(BRAIN, big) for _ in range(50)])
        seen = []

        def read_all(w: Writer) -> None:
            assert len(list(w.events(BRAIN))) == 500
            seen.append(_resident_kb(data))

        lg.write(read_all)
        assert seen[0] > 0, "the read touched no page of the map; the test proves nothing"
        assert _resident_kb(data) == 0
    finally:
        lg.close()


@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="needs Linux's smaps")
def test_a_long_read_leaves_none_of_the_map_resident(tmp_path: Path) -> None:
    """A replay reads the whole log through the map: it lets the pages go as it reads, and
    what it read last once it is done."""
    lg = LmdbLogStore(tmp_path / "store")
    data = tmp_path / "store" / "log" / "data.mdb"
    try:
        big = ev.BrainCreated(name="r" * 2000)
        n = _RELEASE * 3 // 2  # long enough to be let go of as it goes and at its end
        lg.write(lambda w: [w.append(BRAIN, big) for _ in range(n)])
        with lg.reader() as r:
            events = r.events(BRAIN)
            assert next(events).seq == 1
            assert _resident_kb(data) > 0, "the read touched no page of the map"
            assert sum(1 for _ in events) == n - 1
            assert _resident_kb(data) == 0
    finally:
        lg.close()
