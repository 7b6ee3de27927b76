"""`run_slack`: Socket Mode (the default, no public URL) or HTTP mode behind a load balancer.

Runs until cancelled; on the way out it stops taking new requests, then gives answers already
under way a few seconds to finish, so a restart does not drop them (a claim left incomplete
expires and Slack's retry is answered by another worker).
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from adapters.slack.app import build_slack_app, build_web_client, slack_bot_of
from adapters.slack.flow import BrainLike
from adapters.slack.server import EVENTS_PATH, build_web_app
from bot.config import ConfigError, Settings
from bot.store.base import Store

__all__ = ["check_settings", "run_slack"]

_LOGGER = logging.getLogger("careerbot.slack")
DRAIN_SECONDS = 10.0


def check_settings(settings: Settings, *, http: bool) -> None:
    """Raise `ConfigError` naming the first missing variable for the chosen mode."""
    if not settings.slack_bot_token:
        raise ConfigError("SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-...) from the Slack app")
    if http and not settings.slack_signing_secret:
        raise ConfigError("SLACK_SIGNING_SECRET is not set: HTTP mode needs it to verify requests from Slack")
    if not http and not settings.slack_app_token:
        raise ConfigError(
            "SLACK_APP_TOKEN is not set: Socket Mode needs an app-level token (xapp-...) "
            "with connections:write, or run HTTP mode with --http PORT"
        )


async def run_slack(
    settings: Settings,
    brain: BrainLike,
    store: Store,
    *,
    http_port: int | None = None,
    host: str = "0.0.0.0",
) -> None:
    """Serve Slack until cancelled: Socket Mode, or HTTP on `http_port` (events at /slack/events)."""
    check_settings(settings, http=http_port is not None)
    app = build_slack_app(settings, brain, store)
    jobs = slack_bot_of(app).jobs
    try:
        auth = await app.client.auth_test()
        _LOGGER.info("slack: signed in as %s in team %s", auth.get("user"), auth.get("team"))
    except aiohttp.ClientConnectorError as err:  # not the token's fault: say where it could not connect
        where = settings.slack_api_base_url or "https://slack.com/api"
        raise ConfigError(f"cannot reach the Slack API at {where} (SLACK_API_BASE_URL): "
                          f"{err.os_error.strerror or err.os_error}") from None
    except Exception as err:  # a bad token is the most common first-run mistake: say so plainly
        raise ConfigError(f"SLACK_BOT_TOKEN was refused by Slack ({getattr(err, 'response', {}).get('error', err)})") from None
    if http_port is not None:
        runner = web.AppRunner(build_web_app(app, settings.slack_signing_secret or ""), access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, http_port).start()
            _LOGGER.info("slack: HTTP mode on %s:%d%s", host, http_port, EVENTS_PATH)
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()
            await jobs.drain(DRAIN_SECONDS)
    else:
        handler = AsyncSocketModeHandler(
            app,
            settings.slack_app_token,
            web_client=build_web_client(settings, token=""),
            logger=_LOGGER,
        )
        try:
            await handler.connect_async()
            _LOGGER.info("slack: connected in Socket Mode")
            await asyncio.Event().wait()
        finally:
            await handler.close_async()
            await jobs.drain(DRAIN_SECONDS)
