"""The Slack adapter end to end: HTTP mode on 127.0.0.1, signed payloads, a fake Web API, the brain.

Nothing sleeps a fixed time to wait for an answer: tests poll the fake's recorded calls with a
deadline. The only timing bound asserted is Slack's generous 3-second ack.
"""

from __future__ import annotations

import asyncio
import json
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
from slack_fake_api import BOT_ID, BOT_USER, FakeSlack

from adapters.slack.app import slack_bot_of
from adapters.slack.render import SECTION_LIMIT
from bot.messages import Inbound, Reply

CHAT = ("chat.postMessage", "chat.update", "chat.postEphemeral", "response", "files.completeUploadExternal")


def chat_calls(fake: FakeSlack) -> list[str]:
    return [m for m in fake.methods() if m in CHAT]


async def settle(bot: Any) -> None:
    """Wait until the answers already started have finished (not a fixed sleep)."""
    await slack_bot_of(bot.app).jobs.drain(10)


def all_text(call: Any) -> str:
    return json.dumps(call.params.get("blocks")) + str(call.params.get("text"))


async def test_mention_is_answered_in_thread_with_sources_and_feedback(fake, start_app, brain, store):
    bot = await start_app(brain, store)
    payload = app_mention("Should I become an AI engineer if I hate math?")
    sent = await bot.send.event(payload)
    assert sent.status == 200
    (post,) = await fake.wait_for("chat.postMessage")
    event = payload["event"]
    assert post.params["channel"] == CHANNEL
    assert post.params["thread_ts"] == event["ts"]
    blocks = post.params["blocks"]
    assert blocks[0]["type"] == "section" and blocks[0]["text"]["type"] == "mrkdwn"
    assert post.params["text"].strip()
    assert "**" not in blocks[0]["text"]["text"]  # markdown bold became mrkdwn
    context = [b for b in blocks if b["type"] == "context"]
    assert context and "<http" in context[0]["elements"][0]["text"]  # sources as links
    values = [b["value"] for _, b in buttons_in(blocks)]
    assert any(v.startswith("feedback:") and v.endswith(":up") for v in values)
    assert any(v.startswith("feedback:") and v.endswith(":down") for v in values)
    assert await fake.wait_for("auth.test")


async def test_follow_up_in_the_thread_needs_no_mention(fake, start_app, brain, store):
    bot = await start_app(brain, store)
    first = app_mention("What does an ML engineer do?")
    await bot.send.event(first)
    await fake.wait_for("chat.postMessage")
    thread = first["event"]["ts"]
    follow = message("And what should I learn first?", channel=CHANNEL, channel_type="channel", thread_ts=thread)
    assert (await bot.send.event(follow)).status == 200
    posts = await fake.wait_for("chat.postMessage", 2)
    assert posts[1].params["thread_ts"] == thread
    # Chatter in a thread the bot is not part of gets no answer.
    stranger = message("lunch?", channel=CHANNEL, channel_type="channel", thread_ts="1700000999.000001")
    await bot.send.event(stranger)
    await fake.quiet()
    assert len(fake.calls_to("chat.postMessage")) == 2


async def test_direct_message_is_answered(fake, start_app, brain, store):
    bot = await start_app(brain, store)
    assert (await bot.send.event(message("hi, is AI engineering for me?"))).status == 200
    (post,) = await fake.wait_for("chat.postMessage")
    assert post.params["channel"] == DM
    assert "thread_ts" not in post.params  # a plain DM is answered in the DM, not in a thread


async def test_retried_event_is_answered_once_even_by_a_new_instance(fake, start_app, brain, store):
    bot = await start_app(brain, store)
    payload = app_mention("Is the pay better for ML engineers?")
    await bot.send.event(payload)
    await fake.wait_for("chat.postMessage")
    for attempt in (1, 2):
        assert (await bot.send.event(payload, retry_num=attempt)).status == 200
    # The same message delivered as a `message` event too (a channel subscription).
    double = message(payload["event"]["text"], channel=CHANNEL, channel_type="channel", ts=payload["event"]["ts"])
    await bot.send.event(double)
    # A second worker (or a restarted one) on the same store.
    other = await start_app(brain, store)
    assert (await other.send.event(payload, retry_num=3)).status == 200
    await fake.quiet()
    assert len(fake.calls_to("chat.postMessage")) == 1


