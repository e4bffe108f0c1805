"""The HTTP server's limits against a real `nmem serve` on 127.0.0.1: hostile numbers and
nesting are 400s naming the field, never 5xx; a 405 lists every method of its path; settings
keep their ranges on every path; slow clients are cut (raw sockets); `--host [::1]` serves."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import msgspec
import pytest
from services import ROOT, free_port, nmem, serving
from test_http import error_of

from adapters.http_limits import Limits
from adapters.http_server import openapi_document
from engine import InputError, Store
from engine.events import BrainConfig

BAD_SETTINGS = [  # the values the issue found accepted, and their neighbours
    ("max_context_tokens", -5), ("max_context_tokens", 1e30), ("max_context_tokens", 0),
    ("checkpoint_every", -1), ("prune_retention", 2.0), ("prune_retention", 1.0),
    ("temporal_link_window_s", -1), ("hop_decay", 1e308), ("hop_decay", 0),
    ("activation_threshold", -0.1), ("temporal_links", 1000), ("reinforce_delta", 5),
    ("decay_interval_s", -1), ("sensitive_policy", "maybe"),
]  # fmt: skip


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    store = tmp_path_factory.mktemp("limits") / "store"
    with serving(store) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def memory(api: httpx.Client) -> str:
    r = api.post("/brains/f/memories", json={"text": "The launch is on Friday"})
    assert r.status_code == 201, r.text
    project = api.post("/brains/f/projects", json={"name": "p1", "duration_days": 5})
    assert project.status_code == 201
    mid: str = r.json()["id"]
    return mid


def run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, capture_output=True, text=True, cwd=ROOT, timeout=60, check=False
    )


def raw(api: httpx.Client, method: str, path: str, body: str) -> httpx.Response:
    return api.request(method, path, content=body, headers={"content-type": "application/json"})


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("PATCH", "/brains/f/memories/{id}", '{"expires_days": 1e15}', "expires_days"),
        ("PATCH", "/brains/f/memories/{id}", '{"expires_days": 1e300}', "expires_days"),
        ("POST", "/brains/f/memories", '{"text": "x y", "expires_days": 1e308}', "expires_days"),
        ("POST", "/brains/f/projects", '{"name": "q", "duration_days": 1e300}', "duration_days"),
        ("POST", "/brains/f/projects/p1/extend", '{"days": 1e308}', "days"),
        ("PATCH", "/brains/f/config", '{"max_context_tokens": 1e30}', "max_context_tokens"),
        ("POST", "/brains/f/recall", '{"query": "x", "limit": 1e300}', "limit"),
        ("POST", "/brains/f/recall", '{"query": "x", "at": 100000000000000000000000}', "at"),
        ("POST", "/brains/f/memories", '{"text": "x y", "priority": 11}', "priority"),
        ("POST", "/brains/f/memories", '{"text": "x y", "priority": true}', "priority"),
        ("POST", "/brains/f/memories", '{"text": "x y", "cid": "' + "😀" * 200 + '"}', "cid"),
        ("POST", "/brains/f/memories", '[{"text": "x y"}, {"txt": "z"}]', "txt"),
        ("POST", "/brains/f/memories", '{"text": "x y", "type": "rumour"}', "type"),
        ("POST", "/brains", '{"name": "no spaces"}', "name"),
    ],
)
def test_out_of_range_is_400_naming_the_field(
    api: httpx.Client, memory: str, method: str, path: str, body: str, field: str
) -> None:
    message = error_of(raw(api, method, path.format(id=memory), body), 400)
    assert field in message


@pytest.mark.parametrize(
    "body", ["[" * 100_000, '{"a":' * 20_000, '{"text": ' + "[" * 100_000, "{" * 50_000]
)
@pytest.mark.parametrize("path", ["/brains/f/memories", "/brains/f/config", "/check"])
def test_deep_nesting_is_400(api: httpx.Client, body: str, path: str) -> None:
    method = "PATCH" if path.endswith("config") else "POST"
    error_of(raw(api, method, path, body), 400)


def test_deep_nesting_in_an_import_is_400(api: httpx.Client) -> None:
    for body in ("[" * 100_000, '{"a":' * 20_000, '{"kind": "snapshot", "x": ' + "[" * 100_000):
        r = api.post("/brains/f/import", content=body)
        error_of(r, 400)


def test_path_and_query_are_checked(api: httpx.Client, memory: str) -> None:
    assert "brain" in error_of(api.get("/brains/bad%20name/stats"), 400)
    assert "id" in error_of(api.get("/brains/f/memories/no%20such"), 400)
    assert "limit" in error_of(api.get("/brains/f/memories", params={"limit": 0}), 400)
    assert "limit" in error_of(api.get("/brains/f/memories", params={"limit": "1e400"}), 400)
    assert "zzz" in error_of(api.get("/brains/f/memories", params={"zzz": 1}), 400)
    assert "from" in error_of(api.get("/brains/f/diff"), 400)
    assert "days" in error_of(api.get("/brains/f/overview", params={"days": 10**30}), 400)
    r = api.get("/brains/f/memories", params={"type": "fact,decision", "limit": "5"})
    assert r.status_code == 200, r.text
    assert r.json()["count"] == 1


def test_405_lists_every_method_of_the_path(api: httpx.Client) -> None:
    doc = openapi_document()
    checked = 0
    for path, ops in doc["paths"].items():
        if any(op.get("tags") == ["events"] for op in ops.values()):
            continue  # a WebSocket route
        url = path.format(brain="f", id="abcd", name="p1", asset="app.js")
        r = api.request("PUT" if "put" not in ops else "TRACE", url)
        error_of(r, 405)
        expected = {m.upper() for m in ops} | ({"HEAD"} if "get" in ops else set())
        assert set(r.headers["allow"].replace(" ", "").split(",")) == expected, path
        checked += 1
    assert checked > 20


def test_settings_keep_their_ranges_on_every_path(
    api: httpx.Client, memory: str, tmp_path: Path
) -> None:
    for name, value in BAD_SETTINGS:
        message = error_of(api.patch("/brains/f/config", json={name: value}), 400)
        assert name in message
    assert api.get("/brains/f/config").json() == {
        **{k: getattr(BrainConfig(), k) for k in BrainConfig.__struct_fields__},
    }
    assert api.patch("/brains/f/config", json={"max_context_tokens": 900}).status_code == 200

    store = tmp_path / "store"
    with Store(store) as s:
        s.brain("default")  # the CLI configures a brain that exists
    for name, value in BAD_SETTINGS[:3]:
        done = run(nmem("brain", "config", f"{name}={value}", "--store", str(store)))
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith(f"nmem: error: setting {name} must be"), done.stderr
        assert "Traceback" not in done.stderr
    with Store(store) as s:
        brain = s.brain("default")
        for name, value in BAD_SETTINGS:
            with pytest.raises(InputError, match=f"setting {name} must be"):
                brain.configure(**{name: value})
        with pytest.raises(InputError, match="max_context_tokens"):
            s.create_brain("other", BrainConfig(max_context_tokens=-5))
        assert brain.config == BrainConfig()
        history = json.loads(msgspec.json.encode(list(brain.export_history())))
        history[1]["body"]["config"]["hop_decay"] = 1e308  # a crafted history
        with pytest.raises(InputError, match="hop_decay"):
            s.brain("imported").import_history(history)


def test_client_id_too_long_names_the_field(tmp_path: Path) -> None:
    store = str(tmp_path / "s")
    done = run(nmem("remember", "plain text here", "--id", "😀" * 200, "--store", store))
    assert done.returncode == 2
    assert "client id" in done.stderr
    assert "Traceback" not in done.stderr


def test_openapi_states_the_enforced_constraints() -> None:
    doc = openapi_document()
    schemas = doc["components"]["schemas"]
    memory = schemas["NewMemory"]["properties"]
    assert memory["priority"]["minimum"] == 0
    assert memory["priority"]["maximum"] == 10
    assert memory["expires_days"]["maximum"] == 36_500
    assert memory["cid"]["maxLength"] * 4 <= 470
    assert schemas["NewMemory"]["additionalProperties"] is False
    config = schemas["ConfigChange"]["properties"]
    assert config["prune_retention"]["exclusiveMaximum"] == 1
    assert config["max_context_tokens"]["minimum"] == 1
    get = doc["paths"]["/brains/{brain}/memories/{id}"]["get"]["parameters"]
    assert {p["name"]: p["schema"].get("pattern") for p in get if p["in"] == "path"} == {
        "brain": "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
        "id": "^[A-Za-z0-9_-]{1,64}$",
    }
    edit = doc["paths"]["/brains/{brain}/memories/{id}"]["patch"]["requestBody"]
    assert edit["content"]["application/json"]["schema"]["minProperties"] == 1


# -- slow clients ----------------------------------------------------------------------------


def test_default_limits_cut_the_reported_slow_clients() -> None:
    limits = Limits()
    assert limits.headers < 45  # unfinished headers were held 45 s
    assert limits.body < 75  # a partial body was held 75 s
    assert limits.connections <= 1000


def _closed_within(sock: socket.socket, seconds: float) -> tuple[bytes, float]:
    """What the server sent before it closed the connection, and how long that took."""
    start = time.monotonic()
    sock.settimeout(seconds)
    got = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            raise AssertionError(f"still open after {seconds} s; got {got[:200]!r}") from None
        if not chunk:
            return got, time.monotonic() - start
        got += chunk


def test_slow_clients_are_cut(tmp_path: Path) -> None:
    limits = ("--header-timeout", "1", "--body-timeout", "1.5", "--max-connections", "4")
    with serving(tmp_path / "store", *limits) as url:
        port = int(url.rsplit(":", 1)[1])

        def connect() -> socket.socket:
            return socket.create_connection(("127.0.0.1", port), timeout=5)

        with connect() as idle:  # says nothing at all
            assert _closed_within(idle, 5) == (b"", pytest.approx(1, abs=0.9))
        with connect() as slow:  # unfinished headers
            slow.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            got, _ = _closed_within(slow, 5)
            assert got == b""
        with connect() as partial:  # a body that never finishes
            partial.sendall(b"POST /brains/f/memories HTTP/1.1\r\nHost: x\r\nContent-Type: "
                            b"application/json\r\nContent-Length: 100\r\n\r\n{\"te")  # fmt: skip
            got, took = _closed_within(partial, 6)
            assert got.startswith(b"HTTP/1.1 408 "), got
            assert b"did not arrive within 1.5 s" in got
            assert took < 4
        with connect() as unread:  # a body nobody reads (GET takes none), trickled
            unread.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
            for _ in range(3):
                time.sleep(0.5)
                try:
                    unread.sendall(b"x")
                except OSError:
                    break
            got, _ = _closed_within(unread, 5)
            assert got.startswith((b"HTTP/1.1 413 ", b"HTTP/1.1 200 ")), got

        held = [connect() for _ in range(3)]
        try:
            for s in held:
                s.sendall(b"GET /health HTTP/1.1\r\n")
            time.sleep(0.2)
            over = httpx.get(url + "/health", timeout=5)
            assert over.status_code == 503  # the connection limit: 3 held + this one
            time.sleep(1.5)  # the held ones are cut by the header timeout
            assert httpx.get(url + "/health", timeout=5).status_code == 200
        finally:
            for s in held:
                s.close()
        ok = httpx.post(url + "/brains/f/memories", json={"text": "still serving"}, timeout=5)
        assert ok.status_code == 201


def test_bad_limits_are_refused(tmp_path: Path) -> None:
    for flag, value in (("--header-timeout", "0"), ("--body-timeout", "-1"),
                        ("--max-connections", "0")):  # fmt: skip
        done = run(nmem("serve", "--store", str(tmp_path / "s"), "--port", "0", flag, value))
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr


# -- hosts -----------------------------------------------------------------------------------


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _ipv6_loopback(), reason="this machine has no IPv6 loopback")
@pytest.mark.parametrize("host", ["[::1]", "::1"])
def test_ipv6_loopback_host(tmp_path: Path, host: str) -> None:
    port = free_port()
    proc = subprocess.Popen(
        nmem("serve", "--store", str(tmp_path / "s"), "--host", host, "--port", str(port)),
        stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert f"http://[::1]:{port} " in line, line
        assert "[[" not in line
        deadline = time.monotonic() + 20
        while True:
            try:
                r = httpx.get(f"http://[::1]:{port}/health", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert r.status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=15)
    assert proc.returncode == 0


def test_port_zero_shows_the_bound_port_and_a_taken_port_is_one_line(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = run(nmem("serve", "--store", str(tmp_path / "s"), "--port", str(port)))
    assert done.returncode == 2
    assert done.stderr.startswith(f"nmem: error: cannot listen on 127.0.0.1 port {port}")
    assert len(done.stderr.splitlines()) == 1


@pytest.mark.parametrize("host", ["0.0.0.0", "[::]", "10.1.2.3", "example.com"])
def test_other_hosts_still_need_tokens(tmp_path: Path, host: str) -> None:
    done = run(nmem("serve", "--store", str(tmp_path / "s"), "--host", host, "--port", "0"))
    assert done.returncode == 2
    assert "without --tokens" in done.stderr
