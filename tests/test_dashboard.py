"""The dashboard's routes on a real `nmem serve`: the page and its files, its reads as of any
moment, tokens (a read token sees, a write token acts), hostile input, and `nmem ui`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from services import ROOT, free_port, nmem, serving

TEAM = [
    "Alice moved payments to PostgreSQL 16",
    "Bob fixed the login bug in the auth service",
    "Payments team decided to use Redis for caching",
    "Carol prefers dark mode in the editor",
]
READ, WRITE = "read-token-0123", "write-token-0123"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    store = tmp_path_factory.mktemp("dash") / "store"
    with serving(store) as url, httpx.Client(base_url=url, timeout=20) as api:
        done = [api.post("/brains/team/memories", json={"text": t}).json() for t in TEAM]
        yield url, done


@pytest.fixture(scope="module")
def api(server: tuple[str, list[dict[str, Any]]]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server[0], timeout=20) as client:
        yield client


def one_line_error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert "\n" not in body["error"]
    assert "Traceback" not in body["error"]
    return str(body["error"])


def test_the_page_and_its_files_are_served_with_a_strict_policy(api: httpx.Client) -> None:
    page = api.get("/ui")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self'" in policy
    assert "connect-src 'self' ws: wss:" in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    html = page.text
    assert '<script src="/ui/app.js"' in html
    assert "http://" not in html
    assert "https://" not in html  # no CDN: everything comes from this server
    for name, media in (("app.js", "text/javascript"), ("app.css", "text/css"),
                        ("favicon.svg", "image/svg+xml")):  # fmt: skip
        got = api.get(f"/ui/{name}")
        assert got.status_code == 200
        assert got.headers["content-type"].startswith(media)
        assert "https://" not in got.text.replace("http://www.w3.org/2000/svg", "")
    assert "nope" in one_line_error(api.get("/ui/nope.js"), 404)
    one_line_error(api.get("/ui/..%2Fhttp_server.py"), 404)


def test_the_dashboard_routes_are_in_the_openapi_document(api: httpx.Client) -> None:
    doc = api.get("/openapi.json").json()
    paths = doc["paths"]
    for path in ("/ui", "/ui/{asset}", "/whoami", "/brains/{brain}/overview",
                 "/brains/{brain}/graph", "/brains/{brain}/explain"):  # fmt: skip
        assert "get" in paths[path], path
    explain = paths["/brains/{brain}/explain"]["get"]
    params = {p["name"]: p for p in explain["parameters"]}
    assert params["query"]["required"] is True
    assert params["limit"]["schema"]["maximum"] == 100
    assert explain["x-access"] == "read"
    graph = {p["name"]: p for p in paths["/brains/{brain}/graph"]["get"]["parameters"]}
    assert {"memory", "query", "depth", "limit", "at"} <= set(graph)


def test_overview_as_of_a_moment(
    api: httpx.Client, server: tuple[str, list[dict[str, Any]]]
) -> None:
    _, done = server
    now = api.get("/brains/team/overview").json()
    assert now["memories"] == len(TEAM)
    assert now["head"]["seq"] == now["seq"] == done[-1]["seq"]
    assert sum(d["events"] for d in now["days"]) == now["seq"]
    assert sum(d["memories"] for d in now["days"]) == len(TEAM)
    assert now["store_bytes"] > 0
    before = api.get("/brains/team/overview", params={"at": done[1]["seq"]}).json()
    assert before["memories"] == 2
    assert before["seq"] == done[1]["seq"]
    assert before["head"]["seq"] == now["seq"]  # the slider's end stays the live head


def test_graph_and_explain_over_http(
    api: httpx.Client, server: tuple[str, list[dict[str, Any]]]
) -> None:
    _, done = server
    graph = api.get("/brains/team/graph", params={"query": "payments"}).json()
    ids = {n.get("memory_id") for n in graph["nodes"]}
    assert {done[0]["id"], done[2]["id"]} <= ids
    past = api.get("/brains/team/graph", params={"query": "payments", "at": done[1]["seq"]})
    assert done[2]["id"] not in {n.get("memory_id") for n in past.json()["nodes"]}
    around = api.get("/brains/team/graph", params={"memory": done[0]["id"][:8]}).json()
    assert around["memory_id"] == done[0]["id"]
    seq = api.get("/brains/team/overview").json()["seq"]
    explained = api.get("/brains/team/explain", params={"query": "payments Redis"}).json()
    assert explained["memories"][0]["id"] == done[2]["id"]
    anchor = explained["memories"][0]["paths"][0]["nodes"][0]["anchor"]
    assert anchor.lower() in {a.lower() for a in explained["anchors"]}
    for _ in range(35):  # past the reinforcement batch: looking never writes
        api.get("/brains/team/explain", params={"query": "payments"})
    assert api.get("/brains/team/overview").json()["seq"] == seq


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/brains/team/graph", {}),
        ("/brains/team/graph", {"memory": "x" * 5000}),
        ("/brains/team/graph", {"memory": "abcd", "query": "payments"}),
        ("/brains/team/graph", {"query": "payments", "limit": "99999999999999999999999"}),
        ("/brains/team/graph", {"query": "payments", "limit": "NaN"}),
        ("/brains/team/graph", {"query": "payments", "depth": "-1"}),
        ("/brains/team/explain", {}),
        ("/brains/team/explain", {"query": "a" * 20_000}),
        ("/brains/team/explain", {"query": "payments", "paths": "0"}),
        ("/brains/team/explain", {"query": "payments", "at": "10 years in the future"}),
        ("/brains/team/explain", {"query": "payments", "at": "999999999"}),
        ("/brains/team/overview", {"days": "0"}),
        ("/brains/team/overview", {"days": "1e309"}),
        ("/brains/team/overview", {"at": "-3"}),
        ("/brains/team/overview", {"colour": "blue"}),
        ("/brains/nobody/overview", {}),
        ("/brains/nobody/graph", {"query": "x"}),
    ],
)
def test_bad_input_gets_a_one_line_4xx(
    api: httpx.Client, path: str, params: dict[str, str]
) -> None:
    response = api.get(path, params=params)
    assert 400 <= response.status_code < 500, response.text
    one_line_error(response, response.status_code)


def test_bytes_that_are_not_utf8_match_nothing(api: httpx.Client) -> None:
    response = api.get("/brains/team/graph?query=%FF%FE%00")
    assert response.status_code == 200, response.text
    assert response.json()["nodes"] == []
    assert api.get("/brains/team/explain?query=%FF%FE").json()["memories"] == []


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("guarded")
    tokens = folder / "tokens.json"
    tokens.write_text(json.dumps({"tokens": [
        {"token": READ, "brains": ["team"], "access": "read"},
        {"token": WRITE, "brains": ["*"], "access": "write"},
    ]}))  # fmt: skip
    with serving(folder / "store", "--tokens", str(tokens)) as url:
        with httpx.Client(base_url=url, timeout=20) as api:
            api.post("/brains/team/memories", json={"text": TEAM[0]},
                     headers={"Authorization": f"Bearer {WRITE}"})  # fmt: skip
        yield url


def test_tokens_a_read_token_sees_and_a_write_token_acts(guarded: str) -> None:
    with httpx.Client(base_url=guarded, timeout=20) as api:
        assert api.get("/ui").status_code == 200  # the page holds no data: it asks for a token
        one_line_error(api.get("/whoami"), 401)
        one_line_error(api.get("/brains/team/overview"), 401)
        read = {"Authorization": f"Bearer {READ}"}
        write = {"Authorization": f"Bearer {WRITE}"}
        assert api.get("/whoami", headers=read).json() == {
            "auth": True, "access": "read", "brains": ["team"]}  # fmt: skip
        assert api.get("/whoami", headers=write).json()["access"] == "write"
        assert api.get("/brains/team/overview", headers=read).json()["memories"] == 1
        memory = api.get("/brains/team/memories", headers=read).json()["memories"][0]
        one_line_error(api.post(f"/brains/team/memories/{memory['id']}/pin", headers=read), 403)
        pinned = api.post(f"/brains/team/memories/{memory['id']}/pin", headers=write)
        assert pinned.status_code == 200
        assert pinned.json()["event"] == "memory_pinned"


@contextmanager
def nmem_ui(tmp_path: Path, *extra: str) -> Iterator[tuple[int, Path]]:
    """`nmem ui` on a free port with $BROWSER a script that writes the page it is given to a
    file; yields (port, that file) and stops it with Ctrl-C, checking it stopped cleanly."""
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser"
    browser.write_text(f'#!/bin/sh\necho "$1" > {opened}\n')
    browser.chmod(0o755)
    port = free_port()
    env = {**os.environ, "BROWSER": str(browser)}
    proc = subprocess.Popen(
        nmem("ui", "--store", str(tmp_path / "store"), "--port", str(port), *extra),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        yield port, opened
        assert proc.poll() is None, proc.communicate()[1]
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert f"http://127.0.0.1:{port}/ui" in err


def test_nmem_ui_serves_on_loopback_and_opens_the_page(tmp_path: Path) -> None:
    with nmem_ui(tmp_path, "--brain", "work") as (port, opened):
        deadline = time.monotonic() + 30
        while not (opened.exists() and opened.read_text().strip()):
            assert time.monotonic() < deadline, "nmem ui opened no page"
            time.sleep(0.05)
        page = opened.read_text().strip()
        assert page == f"http://127.0.0.1:{port}/ui#/overview?brain=work"
        answer = httpx.get(page.partition("#")[0], timeout=10)
        assert answer.status_code == 200
        assert "NeuralMemory" in answer.text


def test_nmem_ui_with_no_open_opens_nothing(tmp_path: Path) -> None:
    with nmem_ui(tmp_path, "--no-open") as (port, opened):
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/ui", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "nmem ui did not start"
            time.sleep(0.05)
        time.sleep(0.5)  # a browser thread, had one started, would have run by now
        assert not opened.exists()
