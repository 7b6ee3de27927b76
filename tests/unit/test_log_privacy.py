"""The log filter: secrets redacted from every part of a record; third-party DEBUG dropped."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.config import Settings
from bot.log_privacy import CAPPED_LOGGERS, REDACTED, SecretRedactor, install_log_privacy, secrets_of

KEY = "sk-live-0123456789abcdef"
SETTINGS = Settings(llm_api_key=KEY, slack_bot_token="xoxb-1-2-secretbot", discord_token="discord.token.value",
                    database_url="postgresql://bot:pg%40secret@db:5432/careerbot")


@pytest.fixture
def capture() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A private logger tree with one handler, and the levels of the capped loggers restored after."""
    levels = {name: logging.getLogger(name).level for name in CAPPED_LOGGERS}
    root = logging.getLogger("privacy-test-root")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield root, stream
    root.removeHandler(handler)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def test_secrets_include_the_database_password_decoded_and_encoded() -> None:
    found = secrets_of(SETTINGS)
    assert {KEY, "xoxb-1-2-secretbot", "discord.token.value", "pg%40secret", "pg@secret"} <= set(found)


def test_message_arguments_exceptions_and_stacks_are_redacted(capture) -> None:
    root, stream = capture
    install_log_privacy(SETTINGS, root=root)
    log = logging.getLogger("bot.somewhere")
    log.propagate = False
    log.addHandler(root.handlers[0])
    try:
        log.warning("calling with %s and %r", KEY, {"auth": f"Bearer {KEY}"})
        try:
            raise RuntimeError(f"server said: invalid key {KEY}, password pg@secret")
        except RuntimeError:
            log.exception("failed")
        log.info("stack", stack_info=True, extra={})
    finally:
        log.removeHandler(root.handlers[0])
        log.propagate = True
    out = stream.getvalue()
    assert KEY not in out and "pg@secret" not in out
    assert out.count(REDACTED) >= 4 and "RuntimeError" in out


def test_third_party_debug_is_dropped_and_own_debug_kept() -> None:
    redactor = SecretRedactor([KEY])

    def record(name: str, level: int) -> logging.LogRecord:
        return logging.LogRecord(name, level, __file__, 1, "payload", (), None)

    assert not redactor.filter(record("aiosqlite", logging.DEBUG))
    assert not redactor.filter(record("careerbot.slack", logging.DEBUG))  # bolt logs through it
    assert not redactor.filter(record("some.new.library", logging.DEBUG))
    assert redactor.filter(record("bot.brain", logging.DEBUG))
    assert redactor.filter(record("careerbot", logging.DEBUG))
    assert redactor.filter(record("aiosqlite", logging.WARNING))


def test_install_caps_chatty_loggers_and_is_idempotent(capture) -> None:
    root, _ = capture
    logging.getLogger("aiosqlite").setLevel(logging.DEBUG)
    install_log_privacy(SETTINGS, root=root)
    install_log_privacy(SETTINGS, root=root)
    assert logging.getLogger("aiosqlite").level == logging.WARNING
    assert logging.getLogger("slack_sdk").level >= logging.INFO
    assert sum(isinstance(f, SecretRedactor) for f in root.handlers[0].filters) == 1
