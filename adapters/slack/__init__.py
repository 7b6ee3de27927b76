"""Slack adapter: mentions, DMs, threads, slash commands and buttons, in Socket Mode or HTTP mode.

Public entry points: `build_slack_app` (an `AsyncApp` wired to the brain and the store) and
`run_slack` (serve it). Nothing happens at import time.
"""

from adapters.slack.app import build_slack_app
from adapters.slack.runner import run_slack

__all__ = ["build_slack_app", "run_slack"]
