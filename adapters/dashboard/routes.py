"""The dashboard's routes: the page and its assets, who the caller is, and the reads the
pages need beyond the REST API (an overview, a neighbourhood graph, an explained recall).

Each read takes `at`, so every page can show the brain as of any moment; the engine answers
(`BrainView.activity`, `.neighbourhood`, `.explain`), these functions only shape the reply.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Annotated, Any, Final

from msgspec import UNSET, Meta, UnsetType
from starlette.responses import Response

from adapters.http_schemas import At, Depth, MemoryId, QueryText, Strict
from adapters.http_server import Call, Op
from engine import errors
from engine.explore import MAX_DAYS, MAX_NODES

# name -> media type: exactly what the page needs, nothing else is served
ASSETS: Final = {
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
# the page runs only its own script and styles and talks only to this server
CSP: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


@cache
def asset(name: str) -> bytes:
    return files("adapters.dashboard").joinpath("static", name).read_bytes()


def _static(name: str, media: str) -> Response:
    headers = {
        "Content-Security-Policy": CSP,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",
    }
    return Response(asset(name), 200, headers, media_type=media)


def _page(c: Call) -> Any:
    return _static("index.html", "text/html; charset=utf-8")


def _asset(c: Call) -> Any:
    name = c.path["asset"]
    media = ASSETS.get(name)
    if media is None:
        raise errors.NotFoundError(f"no dashboard asset {name[:80]!r}")
    return _static(name, media)


def _whoami(c: Call) -> Any:
    grant = c.grant
    return {
        "auth": c.server.tokens is not None,
        "access": "write" if grant is None else grant.access,
        "brains": ["*"] if grant is None else list(grant.brains),
    }


def _head(c: Call) -> dict[str, Any]:
    brain = c.brain()
    return {"seq": brain.seq, "at": brain.time.isoformat()}


def _overview(c: Call) -> Any:
    view = c.view()
    return {
        **view.stats(),
        **view.activity(days=c.args["days"]),
        "head": _head(c),
        "store_bytes": c.store.log.size(),
    }


def _graph(c: Call) -> Any:
    a = c.args
    found = c.view().neighbourhood(
        a.get("memory"), query=a.get("query"), depth=a.get("depth"), limit=a["limit"]
    )
    return {**found, "head": _head(c)}


def _explain(c: Call) -> Any:
    a = c.args
    found = c.view().explain(a["query"], depth=a.get("depth"), limit=a["limit"], paths=a["paths"])
    return {**found, "brain": c.path["brain"], "head": _head(c)}


class OverviewQuery(Strict):
    days: Annotated[int, Meta(ge=1, le=MAX_DAYS, description="days of activity to list")] = 90
    at: At | UnsetType = UNSET


class GraphQuery(Strict):
    memory: MemoryId | UnsetType = UNSET  # the memory at the centre
    query: QueryText | UnsetType = UNSET  # or a question: the graph of what it sets alight
    depth: Depth | UnsetType = UNSET
    limit: Annotated[int, Meta(ge=1, le=MAX_NODES, description="nodes at most")] = 60
    at: At | UnsetType = UNSET


class ExplainQuery(Strict):
    query: QueryText
    depth: Depth | UnsetType = UNSET
    limit: Annotated[int, Meta(ge=1, le=100, description="memories to return")] = 10
    paths: Annotated[int, Meta(ge=1, le=10, description="paths per memory")] = 3
    at: At | UnsetType = UNSET


_STEP = {"type": "object", "description": "a memory or a neuron, with its activation"}
HEAD = {"type": "object", "description": "the brain's last event now: seq and time"}

OPS: tuple[Op, ...] = (
    Op("dashboard", "GET", "/ui", "The brain explorer (a web page)", "public", _page,
       inline=True, tag="dashboard", media="text/html", schema={"type": "string"},
       returns="the dashboard's HTML page (it asks for a token when the server has tokens)"),
    Op("dashboard_asset", "GET", "/ui/{asset}", "A file of the dashboard page", "public",
       _asset, inline=True, tag="dashboard", media=", ".join(sorted(set(ASSETS.values()))),
       schema={"type": "string"}, returns="the file"),
    Op("whoami", "GET", "/whoami", "What the presented token may do", "any", _whoami,
       tag="dashboard", returns="auth (whether the server checks tokens), access (read or "
       "write) and the brains it covers"),
    Op("overview", "GET", "/brains/{brain}/overview", "Counts by type, priority and freshness, "
       "events and new memories per day, the last decay sweeps, the store's size", "read",
       _overview, query=OverviewQuery, tag="dashboard",
       schema={"type": "object", "properties": {"head": HEAD}}),
    Op("graph", "GET", "/brains/{brain}/graph", "The neighbourhood of a memory or of a query: "
       "the most activated memories and neurons with their activation, and the live links "
       "among them", "read", _graph, query=GraphQuery, tag="dashboard",
       schema={"type": "object", "properties": {
           "nodes": {"type": "array", "items": _STEP},
           "edges": {"type": "array", "items": {"type": "object"}}, "head": HEAD}}),
    Op("explain", "GET", "/brains/{brain}/explain", "Recall without reinforcing, with the "
       "activation paths from the question's anchors to each memory", "read", _explain,
       query=ExplainQuery, tag="dashboard", schema={"type": "object", "properties": {
           "memories": {"type": "array", "items": {"type": "object"}}, "head": HEAD}}),
)  # fmt: skip
