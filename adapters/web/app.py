"""The web playground (`/`, `/plan`), the article pages and the app's assembly; admin is in admin.py.

Like the Slack and Discord adapters, this module only translates: a form post becomes an `Inbound`
for `platform="web"` (the user is a hash of the browser's session cookie), the brain answers, and
the `Reply` becomes a transcript entry rendered by Jinja2 templates. Every form works without
JavaScript (post, then redirect back); `static/app.js` only swaps the transcript in place.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
from collections import OrderedDict, deque
from pathlib import Path
from typing import Any, Protocol

import jinja2
from aiohttp import web

from adapters.web import admin
from adapters.web.articles import ArticleLibrary
from adapters.web.render import Entry, entry_from_reply
from adapters.web.security import SESSION_COOKIE, SessionKeys, client_address, security_headers, set_cookie
from bot.config import Settings
from bot.messages import Inbound, Kind, Reply
from bot.store.base import Store

__all__ = ["WebLimits", "build_web_app"]

_log = logging.getLogger(__name__)
_HERE = Path(__file__).resolve().parent
_COMMAND = re.compile(r"^/([a-z][a-z-]{0,30})(?:\s+(.*))?$", re.S)


class BrainLike(Protocol):
    async def handle(self, inbound: Inbound) -> Reply: ...


class WebLimits:
    """Input and rate limits of the playground.

    The brain already limits each user (here: each browser session) and reads at most 2,000
    characters; the address limit stops one client from minting sessions to get around that.
    """

    max_chars = 4000
    per_address = (120, 60.0)  # requests per window per client address
    transcript_entries = 40
    sessions_in_memory = 2000


class Transcripts:
    """The visible chat of each browser session, newest sessions kept, oldest dropped.

    Only what the page shows lives here; the conversation's memory (profile, topic, turns) is the
    brain's, in the store, so a follow-up still works after a restart even though the page starts
    empty again.
    """

    def __init__(self, limits: type[WebLimits] = WebLimits) -> None:
        self._limits = limits
        self._sessions: OrderedDict[str, deque[Entry]] = OrderedDict()
        self._ids = itertools.count(1)

    def entries(self, session: str) -> deque[Entry]:
        entries = self._sessions.get(session)
        if entries is None:
            entries = self._sessions[session] = deque(maxlen=self._limits.transcript_entries)
            while len(self._sessions) > self._limits.sessions_in_memory:
                self._sessions.popitem(last=False)
        self._sessions.move_to_end(session)
        return entries

    def next_id(self) -> str:
        return f"e{next(self._ids)}"

    def find(self, session: str, entry_id: str) -> Entry | None:
        return next((e for e in self.entries(session) if e.entry_id == entry_id), None)


class WebContext:
    """What the handlers share; built once per app."""

    def __init__(self, settings: Settings, brain: BrainLike, store: Store, articles: ArticleLibrary,
                 templates: jinja2.Environment, keys: SessionKeys) -> None:
        self.settings = settings
        self.brain = brain
        self.store = store
        self.articles = articles
        self.templates = templates
        self.keys = keys
        self.transcripts = Transcripts()
        self.limits = WebLimits

    # --- sessions --------------------------------------------------------------------------
    def session(self, request: web.Request) -> tuple[str, bool]:
        """(session id, whether it is new and needs its cookie set)."""
        current = request.cookies.get(SESSION_COOKIE)
        if SessionKeys.valid_session_id(current):
            return str(current), False
        return SessionKeys.new_session_id(), True

    def page(self, request: web.Request, template: str, status: int = 200, **values: Any) -> web.Response:
        session, new = self.session(request)
        html = self.templates.get_template(template).render(csrf=self.keys.csrf_token(session),
                                                            admin_enabled=self.keys.admin_enabled, **values)
        response = web.Response(text=html, content_type="text/html", status=status)
        if new:
            self.set_session_cookie(response, request, session)
        return response

    def set_session_cookie(self, response: web.StreamResponse, request: web.Request, session: str) -> None:
        set_cookie(response, request, SESSION_COOKIE, session, public_url=self.settings.public_url,
                   max_age=30 * 86400)

    def allowed(self, request: web.Request) -> bool:
        limit, window = self.limits.per_address
        return self.store.hit_rate_limit(f"web-addr:{client_address(request)}", limit=limit, window_seconds=window)


KEYS: web.AppKey[WebContext] = web.AppKey("careerbot_web", WebContext)


def _ctx(request: web.Request) -> WebContext:
    return request.app[KEYS]


# --- playground -----------------------------------------------------------------------------
async def index(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    session, _ = ctx.session(request)
    return ctx.page(request, "playground.html", entries=list(ctx.transcripts.entries(session)),
                    max_chars=ctx.limits.max_chars, title="Playground")


async def _form(request: web.Request) -> tuple[WebContext, str, Any] | web.Response:
    """The posted form after the session, CSRF and rate checks; or the response refusing it."""
    ctx = _ctx(request)
    session, new = ctx.session(request)
    try:
        form = await request.post()
    except (ValueError, web.HTTPRequestEntityTooLarge):
        return _refuse(request, 413, "That message is too long.")
    if new or not ctx.keys.csrf_ok(session, form.get("csrf")):  # type: ignore[arg-type]
        return _refuse(request, 403, "This page has expired. Reload it and try again.")
    if not ctx.allowed(request):
        return _refuse(request, 429, "Too many requests from your address. Wait a minute and try again.")
    return ctx, session, form


def _refuse(request: web.Request, status: int, message: str) -> web.Response:
    if _wants_fragment(request):
        return web.json_response({"error": message}, status=status)
    ctx = _ctx(request)
    return ctx.page(request, "message.html", status=status, message=message, title="Not sent")


def _wants_fragment(request: web.Request) -> bool:
    return request.headers.get("X-Requested-With") == "careerbot"


async def _message(request: web.Request) -> web.Response | tuple[WebContext, str, str]:
    """The posted form's text, checked (session, CSRF, length), or the response that refuses it."""
    checked = await _form(request)
    if isinstance(checked, web.Response):
        return checked
    ctx, session, form = checked
    text = str(form.get("text") or "").strip()
    if len(text) > ctx.limits.max_chars:
        return _refuse(request, 413, f"Messages can be at most {ctx.limits.max_chars:,} characters.")
    return ctx, session, text


