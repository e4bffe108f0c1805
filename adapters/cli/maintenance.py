"""Commands that look after a brain: stats, check, decay, cleanup, compact, diff."""

from __future__ import annotations

import argparse
from typing import Any

from .base import (
    EXIT_NOT_FOUND,
    EXIT_OK,
    Commands,
    UsageError,
    add_at,
    brain_session,
    open_store,
    read_text,
    view_of,
)


def register(command: Commands) -> None:
    p = command(
        "stats",
        "Counts by type, priority and freshness; expired, forgotten, pinned; log size; "
        "last decay sweep.",
        cmd_stats,
        "example: nmem stats --at '1 week ago'",
    )
    add_at(p)

    p = command(
        "check",
        "Check a text for sensitive content (keys, passwords, tokens, card numbers...).",
        cmd_check,
        'example: nmem check "deploy with API_KEY=..."   (exit 1 when something is found)',
    )
    p.add_argument("text", help="the text to check; '-' reads standard input")

    command(
        "decay",
        "Sweep decay now: prune links that have faded below the floor (pinned memories are "
        "exempt). Also runs by itself when a brain opens and the last sweep is a day old.",
        cmd_decay,
        "example: nmem decay",
    )

    p = command(
        "cleanup",
        "Record memories past their expiry as expired (they are already hidden from recall).",
        cmd_cleanup,
        "example: nmem cleanup --dry-run",
    )
    p.add_argument("--dry-run", "-n", action="store_true", help="only list them")

    command(
        "compact",
        "Rewrite the store without free space and stale checkpoints; after 'forget --hard' "
        "this removes the erased text from every file. Needs the store to itself.",
        cmd_compact,
        "example: nmem compact",
    )

    p = command(
        "diff",
        "What changed between two moments: memories added, changed, forgotten, erased, "
        "expired; links whose weight moved most.",
        cmd_diff,
        "example: nmem diff --from '1 week ago' --to now   (or --from 40 --to 95: seqs)",
    )
    p.add_argument("--from", dest="since", required=True, metavar="WHEN",
                   help="seq, ISO time or phrase")  # fmt: skip
    p.add_argument("--to", dest="until", metavar="WHEN", help="seq, ISO time or phrase "
                   "(default: now)")  # fmt: skip
    p.add_argument("--top", type=int, default=10, help="weight changes to show (default 10)")
    p.add_argument("--per-group", type=int, default=5, metavar="N",
                   help="memories shown per group, with their text (default 5; the counts "
                   "are complete)")  # fmt: skip


def cmd_stats(args: argparse.Namespace) -> int:
    from .output import emit_json, say, table

    with brain_session(args) as brain:
        stats = view_of(brain, args.at).stats()
        stats["store_bytes"] = brain.store.log.size()  # with --remote: the replica's
    if args.json:
        emit_json(stats)
        return EXIT_OK
    rows = [
        ("brain", stats["brain"]),
        ("memories", str(stats["memories"])),
        ("by type", _counts(stats["by_type"])),
        ("by priority", _counts(stats["by_priority"])),
        ("by freshness", _counts(stats["by_freshness"])),
        ("expired", str(stats["expired"]) + ("  (run 'nmem cleanup')" if stats["expired"] else "")),
        ("forgotten", str(stats["forgotten"])),
        ("erased", str(stats["erased"])),
        ("pinned", str(stats["pinned"])),
        ("neurons / links", f"{stats['neurons']} / {stats['synapses']}"),
        ("events", str(stats["events"])),
        ("projects", str(stats["projects"])),
        ("last decay sweep", stats["last_decay_sweep"] or "never"),
        ("store size", f"{stats['store_bytes'] / 2**20:.1f} MiB"),
    ]
    say(table(rows))
    return EXIT_OK


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items() if v) or "-"


