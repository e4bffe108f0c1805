"""Several `nmem serve` processes on one PostgreSQL log, each holding its own projection,
behind a real nginx load balancer on loopback (tests/nginx_lb.py), clients going through it.

The laws: a write through any server is recalled by the next read through every other (each
server catches up from the log before it answers), and its event reaches every server's stream
before the stream's own look at the log could have found it (each server folds the log's news
as it is committed, LISTEN/NOTIFY); as-of recall answers the same on every server; SIGKILL of
one server loses no acknowledged write and the others keep serving; a server started later
catches up from its checkpoint and the log; a token scoped to one brain never reads another,
on any server. The only bounds are the server's own (a stream's POLL_SECONDS) or generous
(NEWS_WAIT), never a fixed second: a loaded machine is slow, not wrong.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from nginx_lb import balancing
from services import Served
from websockets.sync import client as ws_client

from adapters.http_server import POLL_SECONDS

SERVERS = 3
ALPHA_W, ALPHA_R, BETA_W = "alpha-write-token", "alpha-read-token", "beta-write-token"
SCRATCH_W = "scratch-write-token"
TOKENS = {
    "tokens": [
        {"token": SCRATCH_W, "brains": ["scratch*"], "access": "write"},
        {"token": ALPHA_W, "brains": ["alpha"], "access": "write"},
        {"token": ALPHA_R, "brains": ["alpha"], "access": "read"},
        {"token": BETA_W, "brains": ["beta"], "access": "write"},
    ]
}
ANIMALS = ("kestrel", "marmot", "ocelot", "pangolin", "quetzal", "tapir")
NEWS_WAIT = 30.0  # s: how long news of a commit may take on a loaded machine (ms when quiet)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Fleet:
    store: str
    servers: list[str]  # each server's own URL
    lb: str  # nginx in front of them all

    def clients(self, token: str) -> Iterator[tuple[str, httpx.Client]]:
        for url in [*self.servers, self.lb]:
            with httpx.Client(base_url=url, headers=auth(token), timeout=30) as c:
                yield url, c


@pytest.fixture(scope="module")
def tokens_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tokens") / "tokens.json"
    path.write_text(json.dumps(TOKENS))
    return path


@pytest.fixture(scope="module")
def fleet(postgres: Any, tokens_file: Path) -> Iterator[Fleet]:
    store = postgres.new_store()
    servers: list[Served] = []
    try:
        for _ in range(SERVERS):
            servers.append(Served(store, "--tokens", str(tokens_file)))
        with balancing([s.url for s in servers]) as lb:
            yield Fleet(store, [s.url for s in servers], lb)
    finally:
        for served in servers:
            served.stop()


def ws_url(url: str) -> str:
    return "ws" + url.removeprefix("http")


def ids(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [m["id"] for m in answer.json()["memories"]]


def recall(client: httpx.Client, brain: str, query: str, **extra: Any) -> httpx.Response:
    return client.post(f"/brains/{brain}/recall", json={"query": query, **extra})


def test_a_write_through_any_server_is_recalled_by_the_next_read_through_every_other(
    fleet: Fleet,
) -> None:
    lb = httpx.Client(base_url=fleet.lb, headers=auth(ALPHA_W), timeout=30)
    direct = [httpx.Client(base_url=u, headers=auth(ALPHA_W), timeout=30) for u in fleet.servers]
    taken_by = set()
    try:
        for i, animal in enumerate(ANIMALS):
            written = lb.post(
                "/brains/alpha/memories",
                json={"text": f"The {animal} service listens on port {9100 + i}", "cid": f"w:{i}"},
            )
            assert written.status_code == 201, written.text
            taken_by.add(written.headers["x-upstream"])
            memory = written.json()["id"]
            for client in direct:  # acknowledged is committed: no server answers without it
                found = ids(recall(client, "alpha", f"which port does {animal} use"))
                assert memory in found, f"{client.base_url} answered without it"
            assert memory in ids(recall(lb, "alpha", f"{animal} port"))
    finally:
        lb.close()
        for client in direct:
            client.close()
    assert len(taken_by) == SERVERS, f"the balancer used only {taken_by}"


def test_every_server_streams_the_events_written_through_another(fleet: Fleet) -> None:
    with httpx.Client(base_url=fleet.lb, headers=auth(ALPHA_W), timeout=30) as lb:
        head = lb.post("/brains/alpha/memories", json={"text": "stream marker one"}).json()["seq"]
        with ExitStack() as opened:
            streams = []
            for url in [*fleet.servers, fleet.lb]:
                # a stream looks at the log by itself POLL_SECONDS after it last did, at the
                # earliest after this: an event it sends before then came of the log's news
                opening = time.monotonic()
                streams.append((opening, opened.enter_context(ws_client.connect(
                    f"{ws_url(url)}/brains/alpha/events?from={head}&token={ALPHA_R}",
                    open_timeout=10,
                ))))  # fmt: skip
            written = lb.post("/brains/alpha/memories", json={"text": "the stream marker two"})
            seq = written.json()["seq"]
            for opening, ws in streams:
                left = opening + POLL_SECONDS - time.monotonic()
                event = json.loads(ws.recv(timeout=max(left, 0.0)))
                assert event["seq"] == seq
                assert event["body"]["text"] == "the stream marker two"


def test_as_of_recall_is_the_same_on_every_server(fleet: Fleet) -> None:
    with httpx.Client(base_url=fleet.lb, headers=auth(ALPHA_W), timeout=30) as lb:
        first = lb.post(
            "/brains/alpha/memories",
            json=[
                {
                    "text": f"Release {n} of the billing API ships database migration {n}",
                    "cid": f"rel:{n}",
                }
                for n in range(8)
            ],
        ).json()
        middle = first[-1]["seq"]
        edited = lb.patch(
            f"/brains/alpha/memories/{first[0]['id']}",
            json={"text": "Release 0 of the billing API was rolled back"},
        )
        assert edited.status_code == 200, edited.text
        assert lb.post(f"/brains/alpha/memories/{first[1]['id']}/forget").status_code == 200
        lb.post("/brains/alpha/memories", json={"text": "Billing API release 9 adds invoices"})
        when = lb.get("/brains/alpha/history", params={"limit": 1}).json()
    moments: list[Any] = [middle, middle + 1, when["events"][-1]["recorded_at"]]
    for at in moments:
        answers = []
        for _url, client in fleet.clients(ALPHA_R):
            got = recall(client, "alpha", "billing API release migration", at=at)
            assert got.status_code == 200, got.text
            body = got.json()
            answers.append(
                (
                    [(m["id"], m["score"], m["text"]) for m in body["memories"]],
                    body["confidence"],
                    body["seq"],
                )
            )
        assert answers[0][0], "the past view found nothing to compare"
        assert all(a == answers[0] for a in answers), at
    assert answers[0][2] > middle + 1


def test_a_token_for_one_brain_never_reads_another_on_any_server(fleet: Fleet) -> None:
    with httpx.Client(base_url=fleet.lb, headers=auth(BETA_W), timeout=30) as beta:
        secret = beta.post("/brains/beta/memories", json={"text": "Project heron ships in May"})
        assert secret.status_code == 201, secret.text
        secret_id = secret.json()["id"]
    for url, c in fleet.clients(ALPHA_W):
        for method, path, body in (
            ("POST", "/brains/beta/recall", {"query": "heron"}),
            ("GET", "/brains/beta/memories", None),
            ("GET", f"/brains/beta/memories/{secret_id}", None),
            ("GET", "/brains/beta/history", None),
            ("GET", "/brains/beta/stats", None),
            ("GET", "/brains/beta/context", None),
            ("GET", "/brains/beta/export", None),
            ("GET", "/brains/beta/overview", None),
            ("POST", "/brains/beta/memories", {"text": "alpha writing into beta"}),
            ("POST", "/brains", {"name": "beta"}),
        ):
            answer = c.request(method, path, json=body)
            assert answer.status_code == 403, (url, path, answer.text)
            assert "heron" not in answer.text.lower()
        listed = c.get("/brains").json()["brains"]
        assert [b["name"] for b in listed] == ["alpha"], url
        assert secret_id not in ids(recall(c, "alpha", "project heron ships in May"))
        with pytest.raises(Exception, match="403"):
            ws_client.connect(f"{ws_url(url)}/brains/beta/events?token={ALPHA_W}", open_timeout=10)
    for url, c in fleet.clients(ALPHA_R):
        assert c.post("/brains/alpha/memories", json={"text": "x"}).status_code == 403, url
        assert c.get("/brains/beta/memories").status_code == 403, url
    for url, c in fleet.clients(BETA_W):
        assert secret_id in ids(recall(c, "beta", "heron")), url
        assert c.get("/brains/alpha/memories").status_code == 403, url
    for url, c in fleet.clients("no-such-token"):
        assert c.get("/brains/alpha/memories").status_code == 401, url


def test_a_brain_deleted_through_one_server_is_gone_from_every_server(fleet: Fleet) -> None:
    with httpx.Client(base_url=fleet.lb, headers=auth(SCRATCH_W), timeout=30) as lb:
        old = lb.post("/brains/scratch1/memories", json={"text": "the old scratch plan"})
        assert old.status_code == 201, old.text
        for _url, c in fleet.clients(SCRATCH_W):  # every server now holds it open
            assert old.json()["id"] in ids(recall(c, "scratch1", "old scratch plan"))
        assert lb.delete("/brains/scratch1").status_code == 200
        for url, c in fleet.clients(SCRATCH_W):  # a server lets go of it on the log's news
            start = time.monotonic()
            while c.get("/brains/scratch1/memories").status_code != 404:
                assert time.monotonic() - start < NEWS_WAIT, f"{url} still serves the deleted brain"
                time.sleep(0.02)
        new = lb.post("/brains/scratch1/memories", json={"text": "a new scratch plan"})
        assert new.status_code == 201, new.text
        for url, c in fleet.clients(SCRATCH_W):
            listed = c.get("/brains/scratch1/memories").json()["memories"]
            assert [m["text"] for m in listed] == ["a new scratch plan"], url


def _write(
    lb: str,
    name: str,
    count: int,
    acked: dict[str, tuple[str, int]],
    retries: list[str],
    errors: list[str],
) -> None:
    """Remember `count` memories through the balancer, each with its idempotency key; a request
    that fails (the server it was sent to died) is sent again with the same key."""
    with httpx.Client(base_url=lb, timeout=30) as client:
        for i in range(count):
            cid = f"{name}:{i}"
            for attempt in range(20):
                try:
                    answer = client.post(
                        "/brains/team/memories",
                        json={"text": f"Writer {name} note {i}: deploy window {i % 7}", "cid": cid},
                    )
                except httpx.TransportError:
                    answer = None
                if answer is not None and answer.status_code == 201:
                    acked[cid] = (answer.json()["id"], answer.json()["seq"])
                    break
                retries.append(f"{cid}: {answer.status_code if answer else 'transport error'}")
                time.sleep(0.05 * (attempt + 1))
            else:
                errors.append(cid)


def test_sigkill_of_one_server_loses_nothing_and_a_late_server_catches_up(postgres: Any) -> None:
    store = postgres.new_store()
    servers = [Served(store) for _ in range(SERVERS)]
    late = None
    try:
        urls = [s.url for s in servers]
        with balancing(urls) as lb, httpx.Client(base_url=lb, timeout=30) as client:
            configured = client.patch("/brains/team/config", json={"checkpoint_every": 64})
            assert configured.status_code == 200, configured.text
            acked: dict[str, tuple[str, int]] = {}
            retries: list[str] = []
            errors: list[str] = []
            writers = [
                threading.Thread(target=_write, args=(lb, f"w{n}", 60, acked, retries, errors))
                for n in range(3)
            ]
            for t in writers:
                t.start()
            while len(acked) < 40:
                time.sleep(0.01)
            servers.pop(0).kill()  # SIGKILL, mid-stream
            for t in writers:
                t.join(timeout=300)
            assert not errors, f"writes that never succeeded: {errors}"
            assert len(acked) == 180
            print(f"retries after the kill: {retries}")
            assert len(retries) <= 10, retries  # only what was in flight on the dead server

            survivors = urls[1:]
            heads = set()
            for url in [*survivors, lb]:
                with httpx.Client(base_url=url, timeout=30) as c:
                    for cid, (memory, _seq) in acked.items():
                        got = c.get(f"/brains/team/memories/{memory}")
                        assert got.status_code == 200, (url, cid, got.text)
                        assert got.json()["text"].startswith(f"Writer {cid.split(':')[0]} note ")
                    history = c.get("/brains/team/history", params={"all": "true"}).json()
                    seqs = [e["seq"] for e in history["events"]]
                    assert seqs == list(range(1, len(seqs) + 1)), "a gap in the log"
                    memories = [e for e in history["events"] if e["type"] == "memory_encoded"]
                    assert len(memories) == 180, "each acknowledged write is stored once"
                    heads.add(seqs[-1])
            assert len(heads) == 1

            import psycopg

            with psycopg.connect(postgres.url, options=_schema_option(store)) as conn:
                row = conn.execute("SELECT max(seq) FROM nmem_checkpoints").fetchone()
            assert row is not None
            assert row[0] is not None, "no checkpoint to start from"
            assert 0 < row[0] < heads.pop()

            late = Served(store)
            query = {"query": "writer w1 deploy window 3", "limit": 20}
            answers = []
            for url in [*survivors, late.url]:
                with httpx.Client(base_url=url, timeout=30) as c:
                    got = c.post("/brains/team/recall", json={**query, "at": len(seqs)})
                    assert got.status_code == 200, got.text
                    answers.append([(m["id"], m["score"]) for m in got.json()["memories"]])
                    assert c.get("/brains/team/stats").json()["memories"] == 180
            assert answers[0]
            assert all(a == answers[0] for a in answers)
    finally:
        for served in servers:
            served.stop()
        if late is not None:
            late.stop()


def _schema_option(store_url: str) -> str:
    return "-csearch_path=" + store_url.rsplit("%3D", 1)[1]
