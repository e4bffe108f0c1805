"""NeuralMemory's MCP server over stdio, on the official `mcp` SDK (`MCPServer`).

Tools keep the original NeuralMemory's names and arguments (nmem_remember, nmem_recall,
nmem_context, nmem_todo, nmem_stats) and add nmem_history, nmem_forget and nmem_export; the
read tools take `at` (a seq number, an ISO time or "3 days ago") to answer as the brain would
have then.

One Store and one Brain stay open for the server's life; every call reads through the engine,
which catches up from the log first, so memories written meanwhile by other processes (the CLI,
another agent) are seen by the next call. Nothing is cached here. The engine is synchronous, so
each call runs in a worker thread, one at a time, and the event loop stays free. Bad arguments,
unknown ids and engine errors come back as tool errors (`isError`, one line); stdout carries only
the protocol, logs go to stderr.

Run it with `nmem mcp [--store PATH] [--brain NAME]` or `python -m adapters.mcp_server`.
"""

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar, get_args

import anyio
import anyio.to_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.server.mcpserver.tools import Tool
from mcp_types import CallToolResult, InputRequiredResult, ToolAnnotations
from pydantic import Field, ValidationError

if TYPE_CHECKING:
    from engine import Brain, BrainView, Remembered, Store

__all__ = ["MEMORY_TYPES", "TOOL_NAMES", "Engine", "build_server", "main", "serve"]

SERVER_NAME = "neuralmemory"
SOURCE = "mcp"
T = TypeVar("T")

log = logging.getLogger("neuralmemory.mcp")

# The engine's ten memory types (engine.model.MemoryType; a test keeps the two in step).
MemoryTypeName = Literal[
    "fact", "decision", "preference", "todo", "insight",
    "context", "instruction", "error", "workflow", "reference",
]  # fmt: skip
MEMORY_TYPES: tuple[str, ...] = get_args(MemoryTypeName)

When = Annotated[
    str | int | None,
    Field(
        description=(
            "Answer as the brain would have at a past moment: an event sequence number (e.g. 42), "
            "an ISO time (2026-03-01T12:00) or a phrase like '3 days ago' or 'yesterday'. "
            "Omit for now."
        )
    ),
]
Priority = Annotated[
    int, Field(ge=0, le=10, description="Importance 0-10: 0 trivial, 5 normal, 10 critical.")
]


class Engine:
    """The server's one Store and Brain, opened on first use (so `initialize` answers at once
    and a store problem becomes a tool error, not a dead server), used one call at a time."""

    def __init__(self, store: str | None = None, brain: str | None = None) -> None:
        self.store_path = store
        self.brain_name = brain
        self._store: Store | None = None
        self._brain: Brain | None = None
        self._limiter: anyio.CapacityLimiter | None = None

    def _open(self) -> "Brain":
        if self._brain is None:
            from engine import Store

            store = Store(self.store_path)
            try:
                brain = store.brain(self.brain_name)
            except BaseException:
                store.close()
                raise
            self._store, self._brain = store, brain
            log.info("serving brain %r of store %s", brain.name, store.location)
        return self._brain

    async def run(self, work: Callable[["Brain"], T]) -> T:
        """Run `work(brain)` in a worker thread; engine errors become one-line tool errors."""
        from engine import DatabaseError, InputError, NotFoundError
        from engine import Error as EngineError

        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(1)
        try:
            return await anyio.to_thread.run_sync(lambda: work(self._open()), limiter=self._limiter)
        except (InputError, NotFoundError) as exc:
            raise ToolError(_one_line(str(exc))) from exc
        except DatabaseError as exc:
            raise ToolError(_one_line(f"store error: {exc}")) from exc
        except EngineError as exc:
            raise ToolError(_one_line(f"{type(exc).__name__}: {exc}")) from exc
        except OSError as exc:
            raise ToolError(_one_line(f"cannot use the store: {exc}")) from exc

    def close(self) -> None:
        """Write what recall reinforced but has not written yet, checkpoint, release the store."""
        store, self._store, self._brain = self._store, None, None
        if store is not None:
            store.close()


