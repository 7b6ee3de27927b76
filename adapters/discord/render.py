"""Turn a platform-neutral `Reply` into Discord messages: embeds, buttons, files, safe mentions.

Why a separate, pure module: Discord's limits (2,000 characters of content, 4,096 per embed
description, 1,024 per field, 6,000 per message across embeds, 10 embeds, 5 rows of 5 buttons,
100-character custom ids) are where answers silently get rejected with a 400, so the rules live in
one place that unit tests can drive without a client or a network.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import discord

from bot.messages import Attachment, Button, Reply, Source

__all__ = [
    "CONTENT_LIMIT",
    "EMBED_DESCRIPTION_LIMIT",
    "EMBED_TOTAL_LIMIT",
    "FIELD_VALUE_LIMIT",
    "Outgoing",
    "CareerButton",
    "build_view",
    "conversation_footer",
    "files_for",
    "parse_conversation_footer",
    "render_reply",
    "safe_allowed_mentions",
    "sanitize_content",
    "split_text",
    "to_discord_markdown",
]

CONTENT_LIMIT = 2000
EMBED_DESCRIPTION_LIMIT = 4096
EMBED_TOTAL_LIMIT = 6000
EMBEDS_PER_MESSAGE = 10
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FIELDS_PER_EMBED = 25
FOOTER_LIMIT = 2048
BUTTON_LABEL_LIMIT = 80
CUSTOM_ID_LIMIT = 100
BUTTONS_PER_ROW = 5
ROWS_PER_MESSAGE = 5

EMBED_COLOUR = discord.Colour(0x4F7CAC)
_FOOTER_MARK = "conversation "
_FOOTER_RE = re.compile(r"conversation (\d{5,25})\s*$")
_HEADING_RE = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$", re.MULTILINE)
_MASS_MENTION_RE = re.compile(r"@(everyone|here)")
_BUTTON_STYLES = {
    "primary": discord.ButtonStyle.primary,
    "secondary": discord.ButtonStyle.secondary,
    "success": discord.ButtonStyle.success,
    "danger": discord.ButtonStyle.danger,
}


def safe_allowed_mentions() -> discord.AllowedMentions:
    """Mentions the bot may ping: only the author of the message it replies to.

    Why: answers quote user text and knowledge-base passages; a stray `@everyone` or role mention in
    either must never notify a whole server. Discord enforces this server-side from the payload.
    """
    return discord.AllowedMentions(everyone=False, users=False, roles=False, replied_user=True)


def sanitize_content(text: str) -> str:
    """Defuse `@everyone`/`@here` with a zero-width space, a second line of defence after
    `allowed_mentions` (which only stops the ping, not the highlighted text)."""
    return _MASS_MENTION_RE.sub("@\u200b\\1", text)


def to_discord_markdown(text: str) -> str:
    """The brain's markdown in Discord's dialect.

    Discord renders `**bold**`, `[title](url)` and `- lists` as they are; headings are turned into
    bold lines because embed descriptions do not render `#` headings everywhere.
    """
    text = text.replace("\r\n", "\n").strip()
    text = _HEADING_RE.sub(lambda m: f"**{m.group(2)}**", text)
    return sanitize_content(text)


def _cut_point(text: str, limit: int) -> int:
    """Where to cut `text` so the first part fits in `limit`: a paragraph, line, then word break."""
    window = text[:limit]
    for sep in ("\n\n", "\n", " "):
        idx = window.rfind(sep)
        if idx >= limit // 2:
            return idx
    return limit


def split_text(text: str, limit: int = CONTENT_LIMIT) -> list[str]:
    """Split `text` into pieces of at most `limit` characters, at natural breaks.

    Code fences stay balanced: a piece that ends inside a ``` block is closed and the next piece
    reopens it, so each message renders on its own.
    """
    if limit < 16:
        raise ValueError("limit too small to split sensibly")
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    pieces: list[str] = []
    rest = text
    reserve = 8  # room for a closing "\n```" and a reopening "```\n"
    while rest:
        if len(rest) <= limit:
            pieces.append(rest)
            break
        cut = _cut_point(rest, limit - reserve)
        head, rest = rest[:cut].rstrip(), rest[cut:].lstrip("\n ")
        if not head:  # a run of separators only; cut hard
            head, rest = rest[: limit - reserve], rest[limit - reserve :]
        if head.count("```") % 2 == 1:
            head += "\n```"
            rest = "```\n" + rest
        pieces.append(head)
    return [p for p in pieces if p.strip()]


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _source_line(index: int, source: Source) -> str:
    title = _truncate(source.label.replace("[", "(").replace("]", ")") or source.url or "source", 200)
    if source.url.startswith(("http://", "https://")):
        return f"{index}. [{title}]({source.url})"
    return f"{index}. {title}"


