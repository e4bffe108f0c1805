"""FalkorDB: the brain's graph (engine/exporters/cypher.py) through the official `falkordb`
client (`pip install 'neuralmemory[falkordb]'`), one graph per brain (by default named after
it), kept up to date incrementally. FalkorDB runs each query atomically but has no
multi-statement transactions: a batch's statements are idempotent and its position is written
last, so a killed export resumes from the last complete batch."""

from __future__ import annotations

from contextlib import suppress
from typing import Any
from urllib.parse import urlsplit

from ..errors import InputError, TargetError
from .base import one_line
from .cypher import GraphTarget, Statement


class FalkorTarget(GraphTarget):
    name = "falkordb"

    def __init__(self, url: str, graph: str) -> None:
        try:
            from falkordb import FalkorDB
        except ImportError:
            raise InputError(
                "the falkordb client is not installed: pip install 'neuralmemory[falkordb]'"
            ) from None
        parts = urlsplit(url)
        if parts.scheme not in ("redis", "falkor", "falkordb") or not parts.hostname:
            raise InputError(f"a FalkorDB URL looks like redis://host:port, not {url!r}")
        try:
            self.db = FalkorDB(host=parts.hostname, port=parts.port or 6379,
                               username=parts.username, password=parts.password)  # fmt: skip
            self.graph = self.db.select_graph(graph)
            self._indexes()
        except InputError:
            raise
        except Exception as exc:  # the client's connection and server errors
            raise TargetError(f"cannot use FalkorDB at {parts.hostname}: {one_line(exc)}") from None
        self._where = f"{parts.hostname}:{parts.port or 6379}"

    def _indexes(self) -> None:
        for label in ("Neuron", "Memory", "Project", "Brain"):
            self._ignore_exists(f"CREATE INDEX FOR (n:{label}) ON (n.id)")
        self._ignore_exists("CREATE INDEX FOR (n:ExportPosition) ON (n.brain_id)")

    def _ignore_exists(self, query: str) -> None:
        try:
            self.graph.query(query)
        except Exception as exc:
            if "already indexed" not in str(exc) and "exists" not in str(exc):
                raise

    def _rows(self, query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        result = self.graph.query(query, params)
        names = [c[1] if isinstance(c, list | tuple) else c for c in result.header]
        return [dict(zip(names, row, strict=True)) for row in result.result_set]

    def run(self, query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        try:
            return self._rows(query, params)
        except Exception as exc:
            raise TargetError(f"FalkorDB at {self._where}: {one_line(exc)}") from None

    def run_batch(self, batch: list[Statement]) -> None:
        for query, params in batch:
            self.run(query, params)

    def close(self) -> None:
        with suppress(Exception):  # closing what may already be gone
            self.db.connection.close()


def open_target(*, output: str | None = None, url: str | None, **options: Any) -> FalkorTarget:
    assert url is not None
    return FalkorTarget(url, options.get("graph") or "neuralmemory")
