"""A brain's state as of one view, in the original NeuralMemory's snapshot shape.

Fields follow the original's BrainSnapshot (neurons, synapses, fibers, config, and typed
memories and projects under `metadata`), so tools that read that format can read ours; ours
adds the sequence and time the snapshot stands for. Erased memories are left out entirely.
"""

from __future__ import annotations

from typing import Any

import msgspec
import numpy as np

from .clock import from_us
from .model import BIDIRECTIONAL, NEURON_TYPES, SYNAPSE_TYPES
from .projection import ERASED, View
from .retrieval import memories_at

VERSION = "neuralmemory-1"


def _iso(us: int) -> str:
    return from_us(us).isoformat()


def neuron_id(view: View, neuron: int) -> str:
    """Stable neuron id: the memory id for an anchor, the neuron's key otherwise."""
    p = view.p
    fiber = int(p.n_fiber[neuron])
    if fiber >= 0:
        return p.f_id[fiber]
    return p.n_key[neuron] or f"n{neuron}"


def snapshot(view: View) -> dict[str, Any]:
    p = view.p
    kept = np.flatnonzero((view.col("f_flags") & ERASED) == 0)
    memories = memories_at(view, kept.tolist())
    weights = view.weights()
    live = np.flatnonzero(weights > 0)
    used = np.unique(np.concatenate((p.s_src.values[live], p.s_dst.values[live],
                                     p.f_anchor.values[kept]))).astype(np.int64)  # fmt: skip
    created = np.searchsorted(p.n_at.values, used, side="right")  # index of the creating event
    neurons = [
        {
            "id": neuron_id(view, n),
            "type": NEURON_TYPES[int(p.n_type[n])].value,
            "content": p.n_content[n] or _anchor_text(view, n),
            "metadata": _time_meta(view, n),
            "created_at": _iso(int(p.times[int(c)])),
        }
        for n, c in zip(used.tolist(), created.tolist(), strict=True)
    ]
    synapses: list[dict[str, Any]] = []
    for s in live.tolist():
        kind = SYNAPSE_TYPES[int(p.s_type[s])]
        synapses.append(
            {
                "id": f"s{s}",
                "source_id": neuron_id(view, int(p.s_src[s])),
                "target_id": neuron_id(view, int(p.s_dst[s])),
                "type": kind.value,
                "weight": round(float(weights[s]), 6),
                "direction": "bi" if kind in BIDIRECTIONAL else "uni",
                "metadata": {},
                "reinforced_count": int(view.col("s_count")[s]),
                "created_at": _iso(p.time_of(int(view.col("s_clock")[s]))),
            }
        )
    fibers: list[dict[str, Any]] = []
    typed: list[dict[str, Any]] = []
    codes = view.col("f_project")[kept].tolist()
    for m, code in zip(memories, codes, strict=True):
        fibers.append(
            {
                "id": m.id,
                "neuron_ids": [m.id],
                "synapse_ids": [],
                "anchor_neuron_id": m.id,
                "time_start": m.event_time.isoformat(),
                "time_end": m.event_time.isoformat(),
                "coherence": 0.0,
                "salience": round(m.salience, 4),
                "frequency": 0,
                "summary": None,
                "tags": list(m.tags),
                "metadata": dict(m.meta),
                "created_at": m.recorded_at.isoformat(),
            }
        )
        typed.append(
            {
                "fiber_id": m.id,
                "memory_type": m.memory_type.value,
                "priority": m.priority,
                "provenance": {"source": m.source, "confidence": "medium", "verified": False},
                "expires_at": None if m.expires_at is None else m.expires_at.isoformat(),
                "project_id": p.project_ids[code] if code >= 0 else None,
                "tags": list(m.tags),
                "metadata": {"status": m.status},
                "created_at": m.recorded_at.isoformat(),
            }
        )
    projects = [
        {**msgspec.to_builtins(pr), "start_date": _iso(pr.start),
         "end_date": None if pr.end is None else _iso(pr.end)}
        for pid in p.project_ids
        if (pr := p.project_at(pid, view.seq)) is not None
    ]  # fmt: skip
    return {
        "brain_id": p.brain_id,
        "brain_name": p.name,
        "exported_at": _iso(view.time),
        "version": VERSION,
        "seq": view.seq,
        "neurons": neurons,
        "synapses": synapses,
        "fibers": fibers,
        "config": msgspec.to_builtins(p.config_at(view.seq)),
        "metadata": {"typed_memories": typed, "projects": projects},
    }


def _anchor_text(view: View, neuron: int) -> str:
    fiber = int(view.p.n_fiber[neuron])
    return view.text(fiber) if fiber >= 0 else ""


def _time_meta(view: View, neuron: int) -> dict[str, Any]:
    p = view.p
    start, end = int(p.n_start[neuron]), int(p.n_end[neuron])
    if NEURON_TYPES[int(p.n_type[neuron])].value != "time" or not start:
        return {}
    return {"absolute_start": _iso(start), "absolute_end": _iso(end)}


def to_networkx(data: dict[str, Any]) -> Any:
    """A snapshot as a networkx MultiDiGraph (neurons as nodes, live links as edges): for
    analysis and GraphML/GEXF export. networkx is imported here only: the hot path never
    needs it."""
    import networkx as nx

    graph = nx.MultiDiGraph(brain=data["brain_name"], seq=data["seq"])
    for n in data["neurons"]:
        graph.add_node(n["id"], type=n["type"], content=n["content"])
    for s in data["synapses"]:
        graph.add_edge(
            s["source_id"], s["target_id"], key=s["id"], type=s["type"], weight=s["weight"],
            direction=s["direction"], reinforced=s["reinforced_count"],
        )  # fmt: skip
    return graph
