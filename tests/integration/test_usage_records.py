"""The brain records one usage row per reply to a message or command: what the reports count."""

from __future__ import annotations

from collections.abc import Sequence

from bot import reports
from bot.brain import Brain
from bot.messages import Inbound, Kind, Reply
from bot.runtime import Knowledge
from bot.store import Store
from bot.store.base import Turn


class _Timeout(Exception):
    reason = "timeout"


async def _failing_agent(inbound: Inbound, prompt: str, history: Sequence[Turn]) -> Reply | None:
    raise _Timeout("the model took too long")


async def test_replies_are_counted_by_platform_and_intent_and_gaps_kept(brain: Brain, store: Store) -> None:
    await brain.handle(Inbound("slack", "U1", "C1", "What does an ML engineer do?", Kind.MENTION))
    await brain.handle(Inbound("discord", "U2", "D2", "What is the capital of Australia?", Kind.DM))
    reply = await brain.handle(Inbound("slack", "U1", "C1", "", Kind.COMMAND, command="quiz"))
    button = reply.buttons[0][0].value
    await brain.handle(Inbound("slack", "U1", "C1", "", Kind.ACTION, action=button))  # presses are not counted
    report = reports.usage_report(store, days=1)
    assert report.by(1) == {"slack": 2, "discord": 1}
    assert report.by(2) == {"question": 1, "out_of_scope": 1, "quiz": 1}
    assert [q for q, _, _ in report.out_of_scope] == ["What is the capital of Australia?"]


async def test_llm_fallbacks_are_counted_with_their_reason(knowledge: Knowledge, store: Store) -> None:
    brain = Brain(knowledge.services, store, None, agent=_failing_agent)
    try:
        reply = await brain.handle(Inbound("slack", "U1", "C1", "What does an AI engineer do?", Kind.MENTION))
    finally:
        brain.close()
    assert reply.data.get("llm_fallback") == "timeout"
    report = reports.usage_report(store, days=1)
    assert [(reason, n) for _, reason, n in report.llm_fallbacks] == [("timeout", 1)]
    assert report.rows[0][4] == 1  # the day's row counts the fallback too


async def test_forget_is_not_recorded_and_removes_the_users_rows(brain: Brain, store: Store) -> None:
    await brain.handle(Inbound("web", "w1", "web", "How do I fix my car's brakes?", Kind.DM))
    await brain.handle(Inbound("web", "w1", "web", "", Kind.COMMAND, command="forget"))
    assert reports.usage_report(store, days=1).total == 0
