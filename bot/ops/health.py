"""Liveness and readiness.

`/healthz` says the process answers HTTP at all (restart it if not). `/readyz` says it can answer
users: the knowledge index is loaded, the store answers a read within the timeout, and every
platform this process serves is connected. The store is read on a one-thread executor of its
own: a hung database makes probes time out (not ready) without piling up threads or blocking the
event loop that serves the chat platforms.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

__all__ = ["Health"]

ConnectedFn = Callable[[], bool | Awaitable[bool]]


class Health:
    """Readiness checks; adapters register their connection state with `add_platform`."""

    def __init__(self, store: Any, *, index_loaded: Callable[[], bool], timeout: float = 2.0) -> None:
        self.store = store
        self.index_loaded = index_loaded
        self.timeout = timeout
        self._platforms: dict[str, ConnectedFn] = {}
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ops-probe")

    def add_platform(self, name: str, connected: ConnectedFn) -> None:
        """Make readiness depend on `connected()`: a bool, or a coroutine (awaited with the timeout).

        Called on the event loop, so a plain function must not block.
        """
        self._platforms[name] = connected

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)

    async def ready(self) -> tuple[bool, dict[str, str]]:
        """(ready, {check: "ok" or why not}); never raises."""
        checks: dict[str, str] = {}
        try:
            checks["index"] = "ok" if self.index_loaded() else "not loaded"
        except Exception as exc:
            checks["index"] = f"error: {type(exc).__name__}"
        checks["store"] = await self._store_check()
        for name, connected in sorted(self._platforms.items()):
            try:
                state = connected()
                if inspect.isawaitable(state):
                    state = await asyncio.wait_for(state, self.timeout)
                checks[name] = "ok" if state else "not connected"
            except TimeoutError:
                checks[name] = f"no answer within {self.timeout:g} s"
            except Exception as exc:
                checks[name] = f"error: {type(exc).__name__}"
        return all(v == "ok" for v in checks.values()), checks

    async def _store_check(self) -> str:
        ping = getattr(self.store, "ping", None) or (lambda: self.store.load_conversation("readyz:probe"))
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(loop.run_in_executor(self.executor, ping), self.timeout)
        except TimeoutError:
            return f"no answer within {self.timeout:g} s"
        except Exception as exc:
            return f"error: {type(exc).__name__}"
        return "ok"
