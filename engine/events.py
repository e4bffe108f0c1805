"""The event catalogue: what a brain's log is made of.

Events carry *results*, not requests: a `MemoryEncoded` holds the neurons and links the
encoder decided on, so replay never re-runs extraction and a history stays the same history
when the encoder improves. Bodies are a msgspec tagged union; the envelope carries the
sequence, recorded time, client id and schema version. Old schema versions are upcast as
plain dicts before validation, so a new field never breaks an old log.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from .errors import DataError

SCHEMA_VERSION = 1

Meta = dict[str, str | int | float | bool | None]


class BrainConfig(msgspec.Struct, frozen=True, gc=False):
    """Per-brain knobs; every field has a default so old logs decode with new fields."""

    activation_threshold: float = 0.05
    max_spread_hops: int = 4
    max_context_tokens: int = 1500
    hop_decay: float = 0.5
    temporal_link_window_s: int = 6 * 3600
    temporal_links: int = 2
    checkpoint_every: int = 8192


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
    `neurons` follow it. Every link starts at the anchor, so only targets are stored.
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
    source: str = "api"
    meta: Meta = {}


Body = BrainCreated | BrainConfigured | MemoryEncoded


class Envelope(msgspec.Struct, frozen=True, gc=False):
    """One stored event: the log assigns `seq` and `t` (recorded time, µs since the epoch, UTC)."""

    seq: int
    t: int
    cid: str
    body: Body
    v: int = SCHEMA_VERSION


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(Envelope)
_loose_decoder = msgspec.msgpack.Decoder()

# version n -> function turning a version-n envelope dict into a version n+1 dict
UPCASTERS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


def encode(env: Envelope) -> bytes:
    return _encoder.encode(env)


def decode(data: bytes | memoryview) -> Envelope:
    """Decode one stored event, upcasting old schema versions; corrupt bytes raise DataError."""
    try:
        env = _decoder.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raw = _safe_loose(data)
        if raw is None or not isinstance(raw.get("v"), int) or raw["v"] == SCHEMA_VERSION:
            raise DataError(f"corrupt event record: {exc}") from exc
        return _upcast(raw)
    if env.v != SCHEMA_VERSION:
        return _upcast(msgspec.to_builtins(env))
    return env


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


def to_jsonable(env: Envelope) -> dict[str, Any]:
    """The event as plain JSON-able data, for history output and history export."""
    out: dict[str, Any] = msgspec.to_builtins(env)
    out["type"] = out["body"].pop("type")
    return out
