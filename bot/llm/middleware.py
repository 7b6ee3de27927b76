"""Agent middleware: the per-call budget around every model call, and what it records.

`create_agent` runs middleware around each model call. Ours (innermost, inside the retry
middleware, so every attempt gets its own budget) does four things that must hold for *each* call
rather than once per answer: it repairs the history the model is sent, enforces the per-call
timeout and the cap on calls per answer, refuses a response with a malformed tool call, and adds
the call's token usage and latency to the turn's record.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from langchain.agents.middleware import AgentMiddleware, ModelRequest, ModelResponse
from langchain_core.messages import AIMessage, RemoveMessage
from langgraph.graph.message import REMOVE_ALL_MESSAGES

from bot.career import ToolContext
from bot.llm.errors import AgentFailure
from bot.llm.memory import repair_history

__all__ = ["CallBudgetMiddleware", "SeedHistoryMiddleware", "TurnContext"]


@dataclass
class TurnContext(ToolContext):
    """`ToolContext` plus what one answer cost; passed to the graph as its runtime context."""

    seed: list[Any] = field(default_factory=list)
    model_calls: int = 0
    model_seconds: float = 0.0
    usage: dict[str, int] = field(default_factory=lambda: {"input_tokens": 0, "output_tokens": 0,
                                                            "total_tokens": 0})

    def add_usage(self, message: AIMessage) -> None:
        for key, value in (message.usage_metadata or {}).items():
            if key in self.usage and isinstance(value, int):
                self.usage[key] += value


class CallBudgetMiddleware(AgentMiddleware):
    """Timeout, call cap, malformed-output check and accounting for each model call.

    Args:
        timeout: seconds one model call may take (the provider client has the same timeout; this
            one also covers clients that ignore theirs).
        max_calls: model calls allowed per answer; a model looping on tools is stopped.
    """

    def __init__(self, *, timeout: float, max_calls: int) -> None:
        super().__init__()
        self.timeout = timeout
        self.max_calls = max_calls

    async def awrap_model_call(
        self,
        request: ModelRequest,
        handler: Callable[[ModelRequest], Awaitable[ModelResponse]],
    ) -> ModelResponse | AIMessage:
        context = request.runtime.context if request.runtime is not None else None
        turn = context if isinstance(context, TurnContext) else None
        if turn is not None:
            turn.model_calls += 1
            if turn.model_calls > self.max_calls:
                raise AgentFailure("too_many_steps", f"more than {self.max_calls} model calls")
        request = request.override(messages=repair_history(request.messages))
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout):
                response = await handler(request)
        except TimeoutError as exc:
            raise AgentFailure("timeout", f"model call exceeded {self.timeout:g}s") from exc
        finally:
            if turn is not None:
                turn.model_seconds += time.perf_counter() - started
        for message in _messages(response):
            if isinstance(message, AIMessage):
                if turn is not None:
                    turn.add_usage(message)
                if message.invalid_tool_calls:
                    names = ", ".join(str(c.get("name")) for c in message.invalid_tool_calls)
                    raise AgentFailure("malformed_tool_call", names)
        return response


class SeedHistoryMiddleware(AgentMiddleware):
    """Start a conversation the agent has no memory of from the transcript the brain kept.

    Earlier turns may have been answered offline (before an LLM was configured, or during an
    outage); the person saw them, so the model should too. Done inside the run, where the stored
    state is already loaded, to spare every turn an extra read of the checkpoint.
    """

    async def abefore_agent(self, state: Any, runtime: Any) -> dict[str, Any] | None:
        context = getattr(runtime, "context", None)
        messages = state["messages"]
        if not isinstance(context, TurnContext) or not context.seed or len(messages) != 1:
            return None
        return {"messages": [RemoveMessage(id=REMOVE_ALL_MESSAGES), *context.seed, *messages]}


def _messages(response: Any) -> list[Any]:
    if isinstance(response, AIMessage):
        return [response]
    return list(getattr(response, "result", []) or [])
