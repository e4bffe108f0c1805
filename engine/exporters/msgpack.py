"""Snapshot as msgpack: the JSON snapshot's object as one msgpack map."""

from __future__ import annotations

from .base import FileFormat
from .json import Snapshot

FORMATS: dict[str, FileFormat] = {"msgpack": Snapshot(msgpack=True)}
