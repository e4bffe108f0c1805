"""Commands on memories: remember, todo, recall, context, list, show, history, edit, forget,
restore, pin, unpin, demo."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .base import (
    EXIT_NOT_FOUND,
    EXIT_OK,
    Commands,
    UsageError,
    add_at,
    add_happened,
    brain_session,
    expiry_days,
    moment,
    open_store,
    read_text,
    view_of,
)

if TYPE_CHECKING:
    from engine import Brain, BrainView


def register(command: Commands) -> None:
    p = command(
        "remember",
        "Remember a text (a fact, decision, todo, ...). Sensitive content (keys, passwords, "
        "card numbers...) is refused unless --redact or --force.",
        cmd_remember,
        'example: nmem remember "Alice moved payments to PostgreSQL 16" -t payments\n'
        '         nmem remember "Dana paged the on-call" --at "yesterday 3pm"   (event time)\n'
        "         nmem remember --file note.txt   |   git log -1 --format=%B | nmem remember",
    )
    p.add_argument("text", nargs="?",
                   help="what to remember; '-' (or none, from a pipe) reads stdin")  # fmt: skip
    p.add_argument("--type", "-T", help="memory type (default: detected from the text)")
    _write_options(p, default_priority=5)
    p.set_defaults(kind=None)

    p = command(
        "todo",
        "Remember a task (type todo, expires in 30 days unless --expires).",
        cmd_remember,
        'example: nmem todo "add retries to the webhook sender" -p 7',
    )
    p.add_argument("text", nargs="?",
                   help="the task; '-' (or none, from a pipe) reads stdin")  # fmt: skip
    _write_options(p, default_priority=5)
    p.set_defaults(kind="todo", type=None)

    p = command(
        "recall",
        "Recall the memories that answer a query, as a Markdown context for an LLM.",
        cmd_recall,
        'example: nmem recall "what database do payments use?" --at "3 days ago"',
    )
    p.add_argument("query")
    add_at(p)
    add_happened(p)
    p.add_argument("--depth", "-d", type=int, choices=range(4),
                   help="how far activation spreads, 0-3 (default: from the question)")  # fmt: skip
    p.add_argument("--max-tokens", "-m", type=int, default=500,
                   help="token budget of the context (default 500)")  # fmt: skip
    p.add_argument("--limit", "-n", "-l", type=int, default=10,
                   help="memories to return (default 10)")  # fmt: skip
    p.add_argument("--min-confidence", "-c", type=_fraction, default=0.0, metavar="0-1",
                   help="below this confidence answer nothing (exit 1), not a guess")  # fmt: skip
    p.add_argument("--type", "-T", action="append", help="only these memory types")
    p.add_argument("--tag", "-t", action="append", help="only memories with all these tags")
    p.add_argument("--project", "-P", help="only memories of this project")
    p.add_argument("--min-priority", type=int, default=0, help="only this priority or higher")
    p.add_argument("--include-expired", action="store_true", help="also expired memories")

    p = command(
        "context",
        "The newest memories: what an agent should know when a session starts.",
        cmd_context,
        "example: nmem context --limit 5 --fresh-only   |   nmem context --since 'last week'",
    )
    add_at(p)
    add_happened(p)
    p.add_argument("--limit", "-l", type=int, default=10, help="how many (default 10)")
    p.add_argument("--fresh-only", action="store_true", help="only fresh and recent memories")

    p = command(
        "list",
        "List memories, highest priority first.",
        cmd_list,
        "example: nmem list --type todo --min-priority 7   |   nmem list --since 12/01/2026",
    )
    add_at(p)
    add_happened(p)
    p.add_argument("--type", "-T", action="append", help="only these memory types")
    p.add_argument("--project", "-P", help="only memories of this project")
    p.add_argument("--min-priority", "-p", type=int, default=0, help="only this priority or higher")
    p.add_argument("--status", default="visible",
                   choices=("visible", "expired", "forgotten", "pinned", "erased", "all"),
                   help="which memories (default: visible ones)")  # fmt: skip
    p.add_argument("--limit", "-l", type=int, default=20, help="how many (default 20)")

    p = command("show", "Show one memory in full.", cmd_show, "example: nmem show 3fa2c1d0")
    p.add_argument("memory_id", help="memory id or unique prefix")
    add_at(p)

    p = command(
        "history",
        "Every event of one memory, or of the whole brain.",
        cmd_history,
        "example: nmem history 3fa2c1d0   (or: nmem history --type memory_forgotten)",
    )
    p.add_argument("memory_id", nargs="?", help="memory id or unique prefix (default: the brain)")
    add_at(p)
    p.add_argument("--type", action="append", help="only these event types")
    p.add_argument("--since", metavar="WHEN",
                   help="events recorded at or after WHEN (recorded time)")  # fmt: skip
    p.add_argument("--until", metavar="WHEN",
                   help="events recorded at or before WHEN (recorded time)")  # fmt: skip
    p.add_argument("--limit", "-n", type=int,
                   help="only the last N events (default: all of one memory's, the brain's "
                   "last 50)")  # fmt: skip
    p.add_argument("--all", "-a", dest="unfolded", action="store_true",
                   help="every reinforcement event on its own line (default: each run of "
                   "them folded into one, 'reinforced 12 times since 2 Dec')")  # fmt: skip

    p = command(
        "edit",
        "Change a memory: its text (re-linked), type, priority, tags, expiry or project.",
        cmd_edit,
        'example: nmem edit 3fa2c1d0 --text "Payments run on PostgreSQL 16" --priority 8',
    )
    p.add_argument("memory_id", help="memory id or unique prefix")
    p.add_argument("--text", help="new text")
    p.add_argument("--type", "-T", help="new memory type")
    p.add_argument("--priority", "-p", type=int, help="new priority 0-10")
    p.add_argument("--tag", "-t", action="append", help="new tags (replace the old ones)")
    p.add_argument("--expires", "-e", metavar="WHEN",
                   help="expire then: DAYS from now, '3d', 'in 2 weeks' or a date")  # fmt: skip
    p.add_argument("--project", "-P", help="move to this project ('' to clear)")

    p = command(
        "forget",
        "Forget a memory: hidden from every read, restorable with 'restore'. With --hard it "
        "is erased for good (its text redacted from the log; run 'compact' to purge it "
        "from disk).",
        cmd_forget,
        "example: nmem forget 3fa2c1d0 --reason outdated   |   nmem forget 3fa2c1d0 --hard",
    )
    p.add_argument("memory_id", help="memory id or unique prefix")
    p.add_argument("--reason", default="", help="why (kept in the history)")
    p.add_argument("--hard", action="store_true",
                   help="erase for good: cannot be undone (asks on a terminal)")  # fmt: skip
    p.add_argument("--force", "-f", action="store_true",
                   help="with --hard: erase without asking (needed off a terminal)")  # fmt: skip

    for name, help_text, example in (
        ("restore", "Bring back a forgotten memory.", "example: nmem restore 3fa2c1d0"),
        ("pin", "Pin a memory: it never decays or expires.", "example: nmem pin 3fa2c1d0"),
        ("unpin", "Unpin a memory.", "example: nmem unpin 3fa2c1d0"),
    ):
        p = command(name, help_text, cmd_flag, example)
        p.add_argument("memory_id", help="memory id or unique prefix")
        p.set_defaults(action=name)

    command(
        "demo",
        "Remember a short conversation, recall now and in the past.",
        cmd_demo,
        "example: nmem demo",
    )


def _write_options(p: argparse.ArgumentParser, *, default_priority: int) -> None:
    p.add_argument("--priority", "-p", type=int, default=default_priority,
                   help=f"priority 0-10 (default {default_priority})")  # fmt: skip
    p.add_argument("--tag", "-t", action="append", default=[], help="tag (repeatable)")
    p.add_argument("--expires", "-e", metavar="WHEN",
                   help="expire then: DAYS from now, '3d', 'in 2 weeks' or a date (default: "
                   "per type: context 7 days, todo 30...)")  # fmt: skip
    p.add_argument("--time", "--timestamp", "--at", dest="time", metavar="WHEN",
                   help="when it happened (event time; --timestamp and --at are the original "
                   "NeuralMemory's names): ISO time, 12/01/2026, 'yesterday 3pm' or '2 days "
                   "ago' (default: now)")  # fmt: skip
    p.add_argument("--file", metavar="FILE", help="read the text from a UTF-8 file")
    p.add_argument("--project", "-P", help="project name (see 'nmem project')")
    p.add_argument("--id", dest="cid", metavar="KEY",
                   help="idempotency key: the same key again stores nothing")  # fmt: skip
    policy = p.add_mutually_exclusive_group()
    policy.add_argument("--force", "-f", dest="sensitive", action="store_const", const="allow",
                        help="store even if sensitive content is detected")  # fmt: skip
    policy.add_argument("--redact", "-r", dest="sensitive", action="store_const", const="redact",
                        help="store with the sensitive parts replaced by [REDACTED]")  # fmt: skip


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, got {text!r}")
    return value


def _with_brain(
    args: argparse.Namespace, run: Callable[[Brain], int], *, create: bool = False
) -> int:
    """Run on the brain of the command line; only a command that stores a new memory creates
    the store or the brain (`create`), any other on a brain that does not exist fails."""
    with brain_session(args, create=create) as brain:
        return run(brain)


def _text_of(args: argparse.Namespace) -> str:
    """What to remember: the argument, standard input ('-', or no argument from a pipe), or
    --file; bytes that are not UTF-8 are refused in one line."""
    if args.file is not None:
        if args.text is not None:
            raise UsageError("give the text or --file, not both")
        return read_text(args.file)
    if args.text is None:
        if sys.stdin is None or sys.stdin.isatty():
            raise UsageError("nothing to remember: give the text, '-' for standard input, "
                             "or --file FILE")  # fmt: skip
        return read_text("-")
    return read_text("-") if args.text == "-" else str(args.text)


def cmd_remember(args: argparse.Namespace) -> int:
    from engine import MemoryInput

    from .output import emit_json, say

    text = _text_of(args)
    item = MemoryInput(
        text=text,
        event_time=moment(args.time),
        memory_type=args.kind or args.type,
        priority=args.priority,
        tags=args.tag,
        expires_in_days=expiry_days(args.expires),
        project=args.project,
        source="cli",
        cid=args.cid,
        sensitive=args.sensitive,
    )

    def run(brain: Brain) -> int:
        done = brain.remember_many([item])[0]
        ahead = (item.event_time - brain.time).total_seconds() if item.event_time else 0
        if ahead > 3600:  # "tonight" at 04:00 is still to come: say so
            span = f"{ahead / 86_400:.0f} days" if ahead > 86_400 else f"{ahead / 3600:.0f} hours"
            sys.stderr.write(f"nmem: note: the event time is {span} ahead "
                             "(--time says when it happened)\n")  # fmt: skip
        if args.json:
            emit_json({**done.to_dict(), "brain": brain.name})
        else:
            note = " (already stored: same --id)" if done.duplicate else ""
            expiry = f", expires {done.expires_at.date()}" if done.expires_at else ""
            label = "TODO" if done.memory_type.value == "todo" else "Remembered"
            say(f"{label} {done.id[:8]} [{done.memory_type.value}, priority "
                f"{done.priority}{expiry}] in brain {brain.name!r}{note}")  # fmt: skip
        return EXIT_OK

    return _with_brain(args, run, create=True)


def cmd_recall(args: argparse.Namespace) -> int:
    from .output import TimeNote, emit_json, recall_text, say

    def run(brain: Brain) -> int:
        result = view_of(brain, args.at).recall(
            args.query,
            depth=args.depth,
            limit=args.limit,
            max_tokens=args.max_tokens,
            types=args.type,
            tags=args.tag,
            project=args.project,
            min_priority=args.min_priority,
            include_expired=args.include_expired,
            since=args.since,
            until=args.until,
        )
        unsure = bool(result.memories) and result.confidence < args.min_confidence
        if args.json:
            answer = {**result.to_dict(), "brain": brain.name}
            if unsure:
                answer.update(memories=[], context="", below_min_confidence=True)
            emit_json(answer)
        elif unsure:
            say(f"No reliable answer: confidence {result.confidence:.2f} is below "
                f"--min-confidence {args.min_confidence:.2f} ({len(result.memories)} "
                "memories left out).")  # fmt: skip
        elif result.memories:
            say(recall_text(result))
        else:
            say("No memories found" + nothing_then(args, TimeNote.of(result)))
        return EXIT_OK if result.memories and not unsure else EXIT_NOT_FOUND

    return _with_brain(args, run)


def memory_list(args: argparse.Namespace, view: BrainView, memories: list[Any], empty: str) -> int:
    """A list of memories, saying which time it reads: the brain as known at --at (recorded
    time), and what happened --since/--until (event time)."""
    from .output import TimeNote, dim, emit_json, memory_line, say

    note = TimeNote(view.time, view.seq, view.event_window(args.since, args.until))
    if args.json:
        emit_json({"memories": [m.to_dict() for m in memories], "count": len(memories),
                   **note.to_dict()})  # fmt: skip
    elif memories:
        for m in memories:
            say(memory_line(m))
        if args.at is not None or note.window is not None:
            say(dim(f"[{note}]"))
    else:
        say(empty + nothing_then(args, note))
    return EXIT_OK if memories else EXIT_NOT_FOUND


def nothing_then(args: argparse.Namespace, note: Any) -> str:
    """The end of an empty answer's sentence: which time it read, when one was asked for."""
    if args.at is None and note.window is None:
        return "."
    hint = ""
    if args.at is not None and note.window is None:
        hint = ("; --at reads the brain as it was then, by when it learned things: for what "
                "happened then, use --since/--until")  # fmt: skip
    return f" ({note}){hint}."


