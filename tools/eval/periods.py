"""Questions that name a date or a period, on a brain of our own (not LoCoMo's).

    python tools/eval/periods.py          # hit@1/@5/@10 per kind of question

A team's year (2023): who did what when, told to the brain as it happened, with the same
people and words all year so that only the time can tell the memories apart. Every question
names a day range, a week or weekend of a month, a month, or asks for a year; a hit is an
expected memory in the top k. Kept apart from the LoCoMo split on purpose: the period
questions there are few (13 of 130 temporal ones) and must not be tuned on.
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from engine import Memory, MemoryInput, Store

YEAR = 2023
PEOPLE = ("Alice", "Bob", "Carol", "Dave")
# (month, day, text): the events the questions are about, among the routine below
EVENTS: tuple[tuple[int, int, str], ...] = (
    (3, 9, "The payments cluster had an outage for two hours"),
    (3, 21, "Carol wrote the postmortem of the payments outage"),
    (5, 17, "Bob shipped the invoice export to every customer"),
    (8, 5, "Alice shipped the new onboarding flow"),
    (8, 6, "Dave fixed the flaky login test"),
    (8, 6, "Bob shipped the release notes on Sunday"),
    (8, 12, "Carol ran the team offsite in Lisbon"),
    (8, 14, "Bob presented the roadmap at the offsite"),
    (9, 30, "We moved the billing service to Kubernetes"),
    (11, 9, "Dave migrated the search index to OpenSearch"),
    (11, 13, "Alice reviewed the search migration plan"),
    (12, 1, "Carol shipped the annual report"),
)
ROUTINE = (
    "{p} reviewed pull requests for the billing service",
    "{p} shipped a small fix to the search page",
    "{p} met the payments team about the roadmap",
    "{p} wrote notes on the onboarding flow",
    "{p} fixed a test in the invoice export",
)


@dataclass(frozen=True, slots=True)
class Case:
    """A hit is a memory that happened in [start, end) and holds every word of `words`."""

    kind: str
    question: str
    start: date
    end: date
    words: tuple[str, ...] = ()


def d(month: int, day: int) -> date:
    return date(YEAR, month, day)


CASES: tuple[Case, ...] = (
    Case("day range", "What did Carol do between 11 and 15 August 2023?", d(8, 11), d(8, 16),
         ("carol",)),
    Case("day range", "What happened from 4 to 7 August 2023?", d(8, 4), d(8, 8)),
    Case("day range", "Who met the payments team between 20 and 24 February 2023?", d(2, 20),
         d(2, 25), ("payments",)),
    Case("day range", "What did Bob fix from 9 to 13 October 2023?", d(10, 9), d(10, 14),
         ("bob", "fix")),
    Case("weekend", "What did we ship the first weekend of August 2023?", d(8, 5), d(8, 7),
         ("ship",)),
    Case("weekend", "What did Dave fix the first weekend of August 2023?", d(8, 5), d(8, 7),
         ("dave", "fix")),
    Case("week", "What did Dave do the second week of November 2023?", d(11, 8), d(11, 15),
         ("dave",)),
    Case("week", "What did Alice review the second week of November 2023?", d(11, 8),
         d(11, 15), ("alice", "review")),
    Case("week", "What broke the second week of March 2023?", d(3, 8), d(3, 15), ("outage",)),
    Case("week", "What did Carol write the last week of June 2023?", d(6, 24), d(7, 1),
         ("carol", "wrote")),
    Case("month", "What went wrong during March 2023?", d(3, 1), d(4, 1), ("outage",)),
    Case("month", "What did Bob ship in May 2023?", d(5, 1), d(6, 1), ("bob", "ship")),
    Case("month", "What did Carol ship during December 2023?", d(12, 1), d(12, 31),
         ("carol", "ship")),
    Case("month", "Who met the payments team in September 2023?", d(9, 1), d(10, 1),
         ("payments",)),
    Case("year", "Which year did we move billing to Kubernetes?", d(1, 1), d(12, 31),
         ("kubernetes",)),
    Case("year", "Which year was the payments outage?", d(1, 1), d(12, 31), ("outage",)),
)  # fmt: skip
KS = (1, 5, 10)


def memories() -> list[MemoryInput]:
    """The year: every weekday each person does something routine (the same few deeds all
    year, so only the time tells them apart), plus the events."""
    out: list[MemoryInput] = []
    day = datetime(YEAR, 1, 2, 10).astimezone()
    while day.year == YEAR:
        if day.weekday() < 5:
            for j, person in enumerate(PEOPLE):
                text = ROUTINE[(day.toordinal() + j) % len(ROUTINE)].format(p=person)
                when = day + timedelta(hours=j)
                out.append(MemoryInput(text, event_time=when, cid=f"r{when.isoformat()}"))
        day += timedelta(days=1)
    for month, dd, text in EVENTS:
        when = datetime(YEAR, month, dd, 15).astimezone()
        out.append(MemoryInput(text, event_time=when, cid=f"e{month}-{dd}"))
    out.sort(key=lambda m: m.event_time or day)
    return out


def hit(case: Case, m: Memory) -> bool:
    low = m.text.lower()
    return case.start <= m.event_time.astimezone().date() < case.end and all(
        w in low for w in case.words
    )


def evaluate(store: Store) -> dict[str, dict[str, Any]]:
    """hit@k per kind of question and overall, with the rank of the first hit per question."""
    brain = store.brain("periods")
    brain.remember_many(memories())
    rows: dict[str, dict[str, Any]] = {}
    for case in CASES:
        result = brain.at(brain.seq).recall(case.question, limit=max(KS))  # no reinforcing
        found = [m.memory for m in result.memories]
        rank = next((i + 1 for i, m in enumerate(found) if hit(case, m)), None)
        for kind in (case.kind, "all"):
            row = rows.setdefault(kind, {"n": 0, **{f"hit@{k}": 0 for k in KS}, "ranks": []})
            row["n"] += 1
            row["ranks"].append(rank)
            for k in KS:
                row[f"hit@{k}"] += rank is not None and rank <= k
    for row in rows.values():
        for k in KS:
            row[f"hit@{k}"] = round(row[f"hit@{k}"] / row["n"], 3)
    return rows


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "store") as store:
        rows = evaluate(store)
    print("| questions | n | " + " | ".join(f"hit@{k}" for k in KS) + " | ranks |")
    print("|---|---:|" + "---:|" * len(KS) + "---|")
    for kind, row in rows.items():
        hits = " | ".join(f"{row[f'hit@{k}']:.3f}" for k in KS)
        print(f"| {kind} | {row['n']} | {hits} | {row['ranks']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