async def chat(request: web.Request) -> web.StreamResponse:
    checked = await _message(request)
    if isinstance(checked, web.Response):
        return checked
    ctx, session, text = checked
    if not text:
        return _refuse(request, 400, "Type a question first.")
    command = _COMMAND.match(text)
    user = SessionKeys.user_id(session)
    if command:
        inbound = Inbound("web", user, "web", (command.group(2) or "").strip(), Kind.COMMAND, command=command.group(1))
    else:
        inbound = Inbound("web", user, "web", text, Kind.DM)
    return await _converse(request, ctx, session, inbound, shown=text)


async def quiz(request: web.Request) -> web.StreamResponse:
    checked = await _form(request)
    if isinstance(checked, web.Response):
        return checked
    ctx, session, _ = checked
    inbound = Inbound("web", SessionKeys.user_id(session), "web", "", Kind.COMMAND, command="quiz")
    return await _converse(request, ctx, session, inbound, shown="/quiz")


async def action(request: web.Request) -> web.StreamResponse:
    """A button press: the value goes to the brain unchanged, as on the chat platforms."""
    checked = await _form(request)
    if isinstance(checked, web.Response):
        return checked
    ctx, session, form = checked
    value = str(form.get("value") or "")[:200]
    entry = ctx.transcripts.find(session, str(form.get("entry") or ""))
    if entry is None or not any(value == b[1] for row in entry.buttons for b in row):
        return _refuse(request, 400, "That button has expired. Ask again or start the quiz again.")
    inbound = Inbound("web", SessionKeys.user_id(session), "web", "", Kind.ACTION, action=value)
    reply = await ctx.brain.handle(inbound)
    entries = ctx.transcripts.entries(session)
    if reply.intent == "feedback":
        entry.note = reply.text
        entry.buttons = [[b for b in row if not b[1].startswith("feedback:")] for row in entry.buttons]
        entry.buttons = [row for row in entry.buttons if row]
        target = entry
    elif reply.replace:  # a quiz step: the question is replaced by the next one
        new = entry_from_reply(entry.entry_id, reply)
        position = next((i for i, e in enumerate(entries) if e is entry), None)
        if position is None:  # a second press replaced it meanwhile: show this reply after it
            new.entry_id = ctx.transcripts.next_id()
            entries.append(new)
        else:
            entries[position] = new
        target = new
    elif reply.ephemeral and not reply.buttons:  # a notice about the press ("already recorded")
        entry.note = reply.text
        target = entry
    else:
        entry.buttons = []
        target = entry_from_reply(ctx.transcripts.next_id(), reply)
        entries.append(target)
    return _after_post(request, ctx, session, target)


async def _converse(request: web.Request, ctx: WebContext, session: str, inbound: Inbound, *,
                    shown: str) -> web.StreamResponse:
    entries = ctx.transcripts.entries(session)
    entries.append(Entry(ctx.transcripts.next_id(), "user", shown))
    reply = await ctx.brain.handle(inbound)
    target = entry_from_reply(ctx.transcripts.next_id(), reply)
    if reply.intent == "forget":
        entries.clear()
    entries.append(target)
    return _after_post(request, ctx, session, target)


