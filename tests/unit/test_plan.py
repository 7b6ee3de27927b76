"""Learning plans start where the person is.

A user trial found plans that ignored the person (named gaps missing, identical plans for contrasting
people, a non-coder told they "already have" Python, experienced developers starting with weeks of
git and HTTP, model APIs after 137 hours, no retrieval/evaluation/deployment/project, all math before
any code on the ML track, time frames ignored). Each test here pins one of those down against the
real roadmap in knowledge/skills.yaml.
"""

from __future__ import annotations

import itertools
import math
import re
from pathlib import Path

import pytest
import yaml

from bot.plan import LearningPlan, LearningPlanner, parse_projects, parse_skills
from bot.profile import Profile

ROOT = Path(__file__).resolve().parents[2]
SKILLS_YAML = ROOT / "knowledge" / "skills.yaml"
ARTICLES = ROOT / "knowledge" / "articles"
CORE_AI = ("llm-basics", "chat-completions-api", "prompt-engineering", "embeddings", "rag", "llm-evaluation",
           "llm-deployment", "llm-monitoring")

# (text, track or None, profile): ten people who should not get the same plan.
PEOPLE: dict[str, tuple[str, str | None, Profile]] = {
    "backend_dev": (
        "I've been a backend developer for 6 years, I build REST APIs in Go and use Docker every day. "
        "I want to become an AI engineer.",
        None,
        Profile(role="backend developer", role_codes=True, codes=True, coding_years=6, math=0, interest="build",
                motives=("curiosity",)),
    ),
    "career_changer": (
        "I'm a teacher with no coding experience and I'd like to move into AI engineering.",
        None,
        Profile(role="teacher", role_codes=False, codes=False, coding_years=0, interest="build",
                motives=("curiosity",)),
    ),
    "math_phd": (
        "I have a PhD in mathematics and I want to train models as an ML engineer.",
        None,
        Profile(role="math PhD", codes=True, coding_years=2, math=1, interest="train", motives=("curiosity",)),
    ),
    "analyst": (
        "I'm a data analyst; I write SQL and build dashboards every day. I want to become an AI engineer.",
        None,
        Profile(role="data analyst", role_codes=True, codes=True, coding_years=3, interest="build"),
    ),
    "frontend_5h_8w": (
        "Frontend developer (React) here. I want to become an AI engineer and have 5 hours a week for 8 weeks.",
        None,
        Profile(role="frontend developer", role_codes=True, codes=True, coding_years=4, hours_per_week=5, weeks=8),
    ),
    "student": (
        "I'm a computer science student and I know some Python. Should I aim for AI engineering?",
        None,
        Profile(role="student", codes=True, coding_years=1, interest="build"),
    ),
    "money_only": (
        "Honestly I just want a high salary fast and AI engineering looks like the quickest way.",
        None,
        Profile(codes=False, coding_years=0, motives=("money", "shortcut"), hours_per_week=10),
    ),
    "ml_dev_weak_math": (
        "I'm a Java developer, curious about becoming an ML engineer, but I always struggled with math.",
        None,
        Profile(role="Java developer", role_codes=True, codes=True, coding_years=5, math=-1, interest="train",
                motives=("curiosity",)),
    ),
    "ml_math_strong_new_to_code": (
        "I studied physics and I'm strong at math but I've never programmed. I want to be an ML engineer.",
        None,
        Profile(role="physics graduate", codes=False, coding_years=0, math=1, interest="train"),
    ),
    "named_gaps": (
        "I've been coding for 4 years but I've never done evaluation or deployment. I want to be an AI engineer.",
        None,
        Profile(role="software developer", role_codes=True, codes=True, coding_years=4),
    ),
}


@pytest.fixture(scope="module")
def planner() -> LearningPlanner:
    return LearningPlanner(SKILLS_YAML)


@pytest.fixture(scope="module")
def plans(planner: LearningPlanner) -> dict[str, LearningPlan]:
    return {name: planner.plan(text, track, profile=profile) for name, (text, track, profile) in PEOPLE.items()}


def ids(plan: LearningPlan) -> list[str]:
    return [s.id for st in plan.stages for s in st.skills]


def stage_ids(plan: LearningPlan, index: int) -> list[str]:
    return [s.id for s in plan.stages[index].skills]


def hours_before(plan: LearningPlan, skill_id: str) -> int:
    total = 0
    for skill in (s for st in plan.stages for s in st.skills):
        if skill.id == skill_id:
            return total
        total += skill.hours
    raise AssertionError(f"{skill_id} not in plan")


