"""`app_mention` and `message` events: acknowledge at once, answer in a background job.

Why two listeners: a mention in a channel arrives as `app_mention`; DMs and follow-ups in a thread
the bot already answers arrive only as `message` (message.im / message.channels). Both share the
message's dedupe key, so a mention that also comes as a `message` is answered once.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from adapters.slack.flow import SlackBot
from adapters.slack.guard import event_key, is_ignorable_message
from adapters.slack.parse import event_inbound, is_dm, mentions
from bot.messages import Kind

__all__ = ["register"]


def register(app: AsyncApp, bot: SlackBot) -> None:
    async def on_app_mention(ack: AsyncAck, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext) -> None:
        await ack()
        bot_user = context.bot_user_id
        if is_ignorable_message(event, bot_user):
            return
        if not bot.policy.allows(event.get("channel"), event.get("user"), event.get("channel_type")):
            return
        kind = Kind.DM if is_dm(event.get("channel"), event.get("channel_type")) else Kind.MENTION
        inbound = event_inbound(event, team=body.get("team_id"), bot_user_id=bot_user, kind=kind)
        _start(bot, inbound, event_key(body.get("team_id"), event), thread_ts=inbound.thread)

    async def on_message(ack: AsyncAck, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext) -> None:
        await ack()
        bot_user = context.bot_user_id
        if is_ignorable_message(event, bot_user):
            return
        channel, channel_type = event.get("channel"), event.get("channel_type")
        team = body.get("team_id")
        if is_dm(channel, channel_type):
            inbound = event_inbound(event, team=team, bot_user_id=bot_user, kind=Kind.DM)
            # A DM in a thread is answered in that thread; a plain DM at the top level.
            _start(bot, inbound, event_key(team, event), thread_ts=event.get("thread_ts"))
            return
        thread_ts = event.get("thread_ts")
        if not thread_ts or thread_ts == event.get("ts") or mentions(event.get("text") or "", bot_user):
            return  # not a thread reply, or a mention that app_mention handles
        if not bot.policy.allows(channel, event.get("user"), channel_type):
            return
        inbound = event_inbound(event, team=team, bot_user_id=bot_user, kind=Kind.MENTION)
        if not bot.has_conversation(inbound):
            return  # people talking in a thread the bot is not part of
        _start(bot, inbound, event_key(team, event), thread_ts=thread_ts)

    app.event("app_mention")(on_app_mention)
    app.event("message")(on_message)


def _start(bot: SlackBot, inbound: Any, key: str | None, *, thread_ts: str | None) -> None:
    if not bot.dedupe.claim(key):
        bot.logger.info("slack event %s already handled; ignoring the redelivery", key)
        return
    bot.jobs.spawn(bot.answer_message(inbound, key, thread_ts=thread_ts), name=f"slack-message:{key}")
