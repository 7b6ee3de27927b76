"""The work done after the ack: ask the brain, render, deliver; one answer per recorded event.

Listeners only record the event and acknowledge it; this module decides *where* the answer goes
(thread, DM, ephemeral, in place), following Slack's rules, and never holds career logic. Every
send is recorded as a step of the event's `Delivery`, so an answer resumed by another worker (or
after a restart) edits the placeholder or skips what was already posted instead of posting twice.
A cancelled answer (a drain that ran out of time) deletes its "thinking" placeholder before the
event is handed back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
from slack_sdk.errors import SlackApiError

from adapters.slack.deliver import Outbox
from adapters.slack.guard import ChannelPolicy
from adapters.slack.parse import action_inbound, command_inbound, event_inbound
from adapters.slack.render import owner_of_block, render_reply, thinking_message
from bot.inbox import Delivery, InboxWorker, uninterrupted
from bot.messages import Inbound, Kind, Reply
from bot.store.base import InboxItem, Store

__all__ = ["BrainLike", "SlackBot"]

_FAILED = Reply(
    text="Sorry, something went wrong while I was answering. Please try again in a moment.",
    intent="error",
    ephemeral=True,
)
# chat.postMessage errors meaning "the bot cannot speak here", where response_url still works.
_CANNOT_POST = frozenset({"not_in_channel", "channel_not_found", "is_archived", "restricted_action"})
PLATFORM = "slack"


class BrainLike(Protocol):
    """What the adapter needs from `bot.brain.Brain`."""

    async def handle(self, inbound: Inbound) -> Reply: ...


@dataclass
class SlackBot:
    """Everything the listeners share, passed in once by `build_slack_app`."""

    brain: BrainLike
    store: Store
    policy: ChannelPolicy
    outbox: Outbox
    inbox: InboxWorker
    logger: logging.Logger
    thinking_delay: float = 1.0
    """Seconds before a "thinking" placeholder is posted; fast answers skip it (and its chat.update)."""
    ack_budget: float = 0.5
    """Seconds a listener waits for the event to be recorded before acking anyway (Slack allows 3;
    the rest is left for a busy event loop and the network)."""
    unrecorded_acks: int = 0
    """Events acked after `ack_budget` before their record committed (benchmarks report it)."""

    # --- recording and resuming ----------------------------------------------------------------

    async def accept(self, key: str, inbound: Inbound, payload: dict[str, Any]) -> None:
        """Record the event, then return so the listener can ack; the answer runs in the background.

        The ack waits for the write at most `ack_budget` seconds: a stalled database must not cost
        Slack's 3-second limit. The answer itself always waits for the write, so a duplicate is
        still recognised once the database answers.
        """
        item = InboxItem(key=key, platform=PLATFORM, user_key=inbound.user_key,
                         conversation_key=inbound.conversation_key, payload=payload, steps={})
        recorded = self.inbox.record(item)
        done, _ = await asyncio.wait({recorded}, timeout=self.ack_budget)
        if not done:
            self.unrecorded_acks += 1
            self.logger.warning("slack event %s acked before the database recorded it (store slow)", key)
        self.inbox.start(item, self.work_for(payload), recorded=recorded)

    def work_for(self, payload: dict[str, Any]) -> Callable[[Delivery], Awaitable[None]]:
        """The answer for a recorded payload (fresh from a listener, or resumed from the store)."""
        kind = payload.get("type")
        if kind == "message":
            inbound = event_inbound(payload["event"], team=payload.get("team"), bot_user_id=payload.get("bot_user"),
                                    kind=Kind(payload.get("kind", Kind.MENTION.value)))

            async def message(delivery: Delivery) -> None:
                if payload.get("check_thread") and not await self.has_conversation(inbound):
                    return  # people talking in a thread the bot is not part of
                await self.answer_message(inbound, delivery, thread_ts=payload.get("thread_ts"))
            return message
        if kind == "command":
            body = payload["body"]
            command = command_inbound(body)
            if command is None:
                raise ValueError("recorded slash command no longer parses")
            return lambda delivery: self.answer_command(command, delivery, body)
        if kind == "action":
            body, action = payload["body"], payload["action"]
            pressed = action_inbound(body, action)
            return lambda delivery: self.answer_action(pressed, delivery, body, action)
        raise ValueError(f"unknown recorded slack payload type {kind!r}")

    def resume(self, item: InboxItem) -> Callable[[Delivery], Awaitable[None]] | None:
        try:
            return self.work_for(item.payload)
        except (KeyError, TypeError, ValueError) as exc:
            self.logger.error("cannot resume slack event %s: %s", item.key, exc)
            return None

    async def ask(self, inbound: Inbound) -> Reply:
        """The brain's reply, or a short apology if it failed: a crash must not go silent."""
        try:
            return await self.brain.handle(inbound)
        except Exception:
            self.logger.exception("brain failed on slack %s from %s in %s", inbound.kind, inbound.user, inbound.channel)
            return _FAILED

    async def has_conversation(self, inbound: Inbound) -> bool:
        """True if the bot already talks in this thread (the brain keeps its turns in the store)."""
        try:
            return bool(await self.inbox.call(self.store.recent_turns, inbound.conversation_key, 1))
        except Exception:
            self.logger.exception("could not read conversation %s", inbound.conversation_key)
            return False

    # --- mentions, DMs and thread follow-ups ---------------------------------------------------

    async def answer_message(self, inbound: Inbound, delivery: Delivery, *, thread_ts: str | None) -> None:
        """Answer a message event in its thread, with a placeholder if the brain is slow."""
        if "answer" in delivery.steps:
            return  # an earlier attempt delivered it; only the finish was missing
        channel = inbound.channel
        placeholder: str | None = delivery.steps.get("placeholder")
        posted: list[str] = list(delivery.steps.get("parts") or [])
        task = asyncio.ensure_future(self.ask(inbound))
        try:
            if placeholder is None and not posted:
                try:
                    reply = await asyncio.wait_for(asyncio.shield(task), self.thinking_delay)
                except TimeoutError:
                    placeholder = await self._thinking(channel, thread_ts)
                    if placeholder:
                        await delivery.record("placeholder", placeholder)
                    reply = await task
            else:
                reply = await task
        except asyncio.CancelledError:
            task.cancel()
            if placeholder and not posted:
                # Handed back: whoever answers it later posts its own placeholder.
                await self.outbox.delete(channel, placeholder)
                await delivery.record("placeholder", None)
            raise
        await uninterrupted(self._send_message(inbound, delivery, reply, thread_ts, placeholder, posted))

    async def _send_message(self, inbound: Inbound, delivery: Delivery, reply: Reply, thread_ts: str | None,
                            placeholder: str | None, posted: list[str]) -> None:
        channel = inbound.channel
        # With nothing to send after the answer, the inbox's finish (one write) is the durable
        # mark that it went out; the answer step is then kept in memory only.
        last = not reply.attachments
        if reply.ephemeral:
            if placeholder:
                await self.outbox.delete(channel, placeholder)
                await delivery.record("placeholder", None)
            await self.outbox.ephemeral(channel, inbound.user, render_reply(reply), thread_ts=thread_ts)
            await delivery.record("answer", "ephemeral", durable=not last)
            await self._upload_private(inbound.user, reply)
            return
        messages = render_reply(reply, owner=inbound.user)

        async def part_posted(ts: str | None) -> None:
            posted.append(ts or "")
            await delivery.record("parts", list(posted), durable=not (last and len(posted) == len(messages)))

        await self.outbox.post(channel, messages, thread_ts=thread_ts, placeholder_ts=placeholder,
                               skip=len(posted), on_posted=part_posted)
        await delivery.record("answer", posted[0] if posted else None, durable=not last)
        if reply.attachments:
            await self.outbox.upload(channel, reply.attachments, thread_ts=thread_ts)

    async def _thinking(self, channel: str, thread_ts: str | None) -> str | None:
        try:
            return await self.outbox.thinking(channel, thread_ts=thread_ts)
        except SlackApiError as err:
            self.logger.warning("thinking indicator failed in %s: %s", channel, err.response.get("error"))
            return None
        except (TimeoutError, OSError, aiohttp.ClientError) as err:  # the answer matters more
            self.logger.warning("thinking indicator failed in %s: %s", channel, type(err).__name__)
            return None

    async def _upload_private(self, user: str, reply: Reply) -> None:
        """Files of a private reply go to the user's DM: Slack has no ephemeral files."""
        if not reply.attachments:
            return
        dm = await self.outbox.open_dm(user)
        if dm:
            await self.outbox.upload(dm, reply.attachments, thread_ts=None)

    # --- slash commands ------------------------------------------------------------------------

    async def answer_command(self, inbound: Inbound, delivery: Delivery, body: dict[str, Any]) -> None:
        """Ephemeral replies through response_url; public ones as the bot, response_url as fallback.

        A slow answer first shows a private "thinking" note through response_url; a private answer
        then replaces it, a public one deletes it once posted.
        """
        if "answer" in delivery.steps:
            return
        response_url = body.get("response_url") or ""
        thinking = bool(delivery.steps.get("thinking"))
        task = asyncio.ensure_future(self.ask(inbound))
        try:
            if not thinking:
                try:
                    reply = await asyncio.wait_for(asyncio.shield(task), self.thinking_delay)
                except TimeoutError:
                    thinking = await self._thinking_private(response_url)
                    if thinking:
                        await delivery.record("thinking", True)
                    reply = await task
            else:
                reply = await task
        except asyncio.CancelledError:
            task.cancel()
            if thinking:
                await self.outbox.delete_original(response_url)
                await delivery.record("thinking", False)
            raise
        await uninterrupted(self._send_command(inbound, delivery, body, reply, thinking))

    async def _send_command(self, inbound: Inbound, delivery: Delivery, body: dict[str, Any], reply: Reply,
                            thinking: bool) -> None:
        response_url = body.get("response_url") or ""
        messages = render_reply(reply, owner=inbound.user)
        if reply.ephemeral and response_url:
            await self.outbox.respond(response_url, messages, ephemeral=True, replace=thinking)
            await delivery.record("answer", "response_url")
            await self._upload_private(inbound.user, reply)
            return
        try:
            ts = await self.outbox.post(inbound.channel, messages)
        except SlackApiError as err:
            if err.response.get("error") not in _CANNOT_POST or not response_url:
                raise
            # Commands work in channels the bot is not in; its own posts do not.
            if thinking:  # before answering: "original" would then be the answer itself
                await self.outbox.delete_original(response_url)
            await self.outbox.respond(response_url, messages, ephemeral=reply.ephemeral)
            await delivery.record("answer", "response_url")
            await self._upload_private(inbound.user, reply)
            return
        await delivery.record("answer", ts)
        if thinking:
            await self.outbox.delete_original(response_url)
        if reply.attachments:
            await self.outbox.upload(inbound.channel, reply.attachments, thread_ts=ts)

    async def _thinking_private(self, response_url: str) -> bool:
        """Show the asker a private "thinking" note; False if there is nowhere to show it."""
        if not response_url:
            return False
        try:
            await self.outbox.respond(response_url, [thinking_message()], ephemeral=True)
        except Exception as err:  # the answer matters more than the indicator
            self.logger.warning("thinking note for a slash command failed: %s", err)
            return False
        return True

    # --- button presses ------------------------------------------------------------------------

    async def answer_action(
        self, inbound: Inbound, delivery: Delivery, body: dict[str, Any], action: dict[str, Any]
    ) -> None:
        """Forward the press; replace the message in place only for the person it was rendered for."""
        if "answer" in delivery.steps:
            return
        reply = await self.ask(inbound)
        await uninterrupted(self._send_action(inbound, delivery, reply, body, action))

    async def _send_action(self, inbound: Inbound, delivery: Delivery, reply: Reply, body: dict[str, Any],
                           action: dict[str, Any]) -> None:
        container = body.get("container") or {}
        response_url = body.get("response_url") or ""
        message_ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
        is_ephemeral = bool(container.get("is_ephemeral"))
        owner = owner_of_block(action.get("block_id"))
        own_message = owner is None or owner == inbound.user
        messages = render_reply(reply, owner=inbound.user)
        if reply.replace and own_message and (is_ephemeral or not message_ts):
            await self.outbox.respond(response_url, messages, ephemeral=True, replace=True)
            await delivery.record("answer", "response_url")
            await self._upload_private(inbound.user, reply)
        elif reply.replace and own_message and message_ts:
            await self.outbox.update(inbound.channel, message_ts, messages, thread_ts=inbound.thread)
            await delivery.record("answer", message_ts)
            if reply.attachments:
                await self.outbox.upload(
                    inbound.channel, reply.attachments, thread_ts=inbound.thread or message_ts
                )
        elif reply.ephemeral or reply.replace:
            # Someone else's quiz buttons, or a private note ("thanks for the feedback").
            if response_url:
                await self.outbox.respond(response_url, messages, ephemeral=True)
            else:
                await self.outbox.ephemeral(inbound.channel, inbound.user, messages, thread_ts=inbound.thread)
            await delivery.record("answer", "ephemeral")
            await self._upload_private(inbound.user, reply)
        else:
            ts = await self.outbox.post(inbound.channel, messages, thread_ts=inbound.thread)
            await delivery.record("answer", ts)
            if reply.attachments:
                await self.outbox.upload(inbound.channel, reply.attachments, thread_ts=inbound.thread)