def view(brain: "Brain", at: str | int | None) -> "BrainView":
    return brain if at is None else brain.at(at)


# -- the tools ----------------------------------------------------------------------------------

READ = ToolAnnotations(read_only_hint=True, destructive_hint=False, open_world_hint=False)
WRITE = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False
)
DESTRUCTIVE = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False
)

INSTRUCTIONS = """\
NeuralMemory is the user's long-term memory across sessions: an associative graph of facts,
decisions, preferences, todos and more, with an exact history.
- At the start of a session call nmem_context to load what is current.
- Before answering anything that may depend on earlier work (decisions, preferences, project
  facts, people), call nmem_recall with a natural-language question.
- When something worth keeping comes up (a decision and its reason, a preference, a fix that
  worked, a todo), call nmem_remember (or nmem_todo) with one self-contained statement that
  names who/what/when. Never store secrets: they are refused.
- nmem_recall, nmem_context, nmem_stats, nmem_history and nmem_export take `at` to answer as
  of a past moment. nmem_forget hides a wrong or obsolete memory (hard=true erases it).
"""


def _remembered(brain: "Brain", done: "Remembered", text: str) -> dict[str, Any]:
    preview = text.strip().replace("\n", " ")
    preview = preview if len(preview) <= 60 else preview[:57] + "..."
    return {
        "success": True,
        **done.to_dict(),
        "fiber_id": done.id,  # the original's name for the memory id
        "brain": brain.name,
        "message": f"Remembered: {preview}",
    }


