"""Fixtures for the Slack adapter's integration tests: fake Web API, app in HTTP mode, signed sends.

The brain is the real one: `brain`, `store`, `make_brain` and `settings` come from tests/conftest.py
(real embeddings and index shared per session, a fresh SQLite store per test).

Payload builders follow the shapes in Slack's documentation (Events API `event_callback` with
`app_mention` / `message.im`, the slash-command form post, `block_actions` interactivity), and every
request is signed with `slack_sdk.signature.SignatureVerifier` exactly as Slack signs them.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_fake_api import BOT_USER, TEAM, TOKEN, FakeSlack
from slack_sdk.signature import SignatureVerifier

from adapters.slack.app import build_slack_app, build_web_client
from adapters.slack.server import EVENTS_PATH, build_web_app
from bot.config import Settings
from bot.store import Store

SECRET = "test-signing-secret"
USER = "U0ASKER"
OTHER = "U0OTHER"
CHANNEL = "C0CAREERS"
ELSEWHERE = "C0RANDOM"
DM = "D0ASKER"

_ts = itertools.count(1)


def next_ts() -> str:
    return f"1710000000.{next(_ts):06d}"


# --- payload builders (shapes from Slack's documentation) -------------------------------------


def event_callback(event: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
    return {
        "token": "verification-token-unused",
        "team_id": TEAM,
        "context_team_id": TEAM,
        "api_app_id": "A0CAREER",
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{event['ts'].replace('.', '')}",
        "event_time": int(float(event["ts"])),
        "authorizations": [
            {"enterprise_id": None, "team_id": TEAM, "user_id": BOT_USER, "is_bot": True, "is_enterprise_install": False}
        ],
        "is_ext_shared_channel": False,
        "event_context": "4-eyJldCI6ImFwcF9tZW50aW9uIn0",
    }


def _rich_text(text: str) -> list[dict[str, Any]]:
    return [{"type": "rich_text", "block_id": "b1", "elements": [
        {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}]}]


def app_mention(text: str, *, channel: str = CHANNEL, user: str = USER, ts: str | None = None,
                thread_ts: str | None = None) -> dict[str, Any]:
    ts = ts or next_ts()
    event = {
        "client_msg_id": f"msg-{ts}",
        "type": "app_mention",
        "text": f"<@{BOT_USER}> {text}",
        "user": user,
        "ts": ts,
        "blocks": _rich_text(text),
        "team": TEAM,
        "channel": channel,
        "event_ts": ts,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event_callback(event)


def message(text: str, *, channel: str = DM, channel_type: str = "im", user: str | None = USER,
            ts: str | None = None, thread_ts: str | None = None, **extra: Any) -> dict[str, Any]:
    ts = ts or next_ts()
    event: dict[str, Any] = {
        "client_msg_id": f"msg-{ts}",
        "type": "message",
        "text": text,
        "ts": ts,
        "blocks": _rich_text(text),
        "team": TEAM,
        "channel": channel,
        "event_ts": ts,
        "channel_type": channel_type,
    }
    if user:
        event["user"] = user
    if thread_ts:
        event["thread_ts"] = thread_ts
        event["parent_user_id"] = USER
    event.update(extra)
    return event_callback(event)


def slash_command(command: str, text: str, *, response_url: str, channel: str = CHANNEL,
                  user: str = USER) -> dict[str, str]:
    return {
        "token": "verification-token-unused",
        "team_id": TEAM,
        "team_domain": "careers",
        "channel_id": channel,
        "channel_name": "careers" if not channel.startswith("D") else "directmessage",
        "user_id": user,
        "user_name": "asker",
        "command": command,
        "text": text,
        "api_app_id": "A0CAREER",
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": f"{next(_ts)}.1234567890.abcdef{next(_ts)}",
    }


def block_actions(button: dict[str, Any], block_id: str, *, response_url: str, message_ts: str | None,
                  channel: str = CHANNEL, user: str = USER, ephemeral: bool = False,
                  thread_ts: str | None = None) -> dict[str, Any]:
    container: dict[str, Any] = {"type": "message", "message_ts": message_ts or next_ts(), "channel_id": channel,
                                 "is_ephemeral": ephemeral}
    if thread_ts:
        container["thread_ts"] = thread_ts
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user, "username": "asker", "name": "asker", "team_id": TEAM},
        "api_app_id": "A0CAREER",
        "token": "verification-token-unused",
        "container": container,
        "trigger_id": f"{next(_ts)}.1234567890.fedcba",
        "team": {"id": TEAM, "domain": "careers"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel, "name": "careers"},
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [{
            "action_id": button["action_id"],
            "block_id": block_id,
            "text": button["text"],
            "value": button["value"],
            "type": "button",
            "action_ts": f"{time.time():.6f}",
        }],
    }
    if not ephemeral:
        payload["message"] = {"type": "message", "user": BOT_USER, "ts": container["message_ts"],
                              "bot_id": "BBOTCAREER", "text": "...", "blocks": []}
    return payload


def buttons_in(blocks: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """(block_id, button) for every button in rendered blocks."""
    return [(b["block_id"], e) for b in blocks if b.get("type") == "actions" for e in b["elements"]]


# --- signed sender -----------------------------------------------------------------------------


@dataclass
class Sent:
    status: int
    text: str
    seconds: float


class SlackSender:
    """Posts signed requests to the app like Slack does."""

    def __init__(self, url: str, session: aiohttp.ClientSession, secret: str = SECRET) -> None:
        self.url, self.session, self.secret = url, session, secret

    def headers(self, raw: str, *, timestamp: int | None = None, secret: str | None = None,
                content_type: str = "application/json") -> dict[str, str]:
        ts = str(timestamp if timestamp is not None else int(time.time()))
        sig = SignatureVerifier(secret or self.secret).generate_signature(timestamp=ts, body=raw)
        return {"content-type": content_type, "x-slack-request-timestamp": ts, "x-slack-signature": sig}

    async def raw(self, raw: str, headers: dict[str, str]) -> Sent:
        start = time.monotonic()
        async with self.session.post(self.url, data=raw.encode(), headers=headers) as resp:
            text = await resp.text()
        return Sent(resp.status, text, time.monotonic() - start)

    async def event(self, payload: dict[str, Any], *, retry_num: int | None = None, **sign: Any) -> Sent:
        raw = json.dumps(payload)
        headers = self.headers(raw, **sign)
        if retry_num is not None:
            headers["x-slack-retry-num"] = str(retry_num)
            headers["x-slack-retry-reason"] = "http_timeout"
        return await self.raw(raw, headers)

    async def command(self, form: dict[str, str], **sign: Any) -> Sent:
        raw = urlencode(form)
        return await self.raw(raw, self.headers(raw, content_type="application/x-www-form-urlencoded", **sign))

    async def action(self, payload: dict[str, Any], **sign: Any) -> Sent:
        raw = urlencode({"payload": json.dumps(payload)})
        return await self.raw(raw, self.headers(raw, content_type="application/x-www-form-urlencoded", **sign))


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    server = await FakeSlack().start()
    yield server
    await server.stop()


@pytest.fixture
def slack_settings(fake: FakeSlack, settings: Settings) -> Settings:
    """This test's settings (own data dir and database) plus Slack credentials for the fake."""
    return replace(
        settings,
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
        slack_api_base_url=fake.base_url + "/api",
        slack_allowed_channels=(CHANNEL,),
        slack_admin_users=(),
    )


