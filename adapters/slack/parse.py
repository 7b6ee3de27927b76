"""Slack payloads -> `Inbound`, plus the few facts about a payload the guards need.

Pure functions over the JSON Slack sends (Events API `event`, slash-command form, `block_actions`),
so they are easy to test and hold no state. Payloads come from the network: every field is read
with a default, and a missing id yields None rather than an exception.
"""

from __future__ import annotations

import re
from typing import Any

from bot.messages import Inbound, Kind

__all__ = [
    "COMMANDS",
    "action_inbound",
    "command_inbound",
    "event_inbound",
    "is_dm",
    "mentions",
    "slack_to_text",
]

COMMANDS: dict[str, str] = {
    "/quiz": "quiz",
    "/quiz-reset": "quiz-reset",
    "/quiz-status": "quiz-status",
    "/quiz-cancel": "quiz-cancel",
    "/career": "career",
    "/plan": "plan",
    "/forget": "forget",
    "/careerbot-help": "help",
}
"""Slack slash command -> the brain's command name."""

_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#([CG][A-Z0-9]+)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!(here|channel|everyone)(?:\|[^>]*)?>")
_SUBTEAM = re.compile(r"<!subteam\^[A-Z0-9]+(?:\|([^>]*))?>")
_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def mentions(text: str, user_id: str | None) -> bool:
    """True if `text` (Slack's raw message text) mentions `user_id`."""
    return bool(user_id) and any(m == user_id for m in _USER.findall(text or ""))


def slack_to_text(text: str, bot_user_id: str | None = None) -> str:
    """Slack's wire format -> plain text for the brain: drop the bot's mention, unescape entities."""
    text = text or ""
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>[,:]?", " ", text)
    text = _USER.sub(lambda m: f"@{m.group(1)}", text)
    text = _CHANNEL.sub(lambda m: f"#{m.group(2) or m.group(1)}", text)
    text = _SPECIAL.sub(lambda m: f"@{m.group(1)}", text)
    text = _SUBTEAM.sub(lambda m: m.group(1) or "@group", text)

    def link(m: re.Match[str]) -> str:
        url, label = m.group(1), m.group(2)
        url = url.removeprefix("mailto:") if label and url.startswith("mailto:") else url
        return f"{label} ({url})" if label and label != url else url

    text = _LINK.sub(link, text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return re.sub(r"[ \t]+", " ", text).strip()


def is_dm(channel: str | None, channel_type: str | None = None) -> bool:
    """DMs with the bot: `channel_type` "im" on events, a `D…` id everywhere else."""
    return channel_type == "im" or _str(channel).startswith("D")


def event_inbound(event: dict[str, Any], *, team: str | None, bot_user_id: str | None, kind: Kind) -> Inbound:
    """An `app_mention` or `message` event as an `Inbound`.

    The thread is the conversation: a top-level mention starts a thread under itself (our answer
    goes there), so its `ts` becomes the thread and the follow-ups in it share the memory.
    """
    ts = _str(event.get("ts")) or None
    thread = _str(event.get("thread_ts")) or None
    if kind is Kind.MENTION and thread is None:
        thread = ts
    return Inbound(
        platform="slack",
        user=_str(event.get("user")),
        channel=_str(event.get("channel")),
        text=slack_to_text(_str(event.get("text")), bot_user_id),
        kind=kind,
        thread=thread,
        workspace=team,
        message_id=ts,
    )


def command_inbound(body: dict[str, Any]) -> Inbound | None:
    """A slash command as an `Inbound`; None for a command this bot does not own."""
    name = COMMANDS.get(_str(body.get("command")))
    if name is None:
        return None
    return Inbound(
        platform="slack",
        user=_str(body.get("user_id")),
        channel=_str(body.get("channel_id")),
        text=slack_to_text(_str(body.get("text"))),
        kind=Kind.COMMAND,
        command=name,
        workspace=_str(body.get("team_id")) or None,
        message_id=_str(body.get("trigger_id")) or None,
    )


def action_inbound(body: dict[str, Any], action: dict[str, Any]) -> Inbound:
    """A `block_actions` button press as an `Inbound` whose `action` is the button's value."""
    container = body.get("container") or {}
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id") or ""
    thread = _str(container.get("thread_ts")) or _str(message.get("thread_ts")) or None
    return Inbound(
        platform="slack",
        user=_str((body.get("user") or {}).get("id")),
        channel=_str(channel),
        text="",
        kind=Kind.ACTION,
        thread=thread,
        action=_str(action.get("value")),
        workspace=_str((body.get("team") or {}).get("id")) or _str((body.get("user") or {}).get("team_id")) or None,
        message_id=_str(action.get("action_ts")) or None,
    )
