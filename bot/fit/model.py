"""The fit verdict: AI engineer, ML engineer, or neither for now, learned from labelled profiles.

Why learned: hand-set weights over hand-picked cues fitted the sets they were tuned on and failed
on new people. Here a multinomial logistic regression reads three kinds of features, and its
weights, standardisation and calibration temperature come from `bot.fit.train` (5-fold
cross-validated on knowledge/fit/corpus.jsonl):

- the sentence embedding of the whole text and the mean of its clauses' embeddings (what it is about);
- per (signal, direction), the strongest clause reading (what the person says of themselves);
- the profile facts (codes or not, years, math comfort, interest, motives, constraints).

The explanation quotes the clauses behind the readings, each with its meaning in words, and gives
the calibrated probabilities as percentages; raw signal scores never reach the user.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bot.fit.signals import DIMENSIONS, INTERESTS, ClauseReading, SignalReader, signal_classes, split_clauses
from bot.profile import CONSTRAINTS, MOTIVES, PATTERN_FACTS, Profile, read_profile, states_time

__all__ = ["DEFAULT_MODEL", "LABELS", "LABEL_NAMES", "FitAssessment", "FitAssessor", "FitModel", "TextReading",
           "profile_features", "read_text"]

LABELS = ("ai_engineer", "ml_engineer", "neither")
LABEL_NAMES = {"ai_engineer": "AI engineer", "ml_engineer": "ML engineer", "neither": "neither for now"}
DEFAULT_MODEL = Path(__file__).resolve().parents[2] / "knowledge" / "fit" / "model.json"
EmbedFn = Callable[[list[str]], list[list[float]]]

_READING_KEYS = [c for c in signal_classes() if c != "none"]


def profile_features(profile: Profile, readings: Sequence[ClauseReading]) -> np.ndarray:
    """The hand-readable part of the features: clause readings and profile facts, all in -1..1."""
    strongest = dict.fromkeys(_READING_KEYS, 0.0)
    for r in readings:
        strongest[r.key] = max(strongest[r.key], r.confidence)
    facts = [
        {True: 1.0, False: -1.0, None: 0.0}[profile.codes],
        min(math.log1p(profile.coding_years or 0.0) / math.log1p(10), 1.0),
        float(profile.math or 0),
        1.0 if profile.interest == "build" else 0.0,
        1.0 if profile.interest == "train" else 0.0,
        *(1.0 if m in profile.motives else 0.0 for m in MOTIVES),
        *(1.0 if c in profile.constraints else 0.0 for c in CONSTRAINTS),
    ]
    return np.asarray([strongest[k] for k in _READING_KEYS] + facts, dtype="float32")


@dataclass
class FitModel:
    """Standardise, linear layer, softmax with a temperature; numbers only, loaded from JSON."""

    labels: list[str]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray
    temperature: float
    reader: SignalReader
    describer: tuple[np.ndarray, float] | None = None
    requests: tuple[list[str], np.ndarray, np.ndarray] | None = None  # labels, coef, intercept
    facets: tuple[list[str], np.ndarray, np.ndarray] | None = None  # the same, for what a short follow-up asks
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = DEFAULT_MODEL) -> FitModel:
        data = json.loads(path.read_text(encoding="utf-8"))
        v = data["verdict"]
        return cls(labels=list(v["labels"]), mean=np.asarray(v["mean"], dtype="float32"),
                   scale=np.asarray(v["scale"], dtype="float32"), coef=np.asarray(v["coef"], dtype="float32"),
                   intercept=np.asarray(v["intercept"], dtype="float32"), temperature=float(v["temperature"]),
                   reader=SignalReader.from_dict(data["signals"]),
                   describer=(np.asarray(data["describer"]["coef"], dtype="float32"),
                              float(data["describer"]["intercept"])) if "describer" in data else None,
                   requests=(list(data["requests"]["labels"]), np.asarray(data["requests"]["coef"], dtype="float32"),
                             np.asarray(data["requests"]["intercept"], dtype="float32")) if "requests" in data else None,
                   facets=_head(data["facets"]) if "facets" in data else None,
                   meta=data.get("meta", {}))

    def describes_self(self, vector: np.ndarray) -> float:
        """Probability that a message (by its sentence vector) describes the writer, not the field."""
        if self.describer is None:
            return 0.0
        coef, intercept = self.describer
        return float(1.0 / (1.0 + np.exp(-(float(np.dot(coef, vector)) + intercept))))

    def request_kind(self, vector: np.ndarray) -> dict[str, float]:
        """What a message asks for ("own_verdict", "plan", "question") with probabilities; {} without a model."""
        return _softmax_head(self.requests, vector)

    def facet(self, vector: np.ndarray) -> dict[str, float]:
        """Which side of the last topic a short follow-up asks about ("downside", "upside", "reason",
        "example" or "other"), with probabilities; {} without a model."""
        return _softmax_head(self.facets, vector)

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        z = ((features - self.mean) / self.scale) @ self.coef.T + self.intercept
        z = z / self.temperature
        z -= z.max(axis=-1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=-1, keepdims=True)


def verdict_features(text_vector: np.ndarray, clause_vectors: np.ndarray, profile: Profile,
                     readings: Sequence[ClauseReading]) -> np.ndarray:
    """Everything the verdict model reads, in the order training used.

    `readings` here include unsure ones (any confidence): the model weighs them itself, while only
    committed readings fill the profile and reach the explanation.
    """
    mean_clause = clause_vectors.mean(axis=0) if len(clause_vectors) else text_vector
    return np.concatenate([text_vector, mean_clause, profile_features(profile, readings)]).astype("float32")


_UNSURE_NEITHER = 60.0  # a "neither" below this (%), with no reason to wait, for someone drawn to a track, leans to it
HINT_CONFIDENCE = 0.3  # an uncommitted reading this sure is a hint: not quoted, but evidence that the text is personal


@dataclass(frozen=True)
class TextReading:
    """What one text says of its writer: profile, committed readings, hints, and the verdict features."""

    profile: Profile
    readings: list[ClauseReading]
    hints: int
    features: np.ndarray


def read_text(text: str, embed: EmbedFn, reader: SignalReader) -> TextReading:
    """The profile, the committed clause readings and the verdict features of one text.

    Serving and training both call this, so the model always sees features made the same way.
    """
    clauses = [c for c in split_clauses(text) if not states_time(c)] or [text.strip() or "-"]
    vectors = np.asarray(embed(clauses + [text.strip() or "-"]), dtype="float32")
    clause_vectors, text_vector = vectors[:-1], vectors[-1]
    soft = reader.read(clauses, clause_vectors, min_confidence=0.0)
    readings = [r for r in soft if r.confidence >= reader.min_confidence]
    profile = read_profile(text, readings)
    hints = sum(1 for r in soft if HINT_CONFIDENCE <= r.confidence < reader.min_confidence)
    return TextReading(profile, readings, hints, verdict_features(text_vector, clause_vectors, profile, soft))


@dataclass
class FitAssessment:
    """A verdict with calibrated label probabilities (0-100), the profile and the clause readings."""

    label: str
    scores: dict[str, float]
    profile: Profile
    readings: list[ClauseReading] = field(default_factory=list)
    explanation: str = ""
    hints: int = 0  # clauses that probably say something about the person, too unsure to quote

    @property
    def evidence(self) -> float:
        """How much the verdict rests on: readings and pattern facts count 1, unsure hints half."""
        facts = len(set(self.profile.quotes) & PATTERN_FACTS)
        return len(self.readings) + facts + self.hints / 2

    @property
    def signals(self) -> dict[str, float]:
        """Per signal, strongest positive minus strongest negative reading (-1..1); what the quiz speaks."""
        out: dict[str, float] = {}
        for name in DIMENSIONS + INTERESTS:
            pos = max((r.confidence for r in self.readings if r.signal == name and r.polarity > 0), default=0.0)
            neg = max((r.confidence for r in self.readings if r.signal == name and r.polarity < 0), default=0.0)
            out[name] = round(pos - neg, 3)
        return out

    def as_dict(self) -> dict[str, object]:
        return {
            "label": self.label,
            "scores": self.scores,
            "dimensions": self.signals,
            "profile": self.profile.as_dict(),
            "explanation": self.explanation,
            "evidence": [{"signal": r.signal, "direction": "+" if r.polarity > 0 else "-", "quote": r.clause,
                          "meaning": meaning(r), "confidence": round(r.confidence, 3)} for r in self.readings],
        }


class FitAssessor:
    """Scores a free-text profile; `embed` maps texts to L2-normalised vectors."""

    def __init__(self, embed: EmbedFn, model: FitModel | None = None) -> None:
        self._embed = embed
        self.model = model or FitModel.load()

    def read(self, text: str) -> TextReading:
        """The profile and clause readings of `text`, and the verdict features."""
        return read_text(text, self._embed, self.model.reader)

    def assess(self, text: str, *, known: Profile | None = None) -> FitAssessment:
        """The verdict for `text`; `known` is what the conversation already knew about the person."""
        reading = self.read(text)
        profile = known.merge(reading.profile) if known is not None and not known.is_empty else reading.profile
        probs = self.model.probabilities(reading.features)
        scores = {label: round(float(p) * 100, 1) for label, p in zip(self.model.labels, probs, strict=True)}
        label = max(scores, key=lambda k: scores[k])
        drawn = bool(profile.codes) or any(r.polarity > 0 and r.signal in ("math", "build", "train")
                                           for r in reading.readings)
        if label == "neither" and scores["neither"] < _UNSURE_NEITHER and drawn and \
                _neither_reason(profile, reading.readings) is None:
            # "Not now" needs one of the sources' reasons to wait. Someone who gave none and already
            # codes, or likes math, building on models or training them, is closer to a track: the
            # likelier one, as a lean.
            label = max(("ai_engineer", "ml_engineer"), key=lambda k: scores[k])
        assessment = FitAssessment(label=label, scores=scores, profile=profile, readings=reading.readings,
                                   hints=reading.hints)
        assessment.explanation = explain(assessment)
        return assessment


def _head(data: dict[str, Any]) -> tuple[list[str], np.ndarray, np.ndarray]:
    return (list(data["labels"]), np.asarray(data["coef"], dtype="float32"),
            np.asarray(data["intercept"], dtype="float32"))


def _softmax_head(head: tuple[list[str], np.ndarray, np.ndarray] | None, vector: np.ndarray) -> dict[str, float]:
    if head is None:
        return {}
    labels, coef, intercept = head
    z = coef @ np.asarray(vector, dtype="float32").reshape(-1) + intercept
    e = np.exp(z - z.max())
    return {label: float(p) for label, p in zip(labels, e / e.sum(), strict=True)}


# --- explanation -------------------------------------------------------------------------------
_MEANING = {
    "coding:+": "you write code", "coding:-": "coding isn't for you (yet)",
    "math:+": "you're comfortable with math", "math:-": "heavy math isn't your thing",
    "product:+": "you care about shipping things people use", "product:-": "products and users don't draw you",
    "evaluation:+": "you like measuring whether things work", "evaluation:-": "measuring and testing don't appeal",
    "relearning:+": "fast-changing tools don't put you off", "relearning:-": "you want skills that stay put",
    "pressure:+": "you're fine with pace and pressure", "pressure:-": "you want a steady, low-stress job",
    "motivation:+": "you're curious and ready to put in the learning",
    "motivation:-": "the draw is mainly pay or a quick way in",
    "build:+": "you want to build on existing models", "build:-": "building on model APIs doesn't appeal",
    "train:+": "you want to train models yourself", "train:-": "training models doesn't appeal",
}
_WHY = {
    "ai_engineer": "AI engineering builds products on existing models (the \"car\", not the \"engine\"): "
    "coding, product sense and comfort with fast-changing tools matter more than deep math.",
    "ml_engineer": "ML engineering trains the models themselves (the \"engine\"): linear algebra, calculus, "
    "statistics, data and validation are the daily work.",
    "neither": "This is a \"not now\", not a \"never\".",
}


_FACT_MEANING = {"role": "your current work", "coding_years": "how long you've been coding",
                 "codes": "you write code", "hours_per_week": "your study time",
                 "weeks": "your time frame"}


def meaning(r: ClauseReading) -> str:
    return _MEANING[r.key]


def _neither_reason(profile: Profile, readings: Sequence[ClauseReading]) -> str | None:
    """The reason the sources give for waiting, chosen from what the person actually said; None if none applies."""
    keys = {r.key for r in readings}
    if ("money" in profile.motives or "shortcut" in profile.motives) and "curiosity" not in profile.motives:
        return ("My sources are blunt that AI engineering is no shortcut to a high salary: the pay comes with "
                "intense competition, constant re-learning and pressure.")
    if profile.constraints and set(profile.constraints) & {"stability", "hours", "family"}:
        return ("The sources describe AI work as fast-moving and often high-pressure, with tools that change every "
                "few months, which clashes with the steady, predictable work you put first.")
    if profile.codes is False and (profile.math or 0) < 0:
        return ("Both paths are built on programming, and ML adds heavy math; neither seems to draw you yet.")
    if profile.codes is False:
        return ("Both paths are built on programming, and you don't code yet: that comes first, and it takes "
                "months of steady practice before AI engineering itself.")
    if "motivation:-" in keys:
        return "Both paths need months of steady learning, and the sources advise against starting without that appetite."
    if {"relearning:-", "pressure:-"} & keys:
        return ("The sources describe AI work as fast-moving, with tools that change every few months, which "
                "clashes with what you said you want from work.")
    if "coding:-" in keys and "math:-" in keys:
        return "Both paths are built on programming, and ML adds heavy math; neither seems to draw you yet."
    return None


def _balanced(quote: str) -> str:
    """A quote cut at a comma can open a bracket it never closes ("backend dev (java"): close it."""
    return quote.strip() + ")" * max(0, quote.count("(") - quote.count(")"))


def neither_reason(a: FitAssessment) -> str | None:
    """The sources' reason to wait that fits what the person said, or None when nothing they said gives one."""
    return _neither_reason(a.profile, a.readings)


