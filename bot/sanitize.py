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
_INVISIBLE = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb"
                        "\ufffe\uffff\U000e0000-\U000e007f]")
# Characters that render as blank but are letters to Unicode (Hangul fillers, braille blank): a space.
_BLANK_LETTERS = re.compile("[\u115f\u1160\u3164\uffa0\u2800]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LINE_SEPARATORS = re.compile("[\u2028\u2029]")
_COMBINING_RUN = re.compile(r"([\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]{4})"
                            r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")
_SPACES = re.compile(r"[ \t]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_MD_LINK = re.compile(r"\[([^\]\n]*)\]\(\s*<?([^)\s>]*)>?(?:\s+[\"'][^\n]*?[\"'])?\s*\)")
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
    text = _INVISIBLE.sub("", text)
    return _BLANK_LETTERS.sub(" ", text)


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
    text = _LINE_SEPARATORS.sub("\n", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _COMBINING_RUN.sub(r"\1", _CONTROL.sub(" ", text))
    text = "\n".join(line.strip() for line in _SPACES.sub(" ", text).split("\n"))
    text = defuse_links(_BLANK_LINES.sub("\n\n", text).strip())
    truncated = original_length > max_chars or len(text) > max_chars
    if len(text) > max_chars:
        cut = text[:max_chars]
        text = cut.rsplit(" ", 1)[0] if " " in cut[-50:] else cut
    return CleanText(text=text, truncated=truncated, original_length=original_length)
