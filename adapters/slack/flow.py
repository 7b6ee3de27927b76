"""The work done after the ack: ask the brain, render, deliver; one answer per claimed event.

Listeners only acknowledge and decide *whether* to answer; this module decides *where* the answer
goes (thread, DM, ephemeral, in place), following Slack's rules, and never holds career logic.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Protocol

from slack_sdk.errors import SlackApiError

from adapters.slack.deliver import Outbox
from adapters.slack.guard import ChannelPolicy, Dedupe
from adapters.slack.jobs import BackgroundJobs
from adapters.slack.render import owner_of_block, render_reply, thinking_message
from bot.messages import Inbound, Reply
from bot.store.base import Store

__all__ = ["BrainLike", "SlackBot"]

_FAILED = Reply(
    text="Sorry, something went wrong while I was answering. Please try again in a moment.",
    intent="error",
    ephemeral=True,
)
# chat.postMessage errors meaning "the bot cannot speak here", where response_url still works.
_CANNOT_POST = frozenset({"not_in_channel", "channel_not_found", "is_archived", "restricted_action"})


class BrainLike(Protocol):
    """What the adapter needs from `bot.brain.Brain`."""

    async def handle(self, inbound: Inbound) -> Reply: ...


@dataclass
class SlackBot:
    """Everything the listeners share, passed in once by `build_slack_app`."""

    brain: BrainLike
    store: Store
    policy: ChannelPolicy
    dedupe: Dedupe
    outbox: Outbox
    jobs: BackgroundJobs
    logger: logging.Logger
    thinking_delay: float = 1.0
    """Seconds before a "thinking" placeholder is posted; fast answers skip it (and its chat.update)."""

    async def ask(self, inbound: Inbound) -> Reply:
        """The brain's reply, or a short apology if it failed: a crash must not go silent."""
        try:
            return await self.brain.handle(inbound)
        except Exception:
            self.logger.exception("brain failed on slack %s from %s in %s", inbound.kind, inbound.user, inbound.channel)
            return _FAILED

    def has_conversation(self, inbound: Inbound) -> bool:
        """True if the bot already talks in this thread (the brain keeps its turns in the store)."""
        try:
            return bool(self.store.recent_turns(inbound.conversation_key, limit=1))
        except Exception:
            self.logger.exception("could not read conversation %s", inbound.conversation_key)
            return False

    # --- mentions, DMs and thread follow-ups ---------------------------------------------------

    async def answer_message(self, inbound: Inbound, key: str | None, *, thread_ts: str | None) -> None:
        """Answer a message event in its thread, with a placeholder if the brain is slow."""
        channel = inbound.channel
        try:
            task = asyncio.ensure_future(self.ask(inbound))
            placeholder: str | None = None
            try:
                reply = await asyncio.wait_for(asyncio.shield(task), self.thinking_delay)
            except TimeoutError:
                placeholder = await self._thinking(channel, thread_ts)
                reply = await task
            if reply.ephemeral:
                if placeholder:
                    await self.outbox.delete(channel, placeholder)
                await self.outbox.ephemeral(channel, inbound.user, render_reply(reply), thread_ts=thread_ts)
                await self._upload_private(inbound.user, reply)
            else:
                messages = render_reply(reply, owner=inbound.user)
                await self.outbox.post(channel, messages, thread_ts=thread_ts, placeholder_ts=placeholder)
                if reply.attachments:
                    await self.outbox.upload(channel, reply.attachments, thread_ts=thread_ts)
        finally:
            self.dedupe.complete(key)

    async def _thinking(self, channel: str, thread_ts: str | None) -> str | None:
        try:
            return await self.outbox.thinking(channel, thread_ts=thread_ts)
        except SlackApiError as err:
            self.logger.warning("thinking indicator failed in %s: %s", channel, err.response.get("error"))
            return None

    async def _upload_private(self, user: str, reply: Reply) -> None:
        """Files of a private reply go to the user's DM: Slack has no ephemeral files."""
        if not reply.attachments:
            return
        dm = await self.outbox.open_dm(user)
        if dm:
            await self.outbox.upload(dm, reply.attachments, thread_ts=None)

    # --- slash commands ------------------------------------------------------------------------

    async def answer_command(self, inbound: Inbound, key: str | None, body: dict[str, Any]) -> None:
        """Ephemeral replies through response_url; public ones as the bot, response_url as fallback.

        A slow answer first shows a private "thinking" note through response_url; a private answer
        then replaces it, a public one deletes it once posted.
        """
        response_url = body.get("response_url") or ""
        try:
            task = asyncio.ensure_future(self.ask(inbound))
            thinking = False
            try:
                reply = await asyncio.wait_for(asyncio.shield(task), self.thinking_delay)
            except TimeoutError:
                thinking = await self._thinking_private(response_url)
                reply = await task
            messages = render_reply(reply, owner=inbound.user)
            if reply.ephemeral and response_url:
                await self.outbox.respond(response_url, messages, ephemeral=True, replace=thinking)
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
                await self._upload_private(inbound.user, reply)
                return
            if thinking:
                await self.outbox.delete_original(response_url)
            if reply.attachments:
                await self.outbox.upload(inbound.channel, reply.attachments, thread_ts=ts)
        finally:
            self.dedupe.complete(key)

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
        self, inbound: Inbound, key: str | None, body: dict[str, Any], action: dict[str, Any]
    ) -> None:
        """Forward the press; replace the message in place only for the person it was rendered for."""
        container = body.get("container") or {}
        response_url = body.get("response_url") or ""
        message_ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
        is_ephemeral = bool(container.get("is_ephemeral"))
        owner = owner_of_block(action.get("block_id"))
        try:
            reply = await self.ask(inbound)
            own_message = owner is None or owner == inbound.user
            messages = render_reply(reply, owner=inbound.user)
            if reply.replace and own_message and (is_ephemeral or not message_ts):
                await self.outbox.respond(response_url, messages, ephemeral=True, replace=True)
                await self._upload_private(inbound.user, reply)
            elif reply.replace and own_message and message_ts:
                await self.outbox.update(inbound.channel, message_ts, messages, thread_ts=inbound.thread)
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
                await self._upload_private(inbound.user, reply)
            else:
                await self.outbox.post(inbound.channel, messages, thread_ts=inbound.thread)
                if reply.attachments:
                    await self.outbox.upload(inbound.channel, reply.attachments, thread_ts=inbound.thread)
        finally:
            self.dedupe.complete(key)
