"""Moving brains: `nmem export` (a snapshot or the whole history) and `nmem import` (our files
and the original NeuralMemory's snapshot JSON). The formats are documented in
engine/importing.py."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from engine.exporters import FORMATS

from .base import (
    EXIT_OK,
    Commands,
    UsageError,
    add_at,
    brain_session,
    open_store,
    view_of,
)


def register(command: Commands) -> None:
    p = command(
        "export",
        "Export a brain: its state as a snapshot (json, msgpack; the original NeuralMemory's "
        "snapshot shape), its whole history (every event: history = JSONL, history-msgpack) "
        "or its graph (graphml), as of now or --at a past moment ('nmem import' reads "
        "snapshots and histories back); or into a target that keeps its position (sqlite, "
        "neo4j, neo4j-csv, falkordb): a re-run applies only what is new, --follow keeps "
        "applying new events.",
        cmd_export,
        "example: nmem export work.json   |   nmem export --format history -o work.jsonl   "
        "|   nmem export --format sqlite -o work.db --follow",
    )
    p.add_argument("file", nargs="?", metavar="FILE", help="write to FILE (same as -o FILE)")
    p.add_argument(
        "--format",
        choices=list(FORMATS),
        default="json",
        metavar="FORMAT",
        help="; ".join(f"{f.name}: {f.help}" for f in FORMATS.values()) + " (default: json)",
    )
    p.add_argument(
        "--output",
        "-o",
        metavar="FILE",
        help="write to FILE (default: standard output; binary formats need a file); sqlite: "
        "the database file; neo4j: a .cypher file; neo4j-csv: a directory",
    )
    p.add_argument(
        "--url",
        metavar="URL",
        help="targets: the running server to export into (neo4j: bolt:// or neo4j://, "
        "user and password from NEO4J_USERNAME and NEO4J_PASSWORD; falkordb: redis://host:port)",
    )
    p.add_argument(
        "--follow",
        action="store_true",
        help="targets: after catching up, keep applying new events as they are committed "
        "(Ctrl-C stops cleanly)",
    )
    p.add_argument(
        "--graph",
        metavar="NAME",
        help="falkordb: the graph to write (default: the brain's name); neo4j: the database",
    )
    add_at(p)
    p.add_argument(
        "--after",
        type=int,
        default=0,
        metavar="SEQ",
        help="histories: only the events after SEQ, to continue a copy that imported the "
        "history up to SEQ (its 'nmem import' appends them)",
    )
    p.add_argument(
        "--exclude-sensitive",
        "-s",
        action="store_true",
        help="snapshots: leave out memories with sensitive content (keys, passwords...)",
    )

    p = command(
        "import",
        "Import a file made by 'nmem export' (snapshot or history; JSON, JSONL or msgpack), or "
        "the original NeuralMemory's snapshot JSON. A history goes into a brain without "
        "memories (a new one with --brain) and reproduces the exported brain; a snapshot's "
        "memories are re-encoded and added, keeping their ids. Importing twice stores nothing "
        "new; texts pass the sensitive-content check.",
        cmd_import,
        "example: nmem import work.jsonl --brain work-copy   |   nmem import old-brain.json",
    )
    p.add_argument("file", help="the export file; '-' reads standard input")
    policy = p.add_mutually_exclusive_group()
    policy.add_argument("--force", "-f", dest="sensitive", action="store_const", const="allow",
                        help="import even if sensitive content is detected")  # fmt: skip
    policy.add_argument(
        "--redact",
        "-r",
        dest="sensitive",
        action="store_const",
        const="redact",
        help="snapshots: import with sensitive parts replaced by [REDACTED]",
    )


@contextmanager
def _output(path: str | None) -> Iterator[IO[bytes]]:
    """Standard output, or FILE written through a temporary name: a failed export leaves no
    half-written file."""
    if path is None or path == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    from engine.exporters.base import replaced

    with replaced(Path(path)) as fh:
        yield fh


def cmd_export(args: argparse.Namespace) -> int:
    if args.file is not None:
        if args.output is not None:
            raise UsageError("give FILE or -o FILE, not both")
        args.output = args.file
    spec = FORMATS[args.format]
    if spec.kind == "target":
        from .export_targets import export_to_target

        return export_to_target(args)
    if args.url or args.follow or args.graph:
        raise UsageError(f"--url, --follow and --graph apply to targets, not --format {spec.name}")
    from engine.exporters import file_format
    from engine.exporters.base import FileOptions

    from .output import emit_json, say
    from .progress import Progress

    fmt = file_format(args.format)
    to_file = args.output not in (None, "-")
    if spec.binary and not to_file:
        raise UsageError(f"--format {args.format} is binary: give --output FILE")
    if not spec.snapshot and args.exclude_sensitive:
        raise UsageError("--exclude-sensitive applies to snapshots (--format json or msgpack)")
    if args.after and spec.snapshot:
        raise UsageError("--after applies to histories (--format history or history-msgpack)")
    if to_file and not Path(args.output).parent.is_dir():
        raise UsageError(f"cannot write {args.output}: no such directory")
    summary: dict[str, Any] = {}
    with brain_session(args) as brain:
        view = view_of(brain, args.at)
        with Progress("exporting") as bar, _output(args.output) as out:
            name = Path(args.output).stem if to_file else None
            options = FileOptions(args.after, args.exclude_sensitive, bar.update, name)
            for chunk in fmt.chunks(view, options, summary):
                out.write(chunk)
        seq = view.seq
        summary = {"brain": brain.name, "format": args.format, "output": args.output,
                   "seq": seq, **summary}  # fmt: skip
    if not to_file:
        return EXIT_OK  # standard output holds the export itself
    if args.json:
        emit_json(summary)
    elif not spec.snapshot:
        say(f"Exported {_n(summary['events'], 'event')} of brain {brain.name!r} (seq 1..{seq}) "
            f"to {args.output}")  # fmt: skip
    elif args.format == "graphml":
        counts = f"{summary['neurons']} neurons, {summary['synapses']} links"
        say(f"Exported the graph of brain {brain.name!r} as of seq {seq} ({counts}) "
            f"to {args.output}")  # fmt: skip
    else:
        left_out = summary["excluded_sensitive"]
        note = f", {left_out} left out as sensitive" if left_out else ""
        say(f"Exported {_n(summary['memories'], 'memory')} of brain {brain.name!r} as of seq "
            f"{seq} to {args.output}{note}")  # fmt: skip
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    from engine.importing import load_export

    from .output import emit_json, say
    from .progress import Progress

    try:
        data = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {args.file}: {exc.strerror or exc}") from None
    export = load_export(data)
    with open_store(args, create=True) as store:
        brain = store.brain_to_fill(args.brain)  # a refused import creates no brain
        with Progress("importing") as bar:
            if export.kind == "history":
                assert export.history is not None
                result = brain.import_history(
                    export.history, sensitive=args.sensitive, progress=bar.update
                )
            else:
                assert export.snapshot is not None
                result = brain.import_snapshot(
                    export.snapshot, sensitive=args.sensitive, progress=bar.update
                )
    result = {"kind": export.kind, "encoding": export.encoding, **result}
    if args.json:
        emit_json(result)
        return EXIT_OK
    source = result["source"]
    if export.kind == "history":
        if not result["events"]:
            say(f"Nothing new: brain {result['brain']!r} already holds this history of brain "
                f"{source['name']!r} (seq 1..{source['seq']})")  # fmt: skip
            return EXIT_OK
        times = "recorded times kept" if result["times_preserved"] else "recorded times moved"
        counts = f"{_n(result['events'], 'event')} ({_n(result['memories'], 'memory')})"
        say(f"Imported {counts} of brain {source['name']!r} into brain {result['brain']!r}: seq "
            f"{result['seq'] - result['events'] + 1}..{result['seq']}, {times}")  # fmt: skip
        return EXIT_OK
    origin = "an original NeuralMemory snapshot" if result["format"] != "neuralmemory" else (
        "a snapshot")  # fmt: skip
    parts = [_n(result["memories"], "memory")]
    labels = {"duplicates": "already there", "projects": "projects created", "pinned": "pinned",
              "forgotten": "forgotten", "redacted": "redacted"}  # fmt: skip
    for key, label in labels.items():
        if result.get(key):
            parts.append(f"{result[key]} {label}")
    say(f"Imported {', '.join(parts)} into brain {result['brain']!r} from {origin}")
    for warning in result["warnings"]:
        say(f"  note: {warning}")
    return EXIT_OK


def _n(count: int, word: str) -> str:
    plural = word[:-1] + "ies" if word.endswith("y") else word + "s"
    return f"{count} {word if count == 1 else plural}"
