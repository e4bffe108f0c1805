"""What a target must hold, read from the engine's own public API, and what targets hold, read
back with each target's own query language: the two sides the round-trip tests compare.

A shape is (memories, links): memories by id -> (text, type, status, priority, tags); live
links (the engine's graph: effective weight > 0) by link id -> (source memory, what the
target neuron holds, link type, effective weight).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from engine import BrainView

Shape = tuple[dict[str, tuple[Any, ...]], dict[str, tuple[Any, ...]]]


def expected(view: BrainView) -> Shape:
    memories = {
        m.id: (m.text or None, m.memory_type.value, m.status, m.priority, sorted(m.tags))
        for m in view.memories(status="all", limit=10**6)
    }
    for mid, row in memories.items():
        if row[2] == "erased":
            memories[mid] = (None, None, "erased", None, [])
    graph = view.graph()
    links = {
        key: (u, graph.nodes[v]["content"], data["type"], data["weight"])
        for u, v, key, data in graph.edges(keys=True, data=True)
    }
    return memories, links


def sqlite_shape(path: Path, brain_id: str) -> Shape:
    db = sqlite3.connect(path)
    try:
        memories: dict[str, tuple[Any, ...]] = {}
        for mid, text, kind, status, prio, tags in db.execute(
            "SELECT id, text, memory_type, status, priority, tags FROM memories WHERE brain_id = ?",
            (brain_id,),
        ):
            memories[mid] = (
                (None, None, "erased", None, [])
                if status == "erased"
                else (text, kind, status, prio, sorted(json.loads(tags)))
            )
        links = {
            sid: (src, content, kind, round(weight, 6))
            for sid, src, content, kind, weight in db.execute(
                "SELECT s.id, s.source_id, coalesce(n.content, ''), s.type, s.effective_weight "
                "FROM live_synapses s LEFT JOIN neurons n "
                "ON n.brain_id = s.brain_id AND n.id = s.target_id WHERE s.brain_id = ?",
                (brain_id,),
            )
            if weight > 0
        }
        return memories, links
    finally:
        db.close()


def same(got: Shape, want: Shape) -> None:
    """Equal memories; equal links with weights within float32 rounding."""
    assert got[0] == want[0]
    assert got[1].keys() == want[1].keys()
    for key, row in want[1].items():
        assert got[1][key][:3] == row[:3], key
        assert abs(got[1][key][3] - row[3]) <= 2e-6 + 1e-5 * row[3], (key, got[1][key], row)


LIVE_LINKS = """
MATCH (x:ExportPosition {brain_id: $brain})
MATCH (m:Memory)-[r]->(t)
WHERE m.status = 'pinned'
   OR (m.status IN ['active', 'expired'] AND NOT m.expiry_recorded
       AND (m.expires_at IS NULL OR m.expires_at > x.as_of_hour))
RETURN r.id AS id, m.id AS source, coalesce(t.content, t.text, '') AS content,
       toLower(type(r)) AS type,
       r.weight * exp(-r.decay_rate * (CASE WHEN x.hour_us > r.decay_from_us
                      THEN x.hour_us - r.decay_from_us ELSE 0 END) / 86400000000.0
                      / (1 + r.reinforced_count)) AS weight
"""


def falkordb_shape(url: str, graph: str, brain_id: str) -> Shape:
    from urllib.parse import urlsplit

    from falkordb import FalkorDB

    parts = urlsplit(url)
    g = FalkorDB(host=parts.hostname, port=parts.port).select_graph(graph)
    memories: dict[str, tuple[Any, ...]] = {}
    for mid, text, kind, status, prio, tags in g.query(
        "MATCH (m:Memory) RETURN m.id, m.text, m.memory_type, m.status, m.priority, m.tags"
    ).result_set:
        memories[mid] = (
            (None, None, "erased", None, [])
            if status == "erased"
            else (text, kind, status, prio, sorted(tags))
        )
    links = {
        sid: (src, content, kind, round(weight, 6))
        for sid, src, content, kind, weight in g.query(LIVE_LINKS, {"brain": brain_id}).result_set
        if weight > 0
    }
    return memories, links
