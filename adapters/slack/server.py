"""HTTP mode: an aiohttp application serving the Events API, slash commands and interactivity.

Why not bolt's `AsyncSlackAppServer` as is: it parses the body before verifying it, so a malformed
body reaches `json.loads` and becomes a 500 with a traceback. Here the signature (and its
timestamp, at most five minutes old) is checked on the raw bytes first (401), then the body is
parsed (400 if it is not Slack's JSON or form encoding), and only then dispatched to bolt.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Sequence

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

__all__ = ["EVENTS_PATH", "MAX_BODY_BYTES", "build_web_app", "well_formed"]

EVENTS_PATH = "/slack/events"
MAX_BODY_BYTES = 1_000_000
"""Slack's payloads are a few KB; anything near a megabyte is not Slack."""
_LOGGER = logging.getLogger("careerbot.slack.http")
_MAX_AGE_SECONDS = 300
"""Slack's own replay window: a request signed more than five minutes ago is refused."""


_OBJECTS = ("event", "user", "team", "channel", "container", "message", "enterprise", "view", "state")
_LISTS_OF_OBJECTS = ("actions", "authorizations")


def well_formed(body: object) -> bool:
    """True if the fields bolt and the listeners dereference have the types Slack sends.

    Slack never sends anything else; a signed body that breaks this is a bug or an attack, and is
    answered 400 here rather than failing deep inside a middleware with a 500.
    """
    if not isinstance(body, dict):
        return False
    for name in _OBJECTS:
        if body.get(name) is not None and not isinstance(body[name], dict):
            return False
    for name in _LISTS_OF_OBJECTS:
        value = body.get(name)
        if value is not None and not (isinstance(value, list) and all(isinstance(v, dict) for v in value)):
            return False
    event = body.get("event") or {}
    return all(isinstance(event.get(k, ""), str) for k in ("type", "subtype", "channel", "user", "text", "ts"))


def _signed(verifier: SignatureVerifier, raw: bytes, headers: dict[str, str]) -> bool:
    """Whether Slack signed `raw`; anything unverifiable is simply unsigned.

    slack_sdk raises on a non-numeric timestamp (`int()`) and on a body that is not UTF-8 (it
    decodes before hashing); both come from whoever can reach the port, so they are a 401 like any
    other bad signature, not a 500 with a traceback. The HMAC is then computed over the raw bytes.
    """
    timestamp = headers.get("x-slack-request-timestamp", "")
    signature = headers.get("x-slack-signature", "")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12) or not signature.isascii():
        return False
    if abs(time.time() - int(timestamp)) > _MAX_AGE_SECONDS:
        return False
    digest = hmac.new(verifier.signing_secret.encode(), b"v0:" + timestamp.encode() + b":" + raw, hashlib.sha256)
    return hmac.compare_digest(f"v0={digest.hexdigest()}", signature)


def _bad(status: int, error: str) -> web.Response:
    return web.json_response({"error": error}, status=status)


def build_web_app(app: AsyncApp, signing_secret: str, *, path: str = EVENTS_PATH,
                  extra_routes: Sequence[web.RouteDef] = ()) -> web.Application:
    """The aiohttp app: POST `path` for Slack, GET /healthz for load balancers.

    `extra_routes` (the operator's /healthz, /readyz, /metrics) are served on the same port; they
    replace the plain /healthz.
    """
    if not signing_secret:
        raise ValueError("HTTP mode needs a signing secret")
    verifier = SignatureVerifier(signing_secret)

    async def slack_events(request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            return _bad(413, "payload too large")
        raw = await request.read()
        if len(raw) > MAX_BODY_BYTES:
            return _bad(413, "payload too large")
        headers = {k.lower(): v for k, v in request.headers.items()}
        if not _signed(verifier, raw, headers):
            return _bad(401, "invalid request")
        try:
            body = raw.decode("utf-8")
            bolt_request = AsyncBoltRequest(body=body, query=request.query_string, headers=headers)
        except (UnicodeDecodeError, json.JSONDecodeError, ValueError, TypeError, AttributeError, KeyError):
            _LOGGER.info("rejected a signed but malformed Slack request (%d bytes)", len(raw))
            return _bad(400, "malformed body")
        if not well_formed(bolt_request.body):
            return _bad(400, "malformed body")
        try:
            bolt_response = await app.async_dispatch(bolt_request)
        except Exception:
            _LOGGER.exception("unexpected error while dispatching a Slack request")
            return _bad(500, "internal error")
        return await to_aiohttp_response(bolt_response)

    async def healthz(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    web_app = web.Application(client_max_size=MAX_BODY_BYTES)
    web_app.add_routes([web.post(path, slack_events), *extra_routes])
    if not any(getattr(r, "path", None) == "/healthz" for r in extra_routes):
        web_app.add_routes([web.get("/healthz", healthz)])
    return web_app
