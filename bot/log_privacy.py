"""Keeping secrets and what people wrote out of the logs, at every level including DEBUG.

Two measures, because each covers what the other cannot:

- **Third-party loggers are capped.** At DEBUG, libraries log what passes through them: aiosqlite
  the arguments and results of every statement (conversation memory, model answers), slack_sdk and
  slack_bolt request bodies and payloads, discord.py the JSON it sends and receives, openai the
  request options with the messages, websockets every frame. None of that is needed to run the bot,
  so those loggers stay at INFO or WARNING whatever `CAREERBOT_LOG_LEVEL` says; DEBUG applies to the
  project's own loggers, which log ids, hashes and counts, never message text.
- **Configured secrets are redacted** from every record that reaches a root handler (its message,
  its exception text, its stack), as a last line of defence should any code path put a token, key
  or database password into a log line.

`install_log_privacy(settings)` is called by the entry point after the handlers are configured.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import quote, unquote, urlsplit

from bot.config import Settings

__all__ = ["CAPPED_LOGGERS", "OWN_LOGGERS", "SecretRedactor", "install_log_privacy", "secrets_of"]

REDACTED = "[redacted]"
MIN_SECRET_LENGTH = 6
"""Shorter values would match ordinary words; no real token or key is this short."""

OWN_LOGGERS = ("bot", "adapters", "knowledge", "careerbot", "__main__")
"""The project's loggers: the only ones whose DEBUG records are let through."""

CAPPED_LOGGERS: dict[str, int] = {
    # Logger names -> the lowest level let through. Each logs payloads (user text, model output,
    # request bodies or headers) below that level.
    "aiosqlite": logging.WARNING,
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "openai": logging.WARNING,
    "anthropic": logging.WARNING,
    "langchain": logging.WARNING,
    "langchain_core": logging.WARNING,
    "langchain_openai": logging.WARNING,
    "langgraph": logging.WARNING,
    "slack_sdk": logging.INFO,
    "slack_bolt": logging.INFO,
    # slack_bolt and slack_sdk log through the logger the Slack adapter hands them.
    "careerbot.slack": logging.INFO,
    "discord": logging.INFO,
    "websockets": logging.INFO,
    "aiohttp": logging.INFO,
    "psycopg": logging.INFO,
    "psycopg_pool": logging.INFO,
    "urllib3": logging.WARNING,
    "asyncio": logging.INFO,
    "sentence_transformers": logging.WARNING,
    "transformers": logging.WARNING,
    "faiss": logging.WARNING,
    "filelock": logging.WARNING,
    "fsspec": logging.WARNING,
    "PIL": logging.WARNING,
    "matplotlib": logging.WARNING,
}


def secrets_of(settings: Settings) -> tuple[str, ...]:
    """Every configured secret worth redacting, including the database password, longest first."""
    values = list(settings.secrets)
    password = urlsplit(settings.database_url).password if "://" in settings.database_url else None
    if password:
        values += [password, unquote(password)]
    return _variants(values)


def _variants(values: Iterable[str]) -> tuple[str, ...]:
    """Each secret as written and as it appears inside a URL (percent-encoded)."""
    out: set[str] = set()
    for value in values:
        if value and len(value) >= MIN_SECRET_LENGTH:
            out.add(value)
            out.add(quote(value, safe=""))
    return tuple(sorted(out, key=len, reverse=True))


class SecretRedactor(logging.Filter):
    """A handler filter: drops third-party DEBUG records and replaces secrets with `[redacted]`.

    It rewrites the record in place (message rendered with its arguments, exception and stack text
    pre-rendered), so every formatter behind the handler, text or JSON, sees the redacted version.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = _variants(secrets)
        self._pattern = re.compile("|".join(re.escape(s) for s in self.secrets)) if self.secrets else None
        self._exception_formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.INFO and not _is_own(record.name):
            return False
        if self._pattern is None:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a malformed call (wrong argument count): keep the template only
            message = str(record.msg)
        record.msg, record.args = self._redact(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = self._exception_formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self._redact(record.stack_info)
        return True

    def _redact(self, text: str) -> str:
        assert self._pattern is not None
        return self._pattern.sub(REDACTED, text)


def _is_own(name: str) -> bool:
    if name == "careerbot.slack" or name.startswith("careerbot.slack."):
        return False  # third-party records arrive through this logger (see CAPPED_LOGGERS)
    return any(name == own or name.startswith(own + ".") for own in OWN_LOGGERS)


def install_log_privacy(settings: Settings, *, root: logging.Logger | None = None) -> SecretRedactor:
    """Cap the chatty third-party loggers and put a `SecretRedactor` on every root handler.

    Idempotent: calling it again (after another module added a handler) replaces the earlier
    filters instead of stacking them. Returns the filter, for handlers added later.
    """
    configured = logging.getLevelName(settings.log_level)
    configured = configured if isinstance(configured, int) else logging.INFO
    for name, cap in CAPPED_LOGGERS.items():
        # Never below the cap, and never more verbose than the operator asked for.
        level = max(cap, configured)
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET or logger.level < level:
            logger.setLevel(level)
    redactor = SecretRedactor(secrets_of(settings))
    root = root or logging.getLogger()
    handlers = [*root.handlers]
    if logging.lastResort is not None:
        handlers.append(logging.lastResort)
    for handler in handlers:
        for old in [f for f in handler.filters if isinstance(f, SecretRedactor)]:
            handler.removeFilter(old)
        handler.addFilter(redactor)
    return redactor
