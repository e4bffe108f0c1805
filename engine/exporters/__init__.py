"""Every export format in one place: the CLI's `nmem export --format X` and the HTTP export
route list and find them here.

The table below is static so that listing formats (`nmem --help`) imports nothing; a format's
module (one per target, engine/exporters/NAME.py) is imported when it is used. File formats
render a view as bytes (`FileFormat`); targets are projections with a tracked position that
`engine.exporters.sync` keeps up to date (`Target`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Literal

from ..errors import InputError

if TYPE_CHECKING:
    from .base import FileFormat, Target


class Format:
    """One export format's static facts (a plain class: `nmem --help` imports this table, and
    a dataclass would cost the CLI the import of `dataclasses`)."""

    __slots__ = ("binary", "help", "kind", "locations", "media_type", "module", "name",
                 "snapshot")  # fmt: skip

    def __init__(
        self,
        name: str,
        kind: Literal["file", "target"],
        module: str,
        help: str,
        # targets: where they write ("file": -o FILE, "url": --url URL, "dir": -o DIR)
        locations: tuple[str, ...] = (),
        *,
        media_type: str = "application/octet-stream",  # file formats: how they are sent
        binary: bool = False,
        snapshot: bool = True,  # a state, or a history (False)
    ) -> None:
        self.name, self.kind, self.module, self.help = name, kind, module, help
        self.locations, self.media_type = locations, media_type
        self.binary, self.snapshot = binary, snapshot


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("json", "file", "json", "a snapshot of the state (the original's shape)",
               media_type="application/json"),
        Format("msgpack", "file", "msgpack", "the same snapshot as msgpack",
               media_type="application/msgpack", binary=True),
        Format("history", "file", "history", "every event, JSON lines (import replays it)",
               media_type="application/x-ndjson", snapshot=False),
        Format("history-msgpack", "file", "history", "every event, one msgpack array",
               media_type="application/msgpack", binary=True, snapshot=False),
        Format("graphml", "file", "graphml", "the graph (neurons, live links) as GraphML",
               media_type="application/graphml+xml"),
        Format("original", "file", "original", "a brain file the original NeuralMemory's "
               "'nmem brain import' accepts", media_type="application/json"),
        Format("original-sqlite", "file", "original_sqlite", "a brain database in the "
               "original's own SQLite layout (save it as ~/.neuralmemory/brains/NAME.db)",
               media_type="application/vnd.sqlite3", binary=True),
        Format("sqlite", "target", "sqlite", "a SQLite database (docs/sqlite-schema.md), "
               "incremental", ("file",)),
        Format("neo4j", "target", "cypher", "Neo4j through its driver (--url bolt://...), or a "
               ".cypher file (-o), incremental", ("file", "url")),
        Format("neo4j-csv", "target", "neo4j_csv", "CSV files for neo4j-admin database "
               "import (-o DIR), full exports", ("dir",)),
        Format("falkordb", "target", "falkordb", "FalkorDB through its client "
               "(--url redis://host:port), incremental", ("url",)),
    )
}  # fmt: skip


def get(name: str) -> Format:
    found = FORMATS.get(name)
    if found is None:
        raise InputError(f"unknown export format {name!r}; expected one of: {', '.join(FORMATS)}")
    return found


FILE_FORMATS: tuple[str, ...] = tuple(n for n, f in FORMATS.items() if f.kind == "file")


def file_format(name: str) -> FileFormat:
    """The file format `name` (json, msgpack, history, history-msgpack, graphml)."""
    spec = get(name)
    if spec.kind != "file":
        raise InputError(f"{name} is an export target, not a file format")
    formats: dict[str, FileFormat] = importlib.import_module(f".{spec.module}", __name__).FORMATS
    return formats[name]


def open_target(
    name: str, *, output: str | None = None, url: str | None = None, **options: Any
) -> Target:
    """Open (creating it if needed) the target of format `name` at `output` or `url`."""
    spec = get(name)
    if spec.kind != "target":
        raise InputError(f"{name} is a file format: it has no position to keep")
    if (output is None) == (url is None):
        where = " or ".join({"file": "-o FILE", "dir": "-o DIR", "url": "--url URL"}[w]
                            for w in spec.locations)  # fmt: skip
        raise InputError(f"export to {name} needs {where} (one of them)")
    if url is not None and "url" not in spec.locations:
        raise InputError(f"{name} writes a file: give -o, not --url")
    if output is not None and "url" in spec.locations and len(spec.locations) == 1:
        raise InputError(f"{name} writes to a running server: give --url, not -o")
    module = importlib.import_module(f".{spec.module}", __name__)
    target: Target = module.open_target(output=output, url=url, **options)
    return target
