"""Tools on the whole brain: stats (the original's counts and ours), history, diff, export."""

from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from ..describe import diff_memories
from ..recent import local_midnight, recorded_since
from .args import AsOf, When
from .server import READ, Answer, Engine, Spec, read_view

if TYPE_CHECKING:
    from engine import Brain, BrainView

Moment = Annotated[
    str | int,
    Field(description="An event sequence number, an ISO time or a phrase like '1 week ago'."),
]


def specs(engine: Engine) -> list[Spec]:
    async def nmem_stats(at: When = None, as_of: AsOf = None) -> Answer:
        from importlib.metadata import version

        from engine.logstore import is_url

        def work(brain: "Brain") -> Answer:
            v = read_view(brain, at, as_of)
            stats = v.stats()
            newest = v.context(limit=1)
            return {
                "version": version("neuralmemory"),
                "brain": stats["brain"],
                "storage_backend": "postgresql" if is_url(brain.store.location) else "lmdb",
                # the original's names
                "neuron_count": stats["neurons"],
                "synapse_count": stats["synapses"],
                "fiber_count": stats["memories"],
                "db_size_bytes": brain.store.log.size(),
                "today_fibers_count": len(recorded_since(v, local_midnight(v.time))),
                "newest_memory": newest[0].recorded_at.isoformat() if newest else None,
                **stats,
            }

        return await engine.run(work)

    async def nmem_history(
        memory_id: Annotated[
            str | None,
            Field(
                min_length=4,
                max_length=200,
                description="A memory id or a unique prefix "
                "(at least 4 characters). Omit for the whole brain's events.",
            ),
        ] = None,
        types: Annotated[
            list[str] | None,
            Field(
                max_length=30,
                description="Only these event types, e.g. ['memory_edited', 'memory_forgotten'].",
            ),
        ] = None,
        limit: Annotated[
            int,
            Field(ge=1, le=1000, description="Only the newest N events (returned oldest first)."),
        ] = 50,
        at: When = None,
        as_of: AsOf = None,
    ) -> Answer:
        def work(v: "BrainView") -> Answer:
            entries = v.history(memory_id, types=types, limit=limit)
            return {
                "brain": v.name,
                "memory_id": memory_id,
                "seq": v.seq,
                "count": len(entries),
                "events": [e.to_dict() for e in entries],
            }

        return await engine.read(at, as_of, work)

    async def nmem_diff(
        start: Annotated[
            Moment,
            Field(
                description="The earlier moment: a seq, an ISO time or a phrase like '1 week ago'."
            ),
        ],
        end: Annotated[
            str | int | None,
            Field(description="The later moment (default: now)."),
        ] = None,
        top: Annotated[
            int, Field(ge=0, le=100, description="How many link weight changes to list.")
        ] = 10,
        per_group: Annotated[
            int,
            Field(
                ge=0,
                le=200,
                description="How many memories to show (with their text) "
                "per group; the counts are always complete.",
            ),
        ] = 20,
    ) -> Answer:
        def work(brain: "Brain") -> Answer:
            since = brain.at(start)
            until = brain if end in (None, "now") else brain.at(end)
            diff: dict[str, Any] = until.diff(since, top=top)
            return {**diff, "memories": diff_memories(until, diff, per_group)}

        return await engine.run(work)

    async def nmem_export(at: When = None, as_of: AsOf = None) -> Answer:
        return await engine.read(at, as_of, lambda v: v.snapshot())

    return [
        Spec(
            nmem_stats,
            "Counts for the brain: memories by type, priority and freshness; "
            "expired, forgotten, erased, pinned; neurons, links, events; store size; last "
            "decay sweep. With the original's neuron_count, synapse_count, fiber_count.",
            READ,
        ),
        Spec(
            nmem_history,
            "The recorded events (oldest first) of one memory (remembered, "
            "edited, retyped, forgotten, restored, reinforced, erased, ...) or of the whole "
            "brain: how and when it changed. Each has seq, recorded_at, type, summary and the "
            "event's data.",
            READ,
        ),
        Spec(
            nmem_diff,
            "What changed between two moments: the memories added, changed, "
            "forgotten, restored, erased, expired, pinned (with their text) and the links whose "
            "weight moved most.",
            READ,
        ),
        Spec(
            nmem_export,
            "The whole brain as JSON (the original NeuralMemory's snapshot "
            "shape: memories, neurons, synapses, fibers, projects), now or `at` a past moment. "
            "Large: for backups and inspection; use nmem_recall to answer questions.",
            READ,
        ),
    ]
