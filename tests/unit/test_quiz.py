"""The quiz: definition, scoring verdicts, the button engine's every path, concurrency, privacy, chart."""

from __future__ import annotations

import io
import json
import struct
import threading
from pathlib import Path

import pytest

from bot.messages import Inbound, Kind, Reply
from bot.quiz import QuizEngine, load_quiz_definition, run_terminal_quiz
from bot.quiz import buttons as quiz_buttons
from bot.quiz.model import DIMENSIONS, QuizDefinitionError
from bot.quiz.scoring import score_answers
from bot.store.sqlite import SqliteStore

ROOT = Path(__file__).resolve().parents[2]
QUIZ_YAML = ROOT / "knowledge" / "quiz.yaml"
SKILLS_YAML = Path(__file__).with_name("test_quiz_skills.yaml")

# Answer profiles, one letter per question (a = first option), with the verdict each must get.
PROFILES = {
    "builder": ("acaabaaaabaabab", "ai_engineer"),
    "product_dev_who_hates_math": ("acaabbabaaabbab", "ai_engineer"),
    "researcher": ("babcabbbbabbbba", "ml_engineer"),
    "math_student": ("bbbcaabbbabdbbb", "ml_engineer"),
    "salary_seeker": ("ddcdcccccceccdc", "neither"),
    "lukewarm_stability_seeker": ("cbbabcbcdbdcbcc", "neither"),
    "all_rounder": ("aaaaabbbbacaabb", "either"),
    "data_scientist_who_ships": ("abbaabbbaaaaaba", "either"),
}


def letters(profile: str) -> list[int | None]:
    return [None if c == "-" else "abcde".index(c) for c in profile]


@pytest.fixture(scope="module")
def definition():
    return load_quiz_definition(QUIZ_YAML)


@pytest.fixture
def store(tmp_path: Path):
    s = SqliteStore(tmp_path / "quiz.sqlite3")
    yield s
    s.close()


@pytest.fixture
def engine(store: SqliteStore, definition) -> QuizEngine:
    return QuizEngine(store, definition, knowledge=SKILLS_YAML, chart_dir=None)


def command(user: str = "U1", name: str = "quiz", text: str = "", platform: str = "slack") -> Inbound:
    return Inbound(platform=platform, user=user, channel="C1", text=text, kind=Kind.COMMAND, command=name)


def press(value: str, user: str = "U1", platform: str = "slack") -> Inbound:
    return Inbound(platform=platform, user=user, channel="C1", kind=Kind.ACTION, action=value)


def option_value(reply: Reply, option: int) -> str:
    return reply.buttons[0][option].value


def nav_value(reply: Reply, label: str) -> str:
    return next(b.value for b in reply.buttons[1] if b.label == label)


def run_profile(engine: QuizEngine, profile: str, user: str = "U1") -> Reply:
    reply = engine.handle_command(command(user))
    for choice in letters(profile):
        value = nav_value(reply, "Skip") if choice is None else option_value(reply, choice)
        reply = engine.handle_action(press(value, user))
    return reply


# --- the definition -------------------------------------------------------------------------
def test_definition_shape(definition) -> None:
    assert 12 <= len(definition.questions) <= 15
    assert definition.dimension_ids == DIMENSIONS
    for q in definition.questions:
        assert 3 <= len(q.options) <= 5
        assert all(set(o.weights) <= set(DIMENSIONS) for o in q.options)
    # Every dimension can move both ways somewhere, or a score could never be low (or high).
    for d in DIMENSIONS:
        assert any(o.weights.get(d, 0) > 0 for q in definition.questions for o in q.options), d
        assert any(o.weights.get(d, 0) < 0 for q in definition.questions for o in q.options), d


def test_malformed_definition_names_the_problem() -> None:
    data = {
        "dimensions": [{"id": d} for d in DIMENSIONS],
        "roles": {
            "ai_engineer": {"weights": {"coding": 1.0}},
            "ml_engineer": {"weights": {"math": 1.0}},
        },
        "questions": [{"id": "q1", "text": "?", "options": [
            {"text": "a", "weights": {"coding": 1}},
            {"text": "b", "weights": {"cooking": 1}},
            {"text": "c", "weights": {}},
        ]}],
    }  # fmt: skip
    with pytest.raises(QuizDefinitionError, match="question 1 .*option 2.*cooking"):
        load_quiz_definition(data)


# --- scoring --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", PROFILES)
def test_profiles_get_expected_verdicts(definition, name: str) -> None:
    profile, expected = PROFILES[name]
    card = score_answers(definition, letters(profile))
    assert card.label == expected, (name, card.fits, card.scores)
    assert set(card.scores) == set(DIMENSIONS)
    assert all(0 <= v <= 100 for v in card.scores.values())
    assert card.reasons


