"""LoCoMo retrieval through our public engine API, beside a BM25 baseline.

    python tools/eval/locomo.py                      # full dev split, prints tables
    python tools/eval/locomo.py --out tools/eval/results/ours_locomo.json
    python tools/eval/locomo.py --limit-conversations 1 --limit-questions 40
    python tools/eval/locomo.py --semantic          # the same with the semantic layer on
    python tools/eval/locomo.py --semantic --sweep  # hybrid variants side by side, one run

Protocol (../shared/datasets/locomo/SOURCE.md): per conversation a fresh brain; every turn
remembered as "<speaker>: <text> <blip_caption>" at its session's time through
`remember_many`; every category 1-4 question with evidence recalled with its text; hit@k and
rec@k for k = 1, 5, 10, 20 per category and overall, plus recall latency. With `--semantic`
each brain has the semantic layer on before its turns are remembered (vectors travel in the
events); the embedding alone (its exact top-k) is scored beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bm25 import BM25  # noqa: E402
from score import Conversation, confidence_report, format_table, load_locomo, score  # noqa: E402

from engine import MemoryInput, Store  # noqa: E402
from engine.semantic import hybrid  # noqa: E402


def _find_data() -> Path:
    """The dev split: $NMEM_LOCOMO, else ../shared beside the checkout, else /work/shared."""
    if env := os.environ.get("NMEM_LOCOMO"):
        return Path(env)
    tail = Path("shared", "datasets", "locomo", "locomo_dev.json")
    candidates = [HERE.parents[2] / tail, Path("/work") / tail]
    return next((c for c in candidates if c.is_file()), candidates[0])


DEFAULT_DATA = _find_data()
TOP = 20
Row = dict[str, Any]


# hybrid variants compared by --sweep (module constants of engine/semantic/hybrid.py)
SWEEP: dict[str, dict[str, float]] = {
    "gain 0.1": {"GAIN": 0.1},
    "gain 0.2": {"GAIN": 0.2},
    "gain 0.3": {"GAIN": 0.3},
    "gain 0.5": {"GAIN": 0.5},
    "gain 0.3, floor 0.15": {"GAIN": 0.3, "FLOOR": 0.15},
    "gain 0.3, floor 0.35": {"GAIN": 0.3, "FLOOR": 0.35},
    "gain 0.3, 40 anchors": {"GAIN": 0.3, "NEIGHBOURS": 40},
}


def run_ours(
    conversations: list[Conversation],
    limit_questions: int | None,
    *,
    semantic: bool = False,
    sweep: dict[str, dict[str, float]] | None = None,
) -> dict[str, list[Row]]:
    """Our rows (key "ours"); with the layer also "embedding" (its exact top-k alone) and,
    with a sweep, one key per variant (recalled on a view, so nothing reinforces)."""
    out: dict[str, list[Row]] = {"ours": []}
    if semantic:
        out["embedding"] = []
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "store") as store:
        for conv in conversations:
            brain = store.brain(conv.sample_id.replace("_", "-"))
            if semantic:
                brain.semantic_enable()
            stored = brain.remember_many(
                MemoryInput(text=t.text, event_time=t.when, cid=t.dia_id, source="locomo")
                for t in conv.turns
            )
            dia_of = {r.id: t.dia_id for r, t in zip(stored, conv.turns, strict=True)}
            for q in conv.questions[:limit_questions]:
                base = {
                    "sample_id": conv.sample_id,
                    "question": q.question,
                    "category": q.category,
                    "evidence": list(q.evidence),
                }
                started = time.perf_counter()
                result = brain.recall(q.question, limit=TOP, max_tokens=4000)
                latency = (time.perf_counter() - started) * 1000
                ranked = [dia_of[m.memory.id] for m in result.memories]
                out["ours"].append(
                    {
                        **base,
                        "ranked": ranked,
                        "confidence": result.confidence,
                        "latency_ms": latency,
                    }
                )
                if semantic:
                    out["embedding"].append({**base, "ranked": _nearest(brain, q.question, dia_of)})
                for name, knobs in (sweep or {}).items():
                    with Knobs(knobs):
                        got = brain.at(brain.seq).recall(q.question, limit=TOP, max_tokens=4000)
                    out.setdefault(name, []).append(
                        {
                            **base,
                            "ranked": [dia_of[m.memory.id] for m in got.memories],
                            "confidence": got.confidence,
                        }
                    )
    return out


def _nearest(brain: Any, question: str, dia_of: dict[str, str]) -> list[str]:
    with brain.state() as view:
        probe = hybrid.probe(view, question)
        assert probe is not None
        fibers, _ = hybrid.nearest(view, probe, view.visible(), TOP)
        return [dia_of[view.p.f_id[int(f)]] for f in fibers]


class Knobs:
    """Set hybrid.py's constants for one recall."""

    def __init__(self, values: dict[str, float]) -> None:
        self.values = values
        self.saved: dict[str, Any] = {}

    def __enter__(self) -> None:
        for name, value in self.values.items():
            self.saved[name] = getattr(hybrid, name)
            setattr(hybrid, name, type(self.saved[name])(value))

    def __exit__(self, *exc: object) -> None:
        for name, value in self.saved.items():
            setattr(hybrid, name, value)


def run_bm25(conversations: list[Conversation], limit_questions: int | None) -> list[Row]:
    rows: list[Row] = []
    for conv in conversations:
        index = BM25([t.text for t in conv.turns])
        for q in conv.questions[:limit_questions]:
            started = time.perf_counter()
            top = index.top(q.question, TOP)
            rows.append(
                {
                    "sample_id": conv.sample_id,
                    "question": q.question,
                    "category": q.category,
                    "evidence": list(q.evidence),
                    "ranked": [conv.turns[i].dia_id for i in top],
                    "latency_ms": (time.perf_counter() - started) * 1000,
                }
            )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--out", type=Path, help="write our per-question results here")
    ap.add_argument("--limit-conversations", type=int)
    ap.add_argument("--limit-questions", type=int, help="per conversation")
    ap.add_argument("--no-bm25", action="store_true")
    ap.add_argument("--bm25-out", type=Path, help="write BM25's per-question results here")
    ap.add_argument("--semantic", action="store_true", help="with the semantic layer on")
    ap.add_argument("--sweep", action="store_true", help="also score the hybrid variants")
    args = ap.parse_args()
    conversations = load_locomo(args.data)[: args.limit_conversations]
    runs = run_ours(conversations, args.limit_questions, semantic=args.semantic,
                    sweep=SWEEP if args.sweep else None)  # fmt: skip
    ours = runs.pop("ours")
    title = "neuralmemory (this repo)" + (", semantic layer on" if args.semantic else "")
    print(format_table(score(ours), title))
    print()
    print(confidence_report(ours))
    for name, rows in runs.items():
        print()
        print(format_table(score([{**r, "latency_ms": None} for r in rows]), name))
    if not args.no_bm25:
        baseline = run_bm25(conversations, args.limit_questions)
        print()
        print(format_table(score(baseline), "BM25 (k1 1.5, b 0.75, stop words removed)"))
        if args.bm25_out:
            args.bm25_out.write_text(json.dumps({"system": "bm25", "results": baseline}, indent=1))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"system": "neuralmemory", "results": ours}, indent=1))


if __name__ == "__main__":
    main()
