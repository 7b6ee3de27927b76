"""discord.py conventions: every README command registered, commands synced only when they change,
buttons dispatched as `DynamicItem`s, and command failures answered from the cog's error hook.
"""

from __future__ import annotations

import json
from typing import Any

import discord
from discord import app_commands
from fake_discord import APP_ID, FakeDiscord, user_payload

from adapters.discord.client import SYNC_STATE_FILE, command_tree_hash
from adapters.discord.commands_cog import COMMAND_NAMES

ALICE = user_payload(100000000000000001, "alice")
SYNC = rf"/applications/{APP_ID}/commands"


def test_every_command_the_readme_lists_is_registered() -> None:
    from pathlib import Path

    readme = (Path(__file__).parents[3] / "README.md").read_text()
    promised = readme.split("In chat (terminal, Slack, Discord):", 1)[1].split("\n\n", 1)[0]
    for name in ("quiz", "quiz-reset", "quiz-status", "quiz-cancel", "career", "plan", "forget", "help"):
        assert f"`/{name}" in promised, name
        assert name in COMMAND_NAMES


async def test_commands_sync_once_then_only_when_their_definitions_change(fake: FakeDiscord, start_bot, brain,
                                                                           tmp_path) -> None:
    bot = await start_bot(brain)
    first = await fake.wait_call("PUT", SYNC)
    assert sorted(c["name"] for c in first.json) == sorted(COMMAND_NAMES)
    stored = json.loads((tmp_path / SYNC_STATE_FILE).read_text())
    assert stored == {f"{APP_ID}:global": command_tree_hash(bot.tree, None)}
    await bot.close()

    await start_bot(brain)  # a restart with the same commands: no sync
    assert len(fake.find_calls("PUT", SYNC)) == 1

    stored[f"{APP_ID}:global"] = "0" * 64  # as if an older version had synced other definitions
    (tmp_path / SYNC_STATE_FILE).write_text(json.dumps(stored))
    await start_bot(brain)
    await fake.until(lambda: len(fake.find_calls("PUT", SYNC)) == 2, what="a second sync")


def test_the_hash_follows_the_command_definitions() -> None:
    client = discord.Client(intents=discord.Intents.none())
    tree = app_commands.CommandTree(client)

    @tree.command(name="quiz", description="Take the quiz")
    async def quiz(interaction: discord.Interaction) -> None: ...

    before = command_tree_hash(tree, None)
    assert command_tree_hash(tree, None) == before  # stable
    quiz.description = "Take the fit quiz"
    assert command_tree_hash(tree, None) != before


async def test_quiz_status_and_cancel_commands_answer(fake: FakeDiscord, start_bot, brain) -> None:
    await start_bot(brain)
    for name in ("quiz-status", "quiz-cancel"):
        payload = fake.command_interaction(ALICE, name)
        fake.register_interaction(payload)
        await fake.dispatch("INTERACTION_CREATE", payload)
        call = await fake.wait_call("POST", rf"/interactions/\d+/{payload['token']}/callback")
        data = call.json["data"]
        text = (data.get("content") or "") + "".join(e.get("description") or "" for e in data.get("embeds") or [])
        assert "quiz" in text.lower(), (name, text)
    status_call = fake.find_calls("POST", r"/interactions/\d+/[^/]+/callback")[0]
    assert status_call.json["data"]["flags"] & 64, "quiz status is private"




async def test_a_failing_command_gets_a_private_apology_from_the_cog_hook(fake: FakeDiscord, start_bot, brain,
                                                                          monkeypatch: Any) -> None:
    from adapters.discord.respond import Responder

    async def explode(self: Responder, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("delivery bug")

    monkeypatch.setattr(Responder, "answer_interaction", explode)
    await start_bot(brain)
    payload = fake.command_interaction(ALICE, "help")
    fake.register_interaction(payload)
    await fake.dispatch("INTERACTION_CREATE", payload)
    call = await fake.wait_call("POST", rf"/interactions/\d+/{payload['token']}/callback")
    assert call.json["data"]["flags"] & 64
    assert "something went wrong" in call.json["data"]["content"]
