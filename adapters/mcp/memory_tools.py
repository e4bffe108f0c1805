"""Tools on memories: remember (one or a batch), todo, recall, context, show, edit, forget,
pin/unpin, restore, list. Names, arguments and answer keys follow the original NeuralMemory
where it has them; ours are added beside them."""

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..describe import edit_changes, preview
from .args import (
    AsOf,
    Content,
    EventAt,
    ExpiresDays,
    FiberIds,
    MemoryId,
    MemoryTypeName,
    MinPriority,
    OptionalPriority,
    Priority,
    Project,
    Since,
    TagMode,
    Tags,
    Types,
    Until,
    When,
)
from .compat import NOT_SERVED_IN_BATCH_ITEMS
from .server import DESTRUCTIVE, READ, SOURCE, WRITE, Answer, Engine, Spec, moment, when_of

if TYPE_CHECKING:
    from engine import Brain, BrainView, Memory, MemoryInput, RecalledMemory, Remembered

BATCH_MAX = 20


# -- answers ------------------------------------------------------------------------------------


def remembered(brain: "Brain", done: "Remembered", text: str) -> Answer:
    """The original's answer to a remember ({success, fiber_id, memory_type}) and ours."""
    return {
        "success": True,
        "fiber_id": done.id,  # the original's name for the memory id
        **done.to_dict(),
        "brain": brain.name,
        "message": f"Remembered: {preview(text, 60)}",
    }


def memory_item(m: "Memory") -> Answer:
    return {
        "id": m.id,
        "text": m.text,
        "type": m.memory_type.value,
        "priority": m.priority,
        "status": m.status,
        "event_time": m.event_time.isoformat(),
        "expires_at": None if m.expires_at is None else m.expires_at.isoformat(),
        "tags": list(m.tags),
        "freshness": m.freshness,
    }


def expiry_warnings(memories: list["Memory"], within_days: int | None, now: datetime) -> list[Any]:
    """The original's expiry_warnings: memories that expire within `within_days`."""
    if within_days is None:
        return []
    out = []
    for m in memories:
        if m.expires_at is None or m.status == "pinned":
            continue
        days = (m.expires_at - now) / timedelta(days=1)
        if 0 <= days <= within_days:
            out.append(
                {
                    "fiber_id": m.id,
                    "memory_type": m.memory_type.value,
                    "days_until_expiry": round(days, 1),
                    "priority": m.priority,
                    "suggestion": "Remember it again if it still holds, or give it a new expiry "
                    "with nmem_edit expires_days.",
                }
            )
    return out


def merged(content: str, context: dict[str, Any] | None) -> str:
    """The original's structured `context` merged into the text: 'X. Reason: Y. Cause: Z.'"""
    if not context:
        return content
    parts = []
    for key, raw in context.items():
        if isinstance(raw, dict):
            raise ToolError(f"context.{key}: give a text, a number or a list, not an object")
        value = ", ".join(str(v) for v in raw) if isinstance(raw, list) else raw
        if value in (None, ""):
            continue
        parts.append(f"{key.replace('_', ' ').capitalize()}: {value}")
    if not parts:
        return content
    head = content.rstrip()
    return f"{head}{'' if head.endswith(('.', '!', '?')) else '.'} {'. '.join(parts)}."


# -- remembering ----------------------------------------------------------------------------------


class BatchItem(BaseModel):
    """One memory of nmem_remember_batch (the original's item arguments)."""

    model_config = ConfigDict(extra="forbid")

    content: Content
    type: MemoryTypeName | None = None
    priority: Priority = 5
    tags: Tags = None
    expires_days: ExpiresDays = None
    event_at: EventAt = None
    ephemeral: bool = False


def memory_input(
    brain: "Brain",
    content: str,
    *,
    type: str | None,
    priority: int,
    tags: list[str] | None,
    expires_days: float | None,
    event_at: str | None,
    ephemeral: bool,
    valid_until: str | None = None,
    project: str | None = None,
) -> "MemoryInput":
    """The engine's input for a remember; its arguments are a `BatchItem`'s fields (a batch
    item is passed as `**item.model_dump()`) and nmem_remember's own."""
    from engine import InputError, MemoryInput

    if expires_days is not None and valid_until is not None:
        raise InputError("give expires_days or valid_until, not both")
    if ephemeral and expires_days is None and valid_until is None:
        expires_days = 1.0  # the original's session-scoped memory: a day
    return MemoryInput(
        text=content,
        event_time=when_of(event_at, brain),
        memory_type=type,
        priority=priority,
        tags=tags or (),
        expires_in_days=expires_days,
        expires_at=when_of(valid_until, brain),
        project=project,
        source=SOURCE,
        meta={"ephemeral": True} if ephemeral else {},
    )


