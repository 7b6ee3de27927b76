"""The LLM answer path: a LangChain `create_agent` graph over the brain's tools, with memory.

`build_agent` returns an `LLMAgent`, which the brain calls as its `AgentFn` for free-text
questions, self-descriptions and plan requests. Construction is cheap and offline: it validates
the model choice (a missing package or key fails at start-up with one line) and builds the tools.
Everything bound to an event loop (the HTTP client, the checkpointer, the compiled graph, the
concurrency slots) is created on first use inside the running loop and released by `aclose()`.

Each answer is bounded: it waits at most `queue_timeout` for one of `max_concurrency` slots, each
model call gets `call_timeout` and at most `max_retries` retries (not for timeouts), an answer makes
at most `max_model_calls` calls, and the whole answer has `turn_timeout`. Any failure raises
`AgentFailure`, and the brain answers offline instead. A failed turn is removed from memory, so
the conversation is never left half-written.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

from bot.career import CareerServices, build_tools
from bot.config import Settings
from bot.intents import classify
from bot.llm.errors import AgentFailure, failure_reason, is_retryable
from bot.llm.guard import OutputGuard
from bot.llm.memory import open_checkpointer, summarize_messages
from bot.llm.middleware import CallBudgetMiddleware, SeedHistoryMiddleware, TurnContext
from bot.llm.models import ModelSpec, parse_model_spec
from bot.llm.prompts import build_system_prompt, new_canary
from bot.messages import Inbound, Reply
from bot.store.base import Store, Turn

__all__ = ["AgentOptions", "LLMAgent", "build_agent"]

_log = logging.getLogger(__name__)

ModelFactory = Callable[[], tuple[Any, list[Callable[[], Any]]]]
"""Builds a chat model plus coroutine functions that close its clients (see `ModelSpec.create`)."""


@dataclass(frozen=True)
class AgentOptions:
    """Limits for one agent; the defaults suit a chat bot with a person waiting.

    Attributes:
        call_timeout: seconds per model call (`CAREERBOT_LLM_TIMEOUT`).
        turn_timeout: seconds for a whole answer (tool rounds included); None means 3 calls' worth.
        max_retries: retries per model call for 429, 5xx and dropped connections.
        retry_delay: first backoff in seconds (doubles, capped at 2 s, with jitter).
        max_concurrency: answers in flight at once per process (excess ones wait for a slot).
        queue_timeout: seconds to wait for a slot before answering offline; None means call_timeout.
        max_model_calls: model calls per answer (a tool round costs one).
        summarize_after_tokens: history size (approximate tokens) that triggers summarisation.
        summarize_after_messages: history length that triggers summarisation.
        keep_messages: recent messages kept verbatim when summarising.
    """

    call_timeout: float = 20.0
    turn_timeout: float | None = None
    max_retries: int = 2
    retry_delay: float = 0.25
    max_concurrency: int = 64
    queue_timeout: float | None = None
    max_model_calls: int = 4
    summarize_after_tokens: int = 6000
    summarize_after_messages: int = 40
    keep_messages: int = 10

    @property
    def answer_budget(self) -> float:
        return self.turn_timeout if self.turn_timeout is not None else self.call_timeout * 3

    @property
    def slot_wait(self) -> float:
        return self.queue_timeout if self.queue_timeout is not None else self.call_timeout


@dataclass
class _LoopResources:
    """What one event loop holds: the graph, its checkpointer and clients, the slots, the locks."""

    graph: Any
    stack: AsyncExitStack
    release: Callable[[], None]
    slots: asyncio.Semaphore
    thread_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = field(
        default_factory=weakref.WeakValueDictionary)


class LLMAgent:
    """An `AgentFn`: `await agent(inbound, text, recent_turns) -> Reply`, raising `AgentFailure` on failure.

    Args:
        model_factory: builds the chat model (once per event loop).
        tools: the LangChain tools (from `bot.career.build_tools`).
        database_url: where conversation memory goes (SQLite file under `data_dir`, or PostgreSQL).
        data_dir: folder for the SQLite memory file.
        options: limits (see `AgentOptions`).
        secrets: values an answer must never contain.
        label: the model as configured, for logs and `Reply.data`.
    """

    def __init__(
        self,
        model_factory: ModelFactory,
        tools: Sequence[Any],
        *,
        database_url: str,
        data_dir: Any,
        options: AgentOptions | None = None,
        secrets: Sequence[str] = (),
        label: str = "llm",
    ) -> None:
        self._model_factory = model_factory
        self._tools = list(tools)
        self._database_url = database_url
        self._data_dir = data_dir
        self.options = options or AgentOptions()
        self.label = label
        self._canary = new_canary()
        self.system_prompt = build_system_prompt(self._canary)
        self._guard = OutputGuard(self.system_prompt, self._canary, secrets)
        self._resources: dict[asyncio.AbstractEventLoop, _LoopResources] = {}
        self._opening: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}
        self._registry_lock = threading.Lock()

    # --- the AgentFn ----------------------------------------------------------------------
    async def __call__(self, inbound: Inbound, text: str, history: Sequence[Turn] = ()) -> Reply:
        """Answer `text` in `inbound`'s conversation; raise `AgentFailure` when it cannot."""
        started = time.perf_counter()
        turn = TurnContext(user_key=inbound.user_key, conversation_key=inbound.conversation_key)
        thread_id = inbound.conversation_key
        try:
            resources = await self._loop_resources()
        except Exception as exc:  # e.g. PostgreSQL unreachable: answer offline, try again next time
            self._log_failure(thread_id, "memory_unavailable", started, turn)
            raise AgentFailure("memory_unavailable", str(exc)[:200]) from exc
        try:
            async with asyncio.timeout(self.options.slot_wait):
                await resources.slots.acquire()
        except TimeoutError:
            self._log_failure(thread_id, "busy", started, turn)
            raise AgentFailure("busy", "no free slot for the model") from None
        try:
            lock = resources.thread_locks.get(thread_id)
            if lock is None:
                lock = resources.thread_locks[thread_id] = asyncio.Lock()
            async with lock:  # one turn at a time per conversation, or the two would fork its memory
                return await self._answer(resources.graph, inbound, text, history, turn, started)
        finally:
            resources.slots.release()

    async def _answer(self, graph: Any, inbound: Inbound, text: str, history: Sequence[Turn],
                      turn: TurnContext, started: float) -> Reply:
        from langchain_core.messages import AIMessage, HumanMessage

        config = {"configurable": {"thread_id": inbound.conversation_key},
                  "metadata": {"user_key": inbound.user_key, "platform": inbound.platform},
                  "recursion_limit": 4 * self.options.max_model_calls + 4}
        question = HumanMessage(text, id=f"q-{uuid.uuid4().hex}")
        turn.seed = _seed_messages(history)  # used only if the conversation is new to the agent
        try:
            async with asyncio.timeout(self.options.answer_budget):
                result = await graph.ainvoke({"messages": [question]}, config, context=turn, durability="exit")
            messages = _from(result["messages"], question.id)
            final = messages[-1] if messages else None
            if not isinstance(final, AIMessage) or final.tool_calls:
                raise AgentFailure("no_answer", "the model ended without a final answer")
            sources = turn.citations.sources
            checked = self._guard.check(final.text, sources)
            if checked.problem:
                raise AgentFailure(checked.problem)
        except BaseException as exc:
            # Cancellation (the adapter gave up, shutdown) also rolls back, then propagates as is.
            reason = "cancelled" if isinstance(exc, asyncio.CancelledError) else failure_reason(exc)
            await self._roll_back(graph, config, question.id)
            self._log_failure(inbound.conversation_key, reason, started, turn)
            if isinstance(exc, AgentFailure) or not isinstance(exc, Exception):
                raise
            raise AgentFailure(reason, str(exc)[:200]) from exc
        latency_ms = round((time.perf_counter() - started) * 1000)
        tools_used = [m.name for m in messages if m.type == "tool"]
        record = {"model": self.label, "latency_ms": latency_ms, "model_ms": round(turn.model_seconds * 1000),
                  "model_calls": turn.model_calls, "usage": dict(turn.usage), "tools": tools_used,
                  "cited": list(checked.cited)}
        _log.info("llm answer conversation=%s model=%s latency_ms=%d model_calls=%d input_tokens=%d "
                  "output_tokens=%d tools=%s sources=%d", _short(inbound.conversation_key), self.label, latency_ms,
                  turn.model_calls, turn.usage["input_tokens"], turn.usage["output_tokens"],
                  ",".join(tools_used) or "-", len(sources))
        return Reply(text=checked.text, intent=classify(text).value, sources=tuple(sources),
                     data={"llm": record})

    # --- memory maintenance ----------------------------------------------------------------
    async def forget_conversations(self, conversation_keys: Sequence[str]) -> int:
        """Delete the agent's memory of these conversations (for `/forget`); returns how many were asked."""
        resources = await self._loop_resources()
        checkpointer = resources.graph.checkpointer
        for key in conversation_keys:
            await checkpointer.adelete_thread(key)
        return len(conversation_keys)

    async def forget_user(self, user_key: str) -> int:
        """Delete every conversation memory a user's messages were stored in; returns the count."""
        resources = await self._loop_resources()
        checkpointer = resources.graph.checkpointer
        threads = {item.config["configurable"]["thread_id"]
                   async for item in checkpointer.alist(None, filter={"user_key": user_key})}
        for thread_id in threads:
            await checkpointer.adelete_thread(thread_id)
        return len(threads)

    async def aclose(self) -> None:
        """Close the clients and the checkpointer opened in this loop (and drop dead loops' ones)."""
        loop = asyncio.get_running_loop()
        with self._registry_lock:
            self._drop_dead_loops()
            resources = self._resources.pop(loop, None)
            self._opening.pop(loop, None)
        if resources is not None:
            await resources.stack.aclose()

    # --- internals ---------------------------------------------------------------------------
    async def _loop_resources(self) -> _LoopResources:
        loop = asyncio.get_running_loop()
        resources = self._resources.get(loop)
        if resources is not None:
            return resources
        with self._registry_lock:
            self._drop_dead_loops()
            opening = self._opening.setdefault(loop, asyncio.Lock())
        async with opening:
            resources = self._resources.get(loop)
            if resources is None:
                resources = await self._open()
                with self._registry_lock:
                    self._resources[loop] = resources
        return resources

    async def _open(self) -> _LoopResources:
        from langchain.agents import create_agent
        from langchain.agents.middleware import ModelRetryMiddleware, SummarizationMiddleware

        stack = AsyncExitStack()
        try:
            model, closers = self._model_factory()
            for close in closers:
                stack.push_async_callback(close)
            checkpointer, release = await open_checkpointer(self._database_url, self._data_dir, stack)
            opts = self.options
            middleware = [
                SeedHistoryMiddleware(),
                SummarizationMiddleware(
                    model, trigger=[("tokens", opts.summarize_after_tokens), ("messages", opts.summarize_after_messages)],
                    keep=("messages", opts.keep_messages), summarizer=summarize_messages),
                ModelRetryMiddleware(max_retries=opts.max_retries, retry_on=is_retryable, on_failure="error",
                                     initial_delay=opts.retry_delay, backoff_factor=2.0, max_delay=2.0),
                CallBudgetMiddleware(timeout=opts.call_timeout, max_calls=opts.max_model_calls),
            ]
            graph = create_agent(model, self._tools, system_prompt=self.system_prompt, middleware=middleware,
                                 context_schema=TurnContext, checkpointer=checkpointer, name="careerbot")
        except BaseException:
            await stack.aclose()
            raise
        return _LoopResources(graph=graph, stack=stack, release=release,
                              slots=asyncio.Semaphore(self.options.max_concurrency))

    def _drop_dead_loops(self) -> None:
        for loop in [lp for lp in self._resources if lp.is_closed()]:
            self._resources.pop(loop).release()
            self._opening.pop(loop, None)
        for loop in [lp for lp in self._opening if lp.is_closed()]:
            self._opening.pop(loop, None)

    async def _roll_back(self, graph: Any, config: dict[str, Any], question_id: str | None) -> None:
        """Remove this turn's messages from memory, so a failed turn leaves no trace for the next one."""
        from langchain_core.messages import RemoveMessage

        try:
            async with asyncio.timeout(5):
                snapshot = await graph.aget_state(config)
                stored = snapshot.values.get("messages", []) if snapshot.values else []
                removals = [RemoveMessage(id=m.id) for m in _from(stored, question_id)]
                if removals:
                    await graph.aupdate_state(config, {"messages": removals}, as_node="model")
        except Exception:
            _log.warning("could not roll back a failed LLM turn in conversation %s",
                         _short(config["configurable"]["thread_id"]), exc_info=True)

    def _log_failure(self, conversation_key: str, reason: str, started: float, turn: TurnContext) -> None:
        _log.warning("llm failed conversation=%s model=%s reason=%s latency_ms=%d model_calls=%d",
                     _short(conversation_key), self.label, reason, round((time.perf_counter() - started) * 1000),
                     turn.model_calls)


