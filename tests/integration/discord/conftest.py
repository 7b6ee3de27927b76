"""Fixtures: the fake Discord, a store, the brain, and a running discord.py bot against the fake."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import discord
import pytest
from fake_discord import TOKEN, FakeDiscord

from adapters.discord import build_discord_bot
from bot.config import Settings


@pytest.fixture(autouse=True)
def _restore_discord_endpoints() -> Any:
    """The factory sets discord.py's process-wide endpoints; put them back after each test."""
    base = discord.http.Route.BASE
    gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    yield
    discord.http.Route.BASE = base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = gateway


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        yield server


@pytest.fixture
def discord_store(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """The project's test store (`store` fixture of tests/conftest.py) when there is one, so the
    adapter and the brain share it; otherwise a SQLite store of our own."""
    try:
        yield request.getfixturevalue("store")
        return
    except pytest.FixtureLookupError:
        pass
    from bot.store.sqlite import SqliteStore

    store = SqliteStore(tmp_path / "discord.sqlite3")
    yield store
    store.close()


@pytest.fixture
def brain(request: pytest.FixtureRequest, discord_store: Any, tmp_path: Path) -> Any:
    """The real brain: tests/conftest.py's `brain` fixture, or a `brain_factory(store)` fixture.

    Without either, it is built here with `bot.runtime.build_brain` on a session-wide knowledge base.
    """
    for name in ("real_brain", "brain_factory", "make_brain"):
        try:
            value = request.getfixturevalue(name)
        except pytest.FixtureLookupError:
            continue
        return value(discord_store) if callable(value) and not hasattr(value, "handle") else value
    from bot.runtime import build_brain

    knowledge, settings = request.getfixturevalue("_discord_knowledge")
    return build_brain(settings, knowledge, discord_store)


@pytest.fixture(scope="session")
def _discord_knowledge(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The knowledge base loaded once for the session (the model load is the slow part)."""
    from bot.runtime import Knowledge

    data = tmp_path_factory.mktemp("discord-data")
    settings = Settings(data_dir=data, index_dir=data / "index")
    return Knowledge.load(settings), settings


StartBot = Callable[..., Awaitable[discord.Client]]


@pytest.fixture
async def start_bot(fake: FakeDiscord, discord_store: Any) -> AsyncIterator[StartBot]:
    """Start the real discord.py bot against the fake and wait until it is READY."""
    running: list[tuple[discord.Client, asyncio.Task[None]]] = []

    async def start(brain: Any, *, answer_budget: float = 1.5, typing_after: float = 0.4, **overrides: Any) -> discord.Client:
        settings = Settings(
            discord_token=TOKEN,
            discord_api_base_url=fake.api_base,
            discord_gateway_url=fake.gateway_url,
            **overrides,
        )
        bot = build_discord_bot(
            settings,
            brain,
            discord_store,
            answer_budget=answer_budget,
            typing_after=typing_after,
            guild_ready_timeout=0.2,  # READY waits this long after the last GUILD_CREATE
        )
        task = asyncio.create_task(bot.start(TOKEN))
        running.append((bot, task))
        ready = asyncio.create_task(bot.wait_until_ready())
        done, _ = await asyncio.wait({ready, task}, timeout=15, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            task.result()  # raise the startup error
        assert ready in done, "bot did not become ready"
        return bot

    yield start
    for bot, task in running:
        await bot.close()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
