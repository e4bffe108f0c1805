"""Every log backend, behind one fixture: the conformance suite runs once per backend.

A backend here is how a test opens a fresh store of its kind, plus the two ways a test
damages one on purpose (a record replaced by raw bytes, a record deleted), which need the
backend's own access; everything else goes through the `LogStore` protocol.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.logstore import LogStore, open_log


class LmdbBackend:
    name = "lmdb"

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path

    def location(self) -> str:
        return str(self.tmp_path / f"store-{uuid.uuid4().hex[:8]}")

    def plant(self, log: Any, brain_id: str, seq: int, raw: bytes) -> None:
        from engine.logstore.lmdb import brain_key

        with log.env.begin(write=True) as txn:
            txn.put(brain_key(brain_id) + seq.to_bytes(8, "big"), raw, db=log._dbs["events"])

    def drop(self, log: Any, brain_id: str, seq: int) -> None:
        from engine.logstore.lmdb import brain_key

        with log.env.begin(write=True) as txn:
            txn.delete(brain_key(brain_id) + seq.to_bytes(8, "big"), db=log._dbs["events"])


class PostgresBackend:
    name = "postgres"

    def __init__(self, cluster: Any) -> None:
        self.cluster = cluster

    def location(self) -> str:
        return str(self.cluster.new_store())

    def plant(self, log: Any, brain_id: str, seq: int, raw: bytes) -> None:
        with log._conn() as conn:
            conn.execute(
                "INSERT INTO nmem_events (brain, seq, t, cid, record) VALUES (%s, %s, %s, %s, %s)"
                " ON CONFLICT (brain, seq) DO UPDATE SET record = excluded.record",
                (uuid.UUID(hex=brain_id), seq, 2**62 + seq, f"planted:{seq}", raw),
            )

    def drop(self, log: Any, brain_id: str, seq: int) -> None:
        with log._conn() as conn:
            conn.execute(
                "DELETE FROM nmem_events WHERE brain = %s AND seq = %s",
                (uuid.UUID(hex=brain_id), seq),
            )


BACKENDS = ["lmdb", "postgres"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if request.param == "postgres":
        return PostgresBackend(request.getfixturevalue("postgres"))
    return LmdbBackend(tmp_path)


@pytest.fixture
def log(backend: Any) -> Iterator[LogStore]:
    lg = open_log(backend.location())
    yield lg
    lg.close()