# --- ten contrasting people, ten different plans -------------------------------------------------


def test_ten_contrasting_profiles_get_pairwise_different_plans(plans: dict[str, LearningPlan]) -> None:
    assert len(plans) == 10
    for (a, pa), (b, pb) in itertools.combinations(plans.items(), 2):
        assert pa.to_markdown() != pb.to_markdown(), (a, b)
        first_differs = stage_ids(pa, 0) != stage_ids(pb, 0)
        hours_differ = [st.hours for st in pa.stages] != [st.hours for st in pb.stages]
        weeks_differ = [st.weeks for st in pa.stages] != [st.weeks for st in pb.stages]
        assert first_differs or hours_differ or weeks_differ, (a, b)


def test_each_of_the_ten_gets_the_track_it_asked_for(plans: dict[str, LearningPlan]) -> None:
    ml = {"math_phd", "ml_dev_weak_math", "ml_math_strong_new_to_code"}
    for name, plan in plans.items():
        assert plan.track == ("ml_engineer" if name in ml else "ai_engineer"), name


# --- gaps first -----------------------------------------------------------------------------------


def test_named_gaps_come_first_and_are_marked(plans: dict[str, LearningPlan]) -> None:
    plan = plans["named_gaps"]
    first = stage_ids(plan, 0)
    assert plan.stages[0].name == "Your gaps first"
    assert first[0] == "llm-evaluation" and "llm-deployment" in first
    assert {s.id for s in plan.gaps} == {"llm-evaluation", "llm-deployment"}
    # Deployment can't be learned without containers, so they come along, before it.
    assert first.index("docker-basics") < first.index("llm-deployment")
    md = plan.to_markdown()
    assert "**Evaluating LLM applications** (your gap)" in md
    assert "**Deploying LLM applications** (your gap)" in md
    assert "starts with the gaps you named" in md.splitlines()[0]
    # Nothing is taught twice.
    assert len(ids(plan)) == len(set(ids(plan)))


def test_a_named_math_gap_leads_the_ml_plan_paired_with_code(planner: LearningPlanner) -> None:
    text = "I'm a Python developer but I'm weak at calculus. What should I learn to become an ML engineer?"
    plan = planner.plan(text)
    data = plan.as_dict()
    assert data["track"] == "ml_engineer"
    assert "python-basics" in data["already_have"] and "calculus" in data["gaps"]
    assert stage_ids(plan, 0)[0] == "calculus"
    assert "numpy-pandas" in stage_ids(plan, 0)  # practised in code, not alone
    assert [s["name"] for s in data["steps"]] == ["Now", "Next", "Later"]
    assert data["steps"][0]["skills"][0]["id"] == "calculus"


def test_weak_quiz_dimension_moves_its_skill_up(planner: LearningPlanner) -> None:
    profile = Profile(codes=True, coding_years=3)
    plain = planner.plan("AI engineer", profile=profile)
    weak = planner.plan("AI engineer", profile=profile, weak_dimensions=("evaluation",))
    assert stage_ids(plain, 0)[0] == "llm-basics"
    assert stage_ids(weak, 0)[0] == "llm-evaluation"


# --- never a false "already have" -----------------------------------------------------------------


def test_non_coder_is_never_told_they_already_have_programming(planner: LearningPlanner) -> None:
    # The text even mentions Python; the profile says this person has never coded.
    plan = planner.plan("I've watched some Python videos, I'm a nurse and want to become an AI engineer.",
                        profile=Profile(role="nurse", codes=False, coding_years=0))
    md = plan.to_markdown()
    assert "python-basics" not in plan.as_dict()["already_have"]
    assert "Skipping what you already have" not in md
    assert stage_ids(plan, 0)[0] == "python-basics"
    assert plan.stages[0].name == "Programming fundamentals"
    assert "you don't code yet, so it starts with programming" in md.splitlines()[0]
    assert "Both AI and ML engineering need confident programming, so it comes first" in md


def test_someone_who_says_they_never_coded_starts_with_programming(planner: LearningPlanner) -> None:
    plan = planner.plan("I have never written code but I want to become an AI engineer")
    assert stage_ids(plan, 0)[0] == "python-basics"
    assert not plan.known


def test_skipped_skills_say_why(plans: dict[str, LearningPlan]) -> None:
    md = plans["backend_dev"].to_markdown()
    skip = next(line for line in md.splitlines() if line.startswith("Skipping what you already have"))
    assert "6 years of coding" in skip and "Docker and containers" in skip and "you said so" in skip
    # A Go developer doesn't "have Python fundamentals"; they have programming.
    assert "Python fundamentals" not in skip and "programming" in skip


