"""LoCoMo retrieval protocol through the ORIGINAL neural-memory package (peer venv).

Usage: ``/work/peer-venv/bin/python tools/eval/peer_locomo.py --out results/peer_locomo.json``

Per conversation a fresh brain on the storage a fresh CLI/MCP install gets
(``get_shared_storage``: unified SQLStorage over SQLite under ``NEURALMEMORY_DIR``). Every
turn is stored as in ``nmem remember --at``: ``MemoryEncoder.encode`` at the session's time
plus a ``TypedMemory`` row. Questions go through ``ReflexPipeline.query`` (as ``nmem recall``).

Ranking: ``RetrievalResult.fibers_matched`` is the package's ranked answer, but the package
caps it at 10 fibers (``_find_matching_fibers``: ``_target_count = 10``) whatever the token
budget. Each fiber is mapped to a turn through its anchor neuron (the package writes two
fibers per memory, sharing the anchor). ``ranked_native`` holds only those; ``ranked``
tops them up with the other turns whose anchor neuron was activated, by activation level
(``result.metadata["activation_levels"]``), so that k = 20 means something.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import neural_memory
from neural_memory import MemoryEncoder, ReflexPipeline
from neural_memory.core.memory_types import TypedMemory, suggest_memory_type
from neural_memory.unified_config import get_config, get_shared_storage

MAX_TOKENS = 4000  # generous context budget (default 1500); fibers stay capped at 10


def naive_utc(when: datetime) -> datetime:
    """The package stores naive UTC datetimes."""
    return when.astimezone(UTC).replace(tzinfo=None)


class TurnMap:
    """Maps fibers and anchor neurons of one brain back to dia_ids."""

    def __init__(self, storage: Any) -> None:
        """Start empty; ``add`` after each encode."""
        self.storage = storage
        self.by_anchor: dict[str, str] = {}
        self.by_fiber: dict[str, list[str]] = {}
        self.order: dict[str, int] = {}

    def add(self, fiber_id: str, anchor_id: str, dia_id: str) -> None:
        """Record the fiber and anchor neuron the package returned for a turn."""
        self.by_anchor[anchor_id] = dia_id
        self.by_fiber[fiber_id] = [dia_id]
        self.order.setdefault(dia_id, len(self.order))

    async def fiber_turns(self, fiber_id: str) -> list[str]:
        """Turns of a returned fiber: via its anchor, else via its member neurons."""
        if fiber_id not in self.by_fiber:
            fiber = await self.storage.get_fiber(fiber_id)
            turns: list[str] = []
            if fiber is not None:
                if fiber.anchor_neuron_id in self.by_anchor:
                    turns = [self.by_anchor[fiber.anchor_neuron_id]]
                else:
                    hits = {self.by_anchor[n] for n in fiber.neuron_ids if n in self.by_anchor}
                    turns = sorted(hits, key=self.order.__getitem__)
            self.by_fiber[fiber_id] = turns
        return self.by_fiber[fiber_id]


async def rank(result: Any, turns: TurnMap) -> tuple[list[str], list[str]]:
    """Return (native ranking from fibers_matched, ranking topped up by activation)."""
    native: list[str] = []
    for fiber_id in result.fibers_matched:
        for dia_id in await turns.fiber_turns(fiber_id):
            if dia_id not in native:
                native.append(dia_id)
    ranked = list(native)
    levels: dict[str, float] = result.metadata.get("activation_levels") or {}
    for neuron_id, _level in sorted(levels.items(), key=lambda kv: -kv[1]):
        extra = turns.by_anchor.get(neuron_id)
        if extra is not None and extra not in ranked:
            ranked.append(extra)
    return native, ranked


async def run_conversation(
    conv: Any, limit_questions: int | None, deadline: float
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Ingest one conversation into a fresh brain and answer its questions."""
    storage = await get_shared_storage(f"locomo-{conv.sample_id}")
    brain_id = storage.brain_id or ""
    brain = await storage.get_brain(brain_id)
    if brain is None:
        raise RuntimeError("get_shared_storage did not create the brain")
    encoder = MemoryEncoder(storage, brain.config)
    turns = TurnMap(storage)
    t0 = time.perf_counter()
    for turn in conv.turns:
        res = await encoder.encode(content=turn.text, timestamp=naive_utc(turn.when))
        kind = suggest_memory_type(turn.text)
        await storage.add_typed_memory(TypedMemory.create(fiber_id=res.fiber.id, memory_type=kind))
        turns.add(res.fiber.id, res.fiber.anchor_neuron_id, turn.dia_id)
    encode_s = time.perf_counter() - t0

    pipeline = ReflexPipeline(storage, brain.config)
    rows: list[dict[str, Any]] = []
    for q in conv.questions[:limit_questions]:
        if time.perf_counter() > deadline:
            break
        t1 = time.perf_counter()
        result = await pipeline.query(q.question, max_tokens=MAX_TOKENS)
        latency = (time.perf_counter() - t1) * 1e3
        native, ranked = await rank(result, turns)
        rows.append(
            {
                "sample_id": conv.sample_id,
                "question": q.question,
                "category": q.category,
                "evidence": list(q.evidence),
                "ranked": ranked,
                "ranked_native": native,
                "latency_ms": round(latency, 2),
                "depth_used": int(result.depth_used),
            }
        )
        await asyncio.sleep(0)  # let the package's background reinforcement run
    stats = await storage.get_stats(brain_id)
    await storage.close()
    info = {
        "sample_id": conv.sample_id,
        "turns": len(conv.turns),
        "questions": len(rows),
        "questions_available": len(conv.questions),
        "encode_s": round(encode_s, 1),
        "encode_ms_per_turn": round(encode_s * 1e3 / max(len(conv.turns), 1), 1),
        "graph": {k: stats.get(k) for k in ("neuron_count", "synapse_count", "fiber_count")},
    }
    return rows, info


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run the protocol over the (limited) data set; return the results document."""
    import score  # beside this script: tools/ is not a package

    conversations = score.load_locomo(args.data)[: args.limit_conversations]
    deadline = time.perf_counter() + args.max_minutes * 60
    results: list[dict[str, Any]] = []
    runs: list[dict[str, Any]] = []
    for conv in conversations:
        if time.perf_counter() > deadline:
            break
        rows, info = await run_conversation(conv, args.limit_questions, deadline)
        results.extend(rows)
        runs.append(info)
        print(
            f"{info['sample_id']}: {info['turns']} turns in {info['encode_s']} s, "
            f"{info['questions']} questions",
            flush=True,
        )
    cfg = get_config()
    return {
        "system": f"neural-memory {neural_memory.__version__}",
        "storage": f"{cfg.storage_backend}/{cfg.storage_adapter} via get_shared_storage",
        "recall": f"ReflexPipeline.query(question, max_tokens={MAX_TOKENS}), depth auto",
        "ranking": "ranked = fibers_matched (cap 10) + activated anchor neurons by level; "
        "ranked_native = fibers_matched only",
        "data": str(args.data),
        "conversations": runs,
        "complete": len(runs) == len(conversations)
        and all(r["questions"] == r["questions_available"] for r in runs),
        "results": results,
    }


def main() -> None:
    """CLI entry point."""
    ap = argparse.ArgumentParser(description="LoCoMo retrieval through neural-memory.")
    ap.add_argument(
        "--data", type=Path, default=Path("/work/shared/datasets/locomo/locomo_dev.json")
    )
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--limit-conversations", type=int)
    ap.add_argument("--limit-questions", type=int, help="per conversation")
    ap.add_argument("--max-minutes", type=float, default=40.0, help="stop starting new work")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="nm-peer-locomo-") as data_dir:
        os.environ["NEURALMEMORY_DIR"] = data_dir  # read by the package at call time
        t0 = time.perf_counter()
        doc = asyncio.run(run(args))
        doc["wall_s"] = round(time.perf_counter() - t0, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=1) + "\n")
    import score  # beside this script: tools/ is not a package

    print(score.format_table(score.score(doc), doc["system"]))


if __name__ == "__main__":
    main()
