"""Tokenising for keyword search: lowercase words, stop words dropped, a light suffix stemmer.

The stemmer is deliberately small (plural, -ing, -ed, -ly) so "engineers", "engineering"
and "engineer" meet, and a question written with other word forms than the article still matches.
"""

from __future__ import annotations

import re

__all__ = ["negated", "spell_out", "stem", "tokenize"]

_WORD = re.compile(r"[a-z0-9]+(?:[%$][a-z0-9]*)?|\$[0-9][0-9,.]*[km]?")

STOP_WORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most
    my myself no nor not of off on once only or other our ours ourselves out over own same she should so
    some such than that the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would you your
    yours yourself yourselves s t don i'm ive i've im get got also really much many like want""".split()
)


def stem(word: str) -> str:
    if len(word) <= 3 or any(c.isdigit() for c in word):
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in ("ing", "ed", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            # "shipping" -> "shipp" -> "ship", as Porter undoubles a final consonant.
            if suffix != "ly" and len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]
            return word
    return word


def tokenize(text: str) -> list[str]:
    """Words for BM25: numbers are kept whole ("100ms", "80%", "700,000" -> "700000")."""
    lowered = text.lower().replace(",000", "000")
    return [stem(w) for w in _WORD.findall(lowered) if w not in STOP_WORDS]


_NEGATION = re.compile(
    r"\b(not|never|no|none|nothing|neither|nor|don'?t|doesn'?t|didn'?t|can'?t|cannot|won'?t|shouldn'?t|isn'?t|"
    r"aren'?t|hate|hated|dislike\w*|avoid\w*|struggle\w*|weak|bad at|bad idea|without|tired of|bor(ed|es|ing)|"
    r"rather not|unsuited|not suited|keep away|not cut out|wrong (?:choice|path|move))\b|n't\b",
    re.IGNORECASE,
)
# Negations that say something positive ("doesn't scare me", "don't mind"): not a negation.
_POSITIVE_IDIOM = re.compile(
    r"\b(don'?t|doesn'?t|do not|does not|never|won'?t) (mind|scare|bother|worry|frighten)\w*|\bnot (afraid|scared|"
    r"worried|bothered)|\bno problem\b",
    re.IGNORECASE,
)


def negated(text: str) -> bool:
    """Whether a sentence is negated, ignoring negations that read as positive ("doesn't scare me").

    Sentence embeddings barely see "not": "who should do X" and "who should not do X" sit close
    together, so callers that match by meaning check this too.
    """
    return bool(_NEGATION.search(_POSITIVE_IDIOM.sub(" ", text)))


# Chat shorthand, spelled out before a message is searched: the embedding model and the articles'
# words both know "you" and "people", not "u" and "ppl". General English chat usage, one word each.
_SHORTHAND = {
    "u": "you", "ur": "your", "ppl": "people", "pls": "please", "plz": "please", "bc": "because",
    "cuz": "because", "coz": "because", "tho": "though", "rn": "right now", "abt": "about", "smth": "something",
    "idk": "I don't know", "imo": "in my opinion", "tbh": "to be honest", "ngl": "not going to lie",
    "diff": "difference", "wanna": "want to", "gonna": "going to", "gotta": "have to", "dunno": "don't know",
    "yrs": "years", "yr": "year", "hrs": "hours", "hr": "hour", "wk": "week", "wks": "weeks", "yoe": "years of experience",
    "swe": "software engineer", "exp": "experience", "comp": "compensation", "eng": "engineering",
    "w/": "with", "w/o": "without", "b/c": "because", "im": "I am", "dont": "don't", "doesnt": "doesn't",
    "cant": "can't", "isnt": "isn't", "whats": "what is", "thats": "that is", "ive": "I have",
    "prob": "probably", "probs": "probably", "bout": "about", "ya": "you", "yall": "you all",
    "nah": "no", "yea": "yes", "yeah": "yes", "sth": "something", "esp": "especially", "govt": "government",
}
_SHORT_WORD = re.compile(r"(?<![\w/])(" + "|".join(sorted(map(re.escape, _SHORTHAND), key=len, reverse=True))
                         + r")(?![\w/])", re.IGNORECASE)


def spell_out(text: str) -> str:
    """`text` with chat shorthand written out ("what r u" -> "what are you"), for searching only."""
    return _SHORT_WORD.sub(lambda m: _SHORTHAND[m.group(1).lower()], text)
