"""Quality gates: retrieval recall@k / MRR over a golden set, fit accuracy / macro-F1 over personas,
and answer-level checks (does the reply itself state the facts? does a follow-up keep its context?).

The same functions back `careerbot eval` and the gate tests, so the numbers in CI and the numbers an
operator sees are computed one way. They take the system under test as a plain callable, so the unit
tests can feed them canned replies and the gates can feed them the whole brain.
"""

from __future__ import annotations

import json
import re
import statistics
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from knowledge.retriever import Passage

__all__ = ["evaluate_answers", "evaluate_conversations", "evaluate_fit", "evaluate_retrieval", "missing_facts",
           "normalise", "read_jsonl", "word_count"]

LABELS = ("ai_engineer", "ml_engineer", "neither")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSON-lines file; blank lines are skipped, a bad line is named by its number."""
    try:
        content = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not valid UTF-8 (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})") from None
    rows = []
    for n, line in enumerate(content.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{n}: not valid JSON ({exc.msg})") from None
    return rows


def evaluate_retrieval(rows: Iterable[dict[str, Any]], search: Callable[[str, int], list[Passage]],
                       k: int = 5) -> dict[str, Any]:
    """A question is a hit at k when any top-k chunk contains any answer string (case-insensitive)."""
    n = hits = 0
    reciprocal = 0.0
    misses: list[str] = []
    for row in rows:
        n += 1
        answers = [a.lower() for a in row["answers"]]
        passages = search(row["question"], k)
        rank = next((i for i, p in enumerate(passages, 1) if any(a in p.text.lower() for a in answers)), None)
        if rank is not None:
            hits += 1
            reciprocal += 1.0 / rank
        else:
            misses.append(row["question"])
    return {"n": n, "k": k, "recall_at_k": round(hits / n, 4) if n else 0.0,
            "mrr": round(reciprocal / n, 4) if n else 0.0, "misses": misses}


def evaluate_fit(rows: Iterable[dict[str, Any]], classify: Callable[[str], str]) -> dict[str, Any]:
    pairs = [(row["label"], classify(row["text"])) for row in rows]
    n = len(pairs)
    per_label: dict[str, dict[str, float]] = {}
    f1s = []
    for label in LABELS:
        tp = sum(1 for gold, pred in pairs if gold == label and pred == label)
        fp = sum(1 for gold, pred in pairs if gold != label and pred == label)
        fn = sum(1 for gold, pred in pairs if gold == label and pred != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_label[label] = {"precision": round(precision, 4), "recall": round(recall, 4)}
        f1s.append(f1)
    accuracy = sum(1 for gold, pred in pairs if gold == pred) / n if n else 0.0
    return {"n": n, "accuracy": round(accuracy, 4), "macro_f1": round(sum(f1s) / len(f1s), 4),
            "per_label": per_label,
            "errors": [{"gold": g, "predicted": p} for g, p in pairs if g != p]}


# --- answer-level evaluation ------------------------------------------------------------------
#
# Retrieval recall says the right passage was found; these say the *reply* states it. A fact is a
# group of alternative phrasings (["100 ms", "100 milliseconds"]); a group is stated when any
# alternative occurs in the reply after both are normalised, so markdown, typography and case do
# not decide a gate.

OUT_OF_SCOPE = "out_of_scope"
Answer = Callable[[str], tuple[str, str]]

_TYPOGRAPHY = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
    "\u2026": "...", "\u00a0": " ", "\u202f": " ",
})
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"[*`]+|(?<![^\W_])_+|_+(?![^\W_])")  # keeps snake_case words whole
_CITATION = re.compile(r"\[\d+(?:\s*[,\u2013-]\s*\d+)*\]")
_LINE_MARKUP = re.compile(r"^\s*(?:#{1,6}\s+|>\s*|[-*+]\s+|\d+[.)]\s+)", re.M)
_WORD = re.compile(r"\w")


def normalise(text: str) -> str:
    """Casefolded text without markdown emphasis or backticks, straight quotes/dashes, one space apart."""
    text = text.translate(_TYPOGRAPHY)
    text = _EMPHASIS.sub("", text)
    return " ".join(text.split()).casefold()


def _fact_groups(row: dict[str, Any], where: str) -> list[list[str]]:
    """The row's fact groups; a bare string counts as a group of one, so a hand-written set can be terse."""
    facts = row.get("facts") or []
    if not isinstance(facts, list):
        raise ValueError(f"{where}: 'facts' must be a list of lists of strings")
    groups = []
    for group in facts:
        alternatives = [group] if isinstance(group, str) else group
        if not isinstance(alternatives, list) or not all(isinstance(a, str) for a in alternatives):
            raise ValueError(f"{where}: 'facts' must be a list of lists of strings")
        groups.append(alternatives)
    return groups


