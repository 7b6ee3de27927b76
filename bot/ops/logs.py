"""Logging set-up: text or one JSON object per line, quiet libraries, one INFO line per answer.

The answer line carries what an operator needs to see traffic and latency (platform, intent,
latency, number of sources, a hash of the user) and never the user's text: chat messages are
personal data and do not belong in log storage.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import time
from typing import IO, Any

from bot.messages import Inbound, Reply

__all__ = ["ANSWER_LOGGER", "AnswerLog", "JsonFormatter", "configure_logging", "hash_user", "quiet_libraries"]

ANSWER_LOGGER = "careerbot.answers"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Loggers that are chatty at INFO/DEBUG without telling an operator anything actionable.
_QUIET = {
    "sentence_transformers": logging.WARNING, "transformers": logging.WARNING, "httpx": logging.WARNING,
    "faiss": logging.WARNING, "urllib3": logging.WARNING, "filelock": logging.WARNING,
    "matplotlib": logging.WARNING, "PIL": logging.WARNING,  # matplotlib's font scan: hundreds of DEBUG lines
    "aiohttp.access": logging.WARNING, "asyncio": logging.WARNING,
    "discord.gateway": logging.WARNING,  # a line per heartbeat-level event at INFO
}
# The fields of a LogRecord itself; anything else on a record came in through `extra=`.
_RECORD_FIELDS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, any `extra` fields, the traceback."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_FIELDS and not key.startswith("_"):
                payload[key] = value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            payload["stack"] = self.formatStack(record.stack_info)
        return json.dumps(payload, ensure_ascii=False)


class _LibraryNoise(logging.Filter):
    """Drops warnings that libraries print at every start about features the bot does not use."""

    _MESSAGES = ("voice will NOT be supported",  # discord.py: PyNaCl / davey (voice only)
                 "`token` will be unused")        # slack-bolt, when a ready client is passed in

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(m in message for m in self._MESSAGES)


def quiet_libraries() -> None:
    for name, level in _QUIET.items():
        logging.getLogger(name).setLevel(level)


def configure_logging(level: str = "INFO", fmt: str = "text", *, stream: IO[str] | None = None) -> logging.Handler:
    """Install one stderr handler on the root logger (replacing earlier ones); returns it."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(_LibraryNoise())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    quiet_libraries()
    logging.captureWarnings(True)
    return handler


def hash_user(user_key: str) -> str:
    """A short stable pseudonym: the same user's answers can be grouped, the id is not in the log."""
    return hashlib.sha256(f"careerbot-user:{user_key}".encode()).hexdigest()[:12]


class AnswerLog:
    """An answer observer: one INFO line per answer, with fields (JSON) or key=value (text)."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger or logging.getLogger(ANSWER_LOGGER)

    def __call__(self, inbound: Inbound, reply: Reply, seconds: float) -> None:
        fields = {"platform": inbound.platform, "kind": str(getattr(inbound.kind, "value", inbound.kind)),
                  "intent": str(reply.intent), "latency_ms": round(seconds * 1000, 1),
                  "sources": len(reply.sources), "user": hash_user(inbound.user_key)}
        self.logger.info("answer " + " ".join(f"{k}={v}" for k, v in fields.items()), extra=fields)
