"""`nmem export --format sqlite|neo4j|neo4j-csv|falkordb`: bring a target up to date from the
position it holds (everything on a first run), and with --follow keep it so until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import threading
from typing import Any

from .base import EXIT_OK, UsageError, open_brain, open_store


def export_to_target(args: argparse.Namespace) -> int:
    from engine.exporters import open_target
    from engine.exporters.sync import export, follow

    from .output import emit_json, say
    from .progress import Progress

    if args.after or args.exclude_sensitive:
        raise UsageError("--after and --exclude-sensitive apply to file formats, not targets")
    if args.follow and args.at is not None:
        raise UsageError("--follow keeps a target at the newest event: it takes no --at")
    options: dict[str, Any] = {"graph": args.graph} if args.graph else {}
    with open_store(args) as store:
        brain = open_brain(store, args)
        if args.format == "falkordb" and not args.graph:
            options["graph"] = brain.name
        target = open_target(args.format, output=args.output, url=args.url, **options)
        try:
            with Progress(f"exporting to {args.format}") as bar:
                report = export(brain, target, at=args.at, progress=bar.update)
            if args.follow:
                if not args.json:
                    say(_line(report, brain.name) + "; following (Ctrl-C stops)")
                report = _follow(follow, brain, target, report, say, quiet=args.json)
        finally:
            target.close()
    report["target"] = args.output or _redacted(args.url)
    if args.json:
        emit_json(report)
    elif not args.follow:
        say(_line(report, brain.name))
    return EXIT_OK


def _follow(follow: Any, brain: Any, target: Any, first: dict[str, Any], say: Any,
            *, quiet: bool) -> dict[str, Any]:  # fmt: skip
    """Follow until Ctrl-C (or SIGTERM): the batch being written is finished or rolled back,
    never left half-applied, so the next run resumes from the position the target holds."""
    stop = threading.Event()

    def stopping(signum: int, frame: object) -> None:
        stop.set()

    old = {sig: signal.signal(sig, stopping) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        done = follow(brain, target, stop=stop, on_export=None if quiet else (
            lambda r: say(f"  seq {r['seq']}: {r['events']} new events applied")))  # fmt: skip
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
    totals: dict[str, Any] = dict(done)
    for key in ("events", "batches", "memories", "neurons", "links", "links_removed", "erased"):
        totals[key] = totals.get(key, 0) + first[key]
    totals["from_seq"] = first["from_seq"]
    totals["followed"] = True
    return totals


def _line(report: dict[str, Any], brain: str) -> str:
    if not report["events"] and report["seq"] == report["from_seq"]:
        held = f"holds brain {brain!r} at seq {report['seq']}"
        return f"Nothing new: the {report['format']} target {held}"
    return (
        f"Exported brain {brain!r} to {report['format']}: seq {report['from_seq']} -> "
        f"{report['seq']} ({report['events']} events; {report['memories']} memories, "
        f"{report['links']} links written, {report['links_removed']} removed, "
        f"{report['erased']} erased)"
    )


def _redacted(url: str | None) -> str | None:
    """The URL without a password, for output."""
    if url is None:
        return None
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))
