"""Hybrid retrieval: FAISS (meaning) and BM25 (exact words) fused by reciprocal rank fusion.

Why both: dense vectors find paraphrases ("is it like building a car?") but blur names and figures
("Jean Lee", "100ms", "$700,000"); BM25 is the reverse. RRF combines ranks rather than raw scores,
so the two scales never need calibrating against each other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from knowledge.chunking import Chunk
from knowledge.index import KnowledgeIndex
from knowledge.keyword import SparseBM25
from knowledge.text import spell_out, tokenize

__all__ = ["HybridRetriever", "Passage"]

RRF_K = 60
_RESERVED = 2  # top picks of each retriever that always reach the final k


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its fused score and the ranks that produced it."""

    chunk: Chunk
    score: float
    dense_rank: int | None
    keyword_rank: int | None
    similarity: float

    @property
    def text(self) -> str:
        return self.chunk.text


class HybridRetriever:
    """Search a `KnowledgeIndex`; thread-safe for concurrent readers."""

    def __init__(self, index: KnowledgeIndex, *, fetch_k: int = 40, dense_weight: float = 1.0) -> None:
        self._index = index
        self._chunks = index.chunks
        self._faiss = index.faiss
        self._bm25 = SparseBM25([tokenize(c.text) for c in self._chunks])
        self._fetch_k = min(fetch_k, len(self._chunks))
        self._vector_to_chunk = np.asarray(index.vector_to_chunk, dtype=np.int64)
        self._fetch_vectors = min(self._faiss.ntotal, fetch_k * 4)
        self._dense_weight = dense_weight
        self._units = _chunk_units(index)

    @property
    def chunks(self) -> list[Chunk]:
        return self._chunks

    def keyword_score(self, query: str) -> float:
        """The best BM25 score any chunk gets for `query`: evidence of shared rare words (names, figures)."""
        tokens = tokenize(query)
        return float(self._bm25.get_scores(tokens).max()) if tokens and self._chunks else 0.0

    def term_weight(self, token: str) -> float:
        """A tokenised word's rarity across the chunks (BM25's idf): what makes a shared word telling."""
        return self._bm25.idf(token)

    def units(self, chunk_id: str) -> list[tuple[str, np.ndarray]]:
        """The sentences and list items of a chunk with their stored vectors (for answer writing)."""
        return self._units.get(chunk_id, [])

    def embed(self, query: str, *, spelled: bool = True) -> np.ndarray:
        """The query's vector; `spelled` writes chat shorthand out first, as searching does.

        Models trained on messages as people type them (`spelled=False`) need the words as typed.
        """
        return np.asarray([self._index.embeddings.embed_query(spell_out(query) if spelled else query)],
                          dtype="float32")

    def search(self, query: str, k: int = 5, *, vector: np.ndarray | None = None) -> list[Passage]:
        """Top-k passages for `query`; `vector` lets a caller reuse an embedding it already has."""
        if not query.strip() or not self._chunks:
            return []
        qvec = self.embed(query) if vector is None else vector.reshape(1, -1).astype("float32")
        sims, ids = self._faiss.search(qvec, self._fetch_vectors)
        # A chunk scores as its best-matching vector (itself or one of its sentences): the first
        # time it appears in FAISS's best-first list. Done in numpy: it runs for every search.
        found = ids[0] >= 0
        chunks = self._vector_to_chunk[ids[0][found]]
        _, first = np.unique(chunks, return_index=True)
        first.sort()
        similarity: dict[int, float] = dict(zip(chunks[first].tolist(), sims[0][found][first].tolist(), strict=True))
        dense = list(similarity.items())[: self._fetch_k]
        dense_rank = {i: r for r, (i, _) in enumerate(dense)}

        tokens = tokenize(spell_out(query))
        keyword_rank: dict[int, int] = {}
        if tokens:
            scores = self._bm25.get_scores(tokens)
            order = np.argsort(-scores)[: self._fetch_k]
            keyword_rank = {int(i): r for r, i in enumerate(order) if scores[i] > 0}

        fused: dict[int, float] = {}
        for i, r in dense_rank.items():
            fused[i] = fused.get(i, 0.0) + self._dense_weight / (RRF_K + r + 1)
        for i, r in keyword_rank.items():
            fused[i] = fused.get(i, 0.0) + 1.0 / (RRF_K + r + 1)
        ranked = sorted(fused, key=lambda i: -fused[i])
        # Each retriever's two most confident picks always make the shortlist: a paraphrase with no
        # shared words (dense only) or a rare name (keywords only) must not be out-voted by chunks
        # that are merely mediocre on both lists.
        reserved = set(sorted(dense_rank, key=dense_rank.get)[:_RESERVED])
        reserved |= set(sorted(keyword_rank, key=keyword_rank.get)[:_RESERVED])
        picked = [i for i in ranked if i in reserved][:k]
        picked += [i for i in ranked if i not in reserved][: k - len(picked)]
        best = sorted(((i, fused[i]) for i in picked), key=lambda item: -item[1])
        return [
            Passage(
                chunk=self._chunks[i],
                score=score,
                dense_rank=dense_rank.get(i),
                keyword_rank=keyword_rank.get(i),
                similarity=similarity.get(i, 0.0),
            )
            for i, score in best
        ]


def _chunk_units(index: KnowledgeIndex) -> dict[str, list[tuple[str, np.ndarray]]]:
    """Per chunk id, its unit sentences and their vectors, read back from the FAISS index.

    The build already embedded every sentence (small-to-big retrieval), so the answer writer can
    score sentences by meaning without embedding anything again.
    """
    positions = [p for p, doc in enumerate(index.docs) if doc["meta"].get("kind") == "unit"]
    if not positions:
        return {}
    vectors = np.vstack([index.faiss.reconstruct(p) for p in positions])
    out: dict[str, list[tuple[str, np.ndarray]]] = {}
    for row, position in enumerate(positions):
        doc = index.docs[position]
        _, _, unit = doc["text"].partition("\n")
        out.setdefault(doc["meta"]["parent"], []).append((unit, vectors[row]))
    return out
