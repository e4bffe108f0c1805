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
import uuid
from pathlib import Path

from services import free_port, need

DATABASE = "nmem_test"


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
        self.port = free_port()
        self._run([initdb, "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                   "--no-sync", "--no-instructions"])  # fmt: skip
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data} "
                   f"-c fsync={'on' if fsync else 'off'} -c max_connections=200")  # fmt: skip
        self._run([pg_ctl, "-D", str(self.data), "-l", str(self.data / "server.log"), "-w",
                   "-t", "60", "-o", options, "start"])  # fmt: skip
        self.server = f"postgresql://postgres@127.0.0.1:{self.port}"
        import psycopg

        with psycopg.connect(f"{self.server}/postgres", autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {DATABASE}")
        self.url = f"{self.server}/{DATABASE}"

    def _run(self, command: list[str]) -> None:
        done = subprocess.run([*self.as_pg, *command], capture_output=True, text=True,
                              check=False, timeout=120)  # fmt: skip
        if done.returncode:
            log = self.data / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{command[0]} failed: {done.stderr}{done.stdout}{tail}")

    def new_store(self) -> str:
        """The URL of a fresh, empty store (a new schema)."""
        import psycopg

        schema = f"s_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        return f"{self.url}?options=-csearch_path%3D{schema}"

    def stop(self) -> None:
        subprocess.run([*self.as_pg, self.pg_ctl, "-D", str(self.data), "-m", "immediate",
                        "-w", "stop"], capture_output=True, check=False, timeout=60)  # fmt: skip
        shutil.rmtree(self.data, ignore_errors=True)
