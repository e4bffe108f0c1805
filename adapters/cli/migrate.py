"""`nmem migrate`: move a store to another backend (LMDB <-> PostgreSQL) by copying its log
exactly (engine/logstore/copy.py), then checking the copy and folding each brain once there."""

from __future__ import annotations

import argparse
from typing import Any

from .base import EXIT_OK, Commands, UsageError


def register(command: Commands) -> None:
    p = command(
        "migrate",
        "Copy a whole store into another one, exactly (a directory or a postgresql:// URL, "
        "either way): every brain, event, index and setting, so the copy gives the same "
        "answers, past ones included. Run it again to copy what was written since (stop the "
        "writers before the last run, then point them at the new store).",
        cmd_migrate,
        "example: nmem migrate --from ~/.neuralmemory --to postgresql://me@db/nmem",
    )
    p.add_argument(
        "--from",
        dest="source",
        metavar="PATH|URL",
        help="the store to copy (default: --store, else $NMEM_HOME or ~/.neuralmemory)",
    )
    p.add_argument(
        "--to",
        dest="target",
        metavar="PATH|URL",
        required=True,
        help="the store to copy into: empty, or holding an earlier copy of this one",
    )


def cmd_migrate(args: argparse.Namespace) -> int:
    from engine.errors import IntegrityError
    from engine.logstore import open_log
    from engine.logstore.copy import copy_log, differences
    from engine.store import default_location

    from . import fatal
    from .output import emit_json, say
    from .progress import Progress

    source = args.source or args.store or default_location()
    src = open_log(source, create=False)
    try:
        fatal.install(src.location)
        dst = open_log(args.target)
        try:
            if dst.location == src.location:
                raise UsageError(f"--from and --to are the same store ({src.location})")
            with Progress("copying the log") as bar:
                copied = copy_log(src, dst, progress=bar.update)
            found = differences(src, dst)
            if found:  # the source was written during the copy, or the copy went wrong
                raise IntegrityError(
                    "the copy differs from the source (" + "; ".join(found) + "); if the "
                    "source is still written, stop its writers and run nmem migrate again"
                )
            where = (src.location, dst.location)
        finally:
            dst.close()
    finally:
        src.close()
    heads = _fold(args.target)
    result: dict[str, Any] = {
        "from": where[0],
        "to": where[1],
        "brains": {name: {"events": heads[name], "copied": n} for name, n in copied.items()},
        "events_copied": sum(copied.values()),
    }
    if args.json:
        emit_json(result)
    else:
        say(f"Copied {result['events_copied']} events of {len(copied)} brains from {where[0]} "
            f"to {where[1]}; the copy is the same log.")  # fmt: skip
    return EXIT_OK


def _fold(location: str) -> dict[str, int]:
    """Open every brain of the copy once and checkpoint it (checkpoints are not copied), so
    the first server on the new store starts as fast as on the old; no sweep is written."""
    from engine import Store

    with Store(location) as store:
        store.auto_sweep = False
        heads = {}
        for name in store.brain_names():
            brain = store.brain(name)
            heads[name] = brain.seq
            brain.checkpoint()
        return heads
