"""The web adapter's pure parts: escaping renderer, SVG charts, signed cookies and CSRF tokens."""

from __future__ import annotations

from pathlib import Path

from adapters.web.articles import ArticleLibrary
from adapters.web.charts import hbar_chart, stacked_day_chart
from adapters.web.render import Entry, entry_from_reply, markdown_html, safe_url
from adapters.web.security import SessionKeys, token_matches
from bot.messages import Button, Reply, Source

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"


def test_markdown_keeps_formatting_and_escapes_html() -> None:
    html = markdown_html("**Yes** <script>alert(1)</script> [ok](https://a.example) [bad](javascript:alert(1))")
    assert "<strong>Yes</strong>" in html and "&lt;script&gt;" in html and "<script" not in html
    assert '<a href="https://a.example">ok</a>' in html and 'href="javascript' not in html


def test_citations_link_to_the_entry_sources() -> None:
    html = markdown_html("Fact one [1] and [2], but not [3](https://x.example).", cite_prefix="src-e4")
    assert '<a class="cite" href="#src-e4-1">[1]</a>' in html and 'href="#src-e4-2"' in html
    assert 'href="#src-e4-3"' not in html


def test_user_entries_are_text_only() -> None:
    entry = Entry("e1", "user", "**not bold** <b>x</b>")
    assert str(entry.html) == "<p>**not bold** &lt;b&gt;x&lt;/b&gt;</p>"


def test_reply_becomes_an_entry_with_safe_source_links() -> None:
    reply = Reply(text="A [1]", sources=(Source("T", "https://ok.example", author="A"), Source("U", "javascript:x")),
                  buttons=((Button("Helpful", "feedback:1:up"),),), data={"answer_id": "1", "secret": "no"})
    entry = entry_from_reply("e2", reply)
    assert [s.url for s in entry.sources] == ["https://ok.example", ""]
    assert entry.sources[0].label == "T (A)" and entry.buttons == [[("Helpful", "feedback:1:up", "secondary")]]
    assert entry.data == {"answer_id": "1"}


def test_safe_url() -> None:
    assert safe_url("/articles/x") == "/articles/x"
    assert safe_url("//evil.example") == "" and safe_url("data:text/html,x") == "" and safe_url(" ") == ""


def test_charts_escape_labels_and_handle_no_data() -> None:
    svg = stacked_day_chart(["2026-12-01"], {"2026-12-01": {"<script>": 2}}, "Replies <per> day")
    assert "<script>" not in svg and "&lt;script&gt;" in svg and 'aria-label="Replies &lt;per&gt; day"' in svg
    assert "No data yet" in hbar_chart({}, "Quiz verdicts")
    assert hbar_chart({"ai_engineer": 3, "neither": 1}, "v").count("<rect") == 2


def test_admin_cookie_is_signed_and_expires() -> None:
    keys = SessionKeys("admin-token-0123456789abcdef")
    cookie = keys.admin_cookie(now=1000.0)
    assert keys.admin_cookie_ok(cookie, now=1001.0)
    assert not keys.admin_cookie_ok(cookie, now=1000.0 + 9 * 3600)  # expired
    expires, nonce, mac = cookie.split(".")
    assert not keys.admin_cookie_ok(f"{int(expires) + 3600}.{nonce}.{mac}", now=1001.0)  # extended by hand
    assert not SessionKeys("another-token-0123456789abc").admin_cookie_ok(cookie, now=1001.0)
    assert not SessionKeys(None).admin_cookie_ok(cookie) and not SessionKeys(None).admin_token_ok("")


def test_tokens_and_csrf() -> None:
    assert token_matches("a-token", "a-token") and not token_matches("a-toke", "a-token")
    keys = SessionKeys(None)
    session = keys.new_session_id()
    assert SessionKeys.valid_session_id(session) and not SessionKeys.valid_session_id("short")
    assert keys.csrf_ok(session, keys.csrf_token(session))
    assert not keys.csrf_ok(keys.new_session_id(), keys.csrf_token(session)) and not keys.csrf_ok(session, None)
    assert session not in SessionKeys.user_id(session)


def test_every_article_has_a_page() -> None:
    library = ArticleLibrary.load(KNOWLEDGE / "articles")
    ids = {p.stem for p in (KNOWLEDGE / "articles").glob("*.md")}
    assert {a.article_id for a in library.all()} == ids  # ids match the file names the citations use
    first = library.all()[0]
    assert "<h2>" in first.html and library.get("../etc/passwd") is None
