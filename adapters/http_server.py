"""NeuralMemory over HTTP: REST for every CLI capability, an OpenAPI 3.1 document, a WebSocket
stream of a brain's events, bearer tokens scoped per brain, and request size limits.

Run it with `nmem serve [--host 127.0.0.1] [--port 8765] [--tokens FILE] [--max-body BYTES]`,
or build the ASGI app with `create_app(store_path, tokens=..., max_body_bytes=...)`. One table,
`OPS`, drives both the routing and `GET /openapi.json`.

Rules every route follows:

* The brain is in the path (`/brains/{brain}/...`). Read routes answer 404 for an unknown brain;
  write routes create it on first use, as the CLI does.
* Reads take `at` (a seq number, an ISO time or "3 days ago") to answer as the brain would have.
* Every error is `{"error": "<one line>"}`: 400 bad input or malformed JSON, 401 no or bad token,
  403 a brain or access the token lacks, 404 unknown brain, id or route, 405, 413 body over the
  limit, 503 store trouble, 500 anything else (logged on stderr; never a traceback in a reply).
* Auth: without a token file nothing is checked (and `nmem serve` binds loopback only). With one,
  every route but /health and /openapi.json needs `Authorization: Bearer <token>` (the event
  stream also takes `?token=`). A token names brains (names or globs, "*" for all) and an access:
  "read" may call the GET routes, recall, check and the event stream; "write" may call every route.
* Engine calls run one at a time in a worker thread; the event loop never blocks. One Store stays
  open for the server's life and is closed (pending reinforcement written) on shutdown.

The event stream `GET /brains/{brain}/events?from=SEQ` (WebSocket) sends every event with
seq > SEQ as one JSON text message (`engine.events.to_jsonable`), then each new event as it is
committed: at once for writes made through this server, as soon as the log tells of writes by
other processes (another server on the same PostgreSQL log, the CLI, an MCP server): NOTIFY on
PostgreSQL, within ~50 ms on LMDB. The server folds that news into its open brains at the same
moment, so with several servers on one log each projection stays current by itself.
`adapters.http_follow.Follower` replays the stream into a local store.
"""

from __future__ import annotations

import fnmatch
import hmac
import ipaddress
import json
import logging
import re
import socket
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, TextIO, TypeVar

import anyio
import anyio.to_thread
import msgspec
from starlette.applications import Starlette
from starlette.datastructures import Headers, QueryParams
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from adapters import http_schemas as rq
from adapters.http_limits import BODY_TIMEOUT, Limits, protocol
from adapters.http_schemas import REF
from adapters.request_log import GRANT_KEY, RequestLog, request_logger
from engine import errors, exporters
from engine import events as ev
from engine.api import project_dict
from engine.clock import from_us

if TYPE_CHECKING:
    from engine import Brain, BrainView, MemoryInput, Store

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_MAX_BODY",
    "DEFAULT_PORT",
    "OPS",
    "Token",
    "create_app",
    "is_loopback",
    "load_tokens",
    "openapi_document",
    "route_table",
    "serve",
]

DEFAULT_HOST: Final = "127.0.0.1"
DEFAULT_PORT: Final = 8765
DEFAULT_MAX_BODY: Final = 1 << 20
# the event stream wakes on every commit the server learns of (its own, and the log's news of
# others' through `_follow_log`); this is only its fallback look at the log
POLL_SECONDS: Final = 5.0
FOLLOW_SECONDS: Final = 0.5  # longest wait for the log's news of a commit (also the shutdown delay)
EVENT_BATCH: Final = 512  # events read from the log per worker-thread hop
SOURCE: Final = "http"

T = TypeVar("T")
log = logging.getLogger("neuralmemory.http")


# -- tokens ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Token:
    """A bearer token: which brains (names or globs) it may use, and how ("read" or "write")."""

    secret: str
    brains: tuple[str, ...]
    access: Literal["read", "write"]
    name: str = ""  # what request logs call it (never the secret)

    def allows(self, brain: str) -> bool:
        return any(fnmatch.fnmatchcase(brain, pattern) for pattern in self.brains)


def load_tokens(source: str | Path | Sequence[Mapping[str, Any]]) -> list[Token]:
    """Tokens from a file `{"tokens": [{"token", "brains", "access", "name"?}]}` or from its
    list (`name`, for the request log, defaults to "token-N", N its place in the list)."""
    where = "tokens"
    if isinstance(source, str | Path):
        where = f"token file {source}"
        try:
            data = json.loads(Path(source).expanduser().read_text(encoding="utf-8"))
        except OSError as exc:
            raise errors.InputError(f"cannot read {where}: {exc.strerror or exc}") from None
        except ValueError as exc:
            raise errors.InputError(f"{where} is not valid JSON: {exc}") from None
        if not isinstance(data, dict) or not isinstance(data.get("tokens"), list):
            raise errors.InputError(f'{where}: expected {{"tokens": [...]}}')
        items: Sequence[Any] = data["tokens"]
    else:
        items = source
    out: list[Token] = []
    for number, item in enumerate(items, start=1):
        what = f"{where}: token {number}"
        if not isinstance(item, Mapping):
            raise errors.InputError(f"{what} is not an object")
        secret, brains, access = item.get("token"), item.get("brains"), item.get("access")
        name = item.get("name", f"token-{number}")
        if not isinstance(secret, str) or len(secret) < 8 or secret != secret.strip():
            raise errors.InputError(f"{what}: 'token' must be a string of 8 or more characters")
        if (
            not isinstance(brains, list)
            or not brains
            or not all(isinstance(b, str) and b for b in brains)
        ):
            raise errors.InputError(f"{what}: 'brains' must be a non-empty list of brain names")
        if access not in ("read", "write"):
            raise errors.InputError(f"{what}: 'access' must be 'read' or 'write'")
        if not isinstance(name, str) or not 0 < len(name) <= 64:
            raise errors.InputError(f"{what}: 'name' must be a string of 1-64 characters")
        if any(hmac.compare_digest(secret, t.secret) for t in out):
            raise errors.InputError(f"{what}: the same token is listed twice")
        out.append(Token(secret, tuple(brains), access, name))
    if not out:
        raise errors.InputError(f"{where}: no tokens (an empty list would lock everyone out)")
    return out


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


