"""Checks on what the model wrote, before anyone sees it.

A model can be talked into things by a user or by a document in the index. Two outcomes are never
acceptable, so they reject the whole answer (the offline composer answers instead): the answer
recites the system prompt, or it contains a secret. Two more are repaired in place: links to URLs
that no tool returned are reduced to their text, and citation numbers that match no source are
dropped, so every link and every [n] in a reply points at something retrieval really returned.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.messages import Source

__all__ = ["GuardResult", "OutputGuard"]

_WORD = re.compile(r"[a-z0-9]+")
_MD_LINK = re.compile(r"\[([^\]\n]{1,300})\]\((https?://[^)\s]+)\)")
_BARE_URL = re.compile(r"<?\bhttps?://[^\s)>\]]+>?")
_CITATION = re.compile(r"\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")
_SHINGLE = 10  # words; long enough that an on-topic answer does not match by accident


@dataclass(frozen=True)
class GuardResult:
    """The cleaned answer, or the reason it must not be shown."""

    text: str
    problem: str | None
    cited: tuple[int, ...] = ()


class OutputGuard:
    """Output checks for one system prompt and one set of secrets.

    Args:
        system_prompt: the prompt whose recitation counts as a leak. Only its rule sections are
            compared word by word (the role description is public anyway, see the help text).
        canary: a marker inside the prompt; its presence in an answer is a leak.
        secrets: values that must never appear (tokens, keys); values under 6 characters are
            ignored because they would match ordinary words.
    """

    def __init__(self, system_prompt: str, canary: str, secrets: Sequence[str] = ()) -> None:
        self._canary = canary.lower()
        self._secrets = tuple(s for s in secrets if s and len(s) >= 6)
        rules = system_prompt.split("How you work:", 1)[-1]
        words = _WORD.findall(rules.lower())
        self._shingles = {tuple(words[i : i + _SHINGLE]) for i in range(max(0, len(words) - _SHINGLE + 1))}

    def leaks_prompt(self, text: str) -> bool:
        lowered = text.lower()
        if self._canary and self._canary in lowered:
            return True
        words = _WORD.findall(lowered)
        return any(tuple(words[i : i + _SHINGLE]) in self._shingles for i in range(len(words) - _SHINGLE + 1))

    def leaks_secret(self, text: str) -> bool:
        return any(secret in text for secret in self._secrets)

    def check(self, text: str, sources: Sequence[Source]) -> GuardResult:
        """Reject leaks; strip invented links and dangling citation numbers."""
        if self.leaks_prompt(text):
            return GuardResult(text="", problem="leaked_prompt")
        if self.leaks_secret(text):
            return GuardResult(text="", problem="leaked_secret")
        allowed = {_norm_url(s.url) for s in sources if s.url}
        text = _MD_LINK.sub(lambda m: m.group(0) if _norm_url(m.group(2)) in allowed else m.group(1), text)
        text = _BARE_URL.sub(lambda m: m.group(0) if _norm_url(m.group(0).strip("<>")) in allowed else "", text)
        cited: list[int] = []

        def renumber(match: re.Match[str]) -> str:
            numbers = [int(n) for n in match.group(1).split(",")]
            valid = [n for n in numbers if 1 <= n <= len(sources)]
            cited.extend(n for n in valid if n not in cited)
            return "".join(f"[{n}]" for n in valid)

        text = _CITATION.sub(renumber, text)
        text = re.sub(r"[ \t]+([.,;:!?])", r"\1", re.sub(r"[ \t]{2,}", " ", text)).strip()
        if not text:
            return GuardResult(text="", problem="empty_answer")
        return GuardResult(text=text, problem=None, cited=tuple(cited))


def _norm_url(url: str) -> str:
    return url.strip().rstrip("/.,;").lower()