def _source_fields(sources: Sequence[Source]) -> list[tuple[str, str]]:
    """Numbered source links packed into as few 1,024-character fields as possible."""
    fields: list[tuple[str, str]] = []
    current: list[str] = []
    for i, source in enumerate(sources, start=1):
        line = _truncate(_source_line(i, source), FIELD_VALUE_LIMIT)
        if current and len("\n".join([*current, line])) > FIELD_VALUE_LIMIT:
            fields.append(("Sources" if not fields else "Sources (continued)", "\n".join(current)))
            current = []
        current.append(line)
    if current:
        fields.append(("Sources" if not fields else "Sources (continued)", "\n".join(current)))
    return fields[: FIELDS_PER_EMBED - 1]


def conversation_footer(root_id: int | str) -> str:
    """Footer that ties follow-up replies to the conversation's root message.

    Why in the message itself: a reply to the bot's second answer only references that answer, so the
    root has to travel with the message to survive restarts and work across shard processes.
    """
    return f"Reply to this message to follow up · {_FOOTER_MARK}{root_id}"


def parse_conversation_footer(text: str | None) -> str | None:
    """The root message id written by `conversation_footer`, or None."""
    if not text:
        return None
    match = _FOOTER_RE.search(text)
    return match.group(1) if match else None


class CareerButton(discord.ui.DynamicItem[discord.ui.Button], template=r"(?s)(?P<value>.{1,100})"):  # type: ignore[type-arg]
    """A button whose press is handled from its custom_id alone: discord.py's `DynamicItem`.

    Why: a quiz or a feedback button may be pressed hours later, after a deploy, on another shard
    process. The class is registered once (`add_dynamic_items` in the bot's setup hook), so a
    press is dispatched by matching the custom_id, and a view made only of these items is not
    kept per message in discord.py's view store: memory does not grow with every answer sent.
    What a press means is the brain's business (`Inbound.action`); the callback only forwards it.
    """

    def __init__(self, value: str, *, label: str = "", style: discord.ButtonStyle = discord.ButtonStyle.secondary,
                 row: int | None = None) -> None:
        super().__init__(discord.ui.Button(style=style, label=label or value, custom_id=value), row=row)

    @property
    def style(self) -> discord.ButtonStyle:
        return self.item.style

    @property
    def label(self) -> str | None:
        return self.item.label

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button,  # type: ignore[override]
                             match: re.Match[str], /) -> CareerButton:
        return cls(match["value"], label=item.label or "", style=item.style)

    async def callback(self, interaction: discord.Interaction) -> None:  # type: ignore[override]
        press = getattr(interaction.client, "on_career_button", None)
        if press is not None:
            await press(interaction)