def cmd_check(args: argparse.Namespace) -> int:
    from engine.sensitive import describe, scan

    from .output import emit_json, say

    text = read_text("-") if args.text == "-" else args.text
    findings = scan(text)
    if args.json:
        emit_json({
            "sensitive": bool(findings),
            "findings": [
                {"kind": f.kind, "pattern": f.pattern, "severity": f.severity.name.lower(),
                 "start": f.start, "end": f.end, "masked": f.masked(text)}
                for f in findings
            ],
        })  # fmt: skip
    elif findings:
        say(describe(findings))
        for f in findings:
            say(f"  [{f.severity.name}] {f.pattern} at {f.start}-{f.end}: {f.masked(text)}")
    else:
        say("[OK] No sensitive content detected")
    return EXIT_NOT_FOUND if findings else EXIT_OK


def cmd_decay(args: argparse.Namespace) -> int:
    from .output import emit_json, say

    with brain_session(args) as brain:
        done = brain.decay()
    if args.json:
        emit_json(done)
    else:
        say(f"Decay sweep (event #{done['seq']}): pruned {done['pruned']} links of "
            f"{done['memories']} memories")  # fmt: skip
    return EXIT_OK


def cmd_cleanup(args: argparse.Namespace) -> int:
    from .output import emit_json, say

    with brain_session(args) as brain:
        ids = brain.cleanup(dry_run=args.dry_run)
    if args.json:
        emit_json({"expired": ids, "dry_run": args.dry_run})
    else:
        verb = "would expire" if args.dry_run else "expired"
        say(f"{verb} {len(ids)} memories" + (": " + ", ".join(i[:8] for i in ids) if ids else ""))
    return EXIT_OK


def cmd_compact(args: argparse.Namespace) -> int:
    from .output import emit_json, say

    with open_store(args) as store:
        report = store.compact()
    if args.json:
        emit_json(report)
    else:
        say(f"Compacted the log: {report['bytes_before'] / 2**20:.1f} MiB -> "
            f"{report['bytes_after'] / 2**20:.1f} MiB; dropped "
            f"{report['checkpoints_dropped']} stale checkpoints")  # fmt: skip
    return EXIT_OK


def cmd_diff(args: argparse.Namespace) -> int:
    from adapters.describe import diff_memories

    from .output import dim, emit_json, say

    if args.top < 0:
        raise UsageError("--top must not be negative")
    if args.per_group < 0:
        raise UsageError("--per-group must not be negative")
    with brain_session(args) as brain:
        since = brain.at(args.since)
        until = brain if args.until in (None, "now") else brain.at(args.until)
        diff: dict[str, Any] = until.diff(since, top=args.top)
        groups = diff_memories(until, diff, args.per_group)
        texts = {m["id"]: m["text"] for g in groups.values() for m in g["memories"]}
        for move in diff["weights"]:
            if move["memory"] not in texts:
                texts[move["memory"]] = _text_or_none(until, move["memory"])
    if args.json:
        emit_json({**diff, "memories": groups})
        return EXIT_OK
    say(f"From event #{diff['from']['seq']} ({diff['from']['at']}) "
        f"to #{diff['to']['seq']} ({diff['to']['at']}):")  # fmt: skip
    if not any(g["count"] for g in groups.values()) and not diff["weights"]:
        say("  nothing changed")
    for key, group in groups.items():
        if not group["count"]:
            continue
        say(f"  {key} ({group['count']}):")
        for m in group["memories"]:
            say(f"    {dim(m['id'][:8])} {_shown(m['text'])}")
        if group["count"] > len(group["memories"]):
            say(f"    ...and {group['count'] - len(group['memories'])} more")
    if diff["weights"]:
        say(f"  links whose weight moved most ({len(diff['weights'])}):")
    for move in diff["weights"]:
        say(f"    {move['before']:.3f} -> {move['after']:.3f}  {dim(move['memory'][:8])} "
            f"{_shown(texts[move['memory']], 40)} -> {move['to']}")  # fmt: skip
    return EXIT_OK


def _text_or_none(view: Any, memory_id: str) -> str | None:
    memory = view.get(memory_id)
    return None if memory.status == "erased" else str(memory.text)


def _shown(text: str | None, width: int = 100) -> str:
    if text is None:
        return "(erased: no text left)"
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."