def test_salary_seeker_gets_motivation_caution(definition) -> None:
    card = score_answers(definition, letters(PROFILES["salary_seeker"][0]))
    assert any("salary" in c for c in card.cautions)
    assert any("predictable" in c for c in card.cautions)  # low pressure tolerance


def test_skipped_questions_do_not_pull_scores_down(definition) -> None:
    full = score_answers(definition, letters("a" * 15))
    sparse = score_answers(definition, letters("a" + "-" * 14))
    assert sparse.answered == 1
    assert sparse.scores["coding"] == 100 and full.scores["coding"] < 100
    assert "math" not in sparse.uncovered and "pressure" in sparse.uncovered
    assert any("answered 1 of 15" in c for c in sparse.cautions)


def test_movers_name_the_answers_that_moved_each_dimension(definition) -> None:
    card = score_answers(definition, letters(PROFILES["builder"][0]))
    top = card.movers["coding"][0]
    assert top.delta == 2 and top.question_number in (1, 3, 11)
    assert len(card.movers["coding"]) == 2


def test_score_sheet_cli_semantics(engine: QuizEngine) -> None:
    one_based = ",".join(str("abcde".index(c) + 1) for c in PROFILES["researcher"][0])
    result = engine.score_sheet(one_based)
    assert result.label == "ml_engineer"
    out = result.as_dict()
    assert set(out) == {"label", "scores", "explanation", "chart"}
    assert out["chart"] is None  # engine without chart_dir
    json.dumps(result.details())
    assert engine.score_sheet("1,0,,2").answered == 2
    assert engine.score_sheet([1, None, 0, 2]).answered == 2
    with pytest.raises(ValueError, match="answer 2"):
        engine.score_sheet("1,9")
    with pytest.raises(ValueError, match="comma"):
        engine.score_sheet("1,x")
    with pytest.raises(ValueError, match="questions"):
        engine.score_sheet(",".join(["1"] * 16))


def test_learning_plan_targets_weak_dimensions_with_sources(engine: QuizEngine) -> None:
    result = engine.score_sheet("2,1,2,3,1,2,2,2,2,1,2,1,2,2,1")  # researcher-ish, weak at coding
    assert result.plan
    assert {item.dimension for item in result.plan} <= set(DIMENSIONS)
    assert all(s.url.startswith("https://") for s in result.sources)
    plan_text = result.details()["plan"]
    assert plan_text[0]["resources"][0]["url"].startswith("https://")


def test_real_skills_catalogue_gives_a_plan(store, definition) -> None:
    skills = ROOT / "knowledge" / "skills.yaml"
    if not skills.exists():
        pytest.skip("knowledge/skills.yaml not written yet")
    eng = QuizEngine(store, definition, knowledge=skills)
    result = eng.score_sheet("1,3,1,1,2,1,1,1,1,2,1,2,1,1,2")
    assert result.label == "ai_engineer"
    assert result.plan and result.sources


# --- the engine: happy paths ----------------------------------------------------------------
@pytest.mark.parametrize("name", ["builder", "researcher", "salary_seeker", "all_rounder"])
def test_full_run_through_buttons(engine: QuizEngine, store: SqliteStore, name: str) -> None:
    profile, expected = PROFILES[name]
    reply = run_profile(engine, profile)
    assert reply.intent == "quiz" and reply.replace
    assert reply.data["label"] == expected
    assert store.load_quiz("slack:U1") is None  # session closed
    saved = store.latest_quiz_result("slack:U1")
    assert saved is not None and saved["label"] == expected
    assert "exploration aid" in reply.text
    assert reply.buttons[0][0].label == "Take it again"


def test_question_reply_shape(engine: QuizEngine) -> None:
    reply = engine.handle_command(command())
    assert "Question 1 of 15" in reply.text
    assert reply.intent == "quiz"
    assert len(reply.buttons) == 2 and [b.label for b in reply.buttons[1]] == ["Back", "Skip", "Cancel"]
    assert all(len(b.value) <= 100 and len(b.label) <= 75 for row in reply.buttons for b in row)
    reply = engine.handle_action(press(option_value(reply, 0)))
    assert "Question 2 of 15" in reply.text and reply.replace


