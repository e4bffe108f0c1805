"""A small deterministic embedder for unit tests (no model, no extra needed).

Each stemmed keyword maps (through `synonyms`, to stand in for what a real model learned) to
a concept whose vector is drawn from a generator seeded by the concept's digest; a text is
the normalised sum of its concepts. So "wedding" and "married" can be neighbours here while
no word links them in the graph: the vocabulary gap the semantic layer is for.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import numpy.typing as npt

from engine.extraction.tokens import keywords
from engine.semantic import registry

SYNONYMS = {
    "wed": "marriage", "marri": "marriage", "married": "marriage", "wedding": "marriage",
    "fundrais": "charity", "chariti": "charity", "benefit": "charity",
    "pet": "dog", "dog": "dog", "puppi": "dog",
    "costum": "clothes", "hat": "clothes", "dress": "clothes",
}  # fmt: skip


class FakeEmbedder:
    def __init__(
        self, model: str = "fake-64", dims: int = 64, synonyms: dict[str, str] | None = None
    ):
        self.model = model
        self.dims = dims
        self.synonyms = SYNONYMS if synonyms is None else synonyms
        self.calls = 0
        self.texts = 0

    def _concept(self, name: str) -> npt.NDArray[np.float32]:
        seed = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big")
        v = np.random.default_rng(seed).standard_normal(self.dims).astype(np.float32)
        return v / np.linalg.norm(v)  # unit: every concept of a text weighs the same

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        self.calls += 1
        self.texts += len(texts)
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        for i, text in enumerate(texts):
            for stem, _ in keywords(text):
                out[i] += self._concept(self.synonyms.get(stem, stem))
        norm = np.linalg.norm(out, axis=1, keepdims=True)
        return np.divide(out, norm, out=np.zeros_like(out), where=norm > 0)


@contextmanager
def fake_model(model: str = "fake-64", dims: int = 64) -> Iterator[FakeEmbedder]:
    """Register a fake under `model` for the duration (the registry is per process)."""
    fake = FakeEmbedder(model, dims)
    registry.register(model, lambda: fake)
    try:
        yield fake
    finally:
        registry.unregister(model)
