"""Semantic neighbours as anchors of recall.

The question's vector finds the memories nearest in meaning (top-k over the int8 rows of
the view's model, see vectors.py); they enter spreading activation as memories already
reached on the first hop, so activation spreads on from them (to their neighbours in time,
to the words they share with others) and a memory found both by its words and by its
meaning gets the intersection bonus like one reached from two anchors. This closes vocabulary gaps
("wedding" / "got married") that no shared word can.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ..projection import View
from . import registry, vectors
from .base import quantize

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
I8 = npt.NDArray[np.int8]

NEIGHBOURS = 20  # semantic anchors per recall
FLOOR = 0.25  # cosine below which a neighbour adds nothing
GAIN = 0.5  # a perfect neighbour weighs like half a rare word of the question


@dataclass(frozen=True, slots=True)
class Probe:
    """The question embedded by the model of the view."""

    model: str
    vector: I8
    scale: float


@dataclass(frozen=True, slots=True)
class Seeds:
    nodes: I64  # anchor neurons of the nearest memories
    levels: F64  # activation they start with
    fibers: I64
    similarity: F64  # cosine of each with the question


def probe(view: View, query: str) -> Probe | None:
    """The query's vector, or None when the view has no model or this process cannot load it
    (recall is then the lexical recall, exactly)."""
    model, _ = view.p.model_at(view.seq)
    if not model or model not in view.p.vectors or not registry.available(model):
        return None
    rows, scales = quantize(registry.load(model).embed([query]))
    return Probe(model, rows[0], float(scales[0]))


def nearest(view: View, pr: Probe, allowed: npt.NDArray[np.bool_], k: int) -> tuple[I64, F64]:
    """The `k` memories nearest the probe among `allowed` ones, best first."""
    store = view.p.vectors[pr.model]
    ok = store.live(view.seq)
    n = len(ok)
    fibers = store.fiber.values[:n]
    ok &= fibers < view.fibers
    ok[ok] = allowed[fibers[ok]]
    rows, sims = vectors.nearest(store, n, ok, pr.vector, pr.scale, k)
    found, near = fibers[rows].astype(np.int64), sims.astype(np.float64)
    order = np.lexsort((found, -near))  # ties broken by memory
    return found[order], near[order]


def seeds(
    view: View, pr: Probe, allowed: npt.NDArray[np.bool_], documents: int, hop_decay: float
) -> Seeds:
    """Semantic anchors: the nearest memories, each starting at GAIN x (the IDF of a word
    seen once) x how far its cosine is above FLOOR, on the first hop's scale (what a word
    of that IDF passes to a memory it links to)."""
    fibers, sims = nearest(view, pr, allowed, NEIGHBOURS)
    strength = np.clip((sims - FLOOR) / (1.0 - FLOOR), 0.0, 1.0)
    keep = strength > 0
    fibers, sims, strength = fibers[keep], sims[keep], strength[keep]
    unit = np.log1p(max(documents, 1) - 0.5) if documents > 1 else 1.0
    nodes = view.p.f_anchor.values[fibers].astype(np.int64)
    return Seeds(nodes, GAIN * unit * hop_decay * strength, fibers, sims)


def confidence(found: Seeds, fiber: int) -> float:
    """How sure the meaning makes recall of `fiber` (the top memory): its cosine with the
    question above FLOOR, scaled to 0..1 (1 from a cosine of 0.75: a paraphrase)."""
    sims = found.similarity[found.fibers == fiber]
    if not len(sims):
        return 0.0
    return round(float(np.clip((sims.max() - FLOOR) / (0.75 - FLOOR), 0.0, 1.0)), 4)
