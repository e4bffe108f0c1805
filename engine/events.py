"""The event catalogue: what a brain's log is made of.

Events carry *results*, not requests: a `MemoryEncoded` holds the neurons and links the
encoder decided on, so replay never re-runs extraction and a history stays the same history
when the encoder improves. Bodies are a msgspec tagged union; the envelope carries the
sequence, recorded time, client id and schema version. Old schema versions are upcast as
plain dicts before validation, so a new field never breaks an old log.

Schema 2 (this one) packs a memory's links into one bytes field (`MemoryEncoded.links`,
records of `LINK`): replay decodes them straight into numpy arrays instead of three Python
objects per link. A schema-1 record (link lists) has the same layout as a schema-2 record
without `links`, so it is read as it is, and an older NeuralMemory refuses a schema-2 log
instead of silently reading its memories without links.
"""

import functools
import struct
import typing
from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Annotated, Any, Final

import msgspec
import numpy as np
import numpy.typing as npt

from .errors import DataError, InputError, IntegrityError

SCHEMA_VERSION = 2
# one packed link: target neuron, synapse type, weight (little-endian, no padding)
LINK = np.dtype([("dst", "<u4"), ("type", "u1"), ("w", "<f8")])

Meta = dict[str, str | int | float | bool | None]
# an embedding model id ("" = the semantic layer off) and a vector's dimensions
ModelId = Annotated[str, msgspec.Meta(pattern=r"^([a-z0-9][a-z0-9.-]{0,63})?$")]
Dims = Annotated[int, msgspec.Meta(ge=0, le=4096)]


Share = Annotated[float, msgspec.Meta(ge=0, lt=1)]  # a fraction: 0 included, 1 not
DAY_S = 86_400


class BrainConfig(msgspec.Struct, frozen=True, gc=False):
    """Per-brain knobs; every field has a default so old logs decode with new fields.

    Each has a range (its `Meta`): msgspec checks it wherever a configuration is decoded (the
    log, a history import, `settings`), so no path can store one that breaks recall."""

    activation_threshold: Share = 0.02
    max_context_tokens: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] = 1500
    hop_decay: Annotated[float, msgspec.Meta(gt=0, le=1)] = 0.5
    temporal_link_window_s: Annotated[int, msgspec.Meta(ge=0, le=365 * DAY_S)] = 6 * 3600
    temporal_links: Annotated[int, msgspec.Meta(ge=0, le=100)] = 2
    checkpoint_every: Annotated[int, msgspec.Meta(ge=1, le=1 << 30)] = 8192
    sensitive_policy: typing.Literal["block", "redact", "allow"] = "block"
    reinforce_delta: Annotated[float, msgspec.Meta(ge=0, le=1)] = 0.05
    prune_retention: Share = 0.05  # a link kept below this share of its weight is pruned
    # an open brain sweeps decay when the last sweep is older
    decay_interval_s: Annotated[int, msgspec.Meta(ge=0, le=3650 * DAY_S)] = DAY_S


def settings(values: typing.Mapping[str, Any]) -> BrainConfig:
    """A configuration from setting values (names of `BrainConfig`, missing ones default),
    each checked against its range; an InputError names the setting and its range."""
    unknown = set(values) - set(BrainConfig.__struct_fields__)
    if unknown:
        raise InputError(
            f"unknown setting(s) {', '.join(sorted(unknown))}; "
            f"known: {', '.join(BrainConfig.__struct_fields__)}"
        )
    try:
        return msgspec.convert(dict(values), BrainConfig)
    except msgspec.ValidationError as exc:
        name = str(exc).rpartition("$.")[2].rstrip("`")
        if name not in values:
            raise InputError(f"invalid setting: {exc}") from None
        raise InputError(
            f"setting {name} must be {setting_range(name)}, got {values[name]!r}"
        ) from None


