"""The sensitive-content policy at the log's boundary: every string of every event is screened.

`Writer.append` (engine/logstore/base.py) calls `event` on every body and client id before it
stores them, whatever the path (CLI, MCP, HTTP, Python, snapshot or history import). The
walk is generic over the event Structs, so a field added later is screened without anyone
remembering to: only the kind of screening depends on the field's name.

- Names (`NAMES`: ids, keys, brain and project names, enum-like values) identify things, so
  they cannot be redacted: a secret in one is refused unless the policy is `allow`.
- Every other string (text, tags, source, reasons, meta keys and values, neuron content,
  descriptions) is text: `block` refuses it, `redact` replaces the secret, `allow` keeps it.

The threshold is medium severity: a long hex run (a uuid, a digest) alone is not a secret.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

import msgspec

from .errors import InputError, SensitiveContentError

if TYPE_CHECKING:
    from .sensitive import Finding

POLICIES: Final = ("block", "redact", "allow")

# Fields whose strings identify something: refused (never redacted) when they hold a secret.
NAMES: Final = frozenset(
    {"cid", "fiber_id", "fiber_ids", "project_id", "id", "key", "project", "name",
     "memory_type", "model"}
)  # fmt: skip

_HOW: Final = "the 'allow' policy stores it anyway, 'redact' stores it with the secret replaced"


def check_policy(policy: str) -> str:
    if policy not in POLICIES:
        raise InputError(f"sensitive-content policy must be one of {', '.join(POLICIES)}")
    return policy


def text(value: str, policy: str, field: str = "") -> str:
    """`value` under `policy`: unchanged, redacted, or refused naming `field` and what was
    found (never the secret itself)."""
    if check_policy(policy) == "allow" or value in _clean:
        return value
    from . import sensitive  # only writes need it: keeps read-only start-up fast

    findings = sensitive.scan(value, sensitive.Severity.MEDIUM)
    if not findings:
        return value
    if policy == "redact":
        return sensitive.redact(value)[0]
    raise _refused(sensitive.describe(findings), field, _HOW)


def name(value: str, policy: str, field: str) -> str:
    """An identifying string: a secret in it is refused unless `policy` is `allow`."""
    if check_policy(policy) == "allow" or value in _clean:
        return value
    from . import sensitive

    findings = sensitive.scan(value, sensitive.Severity.MEDIUM)
    if findings:
        raise _refused(sensitive.describe(findings), field, "a name or id cannot be redacted; "
                       "the 'allow' policy stores it anyway")  # fmt: skip
    return value


def _refused(found: str, field: str, how: str) -> SensitiveContentError:
    where = f"{field}: " if field else ""
    return SensitiveContentError(
        f"{where}{found}; nothing was stored ({how})", found=found, field=field
    )


def event(body: msgspec.Struct, cid: str | None, policy: str) -> tuple[Any, str | None]:
    """(`body`, `cid`) screened: the same objects when nothing changed, else redacted copies.
    Under every policy a string must be storable text (no lone surrogate)."""
    check_policy(policy)
    if (cid is None or _plain(cid)) and _plain(body):
        return body, cid
    return screened(body, cid, policy)


def screened(body: msgspec.Struct, cid: str | None, policy: str) -> tuple[Any, str | None]:
    """`event` without its fast path: every string screened in turn, named by its path."""
    if cid is not None:
        cid = name(_storable(cid, "client id"), policy, "client id")
    return _struct(body, policy, ""), cid


class _Clean:
    """Strings known storable and free of findings at the threshold, whatever the policy: a
    memory's text is scanned when it is prepared and again in its event, and most names recur.
    Bounded by characters; only clean strings are kept, so it never holds a secret."""

    LIMIT: Final = 4_000_000

    def __init__(self) -> None:
        self.strings: set[str] = set()
        self.chars = 0

    def __contains__(self, value: str) -> bool:
        return value in self.strings or self.scan(value)

    def scan(self, value: str) -> bool:
        """Whether `value` is clean (remembered if so), for a string not remembered yet."""
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return False
        if _findings()(value):
            return False
        if self.chars + len(value) > self.LIMIT:
            self.strings.clear()
            self.chars = 0
        self.strings.add(value)
        self.chars += len(value)
        return True


_clean: Final = _Clean()


@functools.cache
def _findings() -> Callable[[str], list[Finding]]:
    """`sensitive.scan` at the threshold, imported on first use (a function-level import on
    every string would go through the import machinery each time)."""
    from . import sensitive

    return functools.partial(sensitive.scan, min_severity=sensitive.Severity.MEDIUM)


def _plain(value: Any) -> bool:
    """Whether every string in `value` is storable and holds nothing to screen: the common
    case, decided without building the field paths that a refusal or a redaction names.
    A struct's fields are read in one call, its numbers skipped and its strings looked up
    without a call each (a memory's event has twenty fields, most of them numbers)."""
    if isinstance(value, str):
        return value in _clean.strings or _clean.scan(value)
    if isinstance(value, msgspec.Struct):
        items: Any = msgspec.structs.astuple(value)
    elif isinstance(value, list):
        items = value
    elif isinstance(value, dict):
        return all(_plain(k) and _plain(v) for k, v in value.items())
    else:
        return True  # numbers, booleans, None, bytes (vectors)
    known = _clean.strings
    for item in items:
        kind = item.__class__
        if kind is str:
            if item not in known and not _clean.scan(item):
                return False
        elif kind not in _ATOMS and (kind not in _EMPTY or item) and not _plain(item):
            return False
    return True


# Values that hold no string: exact classes only (a str subclass is walked like any string).
_ATOMS: Final = frozenset({int, float, bool, bytes, type(None)})
_EMPTY: Final = frozenset({list, dict})  # exact classes whose empty values hold no string


def _storable(value: str, field: str) -> str:
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InputError(f"{field}: not valid text (it holds a lone surrogate)") from None
    return value


def _struct(obj: msgspec.Struct, policy: str, where: str) -> Any:
    changes: dict[str, Any] = {}
    for field in obj.__struct_fields__:
        value = getattr(obj, field)
        new = _value(value, policy, f"{where}{field}", field in NAMES)
        if new is not value:
            changes[field] = new
    return msgspec.structs.replace(obj, **changes) if changes else obj


def _value(value: Any, policy: str, where: str, is_name: bool) -> Any:
    if isinstance(value, str):
        _storable(value, where)
        new = name(value, policy, where) if is_name else text(value, policy, where)
        return value if new == value else new
    if isinstance(value, msgspec.Struct):
        return _struct(value, policy, where + ".")
    if isinstance(value, list):
        items = [_value(v, policy, f"{where}[{i}]", is_name) for i, v in enumerate(value)]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if isinstance(value, dict):
        pairs = [  # named by position: a key may be the secret
            (
                _value(k, policy, f"{where} key {i}", False),
                _value(v, policy, f"{where}[{i}]", False),
            )
            for i, (k, v) in enumerate(value.items())
        ]
        same = all(a is k and b is v for (a, b), (k, v) in zip(pairs, value.items(), strict=True))
        return value if same else dict(pairs)
    return value  # numbers, booleans, None, bytes (vectors)
