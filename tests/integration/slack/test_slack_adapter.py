"""The Slack adapter end to end: HTTP mode on 127.0.0.1, signed payloads, a fake Web API, the real brain.

The brain is `bot.brain.Brain` on the real knowledge index and quiz engine (fixtures from
tests/conftest.py), so the assertions check real answers: what was posted, where, with which
sources and buttons, and what ended up in the store. The only stand-in is `SlowBrain`, the real
brain behind a deliberate delay, for the 3-second-ack test.

Nothing sleeps a fixed time to wait for an answer: tests poll the fake's recorded calls with a
deadline. The only timing bound asserted is Slack's generous 3-second ack.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any

from conftest import (
    CHANNEL,
    DM,
    ELSEWHERE,
    OTHER,
    USER,
    app_mention,
    block_actions,
    buttons_in,
    message,
    slash_command,
)
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_fake_api import BOT_ID, BOT_USER, TEAM, FakeSlack

from adapters.slack.app import slack_bot_of
from adapters.slack.render import SECTION_LIMIT
from bot.messages import Button, Inbound, Reply
from bot.store import open_store

CHAT = ("chat.postMessage", "chat.update", "chat.postEphemeral", "response", "files.completeUploadExternal")
FRAUD = "What latency do fraud detection systems need?"
OTHER_DM = "D0OTHER"


def chat_calls(fake: FakeSlack) -> list[str]:
    return [m for m in fake.methods() if m in CHAT]


async def settle(bot: Any) -> None:
    """Wait until the answers already started have finished (not a fixed sleep)."""
    await slack_bot_of(bot.app).inbox.wait_idle(10)


def all_text(call: Any) -> str:
    return json.dumps(call.params.get("blocks")) + str(call.params.get("text"))


def body_text(call: Any) -> str:
    """The answer's text as Slack shows it: the section blocks, in order."""
    blocks = call.params.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    return "\n".join(b["text"]["text"] for b in blocks if b.get("type") == "section")


def source_links(call: Any) -> list[str]:
    context = [b for b in call.params["blocks"] if b["type"] == "context"]
    return re.findall(r"<(https?://[^|>]+)\|", context[0]["elements"][0]["text"]) if context else []


def values(call: Any) -> list[str]:
    return [b["value"] for _, b in buttons_in(call.params["blocks"])]


def press(fake: FakeSlack, call: Any, prefix: str, *, user: str = USER, suffix: str = "",
          message_ts: str | None = None, ephemeral: bool = False, channel: str = CHANNEL) -> dict[str, Any]:
    """A `block_actions` payload pressing the first button of `call` whose value matches."""
    block_id, button = next((bid, b) for bid, b in buttons_in(call.params["blocks"])
                            if b["value"].startswith(prefix) and b["value"].endswith(suffix))
    ts = message_ts if message_ts is not None else (None if ephemeral else call.response.get("ts"))
    return block_actions(button, block_id, response_url=fake.response_url(), message_ts=ts, user=user,
                         ephemeral=ephemeral, channel=channel, thread_ts=call.params.get("thread_ts"))


def conversation(channel: str, where: str) -> str:
    """The brain's conversation key for a Slack thread (`where` = thread ts) or a user's stream."""
    return f"slack:{TEAM}:{channel}:{where}"


# --- mentions, threads, DMs --------------------------------------------------------------------


async def test_mention_is_answered_in_thread_with_sources_and_feedback(fake, start_app, brain, store):
    bot = await start_app(brain, store)
    payload = app_mention(FRAUD)
    sent = await bot.send.event(payload)
    assert sent.status == 200 and sent.seconds < 3.0
    (post,) = await fake.wait_for("chat.postMessage")
    event = payload["event"]
    assert post.params["channel"] == CHANNEL
    assert post.params["thread_ts"] == event["ts"]  # in a thread under the question
    text = body_text(post)
    assert "100ms" in text and "fraud" in text.lower()  # the knowledge base's answer
    assert "**" not in text and post.params["text"].strip()
    blocks = post.params["blocks"]
    assert blocks[0]["type"] == "section" and blocks[0]["text"]["type"] == "mrkdwn"
    links = source_links(post)
    assert links and all(link.startswith("https://") for link in links)  # sources as links
    feedback = [v for v in values(post) if v.startswith("feedback:")]
    assert {v.rsplit(":", 1)[1] for v in feedback} == {"up", "down"}
    answer_id = feedback[0].split(":")[1]
    record = store.get_answer(answer_id)
    assert record is not None and record.question == FRAUD and "100ms" in record.text
    assert record.conversation_key == conversation(CHANNEL, event["ts"])


