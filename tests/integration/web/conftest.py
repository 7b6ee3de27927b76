"""The web app on the real brain and a real SQLite store, served on 127.0.0.1 by aiohttp."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from aiohttp.test_utils import TestClient, TestServer
from web_support import ADMIN_TOKEN

from adapters.web import build_web_app
from bot.brain import Brain
from bot.config import Settings
from bot.store import Store


@pytest.fixture
def web_settings(settings: Settings) -> Settings:
    # No public URL: cookies get `Secure` only over HTTPS here (citations keep the session's page URL).
    return replace(settings, admin_token=ADMIN_TOKEN, public_url="")


@pytest.fixture
async def client(web_settings: Settings, brain: Brain, store: Store) -> AsyncIterator[TestClient]:
    app = build_web_app(web_settings, brain, store)
    async with TestClient(TestServer(app, host="127.0.0.1")) as c:
        yield c
