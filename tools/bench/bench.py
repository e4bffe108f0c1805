"""Benchmark of our engine on the shared workload (tools/bench/workload.py).

    python tools/bench/bench.py --n 10000 --n 100000 --out tools/bench/results/ours.json
    python tools/bench/bench.py --n 100000 --semantic --out tools/bench/results/semantic.json

Per size: encode throughput through `remember_many` (batches of 1000, one fsync each; also the
rate over the last 10% of the load), recall p50/p95 over the workload's queries, as-of recall
at random past sequence numbers, open time of the store in a fresh process, full replay
throughput, fresh-process `nmem recall` wall time (and handed to a running `nmem preload`),
RSS (of the benchmark, which also holds a replayed copy of the brain, the workload being made
batch by batch; and of a fresh process that opens the brain and recalls) and size on disk.
`--semantic`: the brain has the semantic layer on from its first memory (every memory embedded
as it is remembered; recall embeds each question).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import workload

from engine import MemoryInput, Store
from engine.fold import apply_all
from engine.projection import Projection

BATCH = 1000
# the `nmem` installed beside this interpreter: the virtualenv need not be on PATH
NMEM = shutil.which("nmem", path=str(Path(sys.executable).parent)) or "nmem"
# Peak RSS is read as VmHWM: a child's ru_maxrss on Linux also holds its parent's peak at the
# fork, which made this probe report the benchmark's own gigabytes.
OPEN_PROBE = """
import sys, time
t0 = time.perf_counter()
from engine import Store
t1 = time.perf_counter()
store = Store(sys.argv[1])
brain = store.brain("bench", create=False)
seq = brain.seq
t2 = time.perf_counter()
brain.recall("Why did we choose PostgreSQL?")
brain.recall("connection errors with Redis")  # the second read builds the weight cache
t3 = time.perf_counter()
rss = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")) / 1024
print(f"{(t1 - t0) * 1000:.1f} {(t2 - t1) * 1000:.1f} {(t3 - t2) * 1000:.1f} {rss:.1f}")
store.close()
"""


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def tail_rate(batches: list[tuple[int, float]], memories: int) -> float:
    """The encode rate over the last batches that hold at least `memories` memories (a single
    batch is its own tail)."""
    done, spent = 0, 0.0
    for size, dt in reversed(batches):
        done, spent = done + size, spent + dt
        if done >= memories:
            break
    return done / spent


def run(n: int, root: Path, *, semantic: bool = False) -> dict[str, Any]:
    path = root / f"store-{n}"
    if path.exists():
        raise SystemExit(f"{path} exists: the benchmark builds its store from nothing")
    data = workload.iterate(n)  # made batch by batch: the process holds no copy of it all
    out: dict[str, Any] = {"n": n, "semantic": semantic}
    with Store(path) as store:
        brain = store.brain("bench")
        if semantic:
            brain.semantic_enable()
        batches: list[tuple[int, float]] = []  # (memories, seconds) of each batch
        for i in range(0, n, BATCH):
            chunk = list(itertools.islice(data, BATCH))
            t0 = time.perf_counter()
            brain.remember_many(
                [
                    MemoryInput(text=t, event_time=when, cid=f"w{i + j}")
                    for j, (t, when) in enumerate(chunk)
                ]
            )
            batches.append((min(BATCH, n - i), time.perf_counter() - t0))
        out["encode_per_s"] = round(n / sum(dt for _, dt in batches), 1)
        out["encode_per_s_last_10pct"] = round(tail_rate(batches, n // 10), 1)

        brain.recall("warm up")
        lat: list[float] = []  # includes the batched reinforcement writes, one per 32 recalls
        cpu: list[float] = []  # CPU time of the process (all its threads): what load hides
        for _ in range(5):
            for q in workload.QUERIES:
                t0, c0 = time.perf_counter(), time.process_time()
                brain.recall(q)
                lat.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.process_time() - c0) * 1000)
        out["recall_p50_ms"] = round(statistics.median(lat), 3)
        out["recall_p95_ms"] = round(pct(lat, 0.95), 3)
        out["recall_cpu_p50_ms"] = round(statistics.median(cpu), 3)
        out["load_average"] = [round(x, 2) for x in os.getloadavg()]

        rng = random.Random(1)
        head = brain.seq
        first, last = brain.at(1).time, brain.time
        span = (last - first).total_seconds()
        asof: list[float] = []
        for _ in range(100):
            moment = first + timedelta(seconds=rng.uniform(0, span))
            q = rng.choice(workload.QUERIES)
            t0 = time.perf_counter()
            brain.at(moment).recall(q)
            asof.append((time.perf_counter() - t0) * 1000)
        out["asof_recall_p50_ms"] = round(statistics.median(asof), 3)
        out["asof_recall_p95_ms"] = round(pct(asof, 0.95), 3)

        t0, cpu0 = time.perf_counter(), time.process_time()
        replay = Projection(brain.id)
        with store.log.reader() as r:
            apply_all(replay, r.events(brain.id))
        replay.s_w.values  # noqa: B018 - include the final flush into numpy
        out["replay_events_per_s"] = round(head / (time.perf_counter() - t0))
        # the same on this process's CPU time: what a shared, busy machine distorts least
        out["replay_cpu_events_per_s"] = round(head / (time.process_time() - cpu0))
        out["bench_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        out["neurons"] = brain._refreshed().neuron_count
        out["synapses"] = brain._refreshed().synapse_count
        out["vector_mb"] = round(brain.semantic()["vector_bytes"] / 2**20, 1)
    out["store_mb"] = round(
        sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20, 1
    )

    opens = []
    for _ in range(3):
        t0 = time.perf_counter()
        probe = subprocess.run(
            [sys.executable, "-c", OPEN_PROBE, str(path)],
            capture_output=True,
            text=True,
            check=True,
        )
        wall = (time.perf_counter() - t0) * 1000
        imp, opened, recalls, rss = probe.stdout.split()
        opens.append((float(opened), wall, float(imp), float(recalls), float(rss)))
    best = min(opens)
    out["open_ms"] = best[0]
    out["open_process_wall_ms"] = round(best[1], 1)
    out["import_ms"] = best[2]
    out["two_recalls_after_open_ms"] = best[3]
    out["open_process_rss_mb"] = best[4]

    walls = []
    env = {**os.environ, "NMEM_HOME": str(path)}
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run(
            [NMEM, "recall", "Why did we choose PostgreSQL?", "--brain", "bench"],
            capture_output=True,
            env=env,
            check=False,
        )
        walls.append((time.perf_counter() - t0) * 1000)
    out["cli_recall_wall_ms"] = round(min(walls), 1)
    out["cli_recall_preload_wall_ms"] = preloaded_recall_ms(path)
    return out


def preloaded_recall_ms(path: Path) -> float:
    """`nmem recall` handed to a running `nmem preload` (adapters/cli/preload.py): best of 3
    wall times. Standard input is not a terminal, or the command would run itself."""
    with tempfile.TemporaryDirectory() as tmp:
        sock = Path(tmp) / "nmem.sock"
        server = subprocess.Popen(
            [NMEM, "preload", "--socket", str(sock)],
            stdin=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stderr is not None
            if "serving on" not in server.stderr.readline():
                raise RuntimeError("nmem preload did not start")
            env = {**os.environ, "NMEM_HOME": str(path), "NMEM_PRELOAD": str(sock)}
            walls = []
            for _ in range(3):
                t0 = time.perf_counter()
                subprocess.run(
                    [NMEM, "recall", "Why did we choose PostgreSQL?", "--brain", "bench"],
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    env=env,
                    check=False,
                )
                walls.append((time.perf_counter() - t0) * 1000)
        finally:
            server.terminate()
            server.wait(timeout=30)
    return round(min(walls), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, action="append", required=True)
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--keep",
        type=Path,
        help="build the stores in this folder and keep them (default: a temp dir)",
    )
    parser.add_argument("--semantic", action="store_true", help="with the semantic layer on")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.n:
            res = run(n, args.keep or Path(tmp), semantic=args.semantic)
            print(json.dumps(res), flush=True)
            results.append(res)
    write_report("neuralmemory (this repo)", results, args.out)


def write_report(system: str, results: list[dict[str, Any]], out: Path | None) -> None:
    """The results with the date and machine they were measured on, as JSON in `out`."""
    report = {
        "system": system,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        },
        "results": results,
    }
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
