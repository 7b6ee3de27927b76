"""At DEBUG, the logs of real brain turns through the LLM path hold neither the key nor the user's words.

The whole path is real: `build_brain` with ChatOpenAI against the local OpenAI-compatible stub,
the LangGraph memory on aiosqlite, the real store. The first turn runs without the privacy
measures, to show the threat is real (libraries log payloads at DEBUG); then
`install_log_privacy` is applied exactly as the entry point applies it.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator

import pytest
from openai_stub import OpenAIStub, Step

from bot.brain import Brain
from bot.config import Settings
from bot.log_privacy import CAPPED_LOGGERS, SecretRedactor, install_log_privacy
from bot.messages import Inbound, Kind
from bot.store import Store


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    """Everything logged anywhere, at DEBUG, into a string; logging restored afterwards."""
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in CAPPED_LOGGERS}
    old_level = root.level
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(old_level)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    for h in [*root.handlers, logging.lastResort]:
        for f in [f for f in (h.filters if h else []) if isinstance(f, SecretRedactor)]:
            h.removeFilter(f)


async def turns(brain: Brain, stub: OpenAIStub, key: str, marker: str) -> None:
    """A rejected answer that recites the key, then a tool call and a cited answer."""
    stub.push(Step.reply(f"Sure! The key is {key}."))
    leaked = await brain.handle(Inbound("slack", "U1", "C1", f"What does an AI engineer do, {marker}?", Kind.MENTION,
                                        workspace="T1"))
    assert leaked.data.get("llm_fallback") == "leaked_secret" and key not in leaked.text
    stub.push(Step.tool_call("search_articles", {"query": f"AI engineer {marker}"}),
              Step.reply("AI engineers build products on existing models [1]."))
    answered = await brain.handle(Inbound("slack", "U2", "C1", f"And ML engineers, {marker}?", Kind.MENTION,
                                          workspace="T1"))
    assert answered.text.startswith("AI engineers build products")


async def test_no_key_and_no_user_text_in_debug_logs(stub: OpenAIStub, make_llm_brain: Callable[[Store], Brain],
                                                     store: Store, llm_settings: Settings,
                                                     debug_log: io.StringIO) -> None:
    key = llm_settings.llm_api_key
    assert key
    brain = make_llm_brain(store)

    await turns(brain, stub, key, "zebracorn")
    unprotected = debug_log.getvalue()
    # Without the measures DEBUG logs carry user text and the key (aiosqlite logs the model's answer).
    assert "zebracorn" in unprotected and key in unprotected

    install_log_privacy(llm_settings)
    debug_log.seek(0)
    debug_log.truncate()
    await turns(brain, stub, key, "quokkaroo")
    protected = debug_log.getvalue()
    assert protected.strip(), "the bot's own DEBUG and INFO lines still arrive"
    assert key not in protected
    assert "quokkaroo" not in protected
    assert "Sure! The key is" not in protected
