"""A local OpenAI-compatible chat server with scripted answers, for driving the real `ChatOpenAI`.

It implements just `POST /v1/chat/completions` (non-streaming), records every request body, and
answers from a script of steps: a text reply, tool calls, an HTTP error, a body that is not JSON, a
tool call whose arguments are not JSON, or any of those after a delay. With the script empty it
falls back to the usual agent rhythm: a `search_articles` call for a new user message, then an
answer citing [1] once the tool result is in.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

__all__ = ["OpenAIStub", "Step"]


@dataclass(frozen=True)
class Step:
    """One scripted response; build with the class methods."""

    kind: str
    text: str = ""
    calls: tuple[tuple[str, str], ...] = ()  # (tool name, raw JSON arguments)
    status: int = 200
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def reply(cls, text: str, *, delay: float = 0.0) -> Step:
        return cls("reply", text=text, delay=delay)

    @classmethod
    def tool_call(cls, name: str, args: dict[str, Any], *, delay: float = 0.0) -> Step:
        return cls("tools", calls=((name, json.dumps(args)),), delay=delay)

    @classmethod
    def malformed_tool_call(cls, name: str = "search_articles") -> Step:
        return cls("tools", calls=((name, '{"query": "AI engin'),))

    @classmethod
    def error(cls, status: int, *, headers: dict[str, str] | None = None) -> Step:
        return cls("error", status=status, headers=headers or {})

    @classmethod
    def garbage(cls) -> Step:
        return cls("garbage")

    @classmethod
    def slow(cls, seconds: float, text: str = "too late") -> Step:
        return cls("reply", text=text, delay=seconds)


class OpenAIStub:
    """The server; `async with OpenAIStub() as stub:` then point a client at `stub.base_url`.

    Args:
        fixed_delay: seconds added to every response (the concurrency benchmark uses 0.5).
        api_key: when set, `GET /v1/models` answers 401 unless this key is sent (as OpenAI does).
    """

    def __init__(self, *, fixed_delay: float = 0.0, api_key: str | None = None) -> None:
        self.fixed_delay = fixed_delay
        self.api_key = api_key
        self.requests: list[dict[str, Any]] = []
        self.script: deque[Step] = deque()
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    def push(self, *steps: Step) -> None:
        self.script.extend(steps)

    async def __aenter__(self) -> OpenAIStub:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._completions)
        app.router.add_get("/v1/models", self._models)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}/v1"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _models(self, request: web.Request) -> web.Response:
        if self.api_key and request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return web.json_response({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error",
                                                "code": "invalid_api_key"}}, status=401)
        return web.json_response({"object": "list", "data": [{"id": "stub-model", "object": "model", "owned_by": "stub"}]})

    # --- inspection helpers --------------------------------------------------------------
    def user_texts(self, request: dict[str, Any]) -> list[str]:
        return [str(m.get("content")) for m in request["messages"] if m.get("role") == "user"]

    def all_text(self, request: dict[str, Any]) -> str:
        return "\n".join(str(m.get("content") or "") for m in request["messages"])

    # --- the endpoint --------------------------------------------------------------------
    async def _completions(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(body)
        step = self.script.popleft() if self.script else self._auto(body)
        delay = self.fixed_delay + step.delay
        if delay:
            await asyncio.sleep(delay)
        if step.kind == "error":
            payload = {"error": {"message": f"scripted {step.status}", "type": "server_error", "code": None}}
            return web.json_response(payload, status=step.status, headers=step.headers)
        if step.kind == "garbage":
            return web.Response(text="{<html>definitely not json", content_type="application/json")
        if step.kind == "tools":
            message: dict[str, Any] = {"role": "assistant", "content": None, "tool_calls": [
                {"id": f"call_{next(self._ids)}", "type": "function", "function": {"name": name, "arguments": args}}
                for name, args in step.calls]}
            finish = "tool_calls"
        else:
            message, finish = {"role": "assistant", "content": step.text}, "stop"
        prompt_tokens = sum(len(str(m.get("content") or "")) for m in body["messages"]) // 4
        return web.json_response({
            "id": f"chatcmpl-{next(self._ids)}", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", "stub"),
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": 12, "total_tokens": prompt_tokens + 12},
        })

    @staticmethod
    def _auto(body: dict[str, Any]) -> Step:
        last = body["messages"][-1]
        if last.get("role") == "tool":
            return Step.reply("From the knowledge base: AI engineers build products on existing models [1].")
        return Step.tool_call("search_articles", {"query": str(last.get("content"))[:200]})