async def test_follow_up_in_the_thread_needs_no_mention_and_keeps_context(fake, start_app, brain, store):
    bot = await start_app(brain, store)
    first = app_mention("What does an ML engineer do?")
    await bot.send.event(first)
    (answer,) = await fake.wait_for("chat.postMessage")
    assert "ML engineer" in body_text(answer)
    thread = first["event"]["ts"]
    follow = message("And what about the pay?", channel=CHANNEL, channel_type="channel", thread_ts=thread)
    assert (await bot.send.event(follow)).status == 200
    posts = await fake.wait_for("chat.postMessage", 2)
    reply = body_text(posts[1])
    assert posts[1].params["thread_ts"] == thread
    # "it/what about" borrowed the thread's question: the answer is about ML engineering pay.
    assert "pay" in reply and "ML engineer" in reply
    turns = store.recent_turns(conversation(CHANNEL, thread), 10)
    assert [t.role for t in turns] == ["user", "assistant", "user", "assistant"]
    assert turns[2].text == "And what about the pay?"
    # Chatter in a thread the bot is not part of gets no answer.
    stranger = message("lunch?", channel=CHANNEL, channel_type="channel", thread_ts="1700000999.000001")
    await bot.send.event(stranger)
    await settle(bot)
    await fake.quiet()
    assert len(fake.calls_to("chat.postMessage")) == 2


async def test_direct_messages_are_answered_and_keep_context(fake, start_app, brain, store):
    bot = await start_app(brain, store)
    assert (await bot.send.event(message("What does an ML engineer do?"))).status == 200
    (first,) = await fake.wait_for("chat.postMessage")
    assert first.params["channel"] == DM
    assert "thread_ts" not in first.params  # a plain DM is answered in the DM, not in a thread
    assert "ML engineer" in body_text(first)
    await bot.send.event(message("And what about the pay?"))
    follow = (await fake.wait_for("chat.postMessage", 2))[1]
    assert follow.params["channel"] == DM and "thread_ts" not in follow.params
    assert "pay" in body_text(follow) and "ML engineer" in body_text(follow)
    # The same follow-up from someone with no history is answered without that context.
    await bot.send.event(message("And what about the pay?", channel=OTHER_DM, user=OTHER))
    fresh = (await fake.wait_for("chat.postMessage", 3))[2]
    assert fresh.params["channel"] == OTHER_DM
    assert "ML engineer" not in body_text(fresh)
    assert len(store.recent_turns(conversation(DM, f"user:{USER}"), 10)) == 4


async def test_retried_event_is_answered_once_even_by_a_new_instance(fake, start_app, brain, store, make_brain,
                                                                     settings):
    bot = await start_app(brain, store)
    payload = app_mention(FRAUD)
    await bot.send.event(payload)
    (post,) = await fake.wait_for("chat.postMessage")
    assert "100ms" in body_text(post)
    for attempt in (1, 2):
        assert (await bot.send.event(payload, retry_num=attempt)).status == 200
    # The same message delivered as a `message` event too (a channel subscription).
    double = message(payload["event"]["text"], channel=CHANNEL, channel_type="channel", ts=payload["event"]["ts"])
    await bot.send.event(double)
    # A second worker on the same store, with its own brain.
    worker = await start_app(make_brain(store), store)
    assert (await worker.send.event(payload, retry_num=3)).status == 200
    # A restart: a new store object on the same database, a new brain, a new app.
    reopened = open_store(settings.database_url)
    try:
        restarted = await start_app(make_brain(reopened), reopened)
        assert (await restarted.send.event(payload, retry_num=4)).status == 200
        for running in (bot, worker, restarted):
            await settle(running)
        await fake.quiet()
        assert len(fake.calls_to("chat.postMessage")) == 1
        # The restarted app still answers new events, and remembers the thread's turns.
        await restarted.send.event(message("And what about the pay?", channel=CHANNEL, channel_type="channel",
                                           thread_ts=payload["event"]["ts"]))
        second = (await fake.wait_for("chat.postMessage", 2))[1]
        assert second.params["thread_ts"] == payload["event"]["ts"]
        await settle(restarted)
    finally:
        reopened.close()
    assert len(store.recent_turns(conversation(CHANNEL, payload["event"]["ts"]), 10)) == 4


