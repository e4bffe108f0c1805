"""NeuralMemory's MCP server over stdio, on the official `mcp` SDK (`MCPServer`).

It serves the original NeuralMemory's default tool tier under its names and argument names
(nmem_remember, nmem_remember_batch, nmem_recall, nmem_context, nmem_todo, nmem_auto,
nmem_session, nmem_eternal, nmem_recap, nmem_situation), its lifecycle tools (nmem_show,
nmem_edit, nmem_pin, nmem_forget, nmem_stats) and ours (nmem_unpin, nmem_restore, nmem_list,
nmem_history, nmem_diff, nmem_export, nmem_semantic); every read takes `at` (the original's
`as_of`).

Arguments are strict: an unknown one is an error listing the valid ones, and an argument of the
original that has no meaning here is refused with the reason, so an agent never believes a
filter or a date was applied when it was not. A hard erase needs a confirmation token.

One Store and one Brain stay open for the server's life; every call reads through the engine,
which catches up from the log first, so writes of other processes (the CLI, another agent) are
seen by the next call. The engine is synchronous, so each call runs in a worker thread, one at
a time. Errors come back as one-line tool errors (`isError`); stdout carries only the
protocol, logs go to stderr.

Run it with `nmem mcp [--store PATH] [--brain NAME]` or `python -m adapters.mcp`.
"""

from __future__ import annotations

import argparse
import functools
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import anyio.to_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.server.mcpserver.tools import Tool
from mcp_types import CallToolResult, InputRequiredResult, ToolAnnotations
from pydantic import ValidationError

from .compat import NOT_SERVED, SHAPE, SHAPING_ARGUMENTS, Shape, shaped
from .confirm import Confirmations

if TYPE_CHECKING:
    from engine import Brain, BrainView, Store

__all__ = ["Engine", "Spec", "build_server", "main", "serve"]

SERVER_NAME = "neuralmemory"
SOURCE = "mcp"
T = TypeVar("T")
Answer = dict[str, Any]

log = logging.getLogger("neuralmemory.mcp")

READ = ToolAnnotations(read_only_hint=True, destructive_hint=False, open_world_hint=False)
WRITE = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False
)
DESTRUCTIVE = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False
)


class Engine:
    """The server's one Store and Brain, opened on first use (so `initialize` answers at once
    and a store problem becomes a tool error, not a dead server), used one call at a time;
    plus what lives as long as the server: pending confirmations, the auto-capture switch."""

    def __init__(
        self,
        store: str | None = None,
        brain: str | None = None,
        remote: str | None = None,
        token: str | None = None,
    ) -> None:
        self.store_path = store
        self.brain_name = brain
        self.remote = remote  # a served brain: reads from a local replica (adapters/remote.py)
        self.token = token
        self.confirmations = Confirmations()
        self.auto_capture = True
        self._store: Store | None = None
        self._brain: Brain | None = None
        self._limiter: anyio.CapacityLimiter | None = None

    def _open(self) -> Brain:
        if self._brain is None and self.remote is not None:
            from adapters.remote import connect

            remote = connect(self.remote, self.token, self.brain_name, self.store_path,
                             source=SOURCE, follow=True)  # fmt: skip
            self._store, self._brain = remote.store, remote
            log.info("serving brain %r of %s (replica %s)", remote.name, self.remote,
                     remote.store.location)  # fmt: skip
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

    @property
    def store(self) -> Store:
        self._open()
        assert self._store is not None
        return self._store

    async def run(self, work: Callable[[Brain], T]) -> T:
        """Run `work(brain)` in a worker thread; engine errors become one-line tool errors."""
        from engine import DatabaseError, InputError, NotFoundError, SensitiveContentError
        from engine import Error as EngineError

        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(1)
        try:
            return await anyio.to_thread.run_sync(lambda: work(self._open()), limiter=self._limiter)
        except SensitiveContentError as exc:
            raise ToolError(
                one_line(f"{exc.found}; nothing was stored: remove the secret and call again")
            ) from exc
        except (InputError, NotFoundError) as exc:
            raise ToolError(one_line(str(exc))) from exc
        except DatabaseError as exc:
            raise ToolError(one_line(f"store error: {exc}")) from exc
        except EngineError as exc:
            raise ToolError(one_line(f"{type(exc).__name__}: {exc}")) from exc
        except OSError as exc:
            raise ToolError(one_line(f"cannot use the store: {exc}")) from exc

    def close(self) -> None:
        """Write what recall reinforced but has not written yet, checkpoint, release the store
        (a remote brain: stop following, close the replica)."""
        brain, store, self._store, self._brain = self._brain, self._store, None, None
        if self.remote is not None and brain is not None:
            brain.close()
        elif store is not None:
            store.close()


