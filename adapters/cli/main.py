"""`nmem`: the command line over the engine.

Exit codes: 0 ok, 1 not found or nothing matched, 2 usage or input error. User mistakes print
one line on stderr, never a traceback. `--json` on every command prints a stable shape.
Command modules register themselves; engine imports stay lazy so start-up is fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from . import (
    completion,
    maintenance,
    memories,
    migrate,
    organize,
    semantic,
    serve,
    transfer,
    views,
)
from .base import (
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_USAGE,
    Commands,
    Parser,
    UsageError,
    Version,
    add_common,
    not_utf8,
)

COMMAND_MODULES = (
    memories,
    views,
    maintenance,
    organize,
    serve,
    semantic,
    completion,
    transfer,
    migrate,
)


def build_parser(named: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The whole command line's parser; with `named` (the words of one command line), one
    whose commands not named there have no options (see Commands)."""
    common = Parser(add_help=False)
    add_common(common, suppress=True)

    parser = Parser(
        prog="nmem",
        description="NeuralMemory: an event-sourced graph memory for AI agents.",
        epilog="Global options (--store, --brain, --json) go before or after the command; "
        "'nmem COMMAND --help' shows a command's options.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", "-V", action=Version, help="print the version and exit")
    add_common(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True

    command = Commands(sub, common, None if named is None else frozenset(named))
    for module in COMMAND_MODULES:
        module.register(command)
    return parser


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line, with an unknown option pointing at the command's own help and an
    argument that is not UTF-8 text refused before it reaches a store."""
    words = sys.argv[1:] if argv is None else argv
    args, extra = build_parser(words).parse_known_args(words)
    if extra:
        raise UsageError(f"unrecognized arguments: {' '.join(extra)} "
                         f"(see '{args.command_prog} --help')")  # fmt: skip
    for name, value in vars(args).items():
        for item in value if isinstance(value, list) else [value]:
            why = not_utf8(item) if isinstance(item, str) else None
            if why is not None:
                option = name.replace("_", "-")
                raise UsageError(f"{option}: not UTF-8 text ({why}): check the terminal's "
                                 "or the script's encoding")  # fmt: skip
    return args


def main(argv: Sequence[str] | None = None) -> int:
    from engine.errors import DatabaseError, Error, InputError, NotFoundError, TargetError

    _text_streams()
    try:
        args = parse(argv)
        code: int = args.handler(args)
        return code
    except UsageError as exc:
        return _fail(str(exc), EXIT_USAGE)
    except InputError as exc:
        return _fail(str(exc), EXIT_USAGE)
    except NotFoundError as exc:
        return _fail(str(exc), EXIT_NOT_FOUND)
    except TargetError as exc:
        return _fail(str(exc), EXIT_USAGE)
    except DatabaseError as exc:
        return _fail(f"store error: {exc}", EXIT_USAGE)
    except Error as exc:  # a --remote server unreachable or refusing (its token, its store)
        return _fail(str(exc), EXIT_USAGE)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except BrokenPipeError:
        return EXIT_OK


def _text_streams() -> None:
    """A terminal or pipe whose encoding cannot show a character gets an escape for it
    (caf\\xe9) instead of a UnicodeEncodeError; JSON output then escapes it as JSON does."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure: Any = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")


def _fail(message: str, code: int) -> int:
    sys.stderr.write(f"nmem: error: {message}\n")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
