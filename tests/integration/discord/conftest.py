"""Fixtures: the fake Discord, a store, the brain, and a running discord.py bot against the fake."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import discord
import pytest
from fake_discord import TOKEN, FakeDiscord, discord_endpoints_restored

from adapters.discord import build_discord_bot
from bot.config import Settings


@pytest.fixture(autouse=True)
def _restore_discord_endpoints() -> Any:
    """The factory sets discord.py's process-wide endpoints; put them back after each test."""
    with discord_endpoints_restored():
        yield


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        yield server


@pytest.fixture
def discord_store(store: Any) -> Any:
    """The test's store (tests/conftest.py), shared by the adapter and the brain."""
    return store


StartBot = Callable[..., Awaitable[discord.Client]]


@pytest.fixture
async def start_bot(fake: FakeDiscord, discord_store: Any, tmp_path: Any) -> AsyncIterator[StartBot]:
    """Start the real discord.py bot against the fake and wait until it is READY.

    Every bot of a test shares the test's data folder (where the synced command hash is kept).
    """
    running: list[tuple[discord.Client, asyncio.Task[None]]] = []

    async def start(brain: Any, *, answer_budget: float = 1.5, typing_after: float = 0.4, **overrides: Any) -> discord.Client:
        settings = Settings(
            data_dir=tmp_path,
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
