"""Decisions of the semantic layer: vectors for new texts, model switches, backfills.

Like the encoder, these read the projection and return what the event records (the int8
rows themselves), so replay, past views and other processes never run the model.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .. import events as ev
from ..errors import IntegrityError
from ..projection import ERASED, Projection
from . import registry
from .base import quantize
from .vectors import ALIVE

Vector = tuple[bytes, float]
I64 = npt.NDArray[np.int64]


def vectors_for(p: Projection, texts: list[str]) -> list[Vector] | None:
    """Vectors of `texts` under the brain's model, or None when the layer is off. A brain
    whose model cannot be loaded here refuses (OperationalError): a memory written without
    its vector would be missing from every semantic recall."""
    model, dims = p.model_at(p.seq)
    if not model:
        return None
    embedder = registry.load(model)
    if embedder.dims != dims:
        raise IntegrityError(f"model {model} embeds {embedder.dims} dims, the brain has {dims}")
    rows, scales = quantize(embedder.embed(texts))
    return [(rows[i].tobytes(), float(scales[i])) for i in range(len(texts))]


def decide_model(p: Projection, model: str) -> ev.SemanticModelSet | None:
    """Switch to `model` ("" = off); None when it is already in force."""
    dims = registry.load(model).dims if model else 0
    if p.model_at(p.seq) == (model, dims):
        return None
    return ev.SemanticModelSet(model=model, dims=dims)


def stale(p: Projection, since: int) -> I64:
    """Memories (not erased) without a live vector of the current model written after seq
    `since`: what a backfill (since 0) or a rebuild (since its start) still has to embed."""
    model, _ = p.model_at(p.seq)
    alive = (p.f_flags.values & ERASED) == 0
    if not model:
        return np.empty(0, dtype=np.int64)
    store = p.vectors[model]
    current = (store.dead.values == ALIVE) & (store.seq.values > since)
    done = np.zeros(p.fiber_count, dtype=bool)
    done[store.fiber.values[current]] = True
    return np.flatnonzero(alive & ~done)


def decide_backfill(p: Projection, fibers: I64) -> ev.MemoriesEmbedded | None:
    """Vectors for these memories' current texts under the brain's model."""
    model, _ = p.model_at(p.seq)
    if not model or not len(fibers):
        return None
    texts = [p.f_text[int(f)] for f in fibers]
    got = vectors_for(p, texts)
    assert got is not None
    return ev.MemoriesEmbedded(
        model=model,
        fiber_ids=p.f_id.pick(fibers),
        vectors=b"".join(v for v, _ in got),
        scales=[s for _, s in got],
    )
