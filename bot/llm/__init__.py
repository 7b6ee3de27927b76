"""The LLM-driven answer path (optional: only imported when `CAREERBOT_LLM` is set).

`build_agent(settings, services, store, quiz)` returns the brain's `AgentFn`; see `bot.llm.agent`.
"""

from __future__ import annotations

from bot.llm.agent import AgentOptions, LLMAgent, build_agent
from bot.llm.errors import AgentFailure
from bot.llm.models import ModelSpec, parse_model_spec

__all__ = ["AgentFailure", "AgentOptions", "LLMAgent", "ModelSpec", "build_agent", "parse_model_spec"]
