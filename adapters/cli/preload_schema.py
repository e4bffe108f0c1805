"""The request an `nmem` process hands `nmem preload` (preload.py): its own module, so a caller
that only forwards its command line does not import msgspec (tens of ms)."""

from __future__ import annotations

from typing import Annotated

import msgspec

# How a standard stream decodes or encodes text: encoding, errors, line buffering.
Stream = tuple[str, str, bool]


class Request(msgspec.Struct, forbid_unknown_fields=True):
    """A command line to run as the caller would: in its directory, with its environment,
    umask, standard streams' text settings (stdin, stdout, stderr) and Ctrl-C disposition."""

    argv: list[str]
    cwd: str
    env: dict[str, str]
    umask: Annotated[int, msgspec.Meta(ge=0, le=0o777)]
    streams: tuple[Stream, Stream, Stream]
    sigint_ignored: bool
