"""Quality gates, run end to end: retrieval, fit verdicts, clause readings, answers and conversations.

Which sets are which (see README, "Evaluation"):
- development sets (tuned against, so optimistic): golden_dev*, personas_dev*, answers_dev*,
  conversations_dev*. personas_dev2, personas_dev3 and golden_dev2 were once called held-out; a
  method was tuned on them. answers_dev2..8 and conversations_dev2..5 were held-out sets; each was run once
  and its first score reported (README), then its failures were read, so they are development sets now.
- held-out sets, written by a helper who saw neither the code nor any other set:
  personas_heldout2.jsonl and the newest answers_heldout*/conversations_heldout* files. Their first
  scores are the ones the README reports; these tests keep them from regressing, and nothing is
  tuned on their failures.

Answer and conversation gates go through `Brain.respond`, the same path every front end uses,
so they measure what a person reads, not what the retriever ranks.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from bot.brain import Brain
from bot.evaluation import evaluate_answers, evaluate_conversations, evaluate_fit, read_jsonl
from bot.fit.train import _digest, corpus_features, score_reader, train_verdict
from bot.messages import Inbound, Kind
from bot.runtime import Knowledge
from bot.store.base import Store
from knowledge.index import build_index, load_index
from knowledge.retriever import HybridRetriever

DATA = Path(__file__).parent / "data"
FIT = Path(__file__).resolve().parents[2] / "knowledge" / "fit"
SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"
GOLDEN = ["golden_dev.jsonl", "golden_dev2.jsonl"]
PERSONAS = ["personas_dev.jsonl", "personas_dev2.jsonl", "personas_dev3.jsonl", "personas_heldout2.jsonl"]
# Facts stated: the target is 0.9; measured (README) below it. These floors sit just under what
# the method achieves today, so a regression fails while the gap to the target stays visible.
# (facts stated, in-scope questions refused at most): held-out sets at their first run's level.
ANSWER_GATES = {"answers_dev.jsonl": (0.9, 0), "answers_dev2.jsonl": (0.93, 0), "answers_dev3.jsonl": (0.84, 0),
                "answers_dev4.jsonl": (0.84, 0), "answers_dev5.jsonl": (0.87, 0), "answers_dev6.jsonl": (0.85, 0),
                "answers_dev7.jsonl": (0.76, 0), "answers_dev8.jsonl": (0.89, 1),
                "answers_heldout8.jsonl": (0.81, 0)}
REDIRECT_GATES: dict[str, float] = {}
CONTEXT_GATES = {"conversations_dev.jsonl": 0.84, "conversations_dev2.jsonl": 0.83, "conversations_dev3.jsonl": 0.86,
                 "conversations_dev4.jsonl": 0.8, "conversations_dev5.jsonl": 0.68,
                 "conversations_heldout5.jsonl": 0.72}
_users = itertools.count()


@pytest.mark.parametrize("name", GOLDEN)
def test_retrieval_recall_over_the_project_index(knowledge: Knowledge, name: str) -> None:
    result = evaluate_retrieval_rows(knowledge, name)
    assert result["recall_at_k"] >= 0.9, result["misses"]


def evaluate_retrieval_rows(knowledge: Knowledge, name: str) -> dict[str, object]:
    from bot.evaluation import evaluate_retrieval

    return evaluate_retrieval(read_jsonl(DATA / name), knowledge.services.retriever.search, k=5)


@pytest.fixture(scope="module")
def seeds_retriever(knowledge: Knowledge, tmp_path_factory: pytest.TempPathFactory) -> HybridRetriever:
    if not SEEDS.is_dir():
        pytest.skip(f"{SEEDS} not present: the seeds-only gate runs where ../shared is checked out")
    out = tmp_path_factory.mktemp("seeds-index")
    build_index([SEEDS], out, knowledge.index.embeddings)
    return HybridRetriever(load_index(out, knowledge.index.embeddings))


@pytest.mark.slow
@pytest.mark.parametrize("name", GOLDEN)
def test_retrieval_recall_over_an_index_of_the_seeds_alone(seeds_retriever: HybridRetriever, name: str) -> None:
    from bot.evaluation import evaluate_retrieval

    result = evaluate_retrieval(read_jsonl(DATA / name), seeds_retriever.search, k=5)
    assert result["recall_at_k"] >= 0.9, result["misses"]


# --- fit -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", PERSONAS)
def test_fit_macro_f1_and_neither_recall(knowledge: Knowledge, name: str) -> None:
    rows = read_jsonl(DATA / name)
    result = evaluate_fit(rows, lambda text: knowledge.services.assess(text).label)
    scores = {k: result[k] for k in ("macro_f1", "per_label")}
    assert result["macro_f1"] >= 0.88, scores
    assert result["per_label"]["neither"]["recall"] >= 0.8, scores


def test_committed_model_was_trained_on_the_current_corpus(knowledge: Knowledge) -> None:
    """A corpus edit without `python -m bot.fit.train` would serve a model the corpus no longer backs."""
    meta = knowledge.services.assessor.model.meta
    assert meta["corpus_sha256"] == _digest([FIT / name for name in meta["corpus"]])
    assert meta["requests_sha256"] == _digest([FIT / meta["requests"]])
    assert meta["facets_sha256"] == _digest([FIT / meta["facets"]])


@pytest.mark.slow
def test_cross_validated_verdict_on_the_training_corpus(knowledge: Knowledge) -> None:
    """The issue's bar: 5-fold macro-F1 >= 0.9 and "neither" recall >= 0.8, recomputed here, not read from a file."""
    assessor = knowledge.services.assessor
    rows = [row for name in assessor.model.meta["corpus"] for row in read_jsonl(FIT / name)]
    x = corpus_features(rows, assessor.model.reader, knowledge.index.embeddings.embed_many_queries)
    _, metrics = train_verdict(x, np.asarray([r["label"] for r in rows]))
    assert metrics["cv_macro_f1"] >= 0.9, metrics
    assert metrics["cv_per_label"]["neither"]["recall"] >= 0.8, metrics
    assert metrics["ece_after"] <= 0.05, metrics  # "80%" means right about 80% of the time


