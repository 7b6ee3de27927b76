"""Run the Discord adapter until the process is stopped (SIGTERM/SIGINT set `stop`) or cancelled."""

from __future__ import annotations

import asyncio
import contextlib
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


async def run_discord(settings: Settings, brain: Any, store: Store, *, stop: asyncio.Event | None = None,
                      health: Health | None = None) -> None:
    """Connect (one process, or the shards named in settings) and serve until `stop` or cancelled.

    On the way out: events still arriving are recorded in the inbox for another worker, answers
    under way get `CAREERBOT_DRAIN_SECONDS` to finish, the rest are handed back (a deferred
    command's public "thinking" note is deleted first), then the gateway connection closes.
    Discord's answers to a bad setup, and a network that cannot reach Discord, become
    `ConfigError`s with one line an admin can act on. With `health`, readiness includes "discord":
    READY was received and every gateway websocket of this process is open.
    """
    bot = build_discord_bot(settings, brain, store)
    stop = stop or asyncio.Event()
    inbox = bot.responder.inbox
    if health is not None:
        health.add_platform("discord", lambda: gateway_connected(bot))
    try:
        async with bot:
            serving = asyncio.ensure_future(bot.start(settings.discord_token or "", reconnect=True))
            stopping = asyncio.ensure_future(stop.wait())
            try:
                await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                stopping.cancel()
                if not serving.done():
                    _log.info("discord: stopping; draining for up to %g s", settings.drain_seconds)
                    await asyncio.shield(inbox.drain(settings.drain_seconds))
                    await bot.close()
                    with contextlib.suppress(asyncio.CancelledError):
                        await serving
                inbox.close()
            serving.result()
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
    except (aiohttp.ClientConnectionError, OSError, TimeoutError) as exc:
        raise ConfigError(f"cannot reach Discord ({type(exc).__name__}: {exc}): check the network "
                          "or DISCORD_API_BASE_URL / DISCORD_GATEWAY_URL") from None
