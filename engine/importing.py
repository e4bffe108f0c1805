"""Snapshots and histories in and out: the file formats, and the pure mapping from an export
to what a brain appends. Nothing here touches a store; `Brain.import_history` and
`Brain.import_snapshot` write what these functions return.

File formats (`load_export` tells them apart by their first bytes):

* **Snapshot, JSON** (`nmem export --format json`): one JSON object, `BrainView.snapshot()`:
  the original NeuralMemory's BrainSnapshot shape (`brain_id, brain_name, exported_at, version,
  neurons, synapses, fibers, config, metadata.typed_memories, metadata.projects`) with
  `version` "neuralmemory-1" and the `seq` it stands for. The original's own snapshot
  (`version` "0.1.0") and its CLI brain files (`{"brain": ..., "snapshot": ...}`) import too.
* **Snapshot, msgpack** (`--format msgpack`): the same object as one msgpack map.
* **History, JSONL** (`--format history`): UTF-8, one JSON object per line. Line 1 is the
  header `{"format": "neuralmemory-history", "version": 1, "schema": <event schema>,
  "brain_id", "brain_name", "seq": <last seq>, "at", "exported_at"}`; then every event of the
  brain from seq 1 to `seq`, in order, as `events.to_jsonable` gives it: `{"seq", "t"
  (recorded time, µs since the epoch, UTC), "cid", "v" (event schema), "type", "body"}`.
* **History, msgpack** (`--format history-msgpack`): one msgpack array `[header, event, ...]`
  of the same objects, written as it streams.

A history holds the log as it is: a hard erase has already redacted the erased memory's earlier
records, so the erased text is in no export.

What a history import preserves. Into a new brain (one holding only its own `brain_created`),
`Brain.import_history` keeps every event's seq, recorded time, schema version and body, and the
source's creation configuration: the projection equals the source's byte for byte except for the
brain id and name (`projection.state_bytes` with those two blanked). So memory ids, texts, types,
priorities, tags, expiries, projects, links and their weights, reinforcements, decay sweeps,
pins, forgets and erasures, each memory's history, and recall answers now and `at=` any past
seq or time are the source's. Not preserved: the brain's id and name (the target's own; its
creation event keeps the target's name), the client ids of events ("import:<source id>:<seq>"
instead, so a retry of a source write with its original idempotency key is not recognised by the
copy), reinforcement the source had not yet written, checkpoints, and erased content (not in the
export). Into a brain that has other events but no memories, the events follow the brain's own:
seqs move by `seq_offset`, the source's creation configuration becomes a `brain_configured`
event, and recorded times earlier than the brain's last event move just after it
(`times_preserved` is then false, and decay, freshness and `at=` answers can differ).

A snapshot import keeps memory ids, texts, event times, types, priorities, tags, absolute
expiries, projects, metadata, and (our snapshots) pinned and forgotten states. It re-encodes
each text with this engine's encoder: links, weights, neurons and salience are this engine's;
recorded times are the import's, the provenance is "import", and history before the import,
reinforcement and decay are not carried over.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import msgspec

from . import events as ev
from .api import MemoryInput
from .clock import from_us, to_us
from .encoder import MAX_TEXT_CHARS, MEMORY_ID
from .errors import DataError, InputError, SensitiveContentError
from .snapshot import VERSION as SNAPSHOT_VERSION

HISTORY_FORMAT: Final = "neuralmemory-history"
HISTORY_VERSION: Final = 1
ORIGINAL = "neuralmemory-v0.1"  # the original NeuralMemory's snapshot
OURS = "neuralmemory"
# types of later versions of the original that this engine does not have
TYPE_ALIASES: Final = {"tool": "workflow"}
MAX_PROJECT_NAME = 100

Progress = Callable[[int, int], None]  # (done, total)


# -- writing ----------------------------------------------------------------------------------


def history_header(
    brain_id: str, name: str, seq: int, at_us: int, now_us: int, *, first: int = 1
) -> dict[str, Any]:
    """The header of a history of events first..seq: a whole one starts at seq 1; one that
    starts later ("from") continues a history imported before, so a replica or a backup can
    take only what it lacks."""
    header = {
        "format": HISTORY_FORMAT,
        "version": HISTORY_VERSION,
        "schema": ev.SCHEMA_VERSION,
        "brain_id": brain_id,
        "brain_name": name,
        "seq": seq,
        "at": from_us(at_us).isoformat(),
        "exported_at": from_us(now_us).isoformat(),
    }
    if first > 1:
        header["from"] = first
    return header


def encode_snapshot(snapshot: dict[str, Any], *, msgpack: bool = False) -> bytes:
    if msgpack:
        return msgspec.msgpack.encode(snapshot)
    return msgspec.json.format(msgspec.json.encode(snapshot), indent=1) + b"\n"


def without_sensitive(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The snapshot without memories whose text holds sensitive content (medium severity or
    more), without neurons whose content does, and without the links touching either; like
    the original's `brain export --exclude-sensitive`. `metadata.excluded_sensitive` counts
    the memories left out."""
    from . import sensitive

    def bad(text: object) -> bool:
        return isinstance(text, str) and bool(sensitive.scan(text, sensitive.Severity.MEDIUM))

    neurons: list[dict[str, Any]] = snapshot["neurons"]
    dropped_neurons = {n["id"] for n in neurons if bad(n.get("content"))}
    fibers = snapshot["fibers"]
    dropped = {f["id"] for f in fibers if f.get("anchor_neuron_id") in dropped_neurons}
    dropped_neurons |= {f["anchor_neuron_id"] for f in fibers if f["id"] in dropped}
    synapses = [
        s
        for s in snapshot["synapses"]
        if s["source_id"] not in dropped_neurons and s["target_id"] not in dropped_neurons
    ]
    kept_fibers = [f for f in fibers if f["id"] not in dropped]
    used = {s["source_id"] for s in synapses} | {s["target_id"] for s in synapses}
    used |= {f["anchor_neuron_id"] for f in kept_fibers}
    metadata = dict(snapshot.get("metadata") or {})
    metadata["typed_memories"] = [
        t for t in metadata.get("typed_memories", []) if t.get("fiber_id") not in dropped
    ]
    metadata["excluded_sensitive"] = len(dropped)
    return {
        **snapshot,
        "neurons": [n for n in neurons if n["id"] in used and n["id"] not in dropped_neurons],
        "synapses": synapses,
        "fibers": kept_fibers,
        "metadata": metadata,
    }


