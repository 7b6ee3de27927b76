"""`app_mention` and `message` events: record, acknowledge, answer in the background.

Why two listeners: a mention in a channel arrives as `app_mention`; DMs and follow-ups in a thread
the bot already answers arrive only as `message` (message.im / message.channels). Both share the
message's inbox key, so a mention that also comes as a `message` is answered once. Whether a thread
reply is for the bot needs the store, so that check runs with the answer, after the ack.
"""

from __future__ import annotations

import uuid
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from adapters.slack.flow import SlackBot
from adapters.slack.guard import event_key, is_ignorable_message
from adapters.slack.parse import event_inbound, is_dm, mentions
from bot.messages import Kind

__all__ = ["register"]


def register(app: AsyncApp, bot: SlackBot) -> None:
    async def on_app_mention(ack: AsyncAck, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext) -> None:
        bot_user = context.bot_user_id
        if is_ignorable_message(event, bot_user) or not bot.policy.allows(
            event.get("channel"), event.get("user"), event.get("channel_type")
        ):
            await ack()
            return
        kind = Kind.DM if is_dm(event.get("channel"), event.get("channel_type")) else Kind.MENTION
        await _accept(bot, body, event, bot_user, kind, thread_ts=None, thread_of_inbound=True)
        await ack()

    async def on_message(ack: AsyncAck, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext) -> None:
        bot_user = context.bot_user_id
        if is_ignorable_message(event, bot_user):
            await ack()
            return
        channel, channel_type = event.get("channel"), event.get("channel_type")
        if is_dm(channel, channel_type):
            # A DM in a thread is answered in that thread; a plain DM at the top level.
            await _accept(bot, body, event, bot_user, Kind.DM, thread_ts=event.get("thread_ts"))
            await ack()
            return
        thread_ts = event.get("thread_ts")
        if (not thread_ts or thread_ts == event.get("ts") or mentions(event.get("text") or "", bot_user)
                or not bot.policy.allows(channel, event.get("user"), channel_type)):
            await ack()  # not a thread reply, a mention that app_mention handles, or not allowed here
            return
        await _accept(bot, body, event, bot_user, Kind.MENTION, thread_ts=thread_ts, check_thread=True)
        await ack()

    app.event("app_mention")(on_app_mention)
    app.event("message")(on_message)


async def _accept(bot: SlackBot, body: dict[str, Any], event: dict[str, Any], bot_user: str | None, kind: Kind,
                  *, thread_ts: str | None, check_thread: bool = False, thread_of_inbound: bool = False) -> None:
    team = body.get("team_id")
    inbound = event_inbound(event, team=team, bot_user_id=bot_user, kind=kind)
    if thread_of_inbound:
        thread_ts = inbound.thread
    key = event_key(team, event) or f"slack:{team or '-'}:event:{uuid.uuid4().hex}"
    payload = {"type": "message", "event": event, "team": team, "bot_user": bot_user, "kind": kind.value,
               "thread_ts": thread_ts, "check_thread": check_thread}
    await bot.accept(key, inbound, payload)