def setting_range(name: str) -> str:
    """'an integer from 1 to 1000000', 'a number at least 0 and below 1', 'one of ...'."""
    info = msgspec.inspect.type_info(BrainConfig)
    assert isinstance(info, msgspec.inspect.StructType)
    kind = next(f.type for f in info.fields if f.name == name)
    if isinstance(kind, msgspec.inspect.LiteralType):
        return "one of " + ", ".join(map(str, kind.values))
    assert isinstance(kind, msgspec.inspect.IntType | msgspec.inspect.FloatType)
    integer = isinstance(kind, msgspec.inspect.IntType)
    what = "an integer" if integer else "a number"

    def shown(x: float) -> str:
        return str(int(x)) if integer else f"{x:g}"

    if kind.ge is not None and kind.le is not None:
        return f"{what} from {shown(kind.ge)} to {shown(kind.le)}"
    low = f"at least {shown(kind.ge)}" if kind.ge is not None else f"above {shown(kind.gt or 0)}"
    high = f"at most {shown(kind.le)}" if kind.le is not None else f"below {shown(kind.lt or 0)}"
    return f"{what} {low} and {high}"


class NeuronSpec(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """A neuron created by an event; `start`/`end` (µs) bound the time a time neuron stands for."""

    type: int
    key: str
    content: str
    start: int = 0
    end: int = 0


class BrainCreated(msgspec.Struct, tag="brain_created", frozen=True, gc=False):
    name: str
    config: BrainConfig = BrainConfig()


class BrainConfigured(msgspec.Struct, tag="brain_configured", frozen=True, gc=False):
    config: BrainConfig


class MemoryEncoded(msgspec.Struct, tag="memory_encoded", frozen=True, gc=False):
    """One remembered text with everything the encoder decided.

    The anchor neuron (the memory itself) is created implicitly at index `first_neuron`;
    `neurons` follow it. Every link starts at the anchor, so only targets are stored: packed
    in `links` (schema 2), or in the three `link_*` lists of a schema-1 record, never both.
    `erased` marks a record whose content was redacted by a later hard erase.
    """

    fiber_id: str
    text: str
    first_neuron: int
    event_start: int
    event_end: int
    memory_type: str
    priority: int
    salience: float
    neurons: list[NeuronSpec] = []
    link_targets: list[int] = []
    link_types: list[int] = []
    link_weights: list[float] = []
    tags: list[str] = []
    expires_at: int | None = None
    project: str | None = None
    source: str = "api"
    meta: Meta = {}
    erased: bool = False
    vector: bytes = b""  # int8 row of the brain's embedding model (engine/semantic/base.py)
    vector_scale: float = 0.0
    links: bytes = b""  # `LINK` records (see `pack_links`)

    def link_columns(self) -> npt.NDArray[np.void]:
        """The links as one `LINK` array, whichever way the record stores them (IntegrityError
        for columns that do not fit together)."""
        if self.links:
            if len(self.links) % LINK.itemsize or self.link_targets:
                raise IntegrityError("packed links are cut short or doubled")
            return np.frombuffer(self.links, dtype=LINK)
        if not len(self.link_targets) == len(self.link_types) == len(self.link_weights):
            raise IntegrityError("link columns differ in length")
        try:
            packed = pack_links(self.link_targets, self.link_types, self.link_weights)
        except OverflowError:
            raise IntegrityError("link to an unknown neuron or of an unknown type") from None
        return np.frombuffer(packed, dtype=LINK)


_LINK_RECORD: Final = struct.Struct("<IBd")  # one `LINK` record


def pack_links(targets: list[int], types: list[int], weights: list[float]) -> bytes:
    """`MemoryEncoded.links` for these columns (a target or type out of range raises
    OverflowError). Packed record by record: for a memory's dozen links, faster than
    filling an array."""
    if not len(targets) == len(types) == len(weights):
        raise ValueError("link columns differ in length")
    try:
        return b"".join(map(_LINK_RECORD.pack, targets, types, weights))
    except struct.error as e:
        raise OverflowError(f"a link does not fit its record: {e}") from None


class MemoryEdited(msgspec.Struct, tag="memory_edited", frozen=True, gc=False):
    """New text for a memory: its old word links are cut (`removed`) and new ones made."""

    fiber_id: str
    text: str
    first_neuron: int
    removed: list[int]
    neurons: list[NeuronSpec] = []
    link_targets: list[int] = []
    link_types: list[int] = []
    link_weights: list[float] = []
    erased: bool = False
    vector: bytes = b""  # the new text's vector: an edit re-embeds
    vector_scale: float = 0.0


class MemoryRetyped(msgspec.Struct, tag="memory_retyped", frozen=True, gc=False):
    """New type, priority, expiry, tags or project: every field holds the value after."""

    fiber_id: str
    memory_type: str
    priority: int
    expires_at: int | None
    tags: list[str]
    project: str | None = None


class MemoryPinned(msgspec.Struct, tag="memory_pinned", frozen=True, gc=False):
    fiber_id: str


class MemoryUnpinned(msgspec.Struct, tag="memory_unpinned", frozen=True, gc=False):
    fiber_id: str


class MemoryForgotten(msgspec.Struct, tag="memory_forgotten", frozen=True, gc=False):
    """Soft forget: hidden from every read until restored."""

    fiber_id: str
    reason: str = ""


class MemoryRestored(msgspec.Struct, tag="memory_restored", frozen=True, gc=False):
    fiber_id: str


class MemoryErased(msgspec.Struct, tag="memory_erased", frozen=True, gc=False):
    """Hard erase. The memory's earlier records are redacted in place; this event keeps the
    fact that it happened, and which neurons and links went with it."""

    fiber_id: str
    by: str
    neurons: list[int]
    synapses: list[int]


class SynapsesReinforced(msgspec.Struct, tag="synapses_reinforced", frozen=True, gc=False):
    """Hebbian strengthening from recall: links that carried activation to recalled memories.
    Their decay clock restarts at this event's recorded time.

    One event records many recalls (coalesced across processes): `counts[i]` is how many
    carried `synapses[i]` (its reinforcement count grows by that much), `uses[j]` how many
    brought `fiber_ids[j]` to the top, `recalls` how many there were. Empty lists (events
    written before coalescing) mean one each."""

    synapses: list[int]
    weights: list[float]
    fiber_ids: list[str] = []
    counts: list[int] = []
    uses: list[int] = []
    recalls: int = 1


class DecayApplied(msgspec.Struct, tag="decay_applied", frozen=True, gc=False):
    """A decay sweep: the links whose retained weight fell below the floor are pruned."""

    pruned: list[int]
    fiber_ids: list[str] = []


class MemoriesExpired(msgspec.Struct, tag="memories_expired", frozen=True, gc=False):
    """An expiry sweep: memories past their expiry, recorded as expired. Their links stay, so
    `include_expired` still reaches them and a new expiry brings them back."""

    fiber_ids: list[str]


class SemanticModelSet(msgspec.Struct, tag="semantic_model_set", frozen=True, gc=False):
    """The brain's embedding model from here on ("" turns the semantic layer off). Vectors
    written later belong to it; a past view searches the vectors of the model it had."""

    model: ModelId
    dims: Dims = 0


class MemoriesEmbedded(msgspec.Struct, tag="memories_embedded", frozen=True, gc=False):
    """Vectors for existing memories (a backfill or rebuild): int8 rows in `fiber_ids` order,
    one scale each. A row replaces the memory's earlier vector of the same model."""

    model: ModelId
    fiber_ids: list[str]
    vectors: bytes
    scales: list[float]


class Project(msgspec.Struct, frozen=True, gc=False):
    """A named time window memories can belong to."""

    id: str
    name: str
    description: str = ""
    start: int = 0
    end: int | None = None  # None: ongoing
    tags: list[str] = []
    priority: float = 1.0


class ProjectCreated(msgspec.Struct, tag="project_created", frozen=True, gc=False):
    project: Project


class ProjectChanged(msgspec.Struct, tag="project_changed", frozen=True, gc=False):
    project: Project


class ProjectDeleted(msgspec.Struct, tag="project_deleted", frozen=True, gc=False):
    project_id: str


Body = (
    BrainCreated
    | BrainConfigured
    | MemoryEncoded
    | MemoryEdited
    | MemoryRetyped
    | MemoryPinned
    | MemoryUnpinned
    | MemoryForgotten
    | MemoryRestored
    | MemoryErased
    | SynapsesReinforced
    | DecayApplied
    | MemoriesExpired
    | SemanticModelSet
    | MemoriesEmbedded
    | ProjectCreated
    | ProjectChanged
    | ProjectDeleted
)


class Envelope(msgspec.Struct, frozen=True, gc=False):
    """One stored event: the log assigns `seq` and `t` (recorded time, µs since the epoch, UTC)."""

    seq: int
    t: int
    cid: str
    body: Body
    v: int = SCHEMA_VERSION


_encoder = msgspec.msgpack.Encoder()
_VERSION = attrgetter("v")
_loose_decoder = msgspec.msgpack.Decoder()


@functools.cache
def _decoder() -> msgspec.msgpack.Decoder[Envelope]:
    """Made on first use: it resolves the annotations of every event type (2-3 ms), which a
    read answered from a checkpoint with no later events does without."""
    return msgspec.msgpack.Decoder(Envelope)


# version n -> function turning a version-n envelope dict into a version n+1 dict
UPCASTERS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: lambda raw: raw}
# versions whose records decode as the current schema unchanged: no dict round trip
_SAME_LAYOUT = frozenset({1})


