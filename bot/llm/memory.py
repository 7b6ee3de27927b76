"""Conversation memory for the agent: where checkpoints live and how history stays bounded.

LangGraph keeps each conversation's messages in a checkpointer keyed by thread id (we use
`Inbound.conversation_key`). By default that is an async SQLite file in the data folder; when the
store is PostgreSQL, the checkpoints go there too so every worker and shard sees the same memory.
The async savers bind to the event loop that opens them, so they are opened lazily, from inside
the loop, by `open_checkpointer`, and closed with the loop's resources.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, HumanMessage, ToolMessage

from bot.llm.prompts import SUMMARY_PREFIX

__all__ = ["MEMORY_FILENAME", "open_checkpointer", "repair_history", "summarize_messages"]

MEMORY_FILENAME = "llm-memory.sqlite3"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


async def open_checkpointer(database_url: str, data_dir: Path, stack: AsyncExitStack) -> tuple[Any, Callable[[], None]]:
    """Open the checkpointer for `database_url` on `stack`; return it and a synchronous last-resort release.

    The release is for a saver whose event loop is already gone (the terminal chat runs each
    message in its own loop): nothing can be awaited there, but the SQLite worker thread can still
    be told to stop.
    """
    if database_url.startswith(("postgresql://", "postgres://")):
        return await _open_postgres(database_url, stack), lambda: None
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    data_dir.mkdir(parents=True, exist_ok=True)
    saver = await stack.enter_async_context(AsyncSqliteSaver.from_conn_string(str(data_dir / MEMORY_FILENAME)))
    await saver.setup()  # also switches the file to WAL
    # In WAL mode NORMAL is still crash-safe for the process (only a power cut can lose the last
    # turns) and saves an fsync per answer, which otherwise serialises busy conversations.
    await saver.conn.execute("PRAGMA synchronous=NORMAL")

    def release() -> None:
        try:
            saver.conn.stop()
        except Exception:  # pragma: no cover - best effort on a dead loop
            pass

    return saver, release


async def _open_postgres(url: str, stack: AsyncExitStack) -> Any:
    try:
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
        from psycopg.rows import dict_row
        from psycopg_pool import AsyncConnectionPool
    except ImportError as exc:  # pragma: no cover - depends on the install
        from bot.config import ConfigError

        raise ConfigError("LLM memory on PostgreSQL needs langgraph-checkpoint-postgres: "
                          "pip install 'careerbot[postgres]'") from exc
    url = url.replace("postgres://", "postgresql://", 1)
    pool = AsyncConnectionPool(
        url, min_size=1, max_size=4, open=False, check=AsyncConnectionPool.check_connection,
        kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
    )
    await pool.open(wait=True, timeout=10)
    stack.push_async_callback(pool.close)
    saver = AsyncPostgresSaver(pool)  # type: ignore[arg-type]
    await saver.setup()
    return saver


def repair_history(messages: Sequence[AnyMessage]) -> list[AnyMessage]:
    """`messages` with unanswered tool calls and orphaned tool results removed.

    A turn cut short (timeout, crash, restart) can leave an assistant message whose tool calls
    never got results; OpenAI-style APIs reject such a history outright, which would break the
    conversation for good. The stored state is left alone; only what the model is sent is fixed.
    """
    answered = {m.tool_call_id for m in messages if isinstance(m, ToolMessage)}
    kept: list[AnyMessage] = []
    live_calls: set[str] = set()
    for message in messages:
        if isinstance(message, AIMessage) and message.tool_calls:
            ids = {call["id"] for call in message.tool_calls if call.get("id")}
            if ids and ids <= answered:
                live_calls |= ids
                kept.append(message)
            elif _text(message):
                kept.append(AIMessage(content=_text(message), id=message.id))
            continue
        if isinstance(message, ToolMessage) and message.tool_call_id not in live_calls:
            continue
        kept.append(message)
    return kept


def summarize_messages(messages: Sequence[BaseMessage]) -> str:
    """An extractive summary of older turns: what the user asked and how each answer began.

    Deliberately not a model call: it costs nothing, cannot fail or time out, and cannot be talked
    into rewriting the conversation. Tool output is left out; the model can search again.
    """
    lines: list[str] = []
    for message in messages:
        text = _text(message)
        if not text:
            continue
        if isinstance(message, HumanMessage):
            if message.additional_kwargs.get("lc_source") == "summarization":
                earlier = text.split(SUMMARY_PREFIX, 1)[-1].strip()
                lines.extend(line for line in earlier.splitlines() if line.strip())
            else:
                lines.append(f"- The user asked: {_clip(text, 220)}")
        elif isinstance(message, AIMessage) and not message.tool_calls:
            first = _SENTENCE_END.split(text, 1)[0]
            lines.append(f"- You answered: {_clip(first, 220)}")
    if len(lines) > 16:
        # The opening exchange usually says who the person is and what they want; keep it, then the latest.
        lines = [*lines[:2], "- ...", *lines[-13:]]
    return "\n".join([SUMMARY_PREFIX, *lines])


def _text(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content.strip()
    parts = [p.get("text", "") if isinstance(p, dict) else str(p) for p in content]
    return "".join(parts).strip()


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
