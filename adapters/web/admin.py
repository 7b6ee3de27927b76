"""The admin dashboard at `/admin`: usage, feedback, gaps, quiz verdicts, LLM fallbacks, CSV export.

Why it refuses so early: with `CAREERBOT_ADMIN_TOKEN` unset every `/admin` path answers 404, and
with it set nothing but the login form is served until the token has been typed (or sent as
`Authorization: Bearer`); the comparison is constant-time, and sign-in attempts (10 per 5 minutes)
and bearer requests (60 a minute) are limited per client address before any comparison. Every figure comes from `bot.reports`, the module `careerbot report` prints.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from adapters.web.charts import hbar_chart, stacked_day_chart
from adapters.web.security import ADMIN_COOKIE, ADMIN_SESSION_SECONDS, client_address, set_cookie
from bot import reports

if TYPE_CHECKING:
    from adapters.web.app import WebContext

__all__ = ["add_routes"]

_LOGIN_ATTEMPTS = (10, 300.0)  # sign-in attempts per client address per window
_PAGE_ROWS = 50  # worst-rated answers shown on the page
_EXPORT_ROWS = 100_000  # the CSV export is the whole table
_BEARER_REQUESTS = (60, 60.0)  # requests with `Authorization: Bearer` per client address per window


def add_routes(app: web.Application, key: web.AppKey[WebContext]) -> None:
    def ctx_of(request: web.Request) -> WebContext:
        return request.app[key]

    def enabled(request: web.Request) -> WebContext:
        ctx = ctx_of(request)
        if not ctx.keys.admin_enabled:
            raise web.HTTPNotFound(text="The admin dashboard is off: set CAREERBOT_ADMIN_TOKEN to turn it on.")
        return ctx

    def signed_in(request: web.Request, ctx: WebContext) -> bool:
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            # Every bearer request counts (before the comparison), so guessing stays bounded.
            limit, window = _BEARER_REQUESTS
            if not ctx.store.hit_rate_limit(f"web-admin-bearer:{client_address(request)}", limit=limit,
                                            window_seconds=window):
                raise web.HTTPTooManyRequests(text="Too many requests. Wait a minute.")
            return ctx.keys.admin_token_ok(auth[7:].strip())
        return ctx.keys.admin_cookie_ok(request.cookies.get(ADMIN_COOKIE))

    def login_page(request: web.Request, ctx: WebContext, status: int, message: str = "") -> web.Response:
        return ctx.page(request, "admin_login.html", status=status, message=message, title="Admin sign-in")

    async def dashboard(request: web.Request) -> web.Response:
        ctx = enabled(request)
        if not signed_in(request, ctx):
            return login_page(request, ctx, 401)
        days = _days(request)
        usage, feedback = await _reports(ctx, days)
        return ctx.page(request, "admin.html", title="Admin", **_view(usage, feedback))

    async def login(request: web.Request) -> web.StreamResponse:
        ctx = enabled(request)
        session, new = ctx.session(request)
        form = await request.post()
        if new or not ctx.keys.csrf_ok(session, form.get("csrf")):  # type: ignore[arg-type]
            return login_page(request, ctx, 403, "This page has expired. Reload it and try again.")
        limit, window = _LOGIN_ATTEMPTS
        # Every attempt counts, before the comparison: past the limit no token is even checked.
        if not ctx.store.hit_rate_limit(f"web-admin-login:{client_address(request)}", limit=limit,
                                        window_seconds=window):
            return login_page(request, ctx, 429, "Too many sign-in attempts. Wait a few minutes.")
        if not ctx.keys.admin_token_ok(str(form.get("token") or "")):
            return login_page(request, ctx, 403, "That token is not right.")
        response = web.HTTPSeeOther("/admin")
        set_cookie(response, request, ADMIN_COOKIE, ctx.keys.admin_cookie(), public_url=ctx.settings.public_url,
                   max_age=ADMIN_SESSION_SECONDS, same_site="Strict", path="/admin")
        raise response

    async def logout(request: web.Request) -> web.StreamResponse:
        ctx = enabled(request)
        session, _ = ctx.session(request)
        form = await request.post()
        if not ctx.keys.csrf_ok(session, form.get("csrf")):  # type: ignore[arg-type]
            return login_page(request, ctx, 403, "This page has expired. Reload it and try again.")
        response = web.HTTPSeeOther("/admin")
        response.del_cookie(ADMIN_COOKIE, path="/admin")
        raise response

    async def export(request: web.Request) -> web.Response:
        ctx = enabled(request)
        if not signed_in(request, ctx):
            return login_page(request, ctx, 401)
        what = request.match_info["what"]
        usage, feedback = await _reports(ctx, _days(request), feedback_limit=_EXPORT_ROWS)
        body = reports.feedback_csv(feedback) if what == "feedback" else reports.usage_csv(usage)
        stamp = time.strftime("%Y%m%d", time.gmtime())
        return web.Response(text=body, content_type="text/csv", charset="utf-8",
                            headers={"Content-Disposition": f'attachment; filename="careerbot-{what}-{stamp}.csv"'})

    app.router.add_get("/admin", dashboard)
    app.router.add_post("/admin/login", login)
    app.router.add_post("/admin/logout", logout)
    app.router.add_get(r"/admin/{what:feedback|usage}.csv", export)


def _days(request: web.Request) -> int:
    raw = request.query.get("days", "30")
    return min(365, max(1, int(raw))) if raw.isdigit() else 30


async def _reports(ctx: WebContext, days: int, *, feedback_limit: int = _PAGE_ROWS
                   ) -> tuple[reports.UsageReport, reports.FeedbackReport]:
    def build() -> tuple[reports.UsageReport, reports.FeedbackReport]:
        return reports.usage_report(ctx.store, days=days), reports.feedback_report(ctx.store, limit=feedback_limit)

    return await asyncio.to_thread(build)


def _view(usage: reports.UsageReport, feedback: reports.FeedbackReport) -> dict[str, Any]:
    fallbacks: dict[str, int] = {}
    for _, reason, n in usage.llm_fallbacks:
        fallbacks[reason] = fallbacks.get(reason, 0) + n
    return {
        "usage": usage,
        "feedback": feedback,
        "by_platform": usage.by(1),
        "by_intent": usage.by(2),
        "fallbacks": fallbacks,
        "platform_chart": stacked_day_chart(usage.day_list, usage.per_day(1), "Replies per day by platform"),
        "intent_chart": stacked_day_chart(usage.day_list, usage.per_day(2), "Replies per day by intent"),
        "verdict_chart": hbar_chart(usage.quiz_verdicts, "Quiz verdicts"),
        "fallback_chart": hbar_chart(fallbacks, "LLM fallbacks by reason"),
        "feedback_chart": hbar_chart({"helpful": feedback.helpful, "not helpful": feedback.not_helpful},
                                     "Feedback votes"),
        "day": lambda ts: time.strftime("%Y-%m-%d", time.gmtime(ts)),
    }