def build_server(engine: Engine) -> MCPServer[Any]:
    """An MCPServer with the eight nmem tools over `engine`."""

    async def nmem_remember(
        content: Annotated[
            str,
            Field(
                min_length=1,
                max_length=100_000,
                description="What to remember: one self-contained statement, naming who, "
                "what and when (e.g. 'We moved payments to PostgreSQL 16 on 2026-03-02 "
                "because of JSONB performance').",
            ),
        ],
        type: Annotated[
            MemoryTypeName | None,
            Field(description="Memory type; detected from the text when omitted."),
        ] = None,
        priority: Priority = 5,
        tags: Annotated[
            list[str] | None,
            Field(max_length=64, description="Tags to file it under, e.g. ['payments', 'db']."),
        ] = None,
        expires_days: Annotated[
            float | None,
            Field(
                gt=0,
                lt=36_500,
                description="Expire after this many days. Default by type: context 7, todo 30, "
                "error 30, decision 90, insight 180, workflow 365; fact, preference, "
                "instruction and reference never expire.",
            ),
        ] = None,
    ) -> dict[str, Any]:
        from engine import MemoryInput

        item = MemoryInput(
            text=content,
            memory_type=type,
            priority=priority,
            tags=tags or (),
            expires_in_days=expires_days,
            source=SOURCE,
        )
        return await engine.run(
            lambda brain: _remembered(brain, brain.remember_many([item])[0], content)
        )

    async def nmem_recall(
        query: Annotated[
            str,
            Field(
                min_length=1,
                max_length=10_000,
                description="A natural-language question or keywords, e.g. 'what database "
                "do payments use?'",
            ),
        ],
        depth: Annotated[
            int | None,
            Field(
                ge=0,
                le=3,
                description="How far activation spreads through the graph: 0 direct matches "
                "only ... 3 deep associations. Default: chosen from the question.",
            ),
        ] = None,
        max_tokens: Annotated[
            int,
            Field(ge=1, le=100_000, description="Token budget of the returned context."),
        ] = 500,
        min_confidence: Annotated[
            float,
            Field(
                ge=0,
                le=1,
                description="Below this confidence (0-1) no answer is returned (answer null).",
            ),
        ] = 0.0,
        limit: Annotated[
            int, Field(ge=1, le=100, description="How many memories to return at most.")
        ] = 10,
        at: When = None,
    ) -> dict[str, Any]:
        def work(brain: "Brain") -> dict[str, Any]:
            result = view(brain, at).recall(query, depth=depth, limit=limit, max_tokens=max_tokens)
            out: dict[str, Any] = {
                "answer": result.context or "No relevant memories found.",
                "confidence": round(result.confidence, 4),
                "memories": [
                    {
                        "id": m.memory.id,
                        "text": m.memory.text,
                        "type": m.memory.memory_type.value,
                        "score": round(m.score, 4),
                        "event_time": m.memory.event_time.isoformat(),
                        "tags": list(m.memory.tags),
                        "freshness": m.memory.freshness,
                    }
                    for m in result.memories
                ],
                "neurons_activated": result.neurons_activated,
                "fibers_matched": len(result.memories),
                "depth_used": result.depth,
                "at": result.at.isoformat(),
                "seq": result.seq,
                "freshness_warnings": result.freshness_warnings,
            }
            if result.confidence < min_confidence:
                out["answer"] = None
                out["memories"] = []
                out["message"] = (
                    f"Confidence {result.confidence:.2f} is below min_confidence "
                    f"{min_confidence:.2f}: no reliable answer in memory."
                )
            return out

        return await engine.run(work)

    async def nmem_context(
        limit: Annotated[
            int, Field(ge=1, le=100, description="How many recent memories to return.")
        ] = 10,
        fresh_only: Annotated[
            bool,
            Field(description="Only memories about the last 30 days (freshness fresh/recent)."),
        ] = False,
        at: When = None,
    ) -> dict[str, Any]:
        def work(brain: "Brain") -> dict[str, Any]:
            v = view(brain, at)
            memories = v.context(limit=limit, fresh_only=fresh_only)
            lines = "\n".join(f"- {m.text}" for m in memories)
            return {
                "context": lines or "No memories stored yet.",
                "count": len(memories),
                "memories": [
                    {
                        "id": m.id,
                        "text": m.text,
                        "type": m.memory_type.value,
                        "priority": m.priority,
                        "event_time": m.event_time.isoformat(),
                        "expires_at": None if m.expires_at is None else m.expires_at.isoformat(),
                        "tags": list(m.tags),
                        "freshness": m.freshness,
                    }
                    for m in memories
                ],
                "brain": brain.name,
                "seq": v.seq,
                "at": v.time.isoformat(),
            }

        return await engine.run(work)

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
    ) -> dict[str, Any]:
        from engine import MemoryInput

        item = MemoryInput(text=task, memory_type="todo", priority=priority, source=SOURCE)
        return await engine.run(
            lambda brain: _remembered(brain, brain.remember_many([item])[0], task)
        )

    async def nmem_stats(at: When = None) -> dict[str, Any]:
        def work(brain: "Brain") -> dict[str, Any]:
            stats = view(brain, at).stats()
            return {
                **stats,
                # the original's names
                "neuron_count": stats.get("neurons"),
                "synapse_count": stats.get("synapses"),
                "fiber_count": stats.get("memories"),
            }

        return await engine.run(work)

    async def nmem_history(
        memory_id: Annotated[
            str | None,
            Field(
                min_length=4,
                description="A memory id or a unique prefix of it (at least 4 characters). "
                "Omit for the whole brain's events.",
            ),
        ] = None,
        limit: Annotated[
            int,
            Field(ge=1, le=1000, description="Only the newest N events (returned oldest first)."),
        ] = 50,
        at: When = None,
    ) -> dict[str, Any]:
        def work(brain: "Brain") -> dict[str, Any]:
            v = view(brain, at)
            entries = v.history(memory_id, limit=limit)
            return {
                "brain": brain.name,
                "memory_id": memory_id,
                "seq": v.seq,
                "count": len(entries),
                "events": [e.to_dict() for e in entries],
            }

        return await engine.run(work)

    async def nmem_forget(
        memory_id: Annotated[
            str,
            Field(
                min_length=4,
                description="The memory's id or a unique prefix (at least 4 characters), as "
                "returned by nmem_recall, nmem_context or nmem_remember.",
            ),
        ],
        reason: Annotated[
            str,
            Field(max_length=1000, description="Why, kept in the history (e.g. 'superseded')."),
        ] = "",
        hard: Annotated[
            bool,
            Field(
                description="false (default): hide it from every read; it can be restored and "
                "stays in the history. true: erase its content for good (cannot be undone)."
            ),
        ] = False,
    ) -> dict[str, Any]:
        def work(brain: "Brain") -> dict[str, Any]:
            done = brain.forget(memory_id, reason=reason, hard=hard)
            return {**done.to_dict(), "hard": hard, "brain": brain.name}

        return await engine.run(work)

    async def nmem_export(at: When = None) -> dict[str, Any]:
        return await engine.run(lambda brain: view(brain, at).snapshot())

    tools: list[tuple[Callable[..., Any], str, ToolAnnotations]] = [
        (
            nmem_remember,
            "Store a memory in the user's long-term memory: a fact, decision, preference, todo, "
            "insight, context, instruction, error, workflow or reference. Use it whenever "
            "something worth keeping across sessions comes up (a decision and its reason, a "
            "preference, a fix that worked). One self-contained statement per call. Secrets "
            "(passwords, API keys, card numbers, ...) are refused: the call fails naming what was "
            "found and nothing is stored. Returns the new memory's id, memory_type, priority and "
            "expires_at.",
            WRITE,
        ),
        (
            nmem_recall,
            "Recall what memory knows about a question. Use it before answering anything that may "
            "depend on earlier sessions. Returns `answer` (a Markdown context of the best "
            "memories, or 'No relevant memories found.'), `confidence` 0-1, the ranked `memories` "
            "(id, text, type, score, event_time), and `freshness_warnings` when the memories are "
            "old. With `at`, answers as memory stood then. Below `min_confidence`, answer is null "
            "and `message` says why.",
            READ,
        ),
        (
            nmem_context,
            "The most recent memories as a Markdown list (`context`), with `count` and the "
            "`memories` (id, text, type, priority, event_time, expires_at, tags, freshness). Call "
            "it at the start of a session to load what the user is working on.",
            READ,
        ),
        (
            nmem_todo,
            "Remember a task to do (a todo memory, expiring after 30 days). Returns the new "
            "memory's id and expires_at.",
            WRITE,
        ),
        (
            nmem_stats,
            "Counts for the brain: memories by type, priority and freshness; expired, forgotten, "
            "pinned; neurons, synapses, events. Use it to see what memory holds.",
            READ,
        ),
        (
            nmem_history,
            "The recorded events (oldest first) of one memory (created, edited, forgotten, "
            "reinforced, ...) or of the whole brain: how and when it changed. Each event has "
            "seq, recorded_at, type, summary and the event's data.",
            READ,
        ),
        (
            nmem_forget,
            "Forget a memory that is wrong or obsolete: hidden from every read (restorable), or "
            "with hard=true erased for good. Returns the memory id and the event's seq.",
            DESTRUCTIVE,
        ),
        (
            nmem_export,
            "The whole brain as JSON (NeuralMemory snapshot format: memories, neurons, synapses, "
            "fibers, projects), as of now or `at` a past moment. Large: use it to back up or "
            "inspect, not to answer questions (use nmem_recall).",
            READ,
        ),
    ]
    built = []
    for fn, description, hints in tools:
        tool = Tool.from_function(fn, name=fn.__name__, description=description, annotations=hints)
        tool.parameters = _tidy(tool.parameters)
        built.append(tool)
    from importlib.metadata import PackageNotFoundError, version

    try:
        ours = version("neuralmemory")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        ours = "0.0.0"
    return _Server(
        SERVER_NAME,
        title="NeuralMemory",
        instructions=INSTRUCTIONS,
        version=ours,
        tools=built,
        log_level="WARNING",
    )


