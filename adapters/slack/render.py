"""Turn the brain's markdown `Reply` into Slack messages (mrkdwn text plus Block Kit blocks).

Why a module of its own: Slack has its own dialect (`*bold*`, `<url|title>`, escaped `&<>`) and
hard limits (3,000 characters per section block, 50 blocks per message, 25 elements per actions
block, 75 characters per button label). Keeping every one of those rules here means the listeners
never build a block by hand, and the rules can be unit-tested without a server.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bot.messages import Button, Reply, Source

__all__ = [
    "ACTION_PREFIX",
    "SECTION_LIMIT",
    "SlackMessage",
    "owner_of_block",
    "render_reply",
    "split_text",
    "to_mrkdwn",
]

SECTION_LIMIT = 3000
"""Slack rejects a section block whose text is longer than this."""
CHUNK_LIMIT = 2900
"""Split below the hard limit so a closing code fence added by the splitter still fits."""
BUTTON_LABEL_LIMIT = 75
BUTTON_VALUE_LIMIT = 2000
ACTIONS_PER_BLOCK = 25
ACTION_PREFIX = "cb:"
"""Every button's action_id starts with this, so one listener (regex `^cb:`) receives them all."""
THINKING_TEXT = ":hourglass_flowing_sand: _Thinking…_"


@dataclass(frozen=True)
class SlackMessage:
    """One `chat.postMessage` / `chat.update` / response_url payload."""

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)

    def as_kwargs(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


# --- markdown -> mrkdwn -------------------------------------------------------------------------

_FENCE = re.compile(r"(```.*?```)", re.S)
_INLINE_CODE = re.compile(r"`[^`\n]+`")
_MD_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^\s)]+|mailto:[^\s)]+)\)")
_AUTOLINK = re.compile(r"<(https?://[^\s>]+)>")
_BARE_URL = re.compile(r"(?<![<|(])\bhttps?://[^\s<>()]+[^\s<>().,;:!?'\"]")
_BOLD = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_ITALIC_STAR = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$")
_BULLET = re.compile(r"^(\s*)[-*+]\s+(?!\[)")
_TASK = re.compile(r"^(\s*)[-*+]\s+\[([ xX])\]\s+")
_QUOTE = re.compile(r"^(\s*>+\s?)")
_RULE = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$")
_TOKEN = "\x01{}\x01"
_TOKEN_RE = re.compile("\x01(\\d+)\x01")


