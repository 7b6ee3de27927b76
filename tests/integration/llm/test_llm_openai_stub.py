"""The LLM path end to end: real Brain, real ChatOpenAI, real tools and index, a scripted HTTP server.

Nothing is mocked between the brain and the socket: `runtime.build_brain` builds the agent from
settings exactly as `careerbot run` does, and the stub on 127.0.0.1 answers with tool calls, text,
errors, delays and garbage. Each model call has a 1 s budget here.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable

import pytest
from openai_stub import OpenAIStub, Step

from bot.brain import Brain
from bot.career import passages_as_sources
from bot.config import Settings
from bot.messages import Inbound, Kind, Source
from bot.runtime import Knowledge
from bot.store import Store, open_store

NOTE = "The AI model isn't available right now"
QUESTION = "What does an AI engineer do compared with an ML engineer?"


def ask(text: str, *, user: str = "U1", channel: str = "C1", thread: str | None = None) -> Inbound:
    return Inbound("slack", user, channel, text, Kind.MENTION, thread=thread, workspace="T1")


def expected_sources(knowledge: Knowledge, query: str) -> list[Source]:
    """What search_articles returns for `query`, one entry per article (title, url), in rank order."""
    seen: dict[tuple[str, str], Source] = {}
    for source in passages_as_sources(knowledge.services.search(query, 5)):
        seen.setdefault((source.title, source.url), source)
    return list(seen.values())


async def test_tool_call_then_cited_answer_through_real_client(
        stub: OpenAIStub, make_llm_brain: Callable[[Store], Brain], store: Store, knowledge: Knowledge) -> None:
    query = "AI engineer vs ML engineer responsibilities"
    stub.push(Step.tool_call("search_articles", {"query": query}),
              Step.reply("AI engineers build products on existing models [1], while ML engineers train them [2]. "
                         "More at [this page](https://invented.example/ai)."))
    brain = make_llm_brain(store)

    reply = await brain.handle(ask(QUESTION))

    assert NOTE not in reply.text
    assert reply.text.startswith("AI engineers build products on existing models [1]")
    assert "invented.example" not in reply.text  # a URL no tool returned is reduced to its link text
    assert list(reply.sources) == expected_sources(knowledge, query)
    assert reply.data["llm"]["tools"] == ["search_articles"]
    assert reply.data["llm"]["model_calls"] == 2
    assert reply.data["llm"]["usage"]["total_tokens"] > 0
    assert reply.data["llm"]["latency_ms"] >= 0
    assert reply.data["answer_id"] and reply.buttons  # stored like any answer: feedback works

    first, second = stub.requests
    assert first["messages"][0]["role"] == "system"
    assert {t["function"]["name"] for t in first["tools"]} == {
        "search_articles", "assess_fit", "learning_plan", "quiz_status"}
    assert first["messages"][-1] == {"role": "user", "content": QUESTION}
    tool_result = second["messages"][-1]
    assert tool_result["role"] == "tool" and "<passage source=\"1\"" in tool_result["content"]
    assert "sk-stub-secret" not in str(stub.requests)  # the key travels in a header, never in a prompt


@pytest.mark.parametrize(("steps", "reason", "requests"), [
    pytest.param([Step.slow(1.6)], "timeout", 1, id="slow"),
    pytest.param([Step.error(500)] * 3, "server_error", 3, id="500"),
    pytest.param([Step.error(429, headers={"retry-after": "0"})] * 3, "rate_limited", 3, id="429"),
    pytest.param([Step.garbage()], "bad_response", 1, id="garbage-json"),
    pytest.param([Step.malformed_tool_call()], "malformed_tool_call", 1, id="malformed-tool-call"),
])
async def test_failures_fall_back_to_offline_answer_with_note(
        stub: OpenAIStub, make_llm_brain: Callable[[Store], Brain], store: Store,
        steps: list[Step], reason: str, requests: int) -> None:
    stub.push(*steps)
    brain = make_llm_brain(store)

    reply = await brain.handle(ask(QUESTION))

    assert reply.intent == "question"  # never the "something went wrong" error reply
    assert reply.text.startswith(f"_{NOTE}")
    assert reply.sources, "the offline composer still cites the knowledge base"
    assert reply.data["llm_fallback"] == reason
    assert len(stub.requests) == requests  # retries are bounded; timeouts and bad output are not retried


async def test_transient_error_is_retried_then_answered(
        stub: OpenAIStub, make_llm_brain: Callable[[Store], Brain], store: Store) -> None:
    stub.push(Step.error(503), Step.tool_call("search_articles", {"query": "AI engineer role"}),
              Step.error(429, headers={"retry-after": "0"}), Step.reply("AI engineers ship products [1]."))
    brain = make_llm_brain(store)

    reply = await brain.handle(ask(QUESTION))

    assert reply.text == "AI engineers ship products [1]."
    assert len(stub.requests) == 4


async def test_failed_turn_leaves_no_trace_in_memory(
        stub: OpenAIStub, make_llm_brain: Callable[[Store], Brain], store: Store) -> None:
    brain = make_llm_brain(store)
    stub.push(Step.tool_call("search_articles", {"query": "AI engineer"}), Step.malformed_tool_call())
    failed = await brain.handle(ask("What skills does an AI engineer need?"))
    assert failed.data["llm_fallback"] == "malformed_tool_call"

    stub.requests.clear()
    await brain.handle(ask("Do ML engineers need a PhD?"))

    sent = stub.requests[0]
    assert not any(m["role"] == "tool" or m.get("tool_calls") for m in sent["messages"])  # rolled back
    assert stub.user_texts(sent)[-1] == "Do ML engineers need a PhD?"
    # What the user did see (the offline answer) is what the model is told was said.
    assert stub.user_texts(sent)[0] == "What skills does an AI engineer need?"
    assert NOTE not in stub.all_text(sent)


async def test_memory_across_turns_and_conversations(
        stub: OpenAIStub, make_llm_brain: Callable[[Store], Brain], store: Store) -> None:
    brain = make_llm_brain(store)
    stub.push(Step.tool_call("search_articles", {"query": "AI engineer salary"}),
              Step.reply("AI engineers are paid well, per the articles [1]."))
    await brain.handle(ask("How much do AI engineers earn?", thread="th-1"))
    stub.requests.clear()

    stub.push(Step.reply("As I said, well [1]."))
    await brain.handle(ask("And is it more than ML engineers earn?", thread="th-1"))
    same_thread = stub.requests[0]
    assert stub.user_texts(same_thread)[-2:] == ["How much do AI engineers earn?",
                                                 "And is it more than ML engineers earn?"]
    assert "AI engineers are paid well, per the articles [1]." in stub.all_text(same_thread)
    assert any(m["role"] == "tool" for m in same_thread["messages"])  # the checkpoint, not a transcript

    stub.requests.clear()
    stub.push(Step.reply("Hello [1]."))
    await brain.handle(ask("What does an ML engineer do all day?", user="U2", thread="th-2"))
    assert stub.user_texts(stub.requests[0]) == ["What does an ML engineer do all day?"]


async def test_memory_survives_a_restart(
        stub: OpenAIStub, make_llm_brain: Callable[[Store], Brain], llm_settings: Settings) -> None:
    first_store = open_store(llm_settings.database_url)
    first = make_llm_brain(first_store)
    stub.push(Step.tool_call("search_articles", {"query": "learn first AI engineering"}),
              Step.reply("Start with Python and APIs [1]."))
    await first.handle(ask("What should I learn first for AI engineering?", channel="D1"))
    await first.agent.aclose()  # type: ignore[union-attr]
    first_store.close()

    stub.requests.clear()
    second_store = open_store(llm_settings.database_url)
    try:
        second = make_llm_brain(second_store)
        stub.push(Step.reply("Then learn retrieval [1]."))
        reply = await second.handle(ask("And after that, what comes next for an AI engineer?", channel="D1"))
    finally:
        second_store.close()

    sent = stub.requests[0]
    assert "What should I learn first for AI engineering?" in stub.user_texts(sent)
    assert "Start with Python and APIs [1]." in stub.all_text(sent)
    assert any(m["role"] == "tool" for m in sent["messages"])
    # No tool ran in this turn, so "[1]" points at no source of this reply and is dropped.
    assert reply.text == "Then learn retrieval." and reply.sources == ()


async def test_forget_user_deletes_agent_memory(
        stub: OpenAIStub, make_llm_brain: Callable[[Store], Brain], store: Store) -> None:
    brain = make_llm_brain(store)
    await brain.handle(ask("What does an AI engineer do?", user="U9", channel="D9"))
    agent = brain.agent

    assert await agent.forget_user("slack:U9") == 1  # type: ignore[union-attr]

    stub.requests.clear()
    await brain.handle(ask("What does an ML engineer do?", user="U9", channel="D9"))
    assert not any(m["role"] == "tool" for m in stub.requests[0]["messages"])


PG_URL = os.environ.get("CAREERBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _postgres_unreachable() -> str | None:
    try:
        import psycopg

        psycopg.connect(PG_URL, connect_timeout=2).close()
    except Exception as exc:  # any reason at all: skip, this test is about memory, not connectivity
        return f"PostgreSQL unreachable at CAREERBOT_TEST_POSTGRES_URL: {exc}"
    return None


@pytest.mark.postgres
async def test_memory_on_postgres_survives_a_restart(
        stub: OpenAIStub, make_llm_brain: Callable[..., Brain], store: Store) -> None:
    if (reason := _postgres_unreachable()) is not None:
        pytest.skip(reason)
    channel = f"D-{uuid.uuid4().hex[:12]}"  # the database is shared between runs
    first = make_llm_brain(store, database_url=PG_URL)
    stub.push(Step.tool_call("search_articles", {"query": "AI engineer skills"}), Step.reply("Python and APIs [1]."))
    await first.handle(ask("Which skills matter most for AI engineers?", channel=channel))
    await first.agent.aclose()  # type: ignore[union-attr]

    stub.requests.clear()
    second = make_llm_brain(store, database_url=PG_URL)
    stub.push(Step.reply("Then evaluation [1]."))
    await second.handle(ask("And which skills should an AI engineer learn after those?", channel=channel))

    sent = stub.requests[0]
    assert "Which skills matter most for AI engineers?" in stub.user_texts(sent)
    assert any(m["role"] == "tool" for m in sent["messages"])
    assert await second.agent.forget_user("slack:U1") >= 1  # type: ignore[union-attr]
