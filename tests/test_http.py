"""`nmem serve`: the HTTP server as a real process (uvicorn on a free loopback port), driven
with httpx and a WebSocket client; the OpenAPI document; the remote follower."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from services import nmem, serving
from websockets import exceptions as ws_errors
from websockets.sync import client as ws_client

from engine import InputError
from engine.brain import REINFORCE_EVERY

ROOT = Path(__file__).resolve().parents[1]
MIB = 1 << 20


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("http") / "store"


@pytest.fixture(scope="module")
def url(store: Path) -> Iterator[str]:
    with serving(store) as u:
        yield u


@pytest.fixture(scope="module")
def api(url: str) -> Iterator[Any]:
    with httpx.Client(base_url=url, timeout=20) as client:
        yield client


def error_of(response: Any, status: int) -> str:
    """The response is `status` with a one-line JSON error and nothing else."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}, body
    message = body["error"]
    assert isinstance(message, str)
    assert message
    assert "\n" not in message
    assert "Traceback" not in message
    return message


def remember(api: Any, brain: str, text: str, **fields: Any) -> dict[str, Any]:
    r = api.post(f"/brains/{brain}/memories", json={"text": text, **fields})
    assert r.status_code == 201, r.text
    done: dict[str, Any] = r.json()
    return done


def recalled(api: Any, brain: str, query: str, **options: Any) -> list[str]:
    r = api.post(f"/brains/{brain}/recall", json={"query": query, **options})
    assert r.status_code == 200, r.text
    return [m["id"] for m in r.json()["memories"]]


# -- the OpenAPI document ---------------------------------------------------------------------


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def test_openapi_document_describes_every_route(tmp_path: Path) -> None:
    from starlette.routing import Route, WebSocketRoute

    from adapters.http_server import create_app, route_table

    app = create_app(tmp_path / "store")
    doc = app.state.nmem.openapi
    app.state.nmem.close()
    assert doc["openapi"] == "3.1.0"
    assert doc["info"]["title"]
    assert doc["info"]["version"]
    served: set[tuple[str, str]] = set()
    for route in app.routes:
        if isinstance(route, WebSocketRoute):
            served.add(("get", route.path))
        else:
            assert isinstance(route, Route)
            served |= {(m.lower(), route.path) for m in route.methods or () if m != "HEAD"}
    documented = {(m, path) for path, item in doc["paths"].items() for m in item}
    assert served == documented
    assert len(served) == len(route_table()) >= 30
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    for path, item in doc["paths"].items():
        templated = set(path.replace("}", "{").split("{")[1::2])
        for method, op in item.items():
            assert method in ("get", "post", "patch", "delete")
            assert op["summary"], (method, path)
            assert op["responses"], (method, path)
            declared = {p["name"] for p in op["parameters"] if p["in"] == "path"}
            assert declared == templated, (method, path)
            for p in op["parameters"]:
                assert p["in"] in ("path", "query")
                assert "schema" in p
            for code in op["responses"]:
                assert code.isdigit()
    for ref in _refs(doc):  # every reference resolves inside the document
        node: Any = doc
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
    json.dumps(doc)  # plain JSON


def test_openapi_is_served(api: Any) -> None:
    r = api.get("/openapi.json")
    assert r.status_code == 200
    assert r.json()["paths"]["/brains/{brain}/recall"]["post"]["operationId"] == "recall"


# -- memories over REST -----------------------------------------------------------------------