def specs(engine: Engine) -> list[Spec]:
    async def nmem_remember(
        content: Content,
        type: Annotated[
            MemoryTypeName | None,
            Field(description="Memory type; detected from the text when omitted."),
        ] = None,
        priority: Priority = 5,
        tags: Tags = None,
        expires_days: ExpiresDays = None,
        event_at: EventAt = None,
        ephemeral: Annotated[
            bool,
            Field(
                description="A scratch note for this session: expires after a day unless "
                "expires_days says otherwise; nmem_recall permanent_only leaves it out."
            ),
        ] = False,
        context: Annotated[
            dict[str, Any] | None,
            Field(
                description="Structured details merged into the text, e.g. {'reason': "
                "'...', 'alternatives': '...'} becomes '... Reason: .... Alternatives: ...'."
            ),
        ] = None,
        valid_until: Annotated[
            str | None,
            Field(
                max_length=200,
                description="When it stops holding (ISO time or phrase): "
                "the memory expires then. Instead of expires_days.",
            ),
        ] = None,
        verbose_extraction: Annotated[
            bool,
            Field(
                description="Accepted for the original's agents: the answer always counts "
                "the neurons and links made (neurons_created, synapses_created)."
            ),
        ] = False,
        project: Project = None,
    ) -> Answer:
        text = merged(content, context)

        def work(brain: "Brain") -> Answer:
            item = memory_input(
                brain,
                text,
                type=type,
                priority=priority,
                tags=tags,
                expires_days=expires_days,
                event_at=event_at,
                ephemeral=ephemeral,
                valid_until=valid_until,
                project=project,
            )
            out = remembered(brain, brain.remember_many([item])[0], text)
            if item.event_time is not None:
                out["event_time"] = item.event_time.isoformat()
            return out

        return await engine.run(work)

    async def nmem_remember_batch(
        memories: Annotated[
            list[dict[str, Any]],
            Field(
                min_length=1,
                max_length=BATCH_MAX,
                description="The memories, at most 20: "
                "each {content, type, priority, tags, expires_days, event_at, ephemeral}.",
            ),
        ],
    ) -> Answer:
        results: list[Answer | None] = [None] * len(memories)
        valid: list[tuple[int, BatchItem]] = []
        for i, raw in enumerate(memories):
            refused = [k for k in raw if k in NOT_SERVED_IN_BATCH_ITEMS]
            if refused:
                reason = NOT_SERVED_IN_BATCH_ITEMS[refused[0]]
                results[i] = _failed(i, f"'{refused[0]}' is not supported here: {reason}")
                continue
            try:
                valid.append((i, BatchItem.model_validate(raw)))
            except ValidationError as exc:
                from .server import explain

                results[i] = _failed(i, explain(exc))

        def work(brain: "Brain") -> None:
            from engine import Error as EngineError

            inputs: list[tuple[int, MemoryInput]] = []
            for i, item in valid:
                try:
                    inputs.append((i, memory_input(brain, **item.model_dump())))
                except EngineError as exc:
                    results[i] = _failed(i, str(exc))
            try:  # all in one transaction; if one is refused, each on its own
                done = brain.remember_many([inp for _, inp in inputs])
                pairs = list(zip(inputs, done, strict=True))
            except EngineError:
                pairs = []
                for i, inp in inputs:
                    try:
                        pairs.append(((i, inp), brain.remember_many([inp])[0]))
                    except EngineError as exc:
                        results[i] = _failed(i, _agent_error(exc))
            for (i, _), d in pairs:
                results[i] = {
                    "index": i,
                    "status": "ok",
                    "fiber_id": d.id,
                    "memory_type": d.memory_type.value,
                    "seq": d.seq,
                }

        await engine.run(work)
        final = [r for r in results if r is not None]
        saved = sum(r["status"] == "ok" for r in final)
        return {
            "success": saved > 0,
            "saved": saved,
            "failed": len(final) - saved,
            "total": len(final),
            "results": final,
        }

    async def nmem_todo(
        task: Annotated[
            str,
            Field(
                min_length=1,
                max_length=100_000,
                description="The task, e.g. 'Migrate the billing cron to the new queue'.",
            ),
        ],
        priority: Priority = 5,
    ) -> Answer:
        from engine import MemoryInput

        item = MemoryInput(text=task, memory_type="todo", priority=priority, source=SOURCE)
        return await engine.run(
            lambda brain: remembered(brain, brain.remember_many([item])[0], task)
        )

    # -- reading --------------------------------------------------------------------------------

    async def nmem_recall(
        query: Annotated[
            str,
            Field(
                min_length=1,
                max_length=10_000,
                description="A natural-language question "
                "or keywords, e.g. 'what database do payments use?'",
            ),
        ],
        depth: Annotated[
            int | None,
            Field(
                ge=0,
                le=3,
                description="How far activation spreads: 0 direct matches only "
                "... 3 deep associations. Default: chosen from the question.",
            ),
        ] = None,
        max_tokens: Annotated[
            int, Field(ge=1, le=100_000, description="Token budget of `answer` (default 500).")
        ] = 500,
        min_confidence: Annotated[
            float,
            Field(
                ge=0,
                le=1,
                description="Below this confidence (0-1) no answer is returned "
                "(answer null, message says why).",
            ),
        ] = 0.0,
        limit: Annotated[
            int, Field(ge=1, le=100, description="How many memories to return at most.")
        ] = 10,
        tags: Tags = None,
        tag_mode: TagMode = "and",
        types: Types = None,
        project: Project = None,
        min_priority: MinPriority = 0,
        mode: Annotated[
            Literal["associative", "exact"],
            Field(
                description="'associative' (default): `answer` is a Markdown context of the "
                "best memories; 'exact': `memories` hold each one's full text verbatim."
            ),
        ] = "associative",
        include_citations: Annotated[
            bool,
            Field(
                description="exact mode: add each memory's citation (when it happened, "
                "when it was recorded, by which source). Default true."
            ),
        ] = True,
        warn_expiry_days: Annotated[
            int | None,
            Field(
                ge=1,
                le=90,
                description="Add expiry_warnings for memories of the answer "
                "that expire within this many days.",
            ),
        ] = None,
        prefer_recent: Annotated[
            bool,
            Field(
                description="Order the memories newest event first (for 'what is the "
                "current ...'; not for history questions)."
            ),
        ] = False,
        permanent_only: Annotated[
            bool, Field(description="Leave out ephemeral (session-scoped) memories.")
        ] = False,
        include_status: Annotated[
            list[Literal["active", "superseded", "expired"]]
            | Literal["active", "superseded", "expired"]
            | None,
            Field(
                description="Which memories: ['active'] (default); add 'expired' for "
                "memories past their expiry; ['expired'] for those only. Nothing is ever "
                "'superseded' here (updates are edits, kept in nmem_history)."
            ),
        ] = None,
        clean_for_prompt: Annotated[
            bool | None, Field(description="true: `answer` without its section header.")
        ] = None,
        show_provenance: Annotated[
            bool | None,
            Field(description="false: `answer` lines without their '(date, type)' prefix."),
        ] = None,
        recall_token_budget: Annotated[
            int | None,
            Field(
                ge=50,
                le=100_000,
                description="The original's budget-aware selection: the "
                "best memories that fit this many tokens (instead of max_tokens); adds "
                "budget_stats.",
            ),
        ] = None,
        layer: Annotated[
            Literal["auto", "project", "global"],
            Field(
                description="The original's brain layers: here there is one brain per "
                "server, so 'auto' and 'project' are the same and 'global' is refused."
            ),
        ] = "auto",
        since: Since = None,
        until: Until = None,
        at: When = None,
        as_of: AsOf = None,
    ) -> Answer:
        if layer == "global":
            raise ToolError(
                "nmem_recall: layer 'global' is not supported here: one server "
                "serves one brain (start another with nmem mcp --brain NAME)"
            )
        statuses = _statuses(include_status)
        budget = recall_token_budget or max_tokens

        def work(v: "BrainView") -> Answer:
            from engine.retrieval import assemble_context, count_tokens

            result = v.recall(
                query,
                depth=depth,
                limit=limit,
                max_tokens=budget,
                types=list(types or ()) or None,
                tags=tags,
                tag_mode=tag_mode,
                project=project,
                min_priority=min_priority,
                include_expired="expired" in statuses,
                since=since,
                until=until,
            )
            found = _kept(result.memories, statuses, permanent_only, prefer_recent)
            answer = result.context if found == result.memories else assemble_context(found, budget)
            answer = _presented(answer, clean=clean_for_prompt, provenance=show_provenance)
            out: Answer = {
                "answer": answer or "No relevant memories found.",
                "confidence": round(result.confidence, 4),
                "neurons_activated": result.neurons_activated,
                "fibers_matched": [m.memory.id for m in found],
                "depth_used": result.depth,
                "tokens_used": count_tokens(answer),
                "memories": [{**memory_item(m.memory), "score": round(m.score, 4)} for m in found],
                "brain": v.name,
                "at": result.at.isoformat(),
                "seq": result.seq,
                "freshness_warnings": result.freshness_warnings,
            }
            if mode == "exact":
                del out["answer"], out["tokens_used"]
                out["mode"] = "exact"
                out["memories"] = [_exact(m, include_citations) for m in found]
            if recall_token_budget is not None:
                out["budget_stats"] = {
                    "budget": recall_token_budget,
                    "tokens_used": count_tokens(answer),
                }
            warnings = expiry_warnings([m.memory for m in found], warn_expiry_days, result.at)
            if warnings:
                out["expiry_warnings"] = warnings
            if result.confidence < min_confidence:
                out.update(
                    answer=None,
                    memories=[],
                    fibers_matched=[],
                    message=(
                        f"Confidence {result.confidence:.2f} is below min_confidence "
                        f"{min_confidence:.2f}: no reliable answer in memory."
                    ),
                )
            return out

        return await engine.read(at, as_of, work)

    async def nmem_context(
        limit: Annotated[
            int, Field(ge=1, le=200, description="How many recent memories (default 10).")
        ] = 10,
        fresh_only: Annotated[
            bool,
            Field(description="Only memories about the last 30 days (freshness fresh/recent)."),
        ] = False,
        warn_expiry_days: Annotated[
            int | None,
            Field(
                ge=1,
                le=90,
                description="Add expiry_warnings for the listed memories that "
                "expire within this many days.",
            ),
        ] = None,
        include_ghosts: Annotated[
            bool,
            Field(
                description="Accepted for the original's agents: faded memories are "
                "never listed here (decay prunes links, not memories)."
            ),
        ] = True,
        at: When = None,
        as_of: AsOf = None,
    ) -> Answer:
        from engine.retrieval import count_tokens

        def work(v: "BrainView") -> Answer:
            memories = v.context(limit=limit, fresh_only=fresh_only)
            lines = "\n".join(f"- {m.text}" for m in memories)
            out: Answer = {
                "context": lines or "No memories stored yet.",
                "count": len(memories),
                "tokens_used": count_tokens(lines),
                "memories": [memory_item(m) for m in memories],
                **moment(v),
            }
            warnings = expiry_warnings(memories, warn_expiry_days, v.time)
            if warnings:
                out["expiry_warnings"] = warnings
            return out

        return await engine.read(at, as_of, work)

    async def nmem_show(memory_id: MemoryId, at: When = None, as_of: AsOf = None) -> Answer:
        def work(v: "BrainView") -> Answer:
            m = v.get(memory_id)
            return {
                "memory_id": m.id,
                "content": m.text,
                "memory_type": m.memory_type.value,
                "priority": m.priority,
                "tags": list(m.tags),
                "created_at": m.recorded_at.isoformat(),
                "expires_at": None if m.expires_at is None else m.expires_at.isoformat(),
                "metadata": dict(m.meta),
                **m.to_dict(),
            }

        return await engine.read(at, as_of, work)

    async def nmem_list(
        types: Types = None,
        status: Annotated[
            Literal["visible", "expired", "forgotten", "pinned", "erased", "all"],
            Field(description="Which memories (default: the visible ones)."),
        ] = "visible",
        project: Project = None,
        min_priority: MinPriority = 0,
        tags: Tags = None,
        tag_mode: TagMode = "and",
        limit: Annotated[int, Field(ge=1, le=1000, description="How many at most.")] = 20,
        since: Since = None,
        until: Until = None,
        at: When = None,
        as_of: AsOf = None,
    ) -> Answer:
        def work(v: "BrainView") -> Answer:
            found = v.memories(
                types=list(types or ()) or None,
                project=project,
                min_priority=min_priority,
                limit=limit,
                status=status,
                tags=tags,
                tag_mode=tag_mode,
                since=since,
                until=until,
            )
            return {
                "memories": [memory_item(m) for m in found],
                "count": len(found),
                **moment(v),
            }

        return await engine.read(at, as_of, work)

    # -- changing -------------------------------------------------------------------------------

    async def nmem_edit(
        memory_id: MemoryId,
        content: Annotated[
            str | None,
            Field(
                min_length=1,
                max_length=100_000,
                description="New text (the memory is re-linked to its new words).",
            ),
        ] = None,
        type: Annotated[MemoryTypeName | None, Field(description="New memory type.")] = None,
        priority: OptionalPriority = None,
        tags: Annotated[
            list[Annotated[str, Field(max_length=100)]] | None,
            Field(max_length=64, description="New tags (they replace the old ones)."),
        ] = None,
        expires_days: Annotated[
            float | None,
            Field(gt=0, lt=36_500, description="Expire this many days from now."),
        ] = None,
        project: Annotated[
            str | None,
            Field(max_length=200, description="Move to this project ('' to clear)."),
        ] = None,
    ) -> Answer:
        if all(v is None for v in (content, type, priority, tags, expires_days, project)):
            raise ToolError(
                "nmem_edit: give at least one of content, type, priority, tags, "
                "expires_days or project"
            )

        def work(brain: "Brain") -> Answer:
            before = brain.get(memory_id)
            done = brain.edit(
                before.id,
                content,
                memory_type=type,
                priority=priority,
                tags=tags,
                expires_in_days=expires_days,
                project=False if project is None else (project or None),
            )
            changes = edit_changes(before, brain.get(before.id))
            return {
                "status": "edited" if done.events else "unchanged",
                "memory_id": done.id,
                "changes": changes,
                **done.to_dict(),
            }

        return await engine.run(work)

    async def nmem_forget(
        memory_id: MemoryId,
        hard: Annotated[
            bool,
            Field(
                description="false (default): hide it from every read; nmem_restore brings "
                "it back and nmem_history keeps it. true: erase its content for good; the "
                "first call returns status 'pending_confirmation' and a confirm_token, a "
                "second call with that token erases."
            ),
        ] = False,
        reason: Annotated[
            str, Field(max_length=1000, description="Why, kept in the history (e.g. 'done').")
        ] = "",
        confirm_token: Annotated[
            str | None,
            Field(
                max_length=100,
                description="The token of a pending hard erase of this "
                "memory: works once, for 5 minutes.",
            ),
        ] = None,
        confirm: Annotated[
            bool | None,
            Field(
                description="The original's confirmation flag: not enough on its own here; "
                "a hard erase needs the confirm_token of its first call."
            ),
        ] = None,
    ) -> Answer:
        def work(brain: "Brain") -> Answer:
            m = brain.get(memory_id)
            if not hard:
                done = brain.forget(m.id, reason=reason)
                already = "already hidden; " if done.event == "unchanged" else ""
                return {
                    "status": "soft_deleted",
                    "memory_id": m.id,
                    "message": f"{already}hidden from every read; nmem_restore brings it back",
                    **done.to_dict(),
                }
            target = f"{brain.name}/{m.id}"
            if confirm_token is None:
                token = engine.confirmations.issue("erase", target)
                note = "confirm=true is not enough here: " if confirm else ""
                return {
                    "status": "pending_confirmation",
                    "memory_id": m.id,
                    "will_delete": {"memories": 1, "text": preview(m.text, 80)},
                    "confirm_token": token,
                    "expires_in_seconds": int(engine.confirmations.ttl),
                    "message": f"{note}this erases the memory for good (its text leaves the "
                    "log; it cannot be restored). To go on, call nmem_forget again with "
                    f"memory_id, hard=true and confirm_token={token!r}.",
                }
            refused = engine.confirmations.redeem(confirm_token, "erase", target)
            if refused is not None:
                raise ToolError(
                    f"nmem_forget: {refused}; call again without confirm_token for a new one"
                )
            done = brain.erase(m.id, by="mcp")
            return {
                "status": "hard_deleted",
                "memory_id": m.id,
                "message": "erased for good: its text is gone from every read and from the log",
                **done.to_dict(),
            }

        return await engine.run(work)

    async def nmem_restore(memory_id: MemoryId) -> Answer:
        def work(brain: "Brain") -> Answer:
            done = brain.restore(memory_id)
            state = "restored" if done.events else "unchanged"
            return {"status": state, "memory_id": done.id, **done.to_dict()}

        return await engine.run(work)

    async def nmem_pin(
        action: Annotated[
            Literal["pin", "unpin", "list"],
            Field(description="pin (default): never decay or expire; unpin; list the pinned."),
        ] = "pin",
        fiber_ids: FiberIds = None,
        limit: Annotated[int, Field(ge=1, le=200, description="list: how many (default 50).")] = 50,
    ) -> Answer:
        if action == "list":

            def listing(brain: "Brain") -> Answer:
                found = brain.memories(status="pinned", limit=limit)
                return {"pinned_count": len(found), "fibers": [_pinned(m) for m in found]}

            return await engine.run(listing)
        return await engine.run(lambda brain: _flag_all(brain, action, fiber_ids))

    async def nmem_unpin(fiber_ids: FiberIds = None) -> Answer:
        return await engine.run(lambda brain: _flag_all(brain, "unpin", fiber_ids))

    return [
        Spec(
            nmem_remember,
            "Store a memory in the user's long-term memory: a fact, decision, "
            "preference, todo, insight, context, instruction, error, workflow or reference "
            "(detected from the text unless `type`). Use it whenever something worth keeping "
            "across sessions comes up. One self-contained statement per call; `event_at` says "
            "when it happened if not now. Secrets (passwords, API keys, card numbers, ...) are "
            "refused and nothing is stored. Returns fiber_id (the memory's id), memory_type, "
            "priority and expires_at.",
            WRITE,
        ),
        Spec(
            nmem_remember_batch,
            "Store several memories at once (at most 20), each as "
            "nmem_remember takes it. Partial success: a bad item is reported in `results` and "
            "does not block the others.",
            WRITE,
            _batch_schema,
        ),
        Spec(
            nmem_todo,
            "Remember a task to do (a todo memory, expiring after 30 days). Close "
            "it with nmem_forget when done.",
            WRITE,
        ),
        Spec(
            nmem_recall,
            "Recall what memory knows about a question, by spreading activation "
            "through the memory graph. Use it before answering anything that may depend on "
            "earlier sessions. Returns `answer` (a Markdown context of the best memories), "
            "`confidence` 0-1, `fibers_matched` (their ids) and the ranked `memories`. Narrow "
            "it with tags/tag_mode, types, project, min_priority. With `at` (or `as_of`) it "
            "answers as memory stood then.",
            READ,
        ),
        Spec(
            nmem_context,
            "The most recent memories as a Markdown list (`context`) with "
            "their details (`memories`). For a broad picture at the start of a task; use "
            "nmem_recall for a specific question and nmem_recap for project context.",
            READ,
        ),
        Spec(
            nmem_show,
            "One memory in full: its exact text, type, priority, tags, status, "
            "when it happened and was recorded, expiry, project and source.",
            READ,
        ),
        Spec(
            nmem_list,
            "List memories, highest priority first then newest, filtered by types, "
            "status (visible, expired, forgotten, pinned, erased, all), project, tags, "
            "priority.",
            READ,
        ),
        Spec(
            nmem_edit,
            "Correct a memory: new text (re-linked to its words), type, priority, "
            "tags, expiry or project. Returns the `changes` made and every event recorded; "
            "the old version stays in nmem_history.",
            WRITE,
        ),
        Spec(
            nmem_forget,
            "Forget a memory that is wrong, done or obsolete: hidden from every "
            "read and restorable (nmem_restore). hard=true erases it for good, after a "
            "confirmation: the first call returns pending_confirmation and a confirm_token, "
            "the second call with it erases.",
            DESTRUCTIVE,
        ),
        Spec(
            nmem_restore,
            "Bring back a memory hidden by nmem_forget: visible to every read "
            "again (an erased memory cannot come back).",
            WRITE,
        ),
        Spec(
            nmem_pin,
            "Pin memories (they never decay or expire), unpin them, or list the "
            "pinned ones. Use for knowledge that must stay.",
            WRITE,
        ),
        Spec(
            nmem_unpin,
            "Unpin memories (ids as nmem_pin takes them): they decay and expire again like the "
            "others.",
            WRITE,
        ),
    ]


