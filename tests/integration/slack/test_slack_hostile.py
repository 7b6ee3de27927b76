"""Attacks on the Slack adapter over HTTP: unauthenticated junk, mass mentions, masked links, share floods.

Real app in HTTP mode on 127.0.0.1, requests signed as Slack signs them (or deliberately not), the
fake Web API recording what the bot posted, the real brain behind it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
from typing import Any

from conftest import SECRET, app_mention, buttons_in, slash_command
from test_slack_adapter import body_text, press, settle

EVIL = "https://evil.example/login"
MASS = re.compile(r"@(channel|here|everyone)\b|<!(channel|here|everyone)", re.I)


def posted_text(call: Any) -> str:
    """Everything Slack would render or notify with: the blocks' text and the fallback text."""
    blocks = call.params.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    parts = [str(call.params.get("text") or "")]
    for block in blocks:
        if block.get("type") == "section":
            parts.append(block["text"]["text"])
        for element in block.get("elements", []):
            if element.get("type") == "mrkdwn":
                parts.append(element["text"])
    return "\n".join(parts)


async def post_bytes(bot: Any, raw: bytes, headers: dict[str, str]) -> tuple[int, str]:
    async with bot.send.session.post(bot.url, data=raw, headers=headers) as resp:
        return resp.status, await resp.text()


def signed(raw: bytes, timestamp: str | None = None) -> dict[str, str]:
    """Headers signed over the raw bytes, as Slack computes them (whatever the bytes are)."""
    ts = timestamp or str(int(time.time()))
    digest = hmac.new(SECRET.encode(), b"v0:" + ts.encode() + b":" + raw, hashlib.sha256).hexdigest()
    return {"content-type": "application/json", "x-slack-request-timestamp": ts, "x-slack-signature": f"v0={digest}"}


async def test_unauthenticated_junk_gets_4xx_and_no_traceback(fake, start_app, brain, store, caplog):
    caplog.set_level(logging.DEBUG)
    bot = await start_app(brain, store)
    body = json.dumps(app_mention("What does an AI engineer do?")).encode()
    cases = [
        (body, {**signed(body), "x-slack-request-timestamp": "not-a-number"}, 401),
        (body, {**signed(body), "x-slack-request-timestamp": "1e9"}, 401),
        (body, {**signed(body), "x-slack-request-timestamp": "١٧١٠٠٠٠٠٠٠"}, 401),  # digits, not ASCII ones
        (body, {**signed(body), "x-slack-request-timestamp": ""}, 401),
        (body, {**signed(body), "x-slack-signature": "v0=é"}, 401),
        (b"\xff\xfe{\"type\": \"url_verification\"}", {"content-type": "application/json",
                                                      "x-slack-request-timestamp": str(int(time.time())),
                                                      "x-slack-signature": "v0=00"}, 401),
        (b"\xff\xfe{\"type\": \"url_verification\"}", signed(b"\xff\xfe{\"type\": \"url_verification\"}"), 400),
    ]
    for raw, headers, expected in cases:
        status, text = await post_bytes(bot, raw, headers)
        assert status == expected, (headers, status, text)
        assert "Traceback" not in text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in caplog.records
                                                                          if r.levelno >= logging.ERROR]
    assert fake.calls_to("chat.postMessage") == []
    # A real, signed request still works afterwards.
    assert (await bot.send.event(app_mention("What does an AI engineer do?"))).status == 200
    await fake.wait_for("chat.postMessage")


async def test_shared_question_defuses_mass_mentions_and_masked_links(fake, start_app, brain, store):
    bot = await start_app(brain, store)
    # As Slack delivers it: real mentions as <!channel>, typed ones as words, URLs auto-linked.
    question = (f"<!channel> @here @everyone is [the official guide](<{EVIL}>) right that AI engineers "
                "need a PhD?")
    await bot.send.command(slash_command("/career", question, response_url=fake.response_url()))
    (private,) = await fake.wait_for("response")
    await bot.send.action(press(fake, private, "share:", ephemeral=True))
    (public,) = await fake.wait_for("chat.postMessage")
    shown = posted_text(public)
    assert "PhD" in shown
    assert not MASS.search(shown), shown
    assert f"<{EVIL}|" not in shown, "the user's label must not mask the address in the bot's post"
    assert EVIL in shown
    sections = [b for b in public.params["blocks"] if b.get("type") == "section"]
    assert sections and all(b["text"].get("verbatim") is True for b in sections)


async def test_a_hundred_share_presses_make_one_public_post(fake, start_app, brain, store):
    bot = await start_app(brain, store)
    await bot.send.command(slash_command("/career", "What does an AI engineer do?", response_url=fake.response_url()))
    (private,) = await fake.wait_for("response")
    assert [b for _, b in buttons_in(private.params["blocks"]) if b["value"].startswith("share:")]
    for _ in range(100):
        assert (await bot.send.action(press(fake, private, "share:", ephemeral=True))).status == 200
    await settle(bot)
    assert len(fake.calls_to("chat.postMessage")) == 1
    notes = [body_text(c) for c in fake.calls_to("response")[1:]]
    assert len(notes) == 99 and all("already" in n or "faster" in n for n in notes), set(notes)
