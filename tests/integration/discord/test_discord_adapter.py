"""The real discord.py client against the local fake of Discord, with the project's brain behind it.

Every wait polls the fake's recorded state with a deadline; nothing sleeps for a fixed time.
"""

from __future__ import annotations

import asyncio
from typing import Any

import discord
import pytest
from discord_support import SlowBrain, png_ok
from fake_discord import (
    APP_ID,
    BOT_USER,
    CHANNEL_ID,
    GUILD_ID,
    OTHER_CHANNEL_ID,
    FakeDiscord,
    RecordedCall,
    user_payload,
)

from adapters.discord import discord_intents
from adapters.discord.commands_cog import COMMAND_NAMES
from bot.messages import Inbound, Kind, Reply

ALICE = user_payload(100000000000000001, "alice")
BOB = user_payload(100000000000000002, "bob")
OTHER_BOT = user_payload(100000000000000003, "otherbot", bot=True)
MESSAGES = r"/channels/\d+/messages"
CALLBACK = r"/interactions/\d+/[^/]+/callback"
ORIGINAL = rf"/webhooks/{APP_ID}/[^/]+/messages/@original"


class Recording:
    """Passes every event to the brain and remembers the `Inbound`s, to check the translation."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.inbounds: list[Inbound] = []

    async def handle(self, inbound: Inbound) -> Reply:
        self.inbounds.append(inbound)
        return await self.inner.handle(inbound)


def mention(text: str) -> str:
    return f"<@{BOT_USER['id']}> {text}"


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for row in message.get("components", []) for c in row.get("components", []) if c.get("type") == 2]


def body_of(call: RecordedCall) -> dict[str, Any]:
    """The message body of a REST call (interaction callbacks nest it under `data`)."""
    payload = call.json or {}
    return payload.get("data", payload) if "type" in payload and "data" in payload else payload


def embed_text(body: dict[str, Any]) -> str:
    return "\n".join(
        (e.get("description") or "") + "".join(f["value"] for f in e.get("fields", [])) for e in body.get("embeds") or []
    )


async def press(fake: FakeDiscord, user: dict[str, Any], message: dict[str, Any], custom_id: str) -> tuple[str, int]:
    """Dispatch a button press; return its interaction token and the number of callbacks before it."""
    payload = fake.button_interaction(user, message, custom_id)
    fake.register_interaction(payload)
    before = len(fake.find_calls("POST", CALLBACK))
    await fake.dispatch("INTERACTION_CREATE", payload)
    return payload["token"], before


async def run_command(fake: FakeDiscord, user: dict[str, Any], name: str, options: dict[str, Any] | None = None) -> str:
    payload = fake.command_interaction(user, name, options)
    fake.register_interaction(payload)
    await fake.dispatch("INTERACTION_CREATE", payload)
    return payload["token"]


async def callback_for(fake: FakeDiscord, token: str) -> RecordedCall:
    return await fake.wait_call("POST", rf"/interactions/\d+/{token}/callback")


# --- connecting --------------------------------------------------------------------------------


async def test_connects_identifies_with_needed_intents_and_syncs_commands(fake: FakeDiscord, start_bot, brain) -> None:
    await start_bot(brain)
    identify = fake.ops_received(2)[0]["d"]
    assert identify["token"] == "fake-discord-token"
    assert identify["intents"] == discord_intents().value
    assert discord.Intents._from_value(identify["intents"]).message_content
    assert not discord.Intents._from_value(identify["intents"]).members
    assert fake.connections[0].query["compress"] in ("zlib-stream", "zstd-stream")
    await fake.until(lambda: fake.heartbeats >= 1, what="first heartbeat")
    sync = await fake.wait_call("PUT", rf"/applications/{APP_ID}/commands")
    assert sorted(c["name"] for c in sync.json) == sorted(COMMAND_NAMES)
    career = next(c for c in sync.json if c["name"] == "career")
    assert [o["name"] for o in career["options"]] == ["question", "private"]
    assert fake.find_calls("GET", "/users/@me")


async def test_syncs_to_configured_guilds(fake: FakeDiscord, start_bot, brain) -> None:
    await start_bot(brain, discord_guild_ids=(GUILD_ID,))
    sync = await fake.wait_call("PUT", rf"/applications/{APP_ID}/guilds/{GUILD_ID}/commands")
    assert {c["name"] for c in sync.json} == set(COMMAND_NAMES)
    assert not fake.find_calls("PUT", rf"/applications/{APP_ID}/commands")


async def test_zlib_stream_compression(fake: FakeDiscord, start_bot, brain, monkeypatch) -> None:
    """Without a zstd module discord.py asks for zlib-stream; the fake serves that too."""
    import zlib

    class ZlibContext:
        COMPRESSION_TYPE = "zlib-stream"

        def __init__(self) -> None:
            self.ctx = zlib.decompressobj()
            self.buffer = bytearray()

        def decompress(self, data: bytes) -> str | None:
            self.buffer.extend(data)
            if len(data) < 4 or data[-4:] != b"\x00\x00\xff\xff":
                return None
            out = self.ctx.decompress(self.buffer)
            self.buffer = bytearray()
            return out.decode()

    monkeypatch.setattr(discord.utils, "_ActiveDecompressionContext", ZlibContext)
    await start_bot(brain)
    assert fake.connections[0].query["compress"] == "zlib-stream"
    await fake.dispatch("MESSAGE_CREATE", fake.message_payload(ALICE, mention("hello"), mentions=[BOT_USER]))
    await fake.wait_call("POST", MESSAGES)


async def test_sharded_process_identifies_its_shard_and_leaves_sync_to_shard_zero(fake: FakeDiscord, start_bot, brain) -> None:
    bot = await start_bot(brain, discord_shard_count=2, discord_shard_ids=(1,))
    assert isinstance(bot, discord.AutoShardedClient)
    assert fake.ops_received(2)[0]["d"]["shard"] == [1, 2]
    await fake.dispatch("MESSAGE_CREATE", fake.message_payload(ALICE, mention("hi"), mentions=[BOT_USER]))
    await fake.wait_call("POST", MESSAGES)
    assert not fake.find_calls("PUT", r"/applications/\d+(/guilds/\d+)?/commands")


# --- mentions, replies, DMs --------------------------------------------------------------------


async def test_mention_answered_as_reply_with_embed_sources_and_feedback(fake: FakeDiscord, start_bot, brain, discord_store) -> None:
    await start_bot(brain)
    question = fake.message_payload(ALICE, mention("Should I become an AI engineer or an ML engineer?"), mentions=[BOT_USER])
    await fake.dispatch("MESSAGE_CREATE", question)
    call = await fake.wait_call("POST", MESSAGES)
    body = call.json
    assert body["message_reference"]["message_id"] == int(question["id"])
    assert body["allowed_mentions"] == {"parse": [], "replied_user": True}
    embed = body["embeds"][0]
    assert embed["description"].strip()
    sources = [f for f in embed.get("fields", []) if f["name"].startswith("Sources")]
    assert sources and "](http" in sources[0]["value"]
    feedback = [b for b in buttons(body) if b["custom_id"].startswith("feedback:")]
    assert {b["custom_id"].rsplit(":", 1)[1] for b in feedback} == {"up", "down"}

    answer = await fake.until(lambda: next((m for m in fake.messages.values() if m["embeds"]), None))
    up = next(b["custom_id"] for b in feedback if b["custom_id"].endswith(":up"))
    token, _ = await press(fake, ALICE, answer, up)
    ack = await callback_for(fake, token)
    assert ack.json["type"] == 4 and ack.json["data"]["flags"] & 64  # only the voter sees the thanks
    answer_id = up.split(":")[1]
    assert discord_store.feedback_counts(answer_id) == (1, 0)


async def test_reply_to_answer_continues_the_conversation(fake: FakeDiscord, start_bot, brain) -> None:
    recording = Recording(brain)
    await start_bot(recording)
    root = fake.message_payload(ALICE, mention("I'm a backend dev who hates calculus. AI engineering?"), mentions=[BOT_USER])
    await fake.dispatch("MESSAGE_CREATE", root)
    await fake.wait_call("POST", MESSAGES)
    first_answer = next(m for m in fake.messages.values() if m["embeds"])

    follow = fake.message_payload(ALICE, "what should I learn first?", reply_to=first_answer)
    await fake.dispatch("MESSAGE_CREATE", follow)
    call = await fake.wait_call("POST", MESSAGES, count=2)
    assert call.json["message_reference"]["message_id"] == int(follow["id"])
    second_answer = fake.messages[max(fake.messages, key=int)]

    again = fake.message_payload(ALICE, mention("and after that?"), mentions=[BOT_USER], reply_to=second_answer)
    await fake.dispatch("MESSAGE_CREATE", again)
    await fake.wait_call("POST", MESSAGES, count=3)

    first, second, third = recording.inbounds
    assert first.kind is second.kind is third.kind is Kind.MENTION
    assert first.text.startswith("I'm a backend dev") and "<@" not in first.text
    assert first.thread == second.thread == third.thread == root["id"]
    assert first.conversation_key == third.conversation_key
    assert first.workspace == str(GUILD_ID)


async def test_dm_is_answered(fake: FakeDiscord, start_bot, brain) -> None:
    recording = Recording(brain)
    await start_bot(recording)
    dm_channel = "820000000000000001"
    await fake.dispatch("MESSAGE_CREATE", fake.message_payload(ALICE, "what does an ML engineer do?", channel_id=dm_channel, guild=False))
    call = await fake.wait_call("POST", rf"/channels/{dm_channel}/messages")
    assert embed_text(call.json)
    assert "message_reference" not in call.json
    assert recording.inbounds[0].kind is Kind.DM and recording.inbounds[0].workspace is None


async def test_thread_reply_mode_opens_a_thread(fake: FakeDiscord, start_bot, brain) -> None:
    await start_bot(brain, discord_reply_mode="thread")
    question = fake.message_payload(ALICE, mention("what is RAG?"), mentions=[BOT_USER])
    await fake.dispatch("MESSAGE_CREATE", question)
    thread = await fake.wait_call("POST", rf"/channels/{CHANNEL_ID}/messages/{question['id']}/threads")
    assert thread.json["name"].startswith("what is RAG")
    await fake.wait_call("POST", rf"/channels/{question['id']}/messages")


async def test_bots_and_not_allowed_channels_are_ignored(fake: FakeDiscord, start_bot, brain) -> None:
    recording = Recording(brain)
    await start_bot(recording, discord_allowed_channels=(str(CHANNEL_ID),))
    await fake.dispatch("MESSAGE_CREATE", fake.message_payload(OTHER_BOT, mention("answer me, fellow bot"), mentions=[BOT_USER]))
    elsewhere = fake.message_payload(ALICE, mention("hello from #random"), mentions=[BOT_USER], channel_id=OTHER_CHANNEL_ID)
    await fake.dispatch("MESSAGE_CREATE", elsewhere)
    await fake.dispatch("MESSAGE_CREATE", fake.message_payload(ALICE, "chatting, not to the bot"))
    allowed = fake.message_payload(ALICE, mention("hello from #careers"), mentions=[BOT_USER])
    await fake.dispatch("MESSAGE_CREATE", allowed)
    await fake.wait_call("POST", MESSAGES)
    # Gateway events are handled in order, so by the time the last one is answered the others were seen.
    posts = fake.find_calls("POST", MESSAGES)
    assert [p.json["message_reference"]["message_id"] for p in posts] == [int(allowed["id"])]
    assert [i.text for i in recording.inbounds] == ["hello from #careers"]


async def test_garbage_events_do_not_crash_the_client(fake: FakeDiscord, start_bot, brain) -> None:
    bot = await start_bot(brain)
    await fake.dispatch("MESSAGE_CREATE", {"id": "not-a-number"})
    await fake.dispatch("MESSAGE_CREATE", {"channel_id": str(CHANNEL_ID), "content": mention("no author")})
    await fake.dispatch("INTERACTION_CREATE", {"id": "1", "type": 3, "token": "t"})
    await fake.dispatch("INTERACTION_CREATE", fake.interaction_payload(ALICE, type_=3, data={"component_type": 2}))
    await fake.dispatch("SOMETHING_NEW", {"whatever": [1, 2, 3]})
    await fake.dispatch("GUILD_CREATE", {"id": None})
    await fake.send_raw({"op": 99, "d": None})
    ok = fake.message_payload(ALICE, mention("still there?"), mentions=[BOT_USER])
    await fake.dispatch("MESSAGE_CREATE", ok)
    call = await fake.wait_call("POST", MESSAGES)
    assert call.json["message_reference"]["message_id"] == int(ok["id"])
    assert not bot.is_closed() and len(fake.connections) == 1


# --- slash commands, quiz, deferral ------------------------------------------------------------


async def start_quiz(fake: FakeDiscord, user: dict[str, Any]) -> dict[str, Any]:
    token = await run_command(fake, user, "quiz")
    call = await callback_for(fake, token)
    assert call.json["type"] == 4
    assert buttons(call.json["data"]), "the first quiz question has option buttons"
    return fake.messages[fake.interactions[token]["original"]]


async def answer_step(fake: FakeDiscord, user: dict[str, Any], message: dict[str, Any]) -> RecordedCall:
    """Press the first button of the quiz message and return the callback that answered it."""
    token, _ = await press(fake, user, message, buttons(message)[0]["custom_id"])
    return await callback_for(fake, token)


async def test_full_quiz_by_buttons_edits_one_message_and_attaches_the_chart(fake: FakeDiscord, start_bot, brain) -> None:
    await start_bot(brain)
    quiz = await start_quiz(fake, ALICE)
    quiz_id = quiz["id"]
    for _step in range(40):
        call = await answer_step(fake, ALICE, fake.messages[quiz_id])
        assert call.json["type"] == 7, "every step edits the quiz message in place"
        if call.files:
            break
    else:
        pytest.fail("the quiz never produced a result with a chart")
    chart = call.files[0]
    assert chart.filename.endswith(".png") and png_ok(chart.data)
    result = fake.messages[quiz_id]
    assert result["attachments"] and result["embeds"][0]["image"]["url"] == f"attachment://{chart.filename}"
    created = fake.find_calls("POST", MESSAGES) + fake.find_calls("POST", rf"/webhooks/{APP_ID}/[^/]+")
    assert not created, "no new messages: the quiz lives in one message"


async def test_foreign_button_press_gets_ephemeral_not_your_quiz(fake: FakeDiscord, start_bot, brain) -> None:
    await start_bot(brain)
    quiz = await start_quiz(fake, ALICE)
    before = dict(fake.messages[quiz["id"]])
    token, _ = await press(fake, BOB, quiz, buttons(quiz)[0]["custom_id"])
    call = await callback_for(fake, token)
    assert call.json["type"] == 4 and call.json["data"]["flags"] & 64
    text = embed_text(call.json["data"]).lower()
    assert "not your quiz" in text or "belongs to someone else" in text
    assert fake.messages[quiz["id"]]["embeds"] == before["embeds"], "alice's quiz is untouched"


async def test_slow_answer_is_deferred_then_edited(fake: FakeDiscord, start_bot, brain) -> None:
    await start_bot(SlowBrain(brain, delay=0.5), answer_budget=0.05, typing_after=0.05)
    token = await run_command(fake, ALICE, "career", {"question": "What does an AI engineer do all day?"})
    first = await callback_for(fake, token)
    assert first.json["type"] == 5  # deferred "thinking", well inside Discord's 3 s
    assert first.json["data"]["flags"] & 64, "/career answers privately, so it also defers privately"
    edit = await fake.wait_call("PATCH", rf"/webhooks/{APP_ID}/{token}/messages/@original")
    assert embed_text(edit.json) and edit.at > first.at

    # A slow mention shows the typing indicator before the answer.
    await fake.dispatch("MESSAGE_CREATE", fake.message_payload(ALICE, mention("and ML engineers?"), mentions=[BOT_USER]))
    typing = await fake.wait_call("POST", rf"/channels/{CHANNEL_ID}/typing")
    answer = await fake.wait_call("POST", MESSAGES)
    assert typing.at <= answer.at


async def test_slow_quiz_step_defers_as_update_then_edits_in_place(fake: FakeDiscord, start_bot, brain) -> None:
    await start_bot(SlowBrain(brain, delay=0.3), answer_budget=0.05)
    start = await run_command(fake, ALICE, "quiz")
    assert (await callback_for(fake, start)).json["type"] == 5
    edit = await fake.wait_call("PATCH", rf"/webhooks/{APP_ID}/{start}/messages/@original")
    assert buttons(edit.json), "the deferred /quiz got its first question by editing the original"
    quiz = fake.messages[fake.interactions[start]["original"]]
    token, _ = await press(fake, ALICE, quiz, buttons(quiz)[0]["custom_id"])
    first = await callback_for(fake, token)
    assert first.json["type"] == 6  # deferred update of the pressed message
    await fake.wait_call("PATCH", rf"/webhooks/{APP_ID}/{token}/messages/@original")


async def test_private_career_answer_is_ephemeral(fake: FakeDiscord, start_bot, brain) -> None:
    await start_bot(brain)
    token = await run_command(fake, ALICE, "career", {"question": "Is AI engineering for me?", "private": True})
    call = await callback_for(fake, token)
    assert call.json["type"] == 4 and call.json["data"]["flags"] & 64


# --- platform trouble --------------------------------------------------------------------------


async def test_429_retry_after_is_honoured(fake: FakeDiscord, start_bot, brain) -> None:
    await start_bot(brain)
    fake.rate_limit("POST", MESSAGES, retry_after=0.3)
    await fake.dispatch("MESSAGE_CREATE", fake.message_payload(ALICE, mention("rate limit me"), mentions=[BOT_USER]))
    ok = await fake.wait_call("POST", MESSAGES)
    limited = fake.find_calls("POST", MESSAGES, status=429)
    assert len(limited) == 1
    assert ok.at - limited[0].at >= 0.3 * 0.9  # waited at least Retry-After before retrying
    assert ok.json["embeds"] == limited[0].json["embeds"]


async def test_gateway_disconnect_and_resume_mid_quiz_loses_nothing(fake: FakeDiscord, start_bot, brain) -> None:
    await start_bot(brain)
    quiz = await start_quiz(fake, ALICE)
    step1 = await answer_step(fake, ALICE, fake.messages[quiz["id"]])
    assert step1.json["type"] == 7
    session = fake.session_id

    fake.resume_gate = asyncio.Event()  # hold the RESUME so the press is surely missed live
    await fake.disconnect(code=4000)
    after_disconnect = fake.messages[quiz["id"]]
    token, _ = await press(fake, ALICE, after_disconnect, buttons(after_disconnect)[0]["custom_id"])
    await fake.until(lambda: len(fake.connections) == 2, what="reconnect")
    fake.resume_gate.set()

    resumed = await callback_for(fake, token)
    assert resumed.json["type"] == 7, "the press sent during the outage was replayed and answered"
    assert fake.replayed >= 1
    resume = fake.ops_received(6)
    assert resume and resume[0]["d"]["session_id"] == session
    assert fake.connections[1].path.startswith("/resume"), "resumed at READY's resume_gateway_url"
    assert len(fake.ops_received(2)) == 1, "no second IDENTIFY: the session was resumed"

    for _step in range(40):
        call = await answer_step(fake, ALICE, fake.messages[quiz["id"]])
        if call.files:
            break
    else:
        pytest.fail("the quiz did not finish after the resume")
    assert png_ok(call.files[0].data)


# --- restarts, redelivery, startup errors ------------------------------------------------------


async def test_buttons_keep_working_after_a_restart(fake: FakeDiscord, start_bot, brain) -> None:
    first = await start_bot(brain)
    quiz = await start_quiz(fake, ALICE)
    assert (await answer_step(fake, ALICE, fake.messages[quiz["id"]])).json["type"] == 7
    await first.close()

    await start_bot(brain)  # a new process: no view objects, only the store and the custom_ids
    call = await answer_step(fake, ALICE, fake.messages[quiz["id"]])
    assert call.json["type"] == 7


async def test_a_redelivered_message_is_answered_once(fake: FakeDiscord, start_bot, brain) -> None:
    recording = Recording(brain)
    await start_bot(recording)
    question = fake.message_payload(ALICE, mention("once please"), mentions=[BOT_USER])
    await fake.dispatch("MESSAGE_CREATE", question)
    await fake.dispatch("MESSAGE_CREATE", question)
    marker = fake.message_payload(ALICE, mention("marker"), mentions=[BOT_USER])
    await fake.dispatch("MESSAGE_CREATE", marker)
    await fake.until(lambda: len(fake.find_calls("POST", MESSAGES)) >= 2, what="both answers")
    refs = [c.json["message_reference"]["message_id"] for c in fake.find_calls("POST", MESSAGES)]
    assert sorted(refs) == sorted([int(question["id"]), int(marker["id"])])
    assert [i.text for i in recording.inbounds].count("once please") == 1


async def test_rejected_token_is_a_config_error(fake: FakeDiscord, discord_store, brain) -> None:
    from adapters.discord import run_discord
    from bot.config import ConfigError, Settings

    settings = Settings(discord_token="wrong", discord_api_base_url=fake.api_base, discord_gateway_url=fake.gateway_url)
    with pytest.raises(ConfigError, match="DISCORD_TOKEN"):
        await asyncio.wait_for(run_discord(settings, brain, discord_store), timeout=10)


# --- privacy -----------------------------------------------------------------------------------


class PrivateAfterAWhile:
    """A brain whose reply to a publicly deferred command turns out private (as a rate-limit note is)."""

    def __init__(self, delay: float) -> None:
        self.delay = delay

    async def handle(self, inbound: Inbound) -> Reply:
        await asyncio.sleep(self.delay)
        return Reply(text="Only you should see this note.", intent="rate_limited", ephemeral=True)


async def test_slow_reply_that_turns_out_private_never_lands_in_the_public_note(fake: FakeDiscord, start_bot) -> None:
    await start_bot(PrivateAfterAWhile(0.3), answer_budget=0.05)
    token = await run_command(fake, ALICE, "plan", {"profile": "backend developer, wants to build LLM apps"})
    first = await callback_for(fake, token)
    assert first.json["type"] == 5 and not (first.json.get("data") or {}).get("flags", 0) & 64
    followup = await fake.wait_call("POST", rf"/webhooks/{APP_ID}/{token}$")
    assert followup.json["flags"] & 64, "the private answer is an ephemeral follow-up"
    assert fake.find_calls("DELETE", ORIGINAL), "the public thinking note was deleted"
    edits = fake.find_calls("PATCH", ORIGINAL)
    assert not any("Only you" in str(call.json) for call in edits), "the public note never held the answer"
