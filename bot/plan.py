"""Learning plans from knowledge/skills.yaml, tailored to what a person says they know and lack.

A plan is the chosen track's skills in stage order, minus what the text says the person already
has, with what it says they lack moved to the front (when its prerequisites allow), cut into
three steps: now, next, later. Every step names resources with URLs so the plan cites its sources.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["LearningPlan", "LearningPlanner", "PlanStep", "Skill", "load_skills", "parse_skills"]

_NEGATION = re.compile(r"\b(not|never|no|don'?t|can'?t|haven'?t|hate|dislike|weak|struggle\w*|bad at|"
                       r"rusty|lack\w*|without|new to|beginner|want to learn|need to learn|learn)\b|n't\b", re.I)
_HAVE = re.compile(r"\b(i'?m|i am|i have|i'?ve|years?|experience|worked|work as|job as|know|use|used|built|"
                   r"ship|shipped|degree|studied|comfortable|fluent|professional)\b", re.I)
STEP_NAMES = ("Now", "Next", "Later")


@dataclass(frozen=True)
class Skill:
    id: str
    title: str
    track: str
    stage: str
    ml_stage: str | None
    prereqs: tuple[str, ...]
    dims: tuple[str, ...]
    keywords: tuple[str, ...]
    why: str
    hours: int
    resources: tuple[dict[str, str], ...]

    def stage_for(self, track: str) -> str:
        return self.ml_stage if track == "ml_engineer" and self.ml_stage else self.stage


@dataclass
class PlanStep:
    name: str
    skills: list[Skill]


@dataclass
class LearningPlan:
    track: str
    steps: list[PlanStep]
    known: list[Skill] = field(default_factory=list)
    gaps: list[Skill] = field(default_factory=list)
    note: str = ""

    @property
    def resources(self) -> list[dict[str, str]]:
        seen: dict[str, dict[str, str]] = {}
        for step in self.steps:
            for skill in step.skills:
                for res in skill.resources[:2]:
                    seen.setdefault(res["url"], res)
        return list(seen.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "track": self.track,
            "note": self.note,
            "already_have": [s.id for s in self.known],
            "gaps": [s.id for s in self.gaps],
            "steps": [
                {
                    "name": step.name,
                    "skills": [
                        {"id": s.id, "title": s.title, "why": s.why, "hours": s.hours,
                         "resources": list(s.resources[:2])}
                        for s in step.skills
                    ],
                }
                for step in self.steps
            ],
        }

    def to_markdown(self) -> str:
        track_name = {"ai_engineer": "AI engineer", "ml_engineer": "ML engineer"}.get(self.track, self.track)
        lines = [f"**Learning plan: {track_name} track**"]
        if self.note:
            lines.append(self.note)
        if self.known:
            lines.append("Skipping what you already have: " + ", ".join(s.title for s in self.known) + ".")
        for step in self.steps:
            if not step.skills:
                continue
            hours = sum(s.hours for s in step.skills)
            lines.append(f"\n**{step.name}** (about {hours} hours)")
            for s in step.skills:
                res = "; ".join(f"[{r['title']}]({r['url']})" for r in s.resources[:2])
                focus = " (you named this as a gap)" if s in self.gaps else ""
                lines.append(f"- **{s.title}**{focus}: {s.why} {res}".rstrip())
        return "\n".join(lines)


def load_skills(path: Path) -> tuple[dict[str, Any], list[Skill]]:
    """The tracks and skills of a skills.yaml file."""
    return parse_skills(yaml.safe_load(path.read_text(encoding="utf-8")) or {})


def parse_skills(data: Mapping[str, Any]) -> tuple[dict[str, Any], list[Skill]]:
    """Tracks and skills from parsed skills.yaml data; optional fields get defaults."""
    skills = [
        Skill(
            id=str(s["id"]),
            title=str(s.get("title") or s["id"]),
            track=str(s.get("track") or "shared"),
            stage=str(s.get("stage") or ""),
            ml_stage=str(s["ml_stage"]) if s.get("ml_stage") else None,
            prereqs=tuple(s.get("prereqs") or ()),
            dims=tuple(s.get("dims") or ()),
            keywords=tuple(str(k).lower() for k in s.get("keywords") or ()),
            why=str(s.get("why") or "").strip(),
            hours=int(s.get("hours") or 10),
            resources=tuple({"title": str(r.get("title") or r["url"]), "url": str(r["url"]),
                             "type": str(r.get("type", ""))} for r in s.get("resources") or () if r.get("url")),
        )
        for s in data.get("skills") or ()
    ]
    return dict(data.get("tracks") or {}), skills


class LearningPlanner:
    """Builds `LearningPlan`s; one instance is shared (it holds only the parsed roadmap)."""

    def __init__(self, skills_path: Path) -> None:
        self.tracks, self.skills = load_skills(skills_path)
        self._by_id = {s.id: s for s in self.skills}

    def stage_order(self, track: str) -> list[str]:
        return [st["id"] for st in self.tracks[track]["stages"]]

    def track_skills(self, track: str) -> list[Skill]:
        code = "ml" if track == "ml_engineer" else "ai"
        order = {sid: i for i, sid in enumerate(self.stage_order(track))}
        picked = [s for s in self.skills if s.track in (code, "shared") and s.stage_for(track) in order]
        return sorted(picked, key=lambda s: (order[s.stage_for(track)], self.skills.index(s)))

    def _mentions(self, text: str) -> tuple[set[str], set[str]]:
        """Skill ids the text says the person has, and ids it says they lack."""
        known: set[str] = set()
        gaps: set[str] = set()
        for clause in re.split(r"(?<=[.!?;])\s+|\s+but\s+|,\s*", text.lower()):
            for skill in self.skills:
                if not any(re.search(rf"\b{re.escape(k)}\b", clause) for k in skill.keywords):
                    continue
                if _NEGATION.search(clause):
                    gaps.add(skill.id)
                elif _HAVE.search(clause):
                    known.add(skill.id)
        return known - gaps, gaps

    def plan(self, text: str, track: str | None = None, *, weak_dimensions: tuple[str, ...] = (),
             per_step: int = 3) -> LearningPlan:
        """Plan for `text`; `track` is "ai_engineer" or "ml_engineer" (default: from the text)."""
        track = track if track in ("ai_engineer", "ml_engineer") else self._guess_track(text)
        known_ids, gap_ids = self._mentions(text)
        candidates = [s for s in self.track_skills(track) if s.id not in known_ids]

        def priority(s: Skill) -> tuple[int, int]:
            is_gap = s.id in gap_ids or bool(set(s.dims) & set(weak_dimensions))
            blocked = any(p not in known_ids and p in {c.id for c in candidates[: candidates.index(s)]}
                          for p in s.prereqs)
            # Gaps come first unless they need something not yet learned.
            return (0 if is_gap and not blocked else 1, candidates.index(s))

        ordered = sorted(candidates, key=priority)
        # Re-impose prerequisites: a skill never precedes a prerequisite still in the plan.
        placed: list[Skill] = []
        pending = list(ordered)
        while pending:
            for s in pending:
                if all(p not in {c.id for c in pending} or p == s.id for p in s.prereqs):
                    placed.append(s)
                    pending.remove(s)
                    break
            else:
                placed.extend(pending)
                break
        steps = [PlanStep(name, placed[i * per_step:(i + 1) * per_step]) for i, name in enumerate(STEP_NAMES)]
        note = ""
        if track == "ml_engineer" and "math" in {d for s in (self._by_id[g] for g in gap_ids) for d in s.dims}:
            note = "The ML track leans on math; the plan starts there because you named it as a gap."
        return LearningPlan(
            track=track,
            steps=steps,
            known=[self._by_id[i] for i in sorted(known_ids)],
            gaps=[self._by_id[i] for i in sorted(gap_ids) if self._by_id[i] in placed],
            note=note,
        )

    @staticmethod
    def explicit_track(text: str) -> str | None:
        """The track the text names outright ("become an AI engineer"), if it names exactly one."""
        lowered = text.lower()
        ai = bool(re.search(r"\b(ai engineer\w*|ai engineering|llm apps?|build(ing)? with llms)\b", lowered))
        ml = bool(re.search(r"\b(ml engineer\w*|ml engineering|machine learning engineer\w*|train(ing)? models)\b",
                            lowered))
        if ai != ml:
            return "ai_engineer" if ai else "ml_engineer"
        return None

    def _guess_track(self, text: str) -> str:
        return self.explicit_track(text) or "ai_engineer"
