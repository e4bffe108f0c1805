"""Neo4j without a Neo4j server (none can be installed from the registries reachable here):
every statement the exporter runs through the driver, and every line of the .cypher file, is
checked with Neo4j's own Cypher parser and linter (npm `@neo4j-cypher/language-support`,
tests/exporters/cypher/lint.mjs, installed by .ci/setup.d/30-cypher-parser.sh). The
neo4j-admin CSVs are read back with Python's csv module."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from helpers import NMEM
from hypothesis import given, settings
from hypothesis import strategies as st
from services import need

from engine import Brain, MemoryInput, Store
from engine.exporters import cypher, open_target, rows
from engine.exporters.base import Position
from engine.exporters.neo4j_csv import SEP
from engine.exporters.sync import export

LINT = Path(__file__).parent / "cypher"


def lint(statements: list[str]) -> list[list[str]]:
    node = shutil.which("node")
    if node is None or not (LINT / "node_modules" / "@neo4j-cypher").is_dir():
        need("Neo4j's Cypher parser", "node and `npm ci` in tests/exporters/cypher")
    done = subprocess.run([node, str(LINT / "lint.mjs")], input=json.dumps(statements),
                          capture_output=True, text=True, timeout=300, check=True)  # fmt: skip
    result: list[list[str]] = json.loads(done.stdout)
    return result


def test_the_parser_finds_errors() -> None:
    assert lint(["MATCH (n) RETURN n", "MATCH (n RETURN n"]) == [
        [], ["Invalid input 'RETURN': expected a graph pattern, a parameter, ')', ':', 'IS', "
             "'WHERE' or '{'"]]  # fmt: skip


def _busy(store: Store) -> Brain:
    """A brain whose history needs every kind of statement: new and changed memories, links
    added, reinforced, pruned and erased, neurons erased, projects created and deleted."""
    brain = store.brain("work")
    brain.create_project("Payments Q4", duration_days=30)
    done = brain.remember_many(MemoryInput(text=t, project="Payments Q4", tags=["it's", 'a "tag"'])
                        for t in ["Alice moved payments to PostgreSQL 16 on Tuesday",
                                  "Bob fixed the login bug\nin the payments service",
                                  "Zanzibar-Quokka's vault phrase \\ for payments"])  # fmt: skip
    ids = [d.id for d in done]  # Alice, Bob, Zanzibar
    brain.recall("payments postgres alice")
    brain.pin(ids[0])
    brain.edit(ids[1], text="Bob fixed the login bug of the payments service")
    brain.erase(ids[2])
    brain.delete_project("Payments Q4")
    brain.flush()
    return brain


class Recorder(cypher.GraphTarget):
    """A graph target that keeps the statements it is given (holds nothing)."""

    name = "recorder"

    def __init__(self) -> None:
        self.statements: list[cypher.Statement] = []
        self.held: Position | None = None

    def position(self, brain_id: str) -> Position | None:
        return self.held

    def apply(self, batch: rows.Batch) -> None:
        super().apply(batch)
        self.held = Position(batch.brain.id, batch.brain.name, batch.seq, batch.time)

    def run(self, query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        self.statements.append((query, params))
        return []

    def run_batch(self, batch: list[cypher.Statement]) -> None:
        self.statements.extend(batch)


def test_every_statement_the_driver_runs_parses(store: Store) -> None:
    brain = _busy(store)
    target = Recorder()
    export(brain, target, chunk=1)  # one batch per event: every kind of change on its own
    queries = [*cypher.constraints(), *dict.fromkeys(q for q, _ in target.statements)]
    assert any("DELETE r" in q for q in queries)
    assert any("DETACH DELETE p" in q for q in queries)
    assert lint(queries) == [[] for _ in queries]
    inlined = [cypher.inline(q, p) for q, p in target.statements]
    assert lint(inlined) == [[] for _ in inlined]


def test_the_cypher_file_parses_continues_and_loses_erased_text(
    store: Store, store_path: Path, tmp_path: Path
) -> None:
    brain = store.brain("work")
    secret = brain.remember("the vault phrase is Zanzibar-Quokka for payments").id
    brain.remember("Alice moved payments to PostgreSQL 16")
    path = tmp_path / "brain.cypher"
    done = subprocess.run([NMEM, "export", "--store", str(store_path), "--brain", "work",
                           "--format", "neo4j", "-o", str(path), "--json"], capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    first = path.read_text()
    assert "Zanzibar" in first
    brain.remember("Bob fixed the login bug")
    report = _export_file(brain, path)
    assert report["from_seq"] == 3
    assert path.read_text().startswith(first)  # appended
    brain.erase(secret)
    _export_file(brain, path)
    text = path.read_text()
    assert "Zanzibar" not in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["brain.cypher", "store"]
    statements = _statements(text)
    assert lint(statements) == [[] for _ in statements]


def _export_file(brain: Brain, path: Path) -> dict[str, Any]:
    target = open_target("neo4j", output=str(path))
    try:
        return export(brain, target)
    finally:
        target.close()


def _statements(text: str) -> list[str]:
    """The file's statements: one per line, each ending with ';' (comments left out)."""
    return [line for line in text.splitlines() if line and not line.startswith("//")]


