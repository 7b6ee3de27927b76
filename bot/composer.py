"""The offline answer writer: answer-first, extractive, cited.

With no LLM configured (the default) the bot must still answer, and never invent anything, so
answers are built from the knowledge base itself:

1. an answer card (knowledge/cards.yaml), when the question is close in meaning to one: a short
   reply written from one article that states the figure or the whole list first;
2. otherwise the passage sentences that answer the question, scored by meaning against the
   question (their vectors are already in the index), with a bonus for the kind of answer the
   question asks for: a figure for "how much", the items of a list for "what are the ...".
   The best sentence leads; at most two more follow as support, never repeating it.

Sentences that only make sense inside the article (pointers to other sections, bylines, table
rows, lead-ins ending in a colon, reading-list entries) are never used, nor are sentences that open
with a bare yes or no: out of their article they may answer a different question than the one asked. Each sentence carries the number of its source.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from bot.messages import Source
from knowledge.cards import CardMatch
from knowledge.chunking import split_sentences
from knowledge.retriever import Passage
from knowledge.text import tokenize

__all__ = ["Draft", "answer_kind", "cite_sources", "compose_answer", "offers_a_choice_of_roles", "recap_of", "short_item",
           "source_of", "takes_yes_or_no"]

UnitsFn = Callable[[str], list[tuple[str, np.ndarray]]]
TermWeight = Callable[[str], float]
_LEXICAL_WEIGHT = 0.15  # a sentence sharing all of the question's rare words gains this much over one sharing none

_MD_NOISE = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+|\*\*|__|`")
_META = re.compile(
    r"\b(this (article|guide|page|section|summary|post|video)|the (article|guide|section) (below|above)|"
    r"see (also )?[\"“(]|\(see |min read|read more|part \d+ of|as (mentioned|noted) (above|below)|"
    r"restates?|summari[sz]es|below are|as follows|covered here)\b|^mostly [\"“']|^(yes|no)\b", re.IGNORECASE)
_NUMBER_Q = re.compile(r"\b(how (much|many|long|fast|often|big)|what (percent\w*|figure|number|rate|salary|pay|"
                       r"uptime|latency)|salar\w*|pay|earn\w*|make a year|per (hour|year|month))\b", re.IGNORECASE)
_LIST_Q = re.compile(r"\b(what are|which are|list|name (the|all)|steps|challenges|skills|reasons|types|kinds|"
                     r"ways|tools|stages|parts|components|who should(n't| not)|what (do|does) .{0,30} do)\b",
                     re.IGNORECASE)
_YESNO_Q = re.compile(r"^\s*(is|are|do|does|can|could|should|will|would|am|did|has|have|must)\b", re.IGNORECASE)
_PERSON_PRONOUN = re.compile(r"(?:she|he|her|his|they|their|them)\b", re.IGNORECASE)
# "In that case, ..." / "This is why ..." lean on the sentence before them in the article.
# "ML engineering, by contrast, ..." or "Even AI engineers use it when ..." lean on what came before too.
_LEANS_EARLY = re.compile(r"^(?:\S+\s+){0,4}?(?:\S+,\s+)?(?:by contrast|in contrast|however|likewise|similarly|"
                          r"(?:use|uses|need|needs|learn|learns|do|does|apply|applies|call|calls)\s+"
                          r"(?:it|them|this|these|those))\b", re.IGNORECASE)
_POINTS_AROUND = re.compile(r"\b(?:is|are|was|lies|sits) (?:often |usually )?(?:here|there|above|below)\b", re.IGNORECASE)
_POINTS_BACK = re.compile(r"(?:in (?:that|this) case|that|this|these|those|such|it|then|so|thus|hence)\b", re.IGNORECASE)
_HAS_NUMBER = re.compile(r"\d|\$")
_SHORT_ANSWER = 25  # words: a lead sentence shorter than this gets the sentence after it
MAX_SUPPORT = 2  # passage sentences that may follow a card: the detail a short card leaves out
_SUPPORT_FLOOR = 0.45  # a sentence less close to the question than this is off the point, however it ranks
_LIST_ITEM = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")


@dataclass(frozen=True)
class Draft:
    """An answer body with its citations; `card` names the answer card used, if any."""

    text: str
    sources: list[Source]
    card: str | None = None
    confidence: float = 0.0


_ROLE_CHOICE_Q = re.compile(r"\b(ai|ml|machine learning)\b[^?.]{0,25}\b(or|vs\.?|versus)\s+(an? )?"
                            r"(ai|ml|machine learning)\b", re.IGNORECASE)


_WH_QUESTION = re.compile(r"^\W*(?:(?:ok(?:ay)?|so|and|but|hm+|well|then|btw)\W+)*(?:what|which|how|why|who|when|where)\b",
                          re.IGNORECASE)


def takes_yes_or_no(question: str) -> bool:
    """Whether "yes" or "no" can open the answer: not to "why/what/how..." nor to "AI or ML?"."""
    return not (_WH_QUESTION.search(question) or offers_a_choice_of_roles(question))


def offers_a_choice_of_roles(question: str) -> bool:
    """"AI or ML engineering?" asks which, so an answer may not open with "yes" or "no"."""
    return _ROLE_CHOICE_Q.search(question) is not None


def answer_kind(question: str) -> str:
    """"number", "list", "yesno" or "explain": what shape the first sentence must have."""
    if _NUMBER_Q.search(question):
        return "number"
    if _LIST_Q.search(question):
        return "list"
    if _YESNO_Q.search(question):
        return "yesno"
    return "explain"


def source_of(passage: Passage, snippet_chars: int = 240, page_url: str = "") -> Source:
    """The citation for one passage: the work it restates (title, author) and a link where one exists."""
    snippet = passage.chunk.body.replace("\n", " ")
    if len(snippet) > snippet_chars:
        snippet = snippet[:snippet_chars] + "..."
    url = passage.chunk.url or (f"{page_url.rstrip('/')}/articles/{passage.chunk.doc_id}" if page_url else "")
    return Source(title=passage.chunk.title, url=url, snippet=snippet, author=passage.chunk.author)


def cite_sources(passages: Sequence[Passage], page_url: str = "") -> list[Source]:
    """One source per article, in first-cited order, with the passage that was used as snippet."""
    seen: dict[str, Source] = {}
    for p in passages:
        seen.setdefault(p.chunk.doc_id, source_of(p, page_url=page_url))
    return list(seen.values())


def _readable(unit: str) -> str | None:
    """The unit as a stand-alone sentence, or None when it reads badly out of its article."""
    text = _MD_NOISE.sub("", unit).strip()
    text = re.split(r"(?<=[.!?:])\s+[-*•]\s+", text, maxsplit=1)[0]  # a list run into its lead sentence
    if not text or "|" in text or _META.search(text) or "://" in text:  # "|": a flattened table row
        return None
    if len(text.split()) < 6 or text.endswith((":", "?")):
        return None  # lead-ins and the questions of a self-check list answer nothing
    if text[-1] not in ".!?\"”)":
        text += "."
    return text[0].upper() + text[1:]


def _list_block(passage: Passage) -> tuple[str, list[str]] | None:
    """A passage's lead-in sentence and list items, when it holds a list."""
    lines = passage.chunk.body.splitlines()
    items = [_MD_NOISE.sub("", ln).strip().rstrip(".") for ln in lines if _LIST_ITEM.match(ln)]
    if len(items) < 2:
        return None
    lead = next((ln.strip() for ln in lines if ln.strip().endswith(":")), "")
    return lead, items