def test_remember_recall_history_forget_restore_erase(api: Any) -> None:
    mysql = remember(api, "flow", "The payments service runs on MySQL 8", tags=["db"])
    assert mysql["brain"] == "flow"
    assert mysql["duplicate"] is False
    before = mysql["seq"]
    r = api.post(f"/brains/flow/memories/{mysql['id']}/forget", json={"reason": "migrated"})
    assert r.status_code == 200
    assert r.json()["event"] == "memory_forgotten"
    batch = api.post(
        "/brains/flow/memories",
        json=[
            {"text": "The payments service runs on PostgreSQL 16", "priority": 8, "cid": "pg"},
            {"text": "Write the payments migration runbook", "type": "todo"},
        ],
    )
    assert batch.status_code == 201
    pg, todo = batch.json()
    assert todo["memory_type"] == "todo"
    assert pg["priority"] == 8
    assert remember(api, "flow", "ignored: same key", cid="pg")["duplicate"] is True

    now = recalled(api, "flow", "what does the payments service run on?")
    assert pg["id"] in now
    assert mysql["id"] not in now
    then = recalled(api, "flow", "what does the payments service run on?", at=before)
    assert mysql["id"] in then
    assert pg["id"] not in then
    r = api.get(f"/brains/flow/memories/{mysql['id']}", params={"at": before})
    assert r.json()["status"] == "active"
    assert r.json()["text"].endswith("MySQL 8")
    assert api.get(f"/brains/flow/memories/{mysql['id']}").json()["status"] == "forgotten"

    events = api.get("/brains/flow/history", params={"memory_id": mysql["id"][:8]}).json()
    assert [e["type"] for e in events["events"]] == ["memory_encoded", "memory_forgotten"]
    r = api.get("/brains/flow/history", params={"types": "memory_forgotten", "limit": 1})
    assert [e["event"]["body"]["fiber_id"] for e in r.json()["events"]] == [mysql["id"]]

    assert api.post(f"/brains/flow/memories/{mysql['id']}/restore").json()["event"] == (
        "memory_restored"
    )
    assert mysql["id"] in recalled(api, "flow", "payments MySQL")
    r = api.patch(f"/brains/flow/memories/{todo['id']}", json={"priority": 9, "tags": ["ops"]})
    assert r.json()["event"] == "memory_retyped"
    listed = api.get("/brains/flow/memories", params={"type": "todo"}).json()
    assert [(m["id"], m["priority"], m["tags"]) for m in listed["memories"]] == [
        (todo["id"], 9, ["ops"])
    ]
    assert api.post(f"/brains/flow/memories/{pg['id']}/pin").json()["event"] == "memory_pinned"
    assert api.post(f"/brains/flow/memories/{pg['id']}/unpin").json()["event"] == (
        "memory_unpinned"
    )

    r = api.delete(f"/brains/flow/memories/{pg['id']}")
    assert r.status_code == 200
    assert r.json()["event"] == "memory_erased"
    assert pg["id"] not in recalled(api, "flow", "payments PostgreSQL")
    erased = api.get(f"/brains/flow/memories/{pg['id']}").json()
    assert erased["status"] == "erased"
    assert "PostgreSQL" not in erased["text"]

    stats = api.get("/brains/flow/stats").json()
    assert stats["memories"] == 2
    assert stats["erased"] == 1
    assert stats["forgotten"] == 0
    old = api.get("/brains/flow/stats", params={"at": before}).json()
    assert old["memories"] == 1
    assert old["seq"] == before
    diff = api.get("/brains/flow/diff", params={"from": before}).json()
    assert pg["id"] in diff["erased"]
    assert mysql["id"] in diff["restored"]
    context = api.get("/brains/flow/context", params={"limit": 2}).json()
    assert context["count"] == 2
    assert api.post("/brains/flow/cleanup", json={"dry_run": True}).json()["expired"] == []
    assert api.post("/brains/flow/decay").json()["pruned"] >= 0
    brains = {b["name"]: b for b in api.get("/brains").json()["brains"]}
    assert brains["flow"]["seq"] == api.get("/brains/flow/stats").json()["seq"]