# --- AI track: APIs first for coders, then retrieval, evaluation, deployment, a project ----------


def test_coders_start_with_model_apis_not_git_docker_http(plans: dict[str, LearningPlan]) -> None:
    for name in ("backend_dev", "frontend_5h_8w", "analyst", "student"):
        plan = plans[name]
        assert stage_ids(plan, 0) == ["llm-basics", "chat-completions-api", "prompt-engineering"], name
        assert hours_before(plan, "chat-completions-api") <= 10, name
        assert "python-basics" not in ids(plan), name
    backend = plans["backend_dev"]
    assert not {"git-and-cli", "http-and-apis", "web-fundamentals", "docker-basics"} & set(ids(backend))
    # Someone with less experience still gets git and HTTP, but only where deployment needs them.
    student = plans["student"]
    deploy_stage = next(st for st in student.stages if any(s.id == "llm-deployment" for s in st.skills))
    assert {"git-and-cli", "http-and-apis", "docker-basics"} <= {s.id for s in deploy_stage.skills}


def test_ai_track_sequence_and_portfolio_project(plans: dict[str, LearningPlan]) -> None:
    for name in ("backend_dev", "career_changer", "analyst", "student"):
        plan = plans[name]
        order = ids(plan)
        assert all(skill in order for skill in CORE_AI), name
        assert order.index("prompt-engineering") < order.index("rag") < order.index("llm-evaluation") \
            < order.index("llm-deployment") < order.index("llm-monitoring"), name
        last = plan.stages[-1]
        assert last.name == "Portfolio project" and stage_ids(plan, len(plan.stages) - 1) == ["ai-portfolio-project"]
        assert plan.project is not None and plan.project.title in plan.to_markdown()
        assert "public repo" in plan.to_markdown()


def test_non_coder_gets_programming_then_the_same_sequence(plans: dict[str, LearningPlan]) -> None:
    coder, changer = plans["backend_dev"], plans["career_changer"]
    assert stage_ids(changer, 0) == ["python-basics", "git-and-cli"]
    assert [st.id for st in changer.stages[1:4]] == [st.id for st in coder.stages[:3]] == ["A1", "A2", "A3"]


def test_project_suggestion_matches_the_person_and_comes_from_the_article(
        plans: dict[str, LearningPlan]) -> None:
    article = (ARTICLES / "example-projects.md").read_text(encoding="utf-8").lower()
    for project in parse_projects(yaml.safe_load(SKILLS_YAML.read_text(encoding="utf-8"))):
        phrase = re.split(r",|\(", project.title)[0].lower().removeprefix("a ").strip()
        assert phrase in article, project.id
    assert plans["analyst"].project and plans["analyst"].project.id == "ticket-triage"
    assert plans["frontend_5h_8w"].project and plans["frontend_5h_8w"].project.id == "docs-search-by-meaning"
    assert plans["backend_dev"].project and plans["backend_dev"].project.id == "docs-qa-bot"


# --- ML track: math alongside code ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["math_phd", "ml_dev_weak_math", "ml_math_strong_new_to_code"])
def test_ml_math_is_interleaved_with_code(plans: dict[str, LearningPlan], name: str) -> None:
    plan = plans[name]
    math_stages = [i for i, st in enumerate(plan.stages) if any(s.kind == "math" for s in st.skills)]
    assert len(math_stages) >= 2, "math spread over the plan, not one block"
    for i in math_stages:
        assert any(s.kind == "skill" for s in plan.stages[i].skills), f"stage {i + 1} is math only"
    # Before the first piece of ML code, at most one math topic has been studied.
    learned = [s for st in plan.stages for s in st.skills if s.id not in ("python-basics", "git-and-cli")]
    first_code = next(i for i, s in enumerate(learned) if s.kind == "skill")
    assert sum(s.kind == "math" for s in learned[:first_code]) <= 1
    assert "alongside code" in plan.note and "math-for-ml-engineers" in plan.articles


def test_strong_math_shrinks_to_a_review(plans: dict[str, LearningPlan]) -> None:
    def math_hours(plan: LearningPlan) -> int:
        return sum(s.hours for st in plan.stages for s in st.skills if s.kind == "math")

    strong, weak = plans["math_phd"], plans["ml_dev_weak_math"]
    assert math_hours(weak) == 130
    assert math_hours(strong) <= 30
    assert "Linear algebra (review)" in strong.to_markdown()
    assert "review" not in weak.to_markdown()
    assert "Math is the long part of this track" in weak.note


