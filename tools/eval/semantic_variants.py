"""Hybrid-recall variants of the semantic layer on the LoCoMo dev split, side by side.

    python tools/eval/semantic_variants.py                     # the shipped static model
    HF_HUB_OFFLINE=1 python tools/eval/semantic_variants.py --runtime torch
        # all-MiniLM-L6-v2 itself (needs the lab packages of tools/eval/embedders.py)

Every question is recalled on a view (nothing reinforces, so each variant sees the same
brain): the lexical recall, the embedding alone (exact top-k), semantic anchors at a few gains
and counts, reciprocal-rank fusion and a score blend of the lexical ranking with the
embedding's, and the ceiling of any fusion of the two top 10s (a question counts if either
holds an evidence turn). `--mix W` embeds each turn plus W times its neighbours in the
session (the turn with its neighbours in time). Prints hit@10 per category and hit@1.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from embedders import F32, load, neighbour_mix  # noqa: E402
from locomo import DEFAULT_DATA, Knobs  # noqa: E402
from score import CATEGORIES, Conversation, load_locomo, score  # noqa: E402

from engine import MemoryInput, Store  # noqa: E402
from engine.retrieval import recall  # noqa: E402
from engine.semantic import hybrid, registry  # noqa: E402
from engine.semantic.base import Embedder  # noqa: E402

TOP = 20  # ranked memories kept per variant
ANCHORS: dict[str, dict[str, float]] = {
    "anchors, gain 0.5 (shipped)": {},
    "anchors, gain 1.0": {"GAIN": 1.0},
    "anchors, gain 0.5, 10 neighbours": {"NEIGHBOURS": 10},
    "anchors, gain 0.5, 40 neighbours": {"NEIGHBOURS": 40},
}
Ranked = list[int]


class Fixed:
    """An embedder answering from a table of precomputed vectors (turns mixed with their
    neighbours, or another runtime's), so the engine stores exactly those rows."""

    def __init__(self, model: str, table: dict[str, F32], embed: Callable[[Sequence[str]], F32]):
        self.model, self.table, self._embed = model, table, embed
        self.dims = len(next(iter(table.values())))

    def embed(self, texts: Sequence[str]) -> F32:
        missing = [t for t in texts if t not in self.table]
        if missing:
            self.table.update(zip(missing, self._embed(missing), strict=True))
        return np.stack([self.table[t] for t in texts]).astype(np.float32)


def rrf(first: Ranked, second: Ranked, k: float, weight: float) -> Ranked:
    """Reciprocal-rank fusion; ties by memory."""
    scores: dict[int, float] = {}
    for rank, f in enumerate(first):
        scores[f] = scores.get(f, 0.0) + 1.0 / (k + rank)
    for rank, f in enumerate(second):
        scores[f] = scores.get(f, 0.0) + weight / (k + rank)
    return sorted(scores, key=lambda f: (-scores[f], f))


def blend(lexical: list[tuple[int, float]], sims: dict[int, float], weight: float) -> Ranked:
    """The lexical score (a share of the best) plus `weight` x the cosine above 0.2, over the
    lexical list and the embedding's top 30 (`sims`: every memory's cosine, best first)."""
    best = lexical[0][1] if lexical else 1.0
    share = {f: s / best for f, s in lexical}
    total = {f: share.get(f, 0.0) + weight * max(sims.get(f, 0.0) - 0.2, 0.0) / 0.8
             for f in set(share) | set(list(sims)[:30])}  # fmt: skip
    return sorted(total, key=lambda f: (-total[f], f))


def embedder_for(runtime: str, convs: list[Conversation], mix: float) -> Embedder:
    """The shipped model, or a registered `Fixed` one (another runtime, or mixed turns)."""
    if runtime == "static" and not mix:
        return registry.load(registry.DEFAULT_MODEL)
    embed = registry.load(registry.DEFAULT_MODEL).embed if runtime == "static" else load(
        runtime, Path())  # fmt: skip
    table: dict[str, F32] = {}
    for conv in convs:
        texts = [" ".join(t.text.split()) for t in conv.turns]  # as the engine stores them
        vectors = np.concatenate([embed(texts[i : i + 64]) for i in range(0, len(texts), 64)])
        table.update(zip(texts, neighbour_mix(conv, vectors, mix) if mix else vectors,
                         strict=True))  # fmt: skip
    fixed = Fixed(f"eval-{runtime}-mix{mix:g}".replace("_", "-"), table, embed)
    registry.register(fixed.model, lambda: fixed)
    return fixed


def run(convs: list[Conversation], embedder: Embedder) -> dict[str, list[dict[str, Any]]]:
    rows: dict[str, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "store") as store:
        for conv in convs:
            brain = store.brain(conv.sample_id.replace("_", "-"))
            brain.semantic_enable(embedder.model)
            stored = brain.remember_many(
                MemoryInput(text=t.text, event_time=t.when, cid=t.dia_id, source="locomo")
                for t in conv.turns
            )
            dia = {r.id: t.dia_id for r, t in zip(stored, conv.turns, strict=True)}
            with brain.state() as view:
                ids = view.p.ids
                for q in conv.questions:
                    probe = hybrid.probe(view, q.question)
                    assert probe is not None
                    got = recall(view, q.question, limit=100, max_tokens=10**6)
                    lexical = [(ids[m.memory.id], m.score) for m in got.memories]
                    fibers, cos = hybrid.nearest(view, probe, view.visible(), view.fibers)
                    near, sims = fibers[:100].tolist(), dict(zip(fibers.tolist(), cos.tolist(),
                                                                 strict=True))  # fmt: skip
                    lex = [f for f, _ in lexical]
                    ranked: dict[str, Ranked] = {
                        "lexical (the layer off)": lex,
                        "embedding alone": near,
                        "RRF, k 10, embedding weight 0.5": rrf(lex, near, 10, 0.5),
                        "RRF, k 60, equal weights": rrf(lex, near, 60, 1.0),
                        "blend, cosine weight 0.4": blend(lexical, sims, 0.4),
                        "ceiling of fusing the two top 10s": lex[:10] + near[:10],
                    }
                    for name, knobs in ANCHORS.items():
                        with Knobs(knobs):
                            found = recall(view, q.question, limit=TOP, probe=probe)
                        ranked[name] = [ids[m.memory.id] for m in found.memories]
                    for name, order in ranked.items():
                        rows.setdefault(name, []).append({
                            "category": q.category, "evidence": list(q.evidence),
                            "latency_ms": None,
                            "ranked": [dia[view.p.f_id[f]] for f in order[:TOP]],
                        })  # fmt: skip
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--runtime", default="static", help="static (shipped), or torch")
    ap.add_argument("--mix", type=float, default=0.0, help="neighbours' weight in a turn")
    args = ap.parse_args()
    convs = load_locomo(args.data)
    rows = run(convs, embedder_for(args.runtime, convs, args.mix))
    names = list(CATEGORIES.values())
    print(f"| {args.runtime}, mix {args.mix:g}: hit@10 | " + " | ".join(names)
          + " | all | hit@1 all |")  # fmt: skip
    print("|---|" + "---:|" * (len(names) + 2))
    for name, found in rows.items():
        s = score(found)
        ceiling = name.startswith("ceiling")  # its 20 are the two top 10s: hit@20 is the bound
        at = "hit@20" if ceiling else "hit@10"
        cells = [f"{s[c][at]:.3f}" for c in names] + [f"{s['overall'][at]:.3f}"]
        hit1 = "-" if ceiling else f"{s['overall']['hit@1']:.3f}"
        print(f"| {name} | " + " | ".join(cells) + f" | {hit1} |")


if __name__ == "__main__":
    main()
