"""`nmem`: the command line over the engine.

Exit codes: 0 ok, 1 not found or nothing matched, 2 usage or input error. User mistakes print
one line on stderr, never a traceback. `--json` on every command prints a stable shape.
Command modules register themselves; engine imports stay lazy so start-up is fast.
"""

from __future__ import annotations

import os
import sys

from . import preload

# Not typing's: importing typing is ~3 ms of a command handed to a preloaded process, which
# imports only this and preload.py (the rest is imported as it is needed). Mypy reads it as True.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from types import ModuleType
    from typing import Any


def command_modules() -> tuple[ModuleType, ...]:
    """The modules of the commands, each registering its own (in this order)."""
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

    return (memories, views, maintenance, organize, serve, semantic, completion, transfer,
            migrate, preload)  # fmt: skip


def build_parser(named: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The whole command line's parser; with `named` (the words of one command line), one
    whose commands not named there have no options (see Commands)."""
    import argparse

    from .base import Commands, Parser, Version, add_common

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
    for module in command_modules():
        module.register(command)
    return parser


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line, with an unknown option pointing at the command's own help and an
    argument that is not UTF-8 text refused before it reaches a store."""
    from .base import UsageError, not_utf8

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
    """Run a command line (default: this process's) and give its exit code; run as the
    process itself (no `argv`), the process ends here once the command is done, and with
    NMEM_PRELOAD set a preloaded process runs the command when it can (preload.py)."""
    where = os.environ.get(preload.ENV) if argv is None else None
    forwarded = None if where is None else preload.forward(where, sys.argv[1:])
    code = _run(argv) if forwarded is None else forwarded
    if argv is None:
        _exit_now(code)
    return code


def _run(argv: Sequence[str] | None) -> int:
    _quiet_blas()
    from engine.errors import DatabaseError, Error, InputError, NotFoundError, TargetError

    from .base import EXIT_NOT_FOUND, EXIT_OK, EXIT_USAGE, UsageError

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


def _exit_now(code: int) -> None:
    """End the process with `code` once its output is written and its exit handlers have run,
    without the interpreter's teardown (freeing every module and the engine's ~100k objects,
    10-25 ms of a fresh `nmem recall`). With another thread still running, a profiler or
    tracer watching (cProfile, coverage, a debugger: they finish after main returns), or
    output that cannot be written (a closed pipe), it returns and the process ends the usual
    way."""
    import atexit

    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() > 1:
        return
    if sys.getprofile() is not None or sys.gettrace() is not None:
        return
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):
        return
    atexit._run_exitfuncs()
    os._exit(code)


def _quiet_blas() -> None:
    """OpenBLAS with one thread, unless the user chose: numpy starts a pool of spinning BLAS
    threads at import (40 ms of CPU, a fifth of a fresh `nmem recall`) that the engine never
    uses (its products are numpy's own loops: engine/semantic/vectors.py)."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


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
