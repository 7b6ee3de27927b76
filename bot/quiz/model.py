"""The quiz as data: dimensions, roles, rules and questions, loaded and checked from quiz.yaml.

Why validate at load: a typo in the YAML (an unknown dimension, a weight of 20, a question with
one option) would otherwise surface as a silently skewed verdict. Loading fails with a message that
names the question and option instead.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "DIMENSIONS",
    "ROLES",
    "Caution",
    "Dimension",
    "Option",
    "Question",
    "QuizDefinition",
    "QuizDefinitionError",
    "Role",
    "Rules",
    "load_quiz_definition",
]

# The dimension ids shared with knowledge/skills.yaml and the learning-plan code.
DIMENSIONS = ("coding", "math", "product", "evaluation", "relearning", "pressure", "motivation")
ROLES = ("ai_engineer", "ml_engineer")
MAX_WEIGHT = 2


class QuizDefinitionError(ValueError):
    """quiz.yaml is malformed; the message says where."""


@dataclass(frozen=True)
class Dimension:
    id: str
    label: str
    high: str = ""


@dataclass(frozen=True)
class Option:
    text: str
    short: str
    weights: Mapping[str, int]


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    options: tuple[Option, ...]


@dataclass(frozen=True)
class Role:
    id: str
    label: str
    weights: Mapping[str, float]


@dataclass(frozen=True)
class Caution:
    dimension: str
    below: float
    text: str
    roles: tuple[str, ...] = ()  # empty: whatever the verdict


@dataclass(frozen=True)
class Rules:
    motivation_gate: float = 35
    min_fit: float = 45
    stability_gate: float = 30
    either_margin: float = 6
    low_answer_share: float = 0.6
    straight_line_min: int = 10


@dataclass(frozen=True)
class QuizDefinition:
    """A validated quiz. `fingerprint` changes whenever questions or options change."""

    id: str
    title: str
    dimensions: tuple[Dimension, ...]
    roles: Mapping[str, Role]
    rules: Rules
    cautions: tuple[Caution, ...]
    questions: tuple[Question, ...]
    fingerprint: str = field(default="")

    def dimension(self, dim_id: str) -> Dimension:
        return next(d for d in self.dimensions if d.id == dim_id)

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    @property
    def dimension_ids(self) -> tuple[str, ...]:
        return tuple(d.id for d in self.dimensions)


def _require(cond: bool, where: str, message: str) -> None:
    if not cond:
        raise QuizDefinitionError(f"quiz definition, {where}: {message}")


def _weights(raw: Any, where: str) -> dict[str, int]:
    _require(isinstance(raw, Mapping), where, "weights must be a mapping of dimension to integer")
    out: dict[str, int] = {}
    for dim, value in raw.items():
        _require(dim in DIMENSIONS, where, f"unknown dimension {dim!r} (use one of {', '.join(DIMENSIONS)})")
        _require(
            isinstance(value, int) and not isinstance(value, bool) and abs(value) <= MAX_WEIGHT,
            where,
            f"weight for {dim} must be an integer from -{MAX_WEIGHT} to {MAX_WEIGHT}, got {value!r}",
        )
        if value:
            out[dim] = value
    return out


def _parse(data: Mapping[str, Any]) -> QuizDefinition:
    _require(isinstance(data, Mapping), "top level", "expected a mapping")
    dims_raw = data.get("dimensions") or []
    dimensions = tuple(
        Dimension(id=str(d["id"]), label=str(d.get("label") or d["id"]), high=str(d.get("high", "")))
        for d in dims_raw
    )
    _require(
        tuple(d.id for d in dimensions) == DIMENSIONS,
        "dimensions",
        f"must be exactly {', '.join(DIMENSIONS)} in that order",
    )

    roles: dict[str, Role] = {}
    for role_id in ROLES:
        raw = (data.get("roles") or {}).get(role_id)
        _require(isinstance(raw, Mapping), f"roles.{role_id}", "missing")
        weights = {str(k): float(v) for k, v in (raw.get("weights") or {}).items()}
        _require(set(weights) <= set(DIMENSIONS), f"roles.{role_id}", "weights name an unknown dimension")
        _require(abs(sum(weights.values()) - 1.0) < 1e-6, f"roles.{role_id}", "weights must add up to 1")
        roles[role_id] = Role(id=role_id, label=str(raw.get("label") or role_id), weights=weights)

    rules = Rules(**{k: v for k, v in (data.get("rules") or {}).items() if k in Rules.__dataclass_fields__})

    cautions = tuple(
        Caution(
            dimension=str(c["dimension"]),
            below=float(c["below"]),
            text=str(c["text"]),
            roles=tuple(c.get("roles") or ()),
        )
        for c in data.get("cautions") or []
    )
    for c in cautions:
        _require(c.dimension in DIMENSIONS, "cautions", f"unknown dimension {c.dimension!r}")

    questions: list[Question] = []
    seen: set[str] = set()
    for qi, q in enumerate(data.get("questions") or []):
        qid = str(q.get("id") or "")
        where = f"question {qi + 1} ({qid or 'no id'})"
        _require(bool(qid) and qid not in seen, where, "needs a unique id")
        seen.add(qid)
        _require(bool(str(q.get("text", "")).strip()), where, "needs text")
        opts_raw = q.get("options") or []
        _require(3 <= len(opts_raw) <= 5, where, f"needs 3 to 5 options, has {len(opts_raw)}")
        options = []
        for oi, o in enumerate(opts_raw):
            owhere = f"{where}, option {oi + 1}"
            text = str(o.get("text", "")).strip()
            _require(bool(text), owhere, "needs text")
            short = str(o.get("short") or text)[:60]
            options.append(Option(text=text, short=short, weights=_weights(o.get("weights") or {}, owhere)))
        questions.append(Question(id=qid, text=str(q["text"]).strip(), options=tuple(options)))
    _require(len(questions) >= 1, "questions", "at least one question is needed")
    _require(len(questions) <= 25, "questions", "at most 25 questions fit the button scheme")

    fingerprint = hashlib.sha256(
        json.dumps(
            [[q.id, [[o.text, dict(o.weights)] for o in q.options]] for q in questions], sort_keys=True
        ).encode()
    ).hexdigest()[:12]
    return QuizDefinition(
        id=str(data.get("id") or "quiz"),
        title=str(data.get("title") or "Quiz"),
        dimensions=dimensions,
        roles=roles,
        rules=rules,
        cautions=cautions,
        questions=tuple(questions),
        fingerprint=fingerprint,
    )


def load_quiz_definition(source: str | Path | Mapping[str, Any]) -> QuizDefinition:
    """Load quiz.yaml (a path) or an already parsed mapping, validated."""
    if isinstance(source, Mapping):
        return _parse(source)
    import yaml  # local import: only the loader needs it

    from knowledge.yamlfile import safe_load as load_yaml

    path = Path(source)
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise QuizDefinitionError(f"quiz definition not found: {path}") from None
    except yaml.YAMLError as exc:
        raise QuizDefinitionError(f"quiz definition {path} is not valid YAML: {exc}") from None
    try:
        return _parse(data)
    except (KeyError, TypeError) as exc:
        raise QuizDefinitionError(f"quiz definition {path}: missing or malformed field {exc}") from None