def encode(env: Envelope) -> bytes:
    return _encoder.encode(env)


def decode(data: bytes | memoryview) -> Envelope:
    """Decode one stored event, upcasting old schema versions; corrupt bytes raise DataError."""
    try:
        env = _decoder().decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raw = _safe_loose(data)
        if raw is None or not isinstance(raw.get("v"), int) or raw["v"] == SCHEMA_VERSION:
            raise DataError(f"corrupt event record: {exc}") from exc
        return _upcast(raw)
    if env.v != SCHEMA_VERSION:
        if env.v in _SAME_LAYOUT:
            return msgspec.structs.replace(env, v=SCHEMA_VERSION)
        return _upcast(msgspec.to_builtins(env))
    return env


def decode_many(records: Sequence[bytes | memoryview]) -> list[Envelope]:
    """`decode` of each record: one decoder call each when all are of this schema."""
    try:
        envs = list(map(_decoder().decode, records))
    except (msgspec.DecodeError, msgspec.ValidationError):
        return list(map(decode, records))  # upcast, or the clear error
    if list(map(_VERSION, envs)).count(SCHEMA_VERSION) != len(envs):
        return list(map(decode, records))
    return envs


def _safe_loose(data: bytes | memoryview) -> dict[str, Any] | None:
    try:
        raw = _loose_decoder.decode(data)
    except msgspec.DecodeError:
        return None
    return raw if isinstance(raw, dict) else None