# -- reading files ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Export:
    """A decoded export file: a snapshot (dict) or a history (header + event records)."""

    kind: str  # "snapshot" | "history"
    encoding: str  # "json" | "jsonl" | "msgpack"
    snapshot: dict[str, Any] | None = None
    history: list[Any] | None = None


_MSGPACK_MAPS = frozenset([*range(0x80, 0x90), 0xDE, 0xDF])
_MSGPACK_ARRAYS = frozenset([*range(0x90, 0xA0), 0xDC, 0xDD])


def load_export(data: bytes) -> Export:
    """Recognise and decode an export file: JSON snapshot, JSONL history, or msgpack."""
    try:
        return _load_export(data)
    except RecursionError:  # msgspec decodes nesting recursively: 100,000 '[' end here
        raise InputError("not a NeuralMemory export: its values are nested too deeply") from None


def _load_export(data: bytes) -> Export:
    body = data.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
    if not body:
        raise InputError("the file is empty")
    first = body[0]
    if first in _MSGPACK_MAPS or first in _MSGPACK_ARRAYS:
        try:
            decoded = msgspec.msgpack.decode(body)
        except msgspec.DecodeError as exc:
            raise InputError(f"not a valid msgpack export (truncated?): {exc}") from None
        if isinstance(decoded, list):
            return Export("history", "msgpack", history=decoded)
        if isinstance(decoded, dict):
            return Export("snapshot", "msgpack", snapshot=decoded)
    if first != ord("{"):
        raise InputError(
            "not a NeuralMemory export: expected a JSON snapshot, a JSONL history or msgpack"
        )
    line, _, rest = body.partition(b"\n")
    head = _json_or_none(line)
    if isinstance(head, dict) and (head.get("format") == HISTORY_FORMAT or "body" in head):
        return Export("history", "jsonl", history=_jsonl(head, rest))
    try:
        decoded = msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise InputError(f"not valid JSON (truncated?): {exc}") from None
    if not isinstance(decoded, dict):
        raise InputError("not a NeuralMemory snapshot: expected a JSON object")
    return Export("snapshot", "json", snapshot=decoded)