def test_projects_config_and_check(api: Any) -> None:
    r = api.post("/brains/proj/projects", json={"name": "Payments Q4", "duration_days": 30})
    assert r.status_code == 201
    remember(api, "proj", "Moved invoices to the new ledger", project="Payments Q4")
    listed = api.get("/brains/proj/projects").json()["projects"]
    assert [(p["name"], p["memories"]) for p in listed] == [("Payments Q4", 1)]
    assert api.get("/brains/proj/projects/payments q4").json()["memories"] == 1
    r = api.post("/brains/proj/projects/Payments Q4/extend", json={"days": 7})
    assert r.status_code == 200
    assert r.json()["end"] > listed[0]["end"]
    assert api.delete("/brains/proj/projects/Payments Q4").json() == {"deleted": "Payments Q4"}
    assert api.get("/brains/proj/projects").json()["projects"] == []

    assert api.get("/brains/proj/config").json()["sensitive_policy"] == "block"
    r = api.patch("/brains/proj/config", json={"sensitive_policy": "redact"})
    assert r.json()["sensitive_policy"] == "redact"
    stored = remember(api, "proj", "the db password=hunter2hunter2 is in the vault")
    text = api.get(f"/brains/proj/memories/{stored['id']}").json()["text"]
    assert "hunter2" not in text
    assert "[REDACTED]" in text
    found = api.post("/check", json={"text": "api_key=sk-abcdefghijklmnopqrstuvwx123"}).json()
    assert found["sensitive"] is True
    assert "abcdefghijklmnop" not in json.dumps(found)
    assert api.post("/check", json={"text": "nothing to see"}).json()["sensitive"] is False

    assert api.post("/brains", json={"name": "fresh"}).status_code == 201
    error_of(api.post("/brains", json={"name": "fresh"}), 400)
    assert api.delete("/brains/fresh").json() == {"deleted": "fresh"}
    error_of(api.get("/brains/fresh/stats"), 404)


def test_export_and_import_into_another_brain(api: Any) -> None:
    ids = [
        remember(api, "src", "Alice moved payments to PostgreSQL 16")["id"],
        remember(api, "src", "Bob prefers tabs over spaces", type="preference")["id"],
    ]
    api.post(f"/brains/src/memories/{ids[1]}/pin")
    history = api.get("/brains/src/export", params={"format": "history"})
    assert history.status_code == 200
    assert history.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in history.text.splitlines()]
    assert lines[0]["format"] == "neuralmemory-history"
    assert [e["seq"] for e in lines[1:]] == list(range(1, lines[0]["seq"] + 1))

    r = api.post("/brains/copy/import", content=history.content)
    assert r.status_code == 200, r.text
    assert r.json()["kind"] == "history"
    assert r.json()["events"] == lines[0]["seq"] - 1
    assert ids[0] in recalled(api, "copy", "what database do payments use?")
    assert api.get(f"/brains/copy/memories/{ids[1]}").json()["status"] == "pinned"
    again = api.post("/brains/copy/import", content=history.content).json()
    assert again["events"] == 0  # idempotent

    snapshot = api.get("/brains/src/export")
    assert snapshot.json()["version"] == "neuralmemory-1"
    r = api.post("/brains/snap/import", content=snapshot.content)
    assert r.status_code == 200
    assert r.json()["memories"] == 2
    assert ids[0] in recalled(api, "snap", "payments database")

    past = api.get("/brains/src/export", params={"format": "history", "at": 2})
    assert len(past.text.splitlines()) == 3  # header, seq 1, seq 2


# -- errors -------------------------------------------------------------------------------------


def test_errors_are_one_line_json(api: Any) -> None:
    remember(api, "errs", "something to have a brain")
    assert "malformed JSON" in error_of(api.post("/brains/errs/recall", content=b'{"query": '), 400)
    error_of(api.post("/brains/errs/recall", content=b"[1, 2]"), 400)
    big = b'{"text": "' + b"a" * (2 * MIB) + b'"}'
    assert "limit" in error_of(api.post("/brains/errs/memories", content=big), 413)

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
        for _ in range(24):
            yield b"a" * 65536

    error_of(api.post("/brains/errs/memories", content=chunks()), 413)
    assert "no memory" in error_of(api.get("/brains/errs/memories/0123456789abcdef"), 404)
    error_of(api.post("/brains/errs/memories/0123456789abcdef/pin"), 404)
    error_of(api.get("/brains/nobody/stats"), 404)
    error_of(api.post("/brains/errs/memories", json={"text": "  "}), 400)
    assert "priority" in error_of(
        api.post("/brains/errs/memories", json={"text": "x", "priority": 42}), 400
    )
    assert "depth" in error_of(
        api.post("/brains/errs/recall", json={"query": "x", "depth": "deep"}), 400
    )
    assert "unknown field" in error_of(api.post("/brains/errs/recall", json={"q": "x"}), 400)
    error_of(api.get("/brains/errs/memories", params={"limit": "many"}), 400)
    error_of(api.get("/brains/errs/memories", params={"limt": 3}), 400)
    error_of(api.get("/brains/errs/stats", params={"at": "the day after tomorrow"}), 400)
    error_of(api.get("/brains/errs/stats", params={"at": 10**6}), 400)
    error_of(api.post("/brains/bad name!/memories", json={"text": "x"}), 400)
    error_of(api.patch("/brains/errs/memories/abcd1234", json={}), 400)
    error_of(api.post("/brains/errs/import", content=b"not an export"), 400)
    assert "no route" in error_of(api.get("/nothing/here"), 404)
    error_of(api.put("/health"), 405)


