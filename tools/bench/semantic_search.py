"""The coarse-to-fine vector search against the full scan, on real embeddings: recall@20 and
CPU time per query, at the store sizes where it engages.

    python tools/bench/semantic_search.py              # 100k rows
    python tools/bench/semantic_search.py --n 400000

The rows are the shipped model's vectors of the benchmark's workload (synthetic, clustered
into near-duplicates) plus every LoCoMo dev turn (real conversation); the queries are the
benchmark's and the first 300 LoCoMo dev questions, each scored against its exact top 20,
all about the rows' centre as recall searches (`--uncentred`: plain cosines).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "eval"))
import workload
from locomo import DEFAULT_DATA
from score import load_locomo

from engine.semantic import vectors
from engine.semantic.base import quantize
from engine.semantic.static import StaticEmbedder

K = 20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="workload rows (+ LoCoMo turns)")
    parser.add_argument("--uncentred", action="store_true", help="plain cosines, no centre")
    args = parser.parse_args()
    conversations = load_locomo(DEFAULT_DATA)
    turns = [t.text for c in conversations for t in c.turns]
    questions = [q.question for c in conversations for q in c.questions][:300]
    embedder = StaticEmbedder()
    texts = [t for t, _ in workload.generate(args.n)] + turns
    rows, scale = quantize(embedder.embed(texts))
    store = vectors.VectorStore(embedder.dims)
    n = len(rows)
    store.add(np.arange(n), np.arange(1, n + 1), rows.tobytes(), scale.tolist(),
              np.zeros(n, dtype=bool))  # fmt: skip
    store.prefix(n)  # converted once per process, as on a brain's first semantic recall
    ok = np.ones(n, dtype=bool)
    centre = None if args.uncentred else vectors.mean_row(*store.centre(n))
    everything = np.arange(n)
    for name, queries in [("LoCoMo questions", questions), ("benchmark", list(workload.QUERIES))]:
        q, q_scale = vectors.about(embedder.embed(queries), centre)
        exact_ms, fast_ms, recall = 0.0, 0.0, []
        for i in range(len(queries)):
            t0 = time.process_time()
            if centre is None:
                sims = vectors.similarities(store, n, q[i], float(q_scale[i]))
            else:
                sims = vectors.centred(store, n, everything, q[i], float(q_scale[i]), centre)
            truth = set(np.argpartition(-sims, K - 1)[:K].tolist())
            t1 = time.process_time()
            got, _ = vectors.nearest(store, n, ok, q[i], float(q_scale[i]), K, centre)
            t2 = time.process_time()
            exact_ms += (t1 - t0) * 1000
            fast_ms += (t2 - t1) * 1000
            recall.append(len(truth & set(got.tolist())) / K)
        m = len(queries)
        print(
            f"{name} x {m} over {n} rows ({vectors.candidates(n)} candidates on "
            f"{vectors.PREFIX} dims): recall@{K} {np.mean(recall):.3f} (min {min(recall):.2f}); "
            f"CPU per query: full scan {exact_ms / m:.2f} ms, coarse to fine {fast_ms / m:.2f} ms"
        )


if __name__ == "__main__":
    main()
