"""Fixtures for the LLM integration tests: a scripted OpenAI-compatible server and brains that use it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

import pytest
from openai_stub import OpenAIStub

from bot.brain import Brain
from bot.config import Settings
from bot.runtime import Knowledge, build_brain
from bot.store import Store


@pytest.fixture
async def stub() -> AsyncIterator[OpenAIStub]:
    async with OpenAIStub() as server:
        yield server


@pytest.fixture
def llm_settings(settings: Settings, stub: OpenAIStub) -> Settings:
    """The test's settings with the real ChatOpenAI client pointed at the stub; 1 s per model call."""
    return replace(settings, llm="openai:stub-model", llm_base_url=stub.base_url, llm_timeout=1.0,
                   llm_api_key="sk-stub-secret-0123456789")


@pytest.fixture
async def make_llm_brain(llm_settings: Settings, knowledge: Knowledge) -> AsyncIterator[Callable[[Store], Brain]]:
    """Build brains wired exactly as `careerbot run` does (runtime.build_brain), closing their agents after."""
    brains: list[Brain] = []

    def make(store: Store, **changes: Any) -> Brain:
        brain = build_brain(replace(llm_settings, **changes) if changes else llm_settings, knowledge, store)
        brains.append(brain)
        return brain

    yield make
    for brain in brains:
        await brain.agent.aclose()  # type: ignore[union-attr]