# -- the route table -------------------------------------------------------------------------------

Access = Literal["public", "any", "read", "write"]
RAW: Final = bytes  # an op's `body` when it takes the file's bytes (an import), not JSON


@dataclass(frozen=True, slots=True)
class Op:
    """One route: method and path, who may call it, its inputs, and `run`, the engine work done
    in the worker thread (`inline` work runs on the event loop: no engine involved).

    `query` is the Struct its query parameters decode into; `body` the type its JSON body
    decodes into (`RAW`: the bytes as sent); both are also its OpenAPI schema."""

    id: str
    method: str
    path: str
    summary: str
    access: Access
    run: Callable[[Call], Any] | None
    query: type[msgspec.Struct] | None = None
    body: Any = None
    body_required: bool = True
    body_doc: str = ""
    status: int = 200
    returns: str = "the result"
    schema: Mapping[str, Any] = field(default_factory=lambda: {"type": "object"})
    tag: str = "brains"
    inline: bool = False
    websocket: bool = False
    media: str = "application/json"
    scope: str | None = None  # the body field naming the brain, for a route without one in the path


@dataclass(slots=True)
class Call:
    """What one request hands its `run`: validated arguments and the engine."""

    server: Server
    op: Op
    path: dict[str, str]
    args: dict[str, Any]
    body: Any = None
    grant: Token | None = None

    @property
    def store(self) -> Store:
        return self.server.store

    def brain(self) -> Brain:
        """The brain of the path; write routes create it on first use."""
        return self.store.brain(self.path["brain"], create=self.op.access == "write")

    def view(self) -> BrainView:
        brain = self.brain()
        at = self.args.get("at")
        return brain if at is None else brain.at(at)

    def moment(self, name: str) -> Any:
        text = self.args.get(name)
        return None if text is None else self.moment_of(text)

    def moment_of(self, text: str) -> datetime:
        """A datetime from an ISO time or a phrase, read against the store's clock."""
        from engine.when import parse_when

        return from_us(parse_when(text, self.store.now()))


@dataclass(frozen=True, slots=True)
class Stream:
    """A reply streamed in chunks: the first already made (so an error before it is a proper
    error reply), then the rest of `more`, each made in the worker thread."""

    first: bytes
    more: Iterator[bytes]
    media_type: str


# -- what each route does (run in the worker thread) -----------------------------------------------


def _health(c: Call) -> Any:
    return {"status": "ok", "version": c.server.version}


def _openapi(c: Call) -> Any:
    return c.server.openapi


def _brains(c: Call) -> Any:
    heads = c.store.brain_heads()
    current = c.store.current
    return {
        "brains": [
            {"name": name, "id": brain_id, "seq": seq, "current": name == current}
            for name, (brain_id, seq) in sorted(heads.items())
            if c.grant is None or c.grant.allows(name)
        ]
    }


def _create_brain(c: Call) -> Any:
    brain = c.store.create_brain(c.args["name"])
    return {"created": brain.name, "id": brain.id}


def _delete_brain(c: Call) -> Any:
    c.store.delete_brain(c.path["brain"])
    return {"deleted": c.path["brain"]}


def _config(c: Call) -> Any:
    return msgspec.structs.asdict(c.brain().config)


def _configure(c: Call) -> Any:
    return msgspec.structs.asdict(c.brain().configure(**c.body))


def _memory_input(c: Call, item: dict[str, Any]) -> MemoryInput:
    from engine import MemoryInput

    moment = None if item.get("time") is None else c.moment_of(item["time"])
    expiry: datetime | Literal["never"] | None = None
    if item.get("expires_at") is not None:
        expiry = "never" if item["expires_at"] == "never" else c.moment_of(item["expires_at"])
    return MemoryInput(
        text=item["text"],
        event_time=moment,
        memory_type=item.get("type"),
        priority=item["priority"],
        tags=item["tags"],
        expires_in_days=item.get("expires_days"),
        project=item.get("project"),
        source=item.get("source") or SOURCE,
        meta=item.get("meta") or {},
        cid=item.get("cid"),
        sensitive=item.get("sensitive"),
        expires_at=expiry,
    )


def _remember(c: Call) -> Any:
    items = c.body if isinstance(c.body, list) else [c.body]
    brain = c.brain()
    done = brain.remember_many([_memory_input(c, item) for item in items])
    out = [{**d.to_dict(), "brain": brain.name} for d in done]
    return out if isinstance(c.body, list) else out[0]


def _memories(c: Call) -> Any:
    a, view = c.args, c.view()
    found = view.memories(
        types=a.get("type"),
        project=a.get("project"),
        min_priority=a["min_priority"],
        limit=a["limit"],
        status=a["status"],
        since=a.get("since"),
        until=a.get("until"),
    )
    return _memory_list(c, view, found)


def _memory_list(c: Call, view: Any, found: list[Any]) -> dict[str, Any]:
    """Memories, and which times the read used: `at`/`seq` (recorded time), `since`/`until`
    (event time)."""
    a = c.args
    window = view.event_window(a.get("since"), a.get("until")) or (None, None)
    return {
        "memories": [m.to_dict() for m in found], "count": len(found),
        "at": view.time.isoformat(), "seq": view.seq,
        "since": None if window[0] is None else from_us(window[0]).isoformat(),
        "until": None if window[1] is None else from_us(window[1]).isoformat(),
    }  # fmt: skip


def _memory(c: Call) -> Any:
    return c.view().get(c.path["id"]).to_dict()


EDITABLE: Final = ("text", "type", "priority", "tags", "expires_days", "project")


