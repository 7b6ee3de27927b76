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

from bot.inbox import Delivery, InboxWorker, StoreTimeout, uninterrupted
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


def test_a_batch_is_new_once_per_key_and_keeps_each_owner(store: SqlStore) -> None:
    fresh = store.inbox_put_many([(item("slack:T:C:1"), "w1"), (item("slack:T:C:2", "slack:U2"), None),
                                  (item("slack:T:C:1"), "w2")], lease_seconds=60)
    assert fresh == [True, True, False]
    claimed, _ = claim(store, "w3")
    assert [i.key for i in claimed] == ["slack:T:C:2"], "only the unowned row is claimable"


def test_renewing_many_leases_skips_rows_another_worker_holds(store: SqlStore) -> None:
    store.inbox_put(item("slack:T:C:1"), owner="w1", lease_seconds=0)
    store.inbox_put(item("slack:T:C:2", "slack:U2"), owner="w1", lease_seconds=0)
    store.inbox_claim("w2", platforms=("slack",), limit=1, lease_seconds=60, max_attempts=3)
    assert store.inbox_renew_many(["slack:T:C:1", "slack:T:C:2"], "w1", 60) == 1
    assert claim(store, "w3") == ([], []), "both leases are live: one renewed, one taken over"
    assert store.inbox_renew_many([], "w1", 60) == 0


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


# --- group commit, writes that outlive their timeout, batched renewals, drain ---------------------


