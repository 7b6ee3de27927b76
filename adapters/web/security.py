"""Browser sessions, CSRF tokens, the admin login and the security headers of the web app.

Why signed values instead of a session table: the playground's session id is a random value in an
HttpOnly cookie (the brain keys conversations by a hash of it, so the cookie itself never appears
in a page); CSRF tokens are an HMAC of that id, and the admin cookie is an HMAC of its expiry under
the admin token, so changing `CAREERBOT_ADMIN_TOKEN` logs every admin out and nothing needs storing.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

__all__ = ["ADMIN_COOKIE", "SESSION_COOKIE", "SessionKeys", "client_address", "is_https", "security_headers",
           "set_cookie", "token_matches"]

SESSION_COOKIE = "careerbot_session"
ADMIN_COOKIE = "careerbot_admin"
ADMIN_SESSION_SECONDS = 8 * 3600
_SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{32,64}$")

# Everything the pages use is served by the app itself: no inline script, no inline style, no CDN.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


class SessionKeys:
    """Per-process secret for CSRF tokens; the admin cookie is signed with the admin token."""

    def __init__(self, admin_token: str | None, secret: bytes | None = None) -> None:
        self._secret = secret or secrets.token_bytes(32)
        self._admin = admin_token.encode() if admin_token else None

    @staticmethod
    def new_session_id() -> str:
        return secrets.token_urlsafe(32)

    @staticmethod
    def valid_session_id(value: str | None) -> bool:
        return bool(value and _SESSION_ID.match(value))

    @staticmethod
    def user_id(session_id: str) -> str:
        """What the brain sees as the user: a hash, so the cookie value never reaches a page or the store."""
        return "w" + hashlib.sha256(session_id.encode()).hexdigest()[:24]

    def csrf_token(self, session_id: str) -> str:
        return hmac.new(self._secret, f"csrf:{session_id}".encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, session_id: str, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf_token(session_id), str(token))

    # --- admin -----------------------------------------------------------------------------
    @property
    def admin_enabled(self) -> bool:
        return self._admin is not None

    def admin_token_ok(self, given: str | None) -> bool:
        """Constant-time comparison of the token typed or sent with the configured one."""
        return self._admin is not None and token_matches(given or "", self._admin.decode())

    def admin_cookie(self, now: float | None = None) -> str:
        assert self._admin is not None
        expires = int((now or time.time()) + ADMIN_SESSION_SECONDS)
        nonce = secrets.token_hex(8)
        return f"{expires}.{nonce}.{self._admin_mac(expires, nonce)}"

    def admin_cookie_ok(self, value: str | None, now: float | None = None) -> bool:
        if self._admin is None or not value:
            return False
        parts = value.split(".")
        if len(parts) != 3 or not parts[0].isdigit():
            return False
        expires, nonce, mac = int(parts[0]), parts[1], parts[2]
        if expires < (now or time.time()):
            return False
        return hmac.compare_digest(self._admin_mac(expires, nonce), mac)

    def _admin_mac(self, expires: int, nonce: str) -> str:
        assert self._admin is not None
        return hmac.new(self._admin, f"admin:{expires}:{nonce}".encode(), hashlib.sha256).hexdigest()


def token_matches(given: str, expected: str) -> bool:
    """Compare digests, so neither the content nor the length of the secret leaks through timing."""
    a = hashlib.sha256(given.encode("utf-8", "replace")).digest()
    b = hashlib.sha256(expected.encode("utf-8", "replace")).digest()
    return hmac.compare_digest(a, b)


def is_https(request: web.Request, public_url: str) -> bool:
    """Secure cookies when the request came over TLS, via a TLS-terminating proxy, or the site is https."""
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return request.secure or forwarded == "https" or public_url.startswith("https://")


def client_address(request: web.Request) -> str:
    """The peer's address. Forwarded headers are not trusted: anyone can send them."""
    return request.remote or "unknown"


def set_cookie(response: web.StreamResponse, request: web.Request, name: str, value: str, *, public_url: str,
               max_age: int | None, same_site: str = "Lax", path: str = "/") -> None:
    response.set_cookie(name, value, max_age=max_age, path=path, httponly=True, samesite=same_site,
                        secure=is_https(request, public_url))


@web.middleware
async def security_headers(request: web.Request,
                           handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        response = exc
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if request.path.startswith("/admin"):
        response.headers["Cache-Control"] = "no-store"
    if isinstance(response, web.HTTPException):
        raise response
    return response
