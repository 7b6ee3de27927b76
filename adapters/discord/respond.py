"""Ask the brain and deliver its `Reply` under Discord's rules (deadlines, deferrals, typing, inbox).

Why one class: messages, slash commands and button presses all share the same steps (record the
event in the durable inbox so a redelivery or a second shard never answers twice and a stopped or
crashed worker's event is resumed, call the brain without letting one failure kill the client,
render, send, record each send as a step) but differ in how Discord wants the answer delivered.
The brain decides what to say; this only decides how it reaches Discord in time.

Privacy: an interaction deferred publicly whose reply turns out private never puts the private
text in the public "thinking" message: the public one is deleted and the answer goes as an
ephemeral follow-up.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import discord

from adapters.discord.render import Outgoing, conversation_footer, files_for, render_reply
from bot.inbox import Delivery, InboxWorker, uninterrupted
from bot.messages import Inbound, Kind, Reply
from bot.store.base import InboxItem, Store

__all__ = ["BrainLike", "Responder"]

_log = logging.getLogger(__name__)

BrainLike = Callable[[Inbound], Awaitable[Reply]]
PLATFORM = "discord"
_INTERACTION_TOKEN_SECONDS = 14 * 60  # Discord accepts follow-ups for 15 minutes
_SORRY = Reply(
    text="Sorry, something went wrong on my side while answering. Please try again in a moment.",
    intent="error",
    ephemeral=True,
)


class Responder:
    """Runs one event through the brain and back to Discord.

    Args:
        handle: the brain's `handle` coroutine function.
        store: holds the inbox (deduplication, resume after a crash or a drain).
        answer_budget: seconds to wait for the brain before deferring an interaction. Discord
            drops interactions not acknowledged within 3 s; 1.5 s leaves room for the round trip,
            and fast answers skip the extra "thinking…" request.
        typing_after: seconds before the typing indicator starts for a mention or DM; quick answers
            need none, and skipping it halves the REST calls (and rate-limit budget) per message.
    """

    def __init__(
        self,
        handle: BrainLike,
        store: Store,
        *,
        answer_budget: float = 1.5,
        typing_after: float = 0.4,
        inbox: InboxWorker | None = None,
    ) -> None:
        self._handle = handle
        self._store = store
        self.answer_budget = answer_budget
        self.typing_after = typing_after
        self.inbox = inbox or InboxWorker(store, platforms=(PLATFORM,))
        self.inbox.resume = self.resume
        self.client: discord.Client | None = None  # set by the bot; resumed answers send through it

    # --- the brain ------------------------------------------------------------------------------
    async def ask(self, inbound: Inbound) -> Reply:
        """The brain's reply, or a short apology: a brain bug must never take the client down."""
        try:
            reply = await self._handle(inbound)
        except Exception:
            _log.exception("brain failed on %s event %s", inbound.kind, inbound.message_id)
            return _SORRY
        if not isinstance(reply, Reply):
            _log.error("brain returned %r instead of a Reply", type(reply).__name__)
            return _SORRY
        return reply

    def _accept(self, key: str, inbound: Inbound, payload: dict[str, Any],
                work: Callable[[Delivery], Awaitable[None]]) -> asyncio.Task[None] | None:
        """Record the event in the inbox and answer it in a background task (tracked for the drain)."""
        item = InboxItem(key=key, platform=PLATFORM, user_key=inbound.user_key,
                         conversation_key=inbound.conversation_key,
                         payload={**payload, "inbound": _inbound_dict(inbound)}, steps={})
        self.inbox.start(item, work, recorded=self.inbox.record(item))
        return self.inbox.task(key)

    def resume(self, item: InboxItem) -> Callable[[Delivery], Awaitable[None]] | None:
        """The answer for a row another worker (or an earlier run) left unfinished, or None."""
        client = self.client
        payload = item.payload
        if client is None or "inbound" not in payload:
            return None
        inbound = _inbound_from(payload["inbound"])
        if payload.get("type") == "message":
            channel = client.get_partial_messageable(int(payload["channel_id"]))
            reference = None
            if payload.get("reference"):
                reference = discord.MessageReference(
                    message_id=int(payload["message_id"]), channel_id=int(payload["channel_id"]),
                    guild_id=int(payload["guild_id"]) if payload.get("guild_id") else None,
                    fail_if_not_exists=False)

            async def message(delivery: Delivery) -> None:
                thread = delivery.steps.get("thread")
                target = client.get_partial_messageable(int(thread)) if thread else channel
                reply = await self.ask(inbound)
                await self._send_message(delivery, target, reply, reference=None if thread else reference,
                                         footer=payload.get("footer"))
            return message
        if payload.get("type") == "interaction":
            age = time.time() - float(payload.get("received_at") or 0)
            if not delivery_possible(item.steps) or age > _INTERACTION_TOKEN_SECONDS:
                _log.warning("interaction %s can no longer be answered (not deferred, or token expired)", item.key)
                return None
            webhook = discord.Webhook.partial(int(payload["application_id"]), payload["token"], client=client)

            async def interaction(delivery: Delivery) -> None:
                reply = await self.ask(inbound)
                await self._deliver_webhook(delivery, webhook, reply, component=bool(payload.get("component")),
                                            force_ephemeral=bool(payload.get("force_ephemeral")),
                                            public_defer=bool(payload.get("public_defer")))
            return interaction
        return None

    # --- messages (mentions, replies, DMs) -------------------------------------------------------
    async def _with_typing(self, channel: discord.abc.Messageable, task: asyncio.Task[Reply]) -> Reply:
        done, _ = await asyncio.wait({task}, timeout=self.typing_after)
        if done:
            return task.result()
        typing = channel.typing()
        try:
            await typing.__aenter__()
        except (discord.HTTPException, OSError, AttributeError):
            return await task
        try:
            return await task
        finally:
            try:
                await typing.__aexit__(None, None, None)
            except Exception:  # the indicator is cosmetic
                _log.debug("typing indicator did not stop cleanly", exc_info=True)

    async def answer_message(
        self, message: discord.Message, inbound: Inbound, *, reply_mode: str = "reply"
    ) -> asyncio.Task[None] | None:
        """Answer a mention or DM: typing while slow, then a reply (or a new thread) with the answer.

        Returns the background task (tests await it); the event is recorded before any work.
        """
        key = f"discord:message:{message.id}"
        reference: discord.MessageReference | None = message.to_reference(fail_if_not_exists=False)
        footer: str | None = None
        in_guild_channel = message.guild is not None and not isinstance(message.channel, discord.Thread)
        open_thread = in_guild_channel and reply_mode == "thread" and hasattr(message, "create_thread")
        if in_guild_channel and not open_thread and inbound.thread:
            footer = conversation_footer(inbound.thread)
        if message.guild is None:
            reference = None  # in a DM the context is obvious; a reply quote is noise
        payload = {"type": "message", "channel_id": str(message.channel.id), "message_id": str(message.id),
                   "guild_id": str(message.guild.id) if message.guild else None,
                   "reference": reference is not None, "footer": footer}

        async def work(delivery: Delivery) -> None:
            task = asyncio.create_task(self.ask(inbound))
            try:
                reply = await self._with_typing(message.channel, task)
            except asyncio.CancelledError:
                task.cancel()
                raise
            target: discord.abc.Messageable = message.channel
            ref = reference
            if open_thread:
                try:
                    name = (inbound.text or "Career question").splitlines()[0][:90] or "Career question"
                    thread = await message.create_thread(name=name, auto_archive_duration=1440)
                    await delivery.record("thread", str(thread.id))
                    target, ref = thread, None
                except discord.HTTPException as exc:
                    _log.warning("could not open a thread (%s); replying inline", exc.status)
            await uninterrupted(self._send_message(delivery, target, reply, reference=ref, footer=footer))

        return self._accept(key, inbound, payload, work)

    async def _send_message(self, delivery: Delivery, target: discord.abc.Messageable, reply: Reply, *,
                            reference: discord.MessageReference | None, footer: str | None) -> None:
        """Send the answer's parts in order, skipping parts an earlier attempt already sent."""
        sent: list[str] = list(delivery.steps.get("parts") or [])
        outgoing = render_reply(reply, footer=footer)
        for i, out in enumerate(outgoing):
            if i < len(sent):
                continue
            kwargs = out.send_kwargs()
            if out.attachments:
                kwargs["files"] = files_for(out.attachments)
            if i == 0 and reference is not None:
                kwargs["reference"] = reference
            try:
                msg = await target.send(**kwargs)  # type: ignore[arg-type]
            except discord.HTTPException as exc:
                if exc.status in (403, 404):  # the channel is gone or closed to the bot: retrying will not help
                    _log.error("could not send answer to %s: %s %s", getattr(target, "id", "?"), exc.status, exc.text)
                    return
                raise
            sent.append(str(msg.id))
            # After the last part the inbox's finish (one write) is the durable mark.
            await delivery.record("parts", list(sent), durable=i < len(outgoing) - 1)

    # --- interactions (slash commands, buttons) --------------------------------------------------
    async def answer_interaction(
        self,
        interaction: discord.Interaction,
        inbound: Inbound,
        *,
        component: bool,
        defer_ephemeral: bool = False,
        force_ephemeral: bool = False,
    ) -> asyncio.Task[None] | None:
        """Answer within Discord's 3 seconds: directly if the brain is quick, else defer then edit.

        Components defer as "update message" (type 6): that allows both editing the pressed
        message in place (`Reply.replace`, the quiz) and a follow-up (ephemeral or not) once the
        reply is known. Commands defer as "thinking" with the visibility chosen up front; a reply
        that turns out private after a public deferral replaces the public note with an ephemeral
        follow-up (see the module doc).
        """
        key = f"discord:interaction:{interaction.id}"
        received = time.monotonic()
        public_defer = not component and not (defer_ephemeral or force_ephemeral)
        payload = {"type": "interaction", "application_id": str(interaction.application_id),
                   "token": interaction.token, "component": component, "force_ephemeral": force_ephemeral,
                   "public_defer": public_defer, "received_at": time.time()}

        async def work(delivery: Delivery) -> None:
            task = asyncio.create_task(self.ask(inbound))
            budget = max(0.0, self.answer_budget - (time.monotonic() - received))
            done, _ = await asyncio.wait({task}, timeout=budget)
            deferred = False
            if not done:
                try:
                    if component:
                        await interaction.response.defer()
                    else:
                        await interaction.response.defer(thinking=True, ephemeral=not public_defer)
                    deferred = True
                    await delivery.record("deferred", True)
                except discord.HTTPException as exc:
                    _log.warning("could not defer interaction %s: %s", interaction.id, exc.status)
            try:
                reply = await task
            except asyncio.CancelledError:
                task.cancel()
                if deferred and not component:
                    # Handed back: the resumer answers with a follow-up, so the "thinking" note goes.
                    await _quietly(interaction.delete_original_response())
                    await delivery.record("original_deleted", True)
                raise
            try:
                await uninterrupted(self._deliver(interaction, reply, component=component, deferred=deferred,
                                                  force_ephemeral=force_ephemeral, public_defer=public_defer))
            except discord.NotFound:
                _log.warning("interaction %s expired before the answer was ready", interaction.id)
                return
            await delivery.record("answer", True, durable=False)  # the finish that follows is the mark

        return self._accept(key, inbound, payload, work)

    async def _deliver(
        self,
        interaction: discord.Interaction,
        reply: Reply,
        *,
        component: bool,
        deferred: bool,
        force_ephemeral: bool,
        public_defer: bool = False,
    ) -> None:
        outgoing: Sequence[Outgoing] = render_reply(reply)
        first, rest = outgoing[0], outgoing[1:]
        ephemeral = reply.ephemeral or force_ephemeral
        edit = component and reply.replace
        if edit:
            kwargs = first.send_kwargs()
            kwargs["view"] = first.view  # None removes the old buttons
            kwargs["attachments"] = files_for(first.attachments)  # [] removes an old chart
            if deferred:
                await interaction.edit_original_response(**kwargs)  # type: ignore[arg-type]
            else:
                await interaction.response.edit_message(**kwargs)  # type: ignore[arg-type]
        elif deferred and not component and ephemeral and public_defer:
            # The "thinking" note is public: never turn it into the private answer.
            await _quietly(interaction.delete_original_response())
            await self._followup(interaction, first, True)
        elif deferred and not component:
            kwargs = first.send_kwargs()
            kwargs["attachments"] = files_for(first.attachments)
            await interaction.edit_original_response(**kwargs)  # type: ignore[arg-type]
        elif deferred:
            await self._followup(interaction, first, ephemeral)
        else:
            kwargs = first.send_kwargs()
            if first.attachments:
                kwargs["files"] = files_for(first.attachments)
            await interaction.response.send_message(ephemeral=ephemeral, **kwargs)  # type: ignore[arg-type]
        for out in rest:
            await self._followup(interaction, out, ephemeral)

    async def _deliver_webhook(self, delivery: Delivery, webhook: discord.Webhook, reply: Reply, *,
                               component: bool, force_ephemeral: bool, public_defer: bool) -> None:
        """A resumed interaction answer: the deferral happened in an earlier attempt; follow up."""
        if delivery.steps.get("answer"):
            return
        outgoing = render_reply(reply)
        ephemeral = reply.ephemeral or force_ephemeral
        first, rest = outgoing[0], outgoing[1:]
        original_gone = bool(delivery.steps.get("original_deleted"))
        if not component and not original_gone and not (ephemeral and public_defer):
            kwargs = first.send_kwargs()
            kwargs["attachments"] = files_for(first.attachments)
            await webhook.edit_message("@original", **kwargs)  # type: ignore[arg-type]
        else:
            if not component and not original_gone:
                await _quietly(webhook.delete_message("@original"))
            rest = [first, *rest]
        for out in rest:
            kwargs = out.send_kwargs()
            if out.attachments:
                kwargs["files"] = files_for(out.attachments)
            await webhook.send(ephemeral=ephemeral, wait=True, **kwargs)  # type: ignore[arg-type]
        await delivery.record("answer", True, durable=False)  # the finish that follows is the mark

    @staticmethod
    async def _followup(interaction: discord.Interaction, out: Outgoing, ephemeral: bool) -> None:
        kwargs = out.send_kwargs()
        if out.attachments:
            kwargs["files"] = files_for(out.attachments)
        await interaction.followup.send(ephemeral=ephemeral, wait=True, **kwargs)  # type: ignore[arg-type]


def delivery_possible(steps: dict[str, Any]) -> bool:
    """A resumed interaction can only be answered through follow-ups, which need a deferral."""
    return bool(steps.get("deferred")) and not steps.get("answer")


async def _quietly(call: Awaitable[Any]) -> None:
    try:
        await call
    except discord.HTTPException as exc:
        _log.warning("cleanup call failed: %s", exc.status)


def _inbound_dict(inbound: Inbound) -> dict[str, Any]:
    data = dataclasses.asdict(inbound)
    data["kind"] = inbound.kind.value
    return data


def _inbound_from(data: dict[str, Any]) -> Inbound:
    return Inbound(**{**data, "kind": Kind(data["kind"])})
