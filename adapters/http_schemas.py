"""The HTTP API's request schemas: every route's path, query and JSON body as msgspec types
whose `Meta` constraints are what the server enforces, and what `/openapi.json` states (it is
generated from these same types by `msgspec.json.schema_components`).

Decoding a request into its type is the whole validation: a wrong type, a number out of
range (1e308 days), a name off its pattern, an unknown field or a body nested 100,000 deep is
refused with one line naming the field, before any engine work. Settings (`PATCH .../config`)
take their ranges from `engine.events.BrainConfig`, where the engine checks them on every path.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from engine import events as ev
from engine import exporters
from engine.errors import InputError
from engine.logstore.base import MAX_ID_BYTES
from engine.model import MemoryType
from engine.reads import MIN_PREFIX
from engine.store import NAME_PATTERN

__all__ = ["RequestError", "decode_body", "decode_path", "decode_query", "schema_of"]

MAX_TEXT: Final = 100_000  # characters of a memory's text or a query
MAX_DAYS: Final = 36_500  # a hundred years: expiry, project durations
MAX_BATCH: Final = 1_000  # memories in one POST
MAX_SEQ: Final = 2**63 - 1
MAX_HEAD: Final = 128 << 10  # bytes of a request line and headers (uvicorn's h11 limit)


class RequestError(InputError):
    """A request part does not fit its schema; the message names the field."""


# -- the pieces ----------------------------------------------------------------------------------

_BRAIN_DOC = "brain name: 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
BrainName = Annotated[str, Meta(pattern=NAME_PATTERN, description=_BRAIN_DOC)]
_ID_DOC = f"memory id or a unique prefix of it ({MIN_PREFIX}+ characters)"
MemoryId = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{1,64}$", description=_ID_DOC)]
ProjectName = Annotated[
    str, Meta(min_length=1, max_length=200, pattern=r"\S", description="project name")
]
Asset = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="a dashboard file")]
Text = Annotated[str, Meta(min_length=1, max_length=MAX_TEXT, pattern=r"\S",
                           description="a memory's text, or a question or keywords")]  # fmt: skip
MAX_QUERY_TEXT: Final = 2000  # a question in a URL (its request line stays under MAX_HEAD)
QueryText = Annotated[str, Meta(min_length=1, max_length=MAX_QUERY_TEXT, pattern=r"\S",
                                description="a question or keywords")]  # fmt: skip
Tag = Annotated[str, Meta(min_length=1, max_length=200, description="a tag")]
Tags = Annotated[list[Tag], Meta(max_length=100)]
Priority = Annotated[int, Meta(ge=0, le=10, description="0-10")]
Days = Annotated[float, Meta(ge=0, le=MAX_DAYS, description=f"days, 0-{MAX_DAYS}")]
Depth = Annotated[int, Meta(ge=0, le=3, description="how far activation spreads, 0-3")]
When = Annotated[str, Meta(min_length=1, max_length=200, description="ISO time, 12/01/2026 or "
                           "a phrase ('last week', '3 days ago')")]  # fmt: skip
_AT_DOC = "answer as the brain knew it then (recorded time): a seq, an ISO time or '3 days ago'"
At = Annotated[Annotated[int, Meta(ge=0, le=MAX_SEQ)] | When, Meta(description=_AT_DOC)]
_SINCE_DOC = "only what happened at or after (event time): ISO, 12/01/2026 or a phrase ('3d')"
Since = Annotated[When, Meta(description=_SINCE_DOC)]
Recorded = Annotated[When, Meta(description="events recorded at or after / before (ISO or phrase)")]
_UNTIL_DOC = "only what happened up to (event time), its whole day or period included"
Until = Annotated[When, Meta(description=_UNTIL_DOC)]
Cid = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=MAX_ID_BYTES // 4,
        description="idempotency key: the same key again stores nothing",
    ),
]
Note = Annotated[str, Meta(max_length=2000)]
MetaValue = Annotated[str, Meta(max_length=2000)] | int | float | bool | None
MemoryMeta = Annotated[
    dict[Annotated[str, Meta(min_length=1, max_length=100)], MetaValue],
    Meta(max_length=64, description="plain values kept with the memory"),
]
Policy = Annotated[
    Literal["block", "redact", "allow"],
    Meta(description="sensitive-content policy (default: the brain's)"),
]
_EXPIRY_DOC = "expire then: ISO time or phrase, or 'never' (instead of expires_days)"
Expiry = Annotated[str, Meta(min_length=1, max_length=200, description=_EXPIRY_DOC)]
_SOURCE_DOC = "who wrote it, as its history shows (default: http)"
Source = Annotated[str, Meta(min_length=1, max_length=64, description=_SOURCE_DOC)]
Status = Literal["visible", "expired", "forgotten", "pinned", "erased", "all"]
if TYPE_CHECKING:
    EventType = str
    FileFormat = str
else:
    EventType = Literal[ev.EVENT_TYPES]
    FileFormat = Literal[exporters.FILE_FORMATS]
Limit1k = Annotated[int, Meta(ge=1, le=1000)]


class Strict(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A request object: unknown fields are refused, absent ones stay UNSET."""