def _json_or_none(line: bytes) -> Any:
    try:
        return msgspec.json.decode(line)
    except msgspec.DecodeError:
        return None


def _jsonl(head: dict[str, Any], rest: bytes) -> list[Any]:
    out: list[Any] = [head]
    for number, line in enumerate(rest.split(b"\n"), start=2):
        if not line.strip():
            continue
        try:
            out.append(msgspec.json.decode(line))
        except msgspec.DecodeError as exc:
            raise InputError(
                f"line {number} of the history is not JSON (truncated file?): {exc}"
            ) from None
    return out


# -- histories --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class History:
    """A validated history: seq first..n without gaps, recorded times increasing, seq 1 (when
    held) a `brain_created` and no other event one."""

    source_id: str
    source_name: str
    events: list[ev.Envelope]
    first: int = 1

    @property
    def seq(self) -> int:
        return self.first + len(self.events) - 1

    def size_hint(self) -> int:
        return sum(len(getattr(e.body, "text", "")) * 2 + 512 for e in self.events)


def parse_history(records: Iterable[Any], progress: Progress | None = None) -> History:
    """Validate a header and its event records (as `export_history` yields them or a history
    file holds them) into envelopes; anything wrong is an InputError naming the record."""
    it = iter(records)
    header = next(it, None)
    if header is None:
        raise InputError("the history is empty: it has no header")
    source_id, source_name, first, total = _header(header)
    events: list[ev.Envelope] = []
    last_t = -1
    for number, record in enumerate(it, start=2):
        env = _envelope(record, f"record {number}")
        expected = first + len(events)
        if env.seq != expected:
            if not events:
                raise InputError(
                    f"the history starts at seq {env.seq}: its header says it starts at {first}"
                )
            if env.seq > expected:
                raise InputError(
                    f"the history has a gap: seq {expected} is missing (record {number} is "
                    f"seq {env.seq})"
                )
            raise InputError(f"record {number}: seq {env.seq} comes again after seq {expected - 1}")
        if env.t <= last_t:
            raise InputError(f"seq {env.seq}: its recorded time is not after the previous one")
        last_t = env.t
        if isinstance(env.body, ev.BrainCreated) != (env.seq == 1):
            raise InputError(
                f"seq {env.seq}: a history starts with brain_created, and has only that one"
            )
        events.append(env)
        if progress is not None and env.seq % 1024 == 0:
            progress(env.seq, total)
    if first + len(events) - 1 != total:
        raise InputError(
            f"the history ends at seq {first + len(events) - 1} but its header says {total}: "
            "the file is truncated"
        )
    if progress is not None:
        progress(total, total)
    return History(source_id, source_name, events, first)


def _header(header: Any) -> tuple[str, str, int, int]:
    if not isinstance(header, dict) or header.get("format") != HISTORY_FORMAT:
        raise InputError(
            f"not a NeuralMemory history: the first record must be its header "
            f'({{"format": "{HISTORY_FORMAT}", ...}})'
        )
    version, schema = header.get("version"), header.get("schema", ev.SCHEMA_VERSION)
    if not isinstance(version, int) or not isinstance(schema, int):
        raise InputError("history header: version and schema must be integers")
    if version > HISTORY_VERSION:
        raise InputError(
            f"history format version {version} is newer than this NeuralMemory reads "
            f"({HISTORY_VERSION}); upgrade NeuralMemory to import it"
        )
    if schema > ev.SCHEMA_VERSION:
        raise InputError(
            f"the history holds events of schema {schema}, newer than this NeuralMemory "
            f"understands ({ev.SCHEMA_VERSION}); upgrade NeuralMemory to import it"
        )
    source_id, name, seq = header.get("brain_id"), header.get("brain_name"), header.get("seq")
    if not isinstance(source_id, str) or not MEMORY_ID.fullmatch(source_id):
        raise InputError("history header: brain_id must be the source brain's id")
    if not isinstance(name, str) or not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise InputError("history header: brain_name must be a string and seq a positive integer")
    first = header.get("from", 1)
    if not isinstance(first, int) or isinstance(first, bool) or not 1 <= first <= seq:
        raise InputError("history header: 'from' must be a seq from 1 to the header's seq")
    return source_id, name, first, seq