def read_view(brain: Brain, at: str | int | None, as_of: str | None = None) -> BrainView:
    """The view a read answers from: now, or `at` (ours) / `as_of` (the original's name)."""
    from engine import InputError

    if at is not None and as_of is not None:
        raise InputError("give at or as_of, not both (they mean the same)")
    when = at if at is not None else as_of
    return brain if when is None else brain.at(when)


def when_of(text: str | None, brain: Brain) -> Any:
    """A datetime from an ISO time or a phrase, read against the brain's clock; or None."""
    if text is None:
        return None
    from engine.clock import from_us
    from engine.when import parse_when

    return from_us(parse_when(text, brain.store.now()))


@dataclass(frozen=True, slots=True)
class Spec:
    """One tool: its function (named as the tool), what it tells a model, its hints, and an
    optional fix-up of the generated input schema."""

    fn: Callable[..., Awaitable[Answer]]
    description: str
    hints: ToolAnnotations
    schema: Callable[[dict[str, Any]], dict[str, Any]] | None = None


INSTRUCTIONS = """\
NeuralMemory is the user's long-term memory across sessions: an associative graph of facts,
decisions, preferences, todos and more, with an exact history of every change.
- At the start of a session call nmem_recap (project context, instructions, open errors) or
  nmem_situation; nmem_context lists the newest memories.
- Before answering anything that may depend on earlier work (decisions, preferences, project
  facts, people), call nmem_recall with a natural-language question.
- When something worth keeping comes up (a decision and its reason, a preference, a fix that
  worked, a todo), call nmem_remember (or nmem_todo) with one self-contained statement that
  names who/what/when; event_at says when it happened. Never store secrets: they are refused.
- nmem_session tracks the current task; nmem_eternal saves project context for nmem_recap.
- Every read takes `at` (or `as_of`) to answer as memory stood at a past moment; nmem_history
  shows how a memory changed and nmem_diff what changed between two moments.
- nmem_forget hides a wrong or obsolete memory (nmem_restore brings it back); hard=true erases
  it for good after a confirmation.
"""


def build_server(engine: Engine) -> MCPServer[Any]:
    """An MCPServer with every nmem tool over `engine`."""
    from importlib.metadata import PackageNotFoundError, version

    from . import brain_tools, memory_tools, session_tools

    built = []
    for spec in (
        *memory_tools.specs(engine),
        *session_tools.specs(engine),
        *brain_tools.specs(engine),
    ):
        tool = Tool.from_function(
            _shaping(spec.fn),
            name=spec.fn.__name__,
            description=spec.description,
            annotations=spec.hints,
        )
        schema = tidy(tool.parameters)
        if spec.schema is not None:
            schema = spec.schema(schema)
        schema["properties"] = {**schema.get("properties", {}), **SHAPING_ARGUMENTS}
        tool.parameters = schema
        built.append(tool)
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


def _shaping(fn: Callable[..., Awaitable[Answer]]) -> Callable[..., Awaitable[Answer]]:
    """The tool, its answer shaped as the call's `compact` / `token_budget` asked."""

    @functools.wraps(fn)
    async def tool(**arguments: Any) -> Answer:
        return shaped(await fn(**arguments), SHAPE.get())

    return tool