def build_agent(settings: Settings, services: CareerServices, store: Store, quiz: Any | None = None, *,
                model: Any | None = None, options: AgentOptions | None = None) -> LLMAgent:
    """The brain's LLM `AgentFn` for `settings` (cheap: no network until the first answer).

    Args:
        settings: `llm`, `llm_base_url`, `llm_api_key`, `llm_timeout`, `database_url`, `data_dir`, `secrets`.
        services: the knowledge services the tools call.
        store: kept for symmetry with the brain; memory lives in the checkpointer.
        quiz: anything with `status_text(user_key)`; the quiz_status tool answers for the asker only.
        model: a ready chat model instead of `settings.llm` (tests pass a scripted fake).
        options: limits; by default from settings (timeout) and `AgentOptions` defaults.

    Raises:
        ConfigError: the provider package is missing, the key is not set, or the value is malformed.
    """
    del store  # conversation memory is the checkpointer's; the store keeps the transcript the brain writes
    if model is not None:
        factory: ModelFactory = lambda: (model, [])  # noqa: E731
        label = getattr(model, "model_name", None) or type(model).__name__
    else:
        spec: ModelSpec = parse_model_spec(settings)
        factory, label = spec.create, spec.label
    if options is None:
        concurrency = getattr(settings, "llm_concurrency", None) or AgentOptions.max_concurrency
        options = AgentOptions(call_timeout=settings.llm_timeout, max_concurrency=int(concurrency))
    status = getattr(quiz, "status_text", None)
    tools = build_tools(services, status)
    return LLMAgent(factory, tools, database_url=settings.database_url, data_dir=settings.data_dir,
                    options=options, secrets=settings.secrets, label=label)


def _seed_messages(history: Sequence[Turn]) -> list[Any]:
    """Turns the store remembers (e.g. answered offline) as messages, for a conversation new to the agent."""
    from langchain_core.messages import AIMessage, HumanMessage

    seeded: list[Any] = []
    for turn in history[-8:]:
        if turn.role == "user":
            seeded.append(HumanMessage(turn.text[:2000]))
        elif turn.role == "assistant":
            seeded.append(AIMessage(turn.text[:2000]))
    return seeded


def _from(messages: Sequence[Any], message_id: str | None) -> list[Any]:
    """`messages` from the one with `message_id` on (empty if it is not there)."""
    for index, message in enumerate(messages):
        if message.id == message_id:
            return list(messages[index:])
    return []


def _short(key: str) -> str:
    """A stable, non-identifying handle for a conversation in logs."""
    return hashlib.sha256(key.encode()).hexdigest()[:10]