async def test_socket_mode_redelivery_is_answered_once(fake, start_app, brain, store):
    bot = await start_app(brain, store)
    payload = app_mention("socket mode question")
    for headers in (None, {"x-slack-retry-num": "1", "x-slack-retry-reason": "timeout"}):
        resp = await bot.app.async_dispatch(AsyncBoltRequest(body=payload, mode="socket_mode", headers=headers))
        assert resp.status == 200
    await fake.wait_for("chat.postMessage")
    await fake.quiet()
    assert len(fake.calls_to("chat.postMessage")) == 1


async def test_bad_or_old_signature_is_401(fake, start_app, brain, store):
    bot = await start_app(brain, store)
    payload = app_mention("hello")
    assert (await bot.send.event(payload, secret="wrong-secret")).status == 401
    assert (await bot.send.event(payload, timestamp=int(time.time()) - 600)).status == 401
    raw = json.dumps(payload)
    assert (await bot.send.raw(raw, {"content-type": "application/json"})).status == 401
    await fake.quiet()
    assert chat_calls(fake) == []


async def test_silent_in_a_channel_that_is_not_allowed(fake, start_app, brain, store):
    bot = await start_app(brain, store)
    assert (await bot.send.event(app_mention("hello?", channel=ELSEWHERE))).status == 200
    thread = message("follow up", channel=ELSEWHERE, channel_type="channel", thread_ts="1700000000.000009")
    assert (await bot.send.event(thread)).status == 200
    sent = await bot.send.command(slash_command("/career", "AI or ML?", channel=ELSEWHERE,
                                                response_url=fake.response_url()))
    assert sent.status == 200 and "only answer in" in sent.text  # a private notice in the ack only
    await fake.quiet()
    assert chat_calls(fake) == []


async def test_admins_are_answered_anywhere(fake, start_app, brain, store):
    bot = await start_app(brain, store, slack_admin_users=(OTHER,))
    await bot.send.event(app_mention("admin check", channel=ELSEWHERE, user=OTHER))
    (post,) = await fake.wait_for("chat.postMessage")
    assert post.params["channel"] == ELSEWHERE


async def test_bot_messages_edits_and_own_events_are_ignored(fake, start_app, brain, store):
    bot = await start_app(brain, store)
    ignored = [
        message("I am another bot", user=None, bot_id="B0OTHER", subtype="bot_message"),
        message("from a bot user", bot_id="B0OTHER"),
        message("my own answer", user=BOT_USER, bot_id=BOT_ID),
        message("edited", subtype="message_changed", user=None,
                message={"type": "message", "user": USER, "text": "edited", "ts": "1.2"}),
        message("gone", subtype="message_deleted", user=None),
        message("joined", channel=CHANNEL, channel_type="channel", subtype="channel_join"),
    ]
    for payload in ignored:
        assert (await bot.send.event(payload)).status == 200
    await fake.quiet()
    assert chat_calls(fake) == []


async def test_rate_limited_post_is_retried_after_retry_after(fake, start_app, brain, store):
    bot = await start_app(brain, store)
    fake.rate_limit("chat.postMessage", times=1, retry_after=1)
    await bot.send.event(app_mention("rate limits?"))
    (ok,) = await fake.wait_for("chat.postMessage", timeout=15)
    attempts = fake.calls_to("chat.postMessage", ok_only=False)
    assert [c.status for c in attempts] == [429, 200]
    assert attempts[1].at - attempts[0].at >= 1.0  # waited out Retry-After
    assert ok.params["thread_ts"]


