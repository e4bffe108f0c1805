"""`nmem demo`: a short team conversation, recalled now and as of an earlier moment.

Every memory carries an idempotency key and the demo's recalls do not reinforce, so running it
again appends nothing to the log and shows the same sequence numbers.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from engine import MemoryInput, Store

from .output import bold, dim, emit_json, history_line, recall_text, say

_BEFORE = [
    (6, "Alice is the tech lead of the payments team."),
    (6, "We decided to keep payments on PostgreSQL 13 because the migration risk is too high."),
    (5, "Bob found that the invoice export crashes when a customer has no VAT number."),
    (4, "Alice prefers small pull requests with a clear description."),
    (3, "TODO: add retries to the webhook sender before the Friday release."),
]
_AFTER = [
    (1, "Alice moved payments from PostgreSQL 13 to PostgreSQL 16 after the load tests passed."),
    (0, "Bob fixed the invoice export crash; the fix ships in release 2.4."),
]
QUESTION = "Which PostgreSQL version do payments run on?"


def _inputs(items: list[tuple[int, str]], offset: int, now: datetime) -> list[MemoryInput]:
    return [
        MemoryInput(
            text=text,
            event_time=now - timedelta(days=days),
            source="demo",
            cid=f"demo:{offset + i}",
        )
        for i, (days, text) in enumerate(items)
    ]


def run_demo(store: Store, brain_name: str, *, as_json: bool) -> int:
    brain = store.brain(brain_name)
    now = datetime.now().astimezone()
    first = brain.remember_many(_inputs(_BEFORE, 0, now))
    before_seq = first[-1].seq
    second = brain.remember_many(_inputs(_AFTER, len(_BEFORE), now))
    live = brain.recall(QUESTION, limit=3, reinforce=False)
    past_view = brain.at(before_seq)
    past = past_view.recall(QUESTION, limit=3)
    moved = second[0].id
    history = brain.history(moved, fold=True)
    recent = brain.history(limit=4, fold=True)

    if as_json:
        out: dict[str, Any] = {
            "store": store.location,
            "brain": brain.name,
            "remembered": [r.to_dict() for r in first + second],
            "recall_now": live.to_dict(),
            "recall_past": past.to_dict(),
            "history_of_memory": [e.to_dict() for e in history],
            "brain_history": [e.to_dict() for e in recent],
        }
        emit_json(out)
        return 0

    say(bold(f"NeuralMemory demo — store {store.location}, brain {brain.name!r}"))
    say()
    new = sum(not r.duplicate for r in first + second)
    say(bold(f"1. Remembered {len(first) + len(second)} memories ({new} new this run):"))
    for r in first + second:
        say(f"   {dim(r.id[:8])} seq {r.seq:<4} [{r.memory_type.value}]")
    say()
    say(bold(f"2. Recall now: {QUESTION!r}"))
    say(_indent(recall_text(live)))
    say()
    say(bold(f"3. The same question as of seq {before_seq}, before the migration was known:"))
    say(_indent(recall_text(past)))
    say()
    say(bold(f"4. History of memory {moved[:8]}:"))
    for entry in history:
        say("   " + history_line(entry))
    say()
    say(bold("5. The brain's last events:"))
    for entry in recent:
        say("   " + history_line(entry))
    say()
    say(
        dim(
            'Try: nmem recall "invoice export" --brain '
            + brain.name
            + f'   |   nmem recall "PostgreSQL" --brain {brain.name} --at {before_seq}'
        )
    )
    return 0


def _indent(text: str) -> str:
    return "\n".join("   " + line for line in text.splitlines())
