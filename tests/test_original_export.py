"""`nmem export --format original`: a brain file the original NeuralMemory's own importer
accepts. Checked against the real thing: neural-memory 4.63.0 in its own virtualenv
(`$NMEM_PEER_VENV`, else /work/peer-venv; CI builds it in .ci/setup.d/20-peer.sh) runs
`nmem brain import` and `nmem recall` in subprocesses with a temporary home."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from services import need

from adapters.cli.main import main
from engine import MemoryInput, Store

PEER = Path(os.environ.get("NMEM_PEER_VENV", "/work/peer-venv"))


def peer(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    exe = PEER / "bin" / "nmem"
    if not exe.exists():
        need("neural-memory 4.63.0", f"no {exe} (set NMEM_PEER_VENV)")
    env = {"HOME": str(home), "PATH": os.environ.get("PATH", ""), "NO_COLOR": "1",
           "TERM": "dumb", "COLUMNS": "200"}  # fmt: skip
    return subprocess.run(
        [str(exe), *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )


@pytest.fixture
def exported(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A brain with typed memories, a project, an exact priority, tags and a forgotten memory,
    exported in the original's format through `nmem export`."""
    store_path = tmp_path / "store"
    past = datetime.now(UTC) - timedelta(days=3)
    with Store(store_path) as store:
        brain = store.brain("work")
        brain.create_project("Payments Q4", duration_days=90)
        ids = {}
        for key, item in {
            "db": MemoryInput("Alice moved payments to PostgreSQL 16", tags=["payments"],
                              priority=8, event_time=past, project="Payments Q4"),
            "todo": MemoryInput("add retries to the webhook sender", memory_type="todo"),
            "gone": MemoryInput("the staging password rotates every Friday"),
        }.items():  # fmt: skip
            ids[key] = brain.remember_many([item])[0].id
        brain.forget(ids["gone"])
    out = tmp_path / "brain.json"
    assert main(["export", "--store", str(store_path), "--brain", "work",
                 "--format", "original", "-o", str(out)]) == 0  # fmt: skip
    return out, ids


def test_the_original_imports_our_export_and_recalls_from_it(
    tmp_path: Path, exported: tuple[Path, dict[str, str]]
) -> None:
    out, _ = exported
    home = tmp_path / "peer-home"
    home.mkdir()
    done = peer(home, "brain", "import", str(out), "--name", "fromours")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Imported brain: fromours" in done.stdout
    found = peer(home, "recall", "payments PostgreSQL", "--json")
    assert found.returncode == 0, found.stdout + found.stderr
    answer = json.loads(found.stdout[found.stdout.index("{") :])
    assert "Alice moved payments to PostgreSQL 16" in answer["answer"]
    assert answer["confidence"] > 0
    # what was forgotten here does not come back there
    hidden = peer(home, "recall", "staging password rotates", "--json")
    assert "staging password" not in hidden.stdout


def test_the_file_follows_the_original_conventions(exported: tuple[Path, dict[str, str]]) -> None:
    out, ids = exported
    data = json.loads(out.read_text())
    assert data["version"] == "0.1.0"
    assert data["config"] == {"max_context_tokens": 1500, "reinforcement_delta": 0.05}
    assert datetime.fromisoformat(data["exported_at"]).tzinfo is None
    fibers = {f["id"]: f for f in data["fibers"]}
    assert set(fibers) == {ids["db"], ids["todo"]}  # the forgotten one is left out
    assert all(f["neuron_ids"][0] == f["anchor_neuron_id"] for f in fibers.values())
    neuron_ids = {n["id"] for n in data["neurons"]}
    synapse_ids = {s["id"] for s in data["synapses"]}
    for f in fibers.values():
        assert set(f["neuron_ids"]) <= neuron_ids
        assert set(f["synapse_ids"]) <= synapse_ids
        assert datetime.fromisoformat(f["time_start"]).tzinfo is None
    assert not any("staging" in n["content"] for n in data["neurons"])
    typed = {t["fiber_id"]: t for t in data["metadata"]["typed_memories"]}
    assert typed[ids["db"]]["priority"] == 7  # the original's level for our 8...
    assert typed[ids["db"]]["metadata"]["neuralmemory"] == {"priority": 8}  # ...and ours
    assert typed[ids["todo"]]["memory_type"] == "todo"
    [project] = data["metadata"]["projects"]
    assert project["name"] == "Payments Q4"
    assert typed[ids["db"]]["project_id"] == project["id"]


def test_our_importer_reads_the_file_back(
    tmp_path: Path, exported: tuple[Path, dict[str, str]]
) -> None:
    out, ids = exported
    with Store(tmp_path / "store") as store:
        before = {m.id: m for m in store.brain("work").memories(limit=10)}
    assert main(["import", "--store", str(tmp_path / "copy"), "--brain", "back", str(out)]) == 0
    with Store(tmp_path / "copy") as store:
        after = {m.id: m for m in store.brain("back").memories(limit=10)}
    assert set(after) == {ids["db"], ids["todo"]}
    for key in ("db", "todo"):
        old, new = before[ids[key]], after[ids[key]]
        assert (new.text, new.memory_type, new.priority, new.tags, new.project) == (
            old.text, old.memory_type, old.priority, old.tags, old.project,
        )  # fmt: skip
        assert abs((new.event_time - old.event_time).total_seconds()) < 1e-3