def _edit(c: Call) -> Any:
    a = c.args
    if not any(name in a for name in EDITABLE):
        raise errors.InputError(f"nothing to change: give {', '.join(EDITABLE)}")
    project: str | bool | None = (a["project"] or None) if "project" in a else False
    return (
        c.brain()
        .edit(
            c.path["id"],
            a.get("text"),
            memory_type=a.get("type"),
            priority=a.get("priority"),
            tags=a.get("tags"),
            expires_in_days=a.get("expires_days"),
            project=project,
        )
        .to_dict()
    )


def _pin(c: Call) -> Any:
    return c.brain().pin(c.path["id"]).to_dict()


def _unpin(c: Call) -> Any:
    return c.brain().unpin(c.path["id"]).to_dict()


def _restore(c: Call) -> Any:
    return c.brain().restore(c.path["id"]).to_dict()


def _forget(c: Call) -> Any:
    return c.brain().forget(c.path["id"], reason=c.args["reason"]).to_dict()


def _erase(c: Call) -> Any:
    return c.brain().erase(c.path["id"]).to_dict()


def _recall(c: Call) -> Any:
    a = c.args
    brain = c.brain()
    options = {
        "depth": a.get("depth"),
        "limit": a["limit"],
        "max_tokens": a.get("max_tokens"),
        "types": a.get("types"),
        "tags": a.get("tags"),
        "project": a.get("project"),
        "include_expired": a["include_expired"],
        "min_priority": a["min_priority"],
        "since": a.get("since"),
        "until": a.get("until"),
    }
    if a.get("at") is not None:  # a past moment: nothing to reinforce
        result = brain.at(a["at"]).recall(a["query"], **options)
    else:  # a read token may not write, so its recalls reinforce nothing
        reinforce = c.grant is None or c.grant.access == "write"
        result = brain.recall(a["query"], reinforce=reinforce, **options)
    return {**result.to_dict(), "brain": brain.name}


def _context(c: Call) -> Any:
    a = c.args
    view = c.view()
    found = view.context(limit=a["limit"], fresh_only=a["fresh_only"],
                         since=a.get("since"), until=a.get("until"))  # fmt: skip
    return _memory_list(c, view, found)


def _history(c: Call) -> Any:
    a = c.args
    entries = c.view().history(
        a.get("memory_id"),
        types=a.get("types"),
        since=c.moment("since"),
        until=c.moment("until"),
        limit=a.get("limit"),
        fold=not a["all"],
    )
    return {
        "brain": c.path["brain"],
        "memory_id": a.get("memory_id"),
        "events": [e.to_dict() for e in entries],
    }


def _stats(c: Call) -> Any:
    return c.view().stats()


def _diff(c: Call) -> Any:
    brain = c.brain()
    since = brain.at(c.args["from"])
    until = brain if c.args.get("to") in (None, "now") else brain.at(c.args["to"])
    return until.diff(since, top=c.args["top"])


def _semantic(c: Call) -> Any:
    return c.view().semantic()


def _semantic_enable(c: Call) -> Any:
    from engine.semantic.registry import DEFAULT_MODEL

    return c.brain().semantic_enable(c.args.get("model") or DEFAULT_MODEL)


def _semantic_rebuild(c: Call) -> Any:
    return c.brain().semantic_rebuild()


def _semantic_disable(c: Call) -> Any:
    return c.brain().semantic_disable()


def _decay(c: Call) -> Any:
    return c.brain().decay()


def _cleanup(c: Call) -> Any:
    dry_run = c.args["dry_run"]
    return {"expired": c.brain().cleanup(dry_run=dry_run), "dry_run": dry_run}


def _projects(c: Call) -> Any:
    brain = c.brain()
    now = c.store.now()
    out = []
    for p in brain.projects():
        if c.args["active"] and not (p.start <= now and (p.end is None or p.end > now)):
            continue
        out.append(project_dict(p, len(brain.memories(project=p.name, limit=10**9))))
    return {"projects": out}


def _project(c: Call) -> Any:
    brain = c.brain()
    name = c.path["name"]
    memories = brain.memories(project=name, limit=10**9)  # NotFoundError for an unknown name
    project = next(p for p in brain.projects() if p.name.lower() == name.strip().lower())
    return {
        **project_dict(project, len(memories)),
        "recent": [m.to_dict() for m in memories[:5]],
    }


def _create_project(c: Call) -> Any:
    a = c.args
    project = c.brain().create_project(
        a["name"],
        description=a["description"],
        duration_days=a.get("duration_days"),
        tags=a["tags"],
        priority=a["priority"],
    )
    return project_dict(project)


def _extend_project(c: Call) -> Any:
    return project_dict(c.brain().extend_project(c.path["name"], c.args["days"]))


def _delete_project(c: Call) -> Any:
    return {"deleted": c.brain().delete_project(c.path["name"]).name}


def _export(c: Call) -> Any:
    from engine.exporters.base import FileOptions

    name = c.args["format"]
    spec = exporters.get(name)
    exclude = c.args["exclude_sensitive"]
    if exclude and not spec.snapshot:
        raise errors.InputError("exclude_sensitive applies to snapshots (format=json, msgpack)")
    options = FileOptions(exclude_sensitive=exclude)
    chunks = exporters.file_format(name).chunks(c.view(), options, {})
    return Stream(next(chunks, b""), chunks, spec.media_type)


def _import(c: Call) -> Any:
    from engine.importing import load_export

    export = load_export(c.body)
    brain = c.store.brain_to_fill(c.path["brain"])  # a refused import creates no brain
    sensitive = c.args.get("sensitive")
    if export.kind == "history":
        assert export.history is not None
        result = brain.import_history(export.history, sensitive=sensitive)
    else:
        assert export.snapshot is not None
        result = brain.import_snapshot(export.snapshot, sensitive=sensitive)
    return {"kind": export.kind, "encoding": export.encoding, **result}


def _check(c: Call) -> Any:
    from engine.sensitive import scan

    text = c.args["text"]
    findings = scan(text)
    return {
        "sensitive": bool(findings),
        "findings": [
            {"kind": f.kind, "pattern": f.pattern, "severity": f.severity.name.lower(),
             "start": f.start, "end": f.end, "masked": f.masked(text)}
            for f in findings
        ],
    }  # fmt: skip


