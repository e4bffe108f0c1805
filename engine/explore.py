"""Reads for looking into a brain: activity per day, the neighbourhood of a memory or of a
question with the activation each node received, and the paths that carried a recall's
activation from the question's anchors to each memory it returned.

Pure functions of a `View`, so, like every read, they answer for any past moment.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from .activation import Activation, SpreadParams, live_edges, spread
from .clock import DAY_US
from .model import MEMORY_TYPES, NEURON_TYPES, SYNAPSE_TYPES
from .projection import View
from .retrieval import Spread, status_of

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

MAX_NODES = 500
MAX_DAYS = 3660
LABEL_CHARS = 80


def activity(view: View, days: int) -> list[dict[str, Any]]:
    """Events recorded and memories created per UTC day, for the last `days` days that saw
    any event up to the view (oldest first)."""
    p = view.p
    event_days = p.times.values[: view.seq] // DAY_US
    memory_days = p.f_t.values[: view.fibers] // DAY_US
    day, events = np.unique(event_days, return_counts=True)
    made, memories = np.unique(memory_days, return_counts=True)
    created = dict(zip(made.tolist(), memories.tolist(), strict=True))
    return [
        {
            "day": datetime.fromtimestamp(d * 86_400, tz=UTC).date().isoformat(),
            "events": n,
            "memories": created.get(d, 0),
        }
        for d, n in zip(day[-days:].tolist(), events[-days:].tolist(), strict=True)
    ]


def memory_spread(view: View, fiber: int, depth: int) -> Activation:
    """Activation spread from one memory's anchor neuron (level 1) for `depth` + 1 hops."""
    view.p.sync_graph()
    config = view.p.config_at(view.seq)
    params = SpreadParams(
        hops=depth + 1, hop_decay=config.hop_decay, threshold=config.activation_threshold
    )
    start = np.asarray([int(view.p.f_anchor[fiber])], dtype=np.int64)
    return spread(view, start, lambda degree: np.ones(len(degree)), params)


def node(view: View, n: int) -> dict[str, Any]:
    """A neuron as the explorer shows it: a memory (id, type, status, text) or a neuron of
    some type (its content)."""
    p = view.p
    fiber = int(p.n_fiber[n])
    if 0 <= fiber < view.fibers:
        flags = int(view.col("f_flags")[fiber])
        expired = bool(view.expired()[fiber])
        text = view.text(fiber)
        return {
            "node": n,
            "kind": "memory",
            "memory_id": p.f_id[fiber],
            "type": MEMORY_TYPES[int(view.col("f_type")[fiber])].value,
            "status": status_of(flags, expired),
            "label": _short(text),
        }
    label = p.n_content[n] or p.n_key[n].partition(":")[2] or f"#{n}"
    return {"node": n, "kind": "neuron", "type": NEURON_TYPES[int(p.n_type[n])].value,
            "label": _short(label)}  # fmt: skip


def graph(view: View, act: Activation, limit: int, keep: I64) -> dict[str, Any]:
    """The `limit` most activated nodes (always with `keep`) and the live links among them.
    Hidden memories (forgotten, erased, expired) are left out, as recall leaves them out."""
    level = _levels(view, act)
    lit = np.flatnonzero(level > 0)
    order = np.argsort(-level[lit], kind="stable")[:limit]
    nodes = np.union1d(lit[order], keep).astype(np.int64)
    _, nbr, syn, weight = live_edges(view, nodes)
    inside = np.isin(nbr, nodes)
    syn_in, first = np.unique(syn[inside], return_index=True)
    weight_in = weight[inside][first]
    p = view.p
    top = float(level[nodes].max()) if len(nodes) else 0.0
    out_nodes = [
        {**node(view, n), "activation": round(float(level[n]), 6),
         "relative": round(float(level[n]) / top, 4) if top > 0 else 0.0}
        for n in nodes.tolist()
    ]  # fmt: skip
    edges = [
        {
            "synapse": s,
            "source": int(p.s_src[s]),
            "target": int(p.s_dst[s]),
            "type": SYNAPSE_TYPES[int(p.s_type[s])].value,
            "weight": round(float(w), 6),
        }
        for s, w in zip(syn_in.tolist(), weight_in.tolist(), strict=True)
    ]
    return {"nodes": out_nodes, "edges": edges}


