"""Scale benchmark of the ORIGINAL neural-memory package (run in the peer venv).

Usage: ``/work/peer-venv/bin/python tools/bench/peer_bench.py --n 1000 --out result.json``

Drives the package only through its public API, on the storage a fresh CLI/MCP install
gets (``get_shared_storage``: unified ``SQLStorage`` over SQLite under ``NEURALMEMORY_DIR``).
Each memory goes through ``MemoryEncoder.encode`` plus a ``TypedMemory`` row, as
``nmem remember`` does; recall is ``ReflexPipeline.query`` as ``nmem recall`` uses it.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import neural_memory
from neural_memory import MemoryEncoder, ReflexPipeline
from neural_memory.core.memory_types import MemoryType, TypedMemory
from neural_memory.unified_config import get_config, get_shared_storage

BRAIN = "bench"
HERE = Path(__file__).resolve().parent

OPEN_PROBE = """
import asyncio, json, time
t0 = time.perf_counter()
from neural_memory.unified_config import get_shared_storage
from neural_memory import ReflexPipeline
t1 = time.perf_counter()
async def main():
    st = await get_shared_storage({brain!r})
    brain = await st.get_brain(st.brain_id)
    t2 = time.perf_counter()
    res = await ReflexPipeline(st, brain.config).query("Redis")
    t3 = time.perf_counter()
    stats = await st.get_stats(st.brain_id)
    await st.close()
    print(json.dumps({{"import_ms": (t1 - t0) * 1e3, "open_ms": (t2 - t1) * 1e3,
                      "query_ms": (t3 - t2) * 1e3, "fibers": len(res.fibers_matched),
                      "neurons": stats.get("neuron_count")}}))
asyncio.run(main())
"""


def load_workload() -> ModuleType:
    """Import ``workload.py`` from beside this script."""
    spec = importlib.util.spec_from_file_location("workload", HERE / "workload.py")
    if spec is None or spec.loader is None:
        raise ImportError("workload.py not found beside peer_bench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, int(-(-q * len(ordered) // 100)))
    return ordered[min(rank, len(ordered)) - 1]


def rss_mb() -> dict[str, float]:
    """Current and peak resident set size of this process, in MB."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    current = pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"current": round(current, 1), "peak": round(peak, 1)}


def cpu_model() -> str:
    """CPU model name from /proc/cpuinfo (falls back to the machine type)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def db_size_mb(data_dir: Path) -> float:
    """Size of the brain's SQLite files (db, wal, shm) in MB."""
    files = (data_dir / "brains").glob(f"{BRAIN}.db*")
    return round(sum(p.stat().st_size for p in files) / 2**20, 2)


async def encode_all(
    storage: Any, config: Any, items: list[tuple[str, datetime]], kinds: list[str], budget: float
) -> tuple[list[float], float]:
    """Encode memories until done or ``budget`` seconds pass; return per-item ms and wall s."""
    encoder = MemoryEncoder(storage, config)
    per_item: list[float] = []
    start = time.perf_counter()
    for (text, when), kind in zip(items, kinds, strict=True):
        t0 = time.perf_counter()
        result = await encoder.encode(
            content=text,
            timestamp=when.astimezone(UTC).replace(tzinfo=None),  # the package stores naive UTC
            tags={kind},
            metadata={"type": kind},
        )
        typed = TypedMemory.create(
            fiber_id=result.fiber.id, memory_type=MemoryType(kind), source="user_input", tags={kind}
        )
        await storage.add_typed_memory(typed)
        per_item.append((time.perf_counter() - t0) * 1e3)
        if time.perf_counter() - start > budget:
            break
    return per_item, time.perf_counter() - start


async def recall_all(storage: Any, config: Any, queries: list[str], runs: int) -> dict[str, Any]:
    """Run every query ``runs`` times; return latency stats and per-query detail."""
    pipeline = ReflexPipeline(storage, config)
    await pipeline.query("warm-up query")
    all_ms: list[float] = []
    per_query: list[dict[str, Any]] = []
    for query in queries:
        times: list[float] = []
        fibers = 0
        for _ in range(runs):
            t0 = time.perf_counter()
            result = await pipeline.query(query)
            times.append((time.perf_counter() - t0) * 1e3)
            fibers = len(result.fibers_matched)
            await asyncio.sleep(0)  # let the package's background reinforcement run
        all_ms.extend(times)
        per_query.append(
            {
                "query": query,
                "median_ms": round(statistics.median(times), 2),
                "max_ms": round(max(times), 2),
                "fibers_matched": fibers,
            }
        )
    return {
        "runs_per_query": runs,
        "p50_ms": round(pct(all_ms, 50), 2),
        "p95_ms": round(pct(all_ms, 95), 2),
        "mean_ms": round(statistics.fmean(all_ms), 2),
        "queries_with_results": sum(q["fibers_matched"] > 0 for q in per_query),
        "per_query": per_query,
    }


