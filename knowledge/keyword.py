"""BM25 (Okapi, as rank_bm25's `BM25Okapi` scores it) over precomputed posting lists.

Why not rank_bm25 itself: it loops in Python over every document for every query word, so its cost
grows with the corpus (13.7 ms a query at 50x the articles). Here each document's weight for each
of its words is computed once at load and stored per word (a sparse document-term matrix in
compressed-column form, in plain numpy arrays: importing scipy.sparse costs more start-up time
than the whole index load). A query adds up the posting lists of its words: the cost grows with
the number of documents that contain them, in numpy, not with the corpus in Python.
The scores are the same numbers (idf floor `epsilon * average idf` for words in most documents,
a query word counted as often as it occurs), so thresholds set on the old scorer still hold.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np

__all__ = ["SparseBM25"]


class SparseBM25:
    """Scores of every document for a tokenised query; immutable after construction, thread-safe."""

    def __init__(self, corpus: Sequence[Sequence[str]], *, k1: float = 1.5, b: float = 0.75,
                 epsilon: float = 0.25) -> None:
        self.size = len(corpus)
        self._vocab: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        tfs: list[float] = []
        doc_len = np.zeros(self.size, dtype=np.float64)
        for d, doc in enumerate(corpus):
            doc_len[d] = len(doc)
            for word, tf in Counter(doc).items():
                rows.append(d)
                cols.append(self._vocab.setdefault(word, len(self._vocab)))
                tfs.append(tf)
        self._starts = np.zeros(1, dtype=np.int64)
        self._docs = np.zeros(0, dtype=np.int64)
        self._weights = np.zeros(0, dtype=np.float64)
        self._idf = np.zeros(0, dtype=np.float64)
        if not self.size:
            return
        avgdl = float(doc_len.sum()) / self.size
        df = np.bincount(np.asarray(cols, dtype=np.int64), minlength=len(self._vocab))
        idf = np.array([math.log(self.size - n + 0.5) - math.log(n + 0.5) for n in df], dtype=np.float64)
        average_idf = float(idf.sum()) / len(idf) if len(idf) else 0.0
        idf[idf < 0] = epsilon * average_idf
        self._idf = idf
        r = np.asarray(rows, dtype=np.int64)
        c = np.asarray(cols, dtype=np.int64)
        tf = np.asarray(tfs, dtype=np.float64)
        weight = idf[c] * (tf * (k1 + 1) / (tf + k1 * (1 - b + b * doc_len[r] / avgdl)))
        order = np.argsort(c, kind="stable")  # group the postings by word
        self._docs, self._weights = r[order], weight[order]
        self._starts = np.concatenate([[0], np.cumsum(df)])

    def idf(self, word: str) -> float:
        """How rare a (tokenised) word is in the corpus; 0 for a word the corpus never uses."""
        i = self._vocab.get(word)
        return float(self._idf[i]) if i is not None else 0.0

    def get_scores(self, query: Sequence[str]) -> np.ndarray:
        scores = np.zeros(self.size)
        for word, count in Counter(self._vocab[w] for w in query if w in self._vocab).items():
            lo, hi = self._starts[word], self._starts[word + 1]
            scores[self._docs[lo:hi]] += count * self._weights[lo:hi]  # a word's documents are distinct
        return scores