def _envelope(record: Any, where: str) -> ev.Envelope:
    if not isinstance(record, dict) or not isinstance(record.get("body"), dict):
        raise InputError(f"{where}: not an event (an object with seq, t, cid, type and body)")
    version = record.get("v", ev.SCHEMA_VERSION)
    if not isinstance(version, int):
        raise InputError(f"{where}: the schema version 'v' must be an integer")
    if version > ev.SCHEMA_VERSION:
        raise InputError(
            f"{where} (seq {record.get('seq')}): event schema {version} is newer than this "
            f"NeuralMemory understands ({ev.SCHEMA_VERSION}); upgrade NeuralMemory to import it"
        )
    raw = {
        "seq": record.get("seq"),
        "t": record.get("t"),
        "cid": record.get("cid"),
        "v": version,
        "body": {**record["body"], "type": record.get("type")},
    }
    try:
        if version == ev.SCHEMA_VERSION:  # convert: JSON carries bytes (vectors) as base64
            return msgspec.convert(raw, ev.Envelope)
        return ev.decode(msgspec.msgpack.encode(raw))  # upcasts an older schema
    except (DataError, msgspec.EncodeError, msgspec.ValidationError) as exc:
        raise InputError(f"{where}: not a valid event: {exc}") from None


def refused_secret(env: ev.Envelope, exc: SensitiveContentError, policy: str) -> InputError:
    """The error for an event of a history holding a secret (refused by the log's boundary):
    it names the seq, memory and field, never the secret."""
    memory = ev.touched(env.body)
    where = f"seq {env.seq}" + (f" (memory {memory[0]})" if len(memory) == 1 else "")
    where += f", {exc.field}" if exc.field else ""
    if policy == "redact":
        return InputError(
            f"{where}: {exc.found}; a history cannot be imported redacted (its events record "
            "the linked words, secrets included): import it with the 'allow' policy (nmem "
            "import --force), or move a snapshot instead (nmem export --exclude-sensitive, or "
            "nmem import --redact of a snapshot); nothing was imported"
        )
    return InputError(
        f"{where}: {exc.found}; nothing was imported (the 'allow' policy imports it anyway; "
        "nmem: --force)"
    )


# -- snapshots --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SnapshotPlan:
    """What a snapshot adds to a brain: projects (created first, matched by name), memories
    in event-time order (each keeps its id; `cid` "snapshot:<id>"), and the memories that
    were pinned or forgotten in the exporting brain."""

    kind: str  # OURS | ORIGINAL
    brain_id: str | None
    brain_name: str | None
    projects: list[ev.Project]
    memories: list[MemoryInput]
    status: dict[str, str] = field(default_factory=dict)  # memory id -> pinned | forgotten
    warnings: list[str] = field(default_factory=list)


