"""Button presses (`block_actions`): every button the adapter renders has an action_id `cb:…`.

The button's value goes to the brain unchanged as `Inbound.action` (quiz answers, feedback votes,
share requests); the brain decides what it means, the adapter only where the answer goes.
"""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from adapters.slack.flow import SlackBot
from adapters.slack.guard import action_key
from adapters.slack.parse import action_inbound
from adapters.slack.render import ACTION_PREFIX

__all__ = ["register"]


def register(app: AsyncApp, bot: SlackBot) -> None:
    async def on_button(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        inbound = action_inbound(body, action)
        if not inbound.action or not inbound.user:
            return
        if not bot.policy.allows(inbound.channel, inbound.user):
            return
        key = action_key(body, action)
        if not bot.dedupe.claim(key):
            return
        bot.jobs.spawn(bot.answer_action(inbound, key, body, action), name=f"slack-action:{key}")

    app.action(re.compile("^" + re.escape(ACTION_PREFIX)))(on_button)