async def test_socket_mode_redelivery_is_answered_once(fake, start_app, brain, store):
    bot = await start_app(brain, store)
    payload = app_mention(FRAUD)
    for headers in (None, {"x-slack-retry-num": "1", "x-slack-retry-reason": "timeout"}):
        resp = await bot.app.async_dispatch(AsyncBoltRequest(body=payload, mode="socket_mode", headers=headers))
        assert resp.status == 200
    (post,) = await fake.wait_for("chat.postMessage")
    assert "100ms" in body_text(post)
    await settle(bot)
    await fake.quiet()
    assert len(fake.calls_to("chat.postMessage")) == 1


# --- who is answered ---------------------------------------------------------------------------


async def test_bad_or_old_signature_is_401(fake, start_app, brain, store):
    bot = await start_app(brain, store)
    payload = app_mention(FRAUD)
    assert (await bot.send.event(payload, secret="wrong-secret")).status == 401
    assert (await bot.send.event(payload, timestamp=int(time.time()) - 600)).status == 401
    raw = json.dumps(payload)
    assert (await bot.send.raw(raw, {"content-type": "application/json"})).status == 401
    command = slash_command("/career", "AI or ML?", response_url=fake.response_url())
    assert (await bot.send.command(command, secret="wrong-secret")).status == 401
    await settle(bot)
    await fake.quiet()
    assert chat_calls(fake) == []
    assert store.recent_turns(conversation(CHANNEL, payload["event"]["ts"]), 10) == []


async def test_silent_in_a_channel_that_is_not_allowed(fake, start_app, brain, store):
    bot = await start_app(brain, store)
    mention = app_mention(FRAUD, channel=ELSEWHERE)
    assert (await bot.send.event(mention)).status == 200
    thread = message("follow up", channel=ELSEWHERE, channel_type="channel", thread_ts="1700000000.000009")
    assert (await bot.send.event(thread)).status == 200
    sent = await bot.send.command(slash_command("/career", "AI or ML?", channel=ELSEWHERE,
                                                response_url=fake.response_url()))
    assert sent.status == 200 and "only answer in" in sent.text  # a private notice in the ack only
    await settle(bot)
    await fake.quiet()
    assert chat_calls(fake) == []
    assert store.recent_turns(conversation(ELSEWHERE, mention["event"]["ts"]), 10) == []  # brain never asked


async def test_admins_are_answered_anywhere(fake, start_app, brain, store):
    bot = await start_app(brain, store, slack_admin_users=(OTHER,))
    await bot.send.event(app_mention(FRAUD, channel=ELSEWHERE, user=OTHER))
    (post,) = await fake.wait_for("chat.postMessage")
    assert post.params["channel"] == ELSEWHERE and "100ms" in body_text(post)


async def test_bot_messages_edits_and_own_events_are_ignored(fake, start_app, brain, store):
    bot = await start_app(brain, store)
    ignored = [
        message(FRAUD, user=None, bot_id="B0OTHER", subtype="bot_message"),
        message(FRAUD, bot_id="B0OTHER"),
        message(FRAUD, user=BOT_USER, bot_id=BOT_ID),
        message(FRAUD, user=BOT_USER),
        message(FRAUD, subtype="message_changed", user=None,
                message={"type": "message", "user": USER, "text": FRAUD, "ts": "1.2"}),
        message(FRAUD, edited={"user": USER, "ts": "1.3"}),
        message("gone", subtype="message_deleted", user=None),
        message("joined", channel=CHANNEL, channel_type="channel", subtype="channel_join"),
    ]
    for payload in ignored:
        assert (await bot.send.event(payload)).status == 200
    # An app_mention written by the bot itself (it quoted its own name) is ignored too.
    own = app_mention(FRAUD, user=BOT_USER)
    own["event"]["bot_id"] = BOT_ID
    assert (await bot.send.event(own)).status == 200
    await settle(bot)
    await fake.quiet()
    assert chat_calls(fake) == []
    assert store.recent_turns(conversation(DM, f"user:{USER}"), 10) == []
    # A real message right after is still answered.
    await bot.send.event(message(FRAUD))
    (post,) = await fake.wait_for("chat.postMessage")
    assert "100ms" in body_text(post)