@settings(max_examples=1, deadline=None)
@given(st.lists(st.text(), min_size=50, max_size=50), st.lists(st.floats(allow_nan=False,
       allow_infinity=False), min_size=20, max_size=20))  # fmt: skip
def test_literals_of_any_text_parse(texts: list[str], numbers: list[float]) -> None:
    values: list[Any] = [*texts, *numbers, None, True, 2**62, [*texts[:3]], {"a b": texts[0]}]
    queries = [f"RETURN {cypher.literal(v)} AS x" for v in values]
    assert lint(queries) == [[] for _ in queries]


def test_neo4j_admin_csvs_hold_the_graph(store: Store, tmp_path: Path) -> None:
    brain = _busy(store)
    folder = tmp_path / "csv"
    target = open_target("neo4j-csv", output=str(folder))
    export(brain, target, chunk=2)
    target.close()
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["brain.csv", "import.sh", "links.csv", "memories.csv", "neurons.csv",
                     "projects.csv"]  # fmt: skip

    def read(name: str) -> list[dict[str, str]]:
        with (folder / name).open(newline="", encoding="utf-8") as fh:
            return list(csv.DictReader(fh))

    memories = {r["id:ID(Node)"]: r for r in read("memories.csv")}
    want = {m.id: m for m in brain.memories(status="all", limit=100)}
    assert memories.keys() == want.keys()
    for mid, m in want.items():
        if m.status == "erased":
            assert memories[mid]["text"] == ""
        else:
            assert memories[mid]["text"] == m.text
            assert memories[mid]["tags:string[]"].split(SEP) == list(m.tags)
    graph = brain.graph()
    links = read("links.csv")
    assert {r["id"] for r in links} >= {k for _, _, k in graph.edges(keys=True)}
    assert all(r[":TYPE"].isupper() for r in links)
    assert read("projects.csv") == []  # deleted
    assert b"Zanzibar" not in b"".join(p.read_bytes() for p in folder.iterdir())


def test_an_unreachable_neo4j_is_one_line(tmp_path: Path) -> None:
    subprocess.run([NMEM, "remember", "--store", str(tmp_path / "s"), "a first memory"],
                   capture_output=True, timeout=120, check=True)  # fmt: skip
    done = subprocess.run([NMEM, "export", "--store", str(tmp_path / "s"), "--format", "neo4j",
                           "--url", "bolt://127.0.0.1:1"], capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.startswith("nmem: error: cannot use Neo4j at 127.0.0.1:1")
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("url", ["http://x", "bolt://"])
def test_a_bad_neo4j_url_is_refused(url: str) -> None:
    from engine import InputError

    with pytest.raises(InputError, match="a Neo4j URL looks like"):
        open_target("neo4j", url=url)
