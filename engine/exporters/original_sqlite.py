"""The original NeuralMemory's own SQLite layout: a brain database that `neural-memory` 4.x
opens as one of its brains and recalls from (`nmem export --format original-sqlite -o
~/.neuralmemory/brains/NAME.db`, then `nmem brain use NAME` in the original).

The tables are the original's schema version 1 (brains, neurons, neuron_states, synapses,
fibers, typed_memories, projects; reference/neuralmemory-v0.1.md §7.2) and `schema_version`
says 1, so the original migrates the file to its current schema itself when it opens it. The
rows are the original's brain file (engine/formats/original.py: its conventions, forgotten
memories left out), and the brain's id inside is the file's name, as the original looks it up.
Written whole on every run: once the original has opened and migrated the file it is its own.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from ..formats.original import to_original
from .base import FileFormat, FileOptions

if TYPE_CHECKING:
    from ..reads import BrainView

SCHEMA = """
CREATE TABLE schema_version (version INTEGER PRIMARY KEY);
CREATE TABLE brains (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, config TEXT NOT NULL, owner_id TEXT,
    is_public INTEGER DEFAULT 0, shared_with TEXT DEFAULT '[]', created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL);
CREATE TABLE neurons (
    id TEXT NOT NULL, brain_id TEXT NOT NULL, type TEXT NOT NULL, content TEXT NOT NULL,
    metadata TEXT DEFAULT '{}', created_at TEXT NOT NULL, PRIMARY KEY (brain_id, id),
    FOREIGN KEY (brain_id) REFERENCES brains(id) ON DELETE CASCADE);
CREATE INDEX idx_neurons_type ON neurons(brain_id, type);
CREATE INDEX idx_neurons_created ON neurons(brain_id, created_at);
CREATE TABLE neuron_states (
    neuron_id TEXT NOT NULL, brain_id TEXT NOT NULL, activation_level REAL DEFAULT 0.0,
    access_frequency INTEGER DEFAULT 0, last_activated TEXT, decay_rate REAL DEFAULT 0.1,
    created_at TEXT NOT NULL, PRIMARY KEY (brain_id, neuron_id),
    FOREIGN KEY (brain_id, neuron_id) REFERENCES neurons(brain_id, id) ON DELETE CASCADE);
CREATE TABLE synapses (
    id TEXT NOT NULL, brain_id TEXT NOT NULL, source_id TEXT NOT NULL, target_id TEXT NOT NULL,
    type TEXT NOT NULL, weight REAL DEFAULT 0.5, direction TEXT DEFAULT 'uni',
    metadata TEXT DEFAULT '{}', reinforced_count INTEGER DEFAULT 0, last_activated TEXT,
    created_at TEXT NOT NULL, PRIMARY KEY (brain_id, id),
    FOREIGN KEY (brain_id) REFERENCES brains(id) ON DELETE CASCADE,
    FOREIGN KEY (brain_id, source_id) REFERENCES neurons(brain_id, id) ON DELETE CASCADE,
    FOREIGN KEY (brain_id, target_id) REFERENCES neurons(brain_id, id) ON DELETE CASCADE);
CREATE INDEX idx_synapses_source ON synapses(brain_id, source_id);
CREATE INDEX idx_synapses_target ON synapses(brain_id, target_id);
CREATE TABLE fibers (
    id TEXT NOT NULL, brain_id TEXT NOT NULL, neuron_ids TEXT NOT NULL,
    synapse_ids TEXT NOT NULL, anchor_neuron_id TEXT NOT NULL, time_start TEXT, time_end TEXT,
    coherence REAL DEFAULT 0.0, salience REAL DEFAULT 0.0, frequency INTEGER DEFAULT 0,
    summary TEXT, tags TEXT DEFAULT '[]', metadata TEXT DEFAULT '{}', created_at TEXT NOT NULL,
    PRIMARY KEY (brain_id, id), FOREIGN KEY (brain_id) REFERENCES brains(id) ON DELETE CASCADE);
CREATE INDEX idx_fibers_created ON fibers(brain_id, created_at);
CREATE INDEX idx_fibers_salience ON fibers(brain_id, salience);
CREATE TABLE projects (
    id TEXT NOT NULL, brain_id TEXT NOT NULL, name TEXT NOT NULL, description TEXT DEFAULT '',
    start_date TEXT NOT NULL, end_date TEXT, tags TEXT DEFAULT '[]', priority REAL DEFAULT 1.0,
    metadata TEXT DEFAULT '{}', created_at TEXT NOT NULL, PRIMARY KEY (brain_id, id),
    FOREIGN KEY (brain_id) REFERENCES brains(id) ON DELETE CASCADE);
