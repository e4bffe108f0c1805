"""Quick looks, under the original NeuralMemory's names: `today`, `last`, `status`, `doctor`.
None of them creates anything; `doctor` reports a missing store or brain as a failed check."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any, NamedTuple

from .base import (
    EXIT_NOT_FOUND,
    EXIT_OK,
    Commands,
    UsageError,
    brain_session,
    open_brain,
    open_store,
)

if TYPE_CHECKING:
    from engine import Brain, Store


def register(command: Commands) -> None:
    p = command(
        "today",
        "What happened today (event time), newest told first.",
        cmd_today,
        "example: nmem today   |   nmem today --json",
    )
    p.add_argument("--limit", "-n", type=int, default=50, help="how many (default 50)")
    p = command(
        "last",
        "The last memories told (recorded time), newest first.",
        cmd_last,
        "example: nmem last   |   nmem last -n 10",
    )
    p.add_argument("--limit", "-n", type=int, default=5, help="how many (default 5)")
    command(
        "status",
        "The brain at a glance: store, memories, open todos, log size, last event, last decay "
        "sweep, and what to do next.",
        cmd_status,
        "example: nmem status   |   nmem status --brain work --json",
    )
    command(
        "doctor",
        "Check the installation and the store: each check passes, warns or fails (exit 1 if "
        "one fails). Creates nothing.",
        cmd_doctor,
        "example: nmem doctor   |   nmem doctor --json",
    )


def cmd_today(args: argparse.Namespace) -> int:
    return _recent(args, since="today", empty="Nothing happened today")


def cmd_last(args: argparse.Namespace) -> int:
    return _recent(args, since=None, empty="No memories stored yet")


def _recent(args: argparse.Namespace, *, since: str | None, empty: str) -> int:
    from .memories import memory_list

    if args.limit < 1:
        raise UsageError("--limit must be positive")
    args.at, args.since, args.until = None, since, None
    with brain_session(args) as brain:
        found = brain.context(limit=args.limit, since=since)
        return memory_list(args, brain, found, empty)


def cmd_status(args: argparse.Namespace) -> int:
    from .output import emit_json, history_line, say, table

    with open_store(args) as store:
        brain = open_brain(store, args)
        stats = brain.stats()
        todos = len(brain.memories(types=["todo"], limit=10**9))
        last = next(iter(brain.history(limit=1, fold=True)), None)
        others = sorted(set(store.brain_names()) - {brain.name})
        size = store.log.size()
        location = store.location
    advice = _advice(stats, todos)
    status = {
        "store": location,
        "brain": brain.name,
        "other_brains": others,
        "memories": stats["memories"],
        "by_type": {k: v for k, v in stats["by_type"].items() if v},
        "open_todos": todos,
        "expired": stats["expired"],
        "events": stats["events"],
        "store_bytes": size,
        "last_event": None if last is None else last.to_dict(),
        "last_decay_sweep": stats["last_decay_sweep"],
        "advice": advice,
    }
    if args.json:
        emit_json(status)
        return EXIT_OK
    kinds = ", ".join(f"{k} {v}" for k, v in status["by_type"].items())
    say(table([
        ("store", f"{location} ({size / 2**20:.1f} MiB)"),
        ("brain", brain.name + (f"  (also: {', '.join(others)})" if others else "")),
        ("memories", f"{stats['memories']}" + (f" ({kinds})" if kinds else "")),
        ("open todos", str(todos)),
        ("log", f"{stats['events']} events"),
        ("last sweep", stats["last_decay_sweep"] or "never"),
    ]))  # fmt: skip
    if last is not None:
        say("last event  " + history_line(last))
    for line in advice:
        say(f"next: {line}")
    return EXIT_OK


def _advice(stats: dict[str, Any], todos: int) -> list[str]:
    out = []
    if not stats["memories"]:
        out.append('nmem remember "..." stores a first memory')
    if stats["expired"]:
        out.append(f"nmem cleanup records the {stats['expired']} expired memories as expired")
    if todos:
        out.append(f"nmem list --type todo shows the {todos} open todos")
    return out


class Check(NamedTuple):
    name: str
    status: str  # "pass", "warn" or "fail"
    detail: str


def cmd_doctor(args: argparse.Namespace) -> int:
    from .output import emit_json, say, style

    checks = _checks(args)
    failed = any(c.status == "fail" for c in checks)
    if args.json:
        emit_json({"ok": not failed,
                   "checks": [{"name": c.name, "status": c.status, "detail": c.detail}
                              for c in checks]})  # fmt: skip
    else:
        colour = {"pass": "32", "warn": "33", "fail": "31"}
        for c in checks:
            say(f"[{style(c.status.upper(), colour[c.status])}] {c.name:<12} {c.detail}")
        counts = {k: sum(c.status == k for c in checks) for k in ("fail", "warn")}
        say(f"{counts['fail']} failed, {counts['warn']} warnings" if any(counts.values())
            else "All checks passed.")  # fmt: skip
    return EXIT_NOT_FOUND if failed else EXIT_OK


def _checks(args: argparse.Namespace) -> list[Check]:
    import platform
    import sys
    from importlib.util import find_spec

    from engine import Error, NotFoundError

    python = platform.python_version()
    checks = [Check("python", "pass" if sys.version_info >= (3, 11) else "fail", python)]
    try:
        with open_store(args) as store:
            checks.append(Check("store", "pass", f"{store.location} opens"))
            try:
                brain = open_brain(store, args)
            except NotFoundError as exc:
                checks.append(Check("brain", "fail", str(exc)))
            else:
                checks.extend(_brain_checks(store, brain))
    except (Error, OSError) as exc:
        checks.append(Check("store", "fail", str(exc)))
    for module, extra, why in (
        ("mcp", "mcp", "nmem mcp"),
        ("uvicorn", "http", "nmem serve and nmem ui"),
    ):
        if find_spec(module) is None:
            checks.append(Check(module, "warn", f"not installed: {why} need "
                                f"pip install 'neuralmemory[{extra}]'"))  # fmt: skip
        else:
            checks.append(Check(module, "pass", f"installed ({why})"))
    return checks


def _brain_checks(store: Store, brain: Brain) -> list[Check]:
    """The brain folds to its log's head; the log's size and the room left beside it; decay
    sweeps run; nothing waits for cleanup."""
    import shutil
    from datetime import datetime

    from engine.logstore import is_url

    stats = brain.stats()
    head = store.brain_heads()[brain.name][1]
    folded = brain.seq == head
    out = [
        Check("brain", "pass", f"{brain.name!r}: {stats['memories']} memories"),
        Check("log", "pass" if folded else "fail",
              f"{head} events, folded to seq {brain.seq}"
              + ("" if folded else ": the projection lags the log")),
    ]  # fmt: skip
    size = store.log.size()
    if is_url(store.location):
        out.append(Check("size", "pass", f"{size / 2**20:.1f} MiB on the server"))
    else:
        free = shutil.disk_usage(store.location).free
        low = free < max(100 * 2**20, 2 * size)
        out.append(Check("disk", "warn" if low else "pass",
                         f"log {size / 2**20:.1f} MiB, {free / 2**30:.1f} GiB free"
                         + (": the log may not have room to grow" if low else "")))  # fmt: skip
    swept = stats["last_decay_sweep"]
    if swept is None:
        never = "never swept (a sweep runs when a brain opens a day after the last)"
        out.append(Check("decay", "warn" if stats["memories"] else "pass", never))
    else:
        days = (brain.time - datetime.fromisoformat(swept)).total_seconds() / 86_400
        out.append(Check("decay", "pass" if days <= 2 else "warn",
                         f"last sweep {swept} ({days:.1f} days ago)"))  # fmt: skip
    expired = stats["expired"]
    out.append(Check("expiry", "warn" if expired else "pass",
                     f"{expired} expired memories wait for 'nmem cleanup'" if expired
                     else "no expired memories waiting"))  # fmt: skip
    return out
