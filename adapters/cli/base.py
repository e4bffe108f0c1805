"""Plumbing shared by every `nmem` command: parser, store and brain access, time options."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from engine import Brain, BrainView, Store

EXIT_OK, EXIT_NOT_FOUND, EXIT_USAGE = 0, 1, 2

Handler = Callable[[argparse.Namespace], int]


class UsageError(Exception):
    """Bad command-line usage; reported in one line with exit code 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


class Commands:
    """Registers subcommands; called like a function for one command, `group` for a family
    (`nmem brain list`). Every command gets the common options (--store, --brain, --json)."""

    def __init__(self, sub: Any, common: argparse.ArgumentParser) -> None:
        self._sub = sub
        self._common = common

    def __call__(
        self, name: str, help_text: str, handler: Handler, example: str
    ) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = self._sub.add_parser(
            name,
            parents=[self._common],
            help=help_text,
            description=help_text,
            epilog=example,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.set_defaults(handler=handler)
        return p

    def group(self, name: str, help_text: str) -> Commands:
        p = self._sub.add_parser(name, help=help_text, description=help_text)
        sub = p.add_subparsers(dest=f"{name}_command", metavar="COMMAND", parser_class=Parser)
        sub.required = True
        return Commands(sub, self._common)


def open_store(args: argparse.Namespace) -> Store:
    """The store of `--store` (default $NMEM_HOME or ~/.neuralmemory); on a terminal, opening
    a brain with a long stretch of log to fold shows a progress bar."""
    from engine import Store

    from . import fatal
    from .progress import Progress

    if getattr(args, "remote", None):
        family = getattr(args, f"{args.command}_command", None)  # nmem brain list
        command = f"{args.command} {family}" if family else args.command
        raise UsageError(
            f"nmem {command} works on a local store, not with --remote (which serves "
            "reads and writes of memories, projects, config, stats, diff and export)"
        )
    from engine.logstore import is_url
    from engine.store import default_location

    early = str(args.store or default_location())
    if not is_url(early):  # opening a mapped LMDB file reads its pages too
        fatal.install(early)
    store = Store(args.store)
    fatal.install(store.location)  # a URL's location names no password
    bar = Progress("replaying the log")
    if bar.tty:

        def report(done: int, total: int) -> None:
            bar.update(done, total)
            if done >= total:
                bar.close()

        store.on_replay = report
    return store


def open_brain(store: Store, args: argparse.Namespace) -> Brain:
    return store.brain(args.brain)


@contextmanager
def brain_session(args: argparse.Namespace) -> Iterator[Brain]:
    """The brain a command works on: `--brain` of the local store, or with `--remote` a
    served brain (reads from its local replica, writes on the server: adapters/remote.py)."""
    if not args.remote:
        with open_store(args) as store:
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