CREATE INDEX idx_projects_name ON projects(brain_id, name);
CREATE TABLE typed_memories (
    fiber_id TEXT NOT NULL, brain_id TEXT NOT NULL, memory_type TEXT NOT NULL,
    priority INTEGER DEFAULT 5, provenance TEXT NOT NULL, expires_at TEXT, project_id TEXT,
    tags TEXT DEFAULT '[]', metadata TEXT DEFAULT '{}', created_at TEXT NOT NULL,
    PRIMARY KEY (brain_id, fiber_id),
    FOREIGN KEY (brain_id, fiber_id) REFERENCES fibers(brain_id, id) ON DELETE CASCADE,
    FOREIGN KEY (brain_id) REFERENCES brains(id) ON DELETE CASCADE,
    FOREIGN KEY (brain_id, project_id) REFERENCES projects(brain_id, id) ON DELETE SET NULL);
CREATE INDEX idx_typed_memories_type ON typed_memories(brain_id, memory_type);
CREATE INDEX idx_typed_memories_project ON typed_memories(brain_id, project_id);
CREATE INDEX idx_typed_memories_expires ON typed_memories(brain_id, expires_at);
INSERT INTO schema_version VALUES (1);
"""

_json = msgspec.json.Encoder()


def _j(value: Any) -> str:
    return _json.encode(value).decode()


class OriginalSqlite:
    def chunks(
        self, view: BrainView, options: FileOptions, summary: dict[str, Any]
    ) -> Iterator[bytes]:
        doc = to_original(view.snapshot(exclude_sensitive=options.exclude_sensitive))
        brain = options.name or doc["brain_name"]
        typed = doc["metadata"]["typed_memories"]
        summary.update(memories=len(doc["fibers"]), neurons=len(doc["neurons"]),
                       synapses=len(doc["synapses"]), brain_id=brain,
                       excluded_sensitive=doc["metadata"].get("excluded_sensitive", 0),
                       projects=len(doc["metadata"]["projects"]))  # fmt: skip
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "brain.db"
            db = sqlite3.connect(path)
            try:
                db.executescript(SCHEMA)
                _fill(db, brain, doc, typed)
                db.commit()
            finally:
                db.close()
            yield path.read_bytes()


def _fill(db: sqlite3.Connection, brain: str, doc: dict[str, Any], typed: list[Any]) -> None:
    created = doc["exported_at"]
    db.execute("INSERT INTO brains (id, name, config, created_at, updated_at) VALUES "
               "(?, ?, ?, ?, ?)", (brain, brain, _j(doc["config"]), created, created))  # fmt: skip
    db.executemany(
        "INSERT INTO neurons VALUES (?, ?, ?, ?, ?, ?)",
        ((n["id"], brain, n["type"], n["content"], _j(n["metadata"]), n["created_at"])
         for n in doc["neurons"]),
    )  # fmt: skip
    db.executemany(
        "INSERT INTO neuron_states (neuron_id, brain_id, created_at) VALUES (?, ?, ?)",
        ((n["id"], brain, n["created_at"]) for n in doc["neurons"]),
    )
    db.executemany(
        "INSERT INTO synapses (id, brain_id, source_id, target_id, type, weight, direction, "
        "metadata, reinforced_count, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ((s["id"], brain, s["source_id"], s["target_id"], s["type"], s["weight"],
          s["direction"], _j(s["metadata"]), s["reinforced_count"], s["created_at"])
         for s in doc["synapses"]),
    )  # fmt: skip
    db.executemany(
        "INSERT INTO fibers (id, brain_id, neuron_ids, synapse_ids, anchor_neuron_id, "
        "time_start, time_end, coherence, salience, frequency, summary, tags, metadata, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ((f["id"], brain, _j(f["neuron_ids"]), _j(f["synapse_ids"]), f["anchor_neuron_id"],
          f["time_start"], f["time_end"], f["coherence"], f["salience"], f["frequency"],
          f["summary"], _j(f["tags"]), _j(f["metadata"]), f["created_at"])
         for f in doc["fibers"]),
    )  # fmt: skip
    db.executemany(
        "INSERT INTO projects VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ((p["id"], brain, p["name"], p["description"], p["start_date"], p["end_date"],
          _j(p["tags"]), p["priority"], _j(p["metadata"]), p["created_at"])
         for p in doc["metadata"]["projects"]),
    )  # fmt: skip
    db.executemany(
        "INSERT INTO typed_memories VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ((t["fiber_id"], brain, t["memory_type"], t["priority"], _j(t["provenance"]),
          t["expires_at"], t["project_id"], _j(t["tags"]), _j(t["metadata"]), t["created_at"])
         for t in typed),
    )  # fmt: skip


FORMATS: dict[str, FileFormat] = {"original-sqlite": OriginalSqlite()}
