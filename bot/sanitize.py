"""Cleaning user text before anything else sees it.

Chat platforms deliver whatever people paste: control characters, zero-width joiners, 50 KB logs.
The brain works on a bounded, printable copy and knows whether it cut anything, so it can say so
instead of silently answering half a message.

Two layers, because they protect different things:

- `scrub` runs on every `Inbound` as it is built (and on text handed to the services directly): it
  removes what no component downstream can handle or should ever see. A lone UTF-16 surrogate
  (a JSON `"\\ud800"` escape, a CLI argument that was not UTF-8) cannot be encoded, so it fails
  the tokenizer, the SQLite driver and `json.dumps(ensure_ascii=False)`; bidi controls and other
  invisible format characters make text read differently from what it says (and hide words from
  the intent rules); tag characters smuggle invisible instructions to a model.
- `clean` is what the brain reads and quotes: scrubbed, NFKC-normalised, whitespace-normalised,
  user-written links shown as text with their address, and at most `MAX_CHARS` long.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["MAX_CHARS", "CleanText", "clean", "defuse_links", "scrub"]

MAX_CHARS = 2000
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# Invisible or direction-changing: zero-width characters, bidi embeddings/overrides/isolates, word
# joiners, BOM, soft hyphen, Arabic letter mark, Mongolian vowel separator, interlinear annotation
# marks, tag characters, noncharacters. Removed outright: a zero-width space inside a word must not
# split it ("ig<ZWSP>nore" is "ignore" to a reader, so it is to the intent rules).
_INVISIBLE = [0x00AD, 0x061C, 0x180E, *range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2060, 0x2070),
              0xFEFF, 0xFFF9, 0xFFFA, 0xFFFB, 0xFFFE, 0xFFFF, *range(0xE0000, 0xE0080)]
# Characters that render as blank but are letters to Unicode (Hangul fillers, braille blank): a space.
_BLANK_LETTERS = [0x115F, 0x1160, 0x3164, 0xFFA0, 0x2800]
_SCRUB = str.maketrans({**dict.fromkeys(_INVISIBLE), **dict.fromkeys(_BLANK_LETTERS, " ")})
# C0 and C1 controls (tab and newline kept) become spaces; Unicode line separators, newlines.
_CONTROLS = str.maketrans({**{c: " " for c in [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)]},
                           0x2028: "\n", 0x2029: "\n"})
_SPACES = re.compile(r"[ \t]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_MD_LINK = re.compile(r"\[([^\]\n]*)\]\(\s*<?([^)\s>]*)>?(?:\s+(?:\"[^\"\n]*\"|'[^'\n]*'))?\s*\)")
_SLACK_LINK = re.compile(r"<((?:https?|mailto):[^|>\s]+)\|([^>\n]*)>")


@dataclass(frozen=True)
class CleanText:
    text: str
    truncated: bool
    original_length: int


def scrub(text: str) -> str:
    """`text` without lone surrogates and invisible or direction-changing characters.

    A valid surrogate pair (two code points that together are one character, as some decoders
    leave them) becomes that character; a lone one is dropped.
    """
    if _SURROGATE.search(text):
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace").replace("\ufffd", "")
    return text.translate(_SCRUB)


def defuse_links(text: str) -> str:
    """User-written links as plain "label (address)", so a reply quoting them shows the address.

    Why: a reply that quotes `[official docs](https://evil.example)` would otherwise be rendered by
    Slack or Discord as a masked link *authored by the bot*. Any `](` left over (a malformed link a
    renderer might still accept) is split apart as well.
    """
    def plain(label: str, url: str) -> str:
        label = label.strip()
        if not url:
            return f"{label} ()" if label else "()"
        return f"{label} ({url})" if label and label != url else url

    text = _MD_LINK.sub(lambda m: plain(m.group(1), m.group(2)), text)
    text = _SLACK_LINK.sub(lambda m: plain(m.group(2), m.group(1)), text)
    return text.replace("](", "] (")


def clean(raw: object, *, max_chars: int = MAX_CHARS) -> CleanText:
    """Printable, whitespace-normalised text of at most `max_chars` characters, links defused."""
    text = raw if isinstance(raw, str) else ("" if raw is None else str(raw))
    original_length = len(text)
    text = unicodedata.normalize("NFKC", scrub(text[: max_chars * 4]))
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_CONTROLS)
    text = "\n".join(line.strip() for line in _SPACES.sub(" ", text).split("\n"))
    text = defuse_links(_BLANK_LINES.sub("\n\n", text).strip())
    truncated = original_length > max_chars or len(text) > max_chars
    if len(text) > max_chars:
        cut = text[:max_chars]
        text = cut.rsplit(" ", 1)[0] if " " in cut[-50:] else cut
    return CleanText(text=text, truncated=truncated, original_length=original_length)
