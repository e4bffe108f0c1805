"""CSV files for `neo4j-admin database import full`, the bulk load of a new Neo4j database:
the same graph as engine/exporters/cypher.py, written whole on every run (the bulk importer
only creates databases, so these files have no position to continue from).

Files in the directory: `memories.csv`, `neurons.csv`, `projects.csv`, `brain.csv` (nodes,
one id space `Node`), `links.csv` (relationships, typed by synapse type), and `import.sh` with
the command that loads them. Lists (tags) are joined by U+001F; texts may span lines.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec

from ..errors import InputError
from .base import Position, replaced
from .cypher import rel_type
from .rows import Batch, LinkRow, MemoryRow, NeuronRow, ProjectRow

SEP = "\x1f"  # between the items of a list value (--array-delimiter=U+001F)

MEMORY_COLUMNS = [
    ("id:ID(Node)", "id"), ("idx:long", "idx"), ("text", "text"),
    ("memory_type", "memory_type"), ("priority:int", "priority"), ("status", "status"),
    ("expiry_recorded:boolean", "expiry_recorded"),
    ("event_time", "event_time"), ("event_end", "event_end"), ("recorded_at", "recorded_at"),
    ("expires_at", "expires_at"), ("tags:string[]", "tags"), ("project_id", "project_id"),
    ("source", "source"), ("salience:double", "salience"), ("metadata", "metadata"),
]  # fmt: skip
NEURON_COLUMNS = [
    ("id:ID(Node)", "id"), ("idx:long", "idx"), ("type", "type"), ("key", "key"),
    ("content", "content"), ("time_start", "time_start"), ("time_end", "time_end"),
    ("created_at", "created_at"),
]  # fmt: skip
PROJECT_COLUMNS = [
    ("id:ID(Node)", "id"), ("name", "name"), ("description", "description"),
    ("start_date", "start_date"), ("end_date", "end_date"), ("tags:string[]", "tags"),
    ("priority:double", "priority"),
]  # fmt: skip
LINK_COLUMNS = [
    (":START_ID(Node)", "source_id"), (":END_ID(Node)", "target_id"), (":TYPE", "type"),
    ("id", "id"), ("direction", "direction"), ("weight:double", "weight"),
    ("reinforced_count:int", "reinforced_count"), ("decay_from_us:long", "decay_from_us"),
    ("decay_rate:double", "decay_rate"), ("created_at", "created_at"),
]  # fmt: skip

COMMAND = """#!/bin/sh
# Load this NeuralMemory brain into a new Neo4j database (Neo4j 5: neo4j-admin database import).
# Run from this directory; DATABASE defaults to neo4j (stop it first, or name a new one).
exec neo4j-admin database import full "${DATABASE:-neo4j}" --overwrite-destination \\
  --nodes=Memory=memories.csv --nodes=Neuron=neurons.csv --nodes=Project=projects.csv \\
  --nodes=Brain=brain.csv --relationships=links.csv \\
  --array-delimiter=U+001F --multiline-fields=true
"""


class CsvDirectory:
    name = "neo4j-csv"
    wants_events = False
    append_only = False

    def __init__(self, folder: Path) -> None:
        if folder.exists() and not folder.is_dir():
            raise InputError(f"{folder} is a file: neo4j-csv writes a directory")
        if not folder.parent.is_dir():
            raise InputError(f"cannot write {folder}: no such directory")
        self.folder = folder
        self._brain: Any = None
        self._position: tuple[int, int] = (0, 0)
        self._neurons: dict[str, NeuronRow] = {}
        self._memories: dict[str, MemoryRow] = {}
        self._links: dict[str, LinkRow] = {}
        self._projects: dict[str, ProjectRow] = {}

    def position(self, brain_id: str) -> Position | None:
        return None  # a bulk import starts a database: every run writes everything

    def not_erased(self, brain_id: str, memory_ids: Sequence[str]) -> list[str]:
        return [m for m in memory_ids if m in self._memories and self._memories[m].text]

    def apply(self, batch: Batch) -> None:
        self._brain = batch.brain
        self._position = (batch.seq, batch.time)
        for key in batch.gone_neurons:
            self._neurons.pop(key, None)
        self._neurons.update((n.id, n) for n in batch.neurons)
        self._memories.update((m.id, m) for m in batch.memories)
        for g in batch.gone_links:
            self._links.pop(g.id, None)
        self._links.update((s.id, s) for s in batch.links)
        for pid in batch.gone_projects:
            self._projects.pop(pid, None)
        self._projects.update((p.id, p) for p in batch.projects)

    def restart(self) -> None:
        raise NotImplementedError  # never asked: the files are written whole

    def close(self) -> None:
        if self._brain is None:
            return
        self.folder.mkdir(exist_ok=True)
        self._write("memories.csv", MEMORY_COLUMNS, self._memories.values())
        self._write("neurons.csv", NEURON_COLUMNS, self._neurons.values())
        self._write("projects.csv", PROJECT_COLUMNS, self._projects.values())
        self._write("links.csv", LINK_COLUMNS, self._links.values())
        b = self._brain
        with replaced(self.folder / "brain.csv", text=True) as fh:
            out = csv.writer(fh)
            out.writerow(["id:ID(Node)", "name", "config", "created_at", "seq:long",
                          "as_of_us:long"])  # fmt: skip
            out.writerow([b.id, b.name, b.config, b.created_at, *self._position])
        with replaced(self.folder / "import.sh", text=True) as fh:
            fh.write(COMMAND)
        (self.folder / "import.sh").chmod(0o755)

    def _write(self, name: str, columns: list[tuple[str, str]], rows: Any) -> None:
        with replaced(self.folder / name, text=True) as fh:
            out = csv.writer(fh)
            out.writerow([header for header, _ in columns])
            for row in rows:
                data = msgspec.structs.asdict(row)
                if isinstance(row, LinkRow):
                    data["type"] = rel_type(row.type)
                out.writerow([_cell(field, data[field]) for _, field in columns])


def _cell(field: str, value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return SEP.join(value)
    return value


def open_target(*, output: str | None, url: str | None = None, **_: Any) -> CsvDirectory:
    assert output is not None
    return CsvDirectory(Path(output).expanduser())
