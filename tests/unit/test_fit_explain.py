"""How a verdict explains itself: its confidence never contradicts its reason."""

from __future__ import annotations

from bot.fit.model import FitAssessment, explain
from bot.fit.signals import ClauseReading
from bot.profile import Profile


def _assessment(label: str, scores: dict[str, float], profile: Profile, readings: list[ClauseReading]) -> FitAssessment:
    return FitAssessment(label=label, scores=scores, profile=profile, readings=readings)


def test_a_neither_without_a_reason_is_tentative_not_a_clear_fit() -> None:
    reading = ClauseReading("I like cooking and people", "product", 1, 0.7)
    text = explain(_assessment("neither", {"ai_engineer": 2.0, "ml_engineer": 1.0, "neither": 97.0}, Profile(), [reading]))
    assert text.startswith("Verdict, tentatively: **neither for now**") and "clear fit" not in text


def test_a_neither_with_a_reason_keeps_its_confidence() -> None:
    reading = ClauseReading("zero coding so far", "coding", -1, 0.9)
    profile = Profile(codes=False, quotes={"codes": "zero coding so far"})
    text = explain(_assessment("neither", {"ai_engineer": 4.0, "ml_engineer": 1.0, "neither": 95.0}, profile, [reading]))
    assert "a clear fit, 95%" in text and "built on programming" in text


def test_a_track_chosen_over_a_reasonless_neither_says_it_leans() -> None:
    reading = ClauseReading("backend dev here", "coding", 1, 0.9)
    profile = Profile(codes=True, quotes={"codes": "backend dev here"})
    text = explain(_assessment("ai_engineer", {"ai_engineer": 45.0, "ml_engineer": 1.0, "neither": 54.0}, profile, [reading]))
    assert text.startswith("Verdict, leaning: **AI engineer**") and "Nothing you said" in text


def test_a_reason_to_wait_read_by_pattern_is_the_verdicts_ground() -> None:
    profile = Profile(motives=("money",))
    text = explain(_assessment("neither", {"ai_engineer": 1.0, "ml_engineer": 1.0, "neither": 98.0}, profile, []))
    assert text.startswith("Verdict: **neither for now**") and "shortcut to a high salary" in text
