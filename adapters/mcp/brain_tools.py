"""Tools on the whole brain: stats (the original's counts and ours), history, diff, export,
and the optional semantic layer (status, enable, rebuild, disable)."""

from typing import TYPE_CHECKING, Annotated, Any, Literal

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from ..describe import diff_memories
from ..recent import local_midnight, recorded_since
from .args import AsOf, When
from .server import READ, WRITE, Answer, Engine, Spec, read_view

if TYPE_CHECKING:
    from engine import Brain

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
        def work(brain: "Brain") -> Answer:
            v = read_view(brain, at, as_of)
            entries = v.history(memory_id, types=types, limit=limit)
            return {
                "brain": brain.name,
                "memory_id": memory_id,
                "seq": v.seq,
                "count": len(entries),
                "events": [e.to_dict() for e in entries],
            }

        return await engine.run(work)

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
        return await engine.run(lambda brain: read_view(brain, at, as_of).snapshot())

    async def nmem_semantic(
        action: Annotated[
            Literal["status", "enable", "rebuild", "disable"],
            Field(
                description="status: the layer's model and how many memories have a vector; "
                "enable: turn it on (embeds every memory; recorded, so past reads keep what "
                "they had); rebuild: embed every memory again; disable: recall by words only "
                "from now on."
            ),
        ] = "status",
        model: Annotated[
            str | None,
            Field(
                min_length=1,
                max_length=64,
                description="enable: the embedding model (default: the shipped one); "
                "status lists the known ones.",
            ),
        ] = None,
        at: When = None,
        as_of: AsOf = None,
    ) -> Answer:
        if model is not None and action != "enable":
            raise ToolError(f"nmem_semantic: model goes with action 'enable', not {action}")
        if action != "status" and (at, as_of) != (None, None):
            raise ToolError(f"nmem_semantic: at and as_of go with action 'status', not {action}")
        return await engine.run(lambda brain: semantic(brain, action, model, at, as_of))

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
        Spec(
            nmem_semantic,
            "The optional semantic layer: with it on, nmem_recall also finds memories by "
            "meaning ('who had a wedding?' finds 'my sister got married'), with a local model "
            "(no network, no key). status, enable, rebuild or disable it for the brain.",
            WRITE,
        ),
    ]


def semantic(
    brain: "Brain", action: str, model: str | None, at: str | int | None, as_of: str | None
) -> Answer:
    """One nmem_semantic action: the layer's status after it, and what it did in words."""
    from engine.semantic.registry import DEFAULT_MODEL

    if action == "status":
        status = read_view(brain, at, as_of).semantic()
        done = "on" if status["model"] else "off (nmem_semantic action 'enable' turns it on)"
    elif action == "enable":
        status = brain.semantic_enable(model or DEFAULT_MODEL)
        done = "enabled" if status["switched"] else "already enabled"
    elif action == "rebuild":
        if not brain.semantic()["model"]:
            raise ToolError("nmem_semantic: the layer is off; action 'enable' turns it on")
        status = brain.semantic_rebuild()
        done = "rebuilt"
    else:
        status = brain.semantic_disable()
        done = "disabled" if status["switched"] else "already off"
    if status.get("embedded_now"):
        done += f": embedded {status['embedded_now']} memories"
    if status["model"] and not status["available"]:
        done += "; this server cannot load the model, so its recall is by words only"
    return {**status, "message": f"Semantic layer {done}"}
