"""Cleaning user text before anything else sees it.

Chat platforms deliver whatever people paste: control characters, zero-width joiners, 50 KB logs.
The brain works on a bounded, printable copy and knows whether it cut anything, so it can say so
instead of silently answering half a message.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["MAX_CHARS", "CleanText", "clean"]

MAX_CHARS = 2000
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_SPACES = re.compile(r"[ \t]+")
_BLANK_LINES = re.compile(r"\n{3,}")


@dataclass(frozen=True)
class CleanText:
    text: str
    truncated: bool
    original_length: int


def clean(raw: object, *, max_chars: int = MAX_CHARS) -> CleanText:
    """Printable, whitespace-normalised text of at most `max_chars` characters."""
    text = raw if isinstance(raw, str) else ("" if raw is None else str(raw))
    original_length = len(text)
    text = unicodedata.normalize("NFKC", text[: max_chars * 4])
    text = _CONTROL.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = "\n".join(line.strip() for line in _SPACES.sub(" ", text).split("\n"))
    text = _BLANK_LINES.sub("\n\n", text).strip()
    truncated = original_length > max_chars or len(text) > max_chars
    if len(text) > max_chars:
        cut = text[:max_chars]
        text = cut.rsplit(" ", 1)[0] if " " in cut[-50:] else cut
    return CleanText(text=text, truncated=truncated, original_length=original_length)
