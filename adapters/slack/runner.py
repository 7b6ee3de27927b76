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
from slack_sdk.errors import SlackApiError

from adapters.slack.app import build_slack_app, build_web_client, slack_bot_of
from adapters.slack.flow import BrainLike
from adapters.slack.server import EVENTS_PATH, build_web_app
from bot.config import ConfigError, Settings
from bot.ops import Health, Metrics, ops_routes
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
    health: Health | None = None,
    metrics: Metrics | None = None,
) -> None:
    """Serve Slack until cancelled: Socket Mode, or HTTP on `http_port` (events at /slack/events).

    With `health`, readiness includes "slack": the Socket Mode connection is alive, or the HTTP
    server is listening; with `metrics` too, HTTP mode also serves /healthz, /readyz, /metrics.
    """
    check_settings(settings, http=http_port is not None)
    app = build_slack_app(settings, brain, store)
    jobs = slack_bot_of(app).jobs
    try:
        auth = await app.client.auth_test()
        _LOGGER.info("slack: signed in as %s in team %s", auth.get("user"), auth.get("team"))
    except SlackApiError as err:  # a bad token is the most common first-run mistake: say so plainly
        raise ConfigError(f"SLACK_BOT_TOKEN was refused by Slack ({err.response.get('error', err)})") from None
    except (aiohttp.ClientError, OSError, TimeoutError) as err:
        raise ConfigError(f"cannot reach the Slack API ({type(err).__name__}): check the network "
                          "or SLACK_API_BASE_URL") from None
    if http_port is not None:
        routes = ops_routes(health, metrics) if health is not None and metrics is not None else ()
        runner = web.AppRunner(build_web_app(app, settings.slack_signing_secret or "", extra_routes=routes),
                               access_log=None, handle_signals=False)
        await runner.setup()
        listening = False
        if health is not None:
            health.add_platform("slack", lambda: listening)
        try:
            await web.TCPSite(runner, host, http_port).start()
            listening = True
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
        if health is not None:
            health.add_platform("slack", handler.client.is_connected)
        try:
            await handler.connect_async()
            _LOGGER.info("slack: connected in Socket Mode")
            await asyncio.Event().wait()
        finally:
            await handler.close_async()
            await jobs.drain(DRAIN_SECONDS)
