"""Button presses: forwarded to the brain as `Kind.ACTION` with the button's custom_id.

discord.py dispatches them to `render.CareerButton` (a `DynamicItem` registered for every
custom_id), whose callback lands here through the bot, so presses work after a restart and on any
shard process. The value is all the brain needs (`Inbound.action`).
"""

from __future__ import annotations

import logging

import discord

from adapters.discord.inbound import Access, inbound_from_component
from adapters.discord.respond import Responder

__all__ = ["handle_press"]

_log = logging.getLogger(__name__)
_SORRY = "Sorry, something went wrong with that button. Please try again."


async def handle_press(interaction: discord.Interaction, responder: Responder, access: Access) -> None:
    """Answer one press; a failure is logged and answered privately, never left as "interaction failed"."""
    try:
        inbound = inbound_from_component(interaction)
        if inbound is None:
            return
        if not access.allows(guild=interaction.guild, channel=interaction.channel, member=interaction.user):
            return
        await responder.answer_interaction(interaction, inbound, component=True)
    except Exception:
        _log.exception("failed to handle button press %s", interaction.id)
        if not interaction.response.is_done():
            try:
                await interaction.response.send_message(_SORRY, ephemeral=True)
            except discord.HTTPException:
                pass
