"""Platform-neutral message types: what adapters hand the brain and what they get back.

Adapters translate a Discord or Slack event into an `Inbound`, call `Brain.handle`, and render the
`Reply`. Nothing here knows a platform; `Reply.text` is plain markdown (`**bold**`, `[title](url)`,
`- lists`) that each adapter converts to its own dialect.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from bot.sanitize import scrub

__all__ = ["Attachment", "Button", "Inbound", "Kind", "Reply", "Source"]


class Kind(StrEnum):
    """How the message reached the bot."""

    MENTION = "mention"
    DM = "dm"
    COMMAND = "command"
    ACTION = "action"


@dataclass(frozen=True)
class Inbound:
    """One user message, slash command or button press, already stripped of platform syntax.

    Attributes:
        platform: "slack", "discord", "console", ...
        user: the platform's user id (never a display name: ids are what `/forget` deletes by).
        channel: channel or DM id.
        text: the message text without the bot mention; for commands, the command's argument text.
        kind: see `Kind`.
        thread: thread id (Slack thread_ts, Discord thread or replied-to message), or None.
        command: for `Kind.COMMAND`, the command name without slash, e.g. "quiz", "career".
        action: for `Kind.ACTION`, the pressed button's `Button.value`.
        workspace: Slack team id or Discord guild id; None in DMs and the console.
        message_id: the platform's id of this event, for logging and deduplication.
    """

    platform: str
    user: str
    channel: str
    text: str = ""
    kind: Kind = Kind.DM
    thread: str | None = None
    command: str | None = None
    action: str | None = None
    workspace: str | None = None
    message_id: str | None = None

    def __post_init__(self) -> None:
        # Scrubbed here, as it is built, so nothing downstream (brain, store, inbox, logs, the
        # embedder) ever holds a lone surrogate or a bidi control from a platform payload.
        if not isinstance(self.text, str):
            object.__setattr__(self, "text", "" if self.text is None else str(self.text))
        object.__setattr__(self, "text", scrub(self.text))
        for name in ("command", "action"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, scrub(value))

    @property
    def conversation_key(self) -> str:
        """Identity of the conversation for memory: a thread, or a user's DM/channel stream."""
        where = self.thread or f"user:{self.user}"
        return f"{self.platform}:{self.workspace or '-'}:{self.channel}:{where}"

    @property
    def user_key(self) -> str:
        """Identity of the person across a platform (quiz sessions, `/forget`)."""
        return f"{self.platform}:{self.user}"


@dataclass(frozen=True)
class Source:
    """The work a claim comes from: title and author, linked where a link exists."""

    title: str
    url: str
    snippet: str = ""
    author: str = ""

    @property
    def label(self) -> str:
        """How a source is named in a list: the work's title, and its author when known."""
        return f"{self.title} ({self.author})" if self.author else self.title

    def as_dict(self) -> dict[str, str]:
        return {"title": self.title, "url": self.url, "snippet": self.snippet, "author": self.author}


@dataclass(frozen=True)
class Button:
    """A button the adapter renders; pressing it comes back as an `Inbound` with `action=value`."""

    label: str
    value: str
    style: str = "secondary"  # "primary", "secondary" or "danger"


@dataclass(frozen=True)
class Attachment:
    """A file to upload with the reply (the quiz's radar chart)."""

    filename: str
    path: Path
    mime: str = "image/png"
    title: str = ""


@dataclass(frozen=True)
class Reply:
    """The brain's answer.

    Attributes:
        text: markdown body.
        intent: what the brain understood ("question", "assess", "plan", "quiz", "help", ...).
        sources: cited passages, in citation order.
        buttons: rows of buttons (a tuple of rows, each a tuple of buttons).
        attachments: files to upload.
        ephemeral: a hint that only the asker should see it (slash-command replies).
        replace: a hint that this reply updates the message holding the pressed button (quiz steps).
        data: structured payload for `--json` output and adapters that want more than text.
    """

    text: str
    intent: str = "question"
    sources: tuple[Source, ...] = ()
    buttons: tuple[tuple[Button, ...], ...] = ()
    attachments: tuple[Attachment, ...] = ()
    ephemeral: bool = False
    replace: bool = False
    data: dict[str, Any] = field(default_factory=dict)
