"""The durable inbox: store semantics on SQLite and PostgreSQL, and the async worker's lifecycle.

Store tests run on both backends (the `backend` fixture from test_store.py); worker tests use a
real SQLite file. Nothing is mocked: leases expire by setting them to zero seconds, not by sleeping.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from test_store import Backend, backend  # noqa: F401  (fixture)

from bot.inbox import Delivery, InboxWorker, uninterrupted
from bot.store.base import InboxItem
from bot.store.sql import SqlStore
from bot.store.sqlite import SqliteStore


def item(key: str = "slack:T:C:1", user: str = "slack:U1") -> InboxItem:
    return InboxItem(key=key, platform="slack", user_key=user, conversation_key=f"slack:T:C:{user}",
                     payload={"type": "message", "text": "what does an ML engineer do?"}, steps={})


def claim(store: SqlStore, owner: str, *, max_attempts: int = 3) -> tuple[list[InboxItem], list[InboxItem]]:
    return store.inbox_claim(owner, platforms=("slack",), limit=10, lease_seconds=60, max_attempts=max_attempts)


@pytest.fixture
def store(backend: Backend) -> SqlStore:  # noqa: F811
    return backend.open()


def test_put_is_once_per_key_and_a_live_lease_is_not_claimable(store: SqlStore) -> None:
    assert store.inbox_put(item(), owner="w1", lease_seconds=60) is True
    assert store.inbox_put(item(), owner="w2", lease_seconds=60) is False, "a redelivery is not new"
    assert claim(store, "w2") == ([], [])
    assert store.inbox_stats() == {"pending": 0, "in_flight": 1, "retried": 0, "given_up": 0}


def test_an_expired_lease_is_claimed_by_exactly_one_worker_with_its_steps(store: SqlStore) -> None:
    store.inbox_put(item(), owner="dead", lease_seconds=0)
    assert store.inbox_step("slack:T:C:1", "dead", "placeholder", "1700.1")
    first, _ = claim(store, "w1")
    second, _ = claim(store, "w2")
    assert [i.key for i in first] == ["slack:T:C:1"] and second == []
    assert first[0].steps == {"placeholder": "1700.1"} and first[0].attempts == 2
    assert not store.inbox_step("slack:T:C:1", "dead", "answer", "x"), "the dead owner lost the lease"


def test_a_drained_hand_back_stays_claimable_and_costs_no_attempt(store: SqlStore) -> None:
    store.inbox_put(item(), owner="w1", lease_seconds=60)
    assert store.inbox_release("slack:T:C:1", "w1", error="drained", counted=False, max_attempts=3) == "pending"
    claimed, _ = claim(store, "w2")
    assert claimed[0].attempts == 1
    assert store.inbox_stats()["in_flight"] == 1


def test_failures_are_retried_then_given_up_and_logged_once(store: SqlStore) -> None:
    store.inbox_put(item(), owner="w1", lease_seconds=60)
    assert store.inbox_release("slack:T:C:1", "w1", error="SlackApiError", counted=True, max_attempts=2) == "pending"
    claimed, _ = claim(store, "w2", max_attempts=2)
    assert claimed[0].attempts == 2
    assert store.inbox_release("slack:T:C:1", "w2", error="SlackApiError", counted=True, max_attempts=2) == "given_up"
    assert claim(store, "w3", max_attempts=2) == ([], [])
    assert store.inbox_stats() == {"pending": 0, "in_flight": 0, "retried": 1, "given_up": 1}
    assert store.inbox_get("slack:T:C:1").payload == {}, "a given-up row keeps no user text"


def test_an_expired_row_at_its_attempt_limit_is_given_up_by_the_sweep(store: SqlStore) -> None:
    store.inbox_put(item(), owner="dead", lease_seconds=0)
    claimed, given_up = claim(store, "w1", max_attempts=1)
    assert claimed == [] and [i.key for i in given_up] == ["slack:T:C:1"]


def test_finish_drops_the_payload_and_keeps_the_key(store: SqlStore) -> None:
    store.inbox_put(item(), owner="w1", lease_seconds=60)
    store.inbox_finish("slack:T:C:1", "w1")
    assert store.inbox_get("slack:T:C:1").payload == {}
    assert store.inbox_put(item(), owner="w2", lease_seconds=60) is False
    assert claim(store, "w2") == ([], [])


def test_forget_removes_inbox_rows_and_event_keys_naming_the_user(store: SqlStore) -> None:
    store.inbox_put(item("slack:T:C:1", "slack:U1"), owner=None, lease_seconds=0)
    store.inbox_put(item("slack:T:C:2", "slack:U2"), owner=None, lease_seconds=0)
    store.claim_event("slack:T:action:U1:cb:quiz:1700.5")
    store.claim_event("slack:T:action:U12:cb:quiz:1700.6")
    store.forget_user("slack:U1")
    assert store.inbox_get("slack:T:C:1") is None
    assert store.inbox_get("slack:T:C:2") is not None
    assert store.claim_event("slack:T:action:U1:cb:quiz:1700.5") is True, "U1's key is gone"
    assert store.claim_event("slack:T:action:U12:cb:quiz:1700.6") is False, "U12 is someone else"


def test_prune_deletes_rows_older_than_the_retention(store: SqlStore) -> None:
    store.inbox_put(item(), owner=None, lease_seconds=0)
    store.claim_event("old-key")
    assert store.prune_events(3600) == 0
    assert store.prune_events(-1) == 2
    assert store.inbox_get("slack:T:C:1") is None
    assert store.inbox_stats()["pending"] == 0


# --- the async worker (real SQLite file) ------------------------------------------------------


@pytest.fixture
def sqlite_store(tmp_path: Path) -> SqliteStore:
    s = SqliteStore(tmp_path / "inbox.sqlite3")
    yield s
    s.close()


async def test_cancelled_work_is_handed_back_and_resumed_by_another_worker(sqlite_store: SqliteStore) -> None:
    started = asyncio.Event()
    cleaned: list[str] = []

    async def slow(delivery: Delivery) -> None:
        await delivery.record("placeholder", "1700.9")
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cleaned.append(delivery.key)
            await delivery.record("placeholder", None)
            raise

    first = InboxWorker(sqlite_store, platforms=("slack",), owner="first")
    it = item()
    first.start(it, slow, recorded=first.record(it))
    await started.wait()
    assert await first.drain(0) == (0, 1)
    assert cleaned == ["slack:T:C:1"]
    assert sqlite_store.inbox_state("slack:T:C:1") == "pending"

    answered: list[dict] = []

    async def answer(delivery: Delivery) -> None:
        answered.append(dict(delivery.steps))

    second = InboxWorker(sqlite_store, platforms=("slack",), owner="second", resume=lambda _: answer)
    assert await second.sweep_once() == 1
    assert await second.wait_idle(5)
    assert answered == [{"placeholder": None}]
    assert sqlite_store.inbox_state("slack:T:C:1") == "done"
    assert sqlite_store.inbox_get("slack:T:C:1").attempts == 1, "the hand-back cost no attempt"
    first.close()
    second.close()


async def test_failed_work_is_not_marked_done(sqlite_store: SqliteStore) -> None:
    async def broken(delivery: Delivery) -> None:
        raise RuntimeError("platform said no")

    worker = InboxWorker(sqlite_store, platforms=("slack",), owner="w", max_attempts=2)
    it = item()
    worker.start(it, broken, recorded=worker.record(it))
    assert await worker.wait_idle(5)
    assert sqlite_store.inbox_state("slack:T:C:1") == "pending"
    assert sqlite_store.inbox_stats()["pending"] + sqlite_store.inbox_stats()["in_flight"] == 1
    worker.close()


async def test_a_send_under_way_finishes_before_the_cancellation(sqlite_store: SqliteStore) -> None:
    sent: list[str] = []

    async def send() -> None:
        await asyncio.sleep(0.05)
        sent.append("answer")

    task = asyncio.ensure_future(uninterrupted(send()))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sent == ["answer"]


async def test_a_locked_database_delays_store_calls_not_the_loop(sqlite_store: SqliteStore) -> None:
    worker = InboxWorker(sqlite_store, platforms=("slack",), owner="w", call_timeout=0.2)
    locker = sqlite3.connect(sqlite_store.path, isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")
    try:
        recorded = worker.record(item())
        ticks = 0
        while not recorded.done() and ticks < 20:
            await asyncio.sleep(0.01)  # the loop keeps running while the write waits for the lock
            ticks += 1
        assert ticks == 20 and not recorded.done(), "the write waits for the lock off the loop"
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert await recorded is True
    worker.close()
