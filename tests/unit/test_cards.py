"""Answer cards: matching rules and the vector cache, with vectors built by hand so each rule is visible."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from knowledge.cards import AnswerCards

CARDS = """
- id: pay
  article: pay-article
  asks: ["what do they earn"]
  answer: "They earn a lot at the top, far less elsewhere."
- id: avoid
  article: who-article
  asks: ["who should not do this job"]
  answer: "No. People who want a calm routine should avoid it."
"""
DIRECTIONS = {"what do they earn": [1.0, 0.0, 0.0], "who should not do this job": [0.0, 1.0, 0.0]}


def embed(texts: list[str]) -> list[list[float]]:
    return [DIRECTIONS[t] for t in texts]


def unit(*xs: float) -> np.ndarray:
    v = np.asarray(xs, dtype="float32")
    return v / np.linalg.norm(v)


@pytest.fixture
def cards(tmp_path: Path) -> AnswerCards:
    path = tmp_path / "cards.yaml"
    path.write_text(CARDS)
    return AnswerCards.load(path, embed)


def test_a_close_question_gets_its_card(cards: AnswerCards) -> None:
    match = cards.match(unit(1, 0.1, 0), 0.68)
    assert match is not None and match.card.id == "pay" and match.similarity > 0.99


def test_below_sure_the_cards_article_must_be_retrieved_too(cards: AnswerCards) -> None:
    question = unit(1, 0, 0.9)  # about 0.74 similar: plausible, not sure
    assert cards.match(question, 0.68, sure=0.8, articles={"other"}) is None
    assert cards.match(question, 0.68, sure=0.8, articles={"pay-article"}).card.id == "pay"


def test_a_yes_or_no_card_needs_its_own_higher_bar(cards: AnswerCards) -> None:
    question = unit(0, 1, 0.9)
    assert cards.match(question, 0.68, sure=0.8, sure_verdict=0.8, articles={"who-article"}) is None
    assert cards.match(question, 0.68, sure=0.8, sure_verdict=0.7, articles={"who-article"}).card.id == "avoid"


def test_a_negated_phrasing_never_answers_the_positive_question(cards: AnswerCards) -> None:
    question = unit(0, 1, 0)
    assert cards.match(question, 0.5, question="who should do this job") is None
    assert cards.match(question, 0.5, question="who is this job good for") is None
    assert cards.match(question, 0.5, question="who should avoid this job").card.id == "avoid"


def test_phrasing_vectors_are_cached_between_starts(tmp_path: Path) -> None:
    path = tmp_path / "cards.yaml"
    path.write_text(CARDS)
    AnswerCards.load(path, embed, cache_dir=tmp_path / "index")
    (cached,) = (tmp_path / "index").glob("cards-*.npy")

    def no_model(texts: list[str]) -> list[list[float]]:
        raise AssertionError("the cache should have answered")

    assert AnswerCards.load(path, no_model, cache_dir=tmp_path / "index").match(unit(1, 0, 0), 0.9).card.id == "pay"
    cached.write_bytes(b"not an array")  # a damaged cache is recomputed, not trusted
    assert AnswerCards.load(path, embed, cache_dir=tmp_path / "index").match(unit(1, 0, 0), 0.9).card.id == "pay"
    assert np.load(cached, allow_pickle=False).shape == (2, 3)


def test_a_question_about_who_fits_never_gets_the_card_about_who_should_not() -> None:
    """Every phrasing of a "who should not" card is negated, so a positive question cannot reach it."""
    from pathlib import Path

    import yaml

    from knowledge.text import negated

    cards = yaml.safe_load((Path(__file__).resolve().parents[2] / "knowledge" / "cards.yaml").read_text())
    avoid = next(c for c in cards if c["id"] == "who-should-avoid-ai-engineering")
    assert all(negated(a) for a in avoid["asks"]), [a for a in avoid["asks"] if not negated(a)]


def test_a_near_tie_in_meaning_goes_to_the_card_that_shares_the_questions_rare_words(tmp_path: Path) -> None:
    path = tmp_path / "cards.yaml"
    path.write_text("""
- id: salary
  article: a
  asks: ["what do they earn"]
  answer: "Pay is high at the top."
- id: hours
  article: b
  asks: ["how long do they work"]
  answer: "Hours are long during crunch."
""")
    directions = {"what do they earn": [1.0, 0.0, 0.0], "how long do they work": [0.0, 1.0, 0.0]}
    cards = AnswerCards.load(path, lambda texts: [directions[t] for t in texts])
    question = unit(1.0, 0.98, 0.0)  # a shade closer to the salary phrasing
    rare = {"crunch": 3.0}
    assert cards.match(question, 0.5).card.id == "salary"
    tied = cards.match(question, 0.5, question="is there crunch?", term_weight=lambda t: rare.get(t, 0.1))
    assert tied.card.id == "hours"
    far = unit(1.0, 0.5, 0.0)  # not a near tie: meaning decides
    assert cards.match(far, 0.5, question="is there crunch?", term_weight=lambda t: rare.get(t, 0.1)).card.id == "salary"