async def test_rate_limited_post_is_retried_after_retry_after(fake, start_app, brain, store):
    bot = await start_app(brain, store)
    fake.rate_limit("chat.postMessage", times=1, retry_after=1)
    await bot.send.event(app_mention(FRAUD))
    (ok,) = await fake.wait_for("chat.postMessage", timeout=15)
    attempts = fake.calls_to("chat.postMessage", ok_only=False)
    assert [c.status for c in attempts] == [429, 200]
    assert attempts[1].at - attempts[0].at >= 1.0  # waited out Retry-After
    assert attempts[0].params["blocks"] == ok.params["blocks"]  # the same answer, not dropped
    assert ok.params["thread_ts"] and "100ms" in body_text(ok)


# --- slow answers, long answers ----------------------------------------------------------------


class SlowBrain:
    """The real brain behind a deliberate delay longer than Slack's 3-second ack window."""

    def __init__(self, inner: Any, delay: float = 3.5) -> None:
        self.inner = inner
        self.delay = delay

    async def handle(self, inbound: Inbound) -> Reply:
        await asyncio.sleep(self.delay)
        return await self.inner.handle(inbound)


async def test_ack_within_3s_with_a_slow_brain_and_thinking_indicator(fake, start_app, brain, store):
    slow = SlowBrain(brain)
    bot = await start_app(slow, store, thinking_delay=0.05)
    started = time.monotonic()
    sent = await bot.send.event(app_mention(FRAUD))
    assert sent.status == 200 and sent.seconds < 3.0
    career_url, plan_url = fake.response_url(), fake.response_url()
    command = await bot.send.command(slash_command("/career", "Should a backend dev move to AI engineering?",
                                                   response_url=career_url))
    assert command.status == 200 and command.seconds < 3.0
    plan = await bot.send.command(slash_command("/plan", "", response_url=plan_url))
    assert plan.status == 200 and plan.seconds < 3.0
    # A mention gets a placeholder in its thread; a command a private note through response_url.
    (thinking,) = await fake.wait_for("chat.postMessage")
    assert "Thinking" in all_text(thinking)
    assert thinking.params["thread_ts"]  # the placeholder sits where the answer will go
    notes = await fake.wait_for("response", 2)
    assert all("Thinking" in all_text(n) and n.params["response_type"] == "ephemeral" for n in notes)
    assert fake.calls_to("chat.update") == []
    (update,) = await fake.wait_for("chat.update", timeout=15)
    assert time.monotonic() - started >= slow.delay  # the answer really came after the delay
    assert update.params["ts"] == thinking.response["ts"]  # the placeholder became the answer
    assert "Thinking" not in all_text(update) and "100ms" in body_text(update)
    # /career: the private answer replaces the private note.
    (private,) = await fake.wait_for("response", where=lambda c: "backend" in body_text(c), timeout=15)
    assert private.path.endswith(career_url.rsplit("/", 1)[1])
    assert private.params["response_type"] == "ephemeral" and private.params["replace_original"] is True
    # /plan: the public plan is posted as the bot, then the private note is deleted.
    (posted,) = await fake.wait_for("chat.postMessage", where=lambda c: "Learning plan" in body_text(c), timeout=15)
    assert "thread_ts" not in posted.params and posted.params["channel"] == CHANNEL
    (deleted,) = await fake.wait_for("response", where=lambda c: c.params.get("delete_original") is True)
    assert deleted.path.endswith(plan_url.rsplit("/", 1)[1]) and deleted.at > posted.at


