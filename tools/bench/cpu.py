"""CPU-time figures of a store built by `bench.py --keep`, in one process: open, recall
p50/p95, as-of recall p50/p95 and full replay rate. On a shared machine, wall times follow the
other tenants; a process's CPU time much less, so two versions of the engine can be compared
in one period (run it under each version's interpreter or PYTHONPATH).

    python tools/bench/cpu.py /tmp/stores/store-100000
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import workload
from bench import pct

import engine
from engine import Store
from engine.fold import apply_all
from engine.projection import Projection


def cpu_ms(work: Callable[[], object]) -> float:
    t0 = time.process_time()
    work()
    return (time.process_time() - t0) * 1000


def main() -> None:
    path = sys.argv[1]
    t0 = time.process_time()
    store = Store(path)
    brain = store.brain("bench", create=False)
    head = brain.seq
    opened = (time.process_time() - t0) * 1000
    brain.recall("warm up")
    lat = [cpu_ms(partial(brain.recall, q)) for _ in range(5) for q in workload.QUERIES]
    rng = random.Random(1)
    first, last = brain.at(1).time, brain.time
    span = (last - first).total_seconds()
    asof = []
    for _ in range(100):
        view = brain.at(first + timedelta(seconds=rng.uniform(0, span)))
        query = rng.choice(workload.QUERIES)
        asof.append(cpu_ms(partial(view.recall, query)))

    def replay() -> None:
        p = Projection(brain.id)
        with store.log.reader() as r:
            apply_all(p, r.events(brain.id))
        p.s_w.values  # noqa: B018 - include the final flush into numpy

    out = {
        "engine": str(Path(engine.__file__).parent),
        "store": path,
        "open_cpu_ms": round(opened, 1),
        "recall_p50_cpu_ms": round(statistics.median(lat), 2),
        "recall_p95_cpu_ms": round(pct(lat, 0.95), 2),
        "asof_p50_cpu_ms": round(statistics.median(asof), 2),
        "asof_p95_cpu_ms": round(pct(asof, 0.95), 2),
        "replay_cpu_events_per_s": round(max(head / (cpu_ms(replay) / 1000) for _ in range(2))),
    }
    print(json.dumps(out))
    store.close()


if __name__ == "__main__":
    main()
