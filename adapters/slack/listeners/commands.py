"""Slash commands: `/quiz`, `/quiz-reset`, `/career`, `/plan`, `/forget`, `/careerbot-help`.

Recorded in the inbox, then acknowledged empty within Slack's 3 seconds; the answer follows in
the background.
In a channel where the bot is not enabled, the ack itself carries a private notice, so the person
who typed the command is not left with Slack's "dispatch_failed" and the channel sees nothing.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from adapters.slack.flow import SlackBot
from adapters.slack.guard import command_key
from adapters.slack.parse import COMMANDS, command_inbound

__all__ = ["register"]

COMMAND_PATTERN = re.compile("^(" + "|".join(re.escape(c) for c in COMMANDS) + ")$")


def register(app: AsyncApp, bot: SlackBot) -> None:
    async def on_command(ack: AsyncAck, body: dict[str, Any]) -> None:
        inbound = command_inbound(body)
        if inbound is None:
            await ack()
            return
        if not bot.policy.allows(inbound.channel, inbound.user):
            await ack(text=f"I only answer in {bot.policy.where()}, or in a DM with me.", response_type="ephemeral")
            return
        key = command_key(body) or f"slack:-:command:{uuid.uuid4().hex}"
        await bot.accept(key, inbound, {"type": "command", "body": body})
        await ack()

    app.command(COMMAND_PATTERN)(on_command)
