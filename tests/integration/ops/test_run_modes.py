"""Each run mode, started as `careerbot run` starts it (`run_adapters`), against the local fakes:
/healthz, /readyz and /metrics answer, readiness waits for the platform, and answers are counted.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import replace
from typing import Any

import pytest
from conftest import OpsClient, free_port
from fake_discord import BOT_USER, FakeDiscord, user_payload
from fake_discord import TOKEN as DISCORD_TOKEN
from prometheus_client.parser import text_string_to_metric_families
from slack_fake_api import APP_TOKEN, TEAM, FakeSlack
from slack_fake_api import BOT_USER as SLACK_BOT
from slack_fake_api import TOKEN as SLACK_TOKEN
from slack_sdk.signature import SignatureVerifier

from bot.cli import run_adapters
from bot.ops import Metrics
from bot.runtime import Runtime, build_brain

pytestmark = pytest.mark.slow
SECRET = "ops-test-signing-secret"
ALICE = user_payload(100000000000000001, "alice")


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one series in a Prometheus exposition (0 when absent)."""
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


def runtime_for(settings: Any, knowledge: Any, store: Any, metrics: Metrics) -> Runtime:
    brain = build_brain(settings, knowledge, store, observers=(metrics.observe,))
    return Runtime(settings=settings, knowledge=knowledge, store=store, brain=brain)


def slack_mention(text: str) -> dict[str, Any]:
    ts = f"{time.time():.6f}"
    return {"token": "unused", "team_id": TEAM, "api_app_id": "A0CAREER", "type": "event_callback",
            "event_id": f"Ev{ts.replace('.', '')}", "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM, "user_id": SLACK_BOT, "is_bot": True}],
            "event": {"type": "app_mention", "text": f"<@{SLACK_BOT}> {text}", "user": "U0ASKER", "ts": ts,
                      "channel": "C0CAREERS", "event_ts": ts, "team": TEAM}}


async def until(predicate: Any, what: str, timeout: float = 20.0) -> Any:
    import asyncio

    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        value = await predicate()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def test_slack_http_mode_serves_ops_routes_on_the_slack_port(settings, knowledge, store, slack_fake: FakeSlack,
                                                                    serve, http) -> None:
    port = free_port()
    s = replace(settings, slack_bot_token=SLACK_TOKEN, slack_signing_secret=SECRET,
                slack_api_base_url=slack_fake.base_url + "/api")
    metrics = Metrics()
    task = serve(run_adapters("slack", runtime_for(s, knowledge, store, metrics), metrics, slack_http_port=port))
    ops = OpsClient(http, port)
    ready = await ops.until_ready(task)
    assert ready["checks"] == {"index": "ok", "store": "ok", "slack": "ok"}
    assert await ops.get("/healthz") == (200, "ok\n")

    raw = json.dumps(slack_mention("what does an AI engineer do?"))
    stamp = str(int(time.time()))
    headers = {"content-type": "application/json", "x-slack-request-timestamp": stamp,
               "x-slack-signature": SignatureVerifier(SECRET).generate_signature(timestamp=stamp, body=raw)}
    async with http.post(f"http://127.0.0.1:{port}/slack/events", data=raw, headers=headers) as resp:
        assert resp.status == 200
    await slack_fake.wait_for("chat.postMessage", timeout=20)

    async def counted() -> str | None:
        status, text = await ops.get("/metrics")
        assert status == 200
        return text if sample(text, "careerbot_answers_total", platform="slack", intent="question") == 1 else None

    text = await until(counted, "the answer to be counted")
    assert sample(text, "careerbot_answer_seconds_count", platform="slack") == 1
    assert sample(text, "careerbot_answer_seconds_sum", platform="slack") > 0


async def test_slack_socket_mode_with_ops_port(settings, knowledge, store, slack_fake: FakeSlack, serve, http) -> None:
    port = free_port()
    s = replace(settings, slack_bot_token=SLACK_TOKEN, slack_app_token=APP_TOKEN, http_port=port,
                slack_api_base_url=slack_fake.base_url + "/api")
    metrics = Metrics()
    task = serve(run_adapters("slack", runtime_for(s, knowledge, store, metrics), metrics))
    ops = OpsClient(http, port)
    ready = await ops.until_ready(task)
    assert ready["checks"]["slack"] == "ok"
    assert slack_fake.sockets, "the bot opened no Socket Mode connection"

    envelope = await slack_fake.send_envelope("events_api", slack_mention("is math needed for ML engineering?"))
    await slack_fake.wait_for("chat.postMessage", timeout=20)
    assert any(a["envelope_id"] == envelope for a in slack_fake.acks)

    async def counted() -> str | None:
        _, text = await ops.get("/metrics")
        return text if sample(text, "careerbot_answers_total", platform="slack") >= 1 else None

    await until(counted, "the answer to be counted")

    # Slack drops the socket and the reconnect is held: not ready until the client is connected again.
    slack_fake.socket_gate = asyncio.Event()
    for ws in list(slack_fake.sockets):
        await ws.close()

    async def status_is(code: int) -> bool:
        status, text = await ops.get("/readyz")
        return status == code and (code == 200 or '"slack": "not connected"' in text)

    await until(lambda: status_is(503), "a 503 naming slack while disconnected", timeout=30)
    slack_fake.socket_gate.set()
    await until(lambda: status_is(200), "200 after the reconnect", timeout=30)


async def test_discord_with_ops_port(settings, knowledge, store, discord_fake: FakeDiscord, serve, http) -> None:
    port = free_port()
    s = replace(settings, discord_token=DISCORD_TOKEN, discord_api_base_url=discord_fake.api_base,
                discord_gateway_url=discord_fake.gateway_url, http_port=port)
    metrics = Metrics()
    ops = OpsClient(http, port)
    task = serve(run_adapters("discord", runtime_for(s, knowledge, store, metrics), metrics))
    ready = await ops.until_ready(task)
    assert ready["checks"] == {"index": "ok", "store": "ok", "discord": "ok"}

    question = discord_fake.message_payload(ALICE, f"<@{BOT_USER['id']}> what does an AI engineer do?",
                                            mentions=[BOT_USER])
    await discord_fake.dispatch("MESSAGE_CREATE", question)
    await discord_fake.wait_call("POST", r"/channels/\d+/messages", timeout=20)

    async def counted() -> str | None:
        _, text = await ops.get("/metrics")
        return text if sample(text, "careerbot_answers_total", platform="discord", intent="question") == 1 else None

    await until(counted, "the answer to be counted")


async def test_slack_and_discord_at_once(settings, knowledge, store, slack_fake: FakeSlack, discord_fake: FakeDiscord,
                                         serve, http) -> None:
    port = free_port()
    s = replace(settings, http_port=port,
                slack_bot_token=SLACK_TOKEN, slack_app_token=APP_TOKEN, slack_api_base_url=slack_fake.base_url + "/api",
                discord_token=DISCORD_TOKEN, discord_api_base_url=discord_fake.api_base,
                discord_gateway_url=discord_fake.gateway_url)
    metrics = Metrics()
    ops = OpsClient(http, port)
    task = serve(run_adapters(None, runtime_for(s, knowledge, store, metrics), metrics))
    ready = await ops.until_ready(task)
    assert ready["checks"] == {"index": "ok", "store": "ok", "slack": "ok", "discord": "ok"}
    status, text = await ops.get("/metrics")
    assert status == 200 and "careerbot_answer_seconds" in text
