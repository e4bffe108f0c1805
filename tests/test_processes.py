"""Real processes: kill -9 in the middle of writes, and two writers on one store at once."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine import Store
from engine.fold import apply
from engine.projection import Projection, state_bytes

ROOT = Path(__file__).resolve().parents[1]

BATCH = 50

WRITER = """
import sys
from engine import MemoryInput, Store
store = Store(sys.argv[1])
brain = store.brain("crash")
b = int(sys.argv[2])
prefix = sys.argv[3]
stop = int(sys.argv[4])
while b < stop:
    brain.remember_many([
        MemoryInput(f"code{prefix}{b}x{i}: Alice moved invoices to Redis", cid=f"{prefix}{b}:{i}")
        for i in range(BATCH)
    ])
    print(b, flush=True)
    b += 1
""".replace("BATCH", str(BATCH))


def _spawn(store: Path, start: int, prefix: str = "", stop: int = 10**9) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(store), str(start), prefix, str(stop)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def _check_store(path: Path) -> dict[str, int]:
    """Every batch is all there or not at all; the log is gap-free; replay equals the brain."""
    with Store(path) as store:
        brain = store.brain("crash")
        replay = Projection(brain.id)
        with store.log.reader() as r:
            for env in r.events(brain.id):  # raises on a gap or a corrupt record
                apply(replay, env)
            counts: dict[str, int] = {}
            for env in r.events(brain.id):
                cid = env.cid
                if ":" in cid:
                    counts[cid.split(":")[0]] = counts.get(cid.split(":")[0], 0) + 1
        assert all(n == BATCH for n in counts.values()), "a batch was half written"
        assert state_bytes(brain._refreshed()) == state_bytes(replay)
        return counts


@pytest.mark.slow
def test_kill_9_during_remember_many_loses_no_acknowledged_memory(tmp_path: Path) -> None:
    path = tmp_path / "store"
    rng = random.Random(7)
    acked: set[str] = set()
    next_batch = 0
    for _ in range(6):
        proc = _spawn(path, next_batch)
        assert proc.stdout is not None
        wanted = rng.randint(2, 12)
        for _ in range(wanted):
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else "writer died"
            acked.add(line.strip())
        time.sleep(rng.uniform(0, 0.03))  # land the kill anywhere inside the next batch
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        for line in proc.stdout.read().split():  # acks written just before the kill
            acked.add(line.strip())
        counts = _check_store(path)
        missing = {b for b in acked if counts.get(b) != BATCH}
        assert not missing, f"acknowledged batches lost: {sorted(missing)}"
        next_batch = max(int(b) for b in counts) + 1 if counts else 0
    assert len(acked) >= 12


@pytest.mark.slow
def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "store"
    with Store(path) as s:
        s.brain("crash")  # create it up front so both writers share one brain
    procs = [_spawn(path, 0, prefix, stop=8) for prefix in ("a", "b")]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    counts = _check_store(path)
    assert counts == {f"{p}{b}": BATCH for p in "ab" for b in range(8)}
    with Store(path) as s:
        brain = s.brain("crash")
        assert brain.stats()["memories"] == 2 * 8 * BATCH
        hit = brain.recall("codeb7x3", limit=5).memories[0].memory.text
        assert hit.startswith("codeb7x3:")


def test_a_memory_written_by_one_process_is_read_by_another(store_path: Path) -> None:
    with Store(store_path) as s:
        brain = s.brain("shared")
        before = brain.recall("zanzibar ferry").memories
        assert before == []
        code = (
            "import sys; from engine import Store\n"
            "with Store(sys.argv[1]) as s:\n"
            "    s.brain('shared').remember('The Zanzibar ferry leaves at 9')"
        )
        done = subprocess.run(
            [sys.executable, "-c", code, str(store_path)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        after = brain.recall("zanzibar ferry").memories
        assert [m.memory.text for m in after] == ["The Zanzibar ferry leaves at 9"]
