"""Usage and feedback reports over a real store: SQLite always, PostgreSQL when reachable."""

from __future__ import annotations

import csv
import io
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import reports
from bot.store import AnswerRecord
from bot.store.base import UsageRecord
from bot.store.sql import SqlStore
from bot.store.sqlite import SqliteStore

PG_URL = os.environ.get("CAREERBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
DAY = 86400.0
NOW = 1_790_000_000.0  # a fixed moment, so day boundaries are known


def _pg_unreachable() -> str | None:
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed"
    try:
        psycopg.connect(PG_URL, connect_timeout=2).close()
    except Exception as exc:
        return f"PostgreSQL unreachable at CAREERBOT_TEST_POSTGRES_URL ({PG_URL.split('@')[-1]}): {exc}"
    return None


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    if request.param == "sqlite":
        s: SqlStore = SqliteStore(tmp_path / "store.sqlite3")
        yield s
        s.close()
        return
    if reason := _pg_unreachable():
        pytest.skip(reason)
    from bot.store.postgres import PostgresStore

    schema = f"cbtest_{uuid.uuid4().hex[:12]}"
    s = PostgresStore(PG_URL, schema=schema)
    yield s
    s.close()
    PostgresStore(PG_URL, schema=schema).drop_schema()


def _answer(store: SqlStore, answer_id: str, question: str, user: str = "slack:U1", at: float = NOW) -> None:
    store.save_answer(AnswerRecord(answer_id, user, f"conv-{user}", question, f"answer to {question}", [], at))
    store.record_usage(UsageRecord(platform=user.split(":")[0], kind="dm", intent="question", user_key=user,
                                   created_at=at, answer_id=answer_id))


def test_feedback_worst_rated_first_with_question_and_platform(store: SqlStore) -> None:
    _answer(store, "good", "what does an AI engineer do?")
    _answer(store, "bad", "how much do ML engineers earn?", user="web:w1")
    _answer(store, "unvoted", "anything else?")
    store.record_feedback("good", "slack:U2", True)
    store.record_feedback("good", "slack:U3", True)
    store.record_feedback("bad", "slack:U2", False)
    store.record_feedback("bad", "slack:U3", False)
    store.record_feedback("bad", "slack:U4", True)

    report = reports.feedback_report(store)
    assert [r.answer_id for r in report.rows] == ["bad", "good"]  # the unvoted answer is not listed
    bad = report.rows[0]
    assert (bad.not_helpful, bad.helpful, bad.platform, bad.intent) == (2, 1, "web", "question")
    assert bad.question == "how much do ML engineers earn?"
    assert (report.helpful, report.not_helpful) == (3, 2)
    text = reports.feedback_text(report)
    assert text.index("how much do ML engineers earn?") < text.index("what does an AI engineer do?")


def test_usage_by_day_platform_intent_out_of_scope_and_fallbacks(store: SqlStore) -> None:
    for at, platform, intent in [(NOW, "slack", "question"), (NOW, "slack", "question"), (NOW, "web", "plan"),
                                 (NOW - DAY, "discord", "question"), (NOW - 40 * DAY, "slack", "question")]:
        store.record_usage(UsageRecord(platform=platform, kind="dm", intent=intent, user_key=f"{platform}:U",
                                       created_at=at))
    for question in ("how do I bake bread?", "how do I bake bread?", "best pizza in town?"):
        store.record_usage(UsageRecord(platform="web", kind="dm", intent="out_of_scope", user_key="web:w2",
                                       created_at=NOW, question=question))
    store.record_usage(UsageRecord(platform="slack", kind="mention", intent="question", user_key="slack:U9",
                                   created_at=NOW, llm_fallback="timeout"))

    report = reports.usage_report(store, days=30, now=NOW)
    assert report.total == 8  # the answer 40 days ago is outside the period
    assert report.by(1) == {"slack": 3, "web": 4, "discord": 1}
    assert report.by(2)["out_of_scope"] == 3
    today = time.strftime("%Y-%m-%d", time.gmtime(NOW))
    assert report.per_day(1)[today] == {"slack": 3, "web": 4}
    assert len(report.day_list) == 30 and report.day_list[-1] == today
    assert report.out_of_scope[0][:2] == ("how do I bake bread?", 2)
    assert [(reason, n) for _, reason, n in report.llm_fallbacks] == [("timeout", 1)]
    text = reports.usage_text(report)
    assert "how do I bake bread?" in text and "LLM fallbacks: 1 (timeout 1)" in text


def test_quiz_verdicts_are_counted_from_stored_results(store: SqlStore) -> None:
    for user, label in (("slack:A", "ai_engineer"), ("slack:B", "ai_engineer"), ("web:C", "neither")):
        store.save_quiz_result(user, {"label": label, "scores": {}})
    report = reports.usage_report(store, days=1)
    assert report.quiz_verdicts == {"ai_engineer": 2, "neither": 1}


def test_csv_exports_parse_and_defuse_formulas(store: SqlStore) -> None:
    _answer(store, "a1", "=HYPERLINK(\"http://evil\")")
    store.record_feedback("a1", "slack:U2", False)
    rows = list(csv.reader(io.StringIO(reports.feedback_csv(reports.feedback_report(store)))))
    assert rows[0][:6] == ["answer_id", "created_utc", "platform", "intent", "helpful", "not_helpful"]
    assert rows[1][6].startswith("'=")  # a spreadsheet shows it as text instead of running it
    usage = list(csv.reader(io.StringIO(reports.usage_csv(reports.usage_report(store, days=3650, now=NOW)))))
    assert usage[0] == ["kind", "day", "platform", "intent_or_text", "count", "llm_fallbacks"]
    assert ["replies", time.strftime("%Y-%m-%d", time.gmtime(NOW)), "slack", "question", "1", "0"] in usage


def test_forget_user_removes_their_usage_rows(store: SqlStore) -> None:
    store.record_usage(UsageRecord(platform="web", kind="dm", intent="out_of_scope", user_key="web:w1",
                                   created_at=time.time(), question="my secret question"))
    store.record_usage(UsageRecord(platform="web", kind="dm", intent="question", user_key="web:w2",
                                   created_at=time.time()))
    assert store.forget_user("web:w1") == 1
    report = reports.usage_report(store, days=1)
    assert report.total == 1 and report.out_of_scope == []


def test_empty_store_reports_say_so(store: SqlStore) -> None:
    assert "No feedback yet" in reports.feedback_text(reports.feedback_report(store))
    text = reports.usage_text(reports.usage_report(store, days=7))
    assert "Replies since" in text and ": 0" in text and "Quiz verdicts: none" in text