def escape(text: str) -> str:
    """Escape the three characters Slack treats as control characters in mrkdwn."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _link(url: str, label: str | None = None) -> str:
    url = url.replace("&", "&amp;").replace("|", "%7C").replace(">", "%3E").replace("<", "%3C")
    if not label or label == url:
        return f"<{url}>"
    # Inside <url|label> a '|' would end the label early, and emphasis markers show literally.
    label = escape(_BOLD.sub(lambda m: m.group(2), label)).replace("|", "¦")
    return f"<{url}|{label}>"


def _convert_line(line: str) -> str:
    """Convert one markdown line (outside code fences) to mrkdwn."""
    saved: list[str] = []

    def keep(value: str) -> str:
        saved.append(value)
        return _TOKEN.format(len(saved) - 1)

    if _RULE.match(line):
        return "───────────"
    line = _INLINE_CODE.sub(lambda m: keep(escape(m.group(0))), line)
    line = _MD_LINK.sub(lambda m: keep(_link(m.group(2), m.group(1))), line)
    line = _AUTOLINK.sub(lambda m: keep(_link(m.group(1))), line)
    line = _BARE_URL.sub(lambda m: keep(_link(m.group(0))), line)

    prefix = ""
    heading = _HEADING.match(line)
    if heading:
        line = heading.group(1).strip("*_ ")
        prefix_bold = True
    else:
        prefix_bold = False
        task = _TASK.match(line)
        quote = _QUOTE.match(line)
        if task:
            box = "☑" if task.group(2).lower() == "x" else "☐"
            prefix, line = f"{task.group(1)}{box} ", line[task.end() :]
        elif _BULLET.match(line):
            bullet = _BULLET.match(line)
            assert bullet is not None
            prefix, line = f"{bullet.group(1)}• ", line[bullet.end() :]
        elif quote:
            # '>' must stay a real '>' at the line start for Slack to draw a quote.
            prefix, line = ">" + " ", line[quote.end() :]

    line = escape(line)
    # Bold first into a placeholder so the italic pass does not eat its asterisks.
    line = _BOLD.sub(lambda m: keep(f"*{m.group(2).strip('*_')}*"), line)
    line = _ITALIC_STAR.sub(lambda m: f"_{m.group(1)}_", line)
    line = _STRIKE.sub(lambda m: f"~{m.group(1)}~", line)
    if prefix_bold and line:
        line = f"*{line}*"
    line = prefix + line
    # Tokens may nest (bold around a link): restore until none is left.
    while _TOKEN_RE.search(line):
        line = _TOKEN_RE.sub(lambda m: saved[int(m.group(1))], line)
    return line


_MASS_MENTION = re.compile(r"(?<![\w.+-])@(channel|here|everyone)\b", re.I)


def defuse_mentions(text: str) -> str:
    """`@channel`, `@here`, `@everyone` with a zero-width space after the `@`.

    Why: Slack parses these words into notifications in mrkdwn that is not `verbatim`, and answers
    quote user text; the reader sees the same word, nobody is paged. (`<!channel>` never gets
    through: `escape` turns its `<` into `&lt;`.)
    """
    return _MASS_MENTION.sub("@\u200b\\1", text)


def to_mrkdwn(markdown: str) -> str:
    """Convert the brain's markdown (bold, italics, links, lists, headings, code) to Slack mrkdwn."""
    return defuse_mentions(_to_mrkdwn(markdown))


def _to_mrkdwn(markdown: str) -> str:
    out: list[str] = []
    for part in _FENCE.split(markdown.replace("\r\n", "\n")):
        if part.startswith("```") and part.endswith("```") and len(part) >= 6:
            body = part[3:-3]
            # Slack ignores a language tag and would show it as code: drop it.
            first, _, rest = body.partition("\n")
            if rest and re.fullmatch(r"[\w+-]*", first.strip()):
                body = rest
            out.append("```\n" + escape(body.strip("\n")) + "\n```")
        else:
            out.append("\n".join(_convert_line(line) for line in part.split("\n")))
    return "".join(out).strip()


# --- splitting ----------------------------------------------------------------------------------

_WORDS = re.compile(r"<[^<>\n]*>|\S+|\s+")


def _hard_split(line: str, limit: int) -> list[str]:
    """Split one over-long line at whitespace, never inside a `<url|label>` link."""
    pieces: list[str] = []
    current = ""
    for token in _WORDS.findall(line):
        while len(token) > limit:  # a single word longer than the limit: cut it
            if current:
                pieces.append(current)
                current = ""
            pieces.append(token[:limit])
            token = token[limit:]
        if len(current) + len(token) > limit:
            pieces.append(current.rstrip())
            current = token.lstrip()
        else:
            current += token
    if current.strip():
        pieces.append(current.rstrip())
    return [p for p in pieces if p]


def split_text(text: str, limit: int = CHUNK_LIMIT) -> list[str]:
    """Split mrkdwn into chunks of at most `limit` characters for separate section blocks.

    Cuts at paragraph breaks, then line breaks, then spaces; a code block cut in two is closed at
    the end of one chunk and reopened at the start of the next so both halves still render as code.
    """
    if len(text) <= limit:
        return [text] if text.strip() else []
    budget = limit - 8  # room for a closing and a reopening fence
    units: list[tuple[str, str]] = []  # (separator before, piece)
    for p, para in enumerate(text.split("\n\n")):
        sep = "\n\n" if p else ""
        if len(para) <= budget:
            units.append((sep, para))
            continue
        for i, line in enumerate(para.split("\n")):
            pieces = _hard_split(line, budget) if len(line) > budget else [line]
            for j, piece in enumerate(pieces):
                units.append((sep if i == j == 0 else ("\n" if j == 0 else " "), piece))

    chunks: list[str] = []
    current = ""
    for sep, piece in units:
        candidate = current + sep + piece if current else piece
        if len(candidate) <= budget:
            current = candidate
            continue
        opens = current.count("```") % 2 == 1
        chunks.append(current + "\n```" if opens else current)
        current = "```\n" + piece if opens else piece
    if current.strip():
        chunks.append(current)
    return [c for c in chunks if c.strip()]


