"""Learning plans that start where the person is, from knowledge/skills.yaml.

A user trial found plans that ignored the person: gaps they named went unmentioned, contrasting
people got identical plans, a non-coder was told they "already have" Python, experienced developers
started with weeks of git and HTTP, and ML plans put every hour of math before any code. So a plan
here is built from what the person said (free text) and what the profile reader understood
(`Profile`), in this order of stages:

1. programming fundamentals, only for people who don't code (or whose coding is unknown);
2. the gaps they named, so the first thing they read is the thing they asked about;
3. the track's stages in roadmap order, minus what they already have; on the ML track every math
   topic sits next to code that uses it, as the project's own articles advise;
4. one portfolio project they ship, chosen to match their background.

Each skill names the knowledge article that explains it, so callers can cite the articles as the
source of the plan's claims; resources stay as learn-more links.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bot.profile import Profile
from knowledge.yamlfile import safe_load as load_yaml

__all__ = [
    "LearningPlan",
    "LearningPlanner",
    "PlanStep",
    "Project",
    "Skill",
    "load_skills",
    "parse_projects",
    "parse_skills",
]

TRACKS = ("ai_engineer", "ml_engineer")
TRACK_TITLES = {"ai_engineer": "AI engineer", "ml_engineer": "ML engineer"}
_TRACK_CODE = {"ai_engineer": "ai", "ml_engineer": "ml"}
# The legacy three-step view ("Now / Next / Later") some consumers of as_dict() still read.
STEP_NAMES = ("Now", "Next", "Later")

CAUTION_ARTICLE = "who-should-become-an-ai-engineer"
MATH_ARTICLE = "math-for-ml-engineers"
BEGINNER_ARTICLE = "getting-started-without-a-cs-degree"
PROJECT_ARTICLE = "example-projects"
GAP_STAGE = "gaps"
# Learned skills whose presence says the person writes code (git alone does not).
_NOT_CODING_EVIDENCE = frozenset({"git-and-cli"})

_NEGATION = re.compile(r"\b(not|never|no|zero|don'?t|can'?t|haven'?t|hate[sd]?|dislike[sd]?|weak|poor at|"
                       r"struggle\w*|bad at|rusty|lack\w*|without|new to|beginner|want to learn|need to learn|"
                       r"learn)\b|n't\b", re.I)
_HAVE = re.compile(r"\b(i'?m|i am|i have|i'?ve|years?|experience|worked|work as|job as|know|use|used|built|"
                   r"ship|shipped|degree|studied|comfortable|fluent|professional|strong|good at|solid|daily|"
                   r"at work)\b", re.I)
# Jobs in which HTTP, servers and APIs are daily work, so a plan need not teach them.
_WEB_ROLE = re.compile(r"back-?end|front-?end|full[- ]?stack|\bweb\b|software|developer|programmer|devops|"
                       r"\bsre\b|platform engineer", re.I)


# --------------------------------------------------------------------------------------------
# The roadmap as data
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Skill:
    """One learnable skill of the roadmap; the quiz reads the same records."""

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
    article: str = ""
    kind: str = "skill"  # "skill" | "math" | "project"
    review_hours: int | None = None

    def stage_for(self, track: str) -> str:
        return self.ml_stage if track == "ml_engineer" and self.ml_stage else self.stage


@dataclass(frozen=True)
class Project:
    """A concrete portfolio project from knowledge/articles/example-projects.md."""

    id: str
    track: str
    title: str
    description: str
    source: str
    keywords: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "description": self.description, "source": self.source}


def load_skills(path: Path) -> tuple[dict[str, Any], list[Skill]]:
    """The tracks and skills of a skills.yaml file."""
    return parse_skills(_read_yaml(path))


def parse_skills(data: Mapping[str, Any]) -> tuple[dict[str, Any], list[Skill]]:
    """Tracks and skills from parsed skills.yaml data; optional fields get defaults so older
    catalogues (and the quiz's test catalogue) still load."""
    return dict(data.get("tracks") or {}), [_parse_skill(s) for s in data.get("skills") or ()]


def parse_projects(data: Mapping[str, Any]) -> list[Project]:
    """The portfolio projects of parsed skills.yaml data (none in older catalogues)."""
    return [
        Project(
            id=str(p["id"]),
            track=str(p.get("track") or "ai"),
            title=str(p.get("title") or p["id"]),
            description=str(p.get("description") or "").strip(),
            source=str(p.get("source") or ""),
            keywords=tuple(str(k).lower() for k in p.get("keywords") or ()),
        )
        for p in data.get("projects") or ()
    ]


def _read_yaml(path: Path) -> dict[str, Any]:
    return load_yaml(path.read_text(encoding="utf-8")) or {}


def _parse_skill(s: Mapping[str, Any]) -> Skill:
    return Skill(
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
        article=str(s.get("article") or ""),
        kind=str(s.get("kind") or "skill"),
        review_hours=int(s["review_hours"]) if s.get("review_hours") else None,
    )


def _article_titles(folder: Path) -> dict[str, str]:
    """id -> title from the articles' front matter, so plan text can name its sources by title."""
    titles: dict[str, str] = {}
    if not folder.is_dir():
        return titles
    for path in sorted(folder.glob("*.md")):
        head = path.read_text(encoding="utf-8").split("\n---", 2)[0]
        found_id = re.search(r"^id:\s*(\S+)", head, re.M)
        found_title = re.search(r'^title:\s*"?(.*?)"?\s*$', head, re.M)
        if found_id:
            titles[found_id.group(1)] = found_title.group(1).replace('\\"', '"') if found_title else found_id.group(1)
    return titles


# --------------------------------------------------------------------------------------------
# The plan
# --------------------------------------------------------------------------------------------


@dataclass
class PlanStep:
    """One stage of a plan; weeks is filled in only when the person gave a weekly pace."""

    name: str
    skills: list[Skill]
    id: str = ""
    weeks: float | None = None

    @property
    def hours(self) -> int:
        return sum(s.hours for s in self.skills)


@dataclass
class LearningPlan:
    """A plan plus everything needed to explain it honestly (what was skipped and why, cautions,
    whether it fits the time frame, which articles back it)."""

    track: str
    stages: list[PlanStep]
    known: list[Skill] = field(default_factory=list)
    gaps: list[Skill] = field(default_factory=list)
    reason: str = ""
    note: str = ""
    caution: str = ""
    project: Project | None = None
    optional: list[Skill] = field(default_factory=list)
    known_reasons: dict[str, str] = field(default_factory=dict)
    known_titles: dict[str, str] = field(default_factory=dict)
    hours_per_week: float | None = None
    weeks_available: float | None = None
    total_weeks: int | None = None
    fits_time_frame: bool | None = None
    stages_in_time_frame: int | None = None
    time_note: str = ""
    articles: list[str] = field(default_factory=list)

    @property
    def total_hours(self) -> int:
        return sum(st.hours for st in self.stages)

    @property
    def resources(self) -> list[dict[str, str]]:
        """Learn-more links, deduplicated, in plan order (callers show them as sources)."""
        seen: dict[str, dict[str, str]] = {}
        for stage in self.stages:
            for skill in stage.skills:
                for res in skill.resources[:2]:
                    seen.setdefault(res["url"], res)
        return list(seen.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "track": self.track,
            "reason": self.reason,
            "note": self.note,
            "caution": self.caution,
            "already_have": [s.id for s in self.known],
            "gaps": [s.id for s in self.gaps],
            "stages": [_stage_dict(st) for st in self.stages],
            "total_hours": self.total_hours,
            "hours_per_week": self.hours_per_week,
            "weeks_available": self.weeks_available,
            "weeks": self.total_weeks,
            "fits_time_frame": self.fits_time_frame,
            "stages_in_time_frame": self.stages_in_time_frame,
            "time_note": self.time_note,
            "project": self.project.as_dict() if self.project else None,
            "optional": [s.id for s in self.optional],
            "articles": list(self.articles),
            "steps": self._legacy_steps(),
        }

    def _legacy_steps(self) -> list[dict[str, Any]]:
        """Now = stage 1, Next = stage 2, Later = the rest: kept for consumers of the old shape."""
        groups = [self.stages[:1], self.stages[1:2], self.stages[2:]]
        return [{"name": name, "skills": [_skill_dict(s) for st in group for s in st.skills]}
                for name, group in zip(STEP_NAMES, groups, strict=True)]

    def to_markdown(self) -> str:
        lines = [self.reason]
        lines += [part for part in (self._known_line(), self.caution, self.note, self._time_line()) if part]
        gap_ids = {s.id for s in self.gaps}
        for number, stage in enumerate(self.stages, 1):
            lines.append(f"\n**{number}. {stage.name}**: {_stage_size(stage)}")
            lines += [_skill_line(s, s.id in gap_ids) for s in stage.skills]
        if self.optional:
            lines.append("\nAfter the project, if you want more: " + ", ".join(s.title for s in self.optional) + ".")
        return "\n".join(lines)

    def timeline_markdown(self) -> str:
        """The plan's time alone, for "how long is that?": the total first, then each stage's share."""
        lines = [self._time_line()]
        lines += [f"{number}. {stage.name}: {_stage_size(stage)}" for number, stage in enumerate(self.stages, 1)]
        if self.hours_per_week is None:
            lines.append("Tell me your weekly study hours and I'll turn this into weeks.")
        lines.append(TIMELINE_CAVEAT)
        return "\n".join(lines)

    def _known_line(self) -> str:
        if not self.known:
            return ""
        by_reason: dict[str, list[str]] = {}
        for skill in self.known:
            title = self.known_titles.get(skill.id, skill.title)
            by_reason.setdefault(self.known_reasons.get(skill.id, "you said so"), []).append(title)
        parts = [f"{', '.join(titles)} ({reason})" for reason, titles in by_reason.items()]
        tail = " Python itself comes quickly once you code." if "python-basics" in self.known_titles else ""
        return "Skipping what you already have: " + "; ".join(parts) + "." + tail

    def _time_line(self) -> str:
        total = f"About {self.total_hours} h in {len(self.stages)} stages."
        return f"{total} {self.time_note}".strip()


# The sources set no timeline (Jean Lee: no shortcuts, no simple roadmaps), so a duration must say whose it is.
TIMELINE_CAVEAT = ("_My sources give no fixed timeline: Jean Lee says there are no shortcuts and no simple roadmaps. "
                   "These hours are careerbot's own estimates per skill, a guide rather than a promise._")


def _skill_dict(s: Skill) -> dict[str, Any]:
    return {"id": s.id, "title": s.title, "why": s.why, "hours": s.hours, "article": s.article,
            "resources": list(s.resources[:2])}


def _stage_dict(st: PlanStep) -> dict[str, Any]:
    return {"id": st.id, "name": st.name, "hours": st.hours, "weeks": st.weeks,
            "skills": [_skill_dict(s) for s in st.skills]}


def _stage_size(stage: PlanStep) -> str:
    if stage.weeks is None:
        return f"{stage.hours} h"
    return f"{stage.hours} h, about {_num(stage.weeks)} week{'s' if stage.weeks != 1 else ''}"


def _skill_line(s: Skill, is_gap: bool) -> str:
    mark = " (your gap)" if is_gap else ""
    link = f" [{s.resources[0]['title']}]({s.resources[0]['url']})" if s.resources else ""
    return f"- **{s.title}**{mark}, {s.hours} h: {s.why}{link}"


def _join(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _num(x: float) -> str:
    # "8 months" is 34.8 weeks to the arithmetic, but a person plans in whole weeks and hours
    return f"{round(x)}" if x == int(x) or x >= 3 else f"{x:.1f}".rstrip("0").rstrip(".")


# --------------------------------------------------------------------------------------------
# What the person has, lacks and wants
# --------------------------------------------------------------------------------------------


@dataclass
class _Facts:
    """The planner's reading of one person: the profile with the text's skill mentions folded in."""

    codes: bool | None
    math: int | None
    math_weak: bool
    known: dict[str, str]  # skill id -> why we think they have it
    known_titles: dict[str, str]
    gaps: list[str]
    cautious: bool
    words: str  # lowercased text, role and goal, for choosing a project


# --------------------------------------------------------------------------------------------
# The planner
# --------------------------------------------------------------------------------------------


class LearningPlanner:
    """Builds `LearningPlan`s; one instance is shared (it holds only the parsed roadmap)."""

    def __init__(self, skills_path: Path, articles_dir: Path | None = None) -> None:
        data = _read_yaml(skills_path)
        self.tracks, self.skills = parse_skills(data)
        self.projects = parse_projects(data)
        self._by_id = {s.id: s for s in self.skills}
        self._position = {s.id: i for i, s in enumerate(self.skills)}
        self.article_titles = _article_titles(articles_dir or skills_path.parent / "articles")

    # ---- the roadmap ----

    def stage_order(self, track: str) -> list[str]:
        return [st["id"] for st in self.tracks[track]["stages"]]

    def _stage_meta(self, track: str) -> dict[str, Mapping[str, Any]]:
        return {str(st["id"]): st for st in self.tracks[track]["stages"]}

    def track_skills(self, track: str) -> list[Skill]:
        code = _TRACK_CODE.get(track, "ai")
        order = {sid: i for i, sid in enumerate(self.stage_order(track))}
        picked = [s for s in self.skills if s.track in (code, "shared") and s.stage_for(track) in order]
        return sorted(picked, key=lambda s: (order[s.stage_for(track)], self._position[s.id]))

    def _requires(self, skill_id: str) -> set[str]:
        """Every prerequisite of a skill, transitively."""
        out: set[str] = set()
        todo = list(self._by_id[skill_id].prereqs)
        while todo:
            p = todo.pop()
            if p in self._by_id and p not in out:
                out.add(p)
                todo.extend(self._by_id[p].prereqs)
        return out

    # ---- reading the person ----

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

    def _facts(self, text: str, track: str, profile: Profile, weak_dimensions: tuple[str, ...]) -> _Facts:
        said_known, said_gaps = self._mentions(text)
        track_skills = self.track_skills(track)
        gaps = [s.id for s in track_skills if s.id in said_gaps and s.kind != "project"]
        codes = self._codes(profile, said_known, said_gaps, weak_dimensions)
        experienced = codes is True and (
            (profile.coding_years or 0) >= 2 or (profile.coding_years is None and profile.role_codes is True))
        known = {k: "you said so" for k in sorted(said_known, key=self._position.__getitem__)}
        known_titles: dict[str, str] = {}
        if codes is True:
            self._infer_from_coding(profile, experienced, known)
        if "python-basics" in known and "python" not in text.lower():
            # They said they code, not that they know Python: don't claim more than they said.
            known_titles["python-basics"] = "programming"
        if codes is False:
            known.pop("python-basics", None)  # never tell a non-coder they "already have" programming
        for g in gaps:
            known.pop(g, None)
        gaps += self._weak_dimension_gaps(track_skills, weak_dimensions, known, gaps)
        motives = set(profile.motives)
        return _Facts(
            codes=codes,
            math=profile.math,
            math_weak=profile.math == -1 or "math" in weak_dimensions,
            known=known,
            known_titles=known_titles,
            gaps=gaps,
            cautious=bool(motives & {"money", "shortcut"}) and "curiosity" not in motives,
            words=" ".join(filter(None, (text, profile.role, profile.goal))).lower(),
        )

    def _codes(self, profile: Profile, said_known: set[str], said_gaps: set[str],
               weak_dimensions: tuple[str, ...]) -> bool | None:
        """Whether the person codes: the profile first, then what the text shows."""
        if profile.codes is not None:
            return profile.codes and profile.coding_years != 0
        if profile.coding_years is not None:
            return profile.coding_years > 0
        if "python-basics" in said_gaps:
            return False
        coding = [k for k in said_known if k not in _NOT_CODING_EVIDENCE and self._by_id[k].dims[:1] == ("coding",)]
        return True if coding and "coding" not in weak_dimensions else None

    @staticmethod
    def _infer_from_coding(profile: Profile, experienced: bool, known: dict[str, str]) -> None:
        """Skills a working coder can be assumed to have, each with the reason we assume it."""
        years = profile.coding_years
        reason = f"{years:g} years of coding" if years else "you already code"
        known.setdefault("python-basics", reason)
        if experienced:
            known.setdefault("git-and-cli", reason)
            if profile.role and _WEB_ROLE.search(profile.role):
                for skill_id in ("http-and-apis", "web-fundamentals"):
                    known.setdefault(skill_id, f"your work as {_article(profile.role)} {profile.role}")

    @staticmethod
    def _weak_dimension_gaps(skills: Sequence[Skill], weak: tuple[str, ...], known: Mapping[str, str],
                             gaps: Sequence[str]) -> list[str]:
        """Skills that are *about* a weak quiz dimension. Coding and math are handled by the
        programming stage and the math pairing instead, which keep the roadmap order sane."""
        dims = set(weak) - {"coding", "math"}
        return [s.id for s in skills
                if s.dims[:1] and s.dims[0] in dims and s.kind == "skill" and s.id not in known and s.id not in gaps]

    def _choose_track(self, text: str, track: str | None, profile: Profile,
                      verdict: str | None = None) -> tuple[str, str]:
        """The track and the one-phrase reason for it (shown in the plan's first line)."""
        named = self.explicit_track(text)
        by_interest = {"build": "ai_engineer", "train": "ml_engineer"}.get(profile.interest or "")
        given = track in TRACKS  # the caller chose it, e.g. from the person's verdict
        if not given:
            track = named or by_interest or "ai_engineer"
        if named == track:
            return track, "it is the path you asked about"
        if verdict == "neither" and not given:
            # A plan asked for after a "not now" must not read as if it contradicted the verdict.
            return track, ("your verdict was *neither for now*, so take this as the start-small version: its "
                           "first stage pays off whatever you decide later")
        if by_interest == track:
            return track, ("you want to make products with existing models" if track == "ai_engineer"
                           else "you want to train models yourself")
        if not given and named is None and by_interest is None and track == "ai_engineer":
            return track, "it is the more accessible start when no path is named"
        return track, "it fits what you have told me best"

    # ---- building the stages ----

    def _sized(self, skill: Skill, facts: _Facts) -> Skill:
        """Math the person is already strong in shrinks to a review; a named gap never does."""
        if skill.kind == "math" and facts.math == 1 and skill.review_hours and skill.id not in facts.gaps:
            return replace(skill, hours=skill.review_hours, title=f"{skill.title} (review)")
        return skill

    def _stages(self, track: str, facts: _Facts) -> tuple[list[PlanStep], list[Skill]]:
        meta = self._stage_meta(track)
        todo = [self._sized(s, facts) for s in self.track_skills(track) if s.id not in facts.known]
        gaps = set(facts.gaps)
        optional = [s for s in todo if meta[s.stage_for(track)].get("optional") and s.id not in gaps]
        core = [s for s in todo if s not in optional and s.kind != "project"]
        foundation = [s for s in core if meta[s.stage_for(track)].get("foundation")]
        stages: list[PlanStep] = []
        placed: set[str] = set()
        if facts.codes is not True and foundation:
            stages.append(PlanStep(str(meta[foundation[0].stage_for(track)]["title"]), foundation,
                                   id=foundation[0].stage_for(track)))
            placed |= {s.id for s in foundation}
        gap_stage = self._gap_stage(track, core, gaps, placed, facts)
        if gap_stage:
            stages.append(gap_stage)
            placed |= {s.id for s in gap_stage.skills}
        for stage_id, st in meta.items():
            if st.get("foundation") or st.get("optional"):
                continue
            rest = [s for s in core if s.stage_for(track) == stage_id and s.id not in placed]
            if rest:
                stages.append(PlanStep(_stage_name(st, rest), rest, id=stage_id))
                placed |= {s.id for s in rest}
        self._defer_foundation([s for s in foundation if s.id not in placed], stages)
        if track == "ml_engineer":
            stages = _merge_math_only(stages)
        return stages, optional

    def _gap_stage(self, track: str, core: Sequence[Skill], gaps: set[str], placed: set[str],
                   facts: _Facts) -> PlanStep | None:
        """The named gaps, with the same-stage prerequisites they can't be learned without.

        On the ML track only the first math gap moves up and it is paired with code, so even a
        person who names three math gaps doesn't get a wall of math before any code."""
        chosen = [s for s in core if s.id in gaps and s.id not in placed]
        if track == "ml_engineer":
            maths = [s for s in chosen if s.kind == "math"]
            chosen = [s for s in chosen if s.kind != "math" or s is maths[0]]
        if not chosen:
            return None
        pool = {s.id: s for s in core if s.id not in placed}
        want = {s.id for s in chosen}
        for skill in chosen:
            want |= {p for p in self._requires(skill.id)
                     if p in pool and pool[p].stage_for(track) == skill.stage_for(track)}
        if track == "ml_engineer" and all(pool[w].kind == "math" for w in want):
            pairing = self._code_to_pair(track, core, placed | want, facts)
            if pairing:
                want.add(pairing.id)
        skills = self._ordered([pool[w] for w in want], first=gaps)
        return PlanStep("Your gaps first", skills, id=GAP_STAGE)

    def _code_to_pair(self, track: str, core: Sequence[Skill], have: set[str], facts: _Facts) -> Skill | None:
        """The earliest ML code skill that can be learned now, to practise a math topic in."""
        meta = self._stage_meta(track)
        ready = have | set(facts.known)
        for skill in core:
            if skill.kind != "skill" or skill.id in have or meta[skill.stage_for(track)].get("foundation"):
                continue
            if all(p in ready or self._by_id[p].kind == "math" for p in skill.prereqs if p in self._by_id):
                return skill
        return None

    def _ordered(self, skills: Iterable[Skill], first: set[str]) -> list[Skill]:
        """Prerequisites before what needs them; otherwise named gaps first, then roadmap order."""
        pending = {s.id: s for s in skills}
        out: list[Skill] = []
        while pending:
            ready = [s for s in pending.values() if not (set(s.prereqs) & pending.keys())] or list(pending.values())
            nxt = min(ready, key=lambda s: (s.id not in first, self._position[s.id]))
            out.append(pending.pop(nxt.id))
        return out

    def _defer_foundation(self, leftovers: Sequence[Skill], stages: list[PlanStep]) -> None:
        """For people who code, a basic they lack (say git) goes just before the first skill
        that needs it instead of delaying the interesting part of the plan."""
        for skill in leftovers:
            spot = self._first_dependent(skill.id, stages)
            if spot is None:
                target = [st for st in stages if st.skills] or stages
                if target:
                    target[-1].skills.append(skill)
                continue
            i, j = spot
            stages[i].skills.insert(j, skill)

    def _first_dependent(self, skill_id: str, stages: Sequence[PlanStep]) -> tuple[int, int] | None:
        for i, stage in enumerate(stages):
            for j, s in enumerate(stage.skills):
                if skill_id in self._requires(s.id):
                    return i, j
        return None

    def suggest_projects(self, text: str, track: str, n: int = 3) -> list[Project]:
        """Portfolio projects for `track`, those matching the person's own words first."""
        words = text.lower()
        candidates = [p for p in self.projects if p.track == _TRACK_CODE[track]]
        ranked = sorted(candidates, key=lambda p: (-_hits(p.keywords, words), candidates.index(p)))
        return ranked[:n]

    def _project_stage(self, track: str, facts: _Facts) -> tuple[PlanStep | None, Project | None]:
        """The closing project: the one whose keywords best match the person's own words."""
        skill = next((s for s in self.track_skills(track) if s.kind == "project"), None)
        candidates = [p for p in self.projects if p.track == _TRACK_CODE[track]]
        if skill is None:
            return None, None
        project = max(candidates, key=lambda p: (_hits(p.keywords, facts.words), -candidates.index(p)),
                      default=None)
        if project:
            why = f"{project.description} Ship it: deploy it, measure it, and keep it in a public repo with a README."
            skill = replace(skill, title=f"Ship one project: {project.title}", why=why)
        meta = self._stage_meta(track).get(skill.stage_for(track), {})
        return PlanStep(str(meta.get("title") or "Portfolio project"), [skill], id=skill.stage_for(track)), project

    # ---- the public entry point ----

    def plan(self, text: str, track: str | None = None, *, profile: Profile | None = None,
             weak_dimensions: tuple[str, ...] = (), verdict: str | None = None) -> LearningPlan:
        """A plan for this person. `track` is one of "ai_engineer", "ml_engineer" (default: the one the
        text names, else the profile's interest, else AI engineering); `profile` is what the
        profile reader understood; `weak_dimensions` are quiz dimensions to work on first; `verdict`
        is the person's last verdict, if any (a plan after "neither for now" says it starts small)."""
        profile = profile or Profile()
        track, why_track = self._choose_track(text, track, profile, verdict)
        facts = self._facts(text, track, profile, tuple(weak_dimensions))
        stages, optional = self._stages(track, facts)
        project_stage, project = self._project_stage(track, facts)
        if project_stage:
            stages.append(project_stage)
        plan = LearningPlan(
            track=track,
            stages=stages,
            known=[s for s in self.track_skills(track) if s.id in facts.known],
            gaps=[self._by_id[g] for g in facts.gaps if any(s.id == g for st in stages for s in st.skills)],
            project=project,
            optional=optional,
            known_reasons=dict(facts.known),
            known_titles=facts.known_titles,
        )
        plan.reason = self._reason_line(track, why_track, facts, stages)
        plan.note = self._note(track, facts, stages)
        plan.caution = self._caution(track) if facts.cautious else ""
        _apply_pace(plan, profile.hours_per_week, profile.weeks)
        plan.articles = self._articles(plan, facts)
        return plan

    # ---- the words around the stages ----

    def _title(self, article_id: str) -> str:
        return f"*{self.article_titles.get(article_id, article_id)}*"

    @staticmethod
    def _reason_line(track: str, why_track: str, facts: _Facts, stages: Sequence[PlanStep]) -> str:
        if facts.codes is False:
            start = "you don't code yet, so it starts with programming"
        elif facts.codes is None:
            start = "it starts with programming (skip stage 1 if you already write Python)"
        elif stages and stages[0].id == GAP_STAGE:
            start = "you already code, so it starts with the gaps you named"
        elif track == "ai_engineer":
            start = "you already code, so it starts with model APIs, not the basics"
        else:
            start = "you already code, so math and code go side by side from stage 1"
        if track == "ml_engineer" and facts.math == 1:
            start += ", with math as a short review"
        return f"**Learning plan: {TRACK_TITLES[track]} track**, because {why_track}; {start}."

    def _note(self, track: str, facts: _Facts, stages: Sequence[PlanStep]) -> str:
        parts: list[str] = []
        if facts.codes is False:
            parts.append("Both AI and ML engineering need confident programming, so it comes first "
                         f"({self._title(BEGINNER_ARTICLE)}).")
        maths = [s for st in stages for s in st.skills if s.kind == "math"]
        if track == "ml_engineer" and maths:
            parts.append(f"Math is learned alongside code, not all before it, as {self._title(MATH_ARTICLE)} "
                         "advises: implement each idea in NumPy as you learn it.")
            if facts.math == 1:
                full = sum(self._by_id[s.id].hours for s in maths)
                parts.append(f"Your math is strong, so it is a {sum(s.hours for s in maths)} h review "
                             f"instead of {full} h.")
            elif facts.math_weak:
                parts.append(f"Math is the long part of this track ({sum(s.hours for s in maths)} h here); "
                             "if it is a deal-breaker, the AI engineer track needs far less.")
        return " ".join(parts)

    def _caution(self, track: str) -> str:
        text = (f"**An honest caution** (from {self._title(CAUTION_ARTICLE)}, after Jean Lee): if a high "
                "salary is the main reason, there is no shortcut; the work is hard, competition is intense "
                "and the tools keep changing. Solid software or data skills also pay well and carry over to "
                "AI later, so try stage 1 before committing.")
        if track == "ml_engineer":
            text += " ML engineering is no easier: Chip Huyen notes brutal competition there, often against PhDs."
        return text

    def _articles(self, plan: LearningPlan, facts: _Facts) -> list[str]:
        """Article ids in the order the plan leans on them: caution and notes first, then stages."""
        ids: list[str] = []
        if plan.caution:
            ids.append(CAUTION_ARTICLE)
        if facts.codes is False:
            ids.append(BEGINNER_ARTICLE)
        if plan.track == "ml_engineer" and any(s.kind == "math" for st in plan.stages for s in st.skills):
            ids.append(MATH_ARTICLE)
        ids += [s.article for st in plan.stages for s in st.skills if s.article]
        return list(dict.fromkeys(ids))

    @staticmethod
    def explicit_track(text: str) -> str | None:
        """The track the text names outright ("become an AI engineer"), if it names exactly one."""
        # A track named only to be ruled out ("ML, not the chatbot side") is not the one asked for.
        lowered = re.sub(r"\b(not|no|without|instead of|rather than)( the| any)? [^,.;!?]{0,30}", " ", text.lower())
        ai = bool(re.search(r"\b(ai engineer\w*|ai engineering|llm apps?|build(ing)? with llms)\b", lowered))
        ml = bool(re.search(r"\b(ml engineer\w*|ml engineering|machine learning engineer\w*|train(ing)? models)\b",
                            lowered))
        if ai != ml:
            return "ai_engineer" if ai else "ml_engineer"
        return None


# --------------------------------------------------------------------------------------------
# Helpers without state
# --------------------------------------------------------------------------------------------


def _stage_name(meta: Mapping[str, Any], skills: Sequence[Skill]) -> str:
    """The roadmap's stage title, or its code-only title once the stage's math has moved away."""
    if meta.get("code_title") and not any(s.kind == "math" for s in skills):
        return str(meta["code_title"])
    return str(meta.get("title") or meta.get("id") or "")


def _hits(keywords: Iterable[str], words: str) -> int:
    return sum(1 for k in keywords if re.search(rf"\b{re.escape(k)}", words))


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _merge_math_only(stages: list[PlanStep]) -> list[PlanStep]:
    """A stage left with only math (its code moved up or is already known) joins the next stage,
    so math is never studied on its own."""
    out: list[PlanStep] = []
    carry: PlanStep | None = None
    for stage in stages:
        if carry is not None:
            stage = PlanStep(f"{stage.name}, plus {_join([s.title for s in carry.skills]).lower()}",
                             carry.skills + stage.skills, id=stage.id)
            carry = None
        if stage.skills and all(s.kind == "math" for s in stage.skills):
            carry = stage
            continue
        out.append(stage)
    if carry is not None:
        if out:
            out[-1].skills.extend(carry.skills)
        else:
            out.append(carry)
    return out


_HOURS_AMOUNT = re.compile(r"\b(\d+(?:\.\d+)?)\s*(?:h|hrs?|hours?)\b(?!\s*(?:a|an|per|/|each|every|in (?:the|a))\s*"
                           r"(?:day|night|evening|week|wk|weekend))(?!\s*(?:weekly|daily|nightly))", re.I)
_ASKS_WEEKS = re.compile(r"\bhow (?:many|much) (?:weeks?|months?|time)\b|\bhow long\b", re.I)
_FOR_SPAN = re.compile(r"\bfor (\d+(?:\.\d+)?) (weeks?|months?)\b", re.I)
_ASKS_HOURS = re.compile(r"\bhow many (?:hours|hrs|h)\b(?! (?:a|per|each) week)", re.I)


def time_arithmetic(text: str, hours_per_week: float | None, weeks: float | None) -> str | None:
    """The sum a person asks about their own time, worked out: "60 h at my pace?", "6h weekly over 20 weeks?".

    Only sums the message states or the conversation knows (pace, time frame); None when it asks none.
    """
    amount = _HOURS_AMOUNT.search(text)
    if amount and hours_per_week and _ASKS_WEEKS.search(text):
        hours = float(amount.group(1))
        need = math.ceil(hours / hours_per_week)
        return f"{_num(hours)} h at {_num(hours_per_week)} h/week is about {need} weeks{_in_months(need)}."
    span = _FOR_SPAN.search(text)
    if span:  # "6h a week for 20 weeks": a span counted in this sum only, not a deadline
        weeks = float(span.group(1)) * (4.35 if span.group(2).lower().startswith("month") else 1.0)
    if hours_per_week and weeks and _ASKS_HOURS.search(text):
        total = hours_per_week * weeks
        return f"{_num(hours_per_week)} h/week for {_num(weeks)} weeks is {_num(total)} hours."
    return None


def _in_months(weeks: int | None) -> str:
    """Long spans read better in months too: "59 weeks" is hard to picture, "about 14 months" is not."""
    if not weeks or weeks < 9:
        return ""
    return f" (about {round(weeks / 4.35)} months)"


def _apply_pace(plan: LearningPlan, hours_per_week: float | None, weeks: float | None) -> None:
    """Weeks per stage at the person's pace, and an honest word on their time frame."""
    plan.hours_per_week = hours_per_week if hours_per_week and hours_per_week > 0 else None
    plan.weeks_available = weeks if weeks and weeks > 0 else None
    total = plan.total_hours
    pace, frame = plan.hours_per_week, plan.weeks_available
    if pace:
        for stage in plan.stages:
            stage.weeks = round(stage.hours / pace, 1)
        plan.total_weeks = math.ceil(total / pace)
    if pace and frame:
        plan.fits_time_frame = total <= pace * frame
        plan.time_note = _frame_note(plan, pace, frame)
    elif pace:
        plan.time_note = f"At {_num(pace)} h/week that is about {plan.total_weeks} weeks{_in_months(plan.total_weeks)}."
    elif frame:
        need = math.ceil(total / frame)
        plan.time_note = f"To finish in {_num(frame)} weeks you would need about {need} h/week."
    elif total:
        # No pace given: two common ones, so a person deciding how much time to set aside can weigh them.
        plan.time_note = (f"At 5 h/week that is about {math.ceil(total / 5)} weeks, "
                          f"at 10 h/week about {math.ceil(total / 10)} weeks.")


def _frame_note(plan: LearningPlan, pace: float, frame: float) -> str:
    """What fits in the stated time frame, and what is left after it."""
    total, budget = plan.total_hours, pace * frame
    at = f"at {_num(pace)} h/week"
    if plan.fits_time_frame:
        spare = int(frame - (plan.total_weeks or 0))
        tail = f", with about {spare} weeks to spare" if spare >= 2 else ""
        return f"{at.capitalize()} that is about {plan.total_weeks} weeks{_in_months(plan.total_weeks)}, so it fits your {_num(frame)} weeks{tail}."
    done, cumulative = 0, 0
    for stage in plan.stages:
        if cumulative + stage.hours > budget:
            break
        cumulative += stage.hours
        done += 1
    plan.stages_in_time_frame = done
    more = math.ceil((total - cumulative) / pace)
    need = math.ceil(total / frame)
    if done == 0:
        return (f"It does not fit {_num(frame)} weeks {at} ({_num(budget)} h): stage 1 alone is "
                f"{plan.stages[0].hours} h. The whole plan takes about {plan.total_weeks} weeks {at}, "
                f"or about {need} h/week to finish in {_num(frame)} weeks.")
    which = "stage 1" if done == 1 else f"stages 1-{done}"
    return (f"It does not all fit: in {_num(frame)} weeks {at} ({_num(budget)} h) you can do {which} "
            f"({cumulative} h); the rest takes about {more} more weeks at that pace "
            f"(or about {need} h/week to finish everything in {_num(frame)} weeks).")
