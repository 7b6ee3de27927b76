"""Markdown and buttons for quiz steps and results. Platform-neutral: adapters convert the markdown.

Why buttons carry short labels and the message carries the full options: Slack and Discord cap
button labels at about 75-80 characters, while an option needs a sentence to be a fair choice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.messages import Button
from bot.quiz import buttons
from bot.quiz.model import Question, QuizDefinition
from bot.quiz.result import QuizResult
from bot.quiz.scoring import Scorecard

__all__ = ["bar", "explanation_text", "question_buttons", "question_text", "result_markdown"]

LETTERS = "ABCDE"
DISCLAIMER = "This quiz is an exploration aid, not an aptitude test: use it to decide what to try next."


def bar(score: int, width: int = 10) -> str:
    filled = round(max(0, min(100, score)) / 100 * width)
    return "█" * filled + "░" * (width - filled)


def question_text(
    definition: QuizDefinition, question: Question, position: int, total: int, previous: int | None = None
) -> str:
    """The question with lettered options and "Question k of n"."""
    lines = [f"**{definition.title}** · Question {position + 1} of {total}", "", f"**{question.text}**", ""]
    for i, option in enumerate(question.options):
        mark = " _(your earlier answer)_" if previous == i else ""
        lines.append(f"**{LETTERS[i]}.** {option.text}{mark}")
    return "\n".join(lines)


def question_buttons(owner: str, nonce: str, position: int, question: Question) -> tuple[tuple[Button, ...], ...]:
    options = tuple(
        Button(
            label=f"{LETTERS[i]} · {option.short}"[:75],
            value=buttons.encode("a", owner, nonce, position, i),
            style="primary",
        )
        for i, option in enumerate(question.options)
    )
    nav = (
        Button(label="Back", value=buttons.encode("b", owner, nonce, position)),
        Button(label="Skip", value=buttons.encode("s", owner, nonce, position)),
        Button(label="Cancel", value=buttons.encode("c", owner, nonce), style="danger"),
    )
    return (options, nav)


def explanation_text(definition: QuizDefinition, card: Scorecard) -> str:
    """Plain-text explanation for JSON output and the status tool: verdict, reasons, what moved it."""
    names = {d.id: d.label for d in definition.dimensions}
    ranked = sorted(card.scores.items(), key=lambda kv: -kv[1])
    parts = [*card.reasons]
    parts.append(
        "Strongest: " + ", ".join(f"{names[d]} {s}" for d, s in ranked[:2])
        + "; weakest: " + ", ".join(f"{names[d]} {s}" for d, s in ranked[-2:]) + "."
    )
    moved = []
    for d, _ in ranked:
        if card.movers.get(d):
            top = card.movers[d][0]
            moved.append(f"{names[d]}: Q{top.question_number} \"{top.option}\" ({top.delta:+d})")
    if moved:
        parts.append("What moved the scores most: " + "; ".join(moved) + ".")
    if card.uncovered:
        parts.append("Not enough answers to score: " + ", ".join(names[d] for d in card.uncovered) + " (shown as 50).")
    parts.extend(f"Caution: {c}" for c in card.cautions)
    parts.append(DISCLAIMER)
    return " ".join(parts)


def result_markdown(definition: QuizDefinition, result: QuizResult) -> str:
    names = {d.id: d.label for d in definition.dimensions}
    width = max(len(n) for n in names.values())
    lines = [
        f"**Your quiz result: {result.label_name}**",
        f"AI-engineer fit **{result.fits.get('ai_engineer', 0)}** · ML-engineer fit **{result.fits.get('ml_engineer', 0)}**"
        f" · {result.answered} of {result.total} answered",
        "",
        *result.reasons,
        "",
        "```",
        *(f"{names[d]:<{width}}  {bar(s)} {s:>3}" for d, s in result.scores.items()),
        "```",
    ]
    moved = _movers_lines(names, result)
    if moved:
        lines += ["", "**What moved each score most**", *moved]
    if result.cautions:
        lines += ["", "**Cautions**", *(f"- {c}" for c in result.cautions)]
    if result.plan:
        lines += ["", "**Learning plan for your weakest areas**"]
        for item in result.plan:
            hours = f", ~{item.hours:g} h" if item.hours else ""
            link = f" — [{item.resources[0][0]}]({item.resources[0][1]})" if item.resources else ""
            lines.append(f"- **{item.title}** ({item.stage}{hours}; {names.get(item.dimension, item.dimension)}){link}")
    lines += ["", f"_{DISCLAIMER}_"]
    return "\n".join(lines)


def _movers_lines(names: Mapping[str, str], result: QuizResult) -> list[str]:
    out = []
    for d in result.scores:
        contributions: Sequence = result.movers.get(d, ())
        if contributions:
            detail = ", ".join(f"Q{c.question_number} {c.option} ({c.delta:+d})" for c in contributions)
            out.append(f"- {names[d]}: {detail}")
    return out
