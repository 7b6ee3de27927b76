"""Settings: defaults, one-line errors naming the variable, secrets kept out of repr."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, Settings


def test_defaults_need_no_environment() -> None:
    s = Settings.from_env({})
    assert s.llm is None and not s.slack_enabled and not s.discord_enabled
    assert s.database_url.startswith("sqlite:///") and s.database_url.endswith("careerbot.sqlite3")


def test_data_dir_drives_index_and_database(tmp_path) -> None:
    s = Settings.from_env({"CAREERBOT_DATA_DIR": str(tmp_path)})
    assert s.index_dir == tmp_path / "index"
    assert s.database_url == f"sqlite:///{tmp_path / 'careerbot.sqlite3'}"


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"DISCORD_SHARD_COUNT": "two"}, "DISCORD_SHARD_COUNT"),
        ({"DISCORD_SHARD_IDS": "0,1"}, "DISCORD_SHARD_IDS"),
        ({"DISCORD_SHARD_COUNT": "2", "DISCORD_SHARD_IDS": "0,5"}, "DISCORD_SHARD_IDS"),
        ({"CAREERBOT_DATABASE_URL": "mysql://x"}, "CAREERBOT_DATABASE_URL"),
        ({"CAREERBOT_LLM": "gpt4"}, "CAREERBOT_LLM"),
        ({"SLACK_BOT_TOKEN": "not-a-token"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_APP_TOKEN": "xoxb-wrong-kind"}, "SLACK_APP_TOKEN"),
        ({"DISCORD_API_BASE_URL": "discord.local"}, "DISCORD_API_BASE_URL"),
        ({"CAREERBOT_LLM_TIMEOUT": "-1"}, "CAREERBOT_LLM_TIMEOUT"),
        ({"DISCORD_REPLY_MODE": "shout"}, "DISCORD_REPLY_MODE"),
    ],
)
def test_malformed_values_name_the_variable_in_one_line(env: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env(env)
    message = str(info.value)
    assert variable in message and "\n" not in message


def test_secrets_never_appear_in_repr_or_errors() -> None:
    secret = "xoxb-123-super-secret"
    s = Settings.from_env({"SLACK_BOT_TOKEN": secret, "SLACK_APP_TOKEN": "xapp-1-abc", "DISCORD_TOKEN": "dt-secret"})
    assert secret not in repr(s) and "dt-secret" not in repr(s)
    assert s.describe()["slack_bot_token"] == "set"
    assert set(s.secrets) == {secret, "xapp-1-abc", "dt-secret"}
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"SLACK_BOT_TOKEN": "zzz-secret-value"})
    assert "zzz-secret-value" not in str(info.value)


def test_platforms_enabled_by_their_tokens() -> None:
    s = Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "abc", "DISCORD_TOKEN": "t"})
    assert s.slack_enabled and s.discord_enabled
    assert Settings.from_env({"CAREERBOT_LLM": "off"}).llm is None


def test_public_url_is_read_and_checked() -> None:
    assert Settings.from_env({"CAREERBOT_PUBLIC_URL": "https://bot.example.org/"}).public_url == "https://bot.example.org"
    assert Settings.from_env({}).public_url == ""
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"CAREERBOT_PUBLIC_URL": "bot.example.org"})
    assert "CAREERBOT_PUBLIC_URL" in str(info.value)


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "soon"])
def test_drain_seconds_must_be_finite_and_not_negative(value: str) -> None:
    with pytest.raises(ConfigError, match="CAREERBOT_DRAIN_SECONDS"):
        Settings.from_env({"CAREERBOT_DRAIN_SECONDS": value})


def test_drain_retention_and_lease_settings() -> None:
    s = Settings.from_env({"CAREERBOT_DRAIN_SECONDS": "0", "CAREERBOT_EVENT_RETENTION_HOURS": "24",
                           "CAREERBOT_INBOX_LEASE_SECONDS": "5"})
    assert (s.drain_seconds, s.event_retention_hours, s.inbox_lease_seconds) == (0.0, 24.0, 5.0)
    assert Settings.from_env({}).drain_seconds == 10.0
    with pytest.raises(ConfigError, match="CAREERBOT_EVENT_RETENTION_HOURS"):
        Settings.from_env({"CAREERBOT_EVENT_RETENTION_HOURS": "0.1"})
