"""Markdown-aware chunking sized for all-MiniLM-L6-v2.

The model reads at most 256 word pieces and anything beyond is silently dropped, so a chunk is
kept well under that (about 120 words of body plus its title line). Chunks never cross a heading:
a section's heading travels with each of its chunks as a header line, which gives both BM25 and
the embedding the context the bare paragraph lacks ("contextual chunk headers").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.documents import SourceDocument

__all__ = ["CHUNKER_VERSION", "Chunk", "chunk_document", "split_sentences"]

CHUNKER_VERSION = "7"
MAX_WORDS = 120
TINY_WORDS = 20
# A full stop after an abbreviation ("Reality vs. Hype", "e.g. GPT") ends no sentence.
_NOT_ABBREVIATION = r"(?<!\bvs\.)(?<!\bVs\.)(?<!\be\.g\.)(?<!\bi\.e\.)(?<!\bDr\.)(?<!\bMr\.)(?<!\bMs\.)(?<!\bNo\.)"
_ANY_SENTENCE_END = re.compile(r"(?<=[.!?])" + _NOT_ABBREVIATION + r"\s+")  # "careerbot does ..." too
_SENTENCE_END = re.compile(r"(?<=[.!?])" + _NOT_ABBREVIATION + r"\s+(?=[A-Z0-9\"'(])")


@dataclass(frozen=True)
class Chunk:
    """A retrievable passage with what a citation needs."""

    chunk_id: str
    doc_id: str
    title: str
    url: str
    heading: str
    body: str
    author: str = ""

    @property
    def text(self) -> str:
        """What gets embedded and keyword-indexed: title and heading path, then the body."""
        header = f"{self.title} — {self.heading}" if self.heading else self.title
        return f"{header}\n{self.body}"


def split_sentences(text: str) -> list[str]:
    """Sentences and lines of `text`, never cut after an abbreviation ("Reality vs. Hype")."""
    return [s for line in text.split("\n") for s in _ANY_SENTENCE_END.split(line) if s.strip()]


def _words(text: str) -> int:
    return len(text.split())


def _split_long(text: str, limit: int) -> list[str]:
    """Split an oversized block at sentence ends (then at words) so no chunk is truncated."""
    pieces: list[str] = []
    current: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        if current and _words(" ".join(current + [sentence])) > limit:
            pieces.append(" ".join(current))
            current = []
        current.append(sentence)
    if current:
        pieces.append(" ".join(current))
    out: list[str] = []
    for piece in pieces:
        words = piece.split()
        for start in range(0, len(words), limit):
            out.append(" ".join(words[start:start + limit]))
    return out


def chunk_document(doc: SourceDocument, max_words: int = MAX_WORDS) -> list[Chunk]:
    """Pack consecutive blocks of one section into chunks of at most `max_words` body words."""
    groups: list[tuple[str, list[str]]] = []
    for block in doc.blocks:
        parts = _split_long(block.text, max_words) if _words(block.text) > max_words else [block.text]
        for part in parts:
            fits = bool(groups) and _words("\n".join(groups[-1][1] + [part])) <= max_words
            if fits and groups[-1][0] == block.heading:
                groups[-1][1].append(part)
            elif fits and _words("\n".join(groups[-1][1])) < TINY_WORDS:
                # A section of a line or two (a byline, a one-sentence intro) is too small to be a
                # useful passage on its own: it joins the next section, heading included.
                groups[-1][1].extend([block.heading, part] if block.heading else [part])
            else:
                groups.append((block.heading, [part]))
    chunks = []
    for i, (heading, parts) in enumerate(groups):
        chunks.append(
            Chunk(
                chunk_id=f"{doc.doc_id}#{i}",
                doc_id=doc.doc_id,
                title=doc.title,
                url=doc.url,
                heading=heading,
                body="\n".join(parts),
                author=str(doc.meta.get("author") or ""),
            )
        )
    return chunks


_UNIT_SPLIT = re.compile(r"(?<=[.!?])" + _NOT_ABBREVIATION + r"\s+(?=[A-Z0-9\"'(])|\n+")


def split_units(body: str, min_words: int = 4) -> list[str]:
    """Sentences and list items of a chunk body: the small units indexed alongside the chunk."""
    return [u.strip() for u in _UNIT_SPLIT.split(body) if len(u.split()) >= min_words]
