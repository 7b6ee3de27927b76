"""Shared fixtures: one real knowledge base per test session, a fresh store and brain per test.

The embedding model and the FAISS index are the expensive part (seconds), so they are built once
per session into a temporary folder from the project's own articles; each test gets its own
SQLite file and its own `Brain` on it, so tests never share state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.brain import Brain
from bot.config import Settings
from bot.runtime import Knowledge, build_brain
from bot.store import Store, open_store

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED = PROJECT_ROOT.parent / "shared"
PUBLIC_URL = "https://careerbot.example"


@pytest.fixture(scope="session")
def base_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data = tmp_path_factory.mktemp("careerbot-data")
    # Citations link to the project's article pages when CAREERBOT_PUBLIC_URL is set; tests set it
    # so every answer's sources carry a checkable link.
    return Settings(data_dir=data, index_dir=data / "index", knowledge_dir=PROJECT_ROOT / "knowledge",
                    public_url=PUBLIC_URL)


@pytest.fixture(scope="session")
def knowledge(base_settings: Settings) -> Knowledge:
    """The real embedding model and a real FAISS + BM25 index over knowledge/articles."""
    return Knowledge.load(base_settings)


@pytest.fixture
def settings(base_settings: Settings, tmp_path: Path) -> Settings:
    """Per-test settings: own data dir (database, charts), shared index."""
    return replace(base_settings, data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'careerbot.sqlite3'}")


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    s = open_store(settings.database_url)
    yield s
    s.close()


@pytest.fixture
def brain(settings: Settings, knowledge: Knowledge, store: Store) -> Brain:
    """The real brain (retrieval, fit, plans, quiz) on this test's own SQLite store."""
    return build_brain(settings, knowledge, store)


@pytest.fixture
def make_brain(settings: Settings, knowledge: Knowledge) -> Callable[[Store], Brain]:
    """Build further brains on a given store, e.g. to simulate a restart on the same database."""
    return lambda store: build_brain(settings, knowledge, store)
