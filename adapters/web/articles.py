"""The knowledge articles as web pages, at `/articles/<id>` (the path citations use).

Why this path: `bot.composer.source_of` links a citation to `{CAREERBOT_PUBLIC_URL}/articles/<id>`
when the article restates no original with a URL, so serving that path is what makes those links work.
Articles are read once at start; their markdown goes through the same escaping renderer as replies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup

from adapters.web.render import markdown_html, safe_url
from knowledge.documents import split_front_matter

__all__ = ["Article", "ArticleLibrary"]

_ARTICLE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
_LEADING_TITLE = re.compile(r"\A\s*# [^\n]*\n")


@dataclass(frozen=True)
class Article:
    article_id: str
    title: str
    author: str
    url: str  # the original work this article restates, if any
    learn_more: str
    published: str
    tags: tuple[str, ...]
    source: str
    body: str

    @property
    def html(self) -> Markup:
        return markdown_html(self.body)


class ArticleLibrary:
    """Every `*.md` article of a folder, by id."""

    def __init__(self, articles: dict[str, Article]) -> None:
        self._articles = articles

    @classmethod
    def load(cls, folder: Path) -> ArticleLibrary:
        articles: dict[str, Article] = {}
        for path in sorted(folder.glob("*.md")):
            article = _read(path)
            if article is not None:
                articles[article.article_id] = article
        return cls(articles)

    def get(self, article_id: str) -> Article | None:
        if not _ARTICLE_ID.match(article_id):
            return None
        return self._articles.get(article_id)

    def all(self) -> list[Article]:
        return sorted(self._articles.values(), key=lambda a: a.title.lower())


def _read(path: Path) -> Article | None:
    meta, raw = split_front_matter(path.read_text(encoding="utf-8", errors="replace"))
    article_id = str(meta.get("id") or path.stem)
    if not _ARTICLE_ID.match(article_id):
        return None
    tags = meta.get("tags") or ()
    return Article(
        article_id=article_id,
        title=str(meta.get("title") or path.stem),
        author=str(meta.get("author") or ""),
        url=safe_url(str(meta.get("url") or "")),
        learn_more=safe_url(str(meta.get("learn_more") or "")),
        published=str(meta.get("published") or ""),
        tags=tuple(str(t) for t in tags) if isinstance(tags, list | tuple) else (),
        source=str(meta.get("source") or ""),
        body=_LEADING_TITLE.sub("", raw, count=1),  # the page prints the title itself
    )