def build_view(rows: Sequence[Sequence[Button]]) -> discord.ui.View | None:
    """Buttons as a `View`, at most 5 rows of 5; over-long custom ids are dropped, never cut,
    because a cut value would come back as a different action."""
    flat: list[list[Button]] = []
    for row in rows:
        usable = [b for b in row if b.value and len(b.value) <= CUSTOM_ID_LIMIT]
        for start in range(0, len(usable), BUTTONS_PER_ROW):
            flat.append(usable[start : start + BUTTONS_PER_ROW])
    flat = [r for r in flat if r][:ROWS_PER_MESSAGE]
    if not flat:
        return None
    view = discord.ui.View(timeout=None)
    for row_index, row in enumerate(flat):
        for button in row:
            view.add_item(
                CareerButton(
                    button.value,
                    style=_BUTTON_STYLES.get(button.style, discord.ButtonStyle.secondary),
                    label=_truncate(button.label or button.value, BUTTON_LABEL_LIMIT),
                    row=row_index,
                )
            )
    return view


@dataclass
class Outgoing:
    """One Discord message to send: what `Messageable.send` or an interaction response takes."""

    embeds: list[discord.Embed] = field(default_factory=list)
    view: discord.ui.View | None = None
    attachments: tuple[Attachment, ...] = ()
    content: str | None = None

    def send_kwargs(self) -> dict[str, object]:
        """Keyword arguments shared by every send/edit call (files are added by the caller)."""
        kwargs: dict[str, object] = {"embeds": self.embeds, "allowed_mentions": safe_allowed_mentions()}
        if self.content:
            kwargs["content"] = self.content
        if self.view is not None:
            kwargs["view"] = self.view
        return kwargs


def files_for(attachments: Iterable[Attachment]) -> list[discord.File]:
    """Fresh `discord.File` objects; they are single-use, so build them at send time."""
    return [discord.File(str(a.path), filename=a.filename, description=a.title or None) for a in attachments]


def _embed_size(embed: discord.Embed) -> int:
    return len(embed)


def render_reply(reply: Reply, *, footer: str | None = None) -> list[Outgoing]:
    """The messages that carry `reply`, in order.

    The answer goes in embed descriptions (up to 4,096 characters each, far more room than message
    content), sources as numbered links in fields of the last embed, the footer under it, and the
    buttons and files on the last message so they sit under the whole answer. Embeds are packed into
    messages within Discord's 6,000-character and 10-embed per-message limits.
    """
    body = to_discord_markdown(reply.text) or "…"
    chunks = split_text(body, EMBED_DESCRIPTION_LIMIT) or ["…"]
    embeds = [discord.Embed(description=chunk, colour=EMBED_COLOUR) for chunk in chunks]
    last = embeds[-1]
    for name, value in _source_fields(reply.sources):
        last.add_field(name=_truncate(name, FIELD_NAME_LIMIT), value=value, inline=False)
    if footer:
        # On every embed: whichever part of a long answer someone replies to carries the root.
        for embed in embeds:
            embed.set_footer(text=_truncate(footer, FOOTER_LIMIT))
    images = [a for a in reply.attachments if a.mime.startswith("image/")]
    if images:
        last.set_image(url=f"attachment://{images[0].filename}")
    if _embed_size(last) > EMBED_TOTAL_LIMIT:
        # Sources plus a full description can overflow the message budget: move the sources out.
        fields = [(f.name, f.value) for f in last.fields]
        last.clear_fields()
        extra = discord.Embed(colour=EMBED_COLOUR)
        for name, value in fields:
            extra.add_field(name=name, value=value, inline=False)
        if last.footer.text:
            extra.set_footer(text=last.footer.text)
        if last.image.url:
            extra.set_image(url=last.image.url)
            last.set_image(url=None)
        embeds.append(extra)

    messages: list[Outgoing] = []
    current: list[discord.Embed] = []
    size = 0
    for embed in embeds:
        n = _embed_size(embed)
        if current and (size + n > EMBED_TOTAL_LIMIT or len(current) >= EMBEDS_PER_MESSAGE):
            messages.append(Outgoing(embeds=current))
            current, size = [], 0
        current.append(embed)
        size += n
    messages.append(Outgoing(embeds=current))
    messages[-1].view = build_view(reply.buttons)
    messages[-1].attachments = tuple(reply.attachments)
    return messages