def cmd_context(args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise UsageError("--limit must be positive")

    def run(brain: Brain) -> int:
        view = view_of(brain, args.at)
        found = view.context(limit=args.limit, fresh_only=args.fresh_only, since=args.since,
                             until=args.until)  # fmt: skip
        return memory_list(args, view, found, "No memories stored yet")

    return _with_brain(args, run)


def cmd_list(args: argparse.Namespace) -> int:
    def run(brain: Brain) -> int:
        view = view_of(brain, args.at)
        found = view.memories(
            types=args.type, project=args.project, min_priority=args.min_priority,
            limit=args.limit, status=args.status, since=args.since, until=args.until,
        )  # fmt: skip
        return memory_list(args, view, found, "No memories match")

    return _with_brain(args, run)


def cmd_show(args: argparse.Namespace) -> int:
    from .output import emit_json, memory_detail, say

    def run(brain: Brain) -> int:
        memory = view_of(brain, args.at).get(args.memory_id)
        if args.json:
            emit_json(memory.to_dict())
        else:
            say(memory_detail(memory))
        return EXIT_OK

    return _with_brain(args, run)


def cmd_history(args: argparse.Namespace) -> int:
    from .output import emit_json, history_line, say

    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be positive")

    def run(brain: Brain) -> int:
        limit = args.limit if args.limit or args.memory_id else 50
        entries = view_of(brain, args.at).history(
            args.memory_id,
            types=args.type,
            since=moment(args.since),
            until=moment(args.until),
            limit=limit,
            fold=not args.unfolded,
        )
        if args.json:
            emit_json({"brain": brain.name, "memory_id": args.memory_id,
                       "events": [e.to_dict() for e in entries]})  # fmt: skip
        else:
            for entry in entries:
                say(history_line(entry))
        return EXIT_OK if entries else EXIT_NOT_FOUND

    return _with_brain(args, run)


def _changed(args: argparse.Namespace, done: Any) -> int:
    """A write's answer: one line per event it appended (an edit of text and priority
    appends two)."""
    from .output import emit_json, say

    if args.json:
        emit_json(done.to_dict())
    elif not done.events:
        say(f"{done.id[:8]}: nothing to change")
    for seq, event in [] if args.json else done.events:
        say(f"{done.id[:8]}: {event.replace('_', ' ')} (event #{seq})")
    return EXIT_OK


def cmd_edit(args: argparse.Namespace) -> int:
    changes = (args.text, args.type, args.priority, args.tag, args.expires, args.project)
    if all(c is None for c in changes):
        raise UsageError("nothing to change: give --text, --type, --priority, --tag, "
                         "--expires or --project")  # fmt: skip
    project: str | bool | None = False if args.project is None else (args.project or None)
    return _with_brain(args, lambda brain: _changed(args, brain.edit(
        args.memory_id, args.text, memory_type=args.type, priority=args.priority,
        tags=args.tag, expires_in_days=expiry_days(args.expires), project=project,
    )))  # fmt: skip


def cmd_forget(args: argparse.Namespace) -> int:
    """Forget; with --hard, erase only when asked on a terminal and answered yes, or with
    --force (a script cannot be asked)."""
    asking = args.hard and not args.force
    if asking and not (sys.stdin is not None and sys.stdin.isatty()):
        raise UsageError("forget --hard erases for good and cannot be undone: add --force "
                         "to erase without being asked")  # fmt: skip

    def run(brain: Brain) -> int:
        if asking and not _confirmed(brain.get(args.memory_id)):
            sys.stderr.write("nmem: nothing erased\n")
            return EXIT_NOT_FOUND
        return _changed(args, brain.forget(args.memory_id, reason=args.reason, hard=args.hard))

    return _with_brain(args, run)


def _confirmed(memory: Any) -> bool:
    text = memory.text if len(memory.text) <= 60 else memory.text[:57] + "..."
    sys.stderr.write(f"Erase {memory.id[:8]} {text!r} for good? Its text is redacted from the "
                     "log; this cannot be undone. [y/N] ")  # fmt: skip
    sys.stderr.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def cmd_flag(args: argparse.Namespace) -> int:
    return _with_brain(
        args, lambda brain: _changed(args, getattr(brain, args.action)(args.memory_id))
    )


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    with open_store(args, create=True) as store:
        return run_demo(store, args.brain or "demo", as_json=args.json)