def missing_facts(text: str, groups: Sequence[Sequence[str]]) -> list[list[str]]:
    """The fact groups none of whose alternatives occurs in `text` (both sides normalised)."""
    reply = normalise(text)
    return [list(group) for group in groups
            if not any((alt := normalise(a)) and alt in reply for a in group)]


def word_count(text: str) -> int:
    """Words a reader reads: citation markers, link targets, list bullets and heading marks not counted."""
    text = _MD_LINK.sub(r"\1", text.translate(_TYPOGRAPHY))
    text = _CITATION.sub(" ", text)
    text = _LINE_MARKUP.sub("", text)
    text = _EMPHASIS.sub("", text)
    return sum(1 for token in text.split() if _WORD.search(token))


def _question(row: dict[str, Any], key: str, where: str) -> str:
    value = row.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: missing {key!r}")
    return value


def evaluate_answers(rows: Iterable[dict[str, Any]], answer: Answer) -> dict[str, Any]:
    """Answer-level gate over {"question", "facts", "in_scope"=true} rows; `answer(q)` -> (text, intent).

    In-scope rows are scored on facts and on not being refused; out-of-scope rows only on being
    redirected (their facts, if any, are ignored). `median_words` covers in-scope replies, since
    the redirect message's length says nothing about answer length.
    """
    n = stated = refused = redirected = n_out = 0
    words: list[int] = []
    misses: list[dict[str, Any]] = []
    for i, row in enumerate(rows, 1):
        where = f"row {i}"
        question = _question(row, "question", where)
        groups = _fact_groups(row, where)
        in_scope = bool(row.get("in_scope", True))
        text, intent = answer(question)
        n += 1
        if not in_scope:
            n_out += 1
            redirected += intent == OUT_OF_SCOPE
            continue
        refused += intent == OUT_OF_SCOPE
        words.append(word_count(text))
        missing = missing_facts(text, groups)
        if missing:
            misses.append({"question": question, "missing": missing, "text": text})
        else:
            stated += 1
    n_in = n - n_out
    return {"n": n, "facts_rate": round(stated / n_in, 4) if n_in else 0.0, "refused": refused,
            "redirected": redirected, "n_out_of_scope": n_out,
            "median_words": statistics.median(words) if words else 0, "misses": misses}


def evaluate_conversations(scripts: Iterable[dict[str, Any]],
                           new_conversation: Callable[[], Answer]) -> dict[str, Any]:
    """Multi-turn gate: each script runs in its own fresh conversation, turn by turn.

    A turn with a non-empty "uses" depends on an earlier turn (what "it" or "the pay" refers to);
    `context_kept` is the share of those turns whose facts are all stated, which is the number a
    follow-up regression moves. `facts_rate` covers every turn.
    """
    n_scripts = n_turns = context_turns = kept = stated = 0
    misses: list[dict[str, Any]] = []
    for i, script in enumerate(scripts, 1):
        script_id = script.get("id", i)
        turns = script.get("turns")
        if not isinstance(turns, list):
            raise ValueError(f"script {script_id}: 'turns' must be a list")
        n_scripts += 1
        send = new_conversation()
        for t, turn in enumerate(turns, 1):
            where = f"script {script_id} turn {t}"
            question = _question(turn, "text", where)
            groups = _fact_groups(turn, where)
            text, intent = send(question)
            n_turns += 1
            uses = bool(turn.get("uses"))
            context_turns += uses
            missing = missing_facts(text, groups)
            if missing:
                misses.append({"id": script_id, "turn": t, "question": question, "uses": turn.get("uses") or "",
                               "intent": intent, "missing": missing, "text": text})
            else:
                stated += 1
                kept += uses
    return {"n_scripts": n_scripts, "n_turns": n_turns, "context_turns": context_turns,
            "context_kept": round(kept / context_turns, 4) if context_turns else 0.0,
            "facts_rate": round(stated / n_turns, 4) if n_turns else 0.0, "misses": misses}
