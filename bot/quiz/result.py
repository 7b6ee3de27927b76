"""The quiz result: verdict, scores, reasons, cautions, learning plan and chart, in one value.

Why a separate type from the scorecard: the scorecard is pure arithmetic; the result adds what a
person reads (explanation, plan with sources, chart path) and what the CLI prints as JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.messages import Source
from bot.quiz.plan import PlanItem, plan_sources
from bot.quiz.scoring import LABEL_NAMES, Contribution

__all__ = ["QuizResult"]


@dataclass(frozen=True)
class QuizResult:
    label: str  # ai_engineer | ml_engineer | neither | either
    scores: dict[str, int]
    fits: dict[str, int]
    explanation: str
    chart: str | None
    reasons: tuple[str, ...] = ()
    cautions: tuple[str, ...] = ()
    movers: dict[str, tuple[Contribution, ...]] = field(default_factory=dict)
    plan: tuple[PlanItem, ...] = ()
    answered: int = 0
    total: int = 0

    @property
    def label_name(self) -> str:
        return LABEL_NAMES.get(self.label, self.label)

    @property
    def sources(self) -> tuple[Source, ...]:
        """The plan's resources, as citations."""
        return tuple(Source(title=t, url=u, snippet=skill) for t, u, skill in plan_sources(self.plan))

    def as_dict(self) -> dict[str, Any]:
        """The `careerbot quiz --answers ... --json` shape: label, scores, explanation, chart."""
        return {"label": self.label, "scores": dict(self.scores), "explanation": self.explanation, "chart": self.chart}

    def details(self) -> dict[str, Any]:
        """Everything, JSON-able (stored as the user's latest result; `Reply.data`)."""
        return {
            **self.as_dict(),
            "fits": dict(self.fits),
            "reasons": list(self.reasons),
            "cautions": list(self.cautions),
            "movers": {
                d: [{"question": c.question_number, "option": c.option, "delta": c.delta} for c in cs]
                for d, cs in self.movers.items()
            },
            "plan": [item.as_dict() for item in self.plan],
            "answered": self.answered,
            "total": self.total,
        }
