"""Questions that name a date or a period, on a brain of our own (not LoCoMo's).

    python tools/eval/periods.py          # hit@1/@5/@10 per kind of question

The test set is tests/data/periods.json: a team's year (2023), who did what when, told to the
brain as it happened, with the same people and words all year so that only the time can tell
the memories apart. Every question names a day or a day range, a week or weekend of a month, a
month or part of one, a season, or asks for a year; some give no year (asked years later, they
mean the latest such period the brain has memories of). A hit is an expected memory in the top
k. Kept apart from the LoCoMo split on purpose: the period questions there are few (13 of 130
temporal ones) and must not be tuned on.
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from engine import Memory, MemoryInput, Store

DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "periods.json"
SET = json.loads(DATA.read_text())
YEAR: int = SET["year"]
PEOPLE: tuple[str, ...] = tuple(SET["people"])
ROUTINE: tuple[str, ...] = tuple(SET["routine"])


def d(month_day: str) -> date:
    month, day = month_day.split("-")
    return date(YEAR, int(month), int(day))


# (day, text): the events the questions are about, among the routine below
EVENTS: tuple[tuple[date, str], ...] = tuple((d(day), text) for day, text in SET["events"])


@dataclass(frozen=True, slots=True)
class Case:
    """A hit is a memory that happened in [start, end) and holds every word of `words`."""

    kind: str
    question: str
    start: date
    end: date
    words: tuple[str, ...] = ()


CASES: tuple[Case, ...] = tuple(
    Case(kind, question, d(start), d(end), tuple(words))
    for kind, question, start, end, words in SET["cases"]
)
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
    for on, text in EVENTS:
        when = datetime(on.year, on.month, on.day, 15).astimezone()
        out.append(MemoryInput(text, event_time=when, cid=f"e{on.isoformat()}{text[:8]}"))
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
    for kind, row in sorted(rows.items(), key=lambda kv: kv[0] == "all"):
        hits = " | ".join(f"{row[f'hit@{k}']:.3f}" for k in KS)
        print(f"| {kind} | {row['n']} | {hits} | {row['ranks']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
