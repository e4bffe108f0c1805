"""Plain Okapi BM25 baseline (k1 1.5, b 0.75), pure Python + numpy.

Tokens: lowercased ``[a-z0-9]+`` runs, English stop words removed, no stemming.
IDF: ``ln(1 + (N - df + 0.5) / (df + 0.5))`` (never negative).

tools/eval/locomo.py runs it on LoCoMo beside our engine (``--bm25-out`` keeps its results).
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import numpy.typing as npt

K1 = 1.5
B = 0.75

_STOP_WORDS_TEXT = """
    a about above after again against all am an and any are aren as at be because been
    before being below between both but by can could couldn d did didn do does doesn doing
    don down during each few for from further had hadn has hasn have haven having he her
    here hers herself him himself his how i if in into is isn it its itself just ll m me
    might more most must mustn my myself no nor not now o of off on once only or other
    ought our ours ourselves out over own re s same shall she should shouldn so some such
    t than that the their theirs them themselves then there these they this those through
    to too under until up ve very was wasn we were weren what when where which while who
    whom why will with won would wouldn y you your yours yourself yourselves
"""
STOP_WORDS: frozenset[str] = frozenset(_STOP_WORDS_TEXT.split())

_TOKEN = re.compile(r"[a-z0-9]+")


def tokenize(text: str) -> list[str]:
    """Lowercased word tokens without stop words."""
    return [t for t in _TOKEN.findall(text.lower()) if t not in STOP_WORDS]


class BM25:
    """An in-memory BM25 index over a fixed list of documents."""

    def __init__(self, docs: list[str], k1: float = K1, b: float = B) -> None:
        """Index ``docs``; postings hold each term's precomputed per-document weight."""
        self.n_docs = len(docs)
        counts = [Counter(tokenize(d)) for d in docs]
        lengths = np.array([sum(c.values()) for c in counts], dtype=np.float64)
        avgdl = float(lengths.mean()) if self.n_docs and lengths.sum() > 0 else 1.0
        norm = k1 * (1.0 - b + b * lengths / avgdl)
        postings: dict[str, tuple[list[int], list[float]]] = {}
        for i, c in enumerate(counts):
            for term, count in c.items():
                ids, tfs = postings.setdefault(term, ([], []))
                ids.append(i)
                tfs.append(float(count))
        self._postings: dict[str, tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]]] = {}
        for term, (ids, tfs) in postings.items():
            idx = np.array(ids, dtype=np.intp)
            tf = np.array(tfs, dtype=np.float64)
            idf = np.log1p((self.n_docs - len(ids) + 0.5) / (len(ids) + 0.5))
            self._postings[term] = (idx, idf * tf * (k1 + 1.0) / (tf + norm[idx]))

    def scores(self, query: str) -> npt.NDArray[np.float64]:
        """BM25 score of every document for ``query`` (repeated query terms count again)."""
        out = np.zeros(self.n_docs, dtype=np.float64)
        for term in tokenize(query):
            posting = self._postings.get(term)
            if posting is not None:
                out[posting[0]] += posting[1]
        return out

    def top(self, query: str, k: int) -> list[int]:
        """Indices of the ``k`` best documents, best first, ties broken by lower index."""
        order = np.argsort(-self.scores(query), kind="stable")
        return [int(i) for i in order[: max(k, 0)]]
