"""One message of a conversation answered at a time, in the order they arrived.

Why: an answer reads the conversation's state (topic, profile, last answer), changes it and
saves it. Two messages of one conversation answered at once both read the old state and the
later save wins, so "and the salary?" could lose the topic its predecessor set. Queuing a
conversation's messages behind each other also means that N conversations keep at most N
answers in progress, whatever their pace: the answer threads serve conversations, not a pile of
one person's messages.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

__all__ = ["ConversationTurns"]


class ConversationTurns:
    """A FIFO lock per conversation key, kept only while a message of that conversation is in hand.

    Runs on the event loop (no thread locks): `asyncio.Lock` wakes waiters in arrival order.
    """

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @property
    def active(self) -> int:
        """Conversations with a message in hand now (answering or waiting their turn)."""
        return len(self._locks)

    @asynccontextmanager
    async def turn(self, key: str) -> AsyncIterator[None]:
        """Wait until the conversation's earlier messages are answered, then hold its turn."""
        lock, holders = self._locks.get(key, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[key] = (lock, holders + 1)
        try:
            async with lock:
                yield
        finally:
            lock, holders = self._locks[key]
            if holders == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, holders - 1)