def reason(a: FitAssessment) -> str:
    """Why the verdict, in one or two sentences: what the path asks for, or the sources' reason to wait."""
    if a.label != "neither":
        return _WHY[a.label]
    why = _neither_reason(a.profile, a.readings) or (
        "I found no single clear reason for this in what you wrote, so treat it as tentative and tell me more "
        "about what you do, what you enjoy and why this field draws you.")
    return f"{why} {_WHY['neither']}"


def explain(a: FitAssessment) -> str:
    """Verdict and confidence in words, the reason, then the person's own words behind it."""
    others = ", ".join(f"{LABEL_NAMES[k]} {round(v)}%" for k, v in sorted(a.scores.items(), key=lambda kv: -kv[1])
                       if k != a.label)
    confidence = a.scores[a.label]
    hedge = "leaning" if confidence < 55 else "a clear fit" if confidence >= 80 else "a good fit"
    if not a.readings and a.label == "neither" and neither_reason(a):
        # A reason to wait read by pattern ("just the money") is the verdict's ground: say it, not "tell me more".
        return f"Verdict: **{LABEL_NAMES[a.label]}**. {reason(a)}"
    if not a.readings:
        # The facts alone (a job, a number) say little about what someone enjoys: no percentages then,
        # since a calibrated 99% on nothing would still read as certainty. The facts are still shown, so
        # the person sees they were heard.
        facts = [(key, quote) for key, quote in a.profile.quotes.items() if key in _FACT_MEANING]
        if not facts:
            return (f"Verdict, tentatively: **{LABEL_NAMES[a.label]}**. You said little about what you enjoy or "
                    "dislike, so I can't judge well yet: tell me what you do now, how you feel about coding and "
                    "math, and what you'd like to build.")
        lines = [f"Verdict, tentatively: **{LABEL_NAMES[a.label]}**. I have facts about your situation but little "
                 "about what you enjoy, so I can't judge well yet: tell me how you feel about coding and math, "
                 "and what you'd like to build.", "What I read in your message:"]
        lines += [f"- “{_balanced(quote[:110])}”: {_FACT_MEANING[key]}" for key, quote in facts[:4]]
        return "\n".join(lines)
    head = f"Verdict: **{LABEL_NAMES[a.label]}** ({hedge}, {round(confidence)}%; {others})."
    if a.label == "neither" and neither_reason(a) is None:
        # Sure in numbers, but with none of the sources' reasons to wait behind it: say it is tentative.
        head = f"Verdict, tentatively: **{LABEL_NAMES[a.label]}** ({others})."
    if confidence < max(a.scores.values()):
        # The track over a "neither" that had no reason behind it (see `FitAssessor.assess`).
        head = (f"Verdict, leaning: **{LABEL_NAMES[a.label]}** ({others}). Nothing you said is one of my sources' "
                "reasons to wait and something draws you to this track, so I lean to it; tell me what you enjoy to "
                "firm it up.")
    lines = [f"{head} {reason(a)}"]
    if a.profile.codes is False and a.label != "ml_engineer" and "built on programming" not in lines[0]:
        lines[0] += " Both paths are built on programming, so for you that comes first."
    seen: set[str] = set()
    picked: list[ClauseReading] = []
    for r in sorted(a.readings, key=lambda r: -r.confidence):
        if r.key in seen or r.clause in {p.clause for p in picked}:
            continue
        seen.add(r.key)
        picked.append(r)
    if picked:
        lines.append("What I read in your message:")
        for r in picked[:4]:
            quote = _balanced(r.clause if len(r.clause) <= 110 else r.clause[:107] + "...")
            lines.append(f"- “{quote}”: {meaning(r)}")
    else:
        lines.append("You said little about your background or what you enjoy, so this is a weak guess: tell me "
                     "what you do now, how you feel about math, and what you'd like to build.")
    return "\n".join(lines)
