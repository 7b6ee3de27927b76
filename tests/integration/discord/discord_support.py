"""Helpers shared by the Discord integration tests (kept out of conftest.py so they import by a unique name)."""

from __future__ import annotations

import asyncio
import struct
import zlib
from typing import Any

from bot.messages import Inbound, Reply


class SlowBrain:
    """The real brain, deliberately slowed down, to make the adapter defer."""

    def __init__(self, inner: Any, delay: float) -> None:
        self.inner = inner
        self.delay = delay

    async def handle(self, inbound: Inbound) -> Reply:
        await asyncio.sleep(self.delay)
        return await self.inner.handle(inbound)


def png_ok(data: bytes) -> bool:
    """A PNG signature and a sane IHDR size, without decoding the image."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n") or len(data) < 33:
        return False
    width, height = struct.unpack(">II", data[16:24])
    return 50 <= width <= 4000 and 50 <= height <= 4000 and zlib.crc32(data[12:29]) == struct.unpack(">I", data[29:33])[0]
