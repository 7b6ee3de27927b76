"""Button presses (`block_actions`): every button the adapter renders has an action_id `cb:…`.

The button's value goes to the brain unchanged as `Inbound.action` (quiz answers, feedback votes,
share requests); the brain decides what it means, the adapter only where the answer goes.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from adapters.slack.flow import SlackBot
from adapters.slack.guard import action_key
from adapters.slack.parse import action_inbound
from adapters.slack.render import ACTION_PREFIX

__all__ = ["register"]


def register(app: AsyncApp, bot: SlackBot) -> None:
    async def on_button(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        inbound = action_inbound(body, action)
        if not inbound.action or not inbound.user or not bot.policy.allows(inbound.channel, inbound.user):
            await ack()
            return
        key = action_key(body, action) or f"slack:-:action:{uuid.uuid4().hex}"
        await bot.accept(key, inbound, {"type": "action", "body": body, "action": action})
        await ack()

    app.action(re.compile("^" + re.escape(ACTION_PREFIX)))(on_button)