class _Server(MCPServer[Any]):
    """MCPServer with strict arguments: unknown ones and the original's unserved ones are
    refused in one line; errors read in one line ('priority: Input should be less than or
    equal to 10 (got 42)'); JSON true/false is no number (pydantic reads it as 1/0)."""

    def __init__(self, *args: Any, tools: list[Tool], **kwargs: Any) -> None:
        super().__init__(*args, tools=tools, **kwargs)
        self._kinds = {tool.name: _kinds(tool.parameters) for tool in tools}

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        kinds = self._kinds.get(name)
        if kinds is None:
            raise ToolError(f"Unknown tool: {name}; the tools are: {', '.join(self._kinds)}")
        arguments = dict(arguments or {})
        shape = _shape(name, arguments)
        for arg, value in arguments.items():
            refused = NOT_SERVED.get(name, {}).get(arg)
            if refused is not None:
                raise ToolError(
                    f"{name}: '{arg}' (an argument of the original NeuralMemory) is not "
                    f"supported here: {refused}"
                )
            if arg not in kinds:
                valid = ", ".join(a for a in kinds if a not in SHAPING_ARGUMENTS)
                raise ToolError(f"{name}: unknown argument '{arg}'; its arguments are: {valid}")
            if isinstance(value, bool) and "boolean" not in kinds[arg]:
                raise ToolError(
                    f"{name}: invalid arguments: {arg}: Input should be a valid {kinds[arg]}, "
                    f"not a boolean (got {value!r})"
                )
        token = SHAPE.set(shape)
        try:
            return await super().call_tool(name, arguments, context)
        except UnexpectedToolError:
            raise
        except ToolError as exc:
            cause = exc.__cause__
            if isinstance(cause, ValidationError):
                raise ToolError(f"{name}: invalid arguments: {explain(cause)}") from cause
            raise ToolError(one_line(str(exc))) from cause
        finally:
            SHAPE.reset(token)


def _shape(name: str, arguments: dict[str, Any]) -> Shape:
    """Take `compact` and `token_budget` out of the arguments (every tool has them)."""
    compact = arguments.pop("compact", None)
    budget = arguments.pop("token_budget", None)
    if compact is not None and not isinstance(compact, bool):
        raise ToolError(f"{name}: invalid arguments: compact: Input should be a valid boolean")
    low, high = SHAPING_ARGUMENTS["token_budget"]["minimum"], 1_000_000
    if budget is not None and (
        isinstance(budget, bool) or not isinstance(budget, int) or not low <= budget <= high
    ):
        raise ToolError(
            f"{name}: invalid arguments: token_budget: Input should be an integer from {low} "
            f"to {high} (got {_short(budget)})"
        )
    return Shape(compact=bool(compact), token_budget=budget)


def _kinds(schema: dict[str, Any]) -> dict[str, str]:
    """Each argument's JSON type(s), e.g. {"priority": "integer", "at": "string or integer"}."""
    out: dict[str, str] = {}
    for arg, prop in schema.get("properties", {}).items():
        options = prop.get("anyOf", [prop])
        out[arg] = " or ".join(str(o.get("type", "value")) for o in options)
    return out


def explain(error: ValidationError) -> str:
    """Pydantic's errors as one line, one clause per argument (a union's alternatives joined)."""
    by_field: dict[str, list[str]] = {}
    got: dict[str, str] = {}
    for err in error.errors(include_url=False):
        field = ".".join(str(part) for part in err["loc"]) if err["loc"] else "arguments"
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


def one_line(text: str) -> str:
    return " ".join(text.split())


def tidy(schema: dict[str, Any]) -> dict[str, Any]:
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


def serve(
    store: str | None = None,
    brain: str | None = None,
    remote: str | None = None,
    token: str | None = None,
) -> None:
    """Serve MCP on stdin/stdout until the client closes stdin. The store opens at the first
    tool call; a bad brain name is refused before serving. `remote`: the URL of `nmem serve`
    whose brain to use (`store`: where its replica lives)."""
    from engine.store import check_brain_name

    if brain is not None:
        check_brain_name(brain)
    _log_to_stderr()
    engine = Engine(store, brain, remote, token)
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
        prog="python -m adapters.mcp", description="NeuralMemory MCP server (stdio)."
    )
    parser.add_argument("--store", metavar="PATH", help="store directory (default: $NMEM_HOME)")
    parser.add_argument("--brain", "-b", metavar="NAME", help="brain (default: current)")
    parser.add_argument("--remote", metavar="URL", help="a brain served by 'nmem serve' at URL")
    parser.add_argument("--token", metavar="TOKEN", help="its bearer token ($NMEM_TOKEN)")
    args = parser.parse_args(argv)
    try:
        serve(args.store, args.brain, args.remote, args.token)
    except KeyboardInterrupt:
        return 130
    return 0