def test_new_to_code_ml_person_starts_with_programming(plans: dict[str, LearningPlan]) -> None:
    plan = plans["ml_math_strong_new_to_code"]
    assert stage_ids(plan, 0) == ["python-basics", "git-and-cli"]
    assert "Both AI and ML engineering need confident programming" in plan.to_markdown()


# --- time ----------------------------------------------------------------------------------------


def test_time_frame_too_short_says_what_fits(plans: dict[str, LearningPlan]) -> None:
    plan = plans["frontend_5h_8w"]
    assert plan.fits_time_frame is False
    assert plan.stages_in_time_frame == 1  # 35 h of 40 h available
    assert all(st.weeks == round(st.hours / 5, 1) for st in plan.stages)
    assert plan.total_weeks == math.ceil(plan.total_hours / 5)
    more = math.ceil((plan.total_hours - plan.stages[0].hours) / 5)
    assert f"in 8 weeks at 5 h/week (40 h) you can do stage 1 (35 h); the rest takes about {more} more weeks" \
        in plan.to_markdown()
    assert "**1. Model APIs and prompting**: 35 h, about 7 weeks" in plan.to_markdown()


def test_time_frame_that_fits_is_confirmed_without_padding(planner: LearningPlanner) -> None:
    base = Profile(role="backend developer", role_codes=True, codes=True, coding_years=6)
    roomy = Profile(role="backend developer", role_codes=True, codes=True, coding_years=6,
                    hours_per_week=10, weeks=52)
    plain, timed = planner.plan("AI engineer", profile=base), planner.plan("AI engineer", profile=roomy)
    assert timed.fits_time_frame is True
    assert "so it fits your 52 weeks" in timed.to_markdown()
    assert [stage_ids(timed, i) for i in range(len(timed.stages))] == \
        [stage_ids(plain, i) for i in range(len(plain.stages))]
    assert plain.fits_time_frame is None and plain.total_weeks is None
    assert all(st.weeks is None for st in plain.stages)
    hours = plain.total_hours
    # Without a pace, the plan offers two common ones instead of per-stage weeks.
    assert f"At 5 h/week that is about {-(-hours // 5)} weeks, at 10 h/week about {-(-hours // 10)} weeks." \
        in plain.to_markdown()
    assert "about" not in plain.to_markdown().split("**1.")[1].split("\n")[0]


def test_deadline_without_pace_gives_the_pace_needed(planner: LearningPlanner) -> None:
    plan = planner.plan("AI engineer", profile=Profile(codes=True, coding_years=6, weeks=10))
    need = math.ceil(plan.total_hours / 10)
    assert f"To finish in 10 weeks you would need about {need} h/week" in plan.to_markdown()


def test_far_too_little_time_is_said_plainly(planner: LearningPlanner) -> None:
    plan = planner.plan("AI engineer", profile=Profile(codes=False, hours_per_week=2, weeks=4))
    assert plan.fits_time_frame is False and plan.stages_in_time_frame == 0
    assert "stage 1 alone is 75 h" in plan.to_markdown()


# --- motives ---------------------------------------------------------------------------------------


def test_money_only_motive_gets_an_honest_caution_with_its_source(plans: dict[str, LearningPlan]) -> None:
    plan = plans["money_only"]
    md = plan.to_markdown()
    assert "no shortcut" in plan.caution and "Who should (and who should not) pursue AI engineering" in plan.caution
    assert md.index("no shortcut") < md.index("**1.")
    assert plan.articles[0] == "who-should-become-an-ai-engineer"
    for name in ("backend_dev", "career_changer", "student"):
        assert not plans[name].caution and "no shortcut" not in plans[name].to_markdown()


def test_money_with_curiosity_gets_no_caution_and_ml_caution_mentions_ml(planner: LearningPlanner) -> None:
    curious = planner.plan("AI engineer", profile=Profile(codes=True, motives=("money", "curiosity")))
    assert not curious.caution
    ml = planner.plan("ML engineer", profile=Profile(codes=True, motives=("shortcut",)))
    assert "ML engineering is no easier" in ml.caution


# --- articles, resources, output shape ---------------------------------------------------------------


