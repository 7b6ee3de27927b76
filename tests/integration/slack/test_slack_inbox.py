"""The durable inbox through the real slack-bolt app: acks that never wait on the database,
drains that hand work back without orphan placeholders, and resumption by another worker.

Ordering, not wall-clock thresholds: the database lock is released only after the ack arrived.
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import aiohttp
from conftest import CHANNEL, app_mention
from slack_fake_api import FakeSlack

from adapters.slack.app import slack_bot_of
from adapters.slack.render import thinking_message
from bot.messages import Inbound, Reply
from bot.store import Store


class GatedBrain:
    """The real brain, held until the test opens the gate: an answer that is "in flight" on demand."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.gate = asyncio.Event()
        self.asked = asyncio.Event()

    async def handle(self, inbound: Inbound) -> Reply:
        self.asked.set()
        await self.gate.wait()
        return await self.inner.handle(inbound)


def thread_posts(fake: FakeSlack, ts: str) -> list[Any]:
    return [c for c in fake.calls_to("chat.postMessage") if c.params.get("thread_ts") == ts]


async def test_ack_and_healthz_do_not_wait_for_a_locked_database(fake: FakeSlack, start_app, brain, store: Store) -> None:
    running = await start_app(brain, store)
    event = app_mention("What does an ML engineer do?")
    locker = sqlite3.connect(store.path, isolation_level=None)  # type: ignore[attr-defined]
    locker.execute("BEGIN IMMEDIATE")  # holds the write lock, as a stalled writer would
    try:
        sent = await running.send.event(event)
        async with aiohttp.ClientSession() as session:
            async with session.get(running.url.replace("/slack/events", "/healthz")) as resp:
                health = resp.status
        assert sent.status == 200, "acked while the database is still locked"
        assert health == 200
        assert not thread_posts(fake, event["event"]["ts"]), "the answer waits for the record"
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    await fake.wait_for("chat.postMessage", where=lambda c: c.params.get("thread_ts") == event["event"]["ts"])
    assert store.inbox_state(f"slack:T0CAREER:{CHANNEL}:{event['event']['ts']}") in ("done", "pending")  # type: ignore[attr-defined]


async def test_drain_hands_back_deletes_the_placeholder_and_another_worker_answers_once(
    fake: FakeSlack, start_app, brain, store: Store
) -> None:
    gated = GatedBrain(brain)
    first = await start_app(gated, store, thinking_delay=0.0)
    event = app_mention("How do I move from data analysis to ML engineering?")
    ts = event["event"]["ts"]
    key = f"slack:T0CAREER:{CHANNEL}:{ts}"
    assert (await asyncio.wait_for(first.send.event(event), 60)).status == 200
    (placeholder,) = await fake.wait_for("chat.postMessage", where=lambda c: c.params.get("text") == thinking_message().text)
    await asyncio.wait_for(gated.asked.wait(), 60)
    finished, handed_back = await asyncio.wait_for(slack_bot_of(first.app).inbox.drain(0), 60)
    assert (finished, handed_back) == (0, 1)
    deleted = fake.calls_to("chat.delete")
    assert [c.params.get("ts") for c in deleted] == [placeholder.response["ts"]], "no orphan placeholder"
    assert store.inbox_state(key) == "pending"  # type: ignore[attr-defined]

    # A redelivery of the same event to the other worker is recognised, not answered twice...
    second = await start_app(brain, store)
    assert (await asyncio.wait_for(second.send.event(event, retry_num=1), 60)).status == 200
    await asyncio.sleep(0)
    # ...and its sweeper resumes the handed-back event.
    inbox = slack_bot_of(second.app).inbox
    assert await asyncio.wait_for(inbox.sweep_once(), 60) == 1
    assert await inbox.wait_idle(30)
    answers = [c for c in thread_posts(fake, ts) if c.params.get("text") != thinking_message().text]
    assert answers and len({c.params.get("text") for c in answers}) == len(answers), "answered once"
    assert store.inbox_state(key) == "done"  # type: ignore[attr-defined]
    gated.gate.set()


async def test_an_event_is_recorded_before_it_is_acked(fake: FakeSlack, start_app, brain, store: Store) -> None:
    """Bolt used to ack Events API requests before the listener ran (process_before_response off):
    an event acked but not yet recorded was lost by a crash, since Slack never redelivers it."""
    gated = GatedBrain(brain)
    running = await start_app(gated, store, ack_budget=60.0)
    event = app_mention("What does an AI engineer do day to day?")
    key = f"slack:T0CAREER:{CHANNEL}:{event['event']['ts']}"
    assert (await running.send.event(event)).status == 200
    row = store.inbox_get(key)  # type: ignore[attr-defined]
    assert row is not None, "the ack came after the record"
    assert row.payload["event"]["ts"] == event["event"]["ts"]
    gated.gate.set()
    await fake.wait_for("chat.postMessage", where=lambda c: c.params.get("thread_ts") == event["event"]["ts"])


async def test_a_quick_answer_costs_no_step_writes(fake: FakeSlack, start_app, brain, store: Store) -> None:
    """One inbox write for the record and one for the finish: the last send's step is not written,
    since the finish that follows is what marks the answer as out."""
    running = await start_app(brain, store)
    event = app_mention("Is evaluation an important part of AI engineering?")
    ts = event["event"]["ts"]
    key = f"slack:T0CAREER:{CHANNEL}:{ts}"
    assert (await running.send.event(event)).status == 200
    await fake.wait_for("chat.postMessage", where=lambda c: c.params.get("thread_ts") == ts)
    assert await slack_bot_of(running.app).inbox.wait_idle(30)
    row = store.inbox_get(key)  # type: ignore[attr-defined]
    assert store.inbox_state(key) == "done"  # type: ignore[attr-defined]
    assert row.steps == {}, "no step was written for a one-message answer"
