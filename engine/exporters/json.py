"""Snapshot as JSON: the brain's state as of a view, in the original NeuralMemory's
BrainSnapshot shape (engine/snapshot.py; `nmem import` and the original read it)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..importing import encode_snapshot
from .base import FileFormat, FileOptions

if TYPE_CHECKING:
    from ..reads import BrainView


class Snapshot:
    """`original`: in the original's brain-file conventions (engine/formats/original.py)."""

    def __init__(self, *, msgpack: bool, original: bool = False) -> None:
        self._msgpack = msgpack
        self._original = original

    def chunks(
        self, view: BrainView, options: FileOptions, summary: dict[str, Any]
    ) -> Iterator[bytes]:
        data = view.snapshot(exclude_sensitive=options.exclude_sensitive)
        if self._original:
            from ..formats.original import to_original

            data = to_original(data)
        summary.update(
            memories=len(data["fibers"]),
            neurons=len(data["neurons"]),
            synapses=len(data["synapses"]),
            projects=len(data["metadata"]["projects"]),
            excluded_sensitive=data["metadata"].get("excluded_sensitive", 0),
        )
        yield encode_snapshot(data, msgpack=self._msgpack)


FORMATS: dict[str, FileFormat] = {"json": Snapshot(msgpack=False)}