def parse_snapshot(data: Any) -> SnapshotPlan:
    """Map a snapshot (ours, or the original NeuralMemory's) to inputs for the encoder.

    A memory's text is its fiber's anchor neuron content; its event time the fiber's
    `time_start` (else `created_at`); type, priority, tags, expiry and project come from its
    typed memory. The original wrote naive times: `time_start` in local time (its CLI and MCP
    stamped fibers with `now()`), every other time in UTC (its model defaults used
    `utcnow()`); a fiber without a typed memory gets a detected type and no expiry.
    """
    if not isinstance(data, dict):
        raise InputError("not a NeuralMemory snapshot: expected a JSON object")
    if "fibers" not in data and isinstance(data.get("snapshot"), dict):
        data = data["snapshot"]  # the original CLI's brain file wraps its snapshot
    if data.get("format") == HISTORY_FORMAT:
        raise InputError("this is a history export, not a snapshot: import it as a history")
    missing = [k for k in ("neurons", "fibers") if k not in data]
    if missing:
        raise InputError(f"not a NeuralMemory snapshot: missing {', '.join(missing)}")
    kind = OURS if data.get("version") == SNAPSHOT_VERSION else ORIGINAL
    warnings: list[str] = []
    contents = _anchor_contents(_list(data, "neurons", "snapshot"))
    metadata = data.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise InputError("snapshot metadata must be an object")
    projects = _projects(_list(metadata, "projects", "metadata"), warnings)
    names = {p.id: p.name for p in projects}
    typed = _typed(_list(metadata, "typed_memories", "metadata"))
    memories: list[tuple[int, int, MemoryInput]] = []
    status: dict[str, str] = {}
    seen: set[str] = set()
    for i, fiber in enumerate(_list(data, "fibers", "snapshot")):
        where = f"fibers[{i}]"
        if not isinstance(fiber, dict):
            raise InputError(f"{where}: expected an object")
        fid = _str(fiber, "id", where)
        where = f"{where} (id {fid})"
        if not MEMORY_ID.fullmatch(fid):
            raise InputError(f"{where}: a memory id has 1-64 letters, digits, '_' or '-'")
        if fid in seen:
            raise InputError(f"{where}: two fibers share this id")
        seen.add(fid)
        anchor = _str(fiber, "anchor_neuron_id", where)
        text = contents.get(anchor)
        if text is None:
            raise InputError(f"{where}: its anchor neuron {anchor!r} is not in the snapshot")
        if not text.strip():
            raise InputError(f"{where}: its anchor neuron holds no text")
        if len(text) > MAX_TEXT_CHARS:
            raise InputError(f"{where}: text too long ({len(text)} > {MAX_TEXT_CHARS} characters)")
        when = _time(fiber.get("time_start"), f"{where}.time_start", local=True)
        if when is None:
            when = _time(fiber.get("created_at"), f"{where}.created_at", local=False)
        tags = _strings(fiber.get("tags") or [], f"{where}.tags")
        meta = _plain_meta(fiber.get("metadata") or {}, f"{where}.metadata")
        tm = typed.pop(fid, None)
        options: dict[str, Any] = {"expires_at": "never"}
        if tm is not None:
            options, state = _typed_options(tm, fid, names, kind, warnings)
            tags = [*tags, *(t for t in tm["tags"] if t not in tags)]
            if state in ("pinned", "forgotten"):
                status[fid] = state
            if tm["memory_type"] in TYPE_ALIASES:
                meta["original_type"] = tm["memory_type"]
        item = MemoryInput(
            text=text, event_time=when, tags=tags, source="import", meta=meta,
            cid=f"snapshot:{fid}", id=fid, **options,
        )  # fmt: skip
        memories.append((0 if when is None else to_us(when), i, item))
    if typed:
        warnings.append(f"{len(typed)} typed memories without a fiber were skipped")
    memories.sort(key=lambda m: (m[0], m[1]))
    brain_id, brain_name = data.get("brain_id"), data.get("brain_name")
    return SnapshotPlan(
        kind=kind,
        brain_id=brain_id if isinstance(brain_id, str) else None,
        brain_name=brain_name if isinstance(brain_name, str) else None,
        projects=projects,
        memories=[m for _, _, m in memories],
        status=status,
        warnings=warnings,
    )


def _list(data: dict[str, Any], key: str, where: str) -> list[Any]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError(f"{where}.{key} must be a list")
    return value


