"""What operating a server and using it with --remote cost, on one machine over loopback.

    python tools/bench/remote_bench.py --n 2000 --runs 7 --out tools/bench/results/remote.json

A brain of `n` memories (the shared workload) is served by `nmem serve` on 127.0.0.1. Measured:
what the request-log middleware adds to a request (in process, around an app that does
nothing: timing, the request id, the metrics counter, and the JSON line written to a file, or
not); one `GET /metrics` scrape (median); a recall request; and, as fresh `nmem` processes
(what a shell user waits for), `recall` and `remember` on the store itself beside the same
commands with `--remote` (a replica already in sync: the first sync is measured apart).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import workload

from engine import MemoryInput, Store

NMEM = str(Path(sys.executable).with_name("nmem"))
QUERY = "which database do payments use?"


@contextmanager
def served(store: Path, *extra: str) -> Iterator[str]:
    with socket_port() as port:
        pass  # free now: the server takes it
    proc = subprocess.Popen(
        [NMEM, "serve", "--store", str(store), "--port", str(port), *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@contextmanager
def socket_port() -> Iterator[int]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield int(s.getsockname()[1])


def request_ms(url: str, runs: int) -> float:
    """Median wall time of a recall request (a kept-alive connection)."""
    times = []
    with httpx.Client(base_url=url, timeout=60) as api:
        for _ in range(runs):
            start = time.perf_counter()
            assert api.post("/brains/work/recall", json={"query": QUERY}).status_code == 200
            times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 2)


def middleware_us(log: TextIO | None, requests: int = 20_000) -> float:
    """Microseconds RequestLog adds to one request (best of 5 rounds)."""
    import anyio

    from adapters.metrics import Metrics
    from adapters.request_log import RequestLog, request_logger

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def sent(message: Any) -> None:
        pass

    async def nothing() -> Any:
        return {"type": "http.disconnect"}

    scope = {"type": "http", "method": "GET", "path": "/x", "headers": [], "client": ("1", 1)}

    async def rounds(handler: Any) -> float:
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(requests):
                await handler(dict(scope), nothing, sent)
            best = min(best, (time.perf_counter() - start) / requests)
        return best

    logged = RequestLog(app, Metrics(), None if log is None else request_logger(log))
    bare = anyio.run(rounds, app)
    return round((anyio.run(rounds, logged) - bare) * 1e6, 1)


def command_ms(args: list[str], runs: int) -> float:
    """Median wall time of a fresh `nmem` process."""
    times = []
    env = {**os.environ, "NO_COLOR": "1"}
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([NMEM, *args], check=True, capture_output=True, env=env)
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="memories in the brain")
    parser.add_argument("--runs", type=int, default=7, help="repetitions per figure")
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    a = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="nmem-remote-bench-"))
    try:
        store, replica = root / "store", root / "replica"
        with Store(store) as s:
            items = [MemoryInput(text=t, event_time=when) for t, when in workload.generate(a.n)]
            s.brain("work").remember_many(items)
        out: dict[str, Any] = {
            "n": a.n, "runs": a.runs, "machine": platform.platform(),
            "cpus": os.cpu_count(), "date": datetime.now(UTC).date().isoformat(),
        }  # fmt: skip
        with (root / "requests.jsonl").open("w") as log:
            out["middleware_us_logged"] = middleware_us(log)
        out["middleware_us_unlogged"] = middleware_us(None)
        with served(store, "--request-log", "off") as url:
            out["recall_request_ms"] = request_ms(url, a.runs * 10)
            with httpx.Client(base_url=url) as api:
                scrapes = []
                for _ in range(a.runs * 3):
                    start = time.perf_counter()
                    api.get("/metrics").raise_for_status()
                    scrapes.append((time.perf_counter() - start) * 1000)
            out["metrics_scrape_ms"] = round(statistics.median(scrapes), 2)
            remote = ["--remote", url, "--store", str(replica), "--brain", "work"]
            out["first_sync_ms"] = command_ms(["stats", *remote], 1)
            local = ["--store", str(store), "--brain", "work"]
            out["cli_recall_ms_local"] = command_ms(["recall", QUERY, *local], a.runs)
            out["cli_recall_ms_remote"] = command_ms(["recall", QUERY, *remote], a.runs)
            out["cli_remember_ms_local"] = command_ms(["remember", "a local note", *local], a.runs)
            out["cli_remember_ms_remote"] = command_ms(["remember", "a remote note", *remote],
                                                       a.runs)  # fmt: skip
    finally:
        shutil.rmtree(root, ignore_errors=True)
    text = json.dumps(out, indent=2)
    print(text)
    if a.out:
        a.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
