"""The web playground, article pages and admin dashboard over HTTP, on the real brain and store.

The browser tests (test_browser.py) cover the same paths with JavaScript; these cover the plain-form
path, the headers and the refusals, which a browser hides.
"""

from __future__ import annotations

import re
from dataclasses import replace

from aiohttp.test_utils import TestClient, TestServer
from web_support import ADMIN_TOKEN, csrf_of

from adapters.web import build_web_app
from adapters.web.app import KEYS, WebLimits
from bot import reports
from bot.brain import Brain
from bot.config import Settings
from bot.store import Store

FEEDBACK = re.compile(r'name="entry" value="(e\d+)">\s*<input type="hidden" name="value" value="(feedback:[0-9a-f]+:up)"')


async def _start(client: TestClient) -> str:
    page = await client.get("/")
    assert page.status == 200
    return csrf_of(await page.text())


async def _say(client: TestClient, csrf: str, text: str) -> str:
    response = await client.post("/chat", data={"csrf": csrf, "text": text}, allow_redirects=False)
    assert response.status == 303, await response.text()
    return await (await client.get("/")).text()


async def test_security_headers_and_session_cookie(client: TestClient) -> None:
    page = await client.get("/")
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    cookie = page.headers["Set-Cookie"]
    assert "careerbot_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP, no HTTPS public URL
    client.session.cookie_jar.clear()
    proxied = await client.get("/", headers={"X-Forwarded-Proto": "https"})  # a TLS-terminating proxy
    assert "Secure" in proxied.headers["Set-Cookie"]


async def test_cookies_are_secure_when_the_public_url_is_https(web_settings: Settings, brain: Brain,
                                                               store: Store) -> None:
    app = build_web_app(replace(web_settings, public_url="https://careerbot.example"), brain, store)
    async with TestClient(TestServer(app, host="127.0.0.1")) as c:
        assert "Secure" in (await c.get("/")).headers["Set-Cookie"]


async def test_question_gets_a_cited_answer_and_is_recorded_as_web_usage(client: TestClient, store: Store) -> None:
    csrf = await _start(client)
    page = await _say(client, csrf, "What does an AI engineer do day to day?")
    assert 'class="entry bot"' in page
    sources = re.search(r'<section class="sources".*?</section>', page, re.S)
    assert sources and re.search(r'<a href="https?://[^"]+"', sources.group(0))
    report = reports.usage_report(store, days=1)
    assert report.by(1) == {"web": 1} and report.by(2) == {"question": 1}


async def test_user_html_is_shown_as_text(client: TestClient) -> None:
    csrf = await _start(client)
    page = await _say(client, csrf, "<script>alert('owned')</script><img src=x onerror=alert(1)>")
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt;" in page


async def test_forms_without_a_valid_csrf_token_are_refused(client: TestClient) -> None:
    await _start(client)
    for data in ({"text": "hello"}, {"text": "hello", "csrf": "0" * 64}):
        response = await client.post("/chat", data=data, allow_redirects=False)
        assert response.status == 403
        assert "expired" in await response.text()


async def test_too_long_and_empty_messages_get_a_short_reply(client: TestClient) -> None:
    csrf = await _start(client)
    long = await client.post("/chat", data={"csrf": csrf, "text": "a" * (WebLimits.max_chars + 1)})
    assert long.status == 413 and "at most 4,000 characters" in await long.text()
    huge = await client.post("/chat", data={"csrf": csrf, "text": "a" * 100_000})
    assert huge.status == 413
    empty = await client.post("/chat", data={"csrf": csrf, "text": "   "})
    assert empty.status == 400 and "Type a question" in await empty.text()


async def test_follow_up_uses_the_previous_turn(client: TestClient) -> None:
    csrf = await _start(client)
    await _say(client, csrf, "What does an ML engineer do?")
    fragment = await client.post("/chat", data={"csrf": csrf, "text": "and what about the pay?"},
                                 headers={"X-Requested-With": "careerbot"})
    body = await fragment.json()
    last = body["html"].rsplit('class="entry bot"', 1)[1]
    assert re.search(r"salar|pay|\$\d", last, re.I), last[:800]
    assert "can't help with that" not in last