def _upcast(raw: dict[str, Any]) -> Envelope:
    version = raw["v"]
    if version > SCHEMA_VERSION:
        raise DataError(
            f"event written by a newer NeuralMemory (schema {version} > {SCHEMA_VERSION}); upgrade"
        )
    while version < SCHEMA_VERSION:
        step = UPCASTERS.get(version)
        if step is None:
            raise DataError(f"no upcaster from event schema {version}")
        raw = step(raw)
        version += 1
        raw["v"] = version
    try:
        return msgspec.convert(raw, Envelope)
    except msgspec.ValidationError as exc:
        raise DataError(f"corrupt event record after upcast: {exc}") from exc


def touched(body: Body) -> list[str]:
    """Ids of the memories an event touched: the history index of each memory."""
    if isinstance(body, SynapsesReinforced | DecayApplied | MemoriesExpired | MemoriesEmbedded):
        return list(body.fiber_ids)
    fiber_id = getattr(body, "fiber_id", None)
    return [fiber_id] if isinstance(fiber_id, str) else []


def type_name(body: Body | type) -> str:
    kind = body if isinstance(body, type) else type(body)
    tag: str = getattr(kind, "__struct_config__").tag  # noqa: B009 - typed as plain `type`
    return tag


EVENT_TYPES: tuple[str, ...] = tuple(type_name(t) for t in typing.get_args(Body))


def to_jsonable(env: Envelope) -> dict[str, Any]:
    """The event as plain JSON-able data, for history output and history export."""
    out: dict[str, Any] = msgspec.to_builtins(env)
    body = out["body"]
    out["type"] = body.pop("type")
    if isinstance(env.body, MemoryEncoded):  # links shown as the three lists, however stored
        links = env.body.link_columns()
        body["link_targets"], body["link_types"] = links["dst"].tolist(), links["type"].tolist()
        body["link_weights"] = links["w"].tolist()
        del body["links"]
    return out
