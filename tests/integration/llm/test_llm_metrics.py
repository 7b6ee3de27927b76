"""LLM calls and fallbacks reach the metrics through the brain's observers (real client, local stub)."""

from __future__ import annotations

from openai_stub import OpenAIStub, Step

from bot.messages import Inbound, Kind
from bot.ops import Metrics
from bot.runtime import build_brain


async def test_llm_answers_and_fallbacks_are_counted(stub: OpenAIStub, llm_settings, knowledge, store) -> None:
    metrics = Metrics()
    brain = build_brain(llm_settings, knowledge, store, observers=(metrics.observe,))
    try:
        stub.push(Step.reply("AI engineers build products on existing models."))
        first = await brain.handle(Inbound("slack", "U1", "C1", "What does an AI engineer do?", Kind.DM))
        stub.push(*[Step.error(500)] * 3)
        second = await brain.handle(Inbound("slack", "U2", "C1", "What does an ML engineer do?", Kind.DM))
    finally:
        await brain.agent.aclose()  # type: ignore[union-attr]
        brain.close()
    assert first.data["llm_outcome"] == "answered" and second.data["llm_outcome"] == "fallback"
    get = metrics.registry.get_sample_value
    assert get("careerbot_llm_calls_total", {"outcome": "answered"}) == 1
    assert get("careerbot_llm_calls_total", {"outcome": "fallback"}) == 1
    assert get("careerbot_llm_fallbacks_total", {"reason": "server_error"}) == 1
