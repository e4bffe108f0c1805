"""The original NeuralMemory's brain file: a JSON snapshot its `nmem brain import` accepts
(schema and conventions in engine/formats/original.py)."""

from __future__ import annotations

from .base import FileFormat
from .json import Snapshot

FORMATS: dict[str, FileFormat] = {"original": Snapshot(msgpack=False, original=True)}
