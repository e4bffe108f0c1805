"""SQLite: a brain as relational tables close to the original NeuralMemory's (brains, neurons,
synapses, fibers, typed_memories, projects), plus its events and the position of the export,
kept up to date incrementally. The schema is documented in docs/sqlite-schema.md.

Each batch is one transaction with the new position, so a killed export leaves the file as of
the last batch and resumes from there. `secure_delete` zeroes whatever a change removes, so an
erased memory's text is in no byte of the file once its erase has been exported (the rollback
journal, which holds the old pages while a batch commits, is deleted at commit).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from ..errors import InputError, TargetError
from .base import Position
from .rows import Batch, iso

FORMAT = "neuralmemory-sqlite"
VERSION = 2  # 2: links keyed by (brain, source, id)
IN_CHUNK = 500  # ids per `IN (...)`

SCHEMA = """
CREATE TABLE IF NOT EXISTS nmem_export (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS brains (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, config TEXT NOT NULL, created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS neurons (
    brain_id TEXT NOT NULL, id TEXT NOT NULL, idx INTEGER NOT NULL, type TEXT NOT NULL,
    key TEXT, content TEXT, memory_id TEXT, time_start TEXT, time_end TEXT,
    created_at TEXT NOT NULL, PRIMARY KEY (brain_id, id));
CREATE INDEX IF NOT EXISTS neurons_type ON neurons (brain_id, type);
CREATE INDEX IF NOT EXISTS neurons_key ON neurons (brain_id, key);
CREATE INDEX IF NOT EXISTS neurons_content ON neurons (brain_id, content COLLATE NOCASE);
CREATE TABLE IF NOT EXISTS synapses (
    brain_id TEXT NOT NULL, id TEXT NOT NULL, idx INTEGER NOT NULL, source_id TEXT NOT NULL,
    target_id TEXT NOT NULL, type TEXT NOT NULL, direction TEXT NOT NULL, weight REAL NOT NULL,
    reinforced_count INTEGER NOT NULL, decay_from_us INTEGER NOT NULL, decay_rate REAL NOT NULL,
    created_at TEXT NOT NULL, PRIMARY KEY (brain_id, source_id, id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS synapses_target ON synapses (brain_id, target_id);
CREATE TABLE IF NOT EXISTS fibers (
    brain_id TEXT NOT NULL, id TEXT NOT NULL, idx INTEGER NOT NULL,
    anchor_neuron_id TEXT NOT NULL, time_start TEXT NOT NULL, time_end TEXT NOT NULL,
    salience REAL NOT NULL, tags TEXT NOT NULL, metadata TEXT NOT NULL,
    created_at TEXT NOT NULL, PRIMARY KEY (brain_id, id));
CREATE INDEX IF NOT EXISTS fibers_created ON fibers (brain_id, created_at);
CREATE INDEX IF NOT EXISTS fibers_time ON fibers (brain_id, time_start);
CREATE TABLE IF NOT EXISTS typed_memories (
    brain_id TEXT NOT NULL, fiber_id TEXT NOT NULL, memory_type TEXT NOT NULL,
    priority INTEGER NOT NULL, status TEXT NOT NULL, expiry_recorded INTEGER NOT NULL,
    expires_at TEXT, project_id TEXT,
    source TEXT NOT NULL, tags TEXT NOT NULL, created_at TEXT NOT NULL,
    PRIMARY KEY (brain_id, fiber_id));
CREATE INDEX IF NOT EXISTS typed_type ON typed_memories (brain_id, memory_type, priority);
CREATE INDEX IF NOT EXISTS typed_status ON typed_memories (brain_id, status);
CREATE INDEX IF NOT EXISTS typed_project ON typed_memories (brain_id, project_id);
CREATE INDEX IF NOT EXISTS typed_expires ON typed_memories (brain_id, expires_at);
CREATE TABLE IF NOT EXISTS projects (
    brain_id TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL, description TEXT NOT NULL,
    start_date TEXT NOT NULL, end_date TEXT, tags TEXT NOT NULL, priority REAL NOT NULL,
    PRIMARY KEY (brain_id, id));
CREATE INDEX IF NOT EXISTS projects_name ON projects (brain_id, name COLLATE NOCASE);
CREATE TABLE IF NOT EXISTS events (
    brain_id TEXT NOT NULL, seq INTEGER NOT NULL, recorded_at TEXT NOT NULL,
    type TEXT NOT NULL, summary TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (brain_id, seq));
CREATE INDEX IF NOT EXISTS events_type ON events (brain_id, type, seq);
CREATE INDEX IF NOT EXISTS events_time ON events (brain_id, recorded_at);
CREATE TABLE IF NOT EXISTS event_memories (
    brain_id TEXT NOT NULL, memory_id TEXT NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (brain_id, memory_id, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS export_positions (
    brain_id TEXT PRIMARY KEY, brain_name TEXT NOT NULL, seq INTEGER NOT NULL,
    as_of TEXT NOT NULL, as_of_us INTEGER NOT NULL, as_of_hour TEXT NOT NULL,
    hour_us INTEGER NOT NULL, exporter TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE VIEW IF NOT EXISTS memories AS
    SELECT f.brain_id, f.id, n.content AS text, t.memory_type, t.priority, t.status,
           f.time_start AS event_time, f.created_at AS recorded_at, t.expires_at, f.tags,
           t.project_id, p.name AS project, t.source, f.salience, f.metadata
    FROM fibers f
    JOIN typed_memories t ON t.brain_id = f.brain_id AND t.fiber_id = f.id
    LEFT JOIN neurons n ON n.brain_id = f.brain_id AND n.id = f.anchor_neuron_id
    LEFT JOIN projects p ON p.brain_id = t.brain_id AND p.id = t.project_id;
CREATE VIEW IF NOT EXISTS live_synapses AS
    SELECT s.*, s.weight * exp(-s.decay_rate * max(0, x.hour_us - s.decay_from_us)
                               / 86400000000.0 / (1 + s.reinforced_count)) AS effective_weight
    FROM synapses s
    JOIN export_positions x ON x.brain_id = s.brain_id
    JOIN typed_memories t ON t.brain_id = s.brain_id AND t.fiber_id = s.source_id
    WHERE t.status = 'pinned'
       OR (t.status IN ('active', 'expired') AND NOT t.expiry_recorded
           AND (t.expires_at IS NULL OR t.expires_at > x.as_of_hour));
"""

_json = msgspec.json.Encoder()


def _j(value: Any) -> str:
    return _json.encode(value).decode()


def _upsert(table: str, columns: Sequence[str], key: Sequence[str]) -> str:
    names = ", ".join(columns)
    marks = ", ".join("?" for _ in columns)
    update = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)
    return (f"INSERT INTO {table} ({names}) VALUES ({marks}) "
            f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {update}")  # fmt: skip


_NEURON = _upsert("neurons", ("brain_id", "id", "idx", "type", "key", "content", "memory_id",
                              "time_start", "time_end", "created_at"),
                  ("brain_id", "id"))  # fmt: skip
_SYNAPSE = _upsert("synapses", ("brain_id", "id", "idx", "source_id", "target_id", "type",
                                "direction", "weight", "reinforced_count", "decay_from_us",
                                "decay_rate", "created_at"),
                   ("brain_id", "source_id", "id"))  # fmt: skip
_FIBER = _upsert("fibers", ("brain_id", "id", "idx", "anchor_neuron_id", "time_start",
                            "time_end", "salience", "tags", "metadata", "created_at"),
                 ("brain_id", "id"))  # fmt: skip
_TYPED = _upsert("typed_memories", ("brain_id", "fiber_id", "memory_type", "priority",
                                    "status", "expiry_recorded", "expires_at", "project_id",
                                    "source", "tags", "created_at"),
                 ("brain_id", "fiber_id"))  # fmt: skip
_PROJECT = _upsert("projects", ("brain_id", "id", "name", "description", "start_date",
                                "end_date", "tags", "priority"), ("brain_id", "id"))  # fmt: skip
_EVENT = _upsert("events", ("brain_id", "seq", "recorded_at", "type", "summary", "body"),
                 ("brain_id", "seq"))  # fmt: skip
_BRAIN = _upsert("brains", ("id", "name", "config", "created_at", "updated_at"), ("id",))
_POSITION = _upsert("export_positions", ("brain_id", "brain_name", "seq", "as_of", "as_of_us",
                                         "as_of_hour", "hour_us", "exporter", "updated_at"),
                    ("brain_id",))  # fmt: skip


class SqliteTarget:
    """One SQLite file; it may hold several brains (rows are keyed by brain id)."""

    name = "sqlite"
    wants_events = True
    append_only = False

    def __init__(self, path: Path) -> None:
        self.path = path
        if path.is_dir():
            raise InputError(f"{path} is a directory: give the SQLite file to write")
        if not path.parent.is_dir():
            raise InputError(f"cannot write {path}: no such directory")
        try:
            self.db = sqlite3.connect(path, timeout=30, isolation_level=None)
        except sqlite3.Error as exc:
            raise TargetError(f"cannot open {path}: {exc}") from None
        try:
            self._prepare()
        except BaseException:
            self.db.close()
            raise

    def _prepare(self) -> None:
        db = self.db
        try:
            db.execute("PRAGMA secure_delete = ON")
            db.execute("PRAGMA journal_mode = DELETE")
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
        except sqlite3.DatabaseError as exc:
            raise InputError(f"{self.path} is not a SQLite database ({exc})") from None
        if tables and "nmem_export" not in tables:
            raise InputError(
                f"{self.path} is a SQLite database that this export did not make: export "
                "into a new file"
            )
        if tables:
            found = dict(db.execute("SELECT name, value FROM nmem_export"))
            if found.get("format") != FORMAT:
                raise InputError(f"{self.path} is not a NeuralMemory SQLite export")
            version = int(found.get("version", "0"))
            if version > VERSION:
                raise InputError(
                    f"{self.path} was written by a newer NeuralMemory (schema "
                    f"{found['version']} > {VERSION}): upgrade to export into it"
                )
            if version < VERSION:
                raise InputError(
                    f"{self.path} has the export schema {version} of an earlier NeuralMemory "
                    f"(this one writes {VERSION}): export into a new file"
                )
            return
        try:  # one script, one transaction: a second exporter racing this one waits
            db.executescript(
                f"BEGIN IMMEDIATE;\n{SCHEMA}\nINSERT OR REPLACE INTO nmem_export VALUES "
                f"('format', '{FORMAT}'), ('version', '{VERSION}');\nCOMMIT;"
            )
        except sqlite3.Error as exc:
            raise TargetError(f"cannot write {self.path}: {exc}") from None

    def _transaction(self) -> _Transaction:
        return _Transaction(self.db)

    def position(self, brain_id: str) -> Position | None:
        row = self.db.execute(
            "SELECT brain_name, seq, as_of_us FROM export_positions WHERE brain_id = ?",
            (brain_id,),
        ).fetchone()
        return None if row is None else Position(brain_id, row[0], int(row[1]), int(row[2]))

    def not_erased(self, brain_id: str, memory_ids: Sequence[str]) -> list[str]:
        out: list[str] = []
        for ids in _chunks(memory_ids):
            marks = ", ".join("?" for _ in ids)
            out.extend(
                r[0]
                for r in self.db.execute(
                    f"SELECT fiber_id FROM typed_memories WHERE brain_id = ? AND status != "
                    f"'erased' AND fiber_id IN ({marks})",
                    (brain_id, *ids),
                )
            )
        return out

    def apply(self, batch: Batch) -> None:
        b = batch.brain.id
        db = self.db
        with self._transaction():
            held = self.position(b)
            if (None if held is None else held.seq) != batch.since:
                raise TargetError(
                    f"{self.path} was moved by another export meanwhile (it holds seq "
                    f"{None if held is None else held.seq}): run the export again"
                )
            now = iso(int(datetime.now(UTC).timestamp() * 1_000_000))
            br = batch.brain
            db.execute(_BRAIN, (br.id, br.name, br.config, br.created_at, now))
            db.executemany(_NEURON, ((b, n.id, n.idx, n.type, n.key, n.content, None,
                                      n.time_start, n.time_end, n.created_at)
                                     for n in batch.neurons))  # fmt: skip
            self._delete("neurons", "id", b, batch.gone_neurons)
            erased = [m.id for m in batch.memories if m.text is None]
            self._delete("neurons", "id", b, erased)
            db.executemany(_NEURON, ((b, m.id, m.anchor, "concept", None, m.text, m.id,
                                      m.event_time, m.event_end, m.recorded_at)
                                     for m in batch.memories if m.text is not None))  # fmt: skip
            db.executemany(_FIBER, ((b, m.id, m.idx, m.id, m.event_time, m.event_end,
                                     m.salience, _j(m.tags), m.metadata, m.recorded_at)
                                    for m in batch.memories))  # fmt: skip
            db.executemany(_TYPED, ((b, m.id, m.memory_type, m.priority, m.status,
                                     int(m.expiry_recorded), m.expires_at,
                                     m.project_id, m.source, _j(m.tags), m.recorded_at)
                                    for m in batch.memories))  # fmt: skip
            db.executemany(
                "DELETE FROM synapses WHERE brain_id = ? AND source_id = ? AND id = ?",
                ((b, g.source_id, g.id) for g in batch.gone_links),
            )
            db.executemany(_SYNAPSE, ((b, s.id, s.idx, s.source_id, s.target_id, s.type,
                                       s.direction, s.weight, s.reinforced_count,
                                       s.decay_from_us, s.decay_rate, s.created_at)
                                      for s in batch.links))  # fmt: skip
            self._delete("projects", "id", b, batch.gone_projects)
            db.executemany(_PROJECT, ((b, p.id, p.name, p.description, p.start_date,
                                       p.end_date, _j(p.tags), p.priority)
                                      for p in batch.projects))  # fmt: skip
            for events in (batch.redacted, batch.events):
                db.executemany(_EVENT, ((b, e.seq, e.recorded_at, e.type, e.summary, e.body)
                                        for e in events))  # fmt: skip
                db.executemany(
                    "INSERT OR IGNORE INTO event_memories VALUES (?, ?, ?)",
                    ((b, mid, e.seq) for e in events for mid in e.memory_ids),
                )
            db.execute(_POSITION, (b, br.name, batch.seq, iso(batch.time), batch.time,
                                   iso(batch.hour), batch.hour, "sqlite", now))  # fmt: skip

    def _delete(self, table: str, column: str, brain_id: str, ids: Iterable[str]) -> None:
        for chunk in _chunks(list(ids)):
            marks = ", ".join("?" for _ in chunk)
            self.db.execute(
                f"DELETE FROM {table} WHERE brain_id = ? AND {column} IN ({marks})",
                (brain_id, *chunk),
            )

    def restart(self) -> None:
        raise NotImplementedError  # never asked: SQLite takes erased text out itself

    def close(self) -> None:
        self.db.close()


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception (Ctrl-C included)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TargetError(f"cannot write the SQLite file: {exc}") from None

    def __exit__(self, kind: object, exc: object, tb: object) -> None:
        if kind is None:
            try:
                self.db.execute("COMMIT")
            except sqlite3.Error as error:
                self.db.execute("ROLLBACK")
                raise TargetError(f"cannot write the SQLite file: {error}") from None
        elif self.db.in_transaction:
            self.db.execute("ROLLBACK")


def _chunks(ids: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(ids), IN_CHUNK):
        yield ids[start : start + IN_CHUNK]


def open_target(*, output: str | None, url: str | None = None, **_: Any) -> SqliteTarget:
    assert output is not None
    return SqliteTarget(Path(output).expanduser())
