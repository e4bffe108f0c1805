"""Argument types shared by the tools: one description and one set of bounds per concept, so
every tool that takes a memory id, a moment or a priority says and checks the same thing."""

from typing import Annotated, Literal, get_args

from pydantic import Field

# The engine's ten memory types (engine.model.MemoryType; a test keeps the two in step).
MemoryTypeName = Literal[
    "fact",
    "decision",
    "preference",
    "todo",
    "insight",
    "context",
    "instruction",
    "error",
    "workflow",
    "reference",
]
MEMORY_TYPES: tuple[str, ...] = get_args(MemoryTypeName)

When = Annotated[
    str | int | None,
    Field(
        description=(
            "Answer as the brain would have at a past moment (what it had been told by then): "
            "an event sequence number (e.g. 42), an ISO time (2026-03-01T12:00) or a phrase "
            "like '3 days ago' or 'yesterday'. Omit for now."
        )
    ),
]
AsOf = Annotated[
    str | None,
    Field(
        description="The original NeuralMemory's name for `at`: an ISO time (or a phrase) to "
        "answer as the brain stood then. Give `at` or `as_of`, not both."
    ),
]
Priority = Annotated[
    int, Field(ge=0, le=10, description="Importance 0-10: 0 trivial, 5 normal, 10 critical.")
]
OptionalPriority = Annotated[
    int | None, Field(ge=0, le=10, description="Importance 0-10: 0 trivial, 5 normal, 10 critical.")
]
MinPriority = Annotated[
    int, Field(ge=0, le=10, description="Only memories of this priority or higher.")
]
MemoryId = Annotated[
    str,
    Field(
        min_length=4,
        max_length=200,
        description="A memory's id (the fiber_id nmem_remember returned, or an id from "
        "nmem_recall / nmem_context) or a unique prefix of at least 4 characters.",
    ),
]
Content = Annotated[
    str,
    Field(
        min_length=1,
        max_length=100_000,
        description="What to remember: one self-contained statement, naming who, what and "
        "when (e.g. 'We moved payments to PostgreSQL 16 on 2026-03-02 because of JSONB "
        "performance').",
    ),
]
Tags = Annotated[
    list[Annotated[str, Field(max_length=100)]] | None,
    Field(max_length=64, description="Tags, e.g. ['payments', 'db']."),
]
TagMode = Annotated[
    Literal["and", "or"],
    Field(description="With `tags`: 'and' (default) needs every tag, 'or' any of them."),
]
ExpiresDays = Annotated[
    float | None,
    Field(
        gt=0,
        lt=36_500,
        description="Expire after this many days. Default by type: context 7, todo 30, error 30, "
        "decision 90, insight 180, workflow 365; fact, preference, instruction and reference "
        "never expire.",
    ),
]
EventAt = Annotated[
    str | None,
    Field(
        max_length=200,
        description="When it happened, if not now: an ISO time ('2026-03-02T08:00:00') or a "
        "phrase ('yesterday 3pm', '2 days ago'). Recall and nmem_context show it as the "
        "memory's date.",
    ),
]
Types = Annotated[
    list[MemoryTypeName] | None,
    Field(max_length=10, description="Only memories of these types, e.g. ['decision', 'todo']."),
]
Project = Annotated[
    str | None, Field(max_length=200, description="Only memories of this project (by name).")
]

FiberIds = Annotated[
    list[Annotated[str, Field(min_length=4, max_length=200)]] | None,
    Field(max_length=200, description="The memories' ids (or unique prefixes)."),
]
Since = Annotated[
    str | None,
    Field(
        max_length=200,
        description="Only what happened at or after this (event time, not when memory learned "
        "it): an ISO time or a phrase ('last week', '2026-03-01', '3d').",
    ),
]
Until = Annotated[
    str | None,
    Field(
        max_length=200,
        description="Only what happened up to this (event time); a phrase's whole period "
        "counts ('yesterday' takes in all of yesterday).",
    ),
]