async def test_long_answers_are_split_within_slack_limits(fake, start_app, brain, store):
    """A real long reply: the learning plan is longer than one section block allows."""
    bot = await start_app(brain, store)
    goal = "I am a backend developer who hates calculus and wants to become an AI engineer"
    sent = await bot.send.command(slash_command("/plan", goal, response_url=fake.response_url()))
    assert sent.status == 200
    await fake.wait_for("chat.postMessage", 2)
    await settle(bot)
    posts = fake.calls_to("chat.postMessage")
    assert len(posts) >= 2
    assert {p.params["channel"] for p in posts} == {CHANNEL}
    assert "Learning plan" in body_text(posts[0])
    for post in posts:
        assert len(post.params["blocks"]) <= 50
        for block in post.params["blocks"]:
            if block["type"] == "section":
                assert 0 < len(block["text"]["text"]) <= SECTION_LIMIT
    # The pieces together are the whole stored plan, in order; sources and buttons only at the end.
    feedback = [v for v in values(posts[-1]) if v.startswith("feedback:")]
    record = store.get_answer(feedback[0].split(":")[1])
    assert record is not None and len(record.text) > SECTION_LIMIT
    assert "".join("".join(body_text(p).split()) for p in posts).count("Learningplan") == 1
    assert all(not buttons_in(p.params["blocks"]) for p in posts[:-1])
    assert source_links(posts[-1]) and all(not source_links(p) for p in posts[:-1])


# --- buttons -----------------------------------------------------------------------------------


async def test_feedback_buttons_are_stored(fake, start_app, brain, store):
    bot = await start_app(brain, store)
    await bot.send.event(app_mention(FRAUD))
    (post,) = await fake.wait_for("chat.postMessage")
    helpful = press(fake, post, "feedback:", suffix=":up")
    answer_id = helpful["actions"][0]["value"].split(":")[1]
    assert store.feedback_counts(answer_id) == (0, 0)
    assert (await bot.send.action(helpful)).status == 200
    (thanks,) = await fake.wait_for("response")
    assert thanks.params["response_type"] == "ephemeral" and "Thanks for the feedback" in body_text(thanks)
    assert thanks.params["replace_original"] is False  # the answer stays as it is
    assert store.feedback_counts(answer_id) == (1, 0)
    # Someone else votes "not helpful": counted separately.
    await bot.send.action(press(fake, post, "feedback:", suffix=":down", user=OTHER))
    await fake.wait_for("response", 2)
    assert store.feedback_counts(answer_id) == (1, 1)
    assert fake.calls_to("chat.update") == [] and len(fake.calls_to("chat.postMessage")) == 1


async def test_career_command_is_private_and_can_be_shared(fake, start_app, brain, store):
    bot = await start_app(brain, store)
    question = "Should a backend dev move to AI engineering?"
    form = slash_command("/career", question, response_url=fake.response_url())
    sent = await bot.send.command(form)
    assert sent.status == 200 and sent.text == ""
    (private,) = await fake.wait_for("response")
    assert private.params["response_type"] == "ephemeral"
    assert private.path == form["response_url"].split(str(fake.port))[1]
    assert "backend" in body_text(private) and source_links(private)
    assert fake.calls_to("chat.postMessage") == []  # nothing public yet
    shares = [v for v in values(private) if v.startswith("share:")]
    assert len(shares) == 1, "an ephemeral answer offers exactly one share button"
    answer_id = shares[0].split(":", 1)[1]
    sharing = press(fake, private, "share:", ephemeral=True)
    assert (await bot.send.action(sharing)).status == 200
    (public,) = await fake.wait_for("chat.postMessage")
    assert public.params["channel"] == CHANNEL and "thread_ts" not in public.params
    shared = body_text(public)
    assert question in shared and "backend" in shared
    assert source_links(public) == source_links(private)
    # Someone else cannot share it.
    await bot.send.action(press(fake, private, "share:", ephemeral=True, user=OTHER))
    refusal = (await fake.wait_for("response", 2))[1]
    assert "can't share" in body_text(refusal) and len(fake.calls_to("chat.postMessage")) == 1
    assert store.get_answer(answer_id) is not None


