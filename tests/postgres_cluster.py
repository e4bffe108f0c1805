"""A real PostgreSQL server for the suites that need one: initdb'd in a temporary directory,
started on 127.0.0.1 on a free port (as the `postgres` user when the tests run as root, since
initdb refuses root), one database for the test run, stopped and removed at the end.

Each store a test opens lives in a schema of its own in that database (the URL names it with
`options=-csearch_path=...`), which is much quicker than a database per test.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from services import free_port, need

DATABASE = "nmem_test"
READY_SECONDS = 60  # a loaded machine starts a server slowly; a broken one never answers


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=_version)
    return versions[-1] if versions else None


def _version(path: str) -> int:
    part = Path(path).parts[-3]
    return int(part) if part.isdigit() else 0


class Cluster:
    """`fsync`: off for the tests (nothing here must survive a power cut), on for benchmarks."""

    def __init__(self, *, fsync: bool = False) -> None:
        initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
        if initdb is None or pg_ctl is None:
            need("PostgreSQL", "initdb/pg_ctl not found (Debian: apt install postgresql)")
        try:
            import psycopg
        except ImportError:
            need("psycopg", "the PostgreSQL driver is not installed (pip install -e '.[test]')")
        del psycopg
        self.pg_ctl = pg_ctl
        self.as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        # not under pytest's tmp dir: root's is 0700 and the postgres user could not enter it
        self.data = Path(tempfile.mkdtemp(prefix="nmem-pg-"))
        if self.as_pg:
            shutil.chown(self.data, "postgres", "postgres")
        self._run([initdb, "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                   "--no-sync", "--no-instructions"])  # fmt: skip
        self.port = self._start(fsync)
        self.server = f"postgresql://postgres@127.0.0.1:{self.port}"
        with self._connect(f"{self.server}/postgres", wait=READY_SECONDS) as conn:
            conn.execute(f"CREATE DATABASE {DATABASE}")
        self.url = f"{self.server}/{DATABASE}"

    def _start(self, fsync: bool) -> int:
        """Start the server on a free port and return the port: picked just before the server
        binds it (not before initdb, seconds earlier), and again if another process took it
        meanwhile (the machine is shared: other test runs start servers on free ports too)."""
        for _ in range(5):
            (self.data / "server.log").unlink(missing_ok=True)  # this try's errors only
            port = free_port()
            options = (f"-p {port} -c listen_addresses=127.0.0.1 -k {self.data} "
                       f"-c fsync={'on' if fsync else 'off'} -c max_connections=200")  # fmt: skip
            try:
                self._run([self.pg_ctl, "-D", str(self.data), "-l", str(self.data / "server.log"),
                           "-w", "-t", str(READY_SECONDS), "-o", options, "start"])  # fmt: skip
            except RuntimeError as exc:
                if "Address already in use" not in str(exc):
                    raise
                continue
            return port
        raise RuntimeError("PostgreSQL found no free port in 5 tries")

    def _connect(self, url: str, wait: float = 0) -> Any:
        """A connection, waiting up to `wait` seconds for the server to take one (pg_ctl's
        "ready" is the server's word; a connection is the client's). A refusal after that
        says whether the server still runs, with the end of its log."""
        import psycopg

        deadline = time.monotonic() + wait
        while True:
            try:
                return psycopg.connect(url, autocommit=True)
            except psycopg.OperationalError as exc:
                if time.monotonic() >= deadline:
                    raise RuntimeError(f"PostgreSQL refused a connection ({exc}); "
                                       f"{self._state()}") from exc  # fmt: skip
                time.sleep(0.1)

    def _state(self) -> str:
        status = subprocess.run([*self.as_pg, self.pg_ctl, "-D", str(self.data), "status"],
                                capture_output=True, text=True, check=False,
                                timeout=60)  # fmt: skip
        log = self.data / "server.log"
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
        return f"pg_ctl status: {status.stdout.strip() or status.stderr.strip()}; log: {tail}"

    def _run(self, command: list[str]) -> None:
        done = subprocess.run([*self.as_pg, *command], capture_output=True, text=True,
                              check=False, timeout=120)  # fmt: skip
        if done.returncode:
            log = self.data / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{command[0]} failed: {done.stderr}{done.stdout}{tail}")

    def new_store(self) -> str:
        """The URL of a fresh, empty store (a new schema)."""
        schema = f"s_{uuid.uuid4().hex[:16]}"
        with self._connect(self.url) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        return f"{self.url}?options=-csearch_path%3D{schema}"

    def stop(self) -> None:
        subprocess.run([*self.as_pg, self.pg_ctl, "-D", str(self.data), "-m", "immediate",
                        "-w", "stop"], capture_output=True, check=False, timeout=60)  # fmt: skip
        shutil.rmtree(self.data, ignore_errors=True)