# -- the table itself ------------------------------------------------------------------------------

MEMORY = {"$ref": REF + "Memory"}
CHANGED = {"$ref": REF + "Changed"}
MEMORY_LIST = {
    "type": "object",
    "properties": {"memories": {"type": "array", "items": MEMORY}, "count": {"type": "integer"}},
}
PROJECT = {"$ref": REF + "Project"}

M = "/brains/{brain}/memories/{id}"
SEMANTIC = "/brains/{brain}/semantic"
OPS: tuple[Op, ...] = (
    Op("health", "GET", "/health", "Is the server up", "public", _health, inline=True, tag="server",
       returns="status and version"),
    Op("openapi", "GET", "/openapi.json", "This OpenAPI document", "public", _openapi,
       inline=True, tag="server", returns="the OpenAPI 3.1 document"),
    Op("check", "POST", "/check", "Check a text for sensitive content", "any", _check,
       body=rq.CheckRequest, tag="server",
       returns="findings (offsets and masked values, never the secret)"),
    Op("list_brains", "GET", "/brains", "The brains this token may use", "any", _brains,
       returns="brains with their id and last seq"),
    Op("create_brain", "POST", "/brains", "Create a brain", "write", _create_brain,
       body=rq.NewBrain, status=201, returns="the new brain's name and id", scope="name"),
    Op("delete_brain", "DELETE", "/brains/{brain}", "Delete a brain and its whole history",
       "write", _delete_brain, returns="the deleted brain's name"),
    Op("get_config", "GET", "/brains/{brain}/config", "The brain's settings", "read", _config,
       returns="BrainConfig"),
    Op("configure", "PATCH", "/brains/{brain}/config", "Change settings (recorded as an event)",
       "write", _configure, body=rq.config_change(), body_doc="settings to change, e.g. "
       '{"sensitive_policy": "redact"}; each has the range shown', returns="the new BrainConfig"),
    Op("remember", "POST", "/brains/{brain}/memories", "Remember one memory or a list (one "
       "transaction)", "write", _remember, body=rq.Memories, status=201,
       returns="a Remembered object, or a list of them for a list",
       schema={"oneOf": [{"$ref": REF + "Remembered"},
                         {"type": "array", "items": {"$ref": REF + "Remembered"}}]}),
    Op("list_memories", "GET", "/brains/{brain}/memories", "List memories, highest priority "
       "first", "read", _memories, query=rq.MemoriesQuery, schema=MEMORY_LIST),
    Op("get_memory", "GET", M, "One memory in full (by id or unique prefix)", "read", _memory,
       query=rq.AtQuery, schema=MEMORY),
    Op("edit_memory", "PATCH", M, "Change a memory's text, type, priority, tags, expiry or "
       "project", "write", _edit, body=rq.Edit, schema=CHANGED),
    Op("erase_memory", "DELETE", M, "Erase a memory for good (its text redacted from the log)",
       "write", _erase, schema=CHANGED),
    Op("pin_memory", "POST", M + "/pin", "Pin: never decays or expires", "write", _pin,
       schema=CHANGED),
    Op("unpin_memory", "POST", M + "/unpin", "Unpin", "write", _unpin, schema=CHANGED),
    Op("forget_memory", "POST", M + "/forget", "Forget (hidden, restorable)", "write", _forget,
       body=rq.ForgetRequest, body_required=False, schema=CHANGED),
    Op("restore_memory", "POST", M + "/restore", "Bring back a forgotten memory", "write",
       _restore, schema=CHANGED),
    Op("recall", "POST", "/brains/{brain}/recall", "Recall the memories that answer a query "
       "(as of now, reinforcing what led to them unless the token is read-only, or `at` a past "
       "moment)", "read", _recall, body=rq.RecallRequest,
       schema={"$ref": REF + "RecallResult"}),
    Op("context", "GET", "/brains/{brain}/context", "The newest memories: what an agent should "
       "know when a session starts", "read", _context, query=rq.ContextQuery,
       schema=MEMORY_LIST),
    Op("history", "GET", "/brains/{brain}/history", "Every event of one memory or of the brain "
       "(each run of reinforcements folded into one entry unless `all`)", "read", _history,
       query=rq.HistoryQuery, returns="history entries, oldest first"),
    Op("stats", "GET", "/brains/{brain}/stats", "Counts by type, priority, freshness; "
       "expired, forgotten, pinned; last decay sweep", "read", _stats, query=rq.AtQuery),
    Op("diff", "GET", "/brains/{brain}/diff", "What changed between two moments (`from`, `to`: "
       "a seq, an ISO time or a phrase)", "read", _diff, query=rq.DiffQuery),
    Op("semantic_status", "GET", SEMANTIC, "The semantic layer: its model, memories with a "
       "vector, whether this server can load the model", "read", _semantic, query=rq.AtQuery),
    Op("semantic_enable", "POST", SEMANTIC + "/enable", "Turn the semantic layer on (an event) "
       "and embed every memory without a vector (needs the [semantic] extra on the server)",
       "write", _semantic_enable, body=rq.SemanticEnable, body_required=False),
    Op("semantic_rebuild", "POST", SEMANTIC + "/rebuild", "Embed every memory again with the "
       "brain's model", "write", _semantic_rebuild),
    Op("semantic_disable", "POST", SEMANTIC + "/disable", "Turn the semantic layer off from "
       "now on (past views keep it)", "write", _semantic_disable),
    Op("decay", "POST", "/brains/{brain}/decay", "Sweep decay now", "write", _decay,
       returns="the sweep's seq, pruned links, memories touched"),
    Op("cleanup", "POST", "/brains/{brain}/cleanup", "Record the memories past their expiry as "
       "expired", "write", _cleanup, body=rq.CleanupRequest, body_required=False),
    Op("list_projects", "GET", "/brains/{brain}/projects", "Projects and their memory counts",
       "read", _projects, query=rq.ProjectsQuery),
    Op("create_project", "POST", "/brains/{brain}/projects", "Create a project", "write",
       _create_project, body=rq.NewProject, status=201, schema=PROJECT),
    Op("get_project", "GET", "/brains/{brain}/projects/{name}", "A project, its memory count and "
       "newest memories", "read", _project, schema=PROJECT),
    Op("extend_project", "POST", "/brains/{brain}/projects/{name}/extend", "Move a project's end "
       "later", "write", _extend_project, body=rq.ProjectExtension, schema=PROJECT),
    Op("delete_project", "DELETE", "/brains/{brain}/projects/{name}", "Delete a project (its "
       "memories stay)", "write", _delete_project),
    Op("export", "GET", "/brains/{brain}/export", "Export a snapshot, the whole history or the "
       "graph (streamed), as of now or `at`; formats: " + "; ".join(
           f"{n}: {exporters.FORMATS[n].help}" for n in exporters.FILE_FORMATS),
       "read", _export, query=rq.ExportQuery,
       returns="the export file's bytes: a snapshot object (json, msgpack), a header and one "
       "record per event (history: JSON lines; history-msgpack), or GraphML",
       media=", ".join(dict.fromkeys(exporters.FORMATS[n].media_type
                                     for n in exporters.FILE_FORMATS))),
    Op("import", "POST", "/brains/{brain}/import", "Import an export (snapshot or history, "
       "JSON, JSONL or msgpack; or the original NeuralMemory's snapshot)", "write", _import,
       query=rq.ImportQuery, body=RAW, body_doc="the export file's bytes"),
    Op("events", "GET", "/brains/{brain}/events", "WebSocket: every event with seq > from, then "
       "each new event as it is committed", "read", None, query=rq.EventsQuery,
       websocket=True, status=101, tag="events",
       returns="switching to the WebSocket protocol; each message is one event as JSON "
       "({seq, t, cid, v, type, body})"),
)  # fmt: skip