async def test_quiz_buttons_update_in_place_and_upload_the_chart(fake, start_app, brain, store):
    bot = await start_app(brain, store)
    sent = await bot.send.command(slash_command("/quiz", "", response_url=fake.response_url()))
    assert sent.status == 200
    (first,) = await fake.wait_for("chat.postMessage")
    assert first.params["channel"] == CHANNEL and "Question 1 of" in body_text(first)
    total = int(re.search(r"Question 1 of (\d+)", body_text(first)).group(1))
    quiz_ts = first.response["ts"]
    current = first
    for step in range(1, total + 1):
        answer = press(fake, current, "quiz:a:", message_ts=quiz_ts)
        assert answer["actions"][0]["value"].split(":")[4] == str(step - 1)  # this question's button
        assert (await bot.send.action(answer)).status == 200
        current = (await fake.wait_for("chat.update", step))[-1]
        assert current.params["ts"] == quiz_ts and current.params["channel"] == CHANNEL
        if step < total:
            assert f"Question {step + 1} of {total}" in body_text(current)
    await settle(bot)
    assert "Your quiz result" in body_text(current)
    assert not any(v.startswith("quiz:a:") for v in values(current))  # no more answer buttons
    assert any(v.startswith("quiz:r:") for v in values(current))  # "Take it again"
    (complete,) = await fake.wait_for("files.completeUploadExternal")
    (upload,) = await fake.wait_for("upload")
    assert upload.raw.startswith(b"\x89PNG") and len(upload.raw) > 1000  # the real radar chart
    assert complete.params["channel_id"] == CHANNEL
    assert complete.params["thread_ts"] == quiz_ts
    assert json.loads(complete.params["files"])[0]["id"] == upload.params["file_id"]
    # Every step updated the one message; a long result may continue in its thread.
    extra = [p for p in fake.calls_to("chat.postMessage") if p is not first]
    assert all(p.params.get("thread_ts") == quiz_ts for p in extra)
    assert store.latest_quiz_result(f"slack:{USER}") is not None


async def test_someone_elses_press_does_not_replace_the_quiz(fake, start_app, brain, store):
    bot = await start_app(brain, store)
    await bot.send.command(slash_command("/quiz", "", response_url=fake.response_url()))
    (first,) = await fake.wait_for("chat.postMessage")
    before = store.load_quiz(f"slack:{USER}")
    assert (await bot.send.action(press(fake, first, "quiz:a:", user=OTHER))).status == 200
    (answer,) = await fake.wait_for("response")
    assert answer.params["response_type"] == "ephemeral" and answer.params["replace_original"] is False
    assert "belongs to someone else" in body_text(answer)
    await settle(bot)
    assert fake.calls_to("chat.update") == []
    assert store.load_quiz(f"slack:{USER}")["answers"] == before["answers"]


async def test_quiz_reset_status_and_cancel_commands(fake, start_app, brain, store):
    bot = await start_app(brain, store)
    await bot.send.command(slash_command("/quiz", "", response_url=fake.response_url()))
    (first,) = await fake.wait_for("chat.postMessage")
    await bot.send.action(press(fake, first, "quiz:a:"))
    (step,) = await fake.wait_for("chat.update")
    assert "Question 2 of" in body_text(step)
    await bot.send.command(slash_command("/quiz-status", "", response_url=fake.response_url()))
    (status,) = await fake.wait_for("response")
    assert status.params["response_type"] == "ephemeral" and "1" in body_text(status)
    await bot.send.command(slash_command("/quiz-reset", "", response_url=fake.response_url()))
    reset = (await fake.wait_for("chat.postMessage", 2))[1]
    assert "Question 1 of" in body_text(reset)
    assert store.load_quiz(f"slack:{USER}")["answers"][0] is None
    await bot.send.command(slash_command("/quiz-cancel", "", response_url=fake.response_url()))
    await settle(bot)
    assert store.load_quiz(f"slack:{USER}") is None


async def test_forget_deletes_everything_about_the_user(fake, start_app, brain, store):
    bot = await start_app(brain, store)
    await bot.send.event(message(FRAUD))
    (post,) = await fake.wait_for("chat.postMessage")
    await bot.send.action(press(fake, post, "feedback:", suffix=":up", channel=DM))
    await fake.wait_for("response")
    answer_id = next(v for v in values(post) if v.startswith("feedback:")).split(":")[1]
    assert store.feedback_counts(answer_id) == (1, 0)
    await bot.send.command(slash_command("/quiz", "", channel=DM, response_url=fake.response_url()))
    await fake.wait_for("chat.postMessage", 2)
    dm = conversation(DM, f"user:{USER}")
    assert len(store.recent_turns(dm, 10)) == 2 and store.load_quiz(f"slack:{USER}") is not None
    sent = await bot.send.command(slash_command("/forget", "", channel=DM, response_url=fake.response_url()))
    assert sent.status == 200
    done = (await fake.wait_for("response", 2))[1]
    assert done.params["response_type"] == "ephemeral" and "deleted everything" in body_text(done)
    assert store.recent_turns(dm, 10) == []
    assert store.get_answer(answer_id) is None and store.feedback_counts(answer_id) == (0, 0)
    assert store.load_quiz(f"slack:{USER}") is None


