"""The offline answer writer: grounded, extractive answers with numbered citations.

With no LLM configured (the default) the bot must still answer well and never invent anything, so
answers are assembled from the retrieved passages themselves: the sentences that share the most
meaningful words with the question, from the best-ranked passages, each tagged with the number of
the source it came from. Sources are listed by title and link after the answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from bot.messages import Source
from knowledge.retriever import Passage
from knowledge.text import tokenize

__all__ = ["cite_sources", "compose_answer", "passage_sentences", "source_of"]

_SENT_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(*\[])|\n+")
_MD_NOISE = re.compile(r"^\s*(?:[-*•]|\d+\.)\s+|\*\*|__|`")


@lru_cache(maxsize=8192)
def _sentences_with_tokens(body: str) -> tuple[tuple[str, frozenset[str]], ...]:
    """Sentences of a chunk body and their tokens; cached, since the same chunks answer many questions."""
    return tuple((s, frozenset(tokenize(s))) for s in _readable_sentences(body))


def passage_sentences(passage: Passage) -> list[str]:
    return [s for s, _ in _sentences_with_tokens(passage.chunk.body)]


def _readable_sentences(body: str) -> list[str]:
    """Readable sentences of a passage body, with list markers and emphasis removed.

    Table rows, lead-ins ending in a colon and fragments are skipped: out of context they read badly.
    """
    out = []
    for raw in _SENT_SPLIT.split(body):
        sentence = _MD_NOISE.sub("", raw).strip()
        if sentence.startswith("|") or sentence.endswith(":") or len(sentence.split()) < 4:
            continue
        out.append(sentence)
    return out


def source_of(passage: Passage, snippet_chars: int = 240) -> Source:
    """The citation for one passage: its article's title and link, the passage as snippet."""
    snippet = passage.chunk.body.replace("\n", " ")
    if len(snippet) > snippet_chars:
        snippet = snippet[:snippet_chars] + "..."
    return Source(title=passage.chunk.title, url=passage.chunk.url, snippet=snippet)


def cite_sources(passages: Sequence[Passage]) -> list[Source]:
    """One source per article, in first-cited order, with the passage that was used as snippet."""
    seen: dict[str, Source] = {}
    for p in passages:
        seen.setdefault(p.chunk.doc_id, source_of(p))
    return list(seen.values())


def compose_answer(question: str, passages: Sequence[Passage], *, max_sentences: int = 4) -> tuple[str, list[Source]]:
    """Markdown answer and its sources; only sentences from `passages` are used."""
    if not passages:
        return "", []
    sources = cite_sources(passages)
    number = {s.title: i + 1 for i, s in enumerate(sources)}
    q_tokens = set(tokenize(question))
    scored: list[tuple[float, int, str, int]] = []
    for rank, passage in enumerate(passages[:4]):
        for position, (sentence, tokens) in enumerate(_sentences_with_tokens(passage.chunk.body)):
            overlap = len(q_tokens & tokens)
            # Rank and position break ties: earlier passages and earlier sentences read as the point.
            score = overlap * 2.0 + (4 - rank) * 0.6 - position * 0.05
            scored.append((score, rank, sentence, number[passage.chunk.title]))
    chosen: list[tuple[int, str, int]] = []
    seen_text: set[str] = set()
    for score, rank, sentence, n in sorted(scored, key=lambda item: -item[0]):
        key = sentence.lower()[:80]
        if key in seen_text or score <= 0:
            continue
        seen_text.add(key)
        chosen.append((rank, sentence, n))
        if len(chosen) >= max_sentences:
            break
    chosen.sort(key=lambda item: item[0])
    body = " ".join(f"{s.rstrip()} [{n}]" for _, s, n in chosen)
    used = sorted({n for _, _, n in chosen})
    cited = [sources[n - 1] for n in used] or sources[:1]
    # Renumber so citations run 1..k in the order the sources are listed.
    remap = {old: new + 1 for new, old in enumerate(used)}
    body = re.sub(r"\[(\d+)\]", lambda m: f"[{remap.get(int(m.group(1)), int(m.group(1)))}]", body)
    return body, cited


def format_sources(sources: Sequence[Source]) -> str:
    lines = ["**Sources**"]
    for i, s in enumerate(sources, 1):
        lines.append(f"{i}. [{s.title}]({s.url})" if s.url else f"{i}. {s.title}")
    return "\n".join(lines)
