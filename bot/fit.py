"""Fit assessment from free text: AI engineer, ML engineer, or neither for now.

Method (no lookup of known sentences): the text is cut into clauses; each clause is compared, by
embedding similarity, with short statements that describe the evidence the source articles name
for each path (enjoys shipping products on model APIs; loves linear algebra and training models;
wants a shortcut to salary; needs stability and low stress; ...). Each statement belongs to a
*signal* with a polarity. A clause counts for the signal it resembles most, and only when it
clearly resembles it, so one clause moves one score and the explanation can quote it. A small
set of word cues catches what embeddings blur (negation of "math", salary shortcuts). Signal
strengths combine into three label scores with fixed, documented weights.

The signals map onto the quiz dimensions (coding, math, product, evaluation, relearning,
pressure, motivation) plus two role interests (build on existing models / train models), so a
free-text assessment and a quiz result read the same way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = ["DIMENSIONS", "FitAssessment", "FitAssessor", "Evidence"]

DIMENSIONS = ("coding", "math", "product", "evaluation", "relearning", "pressure", "motivation")
INTERESTS = ("build", "train")
LABELS = ("ai_engineer", "ml_engineer", "neither")
LABEL_NAMES = {"ai_engineer": "AI engineer", "ml_engineer": "ML engineer", "neither": "neither for now"}

# Statements describing each signal, written from the source articles' criteria (who should and
# should not pursue AI engineering; what AI and ML engineers do day to day). Polarity +1 means the
# clause shows the trait, -1 that it shows its absence or opposite.
PROTOTYPES: dict[tuple[str, int], tuple[str, ...]] = {
    ("coding", 1): (
        "I work as a software engineer and write code daily",
        "I build web applications, services and backends",
        "I have several years of professional programming experience",
        "I ship code to production and maintain it",
        "I integrate different systems and tools with each other",
    ),
    ("coding", -1): (
        "writing code is not something I like",
        "I have never programmed and have no wish to learn",
        "software development bores me",
    ),
    ("math", 1): (
        "mathematics is my favourite subject, especially algebra and probability",
        "I have a university degree in math, physics or statistics",
        "I like working through proofs and the theory behind algorithms",
        "I am good at quantitative and statistical analysis",
    ),
    ("math", -1): (
        "I am weak at math",
        "equations and formulas scare me",
        "I avoided mathematics courses whenever I could",
    ),
    ("product", 1): (
        "what I enjoy most is making something people actually use",
        "I like releasing features quickly and improving them from feedback",
        "I think about the customer and the user experience",
    ),
    ("product", -1): ("users and products don't interest me, only the theory",),
    ("evaluation", 1): (
        "I like running experiments to measure whether a change helped",
        "I set up metrics and benchmarks to check quality",
        "I watch performance and costs of systems running live",
    ),
    ("relearning", 1): (
        "fast-changing technology keeps me interested",
        "I pick up new frameworks happily whenever they appear",
        "I am comfortable with uncertainty and rapid experimentation",
    ),
    ("relearning", -1): (
        "keeping up with new tools all the time wears me out",
        "I want my skills to stay valid for many years",
        "I need clearly defined tasks that don't keep changing",
    ),
    ("pressure", 1): (
        "high pressure and tight deadlines motivate me",
        "I like intense fast-moving environments",
    ),
    ("pressure", -1): (
        "security and a predictable routine matter most to me",
        "I put a relaxed, balanced life ahead of my career",
        "I don't want long hours or a stressful job",
        "I want to protect my free time and family time from work",
    ),
    ("motivation", 1): (
        "I am genuinely curious about how AI can reshape industries",
        "I love learning and I am ready to invest serious time in study",
    ),
    ("motivation", -1): (
        "the money is the only reason I am interested",
        "I am looking for an easy quick way into a well-paid job",
        "I would rather not invest much time in studying",
    ),
    ("build", 1): (
        "I want to create applications powered by language models",
        "I want to use existing AI models through their APIs in my products",
        "I experiment with prompts and hosted models like GPT or Claude",
        "I use retrieval, embeddings and vector search in an application",
        "I want to operate AI features reliably for real users",
    ),
    ("train", 1): (
        "I want to train machine learning models myself",
        "I like preparing datasets and running training jobs",
        "I want to design neural network architectures",
        "I follow machine learning research and reproduce results",
        "I care about validation and held-out evaluation of trained models",
        "I want to improve how well models learn from data",
    ),
    ("train", -1): ("I have no interest in training models myself",),
    ("build", -1): ("gluing APIs and prompts together does not interest me",),
}

# Word cues, applied per clause, for what embeddings blur. (signal, polarity, weight, pattern)
_CUES: tuple[tuple[str, int, float, re.Pattern[str]], ...] = tuple(
    (sig, pol, w, re.compile(p, re.IGNORECASE))
    for sig, pol, w, p in (
        ("math", 1, 0.6, r"\b(linear algebra|calculus|probability|statistic\w*|optimi[sz]ation|numerical|"
                         r"mathemati\w+|math|phd|master'?s|derivations?|deriving)\b"),
        ("train", 1, 0.6, r"\b(train(ing)? (models?|neural|pipelines?)|from scratch|loss curves?|"
                          r"model architectures?|held-out|test sets?|validation sets?|papers?)\b"),
        ("build", 1, 0.6, r"\b(llms?|gpt|claude|api|apis|prompts?|embeddings?|vector (database|db|store)|"
                          r"rag|chatbots?|ai assistants?|copilots?|on top of)\b"),
        ("coding", 1, 0.5, r"\b(developer|dev|(?<!ai )(?<!ml )(?<!learning )engineer|programmer|backend|frontend|full-?stack|python|"
                           r"javascript|typescript|code|coding|shipped|sre|devops)\b"),
        ("motivation", -1, 0.9, r"\b(shortcut|fastest (way|path|route)|quick(est)? (way|money)|guarantee\w*|"
                                r"(get|got|getting) rich|(big|high|great|huge) (ai )?(salary|pay|money)|"
                                r"in \d+ (weeks|days)|fast[- ]track|easy money|"
                                r"(chasing|for) the (hype|money)|salary bump|where the money is)\b"),
        ("pressure", -1, 0.8, r"\b(stable|stability|predictable|steady|calm|low[- ]stress|little pressure|"
                              r"work[- ]life balance|9[- ]to[- ]5|same in (five|5|ten|10) years)\b"),
        ("relearning", -1, 0.8, r"\b(constant change|re-?learn\w*|fixed expectations|exhaust\w*|"
                                r"keep(ing)? up)\b"),
    )
)
_NEGATION = re.compile(
    r"\b(not|never|no|don'?t|doesn'?t|didn'?t|can'?t|won'?t|hate|hated|dislike|avoid|struggle\w*|weak|"
    r"bad at|without|exhaust\w*|tired of|bor(ed|es|ing)|deal-?breaker|rather not|not for me|hollow|"
    r"shallow|tedious|glaze\w*|dread\w*|allergic)\b|n't\b",
    re.IGNORECASE,
)
# Negations that say something positive ("doesn't scare me", "don't mind"): not a flip.
_POSITIVE_IDIOM = re.compile(
    r"\b(don'?t|doesn'?t|do not|does not|never) (mind|scare|bother|worry|frighten)|\bnot (afraid|scared|"
    r"worried|bothered)|\bno problem\b",
    re.IGNORECASE,
)


_AFTER_NEGATIVE = re.compile(r"\b(shallow|hollow|bor(ing|es)|tedious|dull|glaze\w*|exhausting|draining|"
                             r"overrated|sucks?)\b", re.I)
_SYNTACTIC_NEGATION = re.compile(r"\b(not|no|never|nothing|don'?t|doesn'?t|didn'?t|can'?t|won'?t)\b|n't\b", re.I)
_POSITIVE_SENTIMENT = re.compile(r"\b(love\w*|enjoy\w*|like|likes|fun|excit\w*|thrive|happily|hooks? me|"
                                 r"fascinat\w*|passion\w*|favou?rite|into)\b", re.I)


def _negated(text: str) -> bool:
    return bool(_NEGATION.search(_POSITIVE_IDIOM.sub(" ", text)))
_CONTRAST = re.compile(r"\b(?:rather|more|better|less) than\b|\binstead of\b", re.I)
_PRIORITY = re.compile(r"\b(above all|top priority|first and|more than anything|most important|"
                       r"matters most|deal-?breaker|non-negotiable|at all costs)\b", re.I)
_CLAUSE_SPLIT = re.compile(r"(?<=[.!?;])\s+|\s+(?:but|although|though|whereas|however)\s+|\s*[\n•]+\s*", re.I)

# How strongly each signal (strength in -1..1) pushes each label.
WEIGHTS: dict[str, dict[str, float]] = {
    "ai_engineer": {"build": 1.2, "coding": 0.8, "product": 0.6, "relearning": 0.4, "pressure": 0.2,
                    "evaluation": 0.3, "train": -0.5, "motivation": 0.2},
    "ml_engineer": {"train": 1.2, "math": 1.0, "evaluation": 0.3, "coding": 0.2, "build": -0.4, "motivation": 0.2,
                    "product": -0.2},
    "neither": {"motivation": -2.0, "pressure": -1.6, "relearning": -1.4, "coding": -0.9},
}
_NEITHER_BIAS = -0.25  # "neither" must be earned by evidence, not won by an empty profile
_SIM_FLOOR = 0.42  # below this cosine a clause is not evidence for a statement
_SIM_FULL = 0.72  # at or above this it is full-strength evidence
_MULTI_MARGIN = 0.06  # other signals this close to a clause's best match count too


@dataclass(frozen=True)
class Evidence:
    """One clause that moved one signal."""

    signal: str
    polarity: int
    strength: float
    quote: str
    via: str  # "meaning" (embedding) or "words" (cue)


@dataclass
class FitAssessment:
    """Label, label scores (0-100), signal strengths (-1..1) and the evidence behind them."""

    label: str
    scores: dict[str, float]
    signals: dict[str, float]
    evidence: list[Evidence] = field(default_factory=list)
    explanation: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "label": self.label,
            "scores": self.scores,
            "dimensions": {d: round(self.signals.get(d, 0.0), 3) for d in DIMENSIONS + INTERESTS},
            "explanation": self.explanation,
            "evidence": [
                {"signal": e.signal, "direction": "+" if e.polarity > 0 else "-", "quote": e.quote,
                 "strength": round(e.strength, 3)}
                for e in self.evidence
            ],
        }


EmbedFn = Callable[[list[str]], list[list[float]]]


class FitAssessor:
    """Scores a free-text profile. `embed` maps texts to L2-normalised vectors."""

    def __init__(self, embed: EmbedFn) -> None:
        self._embed = embed
        self._keys: list[tuple[str, int]] = []
        texts: list[str] = []
        for key, statements in PROTOTYPES.items():
            for s in statements:
                self._keys.append(key)
                texts.append(s)
        self._proto = np.asarray(embed(texts), dtype="float32")
        self._texts = texts

    @staticmethod
    def clauses(text: str) -> list[tuple[str, bool]]:
        """(clause, contrasted) pairs: sentences cut at contrast words, commas and long "and"s.

        The part after "rather than" / "more than" / "instead of" is marked contrasted: "big upside
        appeals to me far more than a predictable job" says the opposite of "a predictable job".
        """
        out: list[tuple[str, bool]] = []
        for sentence in _CLAUSE_SPLIT.split(text):
            for piece in re.split(r",\s*|\s+and\s+(?=(?:i|i'd|i'm|want|would|love|like|enjoy)\b)", sentence or "",
                                  flags=re.I):
                head, *rest = _CONTRAST.split(piece)
                out.append((head, False))
                out.extend((r, True) for r in rest)
        cleaned = [(c.strip(" ,.-:"), inv) for c, inv in out if c and len(c.split()) >= 2]
        return cleaned or ([(text.strip(), False)] if text.strip() else [])

    def assess(self, text: str) -> FitAssessment:
        clauses = self.clauses(text)[:40]
        evidence: list[Evidence] = []
        if clauses:
            vectors = np.asarray(self._embed([c for c, _ in clauses]), dtype="float32")
            sims = vectors @ self._proto.T  # clauses x statements
            for ci, (clause, contrasted) in enumerate(clauses):
                found = self._clause_evidence(clause, sims[ci])
                boost = 1.25 if _PRIORITY.search(clause) else 1.0
                evidence.extend(
                    Evidence(e.signal, -e.polarity if contrasted else e.polarity, min(1.0, e.strength * boost),
                             e.quote, e.via)
                    for e in found
                    if not contrasted or (e.signal, -e.polarity) in PROTOTYPES
                )
        signals = self._combine(evidence)
        scores = self._label_scores(signals)
        label = max(scores, key=lambda k: scores[k])
        assessment = FitAssessment(label=label, scores=scores, signals=signals, evidence=evidence)
        assessment.explanation = explain(assessment)
        return assessment

    def _clause_evidence(self, clause: str, sims: np.ndarray) -> list[Evidence]:
        out: list[Evidence] = []
        # Meaning: per signal, the statement this clause resembles most. A clause can carry more
        # than one signal ("fast experiments, A/B tests and wiring systems together"), so every
        # signal close to the clause's best match counts, not only the single best.
        best_by_key: dict[tuple[str, int], float] = {}
        best_proto: dict[tuple[str, int], str] = {}
        for key, sim, proto in zip(self._keys, sims.tolist(), self._texts, strict=True):
            if sim > best_by_key.get(key, -1.0):
                best_by_key[key] = sim
                best_proto[key] = proto
        top = max(best_by_key.values(), default=0.0)
        # A question ("would AI engineering suit me?") describes no trait; only word cues count.
        if clause.rstrip().endswith("?") and not re.search(r"\b(i|i'm|i've|my|me)\b", clause, re.I):
            best_by_key = {}
        clause_negated = _negated(clause)
        taken: set[str] = set()
        for (signal, polarity), sim in sorted(best_by_key.items(), key=lambda kv: -kv[1]):
            if sim < _SIM_FLOOR or sim < top - _MULTI_MARGIN or signal in taken:
                continue
            taken.add(signal)  # the closer polarity wins; the other one is not also counted
            # Embeddings barely see negation: "don't love math" sits next to "I love math". When the
            # clause is negated and the statement it matched is not (or the reverse), flip.
            proto = best_proto[(signal, polarity)]
            if polarity > 0 and clause_negated and not _negated(proto) and (signal, -1) in PROTOTYPES:
                polarity = -1
            elif polarity < 0 and not clause_negated and (
                _SYNTACTIC_NEGATION.search(proto) or (_negated(proto) and _POSITIVE_SENTIMENT.search(clause))
            ) and (signal, 1) in PROTOTYPES:
                # The clause shares the statement's topic but not its "no"/"hate": "what hooks me is
                # training my own models" against "I have no interest in training models".
                polarity = 1
            strength = min(1.0, (sim - _SIM_FLOOR) / (_SIM_FULL - _SIM_FLOOR))
            out.append(Evidence(signal, polarity, 0.35 + 0.65 * strength, clause, "meaning"))
        # Words: cues flip to the negative side when the clause negates them.
        for signal, polarity, weight, pattern in _CUES:
            match = pattern.search(clause)
            if not match:
                continue
            pol = polarity
            # A word cue is negated only by a negation just before it ("never liked math"), not by
            # one elsewhere in the clause ("I hate math" says nothing against "engineer").
            before = " ".join(clause[: match.start()].split()[-4:])
            after = " ".join(clause[match.end():].split()[:5])
            after_negative = bool(_AFTER_NEGATIVE.search(after))  # "prompt engineering feels shallow"
            if polarity > 0 and (_negated(before) or after_negative):
                pol = -1
            if (signal, pol) not in PROTOTYPES and pol < 0 and signal in INTERESTS:
                continue
            out.append(Evidence(signal, pol, weight, clause, "words"))
        return out

    @staticmethod
    def _combine(evidence: Sequence[Evidence]) -> dict[str, float]:
        """Per signal: strongest positive minus strongest negative, with a little credit for breadth."""
        signals: dict[str, float] = {}
        for name in DIMENSIONS + INTERESTS:
            pos = sorted((e.strength for e in evidence if e.signal == name and e.polarity > 0), reverse=True)
            neg = sorted((e.strength for e in evidence if e.signal == name and e.polarity < 0), reverse=True)
            p = (pos[0] + 0.25 * sum(pos[1:3])) if pos else 0.0
            n = (neg[0] + 0.25 * sum(neg[1:3])) if neg else 0.0
            signals[name] = float(np.clip(p - n, -1.0, 1.0))
        return signals

    @staticmethod
    def _label_scores(signals: dict[str, float]) -> dict[str, float]:
        raw: dict[str, float] = {}
        for label, weights in WEIGHTS.items():
            total = sum(w * signals.get(sig, 0.0) for sig, w in weights.items())
            raw[label] = total + (_NEITHER_BIAS if label == "neither" else 0.0)
        # Softmax to 0-100 so the scores read as relative confidence.
        values = np.array([raw[k] for k in LABELS]) * 2.5
        probs = np.exp(values - values.max())
        probs = probs / probs.sum()
        return {k: round(float(p) * 100, 1) for k, p in zip(LABELS, probs, strict=True)}


_SIGNAL_PHRASES = {
    ("coding", 1): "hands-on software experience",
    ("coding", -1): "little appetite for coding, which both paths need",
    ("math", 1): "enjoyment of math and statistics",
    ("math", -1): "a dislike of heavy math",
    ("product", 1): "a product and user focus",
    ("product", -1): "little interest in users or products",
    ("evaluation", 1): "a habit of measuring and testing",
    ("evaluation", -1): "little interest in measuring quality",
    ("relearning", 1): "comfort with tools that change fast",
    ("relearning", -1): "a wish for skills and expectations that stay put",
    ("pressure", 1): "comfort with pressure and pace",
    ("pressure", -1): "a priority on stability and low stress",
    ("motivation", 1): "curiosity and willingness to invest in learning",
    ("motivation", -1): "a shortcut-to-salary motive",
    ("build", 1): "wanting to build products on existing models",
    ("build", -1): "no wish to build on existing models",
    ("train", 1): "wanting to train and evaluate models themselves",
    ("train", -1): "no wish to train models",
}

_VERDICT_REASON = {
    "ai_engineer": "AI engineering builds products on existing models (the \"car\", not the \"engine\"): "
    "software skill, product sense and comfort with fast-changing tools matter more than deep math.",
    "ml_engineer": "ML engineering trains models (the \"engine\"): linear algebra, calculus, statistics, "
    "training pipelines and validation/test sets are the daily work.",
    "neither": "Both paths reward curiosity and steady investment, and AI engineering in particular moves "
    "fast under pressure; the sources advise against it for people seeking a shortcut to a high salary or "
    "a stable, low-stress routine. That can change: this is a 'not now', not a 'never'.",
}


def explain(a: FitAssessment) -> str:
    """A short explanation that quotes, for each signal that moved, the clause that moved it."""
    lines = [f"Verdict: **{LABEL_NAMES[a.label]}**. {_VERDICT_REASON[a.label]}"]
    strongest: dict[tuple[str, int], Evidence] = {}
    for e in a.evidence:
        key = (e.signal, e.polarity)
        if key not in strongest or e.strength > strongest[key].strength:
            strongest[key] = e
    moved = sorted(strongest.values(), key=lambda e: -e.strength)[:5]
    if moved:
        lines.append("What moved the scores:")
        for e in moved:
            quote = e.quote if len(e.quote) <= 140 else e.quote[:137] + "..."
            lines.append(f"- “{quote}” → {_SIGNAL_PHRASES[(e.signal, e.polarity)]} ({e.signal} "
                         f"{'+' if e.polarity > 0 else '-'}{e.strength:.2f})")
    else:
        lines.append("Your message says little about your background or what you enjoy, so this is a weak "
                     "guess: tell me what you do now, whether you like math, and what you want to build.")
    return "\n".join(lines)
