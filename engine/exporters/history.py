"""History: every event of a brain up to a view (or the continuation after a seq), as JSON
lines or one streamed msgpack array; `nmem import` replays it into a brain event for event.
The format is documented in engine/importing.py."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from itertools import islice
from typing import TYPE_CHECKING, Any

import msgspec

from ..errors import InputError
from .base import FileFormat, FileOptions

if TYPE_CHECKING:
    from ..reads import BrainView

CHUNK = 512  # events per chunk of bytes


class History:
    def __init__(self, *, msgpack: bool) -> None:
        self._msgpack = msgpack

    def chunks(
        self, view: BrainView, options: FileOptions, summary: dict[str, Any]
    ) -> Iterator[bytes]:
        records = view.export_history(after=options.after)
        header = next(records)
        expected = int(header["seq"]) - int(header.get("from", 1)) + 1
        summary["events"] = 0
        encode = _msgpack if self._msgpack else _json_line
        if self._msgpack:
            yield b"\xdd" + struct.pack(">I", expected + 1) + encode(header)  # array32
        else:
            yield encode(header)
        while chunk := list(islice(records, CHUNK)):
            summary["events"] += len(chunk)
            yield b"".join(encode(record) for record in chunk)
            if options.progress is not None:
                options.progress(summary["events"], expected)
        if summary["events"] != expected:
            raise InputError(f"history has {summary['events']} events, its header says {expected}")


def _msgpack(record: Any) -> bytes:
    return msgspec.msgpack.encode(record)


def _json_line(record: Any) -> bytes:
    return msgspec.json.encode(record) + b"\n"


FORMATS: dict[str, FileFormat] = {
    "history": History(msgpack=False),
    "history-msgpack": History(msgpack=True),
}
