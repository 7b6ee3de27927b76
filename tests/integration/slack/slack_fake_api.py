"""A local fake of the Slack Web API (and of response_url / file upload URLs) that records calls.

Bound to 127.0.0.1 on port 0, so tests run in parallel and never touch Slack. Every request is
recorded with its merged parameters (query string, form body and JSON body); tests wait for calls
with a deadline (`wait_for`) rather than sleeping. `rate_limit()` makes the next calls of a method
answer 429 with Retry-After; `fail()` makes them answer `{"ok": false, "error": ...}`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

BOT_USER = "UBOTCAREER"
BOT_ID = "BBOTCAREER"
TEAM = "T0CAREER"
TOKEN = "xoxb-test-token"
APP_TOKEN = "xapp-test-app-token"


@dataclass
class Call:
    """One request the fake received."""

    method: str  # "chat.postMessage", "upload", "response"
    params: dict[str, Any]
    at: float
    status: int = 200
    raw: bytes = b""
    path: str = ""
    response: dict[str, Any] = field(default_factory=dict)

    def json_param(self, name: str) -> Any:
        value = self.params.get(name)
        return json.loads(value) if isinstance(value, str) else value


@dataclass
class FakeSlack:
    """The fake server; start with `await fake.start()`, stop with `await fake.stop()`."""

    calls: list[Call] = field(default_factory=list)
    _limits: dict[str, list[int]] = field(default_factory=dict)
    _failures: dict[str, list[str]] = field(default_factory=dict)
    _runner: web.AppRunner | None = None
    port: int = 0
    _ts: Any = field(default_factory=lambda: itertools.count(1))
    _file_ids: Any = field(default_factory=lambda: itertools.count(1))
    _response_ids: Any = field(default_factory=lambda: itertools.count(1))
    sockets: list[web.WebSocketResponse] = field(default_factory=list)
    acks: list[dict[str, Any]] = field(default_factory=list)
    _envelopes: Any = field(default_factory=lambda: itertools.count(1))
    socket_gate: asyncio.Event | None = None  # when set by a test, new sockets wait for it (a reconnect on hold)

    # --- lifecycle -------------------------------------------------------------------------
    async def start(self) -> FakeSlack:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.add_routes(
            [
                web.post("/api/{method}", self._api),
                web.get("/api/{method}", self._api),
                web.post("/upload/{file_id}", self._upload),
                web.post("/response/{rid}", self._response),
                web.get("/socket", self._socket),
            ]
        )
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        for ws in list(self.sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def response_url(self) -> str:
        """A fresh response_url for a slash command or button payload."""
        return f"{self.base_url}/response/{next(self._response_ids)}"

    # --- switches --------------------------------------------------------------------------
    def rate_limit(self, method: str, *, times: int = 1, retry_after: int = 1) -> None:
        self._limits.setdefault(method, []).extend([retry_after] * times)

    def fail(self, method: str, error: str, *, times: int = 1) -> None:
        self._failures.setdefault(method, []).extend([error] * times)

    # --- queries ---------------------------------------------------------------------------
    def calls_to(self, method: str, *, ok_only: bool = True) -> list[Call]:
        return [c for c in self.calls if c.method == method and (c.status == 200 or not ok_only)]

    def methods(self) -> list[str]:
        return [c.method for c in self.calls]

    async def wait_for(
        self,
        method: str,
        count: int = 1,
        *,
        timeout: float = 10.0,
        where: Callable[[Call], bool] | None = None,
    ) -> list[Call]:
        """Poll until `count` successful calls to `method` (matching `where`) were recorded."""
        deadline = time.monotonic() + timeout
        while True:
            found = [c for c in self.calls_to(method) if where is None or where(c)]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"waited {timeout}s for {count} x {method}; got {self.methods()}")
            await asyncio.sleep(0.01)

    async def quiet(self, seconds: float = 0.3) -> None:
        """Let in-flight work settle before asserting that something did *not* happen."""
        await asyncio.sleep(seconds)

    # --- handlers --------------------------------------------------------------------------
    async def _params(self, request: web.Request) -> tuple[dict[str, Any], bytes]:
        raw = await request.read()
        params: dict[str, Any] = dict(request.query)
        ctype = request.headers.get("content-type", "")
        if raw and ctype.startswith("application/json"):
            params.update(json.loads(raw))
        elif raw and ctype.startswith("application/x-www-form-urlencoded"):
            params.update(parse_qsl(raw.decode(), keep_blank_values=True))
        return params, raw

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params, raw = await self._params(request)
        call = Call(method, params, time.monotonic(), raw=raw, path=request.path)
        self.calls.append(call)
        if self._limits.get(method):
            call.status = 429
            retry_after = self._limits[method].pop(0)
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": str(retry_after)}
            )
        auth = request.headers.get("Authorization", "")
        if auth != f"Bearer {APP_TOKEN if method == 'apps.connections.open' else TOKEN}":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if self._failures.get(method):
            return web.json_response({"ok": False, "error": self._failures[method].pop(0)})
        call.response = self._answer(method, params)
        return web.json_response(call.response)

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "url": "https://careerbot.slack.com/", "team": "Careers", "user": "careerbot",
                    "team_id": TEAM, "user_id": BOT_USER, "bot_id": BOT_ID, "is_enterprise_install": False}
        if method in ("chat.postMessage", "chat.update"):
            ts = params.get("ts") or f"1700000000.{next(self._ts):06d}"
            return {"ok": True, "channel": params.get("channel"), "ts": ts,
                    "message": {"text": params.get("text"), "user": BOT_USER, "bot_id": BOT_ID, "ts": ts}}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"1700000000.{next(self._ts):06d}"}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(params.get("users", "X")).upper()[1:]}}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._file_ids):08d}"
            return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = json.loads(params.get("files", "[]"))
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title"), "name": f.get("title")} for f in files]}
        if method == "apps.connections.open":
            return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket"}
        if method in ("chat.delete", "reactions.add", "reactions.remove"):
            return {"ok": True}
        if method == "conversations.replies":
            return {"ok": True, "messages": [], "has_more": False}
        return {"ok": False, "error": "unknown_method"}

    # --- Socket Mode (a websocket per connection: hello, envelopes out, acks in) ---------------
    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        if self.socket_gate is not None:
            await self.socket_gate.wait()
        ws = web.WebSocketResponse(heartbeat=None)
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": len(self.sockets),
                            "debug_info": {"host": "fake", "approximate_connection_time": 3600},
                            "connection_info": {"app_id": "A0CAREER"}})
        try:
            async for msg in ws:
                if msg.type == web.WSMsgType.TEXT:
                    data = json.loads(msg.data)
                    if "envelope_id" in data:
                        self.acks.append(data)
        finally:
            if ws in self.sockets:
                self.sockets.remove(ws)
        return ws

    async def send_envelope(self, kind: str, payload: dict[str, Any], *, accepts_response_payload: bool = False) -> str:
        """Deliver one Socket Mode envelope (`events_api`, `slash_commands`, `interactive`) on the live socket."""
        envelope_id = f"env-{next(self._envelopes)}"
        await self.sockets[-1].send_json({"envelope_id": envelope_id, "type": kind, "payload": payload,
                                          "accepts_response_payload": accepts_response_payload, "retry_attempt": 0,
                                          "retry_reason": ""})
        return envelope_id

    async def _upload(self, request: web.Request) -> web.Response:
        raw = await request.read()
        self.calls.append(Call("upload", {"file_id": request.match_info["file_id"]}, time.monotonic(), raw=raw,
                               path=request.path))
        return web.Response(text=f"OK - {len(raw)}")

    async def _response(self, request: web.Request) -> web.Response:
        params, raw = await self._params(request)
        self.calls.append(Call("response", params, time.monotonic(), raw=raw, path=request.path))
        return web.Response(text="ok")
