"""`nmem`: the command line over the engine.

Exit codes: 0 ok, 1 not found or nothing matched, 2 usage or input error. User mistakes print
one line on stderr, never a traceback. `--json` on every command prints a stable shape.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from engine import Brain, BrainView, Store

EXIT_OK, EXIT_NOT_FOUND, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad command-line usage; reported in one line with exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


_EPILOG = {
    "remember": 'example: nmem remember "Alice moved payments to PostgreSQL 16" -t payments',
    "recall": 'example: nmem recall "what database do payments use?" --at "3 days ago"',
    "history": "example: nmem history 3fa2c1d0   (or: nmem history --limit 20)",
    "demo": "example: nmem demo",
}


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument(
        "--store", metavar="PATH", help="store directory (default: $NMEM_HOME or ~/.neuralmemory)"
    )
    common.add_argument("--brain", "-b", metavar="NAME", help="brain to use (default: current)")
    common.add_argument("--json", "-j", action="store_true", help="print JSON")

    parser = _Parser(
        prog="nmem",
        description="NeuralMemory: an event-sourced graph memory for AI agents.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def command(name: str, help_text: str, handler: Callable[[argparse.Namespace], int]) -> Any:
        p = sub.add_parser(
            name, parents=[common], help=help_text, description=help_text, epilog=_EPILOG.get(name)
        )
        p.set_defaults(handler=handler)
        return p

    p = command("remember", "Remember a text (a fact, decision, todo, ...).", cmd_remember)
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

    p = command("recall", "Recall the memories that answer a query.", cmd_recall)
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

    p = command("history", "Every event of one memory, or of the whole brain.", cmd_history)
    p.add_argument("memory_id", nargs="?", help="memory id or unique prefix (default: the brain)")
    p.add_argument("--at", metavar="WHEN", help="history up to that moment")
    p.add_argument("--type", action="append", help="only these event types")
    p.add_argument("--since", metavar="WHEN", help="events recorded at or after")
    p.add_argument("--until", metavar="WHEN", help="events recorded at or before")
    p.add_argument("--limit", "-n", type=int, help="only the last N events")

    command("demo", "Remember a short conversation, recall now and in the past.", cmd_demo)
    return parser


# -- plumbing ----------------------------------------------------------------------------------


def open_store(args: argparse.Namespace) -> Store:
    from engine import Store

    return Store(args.store)


def open_brain(store: Store, args: argparse.Namespace) -> Brain:
    return store.brain(args.brain)


def view_of(brain: Brain, at: str | None) -> BrainView:
    return brain if at is None else brain.at(at)


def moment(text: str | None) -> Any:
    if text is None:
        return None
    from engine.clock import from_us, now_us
    from engine.when import parse_when

    return from_us(parse_when(text, now_us()))


def main(argv: Sequence[str] | None = None) -> int:
    from engine.errors import DatabaseError, InputError, NotFoundError

    _quiet_logs()
    try:
        args = build_parser().parse_args(argv)
        code: int = args.handler(args)
        return code
    except UsageError as exc:
        return _fail(str(exc), EXIT_USAGE)
    except InputError as exc:
        return _fail(str(exc), EXIT_USAGE)
    except NotFoundError as exc:
        return _fail(str(exc), EXIT_NOT_FOUND)
    except DatabaseError as exc:
        return _fail(f"store error: {exc}", EXIT_USAGE)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except BrokenPipeError:
        return EXIT_OK


def _fail(message: str, code: int) -> int:
    sys.stderr.write(f"nmem: error: {message}\n")
    return code


def _quiet_logs() -> None:
    """Engine logs go to stderr, so stdout stays clean for --json and pipes."""
    import logging

    import structlog

    structlog.configure(
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
    )


# -- commands ------------------------------------------------------------------------------------


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


if __name__ == "__main__":
    raise SystemExit(main())