def _str(data: dict[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise InputError(f"{where}: missing or empty {key!r} (a string)")
    return value


def _strings(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{where} must be a list of strings")
    return list(dict.fromkeys(value))


def _time(value: Any, where: str, *, local: bool) -> datetime | None:
    """An ISO time; a naive one is local time if `local`, else UTC."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(f"{where} must be an ISO time string")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(f"{where}: {value!r} is not an ISO time") from None
    if moment.tzinfo is None and not local:
        moment = moment.replace(tzinfo=UTC)
    return moment


def _anchor_contents(neurons: list[Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for i, neuron in enumerate(neurons):
        if not isinstance(neuron, dict):
            raise InputError(f"neurons[{i}]: expected an object")
        nid, content = neuron.get("id"), neuron.get("content")
        if not isinstance(nid, str) or not isinstance(content, str):
            raise InputError(f"neurons[{i}]: id and content must be strings")
        out[nid] = content
    return out


def _plain_meta(value: Any, where: str) -> dict[str, str | int | float | bool | None]:
    """Metadata as the engine keeps it: plain values; nested ones are kept as JSON text."""
    if not isinstance(value, dict):
        raise InputError(f"{where} must be an object")
    out: dict[str, str | int | float | bool | None] = {}
    for key, item in value.items():
        out[str(key)] = (
            item
            if isinstance(item, str | int | float | bool | None)
            else json.dumps(item, ensure_ascii=False, default=str)
        )
    return out


def _typed(items: list[Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for i, tm in enumerate(items):
        where = f"metadata.typed_memories[{i}]"
        if not isinstance(tm, dict):
            raise InputError(f"{where}: expected an object")
        fid = _str(tm, "fiber_id", where)
        where = f"{where} (fiber {fid})"
        kind = _str(tm, "memory_type", where)
        project = tm.get("project_id")
        if project is not None and not isinstance(project, str):
            raise InputError(f"{where}: project_id must be a string or null")
        meta = tm.get("metadata") or {}
        if not isinstance(meta, dict):
            raise InputError(f"{where}: metadata must be an object")
        # our brain file for the original keeps our exact priority beside its level
        ours = meta.get("neuralmemory")
        prio = ours["priority"] if isinstance(ours, dict) and "priority" in ours else None
        prio = tm.get("priority", 5) if prio is None else prio
        if isinstance(prio, bool) or not isinstance(prio, int):
            raise InputError(f"{where}: priority must be an integer 0-10")
        out[fid] = {
            "memory_type": kind.strip().lower(),
            "priority": prio,
            "expires_at": _time(tm.get("expires_at"), f"{where}.expires_at", local=False),
            "project_id": project,
            "tags": _strings(tm.get("tags") or [], f"{where}.tags"),
            "status": meta.get("status"),
        }
    return out


def _typed_options(
    tm: dict[str, Any], fid: str, names: dict[str, str], kind: str, warnings: list[str]
) -> tuple[dict[str, Any], str | None]:
    project = tm["project_id"]
    if project is not None and project not in names:
        warnings.append(f"memory {fid}: its project {project} is not in the snapshot (dropped)")
    options = {
        "memory_type": TYPE_ALIASES.get(tm["memory_type"], tm["memory_type"]),
        "priority": tm["priority"],
        "expires_at": tm["expires_at"] or "never",
        "project": names.get(project) if project is not None else None,
    }
    status = tm["status"] if kind == OURS and isinstance(tm["status"], str) else None
    return options, status


def _projects(items: list[Any], warnings: list[str]) -> list[ev.Project]:
    out: list[ev.Project] = []
    names: set[str] = set()
    for i, pr in enumerate(items):
        where = f"metadata.projects[{i}]"
        if not isinstance(pr, dict):
            raise InputError(f"{where}: expected an object")
        pid = _str(pr, "id", where)
        name = _str(pr, "name", where).strip()
        if not name or len(name) > MAX_PROJECT_NAME or len(pid) > 200:
            raise InputError(f"{where}: a project has a name of 1-100 characters and an id")
        if name.lower() in names:
            warnings.append(f"project {name!r} appears twice; its memories are merged")
        names.add(name.lower())
        start = _time(pr.get("start_date"), f"{where}.start_date", local=False)
        end = _time(pr.get("end_date"), f"{where}.end_date", local=False)
        description = pr.get("description") or ""
        priority = pr.get("priority", 1.0)
        if not isinstance(description, str):
            raise InputError(f"{where}: description must be a string")
        if isinstance(priority, bool) or not isinstance(priority, int | float):
            raise InputError(f"{where}: priority must be a number")
        out.append(
            ev.Project(
                id=pid,
                name=name,
                description=description,
                start=0 if start is None else to_us(start),
                end=None if end is None else to_us(end),
                tags=_strings(pr.get("tags") or [], f"{where}.tags"),
                priority=float(priority),
            )
        )
    return out
