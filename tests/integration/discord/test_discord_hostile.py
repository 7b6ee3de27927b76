"""Attacks on the Discord adapter through the gateway fake: masked links and mass mentions in shares,
and a share button pressed over and over."""

from __future__ import annotations

import re

from fake_discord import FakeDiscord
from test_discord_adapter import (
    ALICE,
    CALLBACK,
    body_of,
    buttons,
    callback_for,
    embed_text,
    press,
    run_command,
)

EVIL = "https://evil.example/login"


async def test_shared_question_keeps_user_links_plain_and_posts_once(fake: FakeDiscord, start_bot, brain) -> None:
    await start_bot(brain)
    question = f"@everyone is [the official guide]({EVIL}) right that AI engineers need a PhD?"
    token = await run_command(fake, ALICE, "career", {"question": question, "private": True})
    private = await callback_for(fake, token)
    assert private.json["data"]["flags"] & 64
    message = fake.messages[fake.interactions[token]["original"]]
    share = next(b["custom_id"] for b in buttons(message) if b["custom_id"].startswith("share:"))

    share_token, _ = await press(fake, ALICE, message, share)
    shared = body_of(await callback_for(fake, share_token))
    text = embed_text(shared)
    assert "PhD" in text and not (int(shared.get("flags") or 0) & 64), "the share is public"
    assert re.search(r"\]\(\s*<?" + re.escape(EVIL), text) is None, "no masked link to the user's URL"
    assert EVIL in text and "@everyone" not in text
    assert shared["allowed_mentions"]["parse"] == []

    tokens = [(await press(fake, ALICE, message, share))[0] for _ in range(20)]
    for t in tokens:
        again = body_of(await callback_for(fake, t))
        assert int(again.get("flags") or 0) & 64, "repeated presses are answered privately"
    public = [c for c in fake.find_calls("POST", CALLBACK) if not int(body_of(c).get("flags") or 0) & 64]
    assert len(public) == 1