class SlowBrain:
    """The real brain behind a gate: nothing answers until the test opens it."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.gate = asyncio.Event()

    async def handle(self, inbound: Inbound) -> Reply:
        await self.gate.wait()
        return await self.inner.handle(inbound)


async def test_ack_within_3s_with_a_slow_brain_and_thinking_indicator(fake, start_app, brain, store):
    slow = SlowBrain(brain)
    bot = await start_app(slow, store, thinking_delay=0.05)
    sent = await bot.send.event(app_mention("a slow question"))
    assert sent.status == 200 and sent.seconds < 3.0
    command = await bot.send.command(slash_command("/career", "slow", response_url=fake.response_url()))
    assert command.status == 200 and command.seconds < 3.0
    (thinking,) = await fake.wait_for("chat.postMessage")
    assert "Thinking" in all_text(thinking)
    assert fake.calls_to("chat.update") == []
    slow.gate.set()
    (update,) = await fake.wait_for("chat.update")
    assert update.params["ts"] == thinking.response["ts"]  # the placeholder became the answer
    assert "Thinking" not in all_text(update)
    await fake.wait_for("response")


async def test_long_answers_are_split_within_slack_limits(fake, start_app, brain, store):
    bot = await start_app(brain, store)
    await bot.send.event(app_mention("give me a long answer please"))
    posts = await fake.wait_for("chat.postMessage", 2)
    await fake.quiet()
    posts = fake.calls_to("chat.postMessage")
    assert len(posts) >= 2
    assert len({p.params["thread_ts"] for p in posts}) == 1
    for post in posts:
        assert len(post.params["blocks"]) <= 50
        for block in post.params["blocks"]:
            if block["type"] == "section":
                assert len(block["text"]["text"]) <= SECTION_LIMIT
    # Buttons and sources sit under the end of the answer only.
    assert all(not buttons_in(p.params["blocks"]) for p in posts[:-1])
    assert buttons_in(posts[-1].params["blocks"])


async def test_feedback_buttons_are_stored(fake, start_app, brain, store):
    bot = await start_app(brain, store)
    await bot.send.event(app_mention("what is RAG?"))
    (post,) = await fake.wait_for("chat.postMessage")
    block_id, up = next((bid, b) for bid, b in buttons_in(post.params["blocks"]) if b["value"].endswith(":up"))
    answer_id = up["value"].split(":")[1]
    press = block_actions(up, block_id, response_url=fake.response_url(), message_ts=post.response["ts"],
                          thread_ts=post.params["thread_ts"])
    assert (await bot.send.action(press)).status == 200
    await fake.wait_for("response")
    assert store.feedback_counts(answer_id) == (1, 0)
    # Someone else votes too: counted separately.
    press = block_actions(up, block_id, response_url=fake.response_url(), message_ts="1.1", user=OTHER)
    await bot.send.action(press)
    await fake.wait_for("response", 2)
    assert store.feedback_counts(answer_id) == (2, 0)


async def test_career_command_is_private_and_can_be_shared(fake, start_app, brain, store):
    bot = await start_app(brain, store)
    form = slash_command("/career", "Should a backend dev move to AI engineering?", response_url=fake.response_url())
    sent = await bot.send.command(form)
    assert sent.status == 200 and sent.text == ""
    (private,) = await fake.wait_for("response")
    assert private.params["response_type"] == "ephemeral"
    assert private.path == form["response_url"].split(str(fake.port))[1]
    share = [(bid, b) for bid, b in buttons_in(private.params["blocks"]) if b["value"].startswith("share:")]
    assert share, "an ephemeral answer offers a share button"
    block_id, button = share[0]
    press = block_actions(button, block_id, response_url=fake.response_url(), message_ts=None, ephemeral=True)
    assert (await bot.send.action(press)).status == 200
    (public,) = await fake.wait_for("chat.postMessage")
    assert public.params["channel"] == CHANNEL
    assert fake.calls_to("chat.postMessage") and "thread_ts" not in public.params


async def test_quiz_buttons_update_in_place_and_upload_the_chart(fake, start_app, brain, store):
    bot = await start_app(brain, store)
    sent = await bot.send.command(slash_command("/quiz", "", response_url=fake.response_url()))
    assert sent.status == 200
    (first,) = await fake.wait_for("chat.postMessage")
    assert first.params["channel"] == CHANNEL
    quiz_ts = "1700000000.999999"  # the ts Slack would have given the quiz message
    blocks = first.params["blocks"]
    for step in range(1, 40):
        options = buttons_in(blocks)
        assert options, f"step {step}: the quiz message has no buttons"
        block_id, button = options[0]
        press = block_actions(button, block_id, response_url=fake.response_url(), message_ts=quiz_ts)
        assert (await bot.send.action(press)).status == 200
        updates = await fake.wait_for("chat.update", step)
        update = updates[-1]
        assert update.params["ts"] == quiz_ts and update.params["channel"] == CHANNEL
        await settle(bot)
        if fake.calls_to("files.getUploadURLExternal") or not buttons_in(update.params["blocks"]):
            break
        blocks = update.params["blocks"]
    (complete,) = await fake.wait_for("files.completeUploadExternal")
    (upload,) = await fake.wait_for("upload")
    assert upload.raw.startswith(b"\x89PNG")
    assert complete.params["channel_id"] == CHANNEL
    assert complete.params["thread_ts"] == quiz_ts
    assert json.loads(complete.params["files"])[0]["id"] == upload.params["file_id"]
    assert fake.calls_to("chat.postMessage") == [first]  # every step updated the one message


async def test_someone_elses_press_does_not_replace_the_quiz(fake, start_app, brain, store):
    bot = await start_app(brain, store)
    await bot.send.command(slash_command("/quiz", "", response_url=fake.response_url()))
    (first,) = await fake.wait_for("chat.postMessage")
    block_id, button = buttons_in(first.params["blocks"])[0]
    press = block_actions(button, block_id, response_url=fake.response_url(), message_ts="1700000000.5", user=OTHER)
    assert (await bot.send.action(press)).status == 200
    (answer,) = await fake.wait_for("response")
    assert answer.params["response_type"] == "ephemeral" and answer.params["replace_original"] is False
    assert fake.calls_to("chat.update") == []


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
    await bot.send.event(app_mention("still alive?"))
    assert await fake.wait_for("chat.postMessage")


async def test_ephemeral_files_go_to_a_dm_not_the_channel(fake, start_app, brain, store):
    """A quiz run in an ephemeral message keeps its chart private (Slack has no ephemeral files)."""
    bot = await start_app(brain, store)
    await bot.send.command(slash_command("/quiz", "", response_url=fake.response_url()))
    (first,) = await fake.wait_for("chat.postMessage")
    blocks = first.params["blocks"]
    for step in range(1, 40):
        block_id, button = buttons_in(blocks)[0]
        press = block_actions(button, block_id, response_url=fake.response_url(), message_ts=None, ephemeral=True)
        await bot.send.action(press)
        responses = await fake.wait_for("response", step)
        assert responses[-1].params["replace_original"] is True
        await settle(bot)
        if fake.calls_to("files.getUploadURLExternal") or not buttons_in(responses[-1].params["blocks"]):
            break
        blocks = responses[-1].params["blocks"]
    (complete,) = await fake.wait_for("files.completeUploadExternal")
    assert complete.params["channel_id"].startswith("D")
    assert fake.calls_to("conversations.open")[0].params["users"] == USER


async def test_outbox_posts_a_long_reply_as_several_messages_in_one_thread(fake, slack_settings):
    """Delivery of a split answer, independent of what the brain writes."""
    import logging

    from adapters.slack.app import build_web_client, retry_handlers
    from adapters.slack.deliver import Outbox
    from adapters.slack.render import render_reply

    outbox = Outbox(build_web_client(slack_settings), logger=logging.getLogger("test"), retry_handlers=retry_handlers())
    reply = Reply(text="\n\n".join(f"Paragraph {i}: " + "word " * 150 for i in range(20)), data={"answer_id": "a1"})
    first = await outbox.post(CHANNEL, render_reply(reply, owner=USER), thread_ts="1700000000.000001")
    posts = fake.calls_to("chat.postMessage")
    assert len(posts) >= 2 and first == posts[0].response["ts"]
    assert {p.params["thread_ts"] for p in posts} == {"1700000000.000001"}
    assert all(len(b["text"]["text"]) <= SECTION_LIMIT for p in posts for b in p.params["blocks"] if b["type"] == "section")
    assert buttons_in(posts[-1].params["blocks"]) and not buttons_in(posts[0].params["blocks"])
