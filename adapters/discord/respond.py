"""Ask the brain and deliver its `Reply` under Discord's rules (deadlines, deferrals, typing, dedupe).

Why one class: messages, slash commands and button presses all share the same steps (claim the
event so a redelivery or a second shard never answers twice, call the brain without letting one
failure kill the client, render, send) but differ in how Discord wants the answer delivered. The
brain decides what to say; this only decides how it reaches Discord in time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

import discord

from adapters.discord.render import Outgoing, conversation_footer, files_for, render_reply
from bot.messages import Inbound, Reply
from bot.store.base import Store

__all__ = ["BrainLike", "Responder"]

_log = logging.getLogger(__name__)

BrainLike = Callable[[Inbound], Awaitable[Reply]]
_SORRY = Reply(
    text="Sorry, something went wrong on my side while answering. Please try again in a moment.",
    intent="error",
    ephemeral=True,
)


class Responder:
    """Runs one event through the brain and back to Discord.

    Args:
        handle: the brain's `handle` coroutine function.
        store: used only for event deduplication (`claim_event`/`complete_event`).
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
    ) -> None:
        self._handle = handle
        self._store = store
        self.answer_budget = answer_budget
        self.typing_after = typing_after

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

    def claim(self, key: str) -> bool:
        """True when this process should handle the event now (first delivery, or a stale claim)."""
        try:
            return self._store.claim_event(key)
        except Exception:
            # Better to risk a duplicate answer than to drop the user's message.
            _log.exception("claim_event failed for %s; handling anyway", key)
            return True

    def complete(self, key: str) -> None:
        try:
            self._store.complete_event(key)
        except Exception:
            _log.exception("complete_event failed for %s", key)

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
    ) -> list[discord.Message]:
        """Answer a mention or DM: typing while slow, then a reply (or a new thread) with the answer."""
        key = f"discord:message:{message.id}"
        if not self.claim(key):
            _log.debug("message %s already handled", message.id)
            return []
        task = asyncio.create_task(self.ask(inbound))
        reply = await self._with_typing(message.channel, task)

        target: discord.abc.Messageable = message.channel
        reference: discord.MessageReference | None = message.to_reference(fail_if_not_exists=False)
        footer: str | None = None
        in_guild_channel = message.guild is not None and not isinstance(message.channel, discord.Thread)
        if in_guild_channel and reply_mode == "thread" and hasattr(message, "create_thread"):
            try:
                name = (inbound.text or "Career question").splitlines()[0][:90] or "Career question"
                target = await message.create_thread(name=name, auto_archive_duration=1440)
                reference = None
            except discord.HTTPException as exc:
                _log.warning("could not open a thread (%s); replying inline", exc.status)
        elif in_guild_channel and inbound.thread:
            footer = conversation_footer(inbound.thread)
        if message.guild is None:
            reference = None  # in a DM the context is obvious; a reply quote is noise

        sent: list[discord.Message] = []
        for i, out in enumerate(render_reply(reply, footer=footer)):
            kwargs = out.send_kwargs()
            if out.attachments:
                kwargs["files"] = files_for(out.attachments)
            if i == 0 and reference is not None:
                kwargs["reference"] = reference
            try:
                sent.append(await target.send(**kwargs))  # type: ignore[arg-type]
            except discord.HTTPException as exc:
                _log.error("could not send answer to %s: %s %s", message.channel.id, exc.status, exc.text)
                return sent
        self.complete(key)
        return sent

    # --- interactions (slash commands, buttons) --------------------------------------------------
    async def answer_interaction(
        self,
        interaction: discord.Interaction,
        inbound: Inbound,
        *,
        component: bool,
        defer_ephemeral: bool = False,
        force_ephemeral: bool = False,
    ) -> None:
        """Answer within Discord's 3 seconds: directly if the brain is quick, else defer then edit.

        Components defer as "update message" (type 6): that allows both editing the pressed
        message in place (`Reply.replace`, the quiz) and a follow-up (ephemeral or not) once the
        reply is known. Commands defer as "thinking" with the visibility chosen up front.
        """
        key = f"discord:interaction:{interaction.id}"
        if not self.claim(key):
            return
        task = asyncio.create_task(self.ask(inbound))
        done, _ = await asyncio.wait({task}, timeout=self.answer_budget)
        deferred = False
        if not done:
            try:
                if component:
                    await interaction.response.defer()
                else:
                    await interaction.response.defer(thinking=True, ephemeral=defer_ephemeral or force_ephemeral)
                deferred = True
            except discord.HTTPException as exc:
                _log.warning("could not defer interaction %s: %s", interaction.id, exc.status)
        reply = await task
        try:
            await self._deliver(interaction, reply, component=component, deferred=deferred, force_ephemeral=force_ephemeral)
        except discord.NotFound:
            _log.warning("interaction %s expired before the answer was ready", interaction.id)
            return
        except discord.HTTPException as exc:
            _log.error("could not answer interaction %s: %s %s", interaction.id, exc.status, exc.text)
            return
        self.complete(key)

    async def _deliver(
        self,
        interaction: discord.Interaction,
        reply: Reply,
        *,
        component: bool,
        deferred: bool,
        force_ephemeral: bool,
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

    @staticmethod
    async def _followup(interaction: discord.Interaction, out: Outgoing, ephemeral: bool) -> None:
        kwargs = out.send_kwargs()
        if out.attachments:
            kwargs["files"] = files_for(out.attachments)
        await interaction.followup.send(ephemeral=ephemeral, wait=True, **kwargs)  # type: ignore[arg-type]