def test_every_skill_names_an_existing_article() -> None:
    article_ids = {re.search(r"^id:\s*(\S+)", p.read_text(encoding="utf-8"), re.M).group(1)  # type: ignore[union-attr]
                   for p in ARTICLES.glob("*.md")}
    _, skills = parse_skills(yaml.safe_load(SKILLS_YAML.read_text(encoding="utf-8")))
    assert skills
    for skill in skills:
        assert skill.article in article_ids, skill.id
        assert all(r["url"].startswith("https://") for r in skill.resources), skill.id


def test_plan_exposes_the_articles_it_relies_on(plans: dict[str, LearningPlan]) -> None:
    for name, plan in plans.items():
        used = [s.article for st in plan.stages for s in st.skills]
        assert set(used) <= set(plan.articles), name
        assert len(plan.articles) == len(set(plan.articles)), name
        assert "example-projects" in plan.articles, name
        assert plan.as_dict()["articles"] == plan.articles
    assert plans["backend_dev"].articles[:2] == ["llm-basics-and-calling-models", "prompt-engineering"]
    assert "getting-started-without-a-cs-degree" in plans["career_changer"].articles


def test_markdown_is_answer_first_and_one_line_per_skill(plans: dict[str, LearningPlan]) -> None:
    for name, plan in plans.items():
        md = plan.to_markdown()
        first = md.splitlines()[0]
        track = "AI engineer" if plan.track == "ai_engineer" else "ML engineer"
        assert first.startswith(f"**Learning plan: {track} track**, because "), name
        assert md.count("Learning plan") == 1
        bullets = [line for line in md.splitlines() if line.startswith("- ")]
        assert len(bullets) == sum(len(st.skills) for st in plan.stages), name
        for number, stage in enumerate(plan.stages, 1):
            assert f"**{number}. {stage.name}**: {stage.hours} h" in md, name
        assert "score" not in md.lower()


def test_as_dict_carries_stages_hours_weeks_and_verdicts(plans: dict[str, LearningPlan]) -> None:
    data = plans["frontend_5h_8w"].as_dict()
    for key in ("track", "stages", "weeks", "fits_time_frame", "note", "caution", "already_have", "gaps",
                "articles", "project", "total_hours"):
        assert key in data
    assert data["weeks"] == math.ceil(data["total_hours"] / 5) and data["fits_time_frame"] is False
    stage = data["stages"][0]
    assert stage["hours"] == 35 and stage["weeks"] == 7.0
    assert [s["id"] for s in stage["skills"]] == ["llm-basics", "chat-completions-api", "prompt-engineering"]
    assert all(s["hours"] and s["article"] for s in stage["skills"])
    assert "http-and-apis" in data["already_have"]
    assert plans["money_only"].as_dict()["caution"]


def test_track_follows_the_text_then_the_profile(planner: LearningPlanner) -> None:
    assert planner.plan("what should I learn?", profile=Profile(interest="train")).track == "ml_engineer"
    assert planner.plan("what should I learn?", profile=Profile(interest="build")).track == "ai_engineer"
    assert planner.plan("I want to become an ML engineer", profile=Profile(interest="build")).track == "ml_engineer"
    assert planner.plan("anything", "ml_engineer").track == "ml_engineer"


def test_older_catalogues_still_parse_with_defaults() -> None:
    quiz_catalogue = Path(__file__).with_name("test_quiz_skills.yaml")
    tracks, skills = parse_skills(yaml.safe_load(quiz_catalogue.read_text(encoding="utf-8")))
    assert tracks and skills
    assert all(s.article == "" and s.kind == "skill" and s.review_hours is None for s in skills)


@pytest.mark.parametrize(("text", "pace", "weeks", "expected"), [
    ("if I need about 60 hours for the basics, how many weeks at my pace?", 5.0, None, "60 h at 5 h/week is about 12 weeks"),
    ("how many hours in all if I do 6h/week for 20 weeks", 6.0, None, "6 h/week for 20 weeks is 120 hours"),
    ("how many hours does that give me", 10.0, 8.0, "10 h/week for 8 weeks is 80 hours"),
    ("i can do 10 hours a week, how long will it take", 10.0, None, None),  # a pace, not an amount: the plan answers
    ("how many hours a week should I study", 4.0, 10.0, None),
])
def test_time_arithmetic_works_the_persons_own_sums(text: str, pace: float, weeks: float | None,
                                                     expected: str | None) -> None:
    from bot.plan import time_arithmetic

    result = time_arithmetic(text, pace, weeks)
    assert (result is None) if expected is None else (result is not None and result.startswith(expected))
