"""Run the Discord adapter until the process is stopped."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import discord

from adapters.discord.client import build_discord_bot
from bot.config import ConfigError, Settings
from bot.ops import Health
from bot.store.base import Store

__all__ = ["gateway_connected", "run_discord"]

_log = logging.getLogger(__name__)


def gateway_connected(bot: discord.Client) -> bool:
    """READY seen and the websocket(s) open now: a dropped gateway is "not ready" until it resumes."""
    if not bot.is_ready() or bot.is_closed():
        return False
    shards = getattr(bot, "shards", None)
    if shards:
        return all(not shard.is_closed() for shard in shards.values())
    ws = bot.ws
    return ws is not None and ws.open


async def run_discord(settings: Settings, brain: Any, store: Store, *, health: Health | None = None) -> None:
    """Connect (one process, or the shards named in settings) and serve until cancelled.

    Discord's answers to a bad setup, and a network that cannot reach Discord (discord.py retries
    once connected, so this escapes at start-up), become
    `ConfigError`s with one line an admin can act on. With `health`, readiness includes "discord":
    READY was received and every gateway websocket of this process is open.
    """
    bot = build_discord_bot(settings, brain, store)
    if health is not None:
        health.add_platform("discord", lambda: gateway_connected(bot))
    try:
        async with bot:
            await bot.start(settings.discord_token or "", reconnect=True)
    except discord.LoginFailure:
        raise ConfigError("DISCORD_TOKEN was rejected by Discord: copy the bot token again from the developer portal") from None
    except discord.PrivilegedIntentsRequired:
        raise ConfigError(
            "Discord refused the message content intent: enable MESSAGE CONTENT INTENT under Bot "
            "in the developer portal (needed for DMs and replies), then restart"
        ) from None
    except (aiohttp.ClientConnectionError, OSError, TimeoutError) as exc:
        raise ConfigError(f"cannot reach Discord ({type(exc).__name__}: {exc}): check the network "
                          "or DISCORD_API_BASE_URL / DISCORD_GATEWAY_URL") from None
