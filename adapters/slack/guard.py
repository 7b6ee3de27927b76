"""Platform rules decided before the brain is asked: where the bot may speak, what to ignore, dedupe.

Why here and not in the brain: these are Slack facts (bot messages, edits, `X-Slack-Retry-Num`
redeliveries, channel ids), not career logic. The keys name a message, command or press, not a
delivery: the inbox (bot/inbox.py) records each key once, so a retry that lands on another worker,
or after a restart, is still answered once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from adapters.slack.parse import is_dm

__all__ = ["ChannelPolicy", "action_key", "command_key", "event_key", "is_ignorable_message"]

# Message subtypes that are still a person talking to the bot; every other subtype (edits,
# deletions, joins, bot_message, channel topic changes, ...) is ignored.
_USER_SUBTYPES = frozenset({"thread_broadcast", "file_share"})


class ChannelPolicy:
    """Where the bot answers: DMs always; channels only if allowed (an empty list allows all).

    Admins (SLACK_ADMIN_USERS) are answered in any channel, so they can try the bot before adding
    a channel to SLACK_ALLOWED_CHANNELS.
    """

    def __init__(self, allowed_channels: Iterable[str] = (), admin_users: Iterable[str] = ()) -> None:
        self.allowed = frozenset(allowed_channels)
        self.admins = frozenset(admin_users)

    def allows(self, channel: str | None, user: str | None = None, channel_type: str | None = None) -> bool:
        if not channel:
            return False
        if is_dm(channel, channel_type) or not self.allowed or channel in self.allowed:
            return True
        return bool(user) and user in self.admins

    def where(self) -> str:
        """A short human description of the allowed channels, for the refusal notice."""
        return ", ".join(f"<#{c}>" for c in sorted(self.allowed)) or "any channel"


def is_ignorable_message(event: dict[str, Any], bot_user_id: str | None) -> bool:
    """Bot messages, edits, deletions, system messages and the bot's own posts are not questions."""
    subtype = event.get("subtype")
    if subtype and subtype not in _USER_SUBTYPES:
        return True
    if event.get("bot_id") or event.get("bot_profile") or event.get("hidden") or event.get("edited"):
        return True
    user = event.get("user")
    return not user or user == bot_user_id


def event_key(team: str | None, event: dict[str, Any]) -> str | None:
    """Identity of the *message*, not of the delivery.

    HTTP retries keep the event_id, but a Socket Mode reconnect may redeliver with a new envelope,
    and one message can arrive as both `app_mention` and `message`: channel + ts covers all three.
    """
    channel, ts = event.get("channel"), event.get("ts") or event.get("event_ts")
    if not channel or not ts:
        return None
    return f"slack:{team or '-'}:{channel}:{ts}"


def command_key(body: dict[str, Any]) -> str | None:
    trigger = body.get("trigger_id")
    return f"slack:{body.get('team_id') or '-'}:command:{trigger}" if trigger else None


def action_key(body: dict[str, Any], action: dict[str, Any]) -> str | None:
    user = (body.get("user") or {}).get("id")
    stamp = action.get("action_ts")
    if not user or not stamp:
        return None
    return f"slack:{(body.get('team') or {}).get('id') or '-'}:action:{user}:{action.get('action_id')}:{stamp}"