# -- helpers ------------------------------------------------------------------------------------


def _failed(index: int, reason: str) -> Answer:
    return {"index": index, "status": "error", "reason": " ".join(reason.split())}


def _agent_error(exc: Exception) -> str:
    from engine import SensitiveContentError

    if isinstance(exc, SensitiveContentError):
        return f"{exc.found}; not stored: remove the secret"
    return str(exc)


def _batch_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Show the items' arguments in the schema (they are validated one by one, so that one
    bad item does not fail the call)."""
    from .server import tidy

    items = tidy(BatchItem.model_json_schema())
    items.pop("additionalProperties", None)
    schema["properties"]["memories"]["items"] = items
    return schema


def _statuses(include_status: Sequence[str] | str | None) -> frozenset[str]:
    if include_status is None:
        return frozenset({"active"})
    chosen = [include_status] if isinstance(include_status, str) else include_status
    return frozenset(chosen)


def _kept(
    found: list["RecalledMemory"], statuses: frozenset[str], permanent_only: bool, recent: bool
) -> list["RecalledMemory"]:
    """The recalled memories the call asked for, in the order it asked for."""

    def wanted(m: "RecalledMemory") -> bool:
        if permanent_only and m.memory.meta.get("ephemeral"):
            return False
        return ("expired" if m.memory.status == "expired" else "active") in statuses

    kept = [m for m in found if wanted(m)]
    if recent:
        kept.sort(key=lambda m: m.memory.event_time, reverse=True)
    return kept


_PROVENANCE = re.compile(r"^- \(\d{4}-\d{2}-\d{2}, [a-z]+\) ", re.MULTILINE)


def _presented(answer: str, *, clean: bool | None, provenance: bool | None) -> str:
    if clean:
        answer = "\n".join(line for line in answer.splitlines() if not line.startswith("#"))
    if provenance is False:
        answer = _PROVENANCE.sub("- ", answer)
    return answer


def _exact(m: "RecalledMemory", citations: bool) -> Answer:
    """A memory of exact mode, in the original's keys: the full text, verbatim."""
    memory = m.memory
    item: Answer = {
        "fiber_id": memory.id,
        "content": memory.text,
        "memory_type": memory.memory_type.value,
        "priority": memory.priority,
        "tags": list(memory.tags),
        "created_at": memory.recorded_at.isoformat(),
        "score": round(m.score, 4),
    }
    if citations:
        item["citation"] = {
            "event_time": memory.event_time.isoformat(),
            "recorded_at": memory.recorded_at.isoformat(),
            "source": memory.source,
            "seq": memory.seq,
        }
    return item


def _pinned(m: "Memory") -> Answer:
    return {
        "fiber_id": m.id,
        "summary": m.text,
        "type": m.memory_type.value,
        "priority": m.priority,
        "tags": list(m.tags),
        "created_at": m.recorded_at.isoformat(),
    }


def _flag_all(brain: "Brain", action: str, fiber_ids: list[str] | None) -> Answer:
    """Pin or unpin each memory; every id is checked before anything changes."""
    if not fiber_ids:
        raise ToolError(f"nmem_pin: action '{action}' needs fiber_ids")
    ids = [brain.get(i).id for i in fiber_ids]
    done = [getattr(brain, action)(i) for i in dict.fromkeys(ids)]
    updated = sum(bool(d.events) for d in done)
    return {
        "updated": updated,
        "message": f"{action}ned {updated} memor{'y' if updated == 1 else 'ies'}"
        + (f" ({len(done) - updated} already {action}ned)" if updated < len(done) else ""),
        "results": [{"fiber_id": d.id, **d.to_dict()} for d in done],
    }