# --- blocks -------------------------------------------------------------------------------------


def _section(text: str) -> dict[str, Any]:
    # verbatim: Slack must not turn words of the text into links or mentions on its own; every
    # link in an answer is already an explicit <url|label>.
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:SECTION_LIMIT], "verbatim": True}}


def _sources_block(sources: Iterable[Source]) -> dict[str, Any] | None:
    items = [f"{i}. {_link(s.url, s.label) if s.url else escape(s.label)}" for i, s in enumerate(sources, 1)]
    if not items:
        return None
    text = defuse_mentions("*Sources:* " + "  ·  ".join(items))
    if len(text) > SECTION_LIMIT:
        text = text[: SECTION_LIMIT - 1] + "…"
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _button(button: Button, action_id: str) -> dict[str, Any]:
    label = button.label if len(button.label) <= BUTTON_LABEL_LIMIT else button.label[: BUTTON_LABEL_LIMIT - 1] + "…"
    element: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": label or "·", "emoji": True},
        "value": button.value[:BUTTON_VALUE_LIMIT],
        "action_id": action_id,
    }
    if button.style in ("primary", "danger"):
        element["style"] = button.style
    return element


def _actions_blocks(rows: Iterable[Iterable[Button]], owner: str | None) -> list[dict[str, Any]]:
    blocks = []
    for r, row in enumerate(rows):
        row = list(row)[:ACTIONS_PER_BLOCK]
        if not row:
            continue
        # block_id names who the buttons were rendered for: only that person's press may
        # replace the message in place (someone else's press is answered privately).
        blocks.append(
            {
                "type": "actions",
                "block_id": f"{ACTION_PREFIX}{owner or '-'}:{r}",
                "elements": [_button(b, f"{ACTION_PREFIX}{r}:{c}") for c, b in enumerate(row)],
            }
        )
    return blocks


def owner_of_block(block_id: str | None) -> str | None:
    """The user a button row was rendered for, from the block_id `_actions_blocks` wrote."""
    if not block_id or not block_id.startswith(ACTION_PREFIX):
        return None
    owner = block_id[len(ACTION_PREFIX) :].rsplit(":", 1)[0]
    return None if owner in ("", "-") else owner


def render_reply(
    reply: Reply,
    *,
    owner: str | None = None,
) -> list[SlackMessage]:
    """Render a reply as one or more Slack messages.

    Long text is split over several messages of one section each; sources and buttons go on the
    last one, so they sit under the end of the answer. `owner` is the user the buttons are for.
    The buttons are exactly the brain's (feedback, share, quiz steps): which buttons an answer
    offers is the brain's decision, not the adapter's.
    """
    body = to_mrkdwn(reply.text or "")
    chunks = split_text(body) or [" "]
    tail: list[dict[str, Any]] = []
    sources = _sources_block(reply.sources)
    if sources:
        tail.append(sources)
    tail.extend(_actions_blocks(reply.buttons, owner))
    messages = []
    for i, chunk in enumerate(chunks):
        blocks = [_section(chunk)]
        if i == len(chunks) - 1:
            blocks.extend(tail[: 50 - len(blocks)])
        messages.append(SlackMessage(text=chunk, blocks=blocks))
    return messages


def thinking_message() -> SlackMessage:
    """The placeholder posted while a slow answer is produced; the answer replaces it."""
    return SlackMessage(text="Thinking…", blocks=[{"type": "context", "elements": [{"type": "mrkdwn", "text": THINKING_TEXT}]}])
