"""Prometheus metrics (names `careerbot_*`) on a registry owned by one running bot.

Why a registry per instance and not prometheus-client's global one: nothing is registered at
import time, and each test (or each bot in one process) counts only its own answers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from bot.messages import Inbound, Reply

__all__ = ["CONTENT_TYPE", "INBOX_STATES", "LATENCY_BUCKETS", "Metrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
"""Dense around the 100 ms target, wide enough for an LLM call."""
INBOX_STATES = ("pending", "in_flight", "retried", "given_up")

_log = logging.getLogger(__name__)


class Metrics:
    """The bot's counters; `observe` is an answer observer for the brain."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.answers = Counter("careerbot_answers", "Answers given, by platform and intent",
                               ["platform", "intent"], registry=r)
        self.latency = Histogram("careerbot_answer_seconds", "Time from receiving a message to its reply",
                                 ["platform"], buckets=LATENCY_BUCKETS, registry=r)
        self.feedback = Counter("careerbot_feedback_votes", "Helpful / Not helpful presses recorded",
                                ["vote"], registry=r)
        self.llm_calls = Counter("careerbot_llm_calls", "Answers the LLM agent was asked for, by outcome",
                                 ["outcome"], registry=r)
        self.llm_fallbacks = Counter("careerbot_llm_fallbacks", "LLM failures answered offline instead, by reason",
                                     ["reason"], registry=r)
        self.rate_limited = Counter("careerbot_rate_limited", "Messages refused by the per-user rate limit",
                                    ["platform"], registry=r)
        self.inbox = Gauge("careerbot_inbox_messages", "Durable inbox messages by state, read at scrape time",
                           ["state"], registry=r)
        self.scrape_errors = Counter("careerbot_scrape_errors", "Metrics reads from the store that failed or timed out",
                                     registry=r)

    def observe(self, inbound: Inbound, reply: Reply, seconds: float) -> None:
        """Count one answer (called by the brain after every `handle`)."""
        platform = inbound.platform or "unknown"
        intent = str(reply.intent or "unknown")
        self.answers.labels(platform, intent).inc()
        self.latency.labels(platform).observe(max(seconds, 0.0))
        if intent == "rate_limited":
            self.rate_limited.labels(platform).inc()
        vote = reply.data.get("vote") if reply.data else None
        if intent == "feedback" and vote in ("up", "down"):
            self.feedback.labels(vote).inc()
        llm = reply.data.get("llm_outcome") if reply.data else None
        if llm == "answered":
            self.llm_calls.labels("answered").inc()
        elif llm == "fallback":
            self.llm_calls.labels("fallback").inc()
            self.llm_fallbacks.labels(_reason(reply.data.get("llm_fallback"))).inc()

    async def render(self, store: Any = None, *, executor: Executor | None = None, timeout: float = 2.0) -> bytes:
        """The exposition text; the store's inbox counts are read off the event loop first.

        A store without `inbox_stats` (no durable inbox) exports no inbox series; a slow or failing
        store costs the inbox series of this scrape, never the scrape.
        """
        stats_of: Callable[[], dict[str, int]] | None = getattr(store, "inbox_stats", None)
        if stats_of is not None:
            loop = asyncio.get_running_loop()
            try:
                stats = await asyncio.wait_for(loop.run_in_executor(executor, stats_of), timeout)
            except Exception as exc:  # a scrape must answer even when the database does not
                self.scrape_errors.inc()
                _log.warning("metrics: could not read the inbox counts (%s)", type(exc).__name__)
            else:
                for state in INBOX_STATES:
                    self.inbox.labels(state).set(int(stats.get(state, 0)))
        return generate_latest(self.registry)


def _reason(raw: Any) -> str:
    """A bounded label value: the LLM error's short reason, never free text."""
    text = str(raw or "unknown").strip().lower()
    word = "".join(ch if ch.isalnum() or ch in "_-" else "_" for ch in text)[:32]
    return word or "unknown"
