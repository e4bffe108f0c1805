"""The brain as a property graph in Cypher: the statements every graph target runs (Neo4j
through its driver, FalkorDB through its client) and the `.cypher` file that replays them.

The graph: `(:Memory {id, text, memory_type, priority, status, ...})` for each memory (its
anchor), `(:Neuron {id, type, key, content, ...})` for every other neuron, one relationship per
live link typed by its synapse type (`(:Memory)-[:INVOLVES {id, weight, ...}]->(:Neuron)`,
memory-to-memory links for neighbours in time), `(:Project)`, one `(:Brain)` and its
`(:ExportPosition {brain_id, seq, as_of_us, hour_us})`. A graph holds one brain.

Every statement is `UNWIND $rows AS row MERGE ...`, so running a batch twice changes nothing;
the position is written last, so a killed export resumes from the last complete batch. The
effective weight of a link at the position's moment:
`r.weight * exp(-r.decay_rate * days / (1 + r.reinforced_count))` with days =
`(x.hour_us - r.decay_from_us) / 86400000000.0`, at least 0, for live links (rows.py): those of
memories with status pinned, or active or expired with `NOT expiry_recorded` and no expiry or
`expires_at > x.as_of_hour`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import msgspec

from ..errors import InputError
from ..model import SYNAPSE_TYPES
from .base import Position
from .rows import Batch, GoneLink, LinkRow, iso

ROWS = 2000  # rows per UNWIND
LABELS = ("Neuron", "Memory", "Project", "Brain", "ExportPosition")
KEYS = {"Neuron": "id", "Memory": "id", "Project": "id", "Brain": "id",
        "ExportPosition": "brain_id"}  # fmt: skip
Statement = tuple[str, dict[str, Any]]


def rel_type(synapse_type: str) -> str:
    name = synapse_type.upper()
    if synapse_type not in {t.value for t in SYNAPSE_TYPES}:
        raise InputError(f"unknown link type {synapse_type!r}")
    return name


def constraints() -> list[str]:
    """Neo4j 5 uniqueness constraints (each also an index), safe to run again."""
    return [
        f"CREATE CONSTRAINT {label.lower()}_{key} IF NOT EXISTS FOR (n:{label}) "
        f"REQUIRE n.{key} IS UNIQUE"
        for label, key in KEYS.items()
    ]


POSITION = (
    "MATCH (x:ExportPosition {brain_id: $brain_id}) "
    "RETURN x.brain_name AS name, x.seq AS seq, x.as_of_us AS as_of_us"
)
NOT_ERASED = (
    "UNWIND $ids AS id MATCH (m:Memory {id: id}) WHERE m.status <> 'erased' RETURN m.id AS id"
)
OTHER_BRAIN = "MATCH (b:Brain) WHERE b.id <> $brain_id RETURN b.name AS name LIMIT 1"


def _plain(row: msgspec.Struct, drop: Sequence[str] = ()) -> dict[str, Any]:
    out: dict[str, Any] = msgspec.structs.asdict(row)
    for key in drop:
        out.pop(key, None)
    return out


def _chunks(rows: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(rows), ROWS):
        yield rows[start : start + ROWS]


def statements(batch: Batch) -> list[Statement]:
    """The statements that apply one batch, in order, the position last."""
    out: list[Statement] = []

    def each(query: str, rows: list[Any]) -> None:
        out.extend((query, {"rows": chunk}) for chunk in _chunks(rows))

    br = batch.brain
    out.append((
        "MERGE (b:Brain {id: $row.id}) SET b += $row",
        {"row": _plain(br)},
    ))  # fmt: skip
    each("UNWIND $rows AS row MERGE (n:Neuron {id: row.id}) SET n += row",
         [_plain(n) for n in batch.neurons])  # fmt: skip
    each("UNWIND $rows AS id MATCH (n:Neuron {id: id}) DETACH DELETE n", batch.gone_neurons)
    each("UNWIND $rows AS row MERGE (m:Memory {id: row.id}) SET m += row",
         [_plain(m, ("anchor",)) for m in batch.memories])  # fmt: skip
    gone: dict[str, list[GoneLink]] = {}
    for g in batch.gone_links:
        gone.setdefault(rel_type(g.type), []).append(g)
    for kind, dropped in sorted(gone.items()):
        each(f"UNWIND $rows AS row MATCH (:Memory {{id: row.source_id}})-[r:{kind} "
             "{id: row.id}]->() DELETE r", [_plain(g) for g in dropped])  # fmt: skip
    groups: dict[tuple[str, bool], list[LinkRow]] = {}
    for link in batch.links:
        groups.setdefault((rel_type(link.type), link.target_memory), []).append(link)
    for (kind, to_memory), links in sorted(groups.items()):
        label = "Memory" if to_memory else "Neuron"
        each(f"UNWIND $rows AS row MATCH (s:Memory {{id: row.source_id}}) "
             f"MATCH (t:{label} {{id: row.target_id}}) MERGE (s)-[r:{kind} {{id: row.id}}]->(t) "
             "SET r += row.props",
             [{"source_id": s.source_id, "target_id": s.target_id, "id": s.id,
               "props": _plain(s, ("source_id", "target_id", "target_memory", "type"))}
              for s in links])  # fmt: skip
    each("UNWIND $rows AS id MATCH (p:Project {id: id}) DETACH DELETE p", batch.gone_projects)
    each("UNWIND $rows AS row MERGE (p:Project {id: row.id}) SET p += row",
         [_plain(p) for p in batch.projects])  # fmt: skip
    out.append((
        "MERGE (x:ExportPosition {brain_id: $row.brain_id}) SET x += $row",
        {"row": {"brain_id": br.id, "brain_name": br.name, "seq": batch.seq,
                 "as_of_us": batch.time, "hour_us": batch.hour, "as_of_hour": iso(batch.hour)}},
    ))  # fmt: skip
    return out


class GraphTarget:
    """A graph server holding one brain, written with `statements`: the part Neo4j and
    FalkorDB share. `run(query, params)` returns rows as dicts; `run_batch(statements)`
    applies a batch's statements (in one transaction where the server has them)."""

    name = "graph"
    wants_events = False
    append_only = False

    def run(self, query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        raise NotImplementedError

    def run_batch(self, batch: list[Statement]) -> None:
        raise NotImplementedError

    def position(self, brain_id: str) -> Position | None:
        found = self.run(POSITION, {"brain_id": brain_id})
        if not found:
            return None
        row = found[0]
        return Position(brain_id, row["name"], int(row["seq"]), int(row["as_of_us"]))

    def not_erased(self, brain_id: str, memory_ids: Sequence[str]) -> list[str]:
        out: list[str] = []
        for chunk in _chunks(list(memory_ids)):
            out.extend(r["id"] for r in self.run(NOT_ERASED, {"ids": chunk}))
        return out

    def apply(self, batch: Batch) -> None:
        other = self.run(OTHER_BRAIN, {"brain_id": batch.brain.id})
        if other:
            raise InputError(
                f"this graph holds brain {other[0]['name']!r}: a graph holds one brain "
                "(export into another graph or database)"
            )
        held = self.position(batch.brain.id)
        if (None if held is None else held.seq) != batch.since:
            raise InputError(
                f"this graph was moved by another export meanwhile (it holds seq "
                f"{None if held is None else held.seq}): run the export again"
            )
        self.run_batch(statements(batch))

    def restart(self) -> None:
        raise NotImplementedError  # never asked: a graph takes erased text out itself

    def close(self) -> None:
        pass


# -- literals: the same statements as text, for a .cypher file -----------------------------------

_ESCAPES = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_UNSAFE = re.compile(r"[\\'\n\r\t\x00-\x1f\x7f\u2028\u2029]")


def literal(value: Any) -> str:
    """A Cypher literal for a parameter value (strings single-quoted and escaped)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InputError(f"cannot write {value!r} to Cypher")
        return repr(value)
    if isinstance(value, str):
        return (
            "'"
            + _UNSAFE.sub(lambda m: _ESCAPES.get(m.group(), f"\\u{ord(m.group()):04x}"), value)
            + "'"
        )
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"`{k}`: {literal(v)}" for k, v in value.items()) + "}"
    raise InputError(f"cannot write a {type(value).__name__} to Cypher")


def inline(query: str, params: dict[str, Any]) -> str:
    """The statement with its parameters written in as literals."""
    for name in sorted(params, key=len, reverse=True):
        query = query.replace(f"${name}", literal(params[name]))
    return query


# -- the .cypher file target ---------------------------------------------------------------------

MARK = "// nmem-position "


class CypherFile:
    """A .cypher script for cypher-shell (`cypher-shell -f brain.cypher`): the constraints,
    then each batch's statements, each batch ending with a comment that records the position.
    A re-run appends the statements of what is new; replaying the file builds the graph. A
    file cannot take text back out, so an erase of a memory the file holds rewrites the file
    whole (through a temporary file, renamed over it when the export closes)."""

    name = "neo4j"
    wants_events = False
    append_only = True

    def __init__(self, path: Path) -> None:
        if path.is_dir() or not path.parent.is_dir():
            raise InputError(f"cannot write {path}: give a file in an existing directory")
        self.path = path
        self._tmp = path.with_name(f".{path.name}.rewrite")
        self._tmp.unlink(missing_ok=True)  # left by a rewrite that was killed
        self._writing = path
        self._positions: dict[str, Position] = {}
        self._held: set[str] = set()
        if path.exists() and path.stat().st_size:
            self._read()

    def _read(self) -> None:
        try:
            text = self.path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read {self.path}: {exc}") from None
        if not text.startswith(HEADER):
            raise InputError(f"{self.path} is not a Cypher export of NeuralMemory")
        for line in text.splitlines():
            if line.startswith(MARK):
                raw = msgspec.json.decode(line[len(MARK) :])
                self._positions[raw["brain_id"]] = Position(raw["brain_id"], raw["brain_name"],
                                                            raw["seq"], raw["time"])  # fmt: skip
                self._held.update(raw["memories"])

    def position(self, brain_id: str) -> Position | None:
        return self._positions.get(brain_id)

    def not_erased(self, brain_id: str, memory_ids: Sequence[str]) -> list[str]:
        return [m for m in memory_ids if m in self._held]

    def restart(self) -> None:
        """Start the file again (into the temporary file until `close`)."""
        self._writing = self._tmp
        self._tmp.unlink(missing_ok=True)
        self._positions.clear()
        self._held.clear()

    def apply(self, batch: Batch) -> None:
        if any(bid != batch.brain.id for bid in self._positions):
            raise InputError(f"{self.path} holds another brain: a graph holds one brain")
        lines: list[str] = []
        if not self._positions:
            lines.append(HEADER + ": run with cypher-shell -f FILE")
            lines.extend(q + ";" for q in constraints())
        lines.extend(inline(q, params) + ";" for q, params in statements(batch))
        held = [m.id for m in batch.memories if m.text is not None]
        mark = {"brain_id": batch.brain.id, "brain_name": batch.brain.name, "seq": batch.seq,
                "time": batch.time, "memories": held}  # fmt: skip
        lines.append(MARK + msgspec.json.encode(mark).decode())
        with self._writing.open("a", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
        self._positions[batch.brain.id] = Position(batch.brain.id, batch.brain.name, batch.seq,
                                                   batch.time)  # fmt: skip
        self._held.difference_update(batch.erased)
        self._held.update(held)

    def close(self) -> None:
        if self._writing == self._tmp and self._tmp.exists():
            self._tmp.replace(self.path)
        self._writing = self.path


HEADER = "// NeuralMemory graph export"


def open_target(*, output: str | None, url: str | None = None, **options: Any) -> Any:
    """`neo4j`: a .cypher file (-o) or a server through the official driver (--url)."""
    if url is not None:
        from .neo4j import Neo4jTarget

        return Neo4jTarget(url, database=options.get("graph"))
    assert output is not None
    return CypherFile(Path(output).expanduser())
