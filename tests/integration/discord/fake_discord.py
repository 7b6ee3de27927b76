"""A local fake of Discord's REST API and gateway, for driving the real discord.py client.

Serves on 127.0.0.1 (port 0) with aiohttp:

- gateway (`/gateway`, and `/resume` as the READY `resume_gateway_url`): HELLO, IDENTIFY -> READY
  + GUILD_CREATE, heartbeats -> ACK, RESUME -> replay of missed events + RESUMED; frames are one
  zlib-stream or zstd-stream (whichever the client asks for in `compress=`), flushed per message as
  discord.py's decompressors expect;
- REST (`/api/v10/...`): login (`GET /users/@me`, `GET /oauth2/applications/@me`), command sync,
  messages (JSON or multipart with files), typing, threads, interaction callbacks
  (`?with_response=1` shape) and webhook follow-ups/edits. Every call is recorded with method,
  path, JSON body and uploaded files; a switchable 429 with `Retry-After` is available.

Tests wait on recorded state with deadlines (`until`, `wait_call`), never with fixed sleeps.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

BOT_ID = 900000000000000001
APP_ID = 900000000000000002
GUILD_ID = 800000000000000001
CHANNEL_ID = 810000000000000001
OTHER_CHANNEL_ID = 810000000000000002
TOKEN = "fake-discord-token"

_ids = itertools.count(int(time.time() * 1000) << 22)


@contextmanager
def discord_endpoints_restored() -> Iterator[None]:
    """The bot factory sets discord.py's process-wide endpoints to the fake; put them back afterwards."""
    import discord

    base = discord.http.Route.BASE
    gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    try:
        yield
    finally:
        discord.http.Route.BASE = base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = gateway


