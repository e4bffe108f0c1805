"""GraphML: the brain's graph as of a view (neurons, live links with their effective weight)
through networkx, for Gephi, yEd, Cytoscape and graph analysis."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .base import FileFormat, FileOptions

if TYPE_CHECKING:
    from ..reads import BrainView


class GraphML:
    def chunks(
        self, view: BrainView, options: FileOptions, summary: dict[str, Any]
    ) -> Iterator[bytes]:
        import networkx as nx

        graph = view.graph()
        summary.update(neurons=graph.number_of_nodes(), synapses=graph.number_of_edges())
        out = io.BytesIO()
        nx.write_graphml(graph, out)
        yield out.getvalue()


FORMATS: dict[str, FileFormat] = {"graphml": GraphML()}
