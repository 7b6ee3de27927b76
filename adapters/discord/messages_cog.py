"""Mentions, replies to the bot's answers, and DMs."""

from __future__ import annotations

import logging

import discord
from discord.ext import commands

from adapters.discord.inbound import Access, inbound_from_message
from adapters.discord.respond import Responder

__all__ = ["MessagesCog"]

_log = logging.getLogger(__name__)


class MessagesCog(commands.Cog, name="Messages"):
    """Turns addressed messages into brain calls; everything else is ignored without a trace.

    Needs the privileged message-content intent: without it Discord sends empty `content` for
    messages that do not mention the bot, so replies to answers and DMs would arrive blank.
    """

    def __init__(self, bot: commands.Bot, responder: Responder, access: Access, *, reply_mode: str) -> None:
        self.bot = bot
        self.responder = responder
        self.access = access
        self.reply_mode = reply_mode

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        me = self.bot.user
        if me is None:
            return
        try:
            inbound = inbound_from_message(message, me)
        except Exception:
            _log.exception("could not read message %s", getattr(message, "id", "?"))
            return
        if inbound is None:
            return
        if not self.access.allows(guild=message.guild, channel=message.channel, member=message.author):
            _log.debug("ignoring message %s in a channel that is not allowed", message.id)
            return
        await self.responder.answer_message(message, inbound, reply_mode=self.reply_mode)
