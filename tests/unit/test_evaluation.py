"""Answer-level evaluation on tiny synthetic sets: the arithmetic and the matching rules the gates rely on."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.evaluation import (
    evaluate_answers,
    evaluate_conversations,
    missing_facts,
    normalise,
    word_count,
)


def canned(replies: dict[str, tuple[str, str]]) -> Callable[[str], tuple[str, str]]:
    """An `answer` callable that looks the question up, failing loudly on an unexpected one."""
    return lambda question: replies[question]


# --- matching rules ---------------------------------------------------------------------------

def test_fact_matching_ignores_case_markdown_whitespace_and_typography() -> None:
    text = "**AI  engineers**\nbuild on `existing models`; it\u2019s the \u201ccar\u201d, not the engine \u2014 mostly."
    assert missing_facts(text, [["ai engineers build"], ["EXISTING MODELS"], ["it's the \"car\""],
                                ["engine - mostly"]]) == []


def test_a_group_is_stated_when_any_alternative_occurs_and_missing_groups_are_listed() -> None:
    groups = [["100 ms", "100 milliseconds"], ["recall"], ["precision", "accuracy"]]
    assert missing_facts("Latency: 100 milliseconds at 80% recall.", groups) == [["precision", "accuracy"]]


def test_matching_is_not_fooled_by_words_split_across_markup_or_partial_phrases() -> None:
    assert missing_facts("train models from scratch", [["train models from zero"]]) == [["train models from zero"]]
    assert missing_facts("snake_case stays", [["snakecase"]]) == [["snakecase"]]  # inner underscores kept
    assert missing_facts("_emphasis_ goes", [["emphasis goes"]]) == []
    assert missing_facts("anything", [[""]]) == [[""]]  # an empty alternative never counts as stated


def test_normalise() -> None:
    assert normalise("  *Bold*\t__x__ `c`  \u2018q\u2019 \u2013 \u2212 ") == "bold x c 'q' - -"


def test_word_count_drops_citations_markdown_and_bullets() -> None:
    text = "## Heading\n\n**Bold** claim [1] and more [2, 3].\n- item one\n1. item two \u2014 done\nSee [the guide](https://x.example/a)."
    # Heading Bold claim and more item one item two done See the guide.
    assert word_count(text) == 13


# --- evaluate_answers ---------------------------------------------------------------------------

def test_evaluate_answers_counts_facts_refusals_redirects_and_median() -> None:
    rows = [
        {"question": "q1", "facts": [["engine"], ["car", "vehicle"]]},           # stated
        {"question": "q2", "facts": [["math"]], "in_scope": True},                # missing -> miss
        {"question": "q3", "facts": [["salary"]]},                                # refused (and missing)
        {"question": "q4", "facts": [], "in_scope": False},                       # redirected
        {"question": "q5", "in_scope": False},                                    # answered anyway
    ]
    replies = {
        "q1": ("The **engine** vs the *car* [1].", "question"),                   # 5 words
        "q2": ("- You need some statistics [1] [2] [3].", "question"),           # 4 words (8 tokens)
        "q3": ("That's outside what I know.", "out_of_scope"),                    # 5 words
        "q4": ("That's outside what I know.", "out_of_scope"),
        "q5": ("Bananas are yellow and long and sweet and cheap.", "question"),   # not counted in words
    }
    result = evaluate_answers(rows, canned(replies))
    assert result["n"] == 5 and result["n_out_of_scope"] == 2
    assert result["facts_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert result["refused"] == 1 and result["redirected"] == 1
    assert result["median_words"] == 5
    assert [m["question"] for m in result["misses"]] == ["q2", "q3"]
    assert result["misses"][0] == {"question": "q2", "missing": [["math"]], "text": replies["q2"][0]}


def test_evaluate_answers_median_of_an_even_count_and_empty_set() -> None:
    rows = [{"question": "a", "facts": []}, {"question": "b", "facts": []}]
    result = evaluate_answers(rows, canned({"a": ("one two", "question"), "b": ("one two three four five", "x")}))
    assert result["median_words"] == 3.5 and result["facts_rate"] == 1.0 and result["refused"] == 0
    empty = evaluate_answers([], canned({}))
    assert empty["n"] == 0 and empty["facts_rate"] == 0.0 and empty["median_words"] == 0


def test_evaluate_answers_accepts_a_bare_string_as_a_one_alternative_group_and_rejects_bad_rows() -> None:
    result = evaluate_answers([{"question": "a", "facts": ["engine", ["car"]]}], canned({"a": ("engine car", "q")}))
    assert result["facts_rate"] == 1.0
    with pytest.raises(ValueError, match="row 1: missing 'question'"):
        evaluate_answers([{"facts": []}], canned({}))
    with pytest.raises(ValueError, match="row 1"):
        evaluate_answers([{"question": "a", "facts": [[1]]}], canned({"a": ("", "q")}))


# --- evaluate_conversations ---------------------------------------------------------------------

def test_evaluate_conversations_fresh_conversation_per_script_and_context_arithmetic() -> None:
    opened: list[list[str]] = []

    def new_conversation() -> Callable[[str], tuple[str, str]]:
        sent: list[str] = []
        opened.append(sent)

        def send(text: str) -> tuple[str, str]:
            sent.append(text)
            # A toy bot with memory: a follow-up states the topic only when it saw the first turn.
            if text.startswith("and"):
                topic = sent[0] if len(sent) > 1 else "nothing"
                return f"About {topic}: the pay is high.", "question"
            return f"Answer about {text}.", "question"
        return send

    scripts = [
        {"id": "s1", "turns": [{"text": "AI engineering", "facts": [["ai engineering"]]},
                               {"text": "and the pay?", "facts": [["ai engineering"], ["pay"]], "uses": "topic"}]},
        {"id": "s2", "turns": [{"text": "and the pay?", "facts": [["ml engineering"]], "uses": "topic"}]},
        {"id": "s3", "turns": [{"text": "ML engineering", "facts": [["ml"]], "uses": ""},
                               {"text": "and hours?", "facts": [["ml engineering"]], "uses": "topic"}]},
    ]
    result = evaluate_conversations(scripts, new_conversation)
    assert opened == [["AI engineering", "and the pay?"], ["and the pay?"], ["ML engineering", "and hours?"]]
    assert result["n_scripts"] == 3 and result["n_turns"] == 5
    assert result["context_turns"] == 3  # "uses": "" is not a context turn
    assert result["context_kept"] == pytest.approx(2 / 3, abs=1e-4)  # s2's follow-up had no context
    assert result["facts_rate"] == pytest.approx(4 / 5, abs=1e-4)
    [miss] = result["misses"]
    assert miss["id"] == "s2" and miss["turn"] == 1 and miss["missing"] == [["ml engineering"]]


def test_evaluate_conversations_without_context_turns() -> None:
    result = evaluate_conversations([{"id": 1, "turns": [{"text": "hi", "facts": [["hello"]]}]}],
                                    lambda: lambda text: ("Hello!", "smalltalk"))
    assert result["context_turns"] == 0 and result["context_kept"] == 0.0 and result["facts_rate"] == 1.0
    with pytest.raises(ValueError, match="turns"):
        evaluate_conversations([{"id": "x"}], lambda: lambda text: ("", ""))