TOOL_NAMES = (
    "nmem_remember", "nmem_recall", "nmem_context", "nmem_todo",
    "nmem_stats", "nmem_history", "nmem_forget", "nmem_export",
)  # fmt: skip


class _Server(MCPServer[Any]):
    """MCPServer whose argument errors read in one line ('priority: Input should be less than
    or equal to 10 (got 42)') and where JSON true/false is no number (pydantic reads it as 1/0)."""

    def __init__(self, *args: Any, tools: list[Tool], **kwargs: Any) -> None:
        super().__init__(*args, tools=tools, **kwargs)
        self._kinds = {tool.name: _kinds(tool.parameters) for tool in tools}

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        kinds = self._kinds.get(name, {})
        for arg, value in arguments.items():
            kind = kinds.get(arg, "boolean")
            if isinstance(value, bool) and "boolean" not in kind:
                raise ToolError(
                    f"Error executing tool {name}: invalid arguments: {arg}: "
                    f"Input should be a valid {kind}, not a boolean (got {value!r})"
                )
        try:
            return await super().call_tool(name, arguments, context)
        except UnexpectedToolError:
            raise
        except ToolError as exc:
            cause = exc.__cause__
            if isinstance(cause, ValidationError):
                raise ToolError(
                    f"Error executing tool {name}: invalid arguments: {_explain(cause)}"
                ) from cause
            raise ToolError(_one_line(str(exc))) from cause