def paths(view: View, sp: Spread, fibers: list[int], per_memory: int) -> list[list[Any]]:
    """For each memory, up to `per_memory` paths from an anchor of the question to it: each
    step back from the memory takes the activated neighbour that sent it the most (its
    activation times the link's weight, split by its fan-out), until an anchor is reached.
    Steps run anchor first; a path's `carried` is what its last link brought the memory."""
    p = view.p
    level = _levels(view, sp.act)
    # where activation starts: the question's words and names, and the memories its cues (a
    # period, a type, a meaning) picked out directly
    starts = sp.starts(view)
    anchor_label = {**starts, **dict(zip(sp.anchors.nodes.tolist(), sp.anchors.labels,
                                             strict=True))}  # fmt: skip
    src, dst = p.s_src.values, p.s_dst.values

    def senders(x: int, exclude: set[int]) -> list[tuple[int, int, float, float]]:
        _, nbr, syn, weight = live_edges(view, np.asarray([x], dtype=np.int64))
        lit = level[nbr] > 0
        sender: I64 = nbr[lit].astype(np.int64)
        syn, weight = syn[lit], weight[lit]
        if not len(sender):
            return []
        unique, where = np.unique(sender, return_inverse=True)
        fanout = np.maximum(p.graph.degree(unique, src, dst, view.synapses)[where], 1)
        carried = level[sender] * weight / fanout
        best = np.argsort(-carried, kind="stable")
        return [
            (int(sender[i]), int(syn[i]), float(weight[i]), float(carried[i]))
            for i in best.tolist()
            if int(sender[i]) not in exclude
        ]

    out: list[list[Any]] = []
    for fiber in fibers:
        target = int(p.f_anchor[fiber])
        found: list[Any] = []
        if target in starts:  # picked out by a cue of the question itself
            start = {**node(view, target), "activation": round(float(level[target]), 6)}
            found.append({"nodes": [{**start, "anchor": starts[target]}], "links": [],
                          "carried": round(float(level[target]), 6)})  # fmt: skip
        for first in senders(target, {target})[: per_memory * 2]:
            steps = [first]
            seen = {target, first[0]}
            while steps[-1][0] not in anchor_label and len(steps) <= sp.depth + 1:
                more = senders(steps[-1][0], seen)
                if not more:
                    break
                steps.append(more[0])
                seen.add(more[0][0])
            if steps[-1][0] not in anchor_label:
                continue
            chain = [*reversed(steps)]
            nodes = [
                {**node(view, n), "activation": round(float(level[n]), 6),
                 **({"anchor": anchor_label[n]} if n in anchor_label else {})}
                for n, *_ in chain
            ] + [node(view, target)]  # fmt: skip
            links = [
                {"synapse": s, "type": SYNAPSE_TYPES[int(p.s_type[s])].value,
                 "weight": round(w, 6)}
                for _, s, w, _ in chain
            ]  # fmt: skip
            found.append({"nodes": nodes, "links": links, "carried": round(first[3], 6)})
            if len(found) >= per_memory:
                break
        out.append(found)
    return out


def _levels(view: View, act: Activation) -> F64:
    """Activation per neuron of the view, 0 for the anchors of hidden memories: activation
    reaches them along their neighbours' links in time, but no read returns them."""
    level = np.zeros(view.neurons, dtype=np.float64)
    level[act.nodes] = act.level
    p = view.p
    fiber = p.n_fiber.values[: view.neurons]
    memory = np.flatnonzero((fiber >= 0) & (fiber < view.fibers))
    hidden = memory[~view.visible()[fiber[memory]]]
    level[hidden] = 0.0
    return level


def _short(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"
