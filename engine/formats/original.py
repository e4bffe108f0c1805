"""The original NeuralMemory's brain file: a snapshot its own `nmem brain import` accepts.

Our JSON snapshot has the original's shape but not its conventions, and its importer is
strict: it passes `config` to its `BrainConfig(**config)` (our `hop_decay` is refused), takes
priorities as its five-level enum (0, 2, 5, 7, 10), needs `neuron_ids` and `synapse_ids` on
every fiber, and compares naive times (an aware one crashes its freshness check). This module
maps a snapshot of ours (`engine.snapshot.snapshot`) onto the schema below, which follows what
the original 4.x writes itself: version "0.1.0"; naive times, in UTC except a fiber's
`time_start`/`time_end`, which it keeps in local time; `config` with only the settings both
engines mean the same by. What has no place there (exact priorities between its levels, our
other settings, pinned/forgotten states) is kept under `metadata.neuralmemory` of the typed
memory or the snapshot, which the original stores and ignores. Our own importer reads the
file back (as an original snapshot).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

import msgspec

VERSION: Final = "0.1.0"
PRIORITY_LEVELS: Final = (0, 2, 5, 7, 10)  # the original's Priority enum


class Neuron(msgspec.Struct, frozen=True):
    id: str
    type: str
    content: str
    created_at: str
    metadata: dict[str, Any] = {}


class Synapse(msgspec.Struct, frozen=True):
    id: str
    source_id: str
    target_id: str
    type: str
    weight: float
    direction: str
    created_at: str
    reinforced_count: int = 0
    metadata: dict[str, Any] = {}


class Fiber(msgspec.Struct, frozen=True):
    id: str
    neuron_ids: list[str]
    synapse_ids: list[str]
    anchor_neuron_id: str
    time_start: str | None
    time_end: str | None
    created_at: str
    salience: float = 0.0
    coherence: float = 0.0
    frequency: int = 0
    summary: str | None = None
    pathway: list[str] = []
    conductivity: float = 1.0
    last_conducted: str | None = None
    tags: list[str] = []
    auto_tags: list[str] = []
    agent_tags: list[str] = []
    metadata: dict[str, Any] = {}


class Provenance(msgspec.Struct, frozen=True):
    source: str
    confidence: str = "medium"
    verified: bool = False
    verified_at: str | None = None
    created_by: str = "import"
    last_confirmed: str | None = None


class TypedMemory(msgspec.Struct, frozen=True):
    fiber_id: str
    memory_type: str
    priority: int
    provenance: Provenance
    expires_at: str | None
    project_id: str | None
    created_at: str
    tags: list[str] = []
    metadata: dict[str, Any] = {}


class Project(msgspec.Struct, frozen=True):
    id: str
    name: str
    start_date: str
    end_date: str | None
    created_at: str
    description: str = ""
    tags: list[str] = []
    priority: float = 1.0
    metadata: dict[str, Any] = {}


class Config(msgspec.Struct, frozen=True, omit_defaults=True):
    """The settings the original's BrainConfig has and means as ours do."""

    max_context_tokens: int | None = None
    reinforcement_delta: float | None = None


class Snapshot(msgspec.Struct, frozen=True):
    brain_id: str
    brain_name: str
    exported_at: str
    version: str
    neurons: list[Neuron]
    synapses: list[Synapse]
    fibers: list[Fiber]
    config: Config
    metadata: dict[str, Any]


def _utc(value: str | None) -> str | None:
    """A naive UTC time, as the original's `utcnow()` writes them."""
    if value is None:
        return None
    return datetime.fromisoformat(value).astimezone(UTC).replace(tzinfo=None).isoformat()


def _local(value: str | None) -> str | None:
    """A naive local time, as the original stamps a fiber's time span with `now()`."""
    if value is None:
        return None
    return datetime.fromisoformat(value).astimezone().replace(tzinfo=None).isoformat()


def _level(priority: int) -> int:
    """The original's priority level for ours, as its own `Priority.from_int` rounds."""
    for level, upto in zip(PRIORITY_LEVELS, (1, 3, 6, 8, 10), strict=True):
        if priority <= upto:
            return level
    return PRIORITY_LEVELS[-1]


def _time_meta(meta: dict[str, Any]) -> dict[str, Any]:
    return {k: _utc(v) if k.startswith("absolute_") else v for k, v in meta.items()}


