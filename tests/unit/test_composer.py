"""The offline answer writer on hand-made passages: which sentences lead, which follow, which never appear."""

from __future__ import annotations

import numpy as np

from bot.composer import compose_answer
from knowledge.chunking import Chunk
from knowledge.retriever import Passage


def _passage(chunk_id: str, body: str, rank: int = 1) -> Passage:
    chunk = Chunk(chunk_id=chunk_id, doc_id=chunk_id, title=f"Article {chunk_id}", url="", heading="", body=body)
    return Passage(chunk=chunk, score=1.0 / rank, dense_rank=rank, keyword_rank=rank, similarity=0.7)


def _units(vectors: dict[str, list[tuple[str, list[float]]]]):
    def units(chunk_id: str) -> list[tuple[str, np.ndarray]]:
        return [(s, np.asarray(v, dtype="float32")) for s, v in vectors.get(chunk_id, [])]
    return units


QUESTION = np.asarray([1.0, 0.0, 0.0], dtype="float32")


def test_a_short_lead_sentence_brings_the_sentence_after_it() -> None:
    units = _units({"a": [("You do not train giant models from scratch in this job.", [0.9, 0.1, 0.0]),
                          ("You build products on top of models that already exist.", [0.2, 0.9, 0.0]),
                          ("Unrelated closing remark about something else entirely.", [0.0, 0.0, 1.0])]})
    draft = compose_answer("do I train giant models?", [_passage("a", "x")], vector=QUESTION, units=units)
    assert draft.text.startswith("You do not train giant models")
    assert "You build products on top of models that already exist. [1]" in draft.text
    assert "Unrelated" not in draft.text


def test_the_questions_rare_words_pick_the_facet_among_close_sentences() -> None:
    units = _units({"a": [("Engineers pick a model and wire it into the product for users.", [0.80, 0.6, 0.0]),
                          ("Engineers iterate by tweaking prompts and swapping models every week.", [0.78, 0.6, 0.0])]})
    weights = {"iterat": 3.0, "engineer": 0.1}
    draft = compose_answer("what do engineers iterate on?", [_passage("a", "x")], vector=QUESTION, units=units,
                           term_weight=lambda t: weights.get(t, 0.5))
    assert draft.text.startswith("Engineers iterate")


def test_reading_lists_and_sentences_that_lean_on_their_paragraph_do_not_lead() -> None:
    units = _units({
        "links": [("- [A course](https://example.org/course)", [1.0, 0.0, 0.0])],
        "prose": [("In that case, the other path is the better answer for you.", [0.85, 0.0, 0.0]),
                  ("Evaluation sets tell you whether a change made answers better or worse.", [0.8, 0.1, 0.0])],
    })
    draft = compose_answer("how do I know a change helped?", [_passage("links", "x"), _passage("prose", "y", 2)],
                           vector=QUESTION, units=units)
    assert draft.text.startswith("Evaluation sets tell you")
    assert "://" not in draft.text and [s.title for s in draft.sources] == ["Article prose"]


def test_a_list_run_into_its_lead_sentence_is_cut_at_the_first_item() -> None:
    units = _units({"a": [("Build solid software skills before anything else. - If you want calm, pick steadier roles. - Learn to code.",
                           [0.9, 0.0, 0.0])]})
    draft = compose_answer("what first?", [_passage("a", "x")], vector=QUESTION, units=units)
    assert draft.text == "Build solid software skills before anything else. [1]"


def test_a_sentence_that_contrasts_or_points_at_an_earlier_object_does_not_lead() -> None:
    units = _units({"a": [("ML engineering, by contrast, often asks for an advanced degree and long training runs.",
                           [0.9, 0.0, 0.0]),
                          ("Even product teams use it when they read experiment results each week.", [0.88, 0.0, 0.0]),
                          ("Statistics helps you judge whether an experiment really changed anything.", [0.86, 0.0, 0.0])]})
    draft = compose_answer("why does statistics matter?", [_passage("a", "x")], vector=QUESTION, units=units)
    assert draft.text.startswith("Statistics helps you judge")


def test_a_recap_takes_the_sentence_the_caller_picks() -> None:
    from bot.composer import Draft, recap_of
    from bot.messages import Source

    draft = Draft("First point about pay here. Second point about hours here. [1]", [Source("Article", "")])
    assert recap_of(draft).text == "First point about pay here. [1]"
    assert recap_of(draft, lambda sentences: 1).text == "Second point about hours here. [1]"


def test_yes_or_no_never_opens_an_answer_to_a_wh_question_or_a_choice_of_roles() -> None:
    from bot.composer import takes_yes_or_no

    assert takes_yes_or_no("is ML engineering calmer?") and takes_yes_or_no("do I need a PhD")
    assert not takes_yes_or_no("hmm why") and not takes_yes_or_no("so which is it, ai or ml engineering?")
