"""A short learning plan aimed at the quiz's weakest dimensions, drawn from knowledge/skills.yaml.

Why "weakest, weighted by the role": a low math score matters for an ML engineer and hardly at all
for an AI engineer, so the gap (100 - score) of each dimension is multiplied by how much the
recommended role relies on it. Skills come in roadmap order (earlier stages first), so the plan
never starts with fine-tuning for someone who still needs Python.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.plan import Skill, load_skills, parse_skills
from bot.quiz.model import ROLES, QuizDefinition

__all__ = ["PlanItem", "Skill", "SkillCatalog", "build_plan", "load_skill_catalog"]

_TRACK_OF_ROLE = {"ai_engineer": "ai", "ml_engineer": "ml"}


@dataclass(frozen=True)
class SkillCatalog:
    """The parts of skills.yaml the plan needs: stage order per track, and the skills."""

    stages: Mapping[str, tuple[tuple[str, str], ...]]  # role -> ((stage id, title), ...)
    skills: tuple[Skill, ...]

    def stage_title(self, stage_id: str) -> str:
        for stages in self.stages.values():
            for sid, title in stages:
                if sid == stage_id:
                    return title
        return stage_id

    def rank(self, skill: Skill, role: str) -> tuple[int, str]:
        """Position of the skill along `role`'s roadmap (smaller = earlier)."""
        order = [sid for sid, _ in self.stages.get(role, ())]
        stage = skill.ml_stage if role == "ml_engineer" and skill.ml_stage else skill.stage
        return (order.index(stage) if stage in order else len(order), stage)

    def stage_of(self, skill: Skill, role: str) -> str:
        return skill.ml_stage if role == "ml_engineer" and skill.ml_stage else skill.stage


@dataclass(frozen=True)
class PlanItem:
    skill_id: str
    title: str
    stage: str  # "A4 Evaluation"
    dimension: str  # the weak dimension this step works on
    why: str
    hours: float | None
    resources: tuple[tuple[str, str], ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "skill": self.skill_id,
            "title": self.title,
            "stage": self.stage,
            "dimension": self.dimension,
            "why": self.why,
            "hours": self.hours,
            "resources": [{"title": t, "url": u} for t, u in self.resources],
        }


def load_skill_catalog(source: str | Path | Mapping[str, Any]) -> SkillCatalog:
    """Read skills.yaml (path or parsed mapping) with the learning planner's parser."""
    if isinstance(source, Mapping):
        tracks, skills = parse_skills(source)
    else:
        tracks, skills = load_skills(Path(source))
    stages = {
        role: tuple((str(s["id"]), str(s.get("title") or s["id"])) for s in (tracks.get(role) or {}).get("stages") or [])
        for role in ROLES
    }
    return SkillCatalog(stages=stages, skills=tuple(skills))


def _role_weights(definition: QuizDefinition, label: str) -> dict[str, float]:
    if label in definition.roles:
        return dict(definition.roles[label].weights)
    # either / neither: what both roles share matters most.
    return {
        d: sum(definition.roles[r].weights.get(d, 0.0) for r in ROLES) / len(ROLES) for d in definition.dimension_ids
    }


def _eligible(skill: Skill, label: str, catalog: SkillCatalog) -> list[str]:
    """Roles along whose roadmap this skill counts for a verdict `label` (empty: not eligible)."""
    if label in _TRACK_OF_ROLE:
        return [label] if skill.track in (_TRACK_OF_ROLE[label], "shared") else []
    roles = [r for r in ROLES if skill.track in (_TRACK_OF_ROLE[r], "shared")]
    if label == "neither":
        # Foundations only: cheap ways to find out whether the field is for you.
        roles = [r for r in roles if catalog.rank(skill, r)[0] <= 1]
    return roles


def build_plan(
    definition: QuizDefinition,
    label: str,
    scores: Mapping[str, int],
    catalog: SkillCatalog | None,
    *,
    max_dimensions: int = 3,
    per_dimension: int = 2,
    max_items: int = 5,
    strong_enough: int = 75,
) -> tuple[PlanItem, ...]:
    """Up to `max_items` skills for the weakest dimensions that matter for `label`."""
    if catalog is None or not catalog.skills:
        return ()
    weights = _role_weights(definition, label)
    gaps = sorted(
        ((100 - scores[d]) * weights.get(d, 0.0), d)
        for d in definition.dimension_ids
        if scores[d] < strong_enough and weights.get(d, 0.0) > 0
    )
    weak = [d for gap, d in reversed(gaps) if gap > 0]
    plan: list[PlanItem] = []
    picked: set[str] = set()
    used_dims = 0
    for dim in weak:
        if used_dims >= max_dimensions or len(plan) >= max_items:
            break
        # Primary dimension first (the skill is *about* it), then roadmap stage, then the order of
        # skills.yaml, which lists prerequisites before what builds on them.
        candidates: list[tuple[tuple[int, int, int], Skill, str]] = []
        for position, skill in enumerate(catalog.skills):
            if dim not in skill.dims or skill.id in picked:
                continue
            roles = _eligible(skill, label, catalog)
            if not roles:
                continue
            role = min(roles, key=lambda r: catalog.rank(skill, r))
            if scores[dim] >= 60 and catalog.rank(skill, role)[0] == 0:
                continue  # already decent here: skip the first-stage basics
            primary = 0 if skill.dims and skill.dims[0] == dim else 1
            candidates.append(((primary, catalog.rank(skill, role)[0], position), skill, role))
        if not candidates:
            continue
        used_dims += 1
        for _, skill, role in sorted(candidates, key=lambda c: c[0])[:per_dimension]:
            if len(plan) >= max_items:
                break
            stage = catalog.stage_of(skill, role)
            plan.append(
                PlanItem(
                    skill_id=skill.id,
                    title=skill.title,
                    stage=f"{stage} {catalog.stage_title(stage)}".strip(),
                    dimension=dim,
                    why=skill.why,
                    hours=skill.hours,
                    resources=tuple((r["title"], r["url"]) for r in skill.resources[:2]),
                )
            )
            picked.add(skill.id)
    return tuple(plan)


def plan_sources(plan: Sequence[PlanItem]) -> list[tuple[str, str, str]]:
    """(title, url, skill title) of each resource, deduplicated, in plan order."""
    seen: set[str] = set()
    out = []
    for item in plan:
        for title, url in item.resources:
            if url not in seen:
                seen.add(url)
                out.append((title, url, item.title))
    return out