def test_back_and_skip(engine: QuizEngine, store: SqliteStore) -> None:
    r1 = engine.handle_command(command())
    r2 = engine.handle_action(press(option_value(r1, 2)))
    r_back = engine.handle_action(press(nav_value(r2, "Back")))
    assert "Question 1 of 15" in r_back.text and "your earlier answer" in r_back.text
    first_back = engine.handle_action(press(nav_value(r_back, "Back")))
    assert "first question" in first_back.text
    r2b = engine.handle_action(press(option_value(r_back, 1)))
    r3 = engine.handle_action(press(nav_value(r2b, "Skip")))
    assert "Question 3 of 15" in r3.text
    state = store.load_quiz("slack:U1")
    assert state["answers"][:3] == [1, -1, None] and state["index"] == 2
    assert "question 3 of 15 (1 answered, 1 skipped)" in engine.status_text("slack:U1")


def test_command_resumes_instead_of_restarting(engine: QuizEngine) -> None:
    r1 = engine.handle_command(command())
    engine.handle_action(press(option_value(r1, 0)))
    again = engine.handle_command(command())
    assert "Question 2 of 15" in again.text and "Welcome back" in again.text


def test_reset_cancel_and_status_commands(engine: QuizEngine, store: SqliteStore) -> None:
    assert "No quiz taken yet" in engine.handle_command(command(name="quiz-status")).text
    r1 = engine.handle_command(command())
    engine.handle_action(press(option_value(r1, 0)))
    reset = engine.handle_command(command(name="quiz-reset"))
    assert "Question 1 of 15" in reset.text
    assert store.load_quiz("slack:U1")["answers"][0] is None
    # The old session's buttons are now stale.
    stale = engine.handle_action(press(option_value(r1, 1)))
    assert "earlier quiz" in stale.text
    assert "cancelled" in engine.handle_command(command(text="cancel")).text
    assert store.load_quiz("slack:U1") is None
    assert "no quiz in progress" in engine.handle_command(command(name="quiz-cancel")).text
    run_profile(engine, PROFILES["builder"][0])
    assert "Last quiz result: AI engineer" in engine.handle_command(command(text="status")).text


def test_one_quiz_per_user_per_platform(engine: QuizEngine, store: SqliteStore) -> None:
    slack = engine.handle_command(command(platform="slack"))
    discord = engine.handle_command(command(platform="discord"))
    engine.handle_action(press(option_value(slack, 0), platform="slack"))
    assert store.load_quiz("slack:U1")["index"] == 1
    assert store.load_quiz("discord:U1")["index"] == 0
    assert "Question 1 of 15" in discord.text


# --- the engine: every invalid action -------------------------------------------------------
def test_forged_buttons_are_refused(engine: QuizEngine, store: SqliteStore) -> None:
    engine.handle_command(command())
    before = store.load_quiz("slack:U1")
    nonce = before["nonce"]
    for value in [
        "quiz:zz:U1",
        "quiz:a:U1",
        f"quiz:a:U1:{nonce}:0",
        f"quiz:a:U1:{nonce}:x:1",
        "quiz:a:U1:NOTHEX:0:1",
        f"quiz:a:U1:{nonce}:0:-1",
        "notquiz:a:U1",
        "quiz:" + "a" * 200,
    ]:
        reply = engine.handle_action(press(value))
        assert reply.ephemeral and not reply.replace, value
        assert "recognise" in reply.text, value
    out_of_range = engine.handle_action(press(f"quiz:a:U1:{nonce}:0:4"))
    assert "recognise" in out_of_range.text
    future = engine.handle_action(press(f"quiz:a:U1:{nonce}:7:0"))
    assert "isn't open yet" in future.text
    assert store.load_quiz("slack:U1") == before


def test_press_by_another_user_is_refused(engine: QuizEngine, store: SqliteStore) -> None:
    r1 = engine.handle_command(command(user="U1"))
    before = store.load_quiz("slack:U1")
    reply = engine.handle_action(press(option_value(r1, 0), user="U2"))
    assert "belongs to someone else" in reply.text and reply.ephemeral and not reply.replace
    restart = engine.handle_action(press(quiz_buttons.encode("r", "U1"), user="U2"))
    assert "belongs to someone else" in restart.text
    assert store.load_quiz("slack:U1") == before
    assert store.load_quiz("slack:U2") is None


def test_second_press_of_the_same_button(engine: QuizEngine, store: SqliteStore) -> None:
    r1 = engine.handle_command(command())
    engine.handle_action(press(option_value(r1, 2)))
    again = engine.handle_action(press(option_value(r1, 2)))
    assert "Already recorded" in again.text and "Question 2 of 15" in again.text
    other = engine.handle_action(press(option_value(r1, 0)))
    assert "already answered" in other.text
    state = store.load_quiz("slack:U1")
    assert state["answers"][0] == 2 and state["index"] == 1


