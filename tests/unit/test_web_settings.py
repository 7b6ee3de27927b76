"""CAREERBOT_WEB_PORT and CAREERBOT_ADMIN_TOKEN: read, validated in one line, the token kept secret."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, Settings

TOKEN = "an-admin-token-long-enough-0123"


def test_web_settings_are_off_by_default() -> None:
    settings = Settings.from_env({})
    assert settings.web_port is None and settings.admin_token is None


def test_web_port_and_admin_token_are_read() -> None:
    settings = Settings.from_env({"CAREERBOT_WEB_PORT": "8080", "CAREERBOT_ADMIN_TOKEN": TOKEN})
    assert settings.web_port == 8080 and settings.admin_token == TOKEN
    assert TOKEN in settings.secrets  # replies are redacted of it like any other secret
    assert TOKEN not in repr(settings) and settings.describe()["admin_token"] == "set"


@pytest.mark.parametrize("value", ["http", "0", "70000", "-1"])
def test_a_bad_port_names_the_variable(value: str) -> None:
    with pytest.raises(ConfigError, match="CAREERBOT_WEB_PORT") as err:
        Settings.from_env({"CAREERBOT_WEB_PORT": value})
    assert "\n" not in str(err.value)


def test_a_short_admin_token_is_refused_without_echoing_it() -> None:
    with pytest.raises(ConfigError, match="CAREERBOT_ADMIN_TOKEN is too short") as err:
        Settings.from_env({"CAREERBOT_ADMIN_TOKEN": "hunter2"})
    assert "hunter2" not in str(err.value)
