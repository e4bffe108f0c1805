"""Plumbing shared by every `nmem` command: parser, store and brain access, time options."""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from engine import Brain, BrainView, Store

EXIT_OK, EXIT_NOT_FOUND, EXIT_USAGE = 0, 1, 2

Handler = Callable[[argparse.Namespace], int]


class UsageError(Exception):
    """Bad command-line usage; reported in one line with exit code 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{_suggest(message)} (see '{self.prog} --help')")


def _suggest(message: str) -> str:
    """argparse's "invalid choice" message with the nearest choice named ("did you mean
    'stats'?"); a command typo gets that instead of the list of every command."""
    import difflib
    import re

    found = re.match(r"argument (\S+): invalid choice: '(.*)' \(choose from (.*)\)$", message)
    if found is None:
        return message
    name, given, listed = found.groups()
    choices = re.findall(r"'([^']*)'", listed)
    close = difflib.get_close_matches(given, choices, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    if name == "COMMAND":
        return f"unknown command {given!r}{hint}"
    return message + hint


def add_common(p: argparse.ArgumentParser, *, suppress: bool) -> None:
    """--store, --brain, --json, --remote and --token: accepted before the command (nmem
    --brain work stats) and after it. The command's copies leave unset what the user did not
    give (SUPPRESS), so a value given before the command is not overwritten by its default."""
    unset: Any = argparse.SUPPRESS if suppress else None
    p.add_argument(
        "--store",
        metavar="PATH|URL",
        default=unset,
        help="store directory or postgresql:// URL (default: $NMEM_HOME or ~/.neuralmemory)",
    )
    p.add_argument("--brain", "-b", metavar="NAME", default=unset,
                   help="brain to use (default: current)")  # fmt: skip
    p.add_argument("--json", "-j", action="store_true",
                   default=argparse.SUPPRESS if suppress else False, help="print JSON")  # fmt: skip
    p.add_argument(
        "--remote",
        metavar="URL",
        default=unset,
        help="use a brain served by 'nmem serve' at URL: reads from a local replica (in "
        "--store, default $NMEM_HOME/replicas/HOST_PORT), writes on the server",
    )
    p.add_argument("--token", metavar="TOKEN", default=unset,
                   help="bearer token for --remote (default: $NMEM_TOKEN)")  # fmt: skip


class Version(argparse.Action):
    """`nmem --version` / `-V`: the installed version, looked up only when asked (the
    metadata lookup costs more than parsing)."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> NoReturn:
        import platform
        from importlib.metadata import PackageNotFoundError, version

        try:
            mine = version("neuralmemory")
        except PackageNotFoundError:  # pragma: no cover - a source tree without metadata
            mine = "unknown"
        print(f"nmem {mine} (NeuralMemory; Python {platform.python_version()})")
        parser.exit()


class _Unbuilt(Parser):
    """The options of a command the command line does not name, dropped unread."""

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        return argparse.Action([], argparse.SUPPRESS)

    def add_mutually_exclusive_group(self, **kwargs: Any) -> Any:
        return self


_UNBUILT = _Unbuilt(add_help=False)  # one for all: it keeps nothing


class Commands:
    """Registers subcommands; called like a function for one command, `group` for a family
    (`nmem brain list`). Every command gets the common options (--store, --brain, --json).

    With `named` (the words of a command line) only the commands it names get their options;
    the others are listed by name and help (for --help and "did you mean"): building all ~50
    parsers was most of a fresh `nmem recall`'s parsing."""

    def __init__(
        self, sub: Any, common: argparse.ArgumentParser, named: frozenset[str] | None = None
    ) -> None:
        self._sub = sub  # None: a family the command line does not name
        self._common = common
        self._named = named

    def _unbuilt(self, name: str, help_text: str) -> bool:
        if self._sub is None:
            return True
        if self._named is None or name in self._named:
            return False
        self._sub.add_parser(name, help=help_text, add_help=False)
        return True

    def __call__(
        self, name: str, help_text: str, handler: Handler, example: str
    ) -> argparse.ArgumentParser:
        if self._unbuilt(name, help_text):
            return _UNBUILT
        p: argparse.ArgumentParser = self._sub.add_parser(
            name,
            parents=[self._common],
            help=help_text,
            description=help_text,
            epilog=example,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.set_defaults(handler=handler, command_prog=p.prog)
        return p

    def group(self, name: str, help_text: str) -> Commands:
        if self._unbuilt(name, help_text):
            return Commands(None, self._common, self._named)
        p = self._sub.add_parser(name, help=help_text, description=help_text)
        sub = p.add_subparsers(dest=f"{name}_command", metavar="COMMAND", parser_class=Parser)
        sub.required = True
        return Commands(sub, self._common, self._named)


def open_store(args: argparse.Namespace, *, create: bool = False) -> Store:
    """The store of `--store` (default $NMEM_HOME or ~/.neuralmemory); on a terminal, opening
    a brain with a long stretch of log to fold shows a progress bar. Only a command that may
    start a brain (remember, import, brain create...) passes `create`: any other creates
    nothing, and a store or brain that does not exist is a NotFoundError naming the nearest
    brain."""
    if getattr(args, "remote", None):
        family = getattr(args, f"{args.command}_command", None)  # nmem brain list
        command = f"{args.command} {family}" if family else args.command
        raise UsageError(
            f"nmem {command} works on a local store, not with --remote (which serves "
            "reads and writes of memories, projects, config, the semantic layer, stats, diff "
            "and export)"
        )
    with _start_up():
        from engine import NotFoundError, Store
        from engine.logstore import is_url
        from engine.store import default_location

        from . import fatal
        from .progress import Progress

        early = str(args.store or default_location())
        if not is_url(early):  # opening a mapped LMDB file reads its pages too
            fatal.install(early)
        try:
            store = Store(args.store, create=create)
        except NotFoundError:
            where = args.store or default_location()
            raise unknown_brain(args.brain or "default", [], str(where)) from None
    fatal.install(store.location)  # a URL's location names no password
    bar = Progress("replaying the log")
    if bar.tty:

        def report(done: int, total: int) -> None:
            bar.update(done, total)
            if done >= total:
                bar.close()

        store.on_replay = report
    return store


@contextmanager
def _start_up() -> Iterator[None]:
    """The engine's imports and the opening of the store without the cyclic garbage
    collector, whose passes over the ~100k objects they make (numpy's among them) were a
    tenth of a fresh `nmem recall`. Those objects live as long as the process: frozen, later
    collections skip them too. A process that has loaded the engine already (main() called
    again in-process) has nothing to save, and freezes nothing more."""
    if "engine.store" in sys.modules or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def open_brain(store: Store, args: argparse.Namespace) -> Brain:
    """The brain of `--brain` (default: the current one); a store opened for a read does not
    create it."""
    from engine import NotFoundError

    try:
        return store.brain(args.brain)
    except NotFoundError:
        if store.create:
            raise
        name = args.brain or store.current
        raise unknown_brain(name, sorted(store.brain_names()), store.location) from None


def unknown_brain(name: str, names: list[str], location: str) -> Exception:
    """The error of a read of a brain that does not exist: which brains do, and the nearest
    name when one is close (a typo)."""
    import difflib

    from engine import NotFoundError

    if not names:
        return NotFoundError(f"unknown brain {name!r}: nothing is stored at {location} yet "
                             "('nmem remember' creates it)")  # fmt: skip
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return NotFoundError(f"unknown brain {name!r}{hint} (brains: {', '.join(names)}; pick one "
                         "with --brain NAME or 'nmem brain use NAME')")  # fmt: skip


def read_text(source: str) -> str:
    """The text of a file, or of standard input for '-', as UTF-8 (a leading BOM dropped).
    Bytes that are not UTF-8 text are one usage error saying where, and nothing is stored."""
    where = "standard input" if source == "-" else source
    try:
        data = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {where}: {exc.strerror or exc}") from None
    if b"\0" in data:
        raise UsageError(f"{where} looks like binary data (a NUL byte at offset "
                         f"{data.index(0)}), not text")  # fmt: skip
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"{where} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}): "
            "convert it first, e.g. with 'iconv -f latin1 -t utf-8'"
        ) from None


def not_utf8(value: str) -> str | None:
    """Why a command-line string is not text: Python hands over the bytes of an argument that
    is not UTF-8 as lone surrogates, which no store can hold."""
    for i, ch in enumerate(value):
        if "\udc80" <= ch <= "\udcff":
            shown = value.encode("utf-8", "surrogateescape")[:40]
            return f"byte 0x{ord(ch) - 0xDC00:02x} at offset {i} of {shown!r}"
        if "\ud800" <= ch <= "\udfff":
            return f"a lone surrogate U+{ord(ch):04X} at offset {i}"
    return None


@contextmanager
def brain_session(args: argparse.Namespace, *, create: bool = False) -> Iterator[Brain]:
    """The brain a command works on: `--brain` of the local store (created only with
    `create`, as in open_store), or with `--remote` a served brain (reads from its local
    replica, writes on the server: adapters/remote.py)."""
    if not args.remote:
        with open_store(args, create=create) as store:
            yield open_brain(store, args)
        return
    from adapters.remote import connect

    with connect(args.remote, args.token, args.brain, args.store, source="cli") as brain:
        yield brain


def view_of(brain: Brain, at: str | None) -> BrainView:
    return brain if at is None else brain.at(at)


def moment(text: str | None) -> Any:
    """A datetime from a time option (ISO, 12/01/2026, "3 days ago", "yesterday 3pm"), or
    None. Times of day and dates without a year are read as the latest one past."""
    if text is None:
        return None
    from engine.clock import from_us, now_us
    from engine.when import parse_when

    return from_us(parse_when(text, now_us()))


def expiry_days(text: str | None) -> float | None:
    """Days from now until an --expires option: a number of days, a duration ("3d", "2w",
    "in 2 days") or a moment ("2026-12-24", "12/01/2027", "friday 5pm"), read ahead."""
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    from engine.clock import DAY_US, now_us
    from engine.when import parse_span

    now = now_us()
    days = (parse_span(text, now, prefer="future")[0] - now) / DAY_US
    if days <= 0:
        raise UsageError(f"--expires {text!r} is in the past")
    return days


def add_at(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--at",
        metavar="WHEN",
        help="answer as the brain knew it then (recorded time): seq, ISO time or '3 days "
        "ago' (for when things happened: --since/--until)",
    )


def add_happened(p: argparse.ArgumentParser) -> None:
    """Event-time filters: what happened then, whenever the brain learned it."""
    p.add_argument("--since", metavar="WHEN",
                   help="only what happened at or after WHEN (event time; 'last week', "
                   "12/01/2026, '3d')")  # fmt: skip
    p.add_argument("--until", metavar="WHEN",
                   help="only what happened up to WHEN, its whole day or period included "
                   "(event time)")  # fmt: skip