# -- bodies ----------------------------------------------------------------------------------


class CheckRequest(Strict):
    text: Annotated[str, Meta(max_length=MAX_TEXT)]


class NewBrain(Strict):
    name: BrainName


class NewMemory(Strict):
    text: Text
    type: MemoryType | UnsetType = UNSET
    priority: Priority = 5
    tags: Tags = []
    expires_days: Days | UnsetType = UNSET
    time: When | UnsetType = UNSET
    project: ProjectName | UnsetType = UNSET
    cid: Cid | UnsetType = UNSET
    sensitive: Policy | UnsetType = UNSET
    expires_at: Expiry | UnsetType = UNSET
    meta: MemoryMeta | UnsetType = UNSET
    source: Source | UnsetType = UNSET


Memories = NewMemory | Annotated[list[NewMemory], Meta(min_length=1, max_length=MAX_BATCH)]


class MemoryChange(Strict):
    text: Text | UnsetType = UNSET
    type: MemoryType | UnsetType = UNSET
    priority: Priority | UnsetType = UNSET
    tags: Tags | UnsetType = UNSET
    expires_days: Days | UnsetType = UNSET
    project: ProjectName | Literal[""] | UnsetType | None = UNSET  # null or "" clears it


Edit = Annotated[MemoryChange, Meta(extra_json_schema={"minProperties": 1})]


class ForgetRequest(Strict):
    reason: Note = ""


class CleanupRequest(Strict):
    dry_run: bool = False


class RecallRequest(Strict):
    query: Text
    depth: Depth | UnsetType = UNSET
    limit: Limit1k = 10
    max_tokens: Annotated[int, Meta(ge=1, le=1_000_000)] | UnsetType = UNSET
    types: list[MemoryType] | UnsetType = UNSET
    tags: Tags | UnsetType = UNSET
    project: ProjectName | UnsetType = UNSET
    include_expired: bool = False
    min_priority: Priority = 0
    at: At | UnsetType = UNSET
    since: Since | UnsetType = UNSET
    until: Until | UnsetType = UNSET


class NewProject(Strict):
    name: ProjectName
    description: Note = ""
    duration_days: Days | UnsetType = UNSET
    tags: Tags = []
    priority: Annotated[float, Meta(ge=0, le=10, description="weight of its memories")] = 1.0


class ProjectExtension(Strict):
    days: Days


@cache
def config_change() -> type[msgspec.Struct]:
    """Any subset of the brain's settings, each with the range `BrainConfig` gives it."""
    hints = typing.get_type_hints(ev.BrainConfig, include_extras=True)
    fields = [(name, hints[name] | UnsetType, UNSET) for name in ev.BrainConfig.__struct_fields__]
    return msgspec.defstruct("ConfigChange", fields, bases=(Strict,), module=__name__)


# -- query parameters ------------------------------------------------------------------------


class AtQuery(Strict):
    at: At | UnsetType = UNSET


class MemoriesQuery(Strict):
    type: list[MemoryType] | UnsetType = UNSET
    project: ProjectName | UnsetType = UNSET
    min_priority: Priority = 0
    status: Status = "visible"
    limit: Annotated[int, Meta(ge=1, le=100_000)] = 20
    at: At | UnsetType = UNSET
    since: Since | UnsetType = UNSET
    until: Until | UnsetType = UNSET


class ContextQuery(Strict):
    limit: Limit1k = 10
    fresh_only: bool = False
    at: At | UnsetType = UNSET
    since: Since | UnsetType = UNSET
    until: Until | UnsetType = UNSET


class HistoryQuery(Strict):
    memory_id: MemoryId | UnsetType = UNSET
    types: list[EventType] | UnsetType = UNSET
    since: Recorded | UnsetType = UNSET  # events recorded at or after
    until: Recorded | UnsetType = UNSET
    limit: Annotated[int, Meta(ge=1, le=MAX_SEQ)] | UnsetType = UNSET
    all: bool = False
    at: At | UnsetType = UNSET