def test_stale_nav_buttons(engine: QuizEngine, store: SqliteStore) -> None:
    r1 = engine.handle_command(command())
    engine.handle_action(press(option_value(r1, 0)))
    assert "behind you" in engine.handle_action(press(nav_value(r1, "Skip"))).text
    assert "behind you" in engine.handle_action(press(nav_value(r1, "Back"))).text
    assert store.load_quiz("slack:U1")["index"] == 1


def test_buttons_after_cancel_and_after_finish(engine: QuizEngine, store: SqliteStore) -> None:
    r1 = engine.handle_command(command())
    engine.handle_action(press(nav_value(r1, "Cancel")))
    gone = engine.handle_action(press(option_value(r1, 0)))
    assert "no longer running" in gone.text and store.load_quiz("slack:U1") is None

    reply = engine.handle_command(command())
    for _ in range(14):
        reply = engine.handle_action(press(option_value(reply, 0)))
    last_question = reply
    result = engine.handle_action(press(option_value(last_question, 0)))
    assert "Your quiz result" in result.text
    twice = engine.handle_action(press(option_value(last_question, 0)))
    assert "already finished" in twice.text and twice.ephemeral


def test_double_press_of_the_last_button_scores_once(engine: QuizEngine, store: SqliteStore) -> None:
    reply = engine.handle_command(command())
    for _ in range(14):
        reply = engine.handle_action(press(option_value(reply, 1)))
    value = option_value(reply, 1)
    barrier = threading.Barrier(4)
    replies: list[Reply] = []

    def go() -> None:
        barrier.wait()
        replies.append(engine.handle_action(press(value)))

    threads = [threading.Thread(target=go) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum("Your quiz result" in r.text for r in replies) == 1
    with store._cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM quiz_results WHERE user_key = 'slack:U1'")
        assert cur.fetchone()[0] == 1


# --- many users, privacy, chart, terminal ---------------------------------------------------
def test_many_concurrent_users_do_not_cross_talk(engine: QuizEngine, store: SqliteStore) -> None:
    names = list(PROFILES)
    errors: list[BaseException] = []

    def take(i: int) -> None:
        try:
            profile, expected = PROFILES[names[i % len(names)]]
            reply = run_profile(engine, profile, user=f"U{i}")
            assert reply.data["label"] == expected
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=take, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for i in range(16):
        assert store.latest_quiz_result(f"slack:U{i}")["label"] == PROFILES[names[i % len(names)]][1]


def test_forget_user_removes_quiz_state_results_and_charts(store: SqliteStore, definition, tmp_path: Path) -> None:
    engine = QuizEngine(store, definition, knowledge=SKILLS_YAML, chart_dir=tmp_path / "charts")
    run_profile(engine, PROFILES["builder"][0], user="U1")
    engine.handle_command(command(user="U1"))  # a second, unfinished quiz
    run_profile(engine, PROFILES["researcher"][0], user="U2")
    assert list((tmp_path / "charts").glob("*.png"))
    assert store.forget_user("slack:U1") >= 2
    assert engine.forget_charts("slack:U1") == 1
    assert store.load_quiz("slack:U1") is None and store.latest_quiz_result("slack:U1") is None
    assert "No quiz taken yet" in engine.status_text("slack:U1")
    assert store.latest_quiz_result("slack:U2")["label"] == "ml_engineer"
    assert len(list((tmp_path / "charts").glob("*.png"))) == 1


def test_chart_is_a_sensible_png(store: SqliteStore, definition, tmp_path: Path) -> None:
    engine = QuizEngine(store, definition, knowledge=SKILLS_YAML, chart_dir=tmp_path / "charts")
    reply = run_profile(engine, PROFILES["researcher"][0])
    (attachment,) = reply.attachments
    data = attachment.path.read_bytes()
    assert attachment.mime == "image/png"
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (600, 600)
    assert 5_000 < len(data) < 200_000
    assert reply.data["chart"] == str(attachment.path)


def test_terminal_quiz_runs_to_a_result_from_piped_input(engine: QuizEngine) -> None:
    out = io.StringIO()
    assert run_terminal_quiz(engine, io.StringIO("1\n" * 40), out) == 0
    text = out.getvalue()
    assert "Question 15 of 15" in text and "Your quiz result" in text


def test_terminal_quiz_reasks_and_ends_cleanly_on_eof(engine: QuizEngine) -> None:
    out = io.StringIO()
    assert run_terminal_quiz(engine, io.StringIO("9\nhello\nb\n2\ns\n"), out) == 0
    text = out.getvalue()
    assert text.count("Please type a number from 1 to 4") == 2
    assert "first question" in text
    assert "Question 3 of 15" in text
    assert "nothing was scored" in text
