"""`build_slack_app`: one configured `AsyncApp` with the careerbot listeners.

Why a factory and no module-level app: the brain, the store and the Web API client are passed in,
so the CLI, the tests and the benchmark each build their own app (the tests point the client at a
local fake of the Web API), and importing this module does nothing.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.deliver import Outbox
from adapters.slack.flow import BrainLike, SlackBot
from adapters.slack.guard import ChannelPolicy
from adapters.slack.listeners import register_listeners
from bot.config import ConfigError, Settings
from bot.inbox import InboxWorker
from bot.store.base import Store

__all__ = ["DEFAULT_API_BASE_URL", "build_slack_app", "build_web_client", "retry_handlers", "slack_bot_of"]

DEFAULT_API_BASE_URL = "https://slack.com/api/"
_LOGGER = logging.getLogger("careerbot.slack")


def retry_handlers() -> list[AsyncRetryHandler]:
    """Retry dropped connections, 500/503, and 429s after the `Retry-After` Slack sends."""
    return [
        AsyncConnectionErrorRetryHandler(max_retry_count=2),
        AsyncServerErrorRetryHandler(max_retry_count=2),
        AsyncRateLimitErrorRetryHandler(max_retry_count=3),
    ]


def _async_app(client: AsyncWebClient, settings: Settings) -> AsyncApp:
    return AsyncApp(
        client=client,
        # "" (not None) so bolt does not fall back to reading the environment itself.
        signing_secret=settings.slack_signing_secret or "",
        # Socket Mode never checks signatures; in HTTP mode the runner insists on a secret.
        request_verification_enabled=bool(settings.slack_signing_secret),
        logger=_LOGGER,
        name="careerbot",
        # Run each listener to its end before answering Slack. Without this, bolt acknowledges
        # Events API requests *before* the listener runs, so an event was acked before the inbox
        # recorded it and a crash in between lost it (Slack never redelivers an acked event).
        # The listeners only record the event and ack; the answer runs in the background.
        process_before_response=True,
    )


class _DropMessage(logging.Filter):
    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != self.message


@contextlib.contextmanager
def _quiet_token_notice() -> Iterator[None]:
    """Bolt reads SLACK_BOT_TOKEN from the environment on its own and, since the client already
    carries the token, warns at every start that it "will be unused": a warning about nothing,
    which would only send operators looking for a problem."""
    quiet = _DropMessage(warning_client_prioritized_and_token_skipped())
    _LOGGER.addFilter(quiet)
    try:
        yield
    finally:
        _LOGGER.removeFilter(quiet)


def build_web_client(settings: Settings, token: str | None = None, *,
                     session: aiohttp.ClientSession | None = None) -> AsyncWebClient:
    """An `AsyncWebClient` honouring SLACK_API_BASE_URL (enterprise proxy, tests) and retrying 429s.

    With `session`, every call reuses its pooled connections (the caller closes it); without
    one, slack_sdk opens and closes a new session, and so a new connection, for every call.
    """
    base = (settings.slack_api_base_url or DEFAULT_API_BASE_URL).rstrip("/") + "/"
    return AsyncWebClient(
        token=token if token is not None else settings.slack_bot_token,
        base_url=base,
        retry_handlers=retry_handlers(),
        logger=_LOGGER,
        session=session,
    )


def build_slack_app(
    settings: Settings,
    brain: BrainLike,
    store: Store,
    *,
    client: AsyncWebClient | None = None,
    thinking_delay: float = 1.0,
    inbox: InboxWorker | None = None,
    ack_budget: float = 0.5,
) -> AsyncApp:
    """Build the Slack app.

    Args:
        settings: needs `slack_bot_token` (or a `client` carrying one); `slack_signing_secret` is
            used to verify HTTP-mode requests (Socket Mode needs none).
        brain: anything with `async handle(Inbound) -> Reply`.
        store: the shared store; event deduplication goes through it.
        client: a ready Web API client (tests, custom proxies); by default one built from settings.
        thinking_delay: seconds before a "thinking" placeholder appears for a slow answer.
        inbox: the worker that records and runs events (lease and retry settings); by default
            one on `store` for Slack events, with the retention from settings. The runner starts
            its sweeper; tests may leave it off.
        ack_budget: seconds a listener waits for the event's record before acknowledging anyway.

    Raises:
        ConfigError: SLACK_BOT_TOKEN is not set.
    """
    if client is None:
        if not settings.slack_bot_token:
            raise ConfigError("SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-...) from the Slack app")
        client = build_web_client(settings)
    elif not client.token:
        raise ConfigError("SLACK_BOT_TOKEN is not set: the Slack client has no token")
    with _quiet_token_notice():
        app = _async_app(client, settings)
    if inbox is None:
        inbox = InboxWorker(store, platforms=("slack",), retention_hours=settings.event_retention_hours,
                            lease_seconds=settings.inbox_lease_seconds)
    bot = SlackBot(
        brain=brain,
        store=store,
        policy=ChannelPolicy(settings.slack_allowed_channels, settings.slack_admin_users),
        outbox=Outbox(client, logger=_LOGGER, retry_handlers=retry_handlers()),
        inbox=inbox,
        logger=_LOGGER,
        thinking_delay=thinking_delay,
        ack_budget=ack_budget,
    )
    inbox.resume = bot.resume
    register_listeners(app, bot)
    app._careerbot = bot  # type: ignore[attr-defined]  # for the runner's drain and for tests
    return app


def slack_bot_of(app: AsyncApp) -> SlackBot:
    """The `SlackBot` behind an app built by `build_slack_app` (its jobs, store, outbox)."""
    return app._careerbot  # type: ignore[attr-defined]
