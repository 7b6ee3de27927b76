"""Button presses, handled from the custom_id alone so they survive restarts.

Why a listener and not `View` callbacks: a View lives in one process's memory and dies with it,
while a quiz or a feedback button may be pressed hours later, after a deploy, on another shard
process. The button's value is all the brain needs (`Inbound.action`).
"""

from __future__ import annotations

import logging

import discord
from discord.ext import commands

from adapters.discord.inbound import Access, inbound_from_component
from adapters.discord.respond import Responder

__all__ = ["ComponentsCog"]

_log = logging.getLogger(__name__)


class ComponentsCog(commands.Cog, name="Components"):
    """Forwards every component interaction to the brain as `Kind.ACTION` and renders the reply."""

    def __init__(self, responder: Responder, access: Access) -> None:
        self.responder = responder
        self.access = access

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction) -> None:
        if interaction.type is not discord.InteractionType.component:
            return
        if interaction.response.is_done():  # something else (a live View) already answered
            return
        try:
            inbound = inbound_from_component(interaction)
        except Exception:
            _log.exception("could not read component interaction %s", interaction.id)
            return
        if inbound is None:
            return
        if not self.access.allows(guild=interaction.guild, channel=interaction.channel, member=interaction.user):
            return
        await self.responder.answer_interaction(interaction, inbound, component=True)
