"""Slash commands: /quiz, /quiz-reset, /quiz-status, /quiz-cancel, /career, /plan, /forget, /help.

Each command only names itself and its argument; the brain decides what it means.
"""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from adapters.discord.inbound import Access, inbound_from_command
from adapters.discord.render import safe_allowed_mentions
from adapters.discord.respond import Responder

__all__ = ["COMMAND_NAMES", "CommandsCog"]

COMMAND_NAMES = ("quiz", "quiz-reset", "quiz-status", "quiz-cancel", "career", "plan", "forget", "help")

_log = logging.getLogger(__name__)
_SORRY = "Sorry, something went wrong on my side with that command. Please try again in a moment."
_NOT_HERE = "I only answer in the channels this server's admins opened for me. Try one of those, or DM me."


class CommandsCog(commands.Cog, name="Commands"):
    """The application commands; registered on the bot's `CommandTree` when the cog is added."""

    def __init__(self, responder: Responder, access: Access) -> None:
        self.responder = responder
        self.access = access

    async def _run(
        self,
        interaction: discord.Interaction,
        command: str,
        text: str = "",
        *,
        private: bool = False,
        private_if_slow: bool = False,
    ) -> None:
        if not self.access.allows(guild=interaction.guild, channel=interaction.channel, member=interaction.user):
            await interaction.response.send_message(
                _NOT_HERE, ephemeral=True, allowed_mentions=safe_allowed_mentions()
            )
            return
        inbound = inbound_from_command(interaction, command, text)
        await self.responder.answer_interaction(
            interaction,
            inbound,
            component=False,
            defer_ephemeral=private_if_slow,
            force_ephemeral=private,
        )

    @app_commands.command(name="quiz", description="Take (or resume) the quiz: AI engineer, ML engineer, or neither?")
    async def quiz(self, interaction: discord.Interaction) -> None:
        await self._run(interaction, "quiz")

    @app_commands.command(name="quiz-reset", description="Throw away your quiz progress and start over.")
    async def quiz_reset(self, interaction: discord.Interaction) -> None:
        await self._run(interaction, "quiz-reset", private_if_slow=True)

    @app_commands.command(name="quiz-status", description="Where you are in the quiz, or your last result.")
    async def quiz_status(self, interaction: discord.Interaction) -> None:
        await self._run(interaction, "quiz-status", private=True)

    @app_commands.command(name="quiz-cancel", description="Stop the quiz you are taking (your answers are deleted).")
    async def quiz_cancel(self, interaction: discord.Interaction) -> None:
        await self._run(interaction, "quiz-cancel", private_if_slow=True)

    @app_commands.command(name="career", description="Ask a career question; answers cite their sources.")
    @app_commands.describe(question="What you want to know", private="Only you see the answer")
    async def career(self, interaction: discord.Interaction, question: str, private: bool = False) -> None:
        # The brain answers /career privately (with a "Share in channel" button), so a slow answer
        # defers privately too: the "thinking" note must not be public.
        await self._run(interaction, "career", question, private=private, private_if_slow=True)

    @app_commands.command(name="plan", description="A staged learning plan for your background and goal.")
    @app_commands.describe(profile="Your background and goal, e.g. 'backend dev, want to build LLM apps'")
    async def plan(self, interaction: discord.Interaction, profile: str = "") -> None:
        await self._run(interaction, "plan", profile)

    @app_commands.command(name="forget", description="Delete everything the bot holds about you.")
    async def forget(self, interaction: discord.Interaction) -> None:
        await self._run(interaction, "forget", private=True)

    @app_commands.command(name="help", description="What this bot can do and how to use it.")
    async def help(self, interaction: discord.Interaction) -> None:
        await self._run(interaction, "help", private_if_slow=True)

    async def cog_app_command_error(self, interaction: discord.Interaction,
                                    error: app_commands.AppCommandError) -> None:
        """Any command's failure: logged once here, and the user gets a short private apology
        instead of Discord's "The application did not respond"."""
        _log.error("slash command /%s failed: %s", getattr(interaction.command, "name", "?"),
                   type(getattr(error, "original", error)).__name__, exc_info=getattr(error, "original", error))
        try:
            if interaction.response.is_done():
                await interaction.followup.send(_SORRY, ephemeral=True, allowed_mentions=safe_allowed_mentions())
            else:
                await interaction.response.send_message(_SORRY, ephemeral=True, allowed_mentions=safe_allowed_mentions())
        except discord.HTTPException:
            _log.warning("could not tell the user that /%s failed", getattr(interaction.command, "name", "?"))
