"""One conversation's messages wait for each other, in order; other conversations do not wait."""

from __future__ import annotations

import asyncio

from bot.turns import ConversationTurns


async def test_a_conversation_waits_its_turn_and_another_does_not() -> None:
    turns = ConversationTurns()
    order: list[str] = []
    release = asyncio.Event()

    async def first() -> None:
        async with turns.turn("a"):
            order.append("a1 in")
            await release.wait()
            order.append("a1 out")

    async def later(name: str, key: str) -> None:
        async with turns.turn(key):
            order.append(name)

    holder = asyncio.create_task(first())
    await asyncio.sleep(0)  # let it take conversation a's turn
    waiting = [asyncio.create_task(later("a2", "a")), asyncio.create_task(later("a3", "a"))]
    await later("b", "b")  # another conversation goes ahead while a's first message is in hand
    assert order == ["a1 in", "b"] and turns.active == 1
    release.set()
    await asyncio.gather(holder, *waiting)
    assert order == ["a1 in", "b", "a1 out", "a2", "a3"]  # in arrival order
    assert turns.active == 0  # nothing kept once a conversation has nothing in hand


async def test_a_failed_answer_gives_the_turn_back() -> None:
    turns = ConversationTurns()
    try:
        async with turns.turn("a"):
            raise RuntimeError("answer failed")
    except RuntimeError:
        pass
    async with turns.turn("a"):
        assert turns.active == 1
    assert turns.active == 0