def snowflake() -> str:
    """A fresh id, increasing like Discord's (time-based high bits)."""
    return str(next(_ids))


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def user_payload(user_id: int | str, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {
        "id": str(user_id),
        "username": name,
        "discriminator": "0",
        "global_name": name,
        "avatar": None,
        "bot": bot,
    }


BOT_USER = user_payload(BOT_ID, "careerbot", bot=True)


def member_payload(user: dict[str, Any] | None = None, roles: list[str] | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {"roles": roles or [], "joined_at": now_iso(), "deaf": False, "mute": False, "flags": 0}
    if user is not None:
        payload["user"] = user
    return payload


def channel_payload(channel_id: int | str, name: str, *, guild_id: int | str | None = GUILD_ID) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": str(channel_id),
        "type": 0,
        "name": name,
        "position": 0,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "topic": None,
        "last_message_id": None,
        "rate_limit_per_user": 0,
    }
    if guild_id is not None:
        payload["guild_id"] = str(guild_id)
    return payload


def guild_payload(roles: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    everyone = {
        "id": str(GUILD_ID),
        "name": "@everyone",
        "permissions": "1071698660929",
        "position": 0,
        "color": 0,
        "hoist": False,
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }
    return {
        "id": str(GUILD_ID),
        "name": "Bootcamp",
        "icon": None,
        "owner_id": "700000000000000099",
        "roles": [everyone, *(roles or [])],
        "emojis": [],
        "stickers": [],
        "features": [],
        "member_count": 3,
        "members": [member_payload(BOT_USER)],
        "channels": [channel_payload(CHANNEL_ID, "careers"), channel_payload(OTHER_CHANNEL_ID, "random")],
        "threads": [],
        "large": False,
        "unavailable": False,
        "premium_tier": 0,
        "preferred_locale": "en-US",
        "joined_at": now_iso(),
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "mfa_level": 0,
        "system_channel_flags": 0,
        "nsfw_level": 0,
    }


@dataclass
class RecordedFile:
    field: str
    filename: str
    content_type: str
    data: bytes


@dataclass
class RecordedCall:
    """One REST request the client made, as the fake saw it."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    files: list[RecordedFile]
    status: int = 200
    at: float = 0.0

    def __repr__(self) -> str:  # short, for assertion messages
        return f"<{self.method} {self.path} {self.status}>"


@dataclass
class _RateLimitRule:
    method: str
    pattern: re.Pattern[str]
    retry_after: float
    remaining: int


@dataclass
class GatewayConnection:
    """One websocket the client opened."""

    path: str
    query: dict[str, str]
    ws: web.WebSocketResponse
    compress: Callable[[bytes], bytes] | None
    received: list[dict[str, Any]] = field(default_factory=list)
    live: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class FakeDiscord:
    """The fake server. Use as `async with FakeDiscord() as fake:`."""

    def __init__(self, *, heartbeat_interval_ms: int = 41250) -> None:
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.calls: list[RecordedCall] = []
        self.connections: list[GatewayConnection] = []
        self.messages: dict[str, dict[str, Any]] = {}
        self.deleted: list[dict[str, Any]] = []  # messages removed with DELETE .../@original
        self.interactions: dict[str, dict[str, Any]] = {}  # token -> payload and @original id
        self.roles: list[dict[str, Any]] = []
        self.session_id = "fake-session-" + snowflake()
        self.seq = 0
        self.buffer: list[tuple[int, dict[str, Any]]] = []
        self.heartbeats = 0
        self.replayed = 0
        self.resume_gate: asyncio.Event | None = None  # set by a test to hold RESUME handling
        self._rate_limits: list[_RateLimitRule] = []
        self._changed: asyncio.Condition | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- lifecycle ----------------------------------------------------------------------------
    async def __aenter__(self) -> FakeDiscord:
        self._changed = asyncio.Condition()
        app = web.Application(client_max_size=32 * 1024 * 1024)
        for path in ("/gateway", "/gateway/", "/resume", "/resume/"):
            app.router.add_get(path, self._gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for conn in self.connections:
            if not conn.ws.closed:
                await conn.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    # --- waiting ------------------------------------------------------------------------------
    async def _notify(self) -> None:
        assert self._changed is not None
        async with self._changed:
            self._changed.notify_all()

    async def until(self, predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
        """Wait until `predicate()` is truthy (re-checked on every change the fake sees)."""
        assert self._changed is not None
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"timed out waiting for {what}; calls so far: {self.calls}")
            async with self._changed:
                try:
                    await asyncio.wait_for(self._changed.wait(), timeout=min(remaining, 0.5))
                except TimeoutError:
                    pass

    def find_calls(self, method: str, path_pattern: str, *, status: int | None = None) -> list[RecordedCall]:
        """Recorded calls by method and path regex; successful (2xx) ones unless `status` is given."""
        rx = re.compile(path_pattern)
        return [
            c
            for c in self.calls
            if c.method == method
            and rx.fullmatch(c.path)
            and (c.status == status if status is not None else 200 <= c.status < 300)
        ]

    async def wait_call(
        self,
        method: str,
        path_pattern: str,
        *,
        count: int = 1,
        where: Callable[[RecordedCall], bool] | None = None,
        timeout: float = 10.0,
    ) -> RecordedCall:
        """The `count`-th successful call matching method, path regex and `where`."""

        def found() -> RecordedCall | None:
            calls = [c for c in self.find_calls(method, path_pattern) if where is None or where(c)]
            return calls[count - 1] if len(calls) >= count else None

        return await self.until(found, timeout, f"{method} {path_pattern} #{count}")

    # --- control ------------------------------------------------------------------------------
    def rate_limit(self, method: str, path_pattern: str, *, retry_after: float = 0.5, times: int = 1) -> None:
        """Answer the next `times` matching requests with 429 and `Retry-After`."""
        self._rate_limits.append(_RateLimitRule(method, re.compile(path_pattern), retry_after, times))

    async def dispatch(self, event: str, data: dict[str, Any]) -> int:
        """Send a DISPATCH event; while the client is disconnected it is kept for RESUME replay."""
        self.seq += 1
        payload = {"op": 0, "t": event, "s": self.seq, "d": data}
        self.buffer.append((self.seq, payload))
        conn = self.live_connection
        if conn is not None:
            await self._send(conn, payload)
        return self.seq

    async def send_raw(self, payload: dict[str, Any] | str) -> None:
        """Send anything (garbage included) on the live connection, without a sequence number."""
        conn = self.live_connection
        assert conn is not None, "no live gateway connection"
        async with conn.lock:
            text = payload if isinstance(payload, str) else json.dumps(payload)
            await self._send_frame(conn, text)

    async def disconnect(self, code: int = 4000) -> None:
        """Drop the live gateway connection from the server side (as Discord does on a restart)."""
        conn = self.live_connection
        assert conn is not None, "no live gateway connection"
        conn.live = False
        await conn.ws.close(code=code, message=b"fake gateway restart")
        await self._notify()

    @property
    def live_connection(self) -> GatewayConnection | None:
        for conn in reversed(self.connections):
            if conn.live and not conn.ws.closed:
                return conn
        return None

    def ops_received(self, op: int) -> list[dict[str, Any]]:
        return [m for c in self.connections for m in c.received if m.get("op") == op]

    # --- payload helpers for tests --------------------------------------------------------------
    def message_payload(
        self,
        author: dict[str, Any],
        content: str,
        *,
        channel_id: int | str = CHANNEL_ID,
        guild: bool = True,
        mentions: list[dict[str, Any]] | None = None,
        mention_roles: list[str] | None = None,
        reply_to: dict[str, Any] | None = None,
        roles: list[str] | None = None,
    ) -> dict[str, Any]:
        msg: dict[str, Any] = {
            "id": snowflake(),
            "channel_id": str(channel_id),
            "author": author,
            "content": content,
            "timestamp": now_iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": mentions or [],
            "mention_roles": mention_roles or [],
            "attachments": [],
            "embeds": [],
            "pinned": False,
            "type": 0,
            "flags": 0,
            "components": [],
        }
        if guild:
            msg["guild_id"] = str(GUILD_ID)
            msg["member"] = member_payload(roles=roles)
        if reply_to is not None:
            msg["type"] = 19
            msg["message_reference"] = {
                "type": 0,
                "message_id": reply_to["id"],
                "channel_id": reply_to["channel_id"],
                "guild_id": reply_to.get("guild_id"),
            }
            msg["referenced_message"] = reply_to
        return msg

    def interaction_payload(
        self,
        user: dict[str, Any],
        *,
        type_: int,
        data: dict[str, Any],
        channel_id: int | str = CHANNEL_ID,
        message: dict[str, Any] | None = None,
        guild: bool = True,
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "id": snowflake(),
            "application_id": str(APP_ID),
            "type": type_,
            "data": data,
            "channel_id": str(channel_id),
            "token": "itoken-" + snowflake(),
            "version": 1,
            "locale": "en-US",
            "app_permissions": "1071698660929",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(GUILD_ID)} if guild else {"1": user["id"]},
            "context": 0 if guild else 1,
            "attachment_size_limit": 26214400,
        }
        if guild:
            payload["guild_id"] = str(GUILD_ID)
            payload["guild_locale"] = "en-US"
            payload["channel"] = channel_payload(channel_id, "careers")
            payload["member"] = {**member_payload(user), "permissions": "1071698660929"}
        else:
            payload["channel"] = {"id": str(channel_id), "type": 1, "recipients": [user]}
            payload["user"] = user
        if message is not None:
            payload["message"] = message
        return payload

    def command_interaction(
        self, user: dict[str, Any], name: str, options: dict[str, Any] | None = None, **kw: Any
    ) -> dict[str, Any]:
        opts = []
        for key, value in (options or {}).items():
            opts.append({"name": key, "type": 5 if isinstance(value, bool) else 3, "value": value})
        data = {"id": snowflake(), "name": name, "type": 1, "options": opts}
        return self.interaction_payload(user, type_=2, data=data, **kw)

    def button_interaction(self, user: dict[str, Any], message: dict[str, Any], custom_id: str) -> dict[str, Any]:
        data = {"custom_id": custom_id, "component_type": 2}
        return self.interaction_payload(user, type_=3, data=data, channel_id=message["channel_id"], message=message)

    # --- gateway ------------------------------------------------------------------------------
    def _compressor(self, kind: str | None) -> Callable[[bytes], bytes] | None:
        if kind == "zlib-stream":
            comp = zlib.compressobj()
            return lambda data: comp.compress(data) + comp.flush(zlib.Z_SYNC_FLUSH)
        if kind == "zstd-stream":
            import zstandard

            zcomp = zstandard.ZstdCompressor().compressobj()
            return lambda data: zcomp.compress(data) + zcomp.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
        return None

    async def _send_frame(self, conn: GatewayConnection, text: str) -> None:
        if conn.ws.closed:
            return
        if conn.compress is not None:
            await conn.ws.send_bytes(conn.compress(text.encode()))
        else:
            await conn.ws.send_str(text)

    async def _send(self, conn: GatewayConnection, payload: dict[str, Any]) -> None:
        async with conn.lock:
            await self._send_frame(conn, json.dumps(payload))

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        conn = GatewayConnection(
            path=request.path,
            query=dict(request.query),
            ws=ws,
            compress=self._compressor(request.query.get("compress")),
        )
        self.connections.append(conn)
        await self._send(conn, {"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
        await self._notify()
        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                continue
            try:
                frame = json.loads(msg.data)
            except ValueError:
                continue
            conn.received.append(frame)
            await self._on_frame(conn, frame)
            await self._notify()
        conn.live = False
        await self._notify()
        return ws

    async def _on_frame(self, conn: GatewayConnection, frame: dict[str, Any]) -> None:
        op = frame.get("op")
        if op == 1:
            self.heartbeats += 1
            await self._send(conn, {"op": 11})
        elif op == 2:
            # A fresh session: forget what the old one had pending.
            self.session_id = "fake-session-" + snowflake()
            self.buffer.clear()
            async with conn.lock:
                self.seq += 1
                ready = {
                    "v": 10,
                    "user": BOT_USER,
                    "guilds": [{"id": str(GUILD_ID), "unavailable": True}],
                    "session_id": self.session_id,
                    "resume_gateway_url": f"ws://127.0.0.1:{self.port}/resume",
                    "application": {"id": str(APP_ID), "flags": 0},
                    "private_channels": [],
                    "relationships": [],
                }
                shard = frame.get("d", {}).get("shard")
                if shard:
                    ready["shard"] = shard
                await self._send_frame(conn, json.dumps({"op": 0, "t": "READY", "s": self.seq, "d": ready}))
                self.seq += 1
                gc = {"op": 0, "t": "GUILD_CREATE", "s": self.seq, "d": guild_payload(self.roles)}
                await self._send_frame(conn, json.dumps(gc))
                conn.live = True
        elif op == 6:
            if self.resume_gate is not None:
                await self.resume_gate.wait()
            data = frame.get("d", {})
            if data.get("session_id") != self.session_id:
                await self._send(conn, {"op": 9, "d": False})
                return
            last = int(data.get("seq") or 0)
            async with conn.lock:
                for seq, payload in self.buffer:
                    if seq > last:
                        self.replayed += 1
                        await self._send_frame(conn, json.dumps(payload))
                self.seq += 1
                await self._send_frame(conn, json.dumps({"op": 0, "t": "RESUMED", "s": self.seq, "d": {}}))
                conn.live = True

    # --- REST ---------------------------------------------------------------------------------
    @staticmethod
    def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
        # discord.py parses JSON only when content-type is exactly application/json (no charset).
        return web.Response(
            status=status,
            body=json.dumps(data).encode(),
            headers={"Content-Type": "application/json", **(headers or {})},
        )

    async def _read_body(self, request: web.Request) -> tuple[Any, list[RecordedFile]]:
        ctype = request.headers.get("Content-Type", "")
        if ctype.startswith("multipart/"):
            reader = await request.multipart()
            payload: Any = None
            files: list[RecordedFile] = []
            async for part in reader:
                if part is None:
                    break
                name = part.name or ""
                data = await part.read()  # type: ignore[union-attr]
                if name == "payload_json":
                    payload = json.loads(bytes(data).decode())
                else:
                    files.append(
                        RecordedFile(
                            field=name,
                            filename=part.filename or "",  # type: ignore[union-attr]
                            content_type=part.headers.get("Content-Type", ""),
                            data=bytes(data),
                        )
                    )
            return payload, files
        raw = await request.read()
        if not raw:
            return None, []
        try:
            return json.loads(raw), []
        except ValueError:
            return raw.decode(errors="replace"), []

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        body, files = await self._read_body(request)
        call = RecordedCall(
            method=request.method,
            path=path,
            query=dict(request.query),
            json=body,
            files=files,
            at=asyncio.get_running_loop().time(),
        )
        self.calls.append(call)
        try:
            if request.headers.get("Authorization") != f"Bot {TOKEN}" and not path.startswith(("/interactions/", "/webhooks/")):
                call.status = 401
                return self._json({"message": "401: Unauthorized", "code": 0}, status=401)
            for rule in self._rate_limits:
                if rule.remaining > 0 and rule.method == request.method and rule.pattern.fullmatch(path):
                    rule.remaining -= 1
                    call.status = 429
                    return self._json(
                        {"message": "You are being rate limited.", "retry_after": rule.retry_after, "global": False},
                        status=429,
                        headers={
                            "Retry-After": str(rule.retry_after),
                            "Via": "1.1 google",
                            "X-RateLimit-Scope": "user",
                            "X-RateLimit-Limit": "5",
                            "X-RateLimit-Remaining": "0",
                            "X-RateLimit-Reset-After": str(rule.retry_after),
                            "X-RateLimit-Bucket": "fake-bucket",
                        },
                    )
            status, data = self._route(request.method, path, body, files, dict(request.query))
            call.status = status
            if status == 204:
                return web.Response(status=204)
            return self._json(data, status=status)
        finally:
            await self._notify()

    def _new_message(self, channel_id: str, body: dict[str, Any] | None, files: list[RecordedFile]) -> dict[str, Any]:
        body = body or {}
        msg = {
            "id": snowflake(),
            "channel_id": str(channel_id),
            "author": BOT_USER,
            "content": body.get("content") or "",
            "timestamp": now_iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": self._attachments(files),
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "pinned": False,
            "type": 19 if body.get("message_reference") else 0,
            "flags": int(body.get("flags") or 0),
        }
        if body.get("message_reference"):
            msg["message_reference"] = body["message_reference"]
        self.messages[msg["id"]] = msg
        return msg

    def _attachments(self, files: list[RecordedFile]) -> list[dict[str, Any]]:
        return [
            {
                "id": snowflake(),
                "filename": f.filename,
                "size": len(f.data),
                "url": f"https://cdn.example/{f.filename}",
                "proxy_url": f"https://cdn.example/{f.filename}",
                "content_type": f.content_type,
            }
            for f in files
        ]

    def _edit_message(self, message_id: str, body: dict[str, Any] | None, files: list[RecordedFile]) -> dict[str, Any]:
        msg = self.messages[message_id]
        body = body or {}
        for key in ("content", "embeds", "components"):
            if key in body:
                msg[key] = body[key] if body[key] is not None else ([] if key != "content" else "")
        if "attachments" in body or files:
            msg["attachments"] = self._attachments(files)
        msg["edited_timestamp"] = now_iso()
        return msg

    def _route(
        self, method: str, path: str, body: Any, files: list[RecordedFile], query: dict[str, str]
    ) -> tuple[int, Any]:
        if method == "GET" and path == "/users/@me":
            return 200, BOT_USER
        if method == "GET" and path == "/oauth2/applications/@me":
            return 200, {
                "id": str(APP_ID),
                "name": "careerbot",
                "icon": None,
                "description": "",
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": user_payload(700000000000000099, "owner"),
                "verify_key": "0" * 64,
                "flags": 0,
                "summary": "",
            }
        if method == "GET" and path == "/gateway/bot":
            return 200, {
                "url": f"ws://127.0.0.1:{self.port}/gateway",
                "shards": 1,
                "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1},
            }
        m = re.fullmatch(r"/applications/(\d+)(?:/guilds/(\d+))?/commands", path)
        if m and method == "PUT":
            return 200, [
                {**cmd, "id": snowflake(), "application_id": str(APP_ID), "version": "1", "default_member_permissions": None}
                for cmd in (body or [])
            ]
        m = re.fullmatch(r"/channels/(\d+)/typing", path)
        if m and method == "POST":
            return 204, None
        m = re.fullmatch(r"/channels/(\d+)/messages", path)
        if m and method == "POST":
            return 200, self._new_message(m.group(1), body, files)
        m = re.fullmatch(r"/channels/(\d+)/messages/(\d+)", path)
        if m and method == "PATCH" and m.group(2) in self.messages:
            return 200, self._edit_message(m.group(2), body, files)
        m = re.fullmatch(r"/channels/(\d+)/messages/(\d+)/threads", path)
        if m and method == "POST":
            # A thread started from a message has that message's id.
            return 201, {
                "id": m.group(2),
                "type": 11,
                "guild_id": str(GUILD_ID),
                "parent_id": m.group(1),
                "owner_id": str(BOT_ID),
                "name": (body or {}).get("name", "thread"),
                "thread_metadata": {"archived": False, "auto_archive_duration": 1440, "archive_timestamp": now_iso(), "locked": False},
                "message_count": 0,
                "member_count": 1,
                "rate_limit_per_user": 0,
                "flags": 0,
            }
        m = re.fullmatch(r"/interactions/(\d+)/([^/]+)/callback", path)
        if m and method == "POST":
            return 200, self._callback(m.group(1), m.group(2), body or {}, files)
        m = re.fullmatch(rf"/webhooks/{APP_ID}/([^/]+)/messages/@original", path)
        if m and method == "PATCH":
            state = self.interactions.get(m.group(1))
            if state is None or state.get("original") not in self.messages:
                return 404, {"message": "Unknown Message", "code": 10008}
            return 200, self._edit_message(state["original"], body, files)
        if m and method == "DELETE":
            state = self.interactions.get(m.group(1))
            if state is None or state.get("original") not in self.messages:
                return 404, {"message": "Unknown Message", "code": 10008}
            self.deleted.append(self.messages.pop(state["original"]))
            return 204, None
        m = re.fullmatch(rf"/webhooks/{APP_ID}/([^/]+)", path)
        if m and method == "POST":
            state = self.interactions.get(m.group(1))
            if state is None:
                return 404, {"message": "Unknown Webhook", "code": 10015}
            msg = self._new_message(state["channel_id"], body, files)
            msg["webhook_id"] = str(APP_ID)
            return 200, msg
        return 404, {"message": f"fake Discord has no route for {method} {path}", "code": 0}

    def register_interaction(self, payload: dict[str, Any]) -> None:
        """Remember an interaction the test is about to dispatch, so its token is known."""
        self.interactions[payload["token"]] = {
            "payload": payload,
            "channel_id": payload["channel_id"],
            "original": payload.get("message", {}).get("id"),
            "responses": [],
        }

    def _callback(self, interaction_id: str, token: str, body: dict[str, Any], files: list[RecordedFile]) -> dict[str, Any]:
        state = self.interactions.setdefault(token, {"channel_id": str(CHANNEL_ID), "original": None, "responses": []})
        rtype = int(body.get("type", 0))
        data = body.get("data") or {}
        state["responses"].append(rtype)
        message: dict[str, Any] | None = None
        if rtype in (4, 5):
            message = self._new_message(state["channel_id"], data, files)
            message["interaction_metadata"] = {"id": interaction_id, "type": 2, "user": BOT_USER}
            state["original"] = message["id"]
        elif rtype == 7 and state.get("original") in self.messages:
            message = self._edit_message(state["original"], data, files)
        interaction = {
            "id": interaction_id,
            "type": state.get("payload", {}).get("type", 2),
            "response_message_id": state.get("original"),
            "response_message_loading": rtype == 5,
            "response_message_ephemeral": bool(int(data.get("flags") or 0) & 64),
        }
        resource: dict[str, Any] = {"type": rtype}
        if message is not None:
            resource["message"] = message
        return {"interaction": interaction, "resource": resource}
