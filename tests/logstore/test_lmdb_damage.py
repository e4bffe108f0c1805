"""A damaged or unusual LMDB store, through the real `nmem`: a compaction killed with -9,
truncated / emptied / lost / scrambled data files, a plain file given as the store, a store
this process may not write. Each ends in one line on stderr and exit code 2 (or works), never
a traceback, a signal, or a store silently started over."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from helpers import NMEM

from engine import MemoryInput, Store

MEMORIES = 300
# LMDB page flags (mp_flags at offset 10 of a page header)
P_BRANCH, P_LEAF = 0x01, 0x02


def nmem(
    store: Path, *args: str, drop_privileges: bool = False
) -> subprocess.CompletedProcess[str]:
    command = [NMEM, *args, "--store", str(store)]
    if drop_privileges and os.geteuid() == 0:  # root writes anything: run without that power
        caps = "-dac_override,-dac_read_search,-fowner"
        command = ["setpriv", f"--bounding-set={caps}", f"--inh-caps={caps}", "--", *command]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def refused(done: subprocess.CompletedProcess[str], *words: str) -> None:
    """Exit 2 with one line on stderr that says `words`; no traceback."""
    assert done.returncode == 2, (done.returncode, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("nmem: error: "), lines
    for word in words:
        assert word in lines[0], lines[0]


def digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "store"
    with Store(path) as s:
        brain = s.brain("default")
        brain.remember_many(
            MemoryInput(f"note {i}: the Quandorix launch moved to week {i % 52}, budget {i * 7}")
            for i in range(MEMORIES)
        )
        brain.recall("Quandorix budget")
    return path


@pytest.fixture
def store(template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "store"
    shutil.copytree(template, path)
    return path


READS: Sequence[Sequence[str]] = (("stats",), ("recall", "Quandorix budget"), ("list",))


def test_a_truncated_log_is_refused_with_one_line(store: Path) -> None:
    data = store / "log" / "data.mdb"
    size = data.stat().st_size
    os.truncate(data, size // 2)
    for args in (*READS, ("remember", "something new")):
        refused(nmem(store, *args), "truncated")
    assert data.stat().st_size == size // 2, "a refused store is left as it was"


def test_an_emptied_log_is_refused_never_started_over(store: Path) -> None:
    data = store / "log" / "data.mdb"
    data.write_bytes(b"")
    for args in (*READS, ("remember", "something new")):
        refused(nmem(store, *args), "is empty")
    assert data.stat().st_size == 0


def test_a_store_that_lost_its_log_is_refused(store: Path) -> None:
    (store / "log" / "data.mdb").unlink()
    for args in (*READS, ("remember", "something new")):
        refused(nmem(store, *args), "lost its log")
    assert not (store / "log" / "data.mdb").exists()


def test_a_foreign_file_as_the_log_is_refused(store: Path) -> None:
    (store / "log" / "data.mdb").write_bytes(b"this is not an lmdb file" * 400)
    for args in READS:
        refused(nmem(store, *args), "not an LMDB data file")


def test_a_plain_file_as_the_store_is_one_line(tmp_path: Path) -> None:
    plain = tmp_path / "notes.txt"
    plain.write_text("keep me")
    for args in (("list",), ("remember", "x"), ("stats",)):
        refused(nmem(plain, *args), "is a file, not a store")
    assert plain.read_text() == "keep me"


def _pages(data: bytes, flag: int) -> list[int]:
    psize = struct.unpack_from("<I", data, 40)[0]
    return [
        n
        for n in range(2, len(data) // psize)
        if struct.unpack_from("<H", data, n * psize + 10)[0] == flag
    ]


@pytest.mark.parametrize("kind", ["byte", "run", "leaf", "branch"])
def test_scrambled_bytes_end_in_one_line_never_a_traceback(
    template: Path, tmp_path: Path, kind: str
) -> None:
    """Flipped bits, a run of random bytes, or the bodies of half the leaf or branch pages
    scrambled (their headers kept, so LMDB walks into them): every read either works or ends in
    one `nmem: error:` line and exit 2 (LMDB's own assertion line may come first)."""
    rng = random.Random(kind)
    clean = (template / "log" / "data.mdb").read_bytes()
    psize = struct.unpack_from("<I", clean, 40)[0]
    failures = 0
    for trial in range(6):
        store = tmp_path / f"s{trial}"
        shutil.copytree(template, store)
        shutil.rmtree(store / "checkpoints")  # every record is read, not just the tail
        data = bytearray(clean)
        if kind in ("leaf", "branch"):
            pages = _pages(clean, P_LEAF if kind == "leaf" else P_BRANCH)
            assert pages, f"no {kind} page to scramble"
            for page in rng.sample(pages, (len(pages) + 1) // 2):  # some are free pages
                start = page * psize + 16
                data[start : start - 16 + psize] = rng.randbytes(psize - 16)
        else:
            pos = rng.randrange(2 * psize, len(data) - 64)
            if kind == "byte":
                data[pos] ^= 1 << rng.randrange(8)
            else:
                data[pos : pos + 64] = rng.randbytes(64)
        (store / "log" / "data.mdb").write_bytes(bytes(data))
        for args in READS:
            done = nmem(store, *args)
            assert done.returncode in (0, 2), (kind, trial, args, done.returncode, done.stderr)
            assert "Traceback" not in done.stderr, done.stderr
            if done.returncode:
                failures += 1
                last = done.stderr.strip().splitlines()[-1]
                assert last.startswith("nmem: error: store error: "), done.stderr
    if kind != "byte":
        assert failures, "no scrambling was noticed: the test proves nothing"


def test_a_compaction_killed_mid_copy_is_recovered_by_the_next(tmp_path: Path) -> None:
    store = tmp_path / "store"
    with Store(store) as s:
        brain = s.brain("default")
        for b in range(6):
            brain.remember_many(
                MemoryInput(f"entry {b}-{i}: Quandorix telemetry batch {i} of week {b}")
                for i in range(1000)
            )
        brain.forget(brain.remember("the Zorblat codename is secret").id, hard=True)
        count = brain.stats()["memories"]
    leftover = store / "log.compact"
    for _ in range(20):
        proc = subprocess.Popen(
            [NMEM, "compact", "--store", str(store)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        while proc.poll() is None and not (leftover / "data.mdb").exists():
            time.sleep(0.0005)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if proc.returncode == -signal.SIGKILL and leftover.exists():
            break
    else:
        pytest.fail("never caught a compaction mid-copy")
    assert nmem(store, "stats", "--json").returncode == 0
    done = nmem(store, "compact")
    assert done.returncode == 0, done.stderr
    assert not leftover.exists()
    done = nmem(store, "stats", "--json")
    assert done.returncode == 0
    assert json.loads(done.stdout)["memories"] == count
    for f in store.rglob("*"):
        if f.is_file():
            assert b"Zorblat" not in f.read_bytes(), f


def test_a_compaction_left_behind_with_junk_is_cleaned_up(store: Path) -> None:
    leftover = store / "log.compact"
    leftover.mkdir()
    (leftover / "data.mdb").write_bytes(b"half a copy" * 1000)
    done = nmem(store, "compact")
    assert done.returncode == 0, done.stderr
    assert not leftover.exists()
    assert nmem(store, "stats").returncode == 0


@pytest.mark.parametrize("lock_writable", [False, True])
def test_a_read_only_store_is_read_and_refuses_writes(store: Path, lock_writable: bool) -> None:
    """No write permission anywhere (LMDB opened read-only without its lock file), or
    only the lock file writable (read-only, taking part in LMDB's locking)."""
    before = digest(store)
    for p in [store, *store.rglob("*")]:
        p.chmod(p.stat().st_mode & ~0o222)
    if lock_writable:
        (store / "log" / "lock.mdb").chmod(0o644)
    try:
        stats = nmem(store, "stats", "--json", drop_privileges=True)
        assert stats.returncode == 0, stats.stderr
        assert json.loads(stats.stdout)["memories"] == MEMORIES
        for _ in range(2):
            found = nmem(store, "recall", "Quandorix budget", drop_privileges=True)
            assert found.returncode == 0, found.stderr
            assert "Quandorix" in found.stdout
        assert nmem(store, "list", drop_privileges=True).returncode == 0
        assert nmem(store, "history", drop_privileges=True).returncode == 0
        writes = (("remember", "a new thing"), ("decay",), ("compact",), ("brain", "create", "x"))
        for args in writes:
            refused(nmem(store, *args, drop_privileges=True), "read-only")
        missing = nmem(store, "stats", "--brain", "other", drop_privileges=True)
        assert missing.returncode == 1, missing.stderr
    finally:
        for p in [store, *store.rglob("*")]:
            p.chmod(p.stat().st_mode | 0o200)
    after = digest(store)
    if lock_writable:
        after.pop("log/lock.mdb")
        before.pop("log/lock.mdb")
    assert after == before, "reading a read-only store changed nothing"


@pytest.mark.parametrize("how", ["os.abort()", "os.kill(os.getpid(), signal.SIGBUS)"])
def test_a_process_the_storage_library_stops_still_ends_in_one_line(how: str) -> None:
    """What an LMDB assertion (SIGABRT) or a page mapped past a file's end (SIGBUS) does."""
    code = f"import os, signal\nfrom adapters.cli import fatal\nfatal.install('/s')\n{how}\n"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    refused(done, "stopped this process", "/s", "damaged")