class DiffQuery(Strict):
    since: When = msgspec.field(name="from")
    to: When | UnsetType = UNSET
    top: Annotated[int, Meta(ge=0, le=1000)] = 10


class ProjectsQuery(Strict):
    active: bool = False


class ExportQuery(Strict):
    format: FileFormat = "json"
    exclude_sensitive: bool = False
    at: At | UnsetType = UNSET


class ImportQuery(Strict):
    sensitive: Policy | UnsetType = UNSET


class EventsQuery(Strict):
    after: Annotated[int, Meta(ge=0, le=MAX_SEQ)] = msgspec.field(default=0, name="from")
    token: Annotated[str, Meta(max_length=1000)] | UnsetType = UNSET


PATH: Final[dict[str, Any]] = {
    "brain": BrainName,
    "id": MemoryId,
    "name": ProjectName,
    "asset": Asset,
}


# -- decoding --------------------------------------------------------------------------------

_AT = re.compile(r" - at `\$(.*)`$")
_FIELD = re.compile(r"(unknown|missing required) field `(.*)`")


def _message(exc: msgspec.ValidationError | msgspec.DecodeError, where: str) -> str:
    """msgspec's 'Expected `int` >= 0 - at `$.priority`' as 'priority: expected ...'."""
    text = str(exc)
    found = _AT.search(text)
    path = found.group(1).lstrip(".") if found else ""
    text = text[: found.start()] if found else text
    named = _FIELD.search(text)
    if named is not None:
        field = ".".join(p for p in (path, named.group(2)) if p)
        if named.group(1) == "unknown":
            return f"unknown {where or 'field'} {field!r}"
        return f"{where or 'field'} {field!r} is required"
    subject = f"{where} {path}".strip() if path else (where or "the body")
    return f"{subject}: {text[:1].lower()}{text[1:]}"


def _as_args(value: Any) -> Any:
    """The decoded request as plain data (UNSET fields left out, wire names) for the routes."""
    return msgspec.to_builtins(value)


@cache
def _decoder(kind: Any) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(kind)


def decode_body(kind: Any, raw: bytes) -> Any:
    """The JSON body decoded into `kind`, as plain data; `RequestError` names what is wrong."""
    try:
        return _as_args(_decoder(kind).decode(raw))
    except msgspec.ValidationError as exc:
        raise RequestError(_message(exc, "")) from None
    except msgspec.DecodeError as exc:
        raise RequestError(f"malformed JSON: {exc}") from None


@cache
def _lists(kind: type[msgspec.Struct]) -> frozenset[str]:
    """The wire names of `kind`'s list fields (repeat or comma-separate them in a query)."""
    info = msgspec.inspect.type_info(kind)
    assert isinstance(info, msgspec.inspect.StructType)

    def is_list(t: msgspec.inspect.Type) -> bool:
        if isinstance(t, msgspec.inspect.UnionType):
            return any(is_list(u) for u in t.types)
        return isinstance(t, msgspec.inspect.ListType)

    return frozenset(f.encode_name for f in info.fields if is_list(f.type))


def decode_query(kind: type[msgspec.Struct], query: Mapping[str, list[str]]) -> dict[str, Any]:
    """Query parameters decoded into `kind` (strings converted to its numbers and booleans)."""
    lists = _lists(kind)
    data: dict[str, Any] = {}
    for name, values in query.items():
        if name in lists:
            data[name] = [part.strip() for v in values for part in v.split(",") if part.strip()]
        else:
            data[name] = values[-1]
    try:
        args: dict[str, Any] = _as_args(msgspec.convert(data, kind, strict=False))
    except msgspec.ValidationError as exc:
        raise RequestError(_message(exc, "query parameter")) from None
    return args


def decode_path(params: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in params.items():
        try:
            out[name] = msgspec.convert(str(value), PATH[name])
        except msgspec.ValidationError as exc:
            raise RequestError(
                f"path parameter {name}: {_message(exc, '').split(': ', 1)[-1]}"
            ) from None
    return out


# -- the OpenAPI side ------------------------------------------------------------------------

REF: Final = "#/components/schemas/"


def schema_of(kinds: list[Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """JSON Schemas of `kinds` and the components they refer to (OpenAPI 3.1 references)."""
    schemas, components = msgspec.json.schema_components(kinds, ref_template=REF + "{name}")
    return list(schemas), dict(components)