async def test_helpful_vote_shows_on_the_dashboard(client: TestClient) -> None:
    csrf = await _start(client)
    page = await _say(client, csrf, "Do AI engineers need to know calculus?")
    entry, value = FEEDBACK.search(page).groups()  # type: ignore[union-attr]
    voted = await client.post("/action", data={"csrf": csrf, "entry": entry, "value": value})
    assert "Thanks for the feedback" in await voted.text()
    login = await client.post("/admin/login", data={"csrf": csrf, "token": ADMIN_TOKEN}, allow_redirects=False)
    assert login.status == 303
    dashboard = await (await client.get("/admin")).text()
    assert re.search(r'id="votes-helpful">1<', dashboard)
    assert "Do AI engineers need to know calculus?" in dashboard
    export = await client.get("/admin/feedback.csv")
    assert export.headers["Content-Disposition"].startswith("attachment;")
    assert "Do AI engineers need to know calculus?" in await export.text()


async def test_a_button_not_on_the_page_is_refused(client: TestClient) -> None:
    csrf = await _start(client)
    response = await client.post("/action", data={"csrf": csrf, "entry": "e1", "value": "feedback:abc:up"})
    assert response.status == 400 and "expired" in await response.text()


async def test_admin_refuses_missing_and_wrong_tokens(client: TestClient) -> None:
    csrf = await _start(client)
    assert (await client.get("/admin")).status == 401
    assert (await client.get("/admin/usage.csv")).status == 401
    assert (await client.get("/admin", headers={"Authorization": "Bearer wrong"})).status == 401
    wrong = await client.post("/admin/login", data={"csrf": csrf, "token": "wrong-token"})
    assert wrong.status == 403 and "not right" in await wrong.text()
    no_csrf = await client.post("/admin/login", data={"token": ADMIN_TOKEN})
    assert no_csrf.status == 403
    forged = await client.get("/admin", cookies={"careerbot_admin": "99999999999.abcd.0123"})
    assert forged.status == 401
    login = await client.post("/admin/login", data={"csrf": csrf, "token": ADMIN_TOKEN}, allow_redirects=False)
    cookie = login.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/admin" in cookie
    ok = await client.get("/admin")
    assert ok.status == 200 and ok.headers["Cache-Control"] == "no-store"
    bearer = await client.get("/admin/usage.csv", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert bearer.status == 200 and (await bearer.text()).startswith("kind,day,platform")
    out = await client.post("/admin/logout", data={"csrf": csrf}, allow_redirects=False)
    assert out.status == 303
    assert (await client.get("/admin")).status == 401


async def test_admin_is_off_without_a_token(settings: Settings, brain: Brain, store: Store) -> None:
    app = build_web_app(replace(settings, admin_token=None), brain, store)
    async with TestClient(TestServer(app, host="127.0.0.1")) as c:
        assert (await c.get("/admin")).status == 404
        assert (await c.get("/admin/feedback.csv", headers={"Authorization": "Bearer x"})).status == 404
        assert 'href="/admin"' not in await (await c.get("/")).text()


async def test_quiz_to_the_end_shows_the_chart_to_its_session_only(client: TestClient, web_settings: Settings,
                                                                   brain: Brain, store: Store) -> None:
    csrf = await _start(client)
    await client.post("/quiz", data={"csrf": csrf})
    for _ in range(40):
        page = await (await client.get("/")).text()
        if "/chart/" in page:
            break
        match = re.search(r'name="entry" value="(e\d+)">\s*<input type="hidden" name="value" value="(quiz:a:[^"]+)"',
                          page)
        assert match, page[-2000:]
        await client.post("/action", data={"csrf": csrf, "entry": match.group(1), "value": match.group(2)})
    chart = re.search(r'<img src="(/chart/e\d+)" alt="([^"]+)"', page)
    assert chart and "Your quiz profile" in chart.group(2)
    image = await client.get(chart.group(1))
    assert image.status == 200 and (await image.read()).startswith(b"\x89PNG")
    other = build_web_app(web_settings, brain, store)
    async with TestClient(TestServer(other, host="127.0.0.1")) as stranger:
        assert (await stranger.get(chart.group(1))).status == 404


async def test_plan_view_lists_stages(client: TestClient) -> None:
    csrf = await _start(client)
    response = await client.post("/plan", data={"csrf": csrf, "text": "I'm a backend developer and want to become "
                                                                      "an AI engineer, 6 hours a week"})
    page = await response.text()
    assert 'id="plan"' in page and "Your plan: AI engineer" in page
    assert page.count('<li><h3>') >= 2


async def test_article_pages_match_the_citation_path(client: TestClient, brain: Brain) -> None:
    listing = await (await client.get("/articles")).text()
    first = re.search(r'href="/articles/([a-z0-9-]+)"', listing)
    assert first
    page = await client.get(f"/articles/{first.group(1)}")
    assert page.status == 200 and "<h1>" in await page.text()
    assert (await client.get("/articles/no-such-article")).status == 404
    # A citation of an article that restates no original links to this app's page for it.
    source = brain.services.article_source("example-projects")
    assert source is not None and source.url.startswith(brain.services.page_url + "/articles/")
    cited = await client.get(source.url.removeprefix(brain.services.page_url))
    assert cited.status == 200 and source.title in await cited.text()
    assert (await client.get("/articles/..%2F..%2Fetc%2Fpasswd")).status == 404


async def test_per_address_rate_limit(client: TestClient) -> None:
    class Tight(WebLimits):
        per_address = (2, 60.0)

    client.server.app[KEYS].limits = Tight
    csrf = await _start(client)
    for _ in range(2):
        assert (await client.post("/chat", data={"csrf": csrf, "text": "hi"}, allow_redirects=False)).status == 303
    limited = await client.post("/chat", data={"csrf": csrf, "text": "hi"})
    assert limited.status == 429 and "Too many requests" in await limited.text()


async def test_admin_sign_in_attempts_are_limited_before_any_comparison(client: TestClient) -> None:
    csrf = await _start(client)
    for _ in range(10):
        assert (await client.post("/admin/login", data={"csrf": csrf, "token": "guess"})).status == 403
    blocked = await client.post("/admin/login", data={"csrf": csrf, "token": ADMIN_TOKEN}, allow_redirects=False)
    assert blocked.status == 429 and "Too many sign-in attempts" in await blocked.text()
    assert (await client.get("/admin")).status == 401  # the right token, past the limit, did not sign in


async def test_a_double_press_advances_the_quiz_once(client: TestClient) -> None:
    import asyncio

    csrf = await _start(client)
    await client.post("/quiz", data={"csrf": csrf})
    page = await (await client.get("/")).text()
    entry, value = re.search(r'name="entry" value="(e\d+)">\s*<input type="hidden" name="value" '
                             r'value="(quiz:a:[^"]+)"', page).groups()  # type: ignore[union-attr]
    presses = await asyncio.gather(*(client.post("/action", data={"csrf": csrf, "entry": entry, "value": value},
                                                 allow_redirects=False) for _ in range(2)))
    assert sorted(p.status for p in presses) in ([303, 303], [303, 400])  # never a server error
    page = await (await client.get("/")).text()
    assert "Question 2 of" in page and "Question 3 of" not in page


async def test_the_web_answer_is_the_one_slack_gets(client: TestClient, brain: Brain, store: Store) -> None:
    from bot.messages import Inbound, Kind

    question = "How much do ML engineers earn?"
    csrf = await _start(client)
    page = await _say(client, csrf, question)
    answer_id = FEEDBACK.search(page).group(2).split(":")[1]  # type: ignore[union-attr]
    on_web = store.get_answer(answer_id)
    on_slack = await brain.handle(Inbound("slack", "U1", "C1", question, Kind.MENTION))
    assert on_web is not None and on_web.text == on_slack.text
    assert on_web.sources == [s.as_dict() for s in on_slack.sources]