@dataclass
class RunningApp:
    app: AsyncApp
    url: str
    send: SlackSender


AppFactory = Callable[..., Awaitable[RunningApp]]


@pytest.fixture
async def start_app(slack_settings: Settings, store: Store) -> AsyncIterator[AppFactory]:
    """Start the adapter in HTTP mode on 127.0.0.1:0 (several may run at once, as workers).

    Depends on `store` only so that the per-test store is closed after the answers still running
    have been drained, never under them.
    """
    runners: list[web.AppRunner] = []
    apps: list[AsyncApp] = []
    session = aiohttp.ClientSession()

    async def start(brain: Any, store: Any, *, thinking_delay: float = 5.0, ack_budget: float = 0.5,
                    **overrides: Any) -> RunningApp:
        settings = replace(slack_settings, **overrides)
        app = build_slack_app(settings, brain, store, client=build_web_client(settings),
                              thinking_delay=thinking_delay, ack_budget=ack_budget)
        runner = web.AppRunner(build_web_app(app, settings.slack_signing_secret or ""), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        runners.append(runner)
        apps.append(app)
        url = f"http://127.0.0.1:{runner.addresses[0][1]}{EVENTS_PATH}"
        return RunningApp(app, url, SlackSender(url, session))

    yield start
    from adapters.slack.app import slack_bot_of

    for app in apps:
        await slack_bot_of(app).inbox.drain(5)
    for runner in runners:
        await runner.cleanup()
    for app in apps:
        slack_bot_of(app).inbox.close()
    await session.close()