# -- auth -----------------------------------------------------------------------------------------

WORK_WRITE, ALL_READ, OTHER_WRITE = "work-write-0001", "all-read-000002", "other-write-003"


def test_tokens(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.json"
    tokens.write_text(json.dumps({"tokens": [
        {"token": WORK_WRITE, "brains": ["work"], "access": "write"},
        {"token": ALL_READ, "brains": ["*"], "access": "read"},
        {"token": OTHER_WRITE, "brains": ["other"], "access": "write"},
    ]}))  # fmt: skip

    def auth(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    with (
        serving(tmp_path / "store", "--tokens", str(tokens)) as url,
        httpx.Client(base_url=url, timeout=20) as api,
    ):
        assert api.get("/health").status_code == 200  # open: for load balancers
        memory = {"text": "Deploys happen on Thursdays"}
        r = api.post("/brains/work/memories", json=memory)
        error_of(r, 401)
        assert r.headers["www-authenticate"].startswith("Bearer")
        error_of(api.get("/brains/work/stats", headers=auth("not-a-token")), 401)
        error_of(api.get("/brains", headers={"Authorization": "Basic abc"}), 401)
        r = api.post("/brains/work/memories", json=memory, headers=auth(WORK_WRITE))
        assert r.status_code == 201
        assert "read-only" in error_of(
            api.post("/brains/work/memories", json=memory, headers=auth(ALL_READ)), 403
        )
        error_of(api.delete(f"/brains/work/memories/{r.json()['id']}", headers=auth(ALL_READ)), 403)
        assert "brain 'work'" in error_of(
            api.post("/brains/work/memories", json=memory, headers=auth(OTHER_WRITE)), 403
        )
        error_of(api.get("/brains/work/stats", headers=auth(OTHER_WRITE)), 403)
        error_of(api.post("/brains", json={"name": "work2"}, headers=auth(WORK_WRITE)), 403)
        assert (
            api.post("/brains", json={"name": "other"}, headers=auth(OTHER_WRITE)).status_code
            == 201
        )
        assert api.get("/brains/work/stats", headers=auth(ALL_READ)).json()["memories"] == 1

        def head() -> int:
            brains = api.get("/brains", headers=auth(ALL_READ)).json()["brains"]
            return next(b["seq"] for b in brains if b["name"] == "work")

        before = head()
        for _ in range(REINFORCE_EVERY + 8):  # past the count at which reinforcement is written
            r = api.post(
                "/brains/work/recall", json={"query": "when are deploys?"}, headers=auth(ALL_READ)
            )
            assert r.status_code == 200
            assert r.json()["memories"]
        assert head() == before  # a read token wrote nothing, not even reinforcement
        names = [b["name"] for b in api.get("/brains", headers=auth(OTHER_WRITE)).json()["brains"]]
        assert names == ["other"]
        names = [b["name"] for b in api.get("/brains", headers=auth(ALL_READ)).json()["brains"]]
        assert {"work", "other"} <= set(names)

        ws_url = url.replace("http", "ws") + "/brains/work/events?from=0"
        with pytest.raises(ws_errors.InvalidStatus) as refused:
            ws_client.connect(ws_url, open_timeout=5)
        assert refused.value.response.status_code == 401
        assert json.loads(refused.value.response.body)["error"]
        with pytest.raises(ws_errors.InvalidStatus) as refused:
            ws_client.connect(ws_url, additional_headers=auth(OTHER_WRITE), open_timeout=5)
        assert refused.value.response.status_code == 403
        with ws_client.connect(f"{ws_url}&token={ALL_READ}", open_timeout=5) as ws:
            assert json.loads(ws.recv(timeout=5))["type"] == "brain_created"

    from engine import Store

    with Store(tmp_path / "store") as store:  # shut down: nothing was left pending either
        brain = store.brain("work")
        brain.flush()
        assert brain.seq == before
    with (
        serving(tmp_path / "store", "--tokens", str(tokens)) as url,
        httpx.Client(base_url=url, timeout=20) as api,
    ):
        r = api.post(
            "/brains/work/recall", json={"query": "when are deploys?"}, headers=auth(WORK_WRITE)
        )
        assert r.status_code == 200
    with Store(tmp_path / "store") as store:  # a write token's recall reinforces, kept at exit
        brain = store.brain("work")
        brain.flush()
        kinds = [e.type for e in brain.history()]
    assert kinds[-1] == "synapses_reinforced"


def test_public_host_needs_tokens(tmp_path: Path) -> None:
    done = subprocess.run(
        nmem("serve", "--store", str(tmp_path / "s"), "--host", "0.0.0.0", "--port", "9"),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert "without --tokens" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1


# -- the event stream -----------------------------------------------------------------------------


def test_event_stream_sends_the_past_then_new_events(url: str, api: Any, store: Path) -> None:
    first = remember(api, "stream", "Dana owns the billing dashboards")
    remember(api, "stream", "Eve reviews every schema migration")
    events_url = url.replace("http://", "ws://") + "/brains/stream/events"
    with ws_client.connect(events_url + "?from=0", open_timeout=5) as ws:
        past = [json.loads(ws.recv(timeout=5)) for _ in range(3)]
        assert [(e["seq"], e["type"]) for e in past] == [
            (1, "brain_created"), (2, "memory_encoded"), (3, "memory_encoded"),
        ]  # fmt: skip
        assert past[1]["body"]["fiber_id"] == first["id"]
        assert "cid" in past[1]
        with pytest.raises(TimeoutError):
            ws.recv(timeout=0.3)
        cli = subprocess.run(
            nmem("remember", "--store", str(store), "--brain", "stream", "Carol joined the team"),
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=30,
            check=False,
        )
        assert cli.returncode == 0, cli.stderr
        new = json.loads(ws.recv(timeout=5))
        assert new["seq"] == 4
        assert new["body"]["text"] == "Carol joined the team"
        through_server = remember(api, "stream", "Frank moved to the infra team")
        assert json.loads(ws.recv(timeout=5))["body"]["fiber_id"] == through_server["id"]
    with ws_client.connect(events_url + "?from=3", open_timeout=5) as ws:
        assert json.loads(ws.recv(timeout=5))["seq"] == 4
    for bad, status in (("?from=-1", 400), ("?from=x", 400)):
        with pytest.raises(ws_errors.InvalidStatus) as refused:
            ws_client.connect(events_url + bad, open_timeout=5)
        assert refused.value.response.status_code == status
    with pytest.raises(ws_errors.InvalidStatus) as refused:
        ws_client.connect(url.replace("http://", "ws://") + "/brains/nobody/events")
    assert refused.value.response.status_code == 404


@pytest.mark.anyio
async def test_a_commit_between_a_streams_read_and_its_wait_wakes_it(tmp_path: Path) -> None:
    """A stream reads the log, then waits for news of a commit; one whose news comes in
    between (the log's NOTIFY folded meanwhile) wakes it at once, not at its fallback look
    POLL_SECONDS later (the multi-server stream test saw that once in a while under load)."""
    from adapters.http_server import DEFAULT_MAX_BODY, POLL_SECONDS, Server

    server = Server(tmp_path / "store", None, DEFAULT_MAX_BODY)
    try:
        seen = server.commits  # the stream's read of the log
        server.written()  # news of a commit, before the stream waits
        with anyio.fail_after(POLL_SECONDS / 2):
            await server.wait_for_write(POLL_SECONDS, seen)
        with pytest.raises(TimeoutError), anyio.fail_after(0.2):  # nothing new: it waits
            await server.wait_for_write(POLL_SECONDS, server.commits)
    finally:
        server.close()


# -- the follower ---------------------------------------------------------------------------------


def test_follower_replays_the_server_brain_locally(url: str, api: Any, tmp_path: Path) -> None:
    from adapters.http_follow import Follower

    remote = remember(api, "team", "Grace set the release freeze for Friday")
    local = tmp_path / "replica"
    with Follower(url, "team", local_store_path=local) as follower:
        assert follower.sync() == remote["seq"]
        found = follower.view().recall("when is the release freeze?")
        assert [m.memory.id for m in found.memories][:1] == [remote["id"]]

        mine = follower.remember("Heidi owns the on-call rotation", priority=7)
        assert follower.sync() == mine["seq"]
        assert follower.view().get(mine["id"]).priority == 7

        follower.start()
        third = remember(api, "team", "Ivan set up the staging cluster")
        follower.wait_for(third["seq"])
        assert third["id"] in [
            m.memory.id for m in follower.view().recall("staging cluster").memories
        ]
        erased = api.delete(f"/brains/team/memories/{remote['id']}").json()
        follower.wait_for(erased["seq"])
        gone = follower.view().get(remote["id"])
        assert gone.status == "erased"
        assert "freeze" not in gone.text
        follower.stop()
        server_stats = api.get("/brains/team/stats").json()
        local_stats = follower.view().stats()
        for key in ("seq", "memories", "erased", "neurons", "synapses"):
            assert local_stats[key] == server_stats[key], key

    remember(api, "team", "Judy joined the payments team")
    with Follower(url, "team", local_store_path=local) as again:  # resumes where it was
        head = again.sync()
        assert head == api.get("/brains/team/stats").json()["seq"]
        assert again.view().recall("who joined the payments team?").memories
    remember(api, "other-team", "Mallory runs the other team")
    wrong = Follower(url, "other-team", local_store_path=local, local_brain="team")
    with wrong, pytest.raises(InputError, match="not a replica"):
        wrong.sync()


def test_event_time_filters_and_folded_history(api: Any) -> None:
    """since/until select by when things happened; `at` is recorded time; each read says which
    times it used; history folds runs of reinforcement unless `all`."""
    brain = "/brains/times"
    old = api.post(brain + "/memories", json={"text": "Ivan rotated the vault keys",
                                              "time": "20 days ago"}).json()  # fmt: skip
    api.post(brain + "/memories", json={"text": "Ivan audited the vault access"})
    got = api.get(brain + "/memories", params={"until": "2 weeks ago"}).json()
    assert [m["id"] for m in got["memories"]] == [old["id"]]
    assert got["until"] is not None
    assert got["since"] is None
    assert got["seq"] >= 2
    ctx = api.get(brain + "/context", params={"since": "1 week ago"}).json()
    assert [m["text"] for m in ctx["memories"]] == ["Ivan audited the vault access"]
    found = api.post(brain + "/recall", json={"query": "Ivan vault", "until": "2 weeks ago"})
    assert [m["id"] for m in found.json()["memories"]] == [old["id"]]
    assert found.json()["until"] is not None
    error_of(api.get(brain + "/memories", params={"since": "today", "until": "last week"}), 400)
    folded = api.get(brain + "/history", params={"memory_id": old["id"]}).json()["events"]
    assert all(e["folded"] is None or e["type"] == "synapses_reinforced" for e in folded)
    raw = api.get(brain + "/history", params={"memory_id": old["id"], "all": "true"}).json()
    assert len(raw["events"]) >= len(folded)
