"""The sparse-matrix BM25 gives rank_bm25's BM25Okapi scores exactly (thresholds were set on those)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from knowledge.chunking import chunk_document
from knowledge.documents import iter_source_files, load_document
from knowledge.keyword import SparseBM25
from knowledge.text import tokenize

ARTICLES = Path(__file__).resolve().parents[2] / "knowledge" / "articles"


@pytest.fixture(scope="module")
def corpus() -> list[list[str]]:
    return [tokenize(c.text) for path in iter_source_files(ARTICLES) for c in chunk_document(load_document(path))]


@pytest.mark.parametrize("query", [
    "What latency does fraud detection need? 100ms", "AI engineer engineers engineering salary $700,000",
    "the the and of", "zzzz unknownword", "math math math linear algebra", "",
])
def test_scores_equal_rank_bm25(corpus: list[list[str]], query: str) -> None:
    from rank_bm25 import BM25Okapi

    ours, reference = SparseBM25(corpus), BM25Okapi(corpus)
    tokens = tokenize(query)
    assert np.allclose(ours.get_scores(tokens), reference.get_scores(tokens), rtol=1e-12, atol=1e-12)


def test_words_in_most_documents_get_the_idf_floor_not_a_negative_weight() -> None:
    docs = [["common", "a"], ["common", "b"], ["common", "c"], ["rare"]]
    scores = SparseBM25(docs).get_scores(["common"])
    assert np.all(scores[:3] > 0) and scores[3] == 0


def test_an_empty_corpus_scores_nothing() -> None:
    assert SparseBM25([]).get_scores(["anything"]).shape == (0,)


def test_idf_ranks_rare_words_above_common_ones_and_unknown_words_at_zero() -> None:
    bm25 = SparseBM25([["ai", "engineer", "uptime"], ["ai", "engineer"], ["ai", "salary"], ["ai", "math"], ["ai", "pay"], ["ai", "code"]])
    assert bm25.idf("uptime") > bm25.idf("engineer") > 0
    assert bm25.idf("never-seen") == 0.0
