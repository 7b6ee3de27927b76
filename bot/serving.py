"""How `careerbot run` builds its brain, in one place, so `careerbot bench` measures the same thing.

Why a module of its own: the CLI, the brain's defaults, the bench and the ack benchmarks all read
these numbers, and the CLI must read them without importing the brain (start-up time).
"""

from __future__ import annotations

from typing import Any

__all__ = ["SERVING_BRAIN", "SERVING_MAX_WAITING", "SERVING_THREAD_NICE", "SERVING_WORKERS"]

SERVING_WORKERS = 4
"""Answer threads. Measured on the 2-core machine at 140 msg/s (docs/performance.md, 2026-12-02):
the answer path is CPU work, mostly under the GIL, and messages wait for their query embedding
without a thread (`Brain(prefetch=...)`), so a few threads keep both cores busy; more only queue
on the GIL ahead of the embedding batcher and the event loop. Not the number of conversations
served at once: that is bounded by admission (`SERVING_MAX_WAITING`)."""

SERVING_MAX_WAITING = 256
"""Messages admitted beyond the threads (waiting for a thread, their conversation's turn or
their embedding); past `SERVING_WORKERS + SERVING_MAX_WAITING` in hand, a "busy" reply at once."""

SERVING_THREAD_NICE = 10
"""Answer threads run at a lower OS priority than the event loop, so acks stay fast in a burst."""

SERVING_BRAIN: dict[str, Any] = {"workers": SERVING_WORKERS, "max_waiting": SERVING_MAX_WAITING,
                                 "thread_nice": SERVING_THREAD_NICE}
"""`Brain` options for serving (the prefetch hook is added by `bot.runtime.build_brain`)."""
