"""`run_slack`: Socket Mode (the default, no public URL) or HTTP mode behind a load balancer.

Runs until `stop` is set (the CLI sets it on SIGTERM or SIGINT) or the task is cancelled. On the
way out it stops taking new work (HTTP: stops listening; Socket Mode: disconnects, so Slack
redelivers unacknowledged envelopes elsewhere), lets answers under way finish for
`CAREERBOT_DRAIN_SECONDS`, then hands the rest back to the inbox after deleting their
"thinking" placeholders; another worker's sweeper (or this one after a restart) answers them.
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
from bot.inbox import InboxWorker
from bot.ops import Health, Metrics, ops_routes
from bot.store.base import Store

__all__ = ["check_settings", "run_slack"]

_LOGGER = logging.getLogger("careerbot.slack")
_HTTP_SHUTDOWN_SECONDS = 3.0
"""How long requests already received may take to be recorded and acked once listening stops."""


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
    stop: asyncio.Event | None = None,
    health: Health | None = None,
    metrics: Metrics | None = None,
) -> None:
    """Serve Slack until `stop` is set or the task is cancelled, then drain (see the module doc).

    Socket Mode, or HTTP on `http_port` (events at /slack/events). With `health`, readiness
    includes "slack": the Socket Mode connection is alive, or the HTTP server is listening; with
    `metrics` too, HTTP mode also serves /healthz, /readyz, /metrics.
    """
    check_settings(settings, http=http_port is not None)
    # One connection pool for every Web API call: without it slack_sdk connects (and, on
    # slack.com, negotiates TLS) afresh for each call, on the event loop that also acks events.
    session = aiohttp.ClientSession()
    try:
        await _serve(settings, brain, store, session, http_port=http_port, host=host, stop=stop or asyncio.Event(),
                     health=health, metrics=metrics)
    finally:
        await session.close()


async def _serve(settings: Settings, brain: BrainLike, store: Store, session: aiohttp.ClientSession, *,
                 http_port: int | None, host: str, stop: asyncio.Event, health: Health | None,
                 metrics: Metrics | None) -> None:
    app = build_slack_app(settings, brain, store, client=build_web_client(settings, session=session))
    inbox = slack_bot_of(app).inbox
    try:
        auth = await app.client.auth_test()
        _LOGGER.info("slack: signed in as %s in team %s", auth.get("user"), auth.get("team"))
    except aiohttp.ClientConnectorError as err:  # not the token's fault: say where it could not connect
        where = settings.slack_api_base_url or "https://slack.com/api"
        raise ConfigError(f"cannot reach the Slack API at {where} (SLACK_API_BASE_URL): "
                          f"{err.os_error.strerror or err.os_error}") from None
    except SlackApiError as err:  # a bad token is the most common first-run mistake: say so plainly
        raise ConfigError(f"SLACK_BOT_TOKEN was refused by Slack ({err.response.get('error', err)})") from None
    except (aiohttp.ClientError, OSError, TimeoutError) as err:
        raise ConfigError(f"cannot reach the Slack API ({type(err).__name__}): check the network "
                          "or SLACK_API_BASE_URL") from None
    inbox.start_background()
    if http_port is not None:
        routes = ops_routes(health, metrics) if health is not None and metrics is not None else ()
        runner = web.AppRunner(build_web_app(app, settings.slack_signing_secret or "", extra_routes=routes),
                               access_log=None, handle_signals=False, shutdown_timeout=_HTTP_SHUTDOWN_SECONDS)
        await runner.setup()
        listening = False
        if health is not None:
            health.add_platform("slack", lambda: listening)
        try:
            site = web.TCPSite(runner, host, http_port)
            await site.start()
            listening = True
            _LOGGER.info("slack: HTTP mode on %s:%d%s", host, http_port, EVENTS_PATH)
            await stop.wait()
        finally:
            inbox.accepting = False  # requests still arriving are recorded for other workers
            _LOGGER.info("slack: stopping; draining for up to %g s", settings.drain_seconds)
            await runner.cleanup()  # stops listening, lets received requests ack
            await _drain(inbox, settings.drain_seconds)
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
            await stop.wait()
        finally:
            inbox.accepting = False
            _LOGGER.info("slack: stopping; draining for up to %g s", settings.drain_seconds)
            await handler.close_async()
            await _drain(inbox, settings.drain_seconds)


async def _drain(inbox: InboxWorker, seconds: float) -> None:
    # Shielded from a second cancellation: handing work back is what keeps it from being lost.
    try:
        await asyncio.shield(inbox.drain(seconds))
    finally:
        inbox.close()
