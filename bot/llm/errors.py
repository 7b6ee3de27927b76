"""Why an LLM answer failed, in a few words the logs, `Reply.data` and the tests can rely on.

Every failure ends the same way for the user (the offline composer answers, with a short note),
but operators need to tell a slow provider from a rate limit from a model that wrote garbage.
"""

from __future__ import annotations

import asyncio
import json

__all__ = ["AgentFailure", "failure_reason", "is_retryable"]


class AgentFailure(Exception):
    """The agent could not produce a safe answer; `reason` says why (see `failure_reason`)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def failure_reason(exc: BaseException) -> str:
    """A stable short name for `exc`: timeout, rate_limited, server_error, unreachable, ..."""
    if isinstance(exc, AgentFailure):
        return exc.reason
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
        return "timeout"
    from langchain_core.exceptions import (
        ModelAPIError,
        ModelAuthenticationError,
        ModelConnectionError,
        ModelRateLimitError,
        ModelTimeoutError,
    )

    if isinstance(exc, ModelTimeoutError):
        return "timeout"
    if isinstance(exc, ModelRateLimitError):
        return "rate_limited"
    if isinstance(exc, ModelAPIError):
        return "server_error"
    if isinstance(exc, ModelConnectionError):
        return "unreachable"
    if isinstance(exc, ModelAuthenticationError):
        return "auth_failed"
    status = _status(exc)
    if status == 429:
        return "rate_limited"
    if status is not None and status >= 500:
        return "server_error"
    if isinstance(exc, (json.JSONDecodeError, UnicodeDecodeError)):
        return "bad_response"
    if "Timeout" in type(exc).__name__:
        return "timeout"
    if "Connect" in type(exc).__name__:
        return "unreachable"
    return "model_error"


def is_retryable(exc: BaseException) -> bool:
    """Worth another attempt: rate limits, 5xx and dropped connections; never a timeout.

    A timed-out call already cost the user the whole per-call budget; repeating it would double
    the wait before the offline answer, which is the better outcome by then.
    """
    return failure_reason(exc) in ("rate_limited", "server_error", "unreachable")


def _status(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    if status is None:
        status = getattr(getattr(exc, "response", None), "status_code", None)
    return status if isinstance(status, int) else None