ERRORS: Final = {
    "400": "bad input or malformed JSON",
    "401": "no token or an unknown one",
    "403": "the token lacks this brain or write access",
    "404": "unknown brain, memory or project",
    "408": "the request body did not arrive in time",
    "413": "request body over the limit",
    "503": "the store cannot serve now",
}
_STR, _INT, _NUM = {"type": "string"}, {"type": "integer"}, {"type": "number"}
_NULL_STR = {"type": ["string", "null"]}
SCHEMAS: Final[dict[str, Any]] = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": _STR}},
    "Memory": {
        "type": "object",
        "properties": {
            "id": _STR, "text": _STR, "type": _STR, "priority": _INT, "status": _STR,
            "event_time": _STR, "recorded_at": _STR, "expires_at": _NULL_STR,
            "tags": {"type": "array", "items": _STR}, "project": _NULL_STR, "source": _STR,
            "salience": _NUM, "freshness": _STR, "age_days": _NUM, "seq": _INT,
            "meta": {"type": "object"},
        },
    },
    "Remembered": {
        "type": "object",
        "properties": {
            "id": _STR, "seq": _INT, "memory_type": _STR, "priority": _INT,
            "expires_at": _NULL_STR, "neurons_created": _INT, "neurons_linked": _INT,
            "synapses_created": _INT, "duplicate": {"type": "boolean"}, "brain": _STR,
        },
    },
    "Changed": {
        "type": "object",
        "properties": {"id": _STR, "seq": _INT, "event": _STR, "duplicate": {"type": "boolean"}},
    },
    "RecallResult": {
        "type": "object",
        "properties": {
            "query": _STR, "context": _STR, "confidence": _NUM, "depth": _INT, "intent": _STR,
            "memories": {"type": "array", "items": {"$ref": REF + "Memory"}},
            "anchors": {"type": "array", "items": _STR}, "neurons_activated": _INT,
            "latency_ms": _NUM, "at": _STR, "seq": _INT, "brain": _STR,
            "freshness_warnings": {"type": "array", "items": _STR},
        },
    },
    "Project": {
        "type": "object",
        "properties": {
            "id": _STR, "name": _STR, "description": _STR, "start": _STR, "end": _NULL_STR,
            "tags": {"type": "array", "items": _STR}, "priority": _NUM, "memories": _INT,
        },
    },
}  # fmt: skip


def _operation(
    op: Op, types: Mapping[Any, dict[str, Any]], parts: dict[str, Any]
) -> dict[str, Any]:
    """The OpenAPI operation of `op`; `types` maps each request type to its JSON Schema,
    `parts` the components (query Structs are expanded into parameters from there)."""
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": types[rq.PATH[name]]}
        for name in re.findall(r"{(\w+)}", op.path)
    ]
    for param in params:
        param["description"] = param["schema"].get("description", "")
    if op.query is not None:
        struct = parts[op.query.__name__]
        required = set(struct.get("required", ()))
        for name, schema in struct["properties"].items():
            param = {"name": name, "in": "query", "required": name in required, "schema": schema,
                     "description": schema.get("description", "")}  # fmt: skip
            if schema.get("type") == "array":
                param["explode"] = True
            params.append(param)
    content = {media.strip(): {"schema": dict(op.schema)} for media in op.media.split(",")}
    responses: dict[str, Any] = {str(op.status): {"description": op.returns}}
    if not op.websocket:
        responses[str(op.status)]["content"] = content
    out: dict[str, Any] = {
        "operationId": op.id,
        "summary": op.summary,
        "tags": [op.tag],
        "parameters": params,
        "responses": responses,
        "security": [] if op.access == "public" else [{"bearer": []}],
        "x-access": op.access,
    }
    if op.websocket:
        out["description"] = (
            "A WebSocket endpoint (upgrade with GET). The token goes in the Authorization "
            "header or in `token`. Reconnect with from=<last seq received>."
        )
    for code in ERRORS:
        if op.access == "public" and code in ("401", "403"):
            continue
        responses[code] = {"$ref": f"#/components/responses/E{code}"}
    if op.body is not None:
        if op.body is RAW:
            raw = {"type": "string", "contentMediaType": "application/octet-stream"}
            media: dict[str, Any] = {"application/octet-stream": {"schema": raw}}
        else:
            media = {"application/json": {"schema": types[op.body]}}
        out["requestBody"] = {"required": op.body_required, "content": media}
        if op.body_doc:
            out["requestBody"]["description"] = op.body_doc
    return out