def short_item(item: str, *, at_comma: bool = False, max_words: int = 12) -> str:
    """A list item cut to its head ("High Difficulty: ..." -> "High Difficulty"), so a list fits a sentence.

    `at_comma` also cuts at a comma, for items written inline ("(1) High Difficulty, combining ...").
    """
    splitter = r",\s|:\s|\s[—–-]\s|\.\s" if at_comma else r":\s|\s[—–-]\s|\.\s"
    head = re.split(splitter, item.strip(), maxsplit=1)[0].strip(" .;*")
    return head if len(head.split()) <= max_words else " ".join(head.split()[:max_words]) + "..."


def compose_answer(question: str, passages: Sequence[Passage], *, vector: np.ndarray | None = None,
                   units: UnitsFn | None = None, card: CardMatch | None = None,
                   card_passage: Passage | None = None, page_url: str = "", max_words: int = 110,
                   term_weight: TermWeight | None = None, said: Sequence[str] = ()) -> Draft:
    """An answer-first body built only from `passages` (or `card`), and the sources it cites.

    With a card, the card's answer leads and the best passage sentence follows when it adds
    something the card does not say (a card is short; the passage may hold the detail asked for).
    Sentences close to one of `said` (what the bot has just said) are left out.
    """
    extracted = _extract(question, passages, vector, units, page_url, max_words, term_weight, said)
    if card is None or card_passage is None:
        return extracted
    sources = [source_of(card_passage, page_url=page_url)]
    text = f"{card.card.answer} [1]"
    said = [card.card.answer]
    for sentence, source in _sentences(extracted)[:MAX_SUPPORT] if extracted.confidence >= _SUPPORT_FLOOR else ():
        if _similar(sentence, said, 0.35) or len(text.split()) + len(sentence.split()) > max_words + 20:
            continue
        if source not in sources:
            sources.append(source)
        text += f" {sentence} [{sources.index(source) + 1}]"
        said.append(sentence)
    return Draft(text, sources, card=card.card.id, confidence=card.similarity)


