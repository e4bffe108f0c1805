"""What an operator sees of `nmem serve`: GET /metrics read with prometheus_client's own parser,
and the JSON request log read back line by line, against a real server on 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from services import nmem, serving
from websockets.sync import client as ws_client

from adapters.http_server import load_tokens
from adapters.request_log import request_id
from engine import InputError

OPS, WRITER, TENANT = "ops-scraper-secret", "alice-laptop-secret", "tenant-b-secret"
TOKENS = {
    "tokens": [
        {"token": OPS, "brains": ["*"], "access": "read", "name": "prometheus"},
        {"token": WRITER, "brains": ["work"], "access": "write", "name": "alice-laptop"},
        {"token": TENANT, "brains": ["other"], "access": "write"},
    ]
}
SECRET_TEXT = "Payments settle through the Zanzibar ledger"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, Path]]:
    """(url, store, request log) of a server with tokens, logging requests to a file."""
    root = tmp_path_factory.mktemp("ops")
    tokens, log = root / "tokens.json", root / "requests.jsonl"
    tokens.write_text(json.dumps(TOKENS))
    store = root / "store"
    with serving(store, "--tokens", str(tokens), "--request-log", str(log)) as url:
        yield url, store, log


def client(url: str, token: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=url, headers=headers, timeout=20)


def scrape(url: str, token: str | None = OPS) -> dict[str, list[Any]]:
    """/metrics parsed: metric family name -> its samples."""
    with client(url, token) as api:
        r = api.get("/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {f.name: f.samples for f in text_string_to_metric_families(r.text)}


def value(families: dict[str, list[Any]], sample: str, **labels: str) -> float:
    found = [
        s.value
        for samples in families.values()
        for s in samples
        if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items())
    ]
    assert len(found) == 1, (sample, labels, found)
    return float(found[0])


def test_metrics_count_events_requests_recall_latency_and_lag(
    served: tuple[str, Path, Path],
) -> None:
    url, store, _ = served
    with client(url, WRITER) as alice, client(url, TENANT) as tenant:
        for text in ("Alice moved payments to PostgreSQL 16", "Bob owns the webhook sender"):
            assert alice.post("/brains/work/memories", json={"text": text}).status_code == 201
        assert tenant.post("/brains/other/memories", json={"text": "b"}).status_code == 201
        for _ in range(3):
            assert alice.post("/brains/work/recall", json={"query": "payments"}).status_code == 200
        assert alice.post("/brains/work/recall", json={"query": 3}).status_code == 400
        assert alice.get("/no/such/route").status_code == 404
    with client(url, None) as anonymous:
        assert anonymous.get("/brains").status_code == 401
        assert anonymous.get("/metrics").status_code == 401  # a token file: scrapes need one
    with client(url, OPS) as ops:
        heads = {b["name"]: b["seq"] for b in ops.get("/brains").json()["brains"]}

    m = scrape(url)
    assert value(m, "nmem_events_total", brain="work") == heads["work"] == 3  # created + 2
    assert value(m, "nmem_events_total", brain="other") == heads["other"]
    assert value(m, "nmem_projection_seq", brain="work") == heads["work"]
    assert value(m, "nmem_projection_lag_events", brain="work") == 0
    assert value(m, "nmem_recall_duration_seconds_count") == 3  # the refused one is not timed
    assert 0 < value(m, "nmem_recall_duration_seconds_sum") < 30
    assert value(m, "nmem_recall_duration_seconds_bucket", le="+Inf") == 3
    route = "/brains/{brain}/recall"
    assert value(m, "nmem_http_requests_total", route=route, status="200") == 3
    assert value(m, "nmem_http_requests_total", route=route, status="400") == 1
    assert value(m, "nmem_http_requests_total", route="unmatched", status="404") == 1
    assert value(m, "nmem_http_requests_total", route="/metrics", status="401") == 1
    assert value(m, "nmem_log_size_bytes") > 0
    assert value(m, "process_resident_memory_bytes") > 0

    # another process appends to the store: the log's head moves, this server's projection
    # has not folded it until it reads the brain again
    done = subprocess.run(
        nmem("remember", "Carol reviews the ledger", "--store", str(store), "--brain", "work"),
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    m = scrape(url)
    head = value(m, "nmem_events_total", brain="work")
    assert head == heads["work"] + 1
    lag = value(m, "nmem_projection_lag_events", brain="work")
    assert lag == head - value(m, "nmem_projection_seq", brain="work")
    assert lag in (0, 1)  # 1 unless the server folds on its own (PostgreSQL's LISTEN/NOTIFY)
    with client(url, OPS) as ops:
        assert ops.post("/brains/work/recall", json={"query": "ledger"}).status_code == 200
    m = scrape(url)
    assert value(m, "nmem_projection_lag_events", brain="work") == 0
    assert value(m, "nmem_projection_seq", brain="work") == head


def test_metrics_show_a_tenant_only_its_brains(served: tuple[str, Path, Path]) -> None:
    url, _, _ = served
    with client(url, TENANT) as tenant:
        assert tenant.post("/brains/other/memories", json={"text": "c"}).status_code == 201
    brains = {
        s.labels["brain"]
        for samples in scrape(url, TENANT).values()
        for s in samples
        if "brain" in s.labels
    }
    assert brains == {"other"}


def test_request_log_is_json_lines_without_bodies_or_secrets(
    served: tuple[str, Path, Path],
) -> None:
    url, _, log = served
    with client(url, WRITER) as alice:
        r = alice.post(
            "/brains/work/memories", json={"text": SECRET_TEXT}, headers={"X-Request-Id": "req-42"}
        )
        assert r.status_code == 201
        assert r.headers["x-request-id"] == "req-42"
        memory_id = r.json()["id"]
        r = alice.get(f"/brains/work/memories/{memory_id}", headers={"X-Request-Id": "a b\x7f"})
        assert r.status_code == 200
        drawn = r.headers["x-request-id"]  # not a sane id: a new one
        assert len(drawn) == 32
        assert drawn != "a b\x7f"
        assert alice.post("/brains/work/recall", json={"query": "Zanzibar"}).status_code == 200
    ws_url = url.replace("http://", "ws://") + "/brains/work/events?from=0"
    with ws_client.connect(ws_url, additional_headers={"Authorization": f"Bearer {WRITER}"}) as ws:
        ws.recv(timeout=10)
    with client(url, OPS) as ops:
        ops.get("/health")  # the log line of the stream above is written once it has ended

    lines = log.read_text().splitlines()
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    fields = {"request_id", "method", "route", "status", "duration_ms", "brain", "token",
              "client", "event", "level", "time"}  # fmt: skip
    assert all(set(r) == fields for r in records), records[-1]
    assert all(r["event"] == "request" and r["client"] == "127.0.0.1" for r in records)
    by_id = {r["request_id"]: r for r in records}
    tagged = by_id["req-42"]
    assert tagged["method"] == "POST"
    assert tagged["route"] == "/brains/{brain}/memories"
    assert tagged["status"] == 201
    assert tagged["brain"] == "work"
    assert tagged["token"] == "alice-laptop"
    assert tagged["duration_ms"] > 0
    shown = by_id[drawn]
    assert shown["route"] == "/brains/{brain}/memories/{id}"  # the template, not the id
    assert any(r["method"] == "WS" and r["status"] == 101 for r in records)
    assert {r["token"] for r in records} >= {"prometheus", "alice-laptop", "token-3", None}
    text = log.read_text()
    for never in (OPS, WRITER, TENANT, SECRET_TEXT, "Zanzibar", memory_id):
        assert never not in text


def test_request_ids_and_token_names() -> None:
    assert request_id([(b"x-request-id", b"trace-7.a:b_c")]) == "trace-7.a:b_c"
    for bad in (b"", b"x" * 129, b"new\nline", b'quote"'):
        assert request_id([(b"X-Request-Id", bad)]) != bad.decode()
    assert len({request_id([]) for _ in range(50)}) == 50
    tokens = load_tokens([{"token": "12345678", "brains": ["a"], "access": "read"}])
    assert tokens[0].name == "token-1"
    with pytest.raises(InputError, match="'name'"):
        load_tokens([{"token": "12345678", "brains": ["a"], "access": "read", "name": ""}])


def test_request_log_can_be_off_or_refused(tmp_path: Path) -> None:
    done = subprocess.run(
        nmem("serve", "--store", str(tmp_path / "s"), "--request-log", str(tmp_path / "no/x")),
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "--request-log" in done.stderr
    with serving(tmp_path / "store", "--request-log", "off") as url:
        assert httpx.get(url + "/health").status_code == 200
        m = scrape(url, None)  # no token file: open, on loopback only
        assert value(m, "nmem_http_requests_total", route="/health", status="200") >= 1
