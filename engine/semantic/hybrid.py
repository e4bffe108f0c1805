"""Semantic neighbours as anchors of recall.

The question's vector finds the memories nearest in meaning (top-k over the int8 rows of
the view's model, see vectors.py); they enter spreading activation as memories already
reached on the first hop, so activation spreads on from them (to their neighbours in time,
to the words they share with others) and a memory found both by its words and by its
meaning gets the intersection bonus like one reached from two anchors. This closes vocabulary gaps
("wedding" / "got married") that no shared word can. Cosines are taken about the view's
centre, the mean of its memories' vectors (see `centre`).
"""

from __future__ import annotations

import re

import msgspec
import numpy as np
import numpy.typing as npt

from ..extraction.entities import extract_entities
from ..projection import View
from . import registry, vectors

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
I8 = npt.NDArray[np.int8]

NEIGHBOURS = 20  # semantic anchors per recall
FLOOR = 0.05  # cosine about the view's centre below which a neighbour adds nothing
GAIN = 1.0  # a perfect neighbour weighs like a rare word of the question
COMMON = 0.05  # a name linked to more than this share of the memories says who, not what
MARGIN = 0.4  # a top memory this far above the other neighbours in meaning: sure (`confidence`)
NAMES = 0.4  # weight of the question as asked beside the question without its common names


class Probe(msgspec.Struct, frozen=True):
    """The question embedded by the model of the view, taken about the view's centre (the
    mean of its memories' vectors) when it has one."""

    model: str
    vector: I8
    scale: float
    centre: vectors.Centre | None = None


class Seeds(msgspec.Struct, frozen=True):
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
    about = meaning(view, query)
    embedded = registry.load(model).embed([about] if about == query else [about, query])
    mixed = embedded[0] if about == query else (1 - NAMES) * embedded[0] + NAMES * embedded[1]
    at = centre(view, model)
    rows, scales = vectors.about(np.asarray(mixed, dtype=np.float32)[None, :], at)
    return Probe(model, rows[0], float(scales[0]), at)


def centre(view: View, model: str) -> vectors.Centre | None:
    """The mean of the vectors live in the view, as an int8 row and its scale (None without
    any). A static table puts every turn of a conversation close to every other (the top
    memory's cosine is 0.62 at the median on LoCoMo, right or wrong): what they share says
    little about which one is asked for. Cosines taken about the mean weigh what sets a
    memory apart (LoCoMo dev split, hit@10 0.830 -> 0.852, both halves up: README)."""
    return vectors.mean_row(*view.p.vectors[model].centre(view.seq))


def meaning(view: View, query: str) -> str:
    """The question without the names that a large share of the memories carry (a
    conversation's speakers, named in every turn). The words already match them; in a
    static embedding's mean they outweigh what is asked, ranking a turn by who speaks
    (LoCoMo dev split, the embedding alone: hit@10 0.522 -> 0.596). `probe` mixes the
    question as asked back in at NAMES, so a name still counts, as one cue among others."""
    p = view.p
    names = extract_entities(query)
    keys = [(p.keys.get(f"{kind}:{e.key}", -1), e.text) for e in names for kind in "es"]
    keys = [(i, text) for i, text in keys if 0 <= i < view.neurons]
    if not keys:
        return query
    p.sync_graph()
    nodes, back = np.unique(np.asarray([i for i, _ in keys], dtype=np.int64), return_inverse=True)
    degree = p.graph.degree(nodes, p.s_src.values, p.s_dst.values, view.synapses)[back]
    common = {text for (_, text), d in zip(keys, degree.tolist(), strict=True)
              if d > COMMON * view.fibers}  # fmt: skip
    for text in sorted(common, key=len, reverse=True):
        query = re.sub(rf"(?<!\w){re.escape(text)}(?:'s)?(?!\w)", " ", query)
    return query


def nearest(view: View, pr: Probe, allowed: npt.NDArray[np.bool_], k: int) -> tuple[I64, F64]:
    """The `k` memories nearest the probe among `allowed` ones, best first."""
    store = view.p.vectors[pr.model]
    ok = store.live(view.seq)
    n = len(ok)
    fibers = store.fiber.values[:n]
    ok &= fibers < view.fibers
    ok[ok] = allowed[fibers[ok]]
    rows, sims = vectors.nearest(store, n, ok, pr.vector, pr.scale, k, pr.centre)
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
    """How sure the meaning makes recall of `fiber` (the top memory): how far its cosine
    with the question stands above the last of the NEIGHBOURS nearest (FLOOR when fewer pass
    it), 1 from MARGIN. A static table puts the turns of one conversation close (the top
    memory's cosine is 0.62 at the median on LoCoMo, right or wrong): counted from FLOOR,
    the meaning made most recalls sure and the AUC of the confidence for "the top memory is
    evidence" fell from the words' 0.71 to 0.62; standing out of the neighbours, 0.72.
    Cosines about the centre spread about twice as wide, hence MARGIN 0.4 (AUC 0.706; at
    0.2, 0.661; the words alone 0.689)."""
    sims = found.similarity[found.fibers == fiber]
    if not len(sims):
        return 0.0
    last = float(found.similarity.min()) if len(found.similarity) >= NEIGHBOURS else FLOOR
    return round(float(np.clip((sims.max() - last) / MARGIN, 0.0, 1.0)), 4)