async def test_help_command_is_private(fake, start_app, brain, store):
    bot = await start_app(brain, store)
    await bot.send.command(slash_command("/careerbot-help", "", response_url=fake.response_url()))
    (help_,) = await fake.wait_for("response")
    assert help_.params["response_type"] == "ephemeral"
    text = body_text(help_)
    assert "/quiz" in text and "/forget" in text and "*AI engineering*" in text  # markdown bold → mrkdwn
    assert fake.calls_to("chat.postMessage") == []


async def test_garbage_gets_4xx_or_is_ignored_and_the_app_keeps_working(fake, start_app, brain, store):
    bot = await start_app(brain, store)
    send = bot.send
    cases = [
        ("{not json", "application/json"),
        ('{"type": "event_callback", "event": "not-an-object"}', "application/json"),
        ('{"type": "no_such_type"}', "application/json"),
        ("payload=%7Bbroken", "application/x-www-form-urlencoded"),
        ('payload={"type":"block_actions"}', "application/x-www-form-urlencoded"),
        ("[1, 2, 3]", "application/json"),
        ("\udcff".encode("utf-8", "surrogatepass").decode("latin-1"), "text/plain"),
    ]
    for raw, ctype in cases:
        sent = await send.raw(raw, send.headers(raw, content_type=ctype))
        assert sent.status < 500, (raw, sent.status, sent.text)
        assert "Traceback" not in sent.text
    big = "x" * 2_000_000
    assert (await send.raw(big, send.headers(big))).status == 413
    await bot.send.event(app_mention(FRAUD))
    (post,) = await fake.wait_for("chat.postMessage")
    assert "100ms" in body_text(post)


async def test_ephemeral_files_go_to_a_dm_not_the_channel(fake, start_app, brain, store):
    """A quiz run in an ephemeral message keeps its chart private (Slack has no ephemeral files)."""
    bot = await start_app(brain, store)
    await bot.send.command(slash_command("/quiz", "", response_url=fake.response_url()))
    (first,) = await fake.wait_for("chat.postMessage")
    total = int(re.search(r"Question 1 of (\d+)", body_text(first)).group(1))
    current = first
    for step in range(1, total + 1):
        await bot.send.action(press(fake, current, "quiz:a:", ephemeral=True))
        current = (await fake.wait_for("response", step))[-1]
        assert current.params["replace_original"] is True
    await settle(bot)
    assert "Your quiz result" in body_text(current)
    (complete,) = await fake.wait_for("files.completeUploadExternal")
    assert complete.params["channel_id"].startswith("D")
    assert fake.calls_to("conversations.open")[0].params["users"] == USER
    assert fake.calls_to("chat.update") == []


async def test_outbox_posts_a_long_reply_as_several_messages_in_one_thread(fake, slack_settings):
    """Delivery of a split answer, independent of what the brain writes."""
    import logging

    from adapters.slack.app import build_web_client, retry_handlers
    from adapters.slack.deliver import Outbox
    from adapters.slack.render import render_reply

    outbox = Outbox(build_web_client(slack_settings), logger=logging.getLogger("test"), retry_handlers=retry_handlers())
    reply = Reply(text="\n\n".join(f"Paragraph {i}: " + "word " * 150 for i in range(20)), data={"answer_id": "a1"},
                  buttons=((Button("Helpful", "feedback:a1:up", "primary"), Button("Not helpful", "feedback:a1:down")),))
    first = await outbox.post(CHANNEL, render_reply(reply, owner=USER), thread_ts="1700000000.000001")
    posts = fake.calls_to("chat.postMessage")
    assert len(posts) >= 2 and first == posts[0].response["ts"]
    assert {p.params["thread_ts"] for p in posts} == {"1700000000.000001"}
    assert all(len(b["text"]["text"]) <= SECTION_LIMIT for p in posts for b in p.params["blocks"] if b["type"] == "section")
    assert buttons_in(posts[-1].params["blocks"]) and not buttons_in(posts[0].params["blocks"])
