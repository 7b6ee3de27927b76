"""Reading one clause of a self-description: which fit signal it carries, and in which direction.

A profile is evidence only clause by clause ("I'm a nurse", "never written code", "math was my
best subject"), and the explanation must quote the clause behind each reading with its right
meaning. So a clause is classified, not keyword-matched: one logistic regression over the clause's
sentence embedding picks its signal (or "none"), a second one, which also sees negation and
sentiment flags, picks its direction. Both are trained by `bot.fit.train` on the labelled clause
sets in knowledge/fit/ plus the statements below, which restate the source articles' criteria.

The weights are plain numbers in JSON (no pickle): loading them runs no code.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from knowledge.text import negated

__all__ = ["INTERESTS", "DIMENSIONS", "NONE", "SIGNALS", "ClauseReading", "SignalReader", "negated",
           "polarity_features", "split_clauses", "signal_classes"]

DIMENSIONS = ("coding", "math", "product", "evaluation", "relearning", "pressure", "motivation")
INTERESTS = ("build", "train")
SIGNALS = DIMENSIONS + INTERESTS
NONE = "none"

# Statements that restate each signal as the source articles describe it (who should and should
# not pursue AI engineering; what AI and ML engineers do day to day). Training seeds, next to the
# hand-labelled clause set.
SEED_STATEMENTS: dict[str, tuple[str, ...]] = {
    "coding:+": ("I work as a software engineer and write code daily", "I build web applications and backends",
                 "I have several years of professional programming experience",
                 "I ship code to production and maintain it"),
    "coding:-": ("writing code is not something I like", "I have never programmed",
                 "software development bores me"),
    "math:+": ("mathematics is my favourite subject, especially algebra and probability",
               "I have a university degree in math, physics or statistics",
               "I like working through proofs and the theory behind algorithms"),
    "math:-": ("I am weak at math", "equations and formulas scare me", "I avoided mathematics courses"),
    "product:+": ("what I enjoy most is making something people actually use",
                  "I like releasing features quickly and improving them from user feedback"),
    "product:-": ("users and products don't interest me, only the theory",),
    "evaluation:+": ("I like running experiments to measure whether a change helped",
                     "I set up metrics and benchmarks to check quality"),
    "evaluation:-": ("measuring and testing quality bores me",),
    "relearning:+": ("fast-changing technology keeps me interested", "I pick up new frameworks happily"),
    "relearning:-": ("keeping up with new tools all the time wears me out",
                     "I want my skills to stay valid for many years"),
    "pressure:+": ("high pressure and tight deadlines motivate me", "I like intense fast-moving environments"),
    "pressure:-": ("a predictable routine matters most to me", "I don't want long hours or a stressful job",
                   "I want to protect my family time from work"),
    "motivation:+": ("I am genuinely curious about how AI can reshape industries",
                     "I am ready to invest serious time in study"),
    "motivation:-": ("the money is the only reason I am interested",
                     "I am looking for a quick way into a well-paid job",
                     "I would rather not invest much time in studying"),
    "build:+": ("I want to create applications powered by language models",
                "I want to use existing AI models through their APIs in my products",
                "I use retrieval, embeddings and vector search in an application"),
    "build:-": ("gluing APIs and prompts together does not interest me",),
    "train:+": ("I want to train machine learning models myself", "I like preparing datasets and running training",
                "I follow machine learning research and reproduce results"),
    "train:-": ("I have no interest in training models myself",),
    NONE: ("hello there", "I live in a small town", "I have two cats", "my name is Sam", "I am 29 years old",
           "thanks in advance", "what do you think", "I moved here last year", "long story short",
           "sorry for my english", "quick question", "hope this is the right channel", "I have a question",
           "I'm from Brazil", "we just had a baby", "my friend told me about this server", "asking for advice",
           "it is raining today", "I read a lot of articles", "I saw a video about it"),
}

_CLAUSE_SPLIT = re.compile(r"(?<=[.!?;])\s+|\s+(?:but|although|though|whereas|however|except)\s+|\s*[\n•]+\s*",
                           re.IGNORECASE)
_SUBCLAUSE_SPLIT = re.compile(r",\s*|\s+and\s+(?=(?:i|i'd|i'm|i've|my|me)\b)|\s+so\s+(?=i\b)|\s+who\s+(?=\w+s\b)",
                              re.IGNORECASE)


def split_clauses(text: str, limit: int = 40) -> list[str]:
    """The clauses of a text: sentences, cut again at contrast words, commas and "and I ...".

    Clauses of one word carry no readable claim and are dropped; a text with no split point is one clause.
    """
    out: list[str] = []
    for sentence in _CLAUSE_SPLIT.split(text):
        for piece in _SUBCLAUSE_SPLIT.split(sentence or ""):
            piece = piece.strip(" ,.-:;!?\"'()")
            if len(piece.split()) >= 2:
                out.append(piece)
    if not out and text.strip():
        out = [text.strip()]
    return out[:limit]


def signal_classes() -> list[str]:
    """Class names in a fixed order: "signal:+" and "signal:-" for each signal, then "none"."""
    return [f"{s}:{p}" for s in SIGNALS for p in "+-"] + [NONE]


# Generic sentiment words: which pole of its topic a clause leans to. A word here says how a person
# feels (enjoys, dreads) or names the negative pole of a signal (pay only, a calm routine).
_WARM = re.compile(r"\b(lov\w*|enjoy\w*|like[sd]?|fun|excit\w*|thriv\w*|fine|comfortable|happ\w*|great|good at|"
                   r"strong|favou?rite|passion\w*|fascinat\w*|curious|eager|ready|keen|motivat\w*|energi\w*|"
                   r"into|addict\w*|natural\w*|easy for me|best at|proud|dream\w*)\b", re.IGNORECASE)
_COLD = re.compile(r"\b(hat\w*|dislik\w*|avoid\w*|bor\w+|tired|exhaust\w*|drain\w*|stress\w*|scar\w*|weak|"
                   r"bad at|struggl\w*|only|just|quick\w*|fast money|easy money|shortcut|money|salary|rich|steady|"
                   r"stable|stability|predictable|calm|routine|family|overwhelm\w*|anxious|dread\w*|nightmare|"
                   r"terrible|awful|meh|pointless|tedious|annoy\w*|frustrat\w*)\b", re.IGNORECASE)


def polarity_features(vectors: np.ndarray, clauses: Sequence[str]) -> np.ndarray:
    """Embedding plus negation and sentiment flags: what a sentence embedding reliably misses is "not"."""
    flags = np.asarray([[1.0 if negated(c) else 0.0, 1.0 if _WARM.search(c) else 0.0,
                         1.0 if _COLD.search(c) else 0.0] for c in clauses], dtype="float32")
    return np.hstack([np.asarray(vectors, dtype="float32"), flags])


def _softmax(logits: np.ndarray) -> np.ndarray:
    logits = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class ClauseReading:
    """What one clause says: a signal, its direction (+1/-1) and the classifier's probability."""

    clause: str
    signal: str
    polarity: int
    confidence: float

    @property
    def key(self) -> str:
        return f"{self.signal}:{'+' if self.polarity > 0 else '-'}"


