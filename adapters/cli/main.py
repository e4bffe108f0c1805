"""`nmem`: the command line over the engine.

Exit codes: 0 ok, 1 not found or nothing matched, 2 usage or input error. User mistakes print
one line on stderr, never a traceback. `--json` on every command prints a stable shape.
Command modules register themselves; engine imports stay lazy so start-up is fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import completion, maintenance, memories, organize, semantic, serve, transfer
from .base import EXIT_NOT_FOUND, EXIT_OK, EXIT_USAGE, Commands, Parser, UsageError

COMMAND_MODULES = (memories, maintenance, organize, serve, semantic, completion, transfer)


def build_parser() -> argparse.ArgumentParser:
    common = Parser(add_help=False)
    common.add_argument(
        "--store",
        metavar="PATH|URL",
        help="store directory or postgresql:// URL (default: $NMEM_HOME or ~/.neuralmemory)",
    )
    common.add_argument("--brain", "-b", metavar="NAME", help="brain to use (default: current)")
    common.add_argument("--json", "-j", action="store_true", help="print JSON")
    common.add_argument(
        "--remote",
        metavar="URL",
        help="use a brain served by 'nmem serve' at URL: reads from a local replica (in "
        "--store, default $NMEM_HOME/replicas/HOST_PORT), writes on the server",
    )
    common.add_argument(
        "--token", metavar="TOKEN", help="bearer token for --remote (default: $NMEM_TOKEN)"
    )

    parser = Parser(
        prog="nmem",
        description="NeuralMemory: an event-sourced graph memory for AI agents.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True

    command = Commands(sub, common)
    for module in COMMAND_MODULES:
        module.register(command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from engine.errors import DatabaseError, Error, InputError, NotFoundError, TargetError

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


def _fail(message: str, code: int) -> int:
    sys.stderr.write(f"nmem: error: {message}\n")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
