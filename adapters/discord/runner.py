"""Run the Discord adapter until the process is stopped."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import discord

from adapters.discord.client import build_discord_bot
from bot.config import ConfigError, Settings
from bot.store.base import Store

__all__ = ["run_discord"]

_log = logging.getLogger(__name__)


async def run_discord(settings: Settings, brain: Any, store: Store) -> None:
    """Connect (one process, or the shards named in settings) and serve until cancelled.

    Discord's answers to a bad setup become `ConfigError`s with one line an admin can act on.
    """
    bot = build_discord_bot(settings, brain, store)
    try:
        async with bot:
            await bot.start(settings.discord_token or "", reconnect=True)
    except aiohttp.ClientConnectorError as exc:
        where = settings.discord_api_base_url or "https://discord.com/api"
        raise ConfigError(f"cannot reach the Discord API at {where} (DISCORD_API_BASE_URL): "
                          f"{exc.os_error.strerror or exc.os_error}") from None
    except discord.LoginFailure:
        raise ConfigError("DISCORD_TOKEN was rejected by Discord: copy the bot token again from the developer portal") from None
    except discord.PrivilegedIntentsRequired:
        raise ConfigError(
            "Discord refused the message content intent: enable MESSAGE CONTENT INTENT under Bot "
            "in the developer portal (needed for DMs and replies), then restart"
        ) from None
