"""`nmem export --format original-sqlite`: a brain database in the original NeuralMemory's own
SQLite layout, which neural-memory 4.63.0 (its own virtualenv, `$NMEM_PEER_VENV`, else
/work/peer-venv) opens, migrates to its current schema and recalls from, in subprocesses with
a temporary home set up by its own `nmem init`."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from test_original_export import peer

from adapters.cli.main import main
from engine import MemoryInput, Store


def test_the_original_opens_our_database_and_recalls_from_it(tmp_path: Path) -> None:
    store_path = tmp_path / "store"
    with Store(store_path) as store:
        brain = store.brain("work")
        brain.create_project("Payments Q4", duration_days=90)
        kept = brain.remember_many([
            MemoryInput("Alice moved payments to PostgreSQL 16", tags=["payments"], priority=8,
                        project="Payments Q4"),
            MemoryInput("add retries to the webhook sender", memory_type="todo"),
        ])  # fmt: skip
        gone = brain.remember("the staging password rotates every Friday").id
        brain.forget(gone)
        erased = brain.remember("Zanzibar-Quokka guards the vault").id
        brain.erase(erased)
    home = tmp_path / "peer-home"
    home.mkdir()
    done = peer(home, "init", "--defaults", "--skip-mcp", "--skip-skills", "--skip-embeddings")
    assert done.returncode == 0, done.stdout + done.stderr
    target = home / ".neuralmemory" / "brains" / "fromours.db"
    assert main(["export", "--store", str(store_path), "--brain", "work",
                 "--format", "original-sqlite", "-o", str(target)]) == 0  # fmt: skip
    assert b"Zanzibar" not in target.read_bytes()
    assert peer(home, "brain", "use", "fromours").returncode == 0
    found = peer(home, "recall", "payments PostgreSQL", "--json")
    assert found.returncode == 0, found.stdout + found.stderr
    answer = json.loads(found.stdout[found.stdout.index("{") :])
    assert "Alice moved payments to PostgreSQL 16" in answer["answer"]
    assert kept[0].id in answer["fibers_matched"]
    hidden = peer(home, "recall", "staging password rotates", "--json")
    assert "staging password" not in hidden.stdout
    (version,) = sqlite3.connect(target).execute("SELECT version FROM schema_version").fetchone()
    assert version > 1  # the original migrated the file to its own current schema