_RECAP_LEAD = re.compile(r"^(?:(?:As I said|What I meant):\s*)+")


def recap_of(draft: Draft, pick: Callable[[list[str]], int] | None = None) -> Draft:
    """One sentence of the draft with its citation, for a short recap: the one `pick` chooses
    (say, the closest to a follow-up question), else the first."""
    cited = [(one.strip(), source) for sentence, source in _sentences(draft)
             for one in re.findall(r".+?[.!?](?=\s|$)|.+$", sentence) if len(one.split()) >= 4]
    if not cited:
        return Draft("", [])
    sentence, source = cited[pick([c[0] for c in cited]) if pick is not None else 0]
    sentence = _RECAP_LEAD.sub("", sentence)  # a recap of a recap restates the point, not the lead-in
    return Draft(f"{sentence} [1]", [source], card=draft.card)


def _sentences(draft: Draft) -> list[tuple[str, Source]]:
    """The cited sentences of a draft with the source each one cites."""
    return [(m.group(1).strip(), draft.sources[int(m.group(2)) - 1])
            for m in re.finditer(r"(.+?) \[(\d+)\]", draft.text)]


def _extract(question: str, passages: Sequence[Passage], vector: np.ndarray | None, units: UnitsFn | None,
             page_url: str, max_words: int, term_weight: TermWeight | None = None,
             said: Sequence[str] = ()) -> Draft:
    """The passage sentences that answer `question`, best first, each with its source number."""
    if not passages:
        return Draft("", [])
    kind = answer_kind(question)
    # Meaning finds the topic; the question's rare words ("iterate", "uptime") find the facet asked about.
    asked = {t: term_weight(t) for t in set(tokenize(question))} if term_weight is not None else {}
    asked_total = sum(asked.values())
    candidates: list[tuple[float, int, int, str]] = []  # score, passage rank, position, sentence
    useful: list[Passage] = []  # a reading list or a table yields no sentence: the next passage stands in
    for passage in passages:
        if len(useful) == 4:
            break
        rank = len(useful)
        pairs = units(passage.chunk.chunk_id) if units is not None else []
        if not pairs:
            pairs = [(u, None) for u in split_sentences(passage.chunk.body)]
        found = False
        for position, (unit, vec) in enumerate(pairs):
            sentence = _readable(unit)
            if sentence is None:
                continue
            found = True
            if said and _similar(sentence, said, 0.6):
                continue
            # A one-sentence chunk stores no separate sentence vector: its passage similarity is the sentence's.
            meaning = float(np.dot(vec, vector)) if vec is not None and vector is not None else (
                passage.similarity if vector is not None and len(pairs) == 1 else 0.3)
            score = meaning + (0.04 * (3 - rank)) - 0.005 * position
            if kind == "number" and _HAS_NUMBER.search(sentence):
                score += 0.12
            if asked_total > 0:
                shared = asked.keys() & _tokens(sentence)
                score += _LEXICAL_WEIGHT * sum(asked[t] for t in shared) / asked_total
            if _PERSON_PRONOUN.match(sentence) or _POINTS_BACK.match(sentence) or _POINTS_AROUND.search(sentence) or \
                    _LEANS_EARLY.match(sentence):
                score -= 0.1  # "Her main point: ..." or "In that case, ..." mean little outside their paragraph
            candidates.append((score, rank, position, sentence))
        if found:
            useful.append(passage)
    passages = useful
    if not candidates:
        return Draft("", [])
    candidates.sort(key=lambda c: -c[0])
    best = candidates[0]
    chosen = [best]
    words = len(best[3].split())
    for cand in candidates[1:]:
        if len(chosen) >= 3 or cand[0] < max(best[0] - 0.15, _SUPPORT_FLOOR):
            break
        if words + len(cand[3].split()) > max_words or _similar(cand[3], [c[3] for c in chosen]):
            continue
        chosen.append(cand)
        words += len(cand[3].split())
    if len(chosen) == 1 and words < _SHORT_ANSWER:
        # One short sentence rarely answers alone; the article's next sentence usually carries it on
        # ("You are not training 70B models." -> "You are building products on top of them.").
        follow = next((c for c in candidates if c[1] == best[1] and c[2] == best[2] + 1), None)
        if follow is not None and not _similar(follow[3], [best[3]]):
            chosen.append(follow)
            words += len(follow[3].split())
    sources = cite_sources(passages[:4], page_url)
    number = {p.chunk.doc_id: sources.index(next(s for s in sources if s.title == p.chunk.title)) + 1
              for p in passages[:4]}
    used: list[int] = []
    parts: list[str] = []
    lead_rank = best[1]
    block = _list_block(passages[lead_rank]) if kind == "list" else None
    for i, (_, rank, _, sentence) in enumerate(chosen):
        n = number[passages[rank].chunk.doc_id]
        if n not in used:
            used.append(n)
        if i == 0 and block is not None and len(block[1]) <= 8:
            lead, items = block
            listed = "; ".join(short_item(it) for it in items)
            head = (_readable(lead.rstrip(":") + ".") or sentence).rstrip(".")
            sentence = f"{head}: {listed}."
        parts.append(f"{sentence} [{n}]")
    remap = {old: new + 1 for new, old in enumerate(used)}
    body = re.sub(r"\[(\d+)\]", lambda m: f"[{remap.get(int(m.group(1)), int(m.group(1)))}]", " ".join(parts))
    return Draft(body, [sources[n - 1] for n in used], confidence=best[0])


@lru_cache(maxsize=16384)
def _tokens(sentence: str) -> frozenset[str]:
    """A sentence's BM25 words; the index's sentences recur in every answer, so they are read once."""
    return frozenset(tokenize(sentence))


def _similar(sentence: str, others: Sequence[str], limit: float = 0.6) -> bool:
    """Near-duplicates (the same point in two articles) would read as repetition."""
    words = set(re.findall(r"[a-z0-9]+", sentence.lower()))
    for other in others:
        theirs = set(re.findall(r"[a-z0-9]+", other.lower()))
        if words and len(words & theirs) / len(words) > limit:
            return True
    return False