def to_original(data: dict[str, Any]) -> dict[str, Any]:
    """Our snapshot (`BrainView.snapshot()`) in the original's brain-file schema.

    Forgotten memories are left out with their own neurons and links: the original has no
    hidden-but-restorable state, so it would show them again."""
    forgotten = {
        t["fiber_id"] for t in data["metadata"]["typed_memories"]
        if t["metadata"].get("status") == "forgotten"
    }  # fmt: skip
    data = _without(data, forgotten) if forgotten else data
    links: dict[str, list[dict[str, Any]]] = {}
    for s in data["synapses"]:
        links.setdefault(s["source_id"], []).append(s)
    neurons = [
        Neuron(
            id=n["id"], type=n["type"], content=n["content"],
            created_at=_utc(n["created_at"]) or "", metadata=_time_meta(n["metadata"]),
        )
        for n in data["neurons"]
    ]  # fmt: skip
    synapses = [
        Synapse(
            id=s["id"], source_id=s["source_id"], target_id=s["target_id"], type=s["type"],
            weight=s["weight"], direction=s["direction"], created_at=_utc(s["created_at"]) or "",
            reinforced_count=s["reinforced_count"],
        )
        for s in data["synapses"]
    ]  # fmt: skip
    fibers = []
    for f in data["fibers"]:
        own = links.get(f["anchor_neuron_id"], [])
        fibers.append(
            Fiber(
                id=f["id"],
                neuron_ids=[f["anchor_neuron_id"], *dict.fromkeys(s["target_id"] for s in own)],
                synapse_ids=[s["id"] for s in own],
                anchor_neuron_id=f["anchor_neuron_id"],
                time_start=_local(f["time_start"]),
                time_end=_local(f["time_end"]),
                created_at=_utc(f["created_at"]) or "",
                salience=f["salience"],
                tags=f["tags"],
                agent_tags=f["tags"],
                metadata=f["metadata"],
            )
        )
    typed = [
        TypedMemory(
            fiber_id=t["fiber_id"],
            memory_type=t["memory_type"],
            priority=_level(t["priority"]),
            provenance=Provenance(source=t["provenance"]["source"]),
            expires_at=_utc(t["expires_at"]),
            project_id=t["project_id"],
            created_at=_utc(t["created_at"]) or "",
            tags=t["tags"],
            metadata={**t["metadata"], "neuralmemory": {"priority": t["priority"]}},
        )
        for t in data["metadata"]["typed_memories"]
    ]
    projects = [
        Project(
            id=p["id"], name=p["name"], start_date=_utc(p["start_date"]) or "",
            end_date=_utc(p["end_date"]), created_at=_utc(p["start_date"]) or "",
            description=p["description"], tags=p["tags"], priority=p["priority"],
        )
        for p in data["metadata"]["projects"]
    ]  # fmt: skip
    config = data["config"]
    doc = Snapshot(
        brain_id=data["brain_id"],
        brain_name=data["brain_name"],
        exported_at=_utc(data["exported_at"]) or "",
        version=VERSION,
        neurons=neurons,
        synapses=synapses,
        fibers=fibers,
        config=Config(
            max_context_tokens=config["max_context_tokens"],
            reinforcement_delta=config["reinforce_delta"],
        ),
        metadata={
            "typed_memories": msgspec.to_builtins(typed),
            "projects": msgspec.to_builtins(projects),
            "neuralmemory": {"seq": data["seq"], "config": config},
            **{k: v for k, v in data["metadata"].items() if k == "excluded_sensitive"},
        },
    )
    out: dict[str, Any] = msgspec.to_builtins(doc)
    return out


def _without(data: dict[str, Any], fibers: set[str]) -> dict[str, Any]:
    """The snapshot without these memories, their anchors, their links and the neurons only
    they used."""
    kept = [f for f in data["fibers"] if f["id"] not in fibers]
    gone = {f["anchor_neuron_id"] for f in data["fibers"] if f["id"] in fibers}
    synapses = [
        s for s in data["synapses"] if s["source_id"] not in gone and s["target_id"] not in gone
    ]
    used = {f["anchor_neuron_id"] for f in kept}
    used.update(n for s in synapses for n in (s["source_id"], s["target_id"]))
    metadata = data["metadata"]
    return {
        **data,
        "fibers": kept,
        "synapses": synapses,
        "neurons": [n for n in data["neurons"] if n["id"] in used],
        "metadata": {
            **metadata,
            "typed_memories": [
                t for t in metadata["typed_memories"] if t["fiber_id"] not in fibers
            ],
        },
    }
