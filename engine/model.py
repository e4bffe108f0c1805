"""The vocabulary of a brain: neuron, synapse and memory types, priorities, expiry defaults.

Enums are stored in the log and the projection by their small integer codes (the index in
the tuple below), so the order of each tuple is part of the log format: append, never reorder.
"""

from __future__ import annotations

from enum import StrEnum

from .errors import InputError


class NeuronType(StrEnum):
    TIME = "time"
    SPATIAL = "spatial"
    ENTITY = "entity"
    ACTION = "action"
    STATE = "state"
    CONCEPT = "concept"
    SENSORY = "sensory"
    INTENT = "intent"


NEURON_TYPES: tuple[NeuronType, ...] = tuple(NeuronType)


class SynapseType(StrEnum):
    HAPPENED_AT = "happened_at"
    BEFORE = "before"
    AFTER = "after"
    DURING = "during"
    AT_LOCATION = "at_location"
    CONTAINS = "contains"
    NEAR = "near"
    CAUSED_BY = "caused_by"
    LEADS_TO = "leads_to"
    ENABLES = "enables"
    PREVENTS = "prevents"
    CO_OCCURS = "co_occurs"
    RELATED_TO = "related_to"
    SIMILAR_TO = "similar_to"
    IS_A = "is_a"
    HAS_PROPERTY = "has_property"
    INVOLVES = "involves"
    FELT = "felt"
    EVOKES = "evokes"


SYNAPSE_TYPES: tuple[SynapseType, ...] = tuple(SynapseType)

BIDIRECTIONAL: frozenset[SynapseType] = frozenset(
    {SynapseType.CO_OCCURS, SynapseType.RELATED_TO, SynapseType.SIMILAR_TO, SynapseType.NEAR}
)


class MemoryType(StrEnum):
    FACT = "fact"
    DECISION = "decision"
    PREFERENCE = "preference"
    TODO = "todo"
    INSIGHT = "insight"
    CONTEXT = "context"
    INSTRUCTION = "instruction"
    ERROR = "error"
    WORKFLOW = "workflow"
    REFERENCE = "reference"


MEMORY_TYPES: tuple[MemoryType, ...] = tuple(MemoryType)

DEFAULT_EXPIRY_DAYS: dict[MemoryType, int | None] = {
    MemoryType.FACT: None,
    MemoryType.DECISION: 90,
    MemoryType.PREFERENCE: None,
    MemoryType.TODO: 30,
    MemoryType.INSIGHT: 180,
    MemoryType.CONTEXT: 7,
    MemoryType.INSTRUCTION: None,
    MemoryType.ERROR: 30,
    MemoryType.WORKFLOW: 365,
    MemoryType.REFERENCE: None,
}

PRIORITY_MIN, PRIORITY_MAX = 0, 10


def memory_type(value: str | MemoryType) -> MemoryType:
    """Parse a memory type name, with an error that lists the valid ones."""
    try:
        return MemoryType(str(value).strip().lower())
    except ValueError:
        names = ", ".join(t.value for t in MemoryType)
        raise InputError(f"unknown memory type {value!r}; expected one of: {names}") from None


def priority(value: int) -> int:
    """Validate a priority: out-of-range values are refused, not silently bucketed."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"priority must be an integer 0-10, got {value!r}")
    if not PRIORITY_MIN <= value <= PRIORITY_MAX:
        raise InputError(f"priority must be between 0 and 10, got {value}")
    return value