async def test_events_arriving_during_a_write_are_committed_together(sqlite_store: SqliteStore) -> None:
    worker = InboxWorker(sqlite_store, platforms=("slack",), owner="w")
    locker = sqlite3.connect(sqlite_store.path, isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")  # the first batch waits here while the rest queue up
    try:
        futures = [worker.record(item(f"slack:T:C:{i}", f"slack:U{i}")) for i in range(50)]
        futures.append(worker.record(item("slack:T:C:7", "slack:U7")))  # a redelivery in the same burst
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    results = await asyncio.gather(*futures)
    assert results == [True] * 50 + [False], "each key is new once, even inside one batch"
    assert worker.recorder.batches <= 2, "one transaction for everything that queued during a write"
    assert sqlite_store.inbox_stats()["in_flight"] == 50
    worker.close()


async def test_a_row_the_database_refuses_fails_only_itself(sqlite_store: SqliteStore) -> None:
    worker = InboxWorker(sqlite_store, platforms=("slack",), owner="w")
    bad = InboxItem(key="slack:T:C:bad", platform="slack", user_key="slack:U9", conversation_key="slack:T:C:U9",
                    payload={"not json": {1, 2}}, steps={})
    good = [worker.record(item(f"slack:T:C:{i}", f"slack:U{i}")) for i in range(3)]
    refused = worker.record(bad)
    assert await asyncio.gather(*good) == [True, True, True]
    with pytest.raises(TypeError):
        await refused
    assert sqlite_store.inbox_get("slack:T:C:bad") is None
    worker.close()


async def test_a_write_that_times_out_still_lands(sqlite_store: SqliteStore) -> None:
    """A finish queued behind slow writes used to be cancelled by its timeout: the row stayed
    leased, its lease expired, and another worker posted the answer a second time."""
    sqlite_store.inbox_put(item(), owner="w", lease_seconds=60)
    worker = InboxWorker(sqlite_store, platforms=("slack",), owner="w", call_timeout=30)
    locker = sqlite3.connect(sqlite_store.path, isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")
    try:
        busy = [asyncio.create_task(worker.call(sqlite_store.inbox_renew, "slack:T:C:1", "w", 60)) for _ in range(4)]
        await asyncio.sleep(0)  # the four calls occupy the whole pool, so the finish has to queue
        with pytest.raises(StoreTimeout):
            await worker.call(sqlite_store.inbox_finish, "slack:T:C:1", "w", timeout=0.05)
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    await asyncio.gather(*busy)
    worker._executor.shutdown(wait=True)  # every call submitted so far has run
    assert sqlite_store.inbox_state("slack:T:C:1") == "done"
    worker.close()


async def test_one_write_renews_every_running_answer(sqlite_store: SqliteStore) -> None:
    gate = asyncio.Event()

    async def held(delivery: Delivery) -> None:
        await gate.wait()

    worker = InboxWorker(sqlite_store, platforms=("slack",), owner="w", lease_seconds=60)
    for i in range(300):
        it = item(f"slack:T:C:{i}", f"slack:U{i}")
        worker.start(it, held, recorded=worker.record(it))
    while worker.recorder.written < 300:
        await asyncio.sleep(0.01)
    # Expire one lease and let another worker take it over: renewal must not take it back.
    sqlite_store._write("UPDATE inbox SET lease_until = 0 WHERE key = ?", ("slack:T:C:0",))
    other, _ = claim(sqlite_store, "other")
    assert [i.key for i in other] == ["slack:T:C:0"]
    sqlite_store._write("UPDATE inbox SET lease_until = 0 WHERE owner = 'w'")
    assert await worker.renew_leases() == 299
    assert claim(sqlite_store, "third") == ([], []), "no live answer's lease is left to expire"
    gate.set()
    assert await worker.wait_idle(30)
    worker.close()


async def test_events_recorded_while_draining_are_written_for_another_worker(sqlite_store: SqliteStore) -> None:
    """Each of them may already have been acked: cancelling the queue on the way out lost them."""
    worker = InboxWorker(sqlite_store, platforms=("slack",), owner="w")
    worker.accepting = False  # the drain has begun
    locker = sqlite3.connect(sqlite_store.path, isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")
    try:
        futures = [worker.record(item(f"slack:T:C:{i}", f"slack:U{i}")) for i in range(5)]
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    worker.close()  # writes the queue instead of cancelling it
    assert await asyncio.gather(*futures) == [True] * 5
    claimed, _ = claim(sqlite_store, "next")
    assert sorted(i.key for i in claimed) == [f"slack:T:C:{i}" for i in range(5)], "unowned, claimable at once"


def test_the_inbox_recorder_writes_ahead_of_queued_answer_writes(tmp_path: Path) -> None:
    """SQLite's busy handler polls with sleeps and lets no one go first: with dozens of answer
    threads writing, a record an ack waited for used to wait hundreds of milliseconds."""
    import threading

    from bot.store.sqlite import WriteGate

    gate = WriteGate()
    order: list[str] = []
    release = threading.Event()

    def first() -> None:
        with gate.hold(urgent=False):
            release.wait()

    def writer(name: str, urgent: bool) -> None:
        with gate.hold(urgent=urgent):
            order.append(name)

    def wait_until_waiting(n: int) -> None:
        for _ in range(10_000):
            if gate.waiting == n:
                return
            threading.Event().wait(0.001)
        raise AssertionError(f"{gate.waiting} writers waiting, expected {n}")

    holder = threading.Thread(target=first)
    holder.start()
    answers = [threading.Thread(target=writer, args=(f"answer-{i}", False)) for i in range(5)]
    for t in answers:
        t.start()
    wait_until_waiting(5)
    record = threading.Thread(target=writer, args=("inbox", True))
    record.start()
    wait_until_waiting(6)
    release.set()
    for t in [holder, record, *answers]:
        t.join(10)
    assert order[0] == "inbox" and sorted(order[1:]) == [f"answer-{i}" for i in range(5)]


async def test_a_worker_killed_between_record_and_ack_loses_and_doubles_nothing(sqlite_store: SqliteStore) -> None:
    """The record committed, the process died before acking: Slack retries on another worker,
    which acks without answering (the event is known), then resumes it once the lease is gone."""
    dead = InboxWorker(sqlite_store, platforms=("slack",), owner="dead", lease_seconds=0)
    assert await dead.record(item()) is True  # and then SIGKILL: no answer, no ack
    dead.close()

    answered: list[str] = []

    async def answer(delivery: Delivery) -> None:
        answered.append(delivery.key)

    live = InboxWorker(sqlite_store, platforms=("slack",), owner="live", resume=lambda _: answer)
    retry = item()
    live.start(retry, answer, recorded=live.record(retry))  # Slack's retry of the same event
    assert await live.wait_idle(5)
    assert answered == [], "the retry is acked as known, not answered"
    assert await live.sweep_once() == 1
    assert await live.wait_idle(5)
    assert answered == ["slack:T:C:1"] and sqlite_store.inbox_state("slack:T:C:1") == "done"
    live.close()


async def test_the_sweeper_claims_only_what_it_has_room_for(sqlite_store: SqliteStore) -> None:
    """A dead worker's backlog is claimed in full batches as fast as there is room, not 50 rows
    per sweep interval, and never past `max_running` on one worker."""
    for i in range(5):
        sqlite_store.inbox_put(item(f"slack:T:C:{i}", f"slack:U{i}"), owner=None, lease_seconds=0)
    gate = asyncio.Event()

    async def held(delivery: Delivery) -> None:
        await gate.wait()

    worker = InboxWorker(sqlite_store, platforms=("slack",), owner="w", resume=lambda _: held, max_running=2)
    assert await worker.sweep_once() == 2
    assert await worker.sweep_once() == 0, "no room until an answer finishes"
    gate.set()
    assert await worker.wait_idle(5)
    assert await worker.sweep_once() == 2
    assert await worker.wait_idle(5)
    worker.close()
