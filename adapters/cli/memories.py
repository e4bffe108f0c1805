"""Commands on memories: remember, recall, history, demo."""

from __future__ import annotations

import argparse
import sys

from .base import (
    EXIT_NOT_FOUND,
    EXIT_OK,
    AddCommand,
    UsageError,
    moment,
    open_brain,
    open_store,
    view_of,
)


def register(command: AddCommand) -> None:
    p = command(
        "remember",
        "Remember a text (a fact, decision, todo, ...).",
        cmd_remember,
        'example: nmem remember "Alice moved payments to PostgreSQL 16" -t payments',
    )
    p.add_argument("text", help="what to remember; '-' reads standard input")
    p.add_argument("--type", "-T", help="memory type (default: detected from the text)")
    p.add_argument("--priority", "-p", type=int, default=5, help="priority 0-10 (default 5)")
    p.add_argument("--tag", "-t", action="append", default=[], help="tag (repeatable)")
    p.add_argument(
        "--expires",
        "-e",
        type=float,
        metavar="DAYS",
        help="expire after DAYS (default: per type; context 7, todo 30, ...)",
    )
    p.add_argument(
        "--time", metavar="WHEN", help="when it happened: ISO time or '2 days ago' (default: now)"
    )
    p.add_argument(
        "--id",
        dest="cid",
        metavar="KEY",
        help="idempotency key: remembering with the same key again stores nothing",
    )

    p = command(
        "recall",
        "Recall the memories that answer a query.",
        cmd_recall,
        'example: nmem recall "what database do payments use?" --at "3 days ago"',
    )
    p.add_argument("query")
    p.add_argument(
        "--at",
        metavar="WHEN",
        help="answer as the brain would have then: seq, ISO time or '3 days ago'",
    )
    p.add_argument(
        "--depth",
        "-d",
        type=int,
        choices=range(4),
        help="how far activation spreads, 0-3 (default: from the question)",
    )
    p.add_argument(
        "--max-tokens",
        "-m",
        type=int,
        default=500,
        help="token budget of the context (default 500)",
    )
    p.add_argument("--limit", "-n", type=int, default=10, help="memories to return (default 10)")
    p.add_argument("--type", "-T", action="append", help="only these memory types")
    p.add_argument("--tag", "-t", action="append", help="only memories with all these tags")
    p.add_argument("--include-expired", action="store_true", help="also expired memories")

    p = command(
        "history",
        "Every event of one memory, or of the whole brain.",
        cmd_history,
        "example: nmem history 3fa2c1d0   (or: nmem history --limit 20)",
    )
    p.add_argument("memory_id", nargs="?", help="memory id or unique prefix (default: the brain)")
    p.add_argument("--at", metavar="WHEN", help="history up to that moment")
    p.add_argument("--type", action="append", help="only these event types")
    p.add_argument("--since", metavar="WHEN", help="events recorded at or after")
    p.add_argument("--until", metavar="WHEN", help="events recorded at or before")
    p.add_argument("--limit", "-n", type=int, help="only the last N events")

    command(
        "demo",
        "Remember a short conversation, recall now and in the past.",
        cmd_demo,
        "example: nmem demo",
    )


def cmd_remember(args: argparse.Namespace) -> int:
    from engine import MemoryInput

    from .output import emit_json, say

    text = sys.stdin.read() if args.text == "-" else args.text
    with open_store(args) as store:
        brain = open_brain(store, args)
        done = brain.remember_many(
            [
                MemoryInput(
                    text=text,
                    event_time=moment(args.time),
                    memory_type=args.type,
                    priority=args.priority,
                    tags=args.tag,
                    expires_in_days=args.expires,
                    source="cli",
                    cid=args.cid,
                )
            ]
        )[0]
        if args.json:
            emit_json({**done.to_dict(), "brain": brain.name})
        else:
            note = " (already stored: same --id)" if done.duplicate else ""
            expiry = f", expires {done.expires_at.date()}" if done.expires_at else ""
            say(
                f"Remembered {done.id[:8]} [{done.memory_type.value}, priority "
                f"{done.priority}{expiry}] in brain {brain.name!r}{note}"
            )
    return EXIT_OK


def cmd_recall(args: argparse.Namespace) -> int:
    from .output import emit_json, recall_text, say

    with open_store(args) as store:
        brain = open_brain(store, args)
        result = view_of(brain, args.at).recall(
            args.query,
            depth=args.depth,
            limit=args.limit,
            max_tokens=args.max_tokens,
            types=args.type,
            tags=args.tag,
            include_expired=args.include_expired,
        )
        if args.json:
            emit_json({**result.to_dict(), "brain": brain.name})
        elif result.memories:
            say(recall_text(result))
        else:
            say("No memories found.")
    return EXIT_OK if result.memories else EXIT_NOT_FOUND


def cmd_history(args: argparse.Namespace) -> int:
    from .output import emit_json, history_line, say

    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be positive")
    with open_store(args) as store:
        brain = open_brain(store, args)
        entries = view_of(brain, args.at).history(
            args.memory_id,
            types=args.type,
            since=moment(args.since),
            until=moment(args.until),
            limit=args.limit,
        )
        if args.json:
            emit_json(
                {
                    "brain": brain.name,
                    "memory_id": args.memory_id,
                    "events": [e.to_dict() for e in entries],
                }
            )
        else:
            for entry in entries:
                say(history_line(entry))
    return EXIT_OK if entries else EXIT_NOT_FOUND


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    with open_store(args) as store:
        return run_demo(store, args.brain or "demo", as_json=args.json)