def measure_open(data_dir: Path, repeats: int) -> dict[str, Any]:
    """Open the brain in fresh processes and run one tiny query; report wall times."""
    env = {**os.environ, "NEURALMEMORY_DIR": str(data_dir)}
    code = OPEN_PROBE.format(brain=BRAIN)
    runs: list[dict[str, Any]] = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        wall = (time.perf_counter() - t0) * 1e3
        inner = json.loads(proc.stdout.strip().splitlines()[-1])
        runs.append({"wall_ms": round(wall, 1), **{k: round(v, 1) for k, v in inner.items()}})
    return {"median_wall_ms": statistics.median(r["wall_ms"] for r in runs), "runs": runs}


async def bench(args: argparse.Namespace, data_dir: Path) -> dict[str, Any]:
    """Build the brain, encode, recall; return the result document (minus open time)."""
    workload = load_workload()
    items: list[tuple[str, datetime]] = workload.generate(args.n, args.seed)
    kinds = [workload.kind_of(i) for i in range(args.n)]
    rss_start = rss_mb()
    storage = await get_shared_storage(BRAIN)
    brain_id = storage.brain_id or BRAIN
    brain = await storage.get_brain(brain_id)
    if brain is None:
        raise RuntimeError("get_shared_storage did not create the brain")
    cfg = get_config()

    per_item, wall = await encode_all(storage, brain.config, items, kinds, args.max_seconds)
    done = len(per_item)
    rate = done / wall if wall > 0 else float("nan")
    rss_encoded = rss_mb()
    stats = await storage.get_stats(brain_id)
    recall = await recall_all(storage, brain.config, list(workload.QUERIES), args.runs)
    await storage.close()
    return {
        "system": f"neural-memory {neural_memory.__version__}",
        "version": neural_memory.__version__,
        "n_requested": args.n,
        "n": done,
        "completed": done == args.n,
        "seed": args.seed,
        "storage": {
            "entry_point": "neural_memory.unified_config.get_shared_storage",
            "backend": cfg.storage_backend,
            "adapter": cfg.storage_adapter,
            "class": type(storage).__name__,
            "encoding_profile": getattr(brain.config, "encoding_profile", None),
            "activation_strategy": getattr(brain.config, "activation_strategy", None),
            "embedding_enabled": getattr(brain.config, "embedding_enabled", None),
        },
        "encode": {
            "wall_s": round(wall, 2),
            "memories_per_s": round(rate, 2),
            "mean_ms": round(statistics.fmean(per_item), 2),
            "median_ms": round(statistics.median(per_item), 2),
            "p95_ms": round(pct(per_item, 95), 2),
            "p99_ms": round(pct(per_item, 99), 2),
            "first_100_mean_ms": round(statistics.fmean(per_item[:100]), 2),
            "last_100_mean_ms": round(statistics.fmean(per_item[-100:]), 2),
            "extrapolated_total_s": round(args.n / rate, 1) if rate > 0 else None,
            "max_seconds": args.max_seconds if args.max_seconds != float("inf") else None,
        },
        "graph": {k: stats.get(k) for k in ("neuron_count", "synapse_count", "fiber_count")},
        "db_mb": db_size_mb(data_dir),
        "recall": recall,
        "rss_mb": {"start": rss_start, "after_encode": rss_encoded, "end": rss_mb()},
    }


def main() -> None:
    """Parse arguments, run the benchmark, write the JSON result."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--runs", type=int, default=5, help="runs per query")
    ap.add_argument("--max-seconds", type=float, default=float("inf"), help="encode budget")
    ap.add_argument("--open-repeats", type=int, default=3)
    ap.add_argument("--workdir", type=Path, help="data dir (default: a fresh temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the brain on disk")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()

    data_dir = (args.workdir or Path(tempfile.mkdtemp(prefix="nm-peer-bench-"))).resolve()
    if (data_dir / "brains").exists():
        sys.exit(f"{data_dir} already holds brains; use a fresh --workdir")
    os.environ["NEURALMEMORY_DIR"] = str(data_dir)  # read by the package at call time
    load_before = os.getloadavg()
    try:
        result = asyncio.run(bench(args, data_dir))
        result["open"] = measure_open(data_dir, args.open_repeats)
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(data_dir, ignore_errors=True)
    result["machine"] = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "cpu": cpu_model(),
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
    }
    result["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    enc, rec = result["encode"], result["recall"]
    print(
        f"n={result['n']}/{args.n} encode {enc['memories_per_s']} mem/s "
        f"(mean {enc['mean_ms']} ms, p95 {enc['p95_ms']} ms); recall p50 {rec['p50_ms']} ms "
        f"p95 {rec['p95_ms']} ms; open {result['open']['median_wall_ms']} ms -> {args.out}"
    )


if __name__ == "__main__":
    main()
