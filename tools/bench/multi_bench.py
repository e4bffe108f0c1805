"""Several API servers on one brain, measured: remember and recall through nginx with 1, 2 and 3
`nmem serve` processes on one PostgreSQL log, beside the same through one server on LMDB and
the embedded engine (no HTTP); and the PostgreSQL log's own append and replay rates.

    python tools/bench/multi_bench.py --out tools/bench/results/multi.json

It starts what it measures, as the tests do (it reuses their helpers, so it needs the test
extras, Debian's postgresql and nginx): a PostgreSQL server initdb'd in a temp dir on
127.0.0.1 (fsync on, as a real deployment), nginx on a free loopback port, the servers.
Each configuration gets a fresh brain preloaded with `--preload` workload memories
(tools/bench/workload.py), then `--clients` client processes each send `--requests`
remembers (one memory a request, each with its idempotency key), then as many recalls of the
workload's questions. Throughput is requests over the wall time of the phase; p50/p95 over
every request's latency as the client saw it.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))  # the tests' helpers
sys.path.insert(0, str(Path(__file__).resolve().parent))
import workload
from bench import pct, write_report

from engine import MemoryInput, Store
from engine import events as ev
from engine.fold import apply_all
from engine.logstore import Writer, open_log
from engine.logstore.copy import copy_log
from engine.projection import Projection

BRAIN = "bench"
Client = Callable[[str, int, int, float], tuple[list[float], float]]


def _texts(n: int, seed: int) -> list[str]:
    return [text for text, _ in workload.generate(n, seed=seed)]


def _start(http: Any, at: float) -> None:
    """Wait for the common start (every client process is up and connected)."""
    http.get("/health")
    time.sleep(max(0.0, at - time.time()))


def _remembers(url: str, worker: int, count: int, at: float) -> tuple[list[float], float]:
    import httpx

    texts = _texts(count, seed=1000 + worker)
    lat = []
    with httpx.Client(base_url=url, timeout=60) as http:
        _start(http, at)
        for i, text in enumerate(texts):
            t0 = time.perf_counter()
            answer = http.post(f"/brains/{BRAIN}/memories", json={"text": text,
                               "cid": f"c{worker}:{i}"})  # fmt: skip
            lat.append(time.perf_counter() - t0)
            if answer.status_code != 201:
                raise SystemExit(f"remember failed: {answer.status_code} {answer.text}")
    return lat, time.time()


def _recalls(url: str, worker: int, count: int, at: float) -> tuple[list[float], float]:
    import httpx

    lat = []
    with httpx.Client(base_url=url, timeout=60) as http:
        _start(http, at)
        for i in range(count):
            query = workload.QUERIES[(worker * 7 + i) % len(workload.QUERIES)]
            t0 = time.perf_counter()
            answer = http.post(f"/brains/{BRAIN}/recall", json={"query": query})
            lat.append(time.perf_counter() - t0)
            if answer.status_code != 200:
                raise SystemExit(f"recall failed: {answer.status_code} {answer.text}")
    return lat, time.time()


def _phase(client: Client, url: str, clients: int, requests: int) -> dict[str, float]:
    """`clients` processes, each sending `requests` requests one after another, from a common
    start some seconds ahead (so the processes' start-up is not timed)."""
    with multiprocessing.get_context("spawn").Pool(clients) as pool:
        at = time.time() + 3 + clients
        parts = pool.starmap(client, [(url, w, requests, at) for w in range(clients)])
    wall = max(end for _, end in parts) - at
    lat = [x * 1000 for part, _ in parts for x in part]
    return {
        "per_s": round(len(lat) / wall, 1),
        "p50_ms": round(statistics.median(lat), 2),
        "p95_ms": round(pct(lat, 0.95), 2),
    }


def _preload(url: str, n: int) -> None:
    import httpx

    data = workload.generate(n)
    with httpx.Client(base_url=url, timeout=300) as http:
        for i in range(0, n, 500):
            batch = [{"text": t, "time": when.isoformat(), "cid": f"p{i + j}"}
                     for j, (t, when) in enumerate(data[i : i + 500])]  # fmt: skip
            answer = http.post(f"/brains/{BRAIN}/memories", json=batch)
            if answer.status_code != 201:
                raise SystemExit(f"preload failed: {answer.status_code} {answer.text}")


def through_balancer(stores: list[str], args: argparse.Namespace) -> dict[str, Any]:
    """Servers on `stores` (one each; the same PostgreSQL URL for several) behind nginx."""
    from nginx_lb import balancing  # type: ignore[import-not-found]
    from services import Served  # type: ignore[import-not-found]

    servers = []
    try:
        for store in stores:
            servers.append(Served(store, "--request-log", "off"))
        with balancing([s.url for s in servers]) as lb:
            _preload(lb, args.preload)
            return {
                "remember": _phase(_remembers, lb, args.clients, args.requests),
                "recall": _phase(_recalls, lb, args.clients, args.requests),
            }
    finally:
        for served in servers:
            served.stop()


def embedded(path: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The same requests in one process on LMDB, no HTTP: the floor HTTP adds to."""
    data = workload.generate(args.preload)
    total = args.clients * args.requests
    with Store(path) as store:
        brain = store.brain(BRAIN)
        brain.remember_many(MemoryInput(text=t, event_time=w, cid=f"p{i}")
                            for i, (t, w) in enumerate(data))  # fmt: skip
        out = {}
        for kind in ("remember", "recall"):
            lat = []
            texts = _texts(total, seed=1000)
            t0 = time.perf_counter()
            for i in range(total):
                t1 = time.perf_counter()
                if kind == "remember":
                    brain.remember(texts[i], cid=f"c{i}")
                else:
                    brain.recall(workload.QUERIES[i % len(workload.QUERIES)])
                lat.append((time.perf_counter() - t1) * 1000)
            wall = time.perf_counter() - t0
            out[kind] = {"per_s": round(total / wall, 1),
                         "p50_ms": round(statistics.median(lat), 2),
                         "p95_ms": round(pct(lat, 0.95), 2)}  # fmt: skip
    return out


def log_rates(urls: tuple[str, str], root: Path, n: int) -> dict[str, Any]:
    """The PostgreSQL log against LMDB's: encoding through `remember_many` (batches of 1000,
    each memory with a client id) into `urls[0]`; replay (read, decode and fold every event);
    into `urls[1]`: appending the encoded events again as new ones (batches of 1000, no client
    id), and `copy_log` of the LMDB store (`nmem migrate`: batches of 4096, client ids kept,
    each looked up before it is appended)."""
    data = workload.generate(n)
    out: dict[str, Any] = {"n": n}
    lmdb = root / "rates-lmdb"
    for name, where in (("lmdb", str(lmdb)), ("postgres", urls[0])):
        with Store(where) as store:
            brain = store.brain(BRAIN)
            t0 = time.perf_counter()
            for i in range(0, n, 1000):
                brain.remember_many(MemoryInput(text=t, event_time=w, cid=f"r{i + j}")
                                    for j, (t, w) in enumerate(data[i : i + 1000]))  # fmt: skip
            out[f"{name}_encode_per_s"] = round(n / (time.perf_counter() - t0), 1)
            bid, head = brain.id, brain.seq
        log = open_log(where, create=False)
        try:
            best = 0.0
            for _ in range(3):
                t0 = time.perf_counter()
                p = Projection(bid)
                with log.reader() as r:
                    apply_all(p, r.events(bid))
                best = max(best, head / (time.perf_counter() - t0))
            out[f"{name}_replay_events_per_s"] = round(best)
        finally:
            log.close()
    src, dst = open_log(lmdb, create=False), open_log(urls[1])
    try:
        with src.reader() as r:
            envs = list(r.events(r.brains()[BRAIN]))
        fresh = uuid.uuid4().hex
        t0 = time.perf_counter()
        for i in range(0, len(envs), 1000):  # new events (no client id to look up), as remember
            dst.write(partial(_append_new, fresh, envs[i : i + 1000]))
        out["postgres_append_events_per_s"] = round(len(envs) / (time.perf_counter() - t0))
        t0 = time.perf_counter()
        copied = sum(copy_log(src, dst).values())  # each with its client id, looked up first
        out["postgres_migrate_events_per_s"] = round(copied / (time.perf_counter() - t0))
    finally:
        src.close()
        dst.close()
    return out


def _append_new(brain_id: str, envs: list[ev.Envelope], w: Writer) -> None:
    for env in envs:
        w.append(brain_id, env.body, refs=ev.touched(env.body))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preload", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--requests", type=int, default=100, help="per client and phase")
    parser.add_argument("--log-n", type=int, default=10000, help="memories for the log rates")
    parser.add_argument("--only-log", action="store_true", help="only the log's rates")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    results: dict[str, Any] = {"preload": args.preload, "clients": args.clients,
                               "requests_per_client": args.requests}  # fmt: skip
    from postgres_cluster import Cluster  # type: ignore[import-not-found]

    pg = Cluster(fsync=True)
    with tempfile.TemporaryDirectory() as tmp:
        if not args.only_log:
            results["embedded_lmdb"] = embedded(Path(tmp) / "embedded", args)
            print(json.dumps(results), flush=True)
            results["http_lmdb_1"] = through_balancer([str(Path(tmp) / "served")], args)
            print(json.dumps(results), flush=True)
            for servers in (1, 2, 3):
                url = pg.new_store()
                results[f"http_postgres_{servers}"] = through_balancer([url] * servers, args)
                print(json.dumps(results), flush=True)
        results["log"] = log_rates((pg.new_store(), pg.new_store()), Path(tmp), args.log_n)
        print(json.dumps(results), flush=True)
    pg.stop()
    write_report("neuralmemory (this repo), several API servers", [results], args.out)


if __name__ == "__main__":
    main()
