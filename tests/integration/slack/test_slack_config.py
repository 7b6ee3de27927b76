"""Missing Slack settings fail with one line naming the variable, before anything connects."""

from __future__ import annotations

import pytest

from adapters.slack import build_slack_app, run_slack
from bot.config import ConfigError, Settings


@pytest.mark.parametrize(
    ("config", "http_port", "variable"),
    [
        (Settings(), None, "SLACK_BOT_TOKEN"),
        (Settings(slack_bot_token="xoxb-1"), None, "SLACK_APP_TOKEN"),
        (Settings(slack_bot_token="xoxb-1", slack_app_token="xapp-1"), 8080, "SLACK_SIGNING_SECRET"),
    ],
)
async def test_missing_variable_is_named(config, http_port, variable, store, brain):
    with pytest.raises(ConfigError) as err:
        await run_slack(config, brain, store, http_port=http_port)
    assert variable in str(err.value) and "\n" not in str(err.value)


def test_build_needs_a_bot_token(store, brain):
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN"):
        build_slack_app(Settings(), brain, store)


def test_manifest_declares_every_command_and_event_the_adapter_handles():
    from pathlib import Path

    import yaml

    from adapters.slack.parse import COMMANDS

    manifest = yaml.safe_load((Path(__file__).parents[3] / "deploy" / "slack-manifest.yaml").read_text())
    commands = {c["command"] for c in manifest["features"]["slash_commands"]}
    assert commands == set(COMMANDS)
    settings = manifest["settings"]
    assert {"app_mention", "message.im", "message.channels"} <= set(settings["event_subscriptions"]["bot_events"])
    assert settings["interactivity"]["is_enabled"] is True
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"app_mentions:read", "chat:write", "commands", "files:write", "im:history", "im:write"} <= scopes