class SignalReader:
    """Two small classifiers with trained weights (see `bot.fit.train`).

    Topic and direction are learned apart: which signal a clause is about (nine signals or none)
    is what sentence embeddings capture well, while whether it is for or against needs the
    negation and sentiment flags. The reading's confidence is the product of the two.
    """

    def __init__(self, topics: Sequence[str], topic_coef: np.ndarray, topic_intercept: np.ndarray,
                 polarity_coef: np.ndarray, polarity_intercept: float, *, min_confidence: float = 0.5) -> None:
        self.topics = list(topics)
        self._topic_coef = np.asarray(topic_coef, dtype="float32")
        self._topic_intercept = np.asarray(topic_intercept, dtype="float32")
        self._polarity_coef = np.asarray(polarity_coef, dtype="float32").reshape(-1)
        self._polarity_intercept = float(polarity_intercept)
        self.min_confidence = min_confidence

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SignalReader:
        return cls(data["topics"], np.asarray(data["topic_coef"]), np.asarray(data["topic_intercept"]),
                   np.asarray(data["polarity_coef"]), float(data["polarity_intercept"]),
                   min_confidence=float(data.get("min_confidence", 0.5)))

    def predict(self, vectors: np.ndarray, clauses: Sequence[str]) -> list[tuple[str, int, float]]:
        """(signal or "none", polarity, confidence) for every clause, committed or not."""
        vectors = np.asarray(vectors, dtype="float32")
        topics = _softmax(vectors @ self._topic_coef.T + self._topic_intercept)
        z = polarity_features(vectors, clauses) @ self._polarity_coef + self._polarity_intercept
        positive = 1.0 / (1.0 + np.exp(-z))
        out = []
        for row, p in zip(topics, positive, strict=True):
            best = int(row.argmax())
            polarity = 1 if p >= 0.5 else -1
            out.append((self.topics[best], polarity, float(row[best]) * float(max(p, 1 - p))))
        return out

    def read(self, clauses: Sequence[str], vectors: np.ndarray, *,
             min_confidence: float | None = None) -> list[ClauseReading]:
        """One reading per clause that carries a signal at `min_confidence` (default: the committed level)."""
        if not clauses:
            return []
        floor = self.min_confidence if min_confidence is None else min_confidence
        return [ClauseReading(clause, topic, polarity, confidence)
                for clause, (topic, polarity, confidence) in zip(clauses, self.predict(vectors, clauses), strict=True)
                if topic != NONE and confidence >= floor]