def test_quoted_clauses_carry_their_meaning(knowledge: Knowledge) -> None:
    """The explanation gate: readings the assessor commits to (and so may quote) are >= 90% right.

    knowledge/fit/clauses.jsonl was written by another writer than the training clauses and is
    never trained on; coverage is reported so a reader that commits to nothing cannot pass.
    """
    reader = knowledge.services.assessor.model.reader
    result = score_reader(reader, read_jsonl(FIT / "clauses.jsonl"), knowledge.index.embeddings.embed_many_queries)
    assert result["committed_accuracy"] >= 0.9, result
    assert result["coverage"] >= 0.5, result


# --- answers and conversations -------------------------------------------------------------------
def _sender(brain: Brain) -> Callable[[str], tuple[str, str]]:
    """Messages from one new user in one DM conversation."""
    user = f"gate{next(_users)}"

    def send(text: str) -> tuple[str, str]:
        reply = brain.respond(Inbound(platform="eval", user=user, channel="dm", text=text, kind=Kind.DM))
        return reply.text, reply.intent

    return send


@pytest.fixture
def relaxed_brain(make_brain: Callable[[Store], Brain], store: Store) -> Brain:
    """The real brain with the per-user rate limit out of the way of a long scripted run."""
    brain = make_brain(store)
    brain._rate_limit = (10_000, 60.0)
    return brain


@pytest.mark.slow
@pytest.mark.parametrize(("name", "gate"), sorted(ANSWER_GATES.items()))
def test_answers_state_the_asked_for_facts(relaxed_brain: Brain, name: str, gate: tuple[float, int]) -> None:
    result = evaluate_answers(read_jsonl(DATA / name), lambda q: _sender(relaxed_brain)(q))
    summary = {k: result[k] for k in ("n", "facts_rate", "refused", "redirected", "n_out_of_scope", "median_words")}
    facts, refusals = gate
    assert result["facts_rate"] >= facts, summary
    assert result["refused"] <= refusals, summary
    # Off-topic requests redirected: 5 of 6 (or more) on every set's first run.
    assert result["redirected"] >= REDIRECT_GATES.get(name, 0.8) * result["n_out_of_scope"] - 1e-9, summary
    assert result["median_words"] <= 120, summary


@pytest.mark.slow
@pytest.mark.parametrize(("name", "gate"), sorted(CONTEXT_GATES.items()))
def test_conversations_keep_their_context(relaxed_brain: Brain, name: str, gate: float) -> None:
    result = evaluate_conversations(read_jsonl(DATA / name), lambda: _sender(relaxed_brain))
    summary = {k: result[k] for k in ("n_scripts", "context_turns", "context_kept", "facts_rate")}
    assert result["context_kept"] >= gate, summary



def test_every_seed_fact_is_findable_in_the_articles() -> None:
    """The bot must know everything in the seeds: their key figures and names are in our articles."""
    articles = " ".join(p.read_text() for p in (Path(__file__).resolve().parents[2] / "knowledge" / "articles").glob("*.md"))
    facts = ["Jean Lee", "WhatsApp", "plug-and-play", "Gold Rush", "99.99%", "100ms", "50,000 calls",
             "50% precision", "80% recall", "$700,000", "$1,000,000", "Ollama", "70-billion", "transcription",
             "A/B testing", "future-proof", "validation sets", "DNS", "data privacy", "Chip Huyen",
             "reshaping industries", "re-learning", "V8", "backpropagation", "ingestion, retrieval, generation"]
    missing = [f for f in facts if f.lower() not in articles.lower()]
    assert not missing, missing
