"""Answer cards: short, answer-first replies written from the articles, matched by meaning.

Why: the questions people ask most ("what are the five challenges?", "how much do they earn?")
deserve a reply that states the whole list or the figure in its first sentence, which sentences
lifted from a passage rarely do. Each card in knowledge/cards.yaml names the article it restates,
so the reply cites that article like any other answer. A card is used only when the question is
close in meaning to one of the card's phrasings; everything else is answered from passages.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from knowledge.text import negated, tokenize
from knowledge.yamlfile import safe_load as load_yaml

__all__ = ["AnswerCard", "AnswerCards", "CardMatch"]

_LEXICAL_TIEBREAK = 0.05  # at most this much similarity for sharing all of the question's rare words


@dataclass(frozen=True)
class AnswerCard:
    id: str
    article: str
    asks: tuple[str, ...]
    answer: str
    kind: str

    @property
    def verdict(self) -> bool:
        """Whether the answer opens with a yes or a no (those are only safe on a sure match)."""
        return bool(re.match(r"(yes|no)\b", self.answer, re.IGNORECASE))


@dataclass(frozen=True)
class CardMatch:
    card: AnswerCard
    similarity: float


class AnswerCards:
    """The cards and the vectors of their phrasings; `match` finds the card a question asks for."""

    def __init__(self, cards: list[AnswerCard], embed: Callable[[list[str]], list[list[float]]],
                 cache: Path | None = None) -> None:
        self.cards = cards
        self._negated = [negated(a) for c in cards for a in c.asks]
        self._owner: list[int] = [i for i, c in enumerate(cards) for _ in c.asks]
        texts = [a for c in cards for a in c.asks]
        self._vectors = _cached_vectors(texts, embed, cache) if texts else np.zeros((0, 384), "float32")
        # Which cards use each word, so a question's rare words score every card in one pass over
        # the question's words instead of a Python loop over all cards (it runs for every answer).
        holders: dict[str, list[int]] = {}
        for i, c in enumerate(cards):
            for word in frozenset(tokenize(" ".join(c.asks) + " " + c.answer)):
                holders.setdefault(word, []).append(i)
        self._cards_with = {word: np.asarray(ids, dtype=np.int64) for word, ids in holders.items()}

    @classmethod
    def load(cls, path: Path, embed: Callable[[list[str]], list[list[float]]],
             cache_dir: Path | None = None) -> AnswerCards:
        """Cards from `path`; with `cache_dir`, their phrasings' vectors are kept there between starts."""
        raw = load_yaml(path.read_text(encoding="utf-8")) if path.exists() else []
        cards = [AnswerCard(id=str(c["id"]), article=str(c["article"]), asks=tuple(str(a) for a in c["asks"]),
                            answer=" ".join(str(c["answer"]).split()) if "\n- " not in str(c["answer"])
                            else str(c["answer"]).strip(), kind=str(c.get("kind") or "explain"))
                 for c in raw or () if c.get("asks") and c.get("answer")]
        cache = None
        if cache_dir is not None:
            digest = hashlib.sha256("\n".join(a for c in cards for a in c.asks).encode()).hexdigest()[:16]
            cache = cache_dir / f"cards-{digest}.npy"
        return cls(cards, embed, cache)

    def match(self, vector: np.ndarray, threshold: float, *, sure: float = 1.0, sure_verdict: float = 1.0,
              articles: Collection[str] | None = None, question: str | None = None,
              term_weight: Callable[[str], float] | None = None) -> CardMatch | None:
        """The closest card at least `threshold` similar to the question whose evidence agrees.

        Meaning alone confuses questions of the same shape ("how much statistics do they need?"
        and "how much do they earn?"), so below `sure` a card counts only when retrieval, an
        independent signal, also ranks the card's article among `articles`. A card that opens with
        yes or no needs `sure_verdict`: from the wrong card it would say the opposite of the truth.
        A phrasing that is negated when the `question` is not (or the reverse) asks the opposite
        ("who should avoid it?" vs "who is it good for?") and never matches.
        """
        if not len(self._vectors):
            return None
        sims = self._vectors @ np.asarray(vector, dtype="float32").reshape(-1)
        seen: set[int] = set()
        asks_not = negated(question) if question is not None else None
        order = np.argsort(-sims)
        if question is not None and term_weight is not None:
            # Near-ties in meaning go to the card that shares the question's rare words ("both at once").
            asked = {t: term_weight(t) for t in set(tokenize(question))}
            total = sum(asked.values()) or 1.0
            shared = np.zeros(len(self.cards), dtype=np.float64)
            for t, w in asked.items():  # the same float64 sums, in the same order, as a loop per card
                holders = self._cards_with.get(t)
                if holders is not None:
                    shared[holders] += w
            per_card = (shared / total).astype("float32")
            order = np.argsort(-(sims + _LEXICAL_TIEBREAK * per_card[self._owner]))
        for position in order:
            similarity = float(sims[position])
            if similarity < threshold:
                return None
            if asks_not is not None and self._negated[int(position)] != asks_not:
                continue
            owner = self._owner[int(position)]
            if owner in seen:
                continue
            seen.add(owner)
            card = self.cards[owner]
            if card.verdict and similarity < sure_verdict:
                continue  # a yes or no from the wrong card says the opposite of the truth: only when sure
            if similarity >= sure or articles is None or card.article in articles:
                return CardMatch(card, similarity)
        return None


def _cached_vectors(texts: list[str], embed: Callable[[list[str]], list[list[float]]], cache: Path | None) -> np.ndarray:
    """Embedding hundreds of phrasings costs seconds at every start; a file named by their hash does not.

    The file holds plain float32 numbers (loaded without pickle); a missing, unreadable or misshapen
    one is recomputed and rewritten, and a read-only folder only costs the recomputation.
    """
    if cache is not None:
        try:
            vectors = np.load(cache, allow_pickle=False)
            if vectors.shape[0] == len(texts):
                return vectors.astype("float32")
        except (OSError, ValueError):
            pass
    vectors = np.asarray(embed(texts), dtype="float32")
    if cache is not None:
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            partial = cache.with_suffix(".tmp.npy")
            np.save(partial, vectors, allow_pickle=False)
            os.replace(partial, cache)
        except OSError:
            pass
    return vectors