def route_table() -> tuple[Op, ...]:
    """Every route: the REST API's `OPS` and the dashboard's (adapters/dashboard)."""
    from adapters.dashboard.routes import OPS as DASHBOARD
    from adapters.metrics import OPS as METRICS

    return OPS + DASHBOARD + METRICS


def openapi_document(version: str = "0.0.0") -> dict[str, Any]:
    """The OpenAPI 3.1 document of the route table: every route, its inputs (with the
    constraints the server enforces: the request types themselves), outputs and errors."""
    ops = route_table()
    kinds = list(dict.fromkeys([
        *rq.PATH.values(),
        *(op.query for op in ops if op.query is not None),
        *(op.body for op in ops if op.body is not None and op.body is not RAW),
    ]))  # fmt: skip
    schemas, parts = rq.schema_of(kinds)
    types = dict(zip(kinds, schemas, strict=True))
    paths: dict[str, dict[str, Any]] = {}
    for op in ops:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, types, parts)
    for op in ops:  # query Structs live on as parameters, not as components
        if op.query is not None:
            parts.pop(op.query.__name__, None)
    error = {"application/json": {"schema": {"$ref": REF + "Error"}}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "NeuralMemory",
            "version": version,
            "description": (__doc__ or "").split("\n\n")[0],
        },
        "paths": paths,
        "components": {
            "schemas": {**parts, **SCHEMAS},
            "responses": {
                f"E{code}": {"description": text, "content": error} for code, text in ERRORS.items()
            },
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


# -- requests --------------------------------------------------------------------------------------


class HTTPError(Exception):
    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= 2000 else line[:1997] + "..."


def reply(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(msgspec.json.encode(data), status, headers, media_type="application/json")


def error_reply(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    return reply({"error": _one_line(message) or "error"}, status, headers)


def _failure(exc: BaseException) -> HTTPError:
    """The reply for an exception: engine errors by kind, anything else a logged 500."""
    if isinstance(exc, HTTPError):
        return exc
    if isinstance(exc, errors.InputError):
        return HTTPError(400, str(exc))
    if isinstance(exc, errors.NotFoundError):
        return HTTPError(404, str(exc))
    if isinstance(exc, errors.DatabaseError | errors.InterfaceError):
        return HTTPError(503, f"store error: {exc}")
    if isinstance(exc, OSError):
        return HTTPError(503, f"cannot use the store: {exc}")
    log.error("internal error", exc_info=exc)
    return HTTPError(500, f"internal error ({type(exc).__name__}); see the server's log")


async def read_body(request: Request, limit: int, timeout: float = BODY_TIMEOUT) -> bytes:
    """The request body, refused (413) once it is over `limit` bytes: by its Content-Length,
    or while it streams in; and (408) when it has not all come within `timeout` seconds."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise HTTPError(400, "Content-Length is not a number") from None
        if size > limit:
            await _drain(request, size)
            raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    with anyio.move_on_after(timeout) as waited:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                await _drain(request, size)
                raise _too_large(limit)
            chunks.append(chunk)
    if waited.cancelled_caught:
        raise HTTPError(408, f"the request body did not arrive within {timeout:g} s",
                        {"Connection": "close"})  # fmt: skip
    return b"".join(chunks)


DRAIN_BYTES: Final = 16 << 20  # read and drop up to this much of a refused body
DRAIN_SECONDS: Final = 2.0


async def _drain(request: Request, declared: int) -> None:
    """Read and drop the rest of a refused body, when it is not huge, before the 413: a
    server that closes while the client is still sending makes the client's kernel see a reset
    instead of the reply (RFC 9112 §9.6). A huge body is cut at once."""
    if declared > DRAIN_BYTES:
        return
    read = 0
    with anyio.move_on_after(DRAIN_SECONDS), suppress(ClientDisconnect):
        async for chunk in request.stream():
            read += len(chunk)
            if read > DRAIN_BYTES:
                break


def _too_large(limit: int) -> HTTPError:
    return HTTPError(
        413,
        f"request body over the limit of {limit} bytes (nmem serve --max-body)",
        {"Connection": "close"},
    )


def parse_body(op: Op, raw: bytes) -> Any:
    """The body as the route's `run` sees it: the bytes (`RAW`), or the JSON decoded into
    the op's type as plain data."""
    if op.body is RAW:
        if not raw.strip():
            raise HTTPError(400, "the request body is empty: send the export file")
        return raw
    if not raw.strip():
        if op.body_required:
            raise HTTPError(400, "a JSON body is required")
        raw = b"{}"
    return rq.decode_body(op.body, raw)


def parse_query(op: Op, query: QueryParams) -> dict[str, Any]:
    if op.query is None:
        if query:
            raise HTTPError(400, f"unknown query parameter {next(iter(query))!r}: this route "
                            "takes none")  # fmt: skip
        return {}
    return rq.decode_query(op.query, {name: query.getlist(name) for name in query})


def _bearer(headers: Headers) -> str | None:
    value = headers.get("authorization")
    if value is None:
        return None
    scheme, _, secret = value.partition(" ")
    return secret.strip() if scheme.lower() == "bearer" else ""


# -- the server ------------------------------------------------------------------------------------


class Server:
    """The app's state: the store, the token list, the worker-thread limiter, the write signal."""

    def __init__(
        self,
        store_path: str | Path | None,
        tokens: list[Token] | None,
        max_body: int,
        body_timeout: float = BODY_TIMEOUT,
    ) -> None:
        from importlib.metadata import PackageNotFoundError, version

        from adapters.metrics import Metrics
        from engine import Store

        try:
            self.version = version("neuralmemory")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            self.version = "0.0.0"
        if max_body < 1:
            raise errors.InputError(f"the body limit must be positive, got {max_body}")
        self.tokens = tokens
        self.max_body = max_body
        self.body_timeout = body_timeout
        self.openapi = openapi_document(self.version)
        self.metrics = Metrics()
        self.store = Store(store_path)
        self._limiter: anyio.CapacityLimiter | None = None
        self._written: anyio.Event | None = None
        self.commits = 0  # how many times `written` was called: a stream's "seen up to"
        self._closed = False

    # -- engine calls

    async def run(self, work: Callable[[], T]) -> T:
        """`work()` in the worker thread: engine calls run one at a time, off the event loop."""
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(1)
        return await anyio.to_thread.run_sync(work, limiter=self._limiter)

    def written(self) -> None:
        """Wake the event streams: something was committed through this server."""
        self.commits += 1
        if self._written is not None:
            self._written.set()
            self._written = None

    async def wait_for_write(self, timeout: float, seen: int) -> None:
        """Until a commit after the `seen`-th (`commits` when the caller last read the log):
        at once if one came meanwhile, so a commit between that read and this wait is not
        missed (the stream would hear of it only at its next look, POLL_SECONDS later)."""
        if self.commits != seen:
            return
        if self._written is None:
            self._written = anyio.Event()
        with anyio.move_on_after(timeout):
            await self._written.wait()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.store.close()

    @asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._follow_log)
                yield
                tg.cancel_scope.cancel()
        finally:
            await self.run(self.close)

    async def _follow_log(self) -> None:
        """Fold what anyone commits to the store (another `nmem serve` on the same PostgreSQL
        log, the CLI, an MCP server) into this server's open brains as soon as the log tells
        of it (NOTIFY; LMDB: its transaction id), and wake the event streams: with several
        servers on one log, each projection stays current without waiting for a read."""
        while True:
            try:
                if await anyio.to_thread.run_sync(self.store.log.wait_for_events, FOLLOW_SECONDS):
                    await self.run(self.store.refresh)
                    self.written()
            except errors.Error as exc:  # the store is unreachable: reads will say so; retry
                log.warning("following the log failed: %s", _one_line(str(exc)))
                await anyio.sleep(FOLLOW_SECONDS)

    # -- auth

    def authenticate(self, secret: str | None) -> Token | None:
        """The token presented (None when the server has no tokens); 401 if none matches."""
        if self.tokens is None:
            return None
        if not secret:
            raise HTTPError(401, "a bearer token is required (Authorization: Bearer <token>)",
                            {"WWW-Authenticate": "Bearer"})  # fmt: skip
        found = None
        for token in self.tokens:  # look at every token: the time taken tells nothing
            if hmac.compare_digest(secret.encode(), token.secret.encode()):
                found = token
        if found is None:
            invalid = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
            raise HTTPError(401, "unknown token", invalid)
        return found

    @staticmethod
    def authorize(grant: Token | None, op: Op, brain: str | None) -> None:
        if grant is None:
            return
        if op.access == "write" and grant.access != "write":
            raise HTTPError(403, f"this token is read-only: {op.method} {op.path} writes")
        if brain is not None and not grant.allows(brain):
            raise HTTPError(403, f"this token does not give access to brain {brain!r}")

    # -- endpoints

    def endpoint(self, ops: Mapping[str, Op]) -> Callable[[Request], Any]:
        """The endpoint of one path: each method's op (HEAD answers as GET does)."""

        async def handle(request: Request) -> Response:
            op = ops[request.method if request.method in ops else "GET"]
            try:
                return await self._handle(op, request)
            except ClientDisconnect:
                return Response(status_code=400)
            except Exception as exc:
                failure = _failure(exc)
                return error_reply(failure.status, failure.message, failure.headers)

        return handle

    async def _handle(self, op: Op, request: Request) -> Response:
        grant = None
        if op.access != "public":
            grant = request.scope[GRANT_KEY] = self.authenticate(_bearer(request.headers))
            self.authorize(grant, op, request.path_params.get("brain"))
        path = rq.decode_path(request.path_params)
        args = parse_query(op, request.query_params)
        body: Any = None
        if op.body is not None:
            body = parse_body(op, await read_body(request, self.max_body, self.body_timeout))
            if isinstance(body, dict):
                args.update(body)
        elif (length := request.headers.get("content-length", "0").strip()) != "0" and (
            not length.isdigit() or int(length) > self.max_body
        ):
            raise _too_large(self.max_body)
        if op.scope is not None:
            self.authorize(grant, op, args[op.scope])
        assert op.run is not None
        call = Call(self, op, path, args, body, grant)
        work = op.run
        result = work(call) if op.inline else await self.run(lambda: work(call))
        if op.access == "write":
            self.written()
        if isinstance(result, Stream):
            return StreamingResponse(self._chunks(result), media_type=result.media_type)
        if isinstance(result, Response):  # a dashboard file
            return result
        return reply(result, op.status)

    async def _chunks(self, stream: Stream) -> AsyncIterator[bytes]:
        chunk: bytes | None = stream.first
        try:
            while chunk is not None:
                yield chunk
                chunk = await self.run(partial(next, stream.more, None))
        except Exception as exc:  # the status is sent: end the stream short (import refuses it)
            log.warning("export stream ended early: %s", _one_line(str(exc)))

    # -- the event stream

    def events_endpoint(self, op: Op) -> Callable[[WebSocket], Any]:
        async def handle(websocket: WebSocket) -> None:
            try:
                grant = None
                if self.tokens is not None:
                    secret = _bearer(websocket.headers)
                    if secret is None:
                        secret = websocket.query_params.get("token")
                    grant = websocket.scope[GRANT_KEY] = self.authenticate(secret)
                brain = str(websocket.path_params["brain"])
                self.authorize(grant, op, brain)
                args = parse_query(op, websocket.query_params)
                after = args["from"]
                source = await self.run(lambda: self.store.brain(brain, create=False))
            except Exception as exc:
                failure = _failure(exc)
                await _deny(websocket, failure)
                return
            await websocket.accept()
            await self._send_events(websocket, source, after)

        handle.__name__ = op.id
        return handle

    @staticmethod
    def _events_after(brain: Brain, after: int) -> list[tuple[int, str]]:
        return [
            (env.seq, msgspec.json.encode(ev.to_jsonable(env)).decode())
            for env in brain.events(after, EVENT_BATCH)
        ]

    async def _send_events(self, websocket: WebSocket, brain: Brain, after: int) -> None:
        async with anyio.create_task_group() as tg:

            async def until_closed() -> None:
                try:
                    while (await websocket.receive())["type"] != "websocket.disconnect":
                        pass  # the client has nothing to say; its messages are ignored
                except Exception:
                    pass
                tg.cancel_scope.cancel()

            tg.start_soon(until_closed)
            code, reason = 1000, ""
            try:
                while True:
                    seen = self.commits
                    batch = await self.run(partial(self._events_after, brain, after))
                    for seq, text in batch:
                        await websocket.send_text(text)
                        after = seq
                    if len(batch) < EVENT_BATCH:
                        await self.wait_for_write(POLL_SECONDS, seen)
            except (WebSocketDisconnect, OSError):
                tg.cancel_scope.cancel()
                return
            except Exception as exc:
                failure = _failure(exc)
                code, reason = 1011, failure.message[:120]
            tg.cancel_scope.cancel()
            with suppress(Exception):
                await websocket.close(code, reason)


async def _deny(websocket: WebSocket, failure: HTTPError) -> None:
    """Refuse a WebSocket handshake with an HTTP status and a JSON error where the server
    supports it (uvicorn does), else close with 4000 + status."""
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(
            error_reply(failure.status, failure.message, failure.headers)
        )
    else:
        await websocket.close(4000 + failure.status, failure.message[:120])


async def _not_found(request: Request, exc: Exception) -> Response:
    return error_reply(404, f"no route {request.method} {request.url.path}")


async def _not_allowed(request: Request, exc: Exception) -> Response:
    headers = exc.headers if isinstance(exc, HTTPException) else None
    return error_reply(405, f"{request.method} is not allowed on {request.url.path}", headers)


async def _internal(request: Request, exc: Exception) -> Response:
    return error_reply(500, f"internal error ({type(exc).__name__}); see the server's log")


def create_app(
    store_path: str | Path | None = None,
    *,
    tokens: str | Path | Sequence[Mapping[str, Any]] | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY,
    body_timeout: float = BODY_TIMEOUT,
    request_log: TextIO | None = None,
) -> Starlette:
    """The ASGI app over the store at `store_path` (default $NMEM_HOME or ~/.neuralmemory).

    `tokens`: a token file or its list of tokens (None: no auth, for loopback use only). The
    store opens now (so a bad path fails here) and closes when the app shuts down.
    `request_log`: where each request's JSON line goes (adapters/request_log.py); None: nowhere.
    """
    grants = None if tokens is None else load_tokens(tokens)
    server = Server(store_path, grants, max_body_bytes, body_timeout)
    routes: list[BaseRoute] = []
    methods: dict[str, dict[str, Op]] = {}  # one route per path, so a 405 lists every method
    for op in route_table():
        if op.websocket:
            routes.append(WebSocketRoute(op.path, server.events_endpoint(op), name=op.id))
        else:
            methods.setdefault(op.path, {})[op.method] = op
    for path, ops in methods.items():
        routes.append(Route(path, server.endpoint(ops), methods=list(ops)))
    app = Starlette(
        routes=routes,
        exception_handlers={404: _not_found, 405: _not_allowed, Exception: _internal},
        lifespan=server.lifespan,
    )
    log = None if request_log is None else request_logger(request_log)
    app.add_middleware(RequestLog, metrics=server.metrics, log=log)
    app.state.nmem = server
    return app


def serve(
    store_path: str | Path | None = None,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    tokens: str | Path | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY,
    limits: Limits | None = None,
    request_log: TextIO | None = None,
    ready: Callable[[str, str], None] | None = None,
) -> None:
    """Serve until interrupted (Ctrl-C, SIGTERM). Without `tokens`, only a loopback `host`
    ("::1" or "[::1]" for IPv6). `limits`: the slow-client deadlines and connection limit."""
    import uvicorn

    host = host.strip().removeprefix("[").removesuffix("]")
    if tokens is None and not is_loopback(host):
        raise errors.InputError(
            f"refusing to serve on {host} without --tokens: anyone who can reach it could read "
            "and change every brain; give a token file, or bind 127.0.0.1"
        )
    if not 0 <= port <= 65535:
        raise errors.InputError(f"port must be 0-65535, got {port}")
    limits = limits or Limits()
    app = create_app(store_path, tokens=tokens, max_body_bytes=max_body_bytes,
                     body_timeout=limits.body, request_log=request_log)  # fmt: skip
    sock = _listen(host, port)
    config = uvicorn.Config(
        app,
        http=protocol(limits),
        limit_concurrency=limits.connections,
        h11_max_incomplete_event_size=rq.MAX_HEAD,
        log_level="warning",
        ws_max_size=1 << 16,  # clients send nothing on the event stream
        timeout_graceful_shutdown=5,
    )
    logging.getLogger("uvicorn.error").addFilter(_quiet_denials)
    if ready is not None:
        shown = f"[{host}]" if ":" in host else host
        ready(f"http://{shown}:{sock.getsockname()[1]}", app.state.nmem.store.location)
    with sock:
        uvicorn.Server(config).run(sockets=[sock])


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket on `host`:`port` (so a bad address or a port in use is one line)."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        return socket.create_server((host, port), family=family, backlog=2048)
    except OSError as exc:
        raise errors.InputError(
            f"cannot listen on {host} port {port}: {exc.strerror or exc}"
        ) from None


def _quiet_denials(record: logging.LogRecord) -> bool:
    """uvicorn's websockets-sansio protocol logs an error after a handshake refused with an
    HTTP response (401, 403, 404 through the denial extension) although the client got that
    response: drop that line."""
    return "returned without completing handshake" not in record.getMessage()
