"""Background work started after Slack has been acknowledged.

Why not fire-and-forget `asyncio.ensure_future`: the event loop keeps only weak references to
tasks, an exception in one would vanish, and a stopping worker could not wait for the answers it
owes. `BackgroundJobs` keeps every task until it ends, logs failures, and can drain on shutdown.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

__all__ = ["BackgroundJobs"]


class BackgroundJobs:
    """A set of running tasks with a bounded drain."""

    def __init__(self, logger: logging.Logger) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._logger = logger

    def __len__(self) -> int:
        return len(self._tasks)

    def spawn(self, coro: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            self._logger.error("slack job %s failed: %s", task.get_name(), exc, exc_info=exc)

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait up to `timeout` seconds for running answers, then cancel the rest."""
        if not self._tasks:
            return
        done, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