def _kinds(schema: dict[str, Any]) -> dict[str, str]:
    """Each argument's JSON type(s), e.g. {"priority": "integer", "at": "string or integer"}."""
    out: dict[str, str] = {}
    for arg, prop in schema.get("properties", {}).items():
        options = prop.get("anyOf", [prop])
        out[arg] = " or ".join(str(o.get("type", "value")) for o in options)
    return out


def _explain(error: ValidationError) -> str:
    """Pydantic's errors as one line, one clause per argument (a union's alternatives joined)."""
    by_field: dict[str, list[str]] = {}
    got: dict[str, str] = {}
    for err in error.errors(include_url=False):
        field = str(err["loc"][0]) if err["loc"] else "arguments"
        messages = by_field.setdefault(field, [])
        if err["msg"] not in messages:
            messages.append(err["msg"])
        if err["type"] != "missing":
            got[field] = f" (got {_short(err.get('input'))})"
    return "; ".join(
        f"{field}: {' or '.join(messages)}{got.get(field, '')}"
        for field, messages in by_field.items()
    )


def _short(value: object) -> str:
    """The rejected value, briefly; a long text is not echoed (it may be what was to be kept)."""
    if isinstance(value, str) and len(value) > 40:
        return f"a text of {len(value)} characters"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _tidy(schema: dict[str, Any]) -> dict[str, Any]:
    """Plainer input schemas for models: no pydantic titles, and an optional argument shown as
    its type (`{"type": "integer"}`) rather than `anyOf [integer, null]`; null is still accepted."""
    out: dict[str, Any] = {k: v for k, v in schema.items() if k != "title"}
    props: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        p = {k: v for k, v in prop.items() if k != "title"}
        options = p.get("anyOf")
        if options is not None:
            rest = [o for o in options if o != {"type": "null"}]
            if len(rest) < len(options):
                p.pop("anyOf")
                if len(rest) == 1:
                    p = {**rest[0], **p}
                else:
                    p["anyOf"] = rest
                if p.get("default", 0) is None:
                    p.pop("default")
        props[name] = p
    if props:
        out["properties"] = props
    return out


# -- running ------------------------------------------------------------------------------------


def serve(store: str | None = None, brain: str | None = None) -> None:
    """Serve MCP on stdin/stdout until the client closes stdin. The store opens at the first
    tool call; a bad brain name is refused before serving."""
    from engine.store import check_brain_name

    if brain is not None:
        check_brain_name(brain)
    _log_to_stderr()
    engine = Engine(store, brain)
    server = build_server(engine)
    try:
        anyio.run(server.run_stdio_async)
    finally:
        engine.close()


def _log_to_stderr() -> None:
    """stdout is the protocol: every log line (ours, the SDK's, the engine's) goes to stderr."""
    import structlog

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("nmem-mcp %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    log.setLevel(logging.INFO)  # ours: one line when the store opens
    structlog.configure(
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m adapters.mcp_server", description="NeuralMemory MCP server (stdio)."
    )
    parser.add_argument("--store", metavar="PATH", help="store directory (default: $NMEM_HOME)")
    parser.add_argument("--brain", "-b", metavar="NAME", help="brain (default: current)")
    args = parser.parse_args(argv)
    try:
        serve(args.store, args.brain)
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
