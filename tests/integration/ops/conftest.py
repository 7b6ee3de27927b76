"""Fixtures for operating the bot: both platform fakes, free ports, an HTTP client for the ops routes.

The Slack and Discord fakes live in their own test folders; this folder uses both (several
platforms at once), so it puts those folders on the import path.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

HERE = Path(__file__).resolve().parent
for folder in (HERE.parent / "slack", HERE.parent / "discord", HERE.parent / "llm"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from fake_discord import FakeDiscord, discord_endpoints_restored  # noqa: E402
from slack_fake_api import FakeSlack  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(autouse=True)
def _restore_discord_endpoints() -> Any:
    with discord_endpoints_restored():
        yield


@pytest.fixture
async def slack_fake() -> AsyncIterator[FakeSlack]:
    server = await FakeSlack().start()
    yield server
    await server.stop()


@pytest.fixture
async def discord_fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        yield server


class OpsClient:
    """GETs the operator routes of a running bot on 127.0.0.1:`port`."""

    def __init__(self, session: aiohttp.ClientSession, port: int) -> None:
        self.session, self.port = session, port

    async def get(self, path: str) -> tuple[int, str]:
        async with self.session.get(f"http://127.0.0.1:{self.port}{path}") as resp:
            return resp.status, await resp.text()

    async def until_ready(self, task: asyncio.Task[Any] | None = None, timeout: float = 20.0) -> dict[str, Any]:
        """Poll /readyz until 200 (a failed serving task fails the test at once with its error)."""
        import json

        deadline = asyncio.get_running_loop().time() + timeout
        last = "no answer"
        while asyncio.get_running_loop().time() < deadline:
            if task is not None and task.done():
                task.result()
                raise AssertionError("the bot stopped before it was ready")
            try:
                status, text = await self.get("/readyz")
            except aiohttp.ClientConnectionError:
                status, text = 0, "connection refused"
            if status == 200:
                return json.loads(text)
            last = f"{status} {text}"
            await asyncio.sleep(0.05)
        raise AssertionError(f"/readyz never became 200: {last}")


Serve = Callable[[Awaitable[Any]], asyncio.Task[Any]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Run serving coroutines as tasks; cancel them (like SIGTERM) after the test."""
    tasks: list[asyncio.Task[Any]] = []

    def start(coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        tasks.append(task)
        return task

    yield start
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(task, 15)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session
