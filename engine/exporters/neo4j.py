"""Neo4j: the brain's graph (engine/exporters/cypher.py) through the official `neo4j` driver
(`pip install 'neuralmemory[neo4j]'`), incremental. Each batch's statements run in one write
transaction with the position, so a killed export resumes exactly. Credentials come from the
URL (bolt://user:password@host) or NEO4J_USERNAME and NEO4J_PASSWORD, as for cypher-shell."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..errors import InputError, TargetError
from .base import one_line
from .cypher import GraphTarget, Statement, constraints

SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")


class Neo4jTarget(GraphTarget):
    name = "neo4j"

    def __init__(self, url: str, *, database: str | None = None) -> None:
        try:
            import neo4j
        except ImportError:
            raise InputError(
                "the neo4j driver is not installed: pip install 'neuralmemory[neo4j]'"
            ) from None
        parts = urlsplit(url)
        if parts.scheme not in SCHEMES or not parts.hostname:
            raise InputError(
                f"a Neo4j URL looks like bolt://host:7687 or neo4j://host, not {url!r}"
            )
        user = parts.username or os.environ.get("NEO4J_USERNAME", "neo4j")
        password = parts.password or os.environ.get("NEO4J_PASSWORD", "")
        host = parts.hostname + (f":{parts.port}" if parts.port else "")
        self._where = host
        self._errors = (neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError, OSError)
        self._database = database
        try:
            self.driver = neo4j.GraphDatabase.driver(
                urlunsplit(parts._replace(netloc=host)), auth=(user, password)
            )
            self.driver.verify_connectivity()
            for query in constraints():
                self.run(query, {})
        except self._errors as exc:
            raise TargetError(f"cannot use Neo4j at {host}: {one_line(exc)}") from None

    def run(self, query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        try:
            with self.driver.session(database=self._database) as session:
                return [dict(r) for r in session.run(query, params).data()]
        except self._errors as exc:
            raise TargetError(f"Neo4j at {self._where}: {one_line(exc)}") from None

    def run_batch(self, batch: list[Statement]) -> None:
        def work(tx: Any) -> None:
            for query, params in batch:
                tx.run(query, params).consume()

        try:
            with self.driver.session(database=self._database) as session:
                session.execute_write(work)
        except self._errors as exc:
            raise TargetError(f"Neo4j at {self._where}: {one_line(exc)}") from None

    def close(self) -> None:
        self.driver.close()
