"""LoCoMo retrieval protocol helpers and scoring, shared by our harness and the peer's.

Stdlib only (the peer venv has no numpy). See /work/shared/datasets/locomo/SOURCE.md:
hit@k = any evidence turn among the top k; rec@k = share of the evidence turns among the
top k; per category (1 multi-hop, 2 temporal, 3 open-domain, 4 single-hop) and overall.

CLI: ``python tools/eval/score.py results.json [more.json ...]`` prints Markdown tables.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

KS: tuple[int, ...] = (1, 5, 10, 20)
CATEGORIES: dict[int, str] = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}


@dataclass(frozen=True)
class Turn:
    """One dialogue turn, stored as one memory."""

    dia_id: str
    text: str  # "<speaker>: <text> <blip_caption>"
    when: datetime  # the session's date-time (UTC-aware; the data carries no zone)


@dataclass(frozen=True)
class Question:
    """A category 1-4 question with its (normalised, non-empty) evidence turns."""

    question: str
    category: int
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class Conversation:
    """One LoCoMo sample: its turns in order and its scorable questions."""

    sample_id: str
    turns: tuple[Turn, ...]
    questions: tuple[Question, ...]


def parse_session_time(value: str) -> datetime:
    """Parse LoCoMo's ``"1:56 pm on 8 May, 2023"`` into an aware UTC datetime."""
    return datetime.strptime(value.strip(), "%I:%M %p on %d %B, %Y").replace(tzinfo=UTC)


def normalize_evidence(raw: Iterable[str], valid: set[str]) -> tuple[str, ...]:
    """Split ``"D8:6; D9:17"`` style entries, drop ids absent from the conversation, dedupe."""
    out: list[str] = []
    for entry in raw:
        for part in str(entry).replace(",", ";").split(";"):
            dia_id = part.strip()
            if dia_id in valid and dia_id not in out:
                out.append(dia_id)
    return tuple(out)


def load_locomo(path: str | Path) -> list[Conversation]:
    """Load the LoCoMo file into conversations of turns and category 1-4 questions."""
    samples = json.loads(Path(path).read_text())
    conversations: list[Conversation] = []
    for sample in samples:
        conv = sample["conversation"]
        sessions = sorted(
            (int(key.split("_")[1]), key)
            for key in conv
            if key.startswith("session_") and not key.endswith("date_time")
        )
        turns: list[Turn] = []
        for _, key in sessions:
            when = parse_session_time(conv[f"{key}_date_time"])
            for turn in conv[key]:
                text = f"{turn['speaker']}: {turn['text']}"
                if turn.get("blip_caption"):
                    text = f"{text} {turn['blip_caption']}"
                turns.append(Turn(turn["dia_id"], text, when))
        valid = {t.dia_id for t in turns}
        questions = []
        for qa in sample["qa"]:
            evidence = normalize_evidence(qa.get("evidence") or [], valid)
            if qa["category"] in CATEGORIES and evidence:
                questions.append(Question(str(qa["question"]), int(qa["category"]), evidence))
        conversations.append(Conversation(sample["sample_id"], tuple(turns), tuple(questions)))
    return conversations


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered) / 100))
    return ordered[min(rank, len(ordered)) - 1]


def _score_group(rows: Sequence[Mapping[str, Any]], ranked_key: str) -> dict[str, float]:
    """hit@k, rec@k and latency percentiles for one group of result rows."""
    out: dict[str, float] = {"n": len(rows)}
    for k in KS:
        hits = 0.0
        recall = 0.0
        for row in rows:
            evidence = set(row["evidence"])
            top = set(row[ranked_key][:k])
            found = len(evidence & top)
            hits += found > 0
            recall += found / len(evidence)
        out[f"hit@{k}"] = hits / len(rows) if rows else math.nan
        out[f"rec@{k}"] = recall / len(rows) if rows else math.nan
    latencies = [float(r["latency_ms"]) for r in rows if r.get("latency_ms") is not None]
    out["latency_p50_ms"] = percentile(latencies, 50)
    out["latency_p95_ms"] = percentile(latencies, 95)
    return out


def score(
    results: Sequence[Mapping[str, Any]] | Mapping[str, Any], ranked_key: str = "ranked"
) -> dict[str, dict[str, float]]:
    """Score result rows (or a results document) per category and overall (categories 1-4).

    Rows need ``category``, ``evidence`` (non-empty), ``ranked`` (dia_ids, best first) and
    ``latency_ms``. Keys of the answer: category names, then ``"overall"``.
    """
    if isinstance(results, Mapping):
        rows: Sequence[Mapping[str, Any]] = results["results"]
    else:
        rows = results
    rows = [r for r in rows if int(r["category"]) in CATEGORIES and r["evidence"]]
    scores: dict[str, dict[str, float]] = {}
    for cat, name in CATEGORIES.items():
        group = [r for r in rows if int(r["category"]) == cat]
        if group:
            scores[name] = _score_group(group, ranked_key)
    scores["overall"] = _score_group(rows, ranked_key)
    return scores


def confidence_report(rows: Sequence[Mapping[str, Any]]) -> str:
    """How well `confidence` tells a right top memory from a wrong one: the AUC (the chance
    that a question whose top memory is evidence gets a higher confidence than one whose top
    memory is not; 0.5 is a coin), and hit@1 above a few confidence levels."""

    def right(row: Mapping[str, Any]) -> bool:
        return bool(row["ranked"]) and row["ranked"][0] in row["evidence"]

    pos = [float(r["confidence"]) for r in rows if right(r)]
    neg = [float(r["confidence"]) for r in rows if not right(r)]
    pairs = sum((a > b) + 0.5 * (a == b) for a in pos for b in neg)
    auc = pairs / (len(pos) * len(neg)) if pos and neg else math.nan
    parts = [f"confidence AUC {auc:.3f}"]
    for level in (0.0, 0.5, 0.9):
        sure = [r for r in rows if float(r["confidence"]) >= level]
        hit = sum(map(right, sure)) / len(sure) if sure else math.nan
        parts.append(f"hit@1 {hit:.3f} at >= {level} (n {len(sure)})")
    return "; ".join(parts)


def format_table(scores: Mapping[str, Mapping[str, float]], title: str = "") -> str:
    """Render ``score()`` output as a Markdown table."""
    cols = [f"hit@{k}" for k in KS] + [f"rec@{k}" for k in KS]
    header = ["category", "n", *cols, "p50 ms", "p95 ms"]
    lines = [f"**{title}**", ""] if title else []
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|")
    for name, s in scores.items():
        cells = [name, str(int(s["n"]))]
        cells += [f"{s[c]:.3f}" for c in cols]
        cells += [f"{s['latency_p50_ms']:.1f}", f"{s['latency_p95_ms']:.1f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    """Print a Markdown table for each results file."""
    ap = argparse.ArgumentParser(description="Score LoCoMo retrieval results.")
    ap.add_argument("results", nargs="+", type=Path)
    ap.add_argument("--ranked-key", default="ranked", help="row key holding the ranked dia_ids")
    args = ap.parse_args()
    for path in args.results:
        doc = json.loads(path.read_text())
        title = f"{doc.get('system', path.name)} ({path.name})"
        print(format_table(score(doc, args.ranked_key), title))
        print()


if __name__ == "__main__":
    main()
