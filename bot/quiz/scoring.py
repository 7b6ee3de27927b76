"""Turn an answer sheet into dimension scores, role fits and a verdict. Pure functions, no I/O.

Why rescale against the *answered* questions: a skipped question should not pull a dimension
down, and a 0..100 scale makes dimensions with many and few questions comparable. The rules are
deliberately few and readable so the explanation can name the one that decided the verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.quiz.model import ROLES, QuizDefinition

__all__ = ["LABELS", "LABEL_NAMES", "Contribution", "Scorecard", "score_answers"]

LABELS = ("ai_engineer", "ml_engineer", "neither", "either")
LABEL_NAMES = {
    "ai_engineer": "AI engineer",
    "ml_engineer": "ML engineer",
    "neither": "neither for now",
    "either": "either path",
}


@dataclass(frozen=True)
class Contribution:
    """One answer's push on one dimension (for "what moved this score")."""

    question_number: int  # 1-based, as shown to the user
    question_id: str
    option: str  # the option's short label
    delta: int


@dataclass(frozen=True)
class Scorecard:
    label: str
    scores: dict[str, int]
    fits: dict[str, int]
    movers: dict[str, tuple[Contribution, ...]]
    reasons: tuple[str, ...]  # why this verdict
    cautions: tuple[str, ...]
    answered: int
    total: int
    uncovered: tuple[str, ...]  # dimensions no answered question touched (shown as 50)


def _check(definition: QuizDefinition, answers: Sequence[int | None]) -> list[int | None]:
    if len(answers) > len(definition.questions):
        raise ValueError(f"{len(answers)} answers given but the quiz has {len(definition.questions)} questions")
    sheet = list(answers) + [None] * (len(definition.questions) - len(answers))
    for i, (q, a) in enumerate(zip(definition.questions, sheet, strict=True)):
        if a is not None and not (isinstance(a, int) and 0 <= a < len(q.options)):
            raise ValueError(f"answer {i + 1} must be an option from 1 to {len(q.options)}, got {a!r}")
    return sheet


def score_answers(definition: QuizDefinition, answers: Sequence[int | None]) -> Scorecard:
    """Score a sheet of 0-based option indices (None = skipped), in the definition's question order."""
    sheet = _check(definition, answers)
    dims = definition.dimension_ids
    raw = dict.fromkeys(dims, 0)
    lo = dict.fromkeys(dims, 0)
    hi = dict.fromkeys(dims, 0)
    contributions: dict[str, list[Contribution]] = {d: [] for d in dims}
    for i, (question, choice) in enumerate(zip(definition.questions, sheet, strict=True)):
        if choice is None:
            continue
        option = question.options[choice]
        for d in dims:
            values = [o.weights.get(d, 0) for o in question.options]
            lo[d] += min(values)
            hi[d] += max(values)
            delta = option.weights.get(d, 0)
            raw[d] += delta
            if delta:
                contributions[d].append(Contribution(i + 1, question.id, option.short, delta))

    scores: dict[str, int] = {}
    uncovered: list[str] = []
    for d in dims:
        if hi[d] == lo[d]:
            scores[d] = 50
            uncovered.append(d)
        else:
            scores[d] = round(100 * (raw[d] - lo[d]) / (hi[d] - lo[d]))

    fits = {
        role: round(sum(definition.roles[role].weights.get(d, 0.0) * scores[d] for d in dims)) for role in ROLES
    }
    movers = {
        d: tuple(sorted(contributions[d], key=lambda c: (-abs(c.delta), c.question_number))[:2]) for d in dims
    }
    answered = sum(a is not None for a in sheet)
    label, reasons = _verdict(definition, scores, fits, answered)
    return Scorecard(
        label=label,
        scores=scores,
        fits=fits,
        movers=movers,
        reasons=reasons,
        cautions=_cautions(definition, label, scores, sheet, answered),
        answered=answered,
        total=len(sheet),
        uncovered=tuple(uncovered),
    )


def _verdict(
    definition: QuizDefinition, scores: dict[str, int], fits: dict[str, int], answered: int
) -> tuple[str, tuple[str, ...]]:
    rules = definition.rules
    ai, ml = fits["ai_engineer"], fits["ml_engineer"]
    if answered == 0:
        return "neither", ("No questions were answered, so there is nothing to go on yet.",)
    if scores["motivation"] < rules.motivation_gate:
        return "neither", (
            f"Motivation scored {scores['motivation']}/100: the draw looks like a shortcut to salary or "
            "security, and both paths need a year or more of sustained learning.",
        )
    if max(ai, ml) < rules.min_fit:
        return "neither", (
            f"Both fits are low (AI {ai}, ML {ml}, below {rules.min_fit:g}): little in your answers pulls "
            "toward the daily work of either role.",
        )
    if scores["pressure"] < rules.stability_gate and scores["relearning"] < rules.stability_gate:
        return "neither", (
            f"You value stability (pressure {scores['pressure']}, re-learning {scores['relearning']}): both "
            "jobs come with constant tool churn and release crunches.",
        )
    if abs(ai - ml) < rules.either_margin:
        return "either", (
            f"Your AI-engineer fit ({ai}) and ML-engineer fit ({ml}) are within {rules.either_margin:g} points: "
            "both paths suit you, and the line between them is permeable.",
        )
    if ai > ml:
        return "ai_engineer", (
            f"AI-engineer fit {ai} is ahead of ML-engineer fit {ml}: building on existing models, product "
            "sense and evaluation weigh more in your answers than math and training.",
        )
    return "ml_engineer", (
        f"ML-engineer fit {ml} is ahead of AI-engineer fit {ai}: math, training and validation weigh more "
        "in your answers than shipping products built with existing models.",
    )


def _cautions(
    definition: QuizDefinition, label: str, scores: dict[str, int], sheet: list[int | None], answered: int
) -> tuple[str, ...]:
    rules = definition.rules
    out = [
        c.text
        for c in definition.cautions
        if scores[c.dimension] < c.below and (not c.roles or label in c.roles)
    ]
    total = len(sheet)
    if total and answered / total < rules.low_answer_share:
        out.append(
            f"You answered {answered} of {total} questions, so this result rests on little evidence; "
            "answer more for a firmer picture."
        )
    chosen = [a for a in sheet if a is not None]
    if len(chosen) >= rules.straight_line_min and len(set(chosen)) == 1:
        out.append(
            f"You picked option {chosen[0] + 1} every time. If that was quick clicking rather than "
            "your real preference, take the quiz again."
        )
    return tuple(out)
