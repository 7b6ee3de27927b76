"""Bolt listeners, one module per kind of payload, registered by `register_listeners(app, bot)`."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from adapters.slack.flow import SlackBot
from adapters.slack.listeners import actions, commands, events

__all__ = ["register_listeners"]


def register_listeners(app: AsyncApp, bot: SlackBot) -> None:
    events.register(app, bot)
    commands.register(app, bot)
    actions.register(app, bot)
