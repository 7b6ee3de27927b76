"""Discord adapter: mentions, DMs, slash commands and buttons, translated to and from the brain.

Public entry points: `build_discord_bot(settings, brain, store)` and `run_discord(settings, brain,
store)`. Importing this package has no side effects.
"""

from adapters.discord.client import CareerBot, ShardedCareerBot, build_discord_bot, discord_intents
from adapters.discord.runner import run_discord

__all__ = ["CareerBot", "ShardedCareerBot", "build_discord_bot", "discord_intents", "run_discord"]