def _after_post(request: web.Request, ctx: WebContext, session: str, target: Entry) -> web.StreamResponse:
    if _wants_fragment(request):
        html = ctx.templates.get_template("transcript.html").render(
            entries=list(ctx.transcripts.entries(session)), csrf=ctx.keys.csrf_token(session))
        return web.json_response({"html": html, "focus": target.entry_id})
    raise web.HTTPSeeOther(f"/#{target.entry_id}")


async def chart(request: web.Request) -> web.StreamResponse:
    """A quiz chart, only to the session whose transcript holds it."""
    ctx = _ctx(request)
    session, _ = ctx.session(request)
    entry = ctx.transcripts.find(session, request.match_info["entry_id"])
    if entry is None or not entry.chart:
        raise web.HTTPNotFound(text="No such chart.")
    path = Path(entry.chart)
    if not path.is_file():
        raise web.HTTPNotFound(text="That chart is gone.")
    return web.Response(body=await asyncio.to_thread(path.read_bytes), content_type="image/png",
                        headers={"Cache-Control": "private, max-age=3600"})


# --- learning plan view ---------------------------------------------------------------------
async def plan_page(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    session, _ = ctx.session(request)
    latest = next((e for e in reversed(ctx.transcripts.entries(session)) if e.data.get("plan")), None)
    return ctx.page(request, "plan.html", entry=latest, plan=latest.data.get("plan") if latest else None,
                    max_chars=ctx.limits.max_chars, title="Learning plan")


async def plan_post(request: web.Request) -> web.StreamResponse:
    checked = await _message(request)
    if isinstance(checked, web.Response):
        return checked
    ctx, session, text = checked
    inbound = Inbound("web", SessionKeys.user_id(session), "web", text, Kind.COMMAND, command="plan")
    entries = ctx.transcripts.entries(session)
    entries.append(Entry(ctx.transcripts.next_id(), "user", f"/plan {text}".strip()))
    reply = await ctx.brain.handle(inbound)
    entries.append(entry_from_reply(ctx.transcripts.next_id(), reply))
    raise web.HTTPSeeOther("/plan#plan")


# --- articles -------------------------------------------------------------------------------
async def article_list(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    return ctx.page(request, "articles.html", articles=ctx.articles.all(), title="Knowledge base")


async def article(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    found = ctx.articles.get(request.match_info["article_id"])
    if found is None:
        return ctx.page(request, "message.html", status=404, message="There is no article with that name.",
                        title="Not found")
    return ctx.page(request, "article.html", article=found, title=found.title)


# --- assembly -------------------------------------------------------------------------------
_EMPHASIS = re.compile(r"\*\*|__|(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w)")


def _plain(text: str) -> str:
    """Markdown emphasis markers dropped, for answers quoted in tables (still escaped by Jinja2)."""
    return _EMPHASIS.sub("", text)


def _templates() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(_HERE / "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["plain"] = _plain
    return env


@web.middleware
async def _not_found_page(request: web.Request, handler: Any) -> web.StreamResponse:
    """Short pages for 404/405 rather than aiohttp's defaults; never a traceback."""
    try:
        return await handler(request)
    except web.HTTPNotFound as exc:
        if request.path.startswith("/static/") or request.path.startswith("/chart/"):
            raise
        ctx = _ctx(request)
        return ctx.page(request, "message.html", status=404, message=exc.text or "Not found.", title="Not found")
    except web.HTTPMethodNotAllowed:
        return web.Response(status=405, text="Method not allowed.")


def build_web_app(settings: Settings, brain: BrainLike, store: Store, *, knowledge_dir: Path | None = None,
                  articles: ArticleLibrary | None = None) -> web.Application:
    """The aiohttp application: playground, plan view, articles, admin, static files."""
    app = web.Application(middlewares=[security_headers, _not_found_page], client_max_size=64 * 1024)
    library = articles or ArticleLibrary.load((knowledge_dir or settings.knowledge_dir) / "articles")
    app[KEYS] = WebContext(settings, brain, store, library, _templates(), SessionKeys(settings.admin_token))
    app.router.add_get("/", index)
    app.router.add_post("/chat", chat)
    app.router.add_post("/quiz", quiz)
    app.router.add_post("/action", action)
    app.router.add_get("/plan", plan_page)
    app.router.add_post("/plan", plan_post)
    app.router.add_get("/chart/{entry_id}", chart)
    app.router.add_get("/articles", article_list)
    app.router.add_get("/articles/{article_id}", article)
    app.router.add_static("/static/", _HERE / "static", show_index=False, follow_symlinks=False)
    admin.add_routes(app, KEYS)
    return app
