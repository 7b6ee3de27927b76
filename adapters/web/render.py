"""Markdown to safe HTML for the web pages, and a `Reply` as one entry of the chat transcript.

Why markdown-it with raw HTML switched off: a reply can quote what the user typed (a shared
answer repeats the question, a plan repeats the goal), so every character of it must be text,
never markup. markdown-it escapes any HTML in its input when `html` is off and refuses
`javascript:`, `vbscript:`, `file:` and `data:` link targets, so the only markup on the page is the
markup this module asks for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from markdown_it import MarkdownIt
from markupsafe import Markup

from bot.messages import Reply

__all__ = ["Entry", "SourceLink", "entry_from_reply", "markdown_html", "safe_url"]

_MD = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")
_CITATION = re.compile(r"\[(\d{1,2})\](?!\()")


def markdown_html(text: str, *, cite_prefix: str | None = None) -> Markup:
    """Rendered markdown; with `cite_prefix`, "[2]" becomes a link to the entry's second source."""
    html = _MD.render(text)
    if cite_prefix:
        html = _CITATION.sub(lambda m: f'<a class="cite" href="#{cite_prefix}-{m.group(1)}">[{m.group(1)}]</a>', html)
    return Markup(html)  # noqa: S704 - markdown-it escaped every character of the input (html=False)


def safe_url(url: str) -> str:
    """The URL when it is http(s) or a path on this site; otherwise empty (shown unlinked)."""
    url = (url or "").strip()
    if url.startswith(("https://", "http://")) or (url.startswith("/") and not url.startswith("//")):
        return url
    return ""


@dataclass(frozen=True)
class SourceLink:
    label: str
    url: str
    snippet: str


@dataclass
class Entry:
    """One line of the transcript: what the person sent, or what the bot replied."""

    entry_id: str
    role: str  # "user" or "bot"
    text: str
    intent: str = ""
    sources: list[SourceLink] = field(default_factory=list)
    buttons: list[list[tuple[str, str, str]]] = field(default_factory=list)  # rows of (label, value, style)
    chart: str | None = None  # a chart file of this session, served at /chart/<entry_id>
    chart_alt: str = ""
    note: str = ""  # a short status under the entry ("Thanks for the feedback!")
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def html(self) -> Markup:
        if self.role == "user":
            return Markup("<p>{}</p>").format(self.text)  # always text, never markdown or HTML
        return markdown_html(self.text, cite_prefix=f"src-{self.entry_id}" if self.sources else None)


def entry_from_reply(entry_id: str, reply: Reply) -> Entry:
    chart = None
    alt = ""
    for attachment in reply.attachments:
        if attachment.mime.startswith("image/"):
            chart = str(attachment.path)
            scores = reply.data.get("scores") or {}
            alt = attachment.title or "Quiz chart"
            if scores:
                alt += ": " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in scores.items())
            break
    return Entry(
        entry_id=entry_id,
        role="bot",
        text=reply.text,
        intent=reply.intent,
        sources=[SourceLink(s.label, safe_url(s.url), s.snippet) for s in reply.sources],
        buttons=[[(b.label, b.value, b.style) for b in row] for row in reply.buttons],
        chart=chart,
        chart_alt=alt,
        data={k: v for k, v in reply.data.items() if k in ("answer_id", "plan", "label", "label_name")},
    )
