"""One line, exit 2, when the storage library stops the process.

LMDB trusts its pages: some damage to a data file (bytes flipped in a branch page, a file
truncated while another process has it mapped) ends in an assertion (SIGABRT), a SIGBUS or a
SIGSEGV inside the library, where no exception can be raised. The engine refuses every damage
it can see before that (engine/logstore/lmdb.py); for the rest, `nmem` commands that open a
store install this handler, so the process still ends with one line and exit code 2 instead of
"Aborted (core dumped)". The handler is a C-level one (through ctypes): it runs on the thread
that faulted, writes its line and leaves at once.
"""

from __future__ import annotations

import os
from typing import Any

_installed: list[Any] = []  # the C callback must outlive the process's use of it


def install(location: str) -> None:
    if _installed:
        return
    import ctypes
    import signal

    message = (
        "nmem: error: store error: the storage library stopped this process ({}) while using "
        f"the store at {location}: its files are probably damaged (restore them from a backup)\n"
    )

    def stopped(signum: int) -> None:
        os.write(2, message.format(signal.Signals(signum).name).encode())
        os._exit(2)

    handler = ctypes.CFUNCTYPE(None, ctypes.c_int)(stopped)
    libc = ctypes.CDLL(None)
    for sig in (signal.SIGABRT, signal.SIGBUS, signal.SIGSEGV):
        libc.signal(sig, handler)
    _installed.append(handler)
