"""The async side of the durable inbox: record before the ack, answer, resume, drain.

Why this exists: an acknowledged Slack event is never redelivered, and a Discord gateway event is
never redelivered at all, so the only copy of a question a worker holds after the ack is the one
in the store. Adapters record every event here first, then answer it through `InboxWorker.run`,
which records each delivery step, finishes the row when the answer is out, and hands it back
(failed, cancelled, drained) so another worker resumes it. A sweeper claims rows whose owner died.

New events are written by one recorder thread with group commit: every event that arrives while
a batch is being written goes into the next batch, one transaction for all of them, and each
waiting ack is released when its batch commits. Why: the ack of every event waits for its record,
and under a burst a shared pool of threads writing one event per transaction queued acks behind
answer work and each other. The other inbox writes (steps, finish, hand-back, one lease renewal
for all running answers) run on a small pool with a timeout for the caller; a write that times
out still runs, so a slow database delays it instead of dropping it. Neither ever blocks the
event loop (acks, health checks, other people's answers).
Platform-neutral: adapters pass in what to do with an item; nothing here knows Slack or Discord.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import socket
import threading
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bot.store.base import InboxItem, Store

__all__ = ["Delivery", "InboxWorker", "StoreTimeout", "uninterrupted", "worker_id"]

_T = TypeVar("_T")
_log = logging.getLogger("careerbot.inbox")


class StoreTimeout(Exception):
    """A store call did not finish within its timeout (the database is locked or unreachable)."""


def worker_id() -> str:
    """Who owns a lease: host, pid and a random part (a restarted process is a new owner)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass
class Delivery:
    """One claimed event being answered: its key, payload and the steps already sent.

    Adapters read `steps` to skip or edit what a previous attempt already posted, and call
    `record` right after each send, so a resumed answer never posts the same thing twice.
    """

    item: InboxItem
    worker: InboxWorker
    steps: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.item.key

    @property
    def payload(self) -> dict[str, Any]:
        return self.item.payload

    async def record(self, name: str, value: Any, *, durable: bool = True) -> None:
        """Persist one step; if the lease was lost meanwhile, stop (another worker owns it now).

        `durable=False` keeps the step in memory only: for the last send of an answer, when the
        finish that follows at once is the durable mark (a done row is never resumed), so the
        answer costs one write instead of two.
        """
        self.steps[name] = value
        if not durable:
            return
        try:
            held = await self.worker.call(self.worker.store.inbox_step, self.key, self.worker.owner, name, value)
        except StoreTimeout:
            _log.warning("could not record step %s of %s in time; continuing", name, self.key)
            return
        if not held:
            raise LeaseLost(self.key)


async def uninterrupted(coro: Awaitable[_T], *, grace: float = 5.0) -> _T:
    """Await `coro`; if cancelled meanwhile, let it finish (up to `grace` s) before re-raising.

    Why: a drain that cancels an answer in the middle of a send would not know whether the
    platform got the message; letting the send finish (and record its step) means the worker
    that resumes the event skips it instead of posting it a second time.
    """
    inner = asyncio.ensure_future(coro)
    try:
        return await asyncio.shield(inner)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait({inner}, timeout=grace)
        raise


class LeaseLost(Exception):
    """Another worker took the event over (this one was too slow); stop without finishing it."""


Work = Callable[[Delivery], Awaitable[None]]
Resume = Callable[[InboxItem], Work | None]


@dataclass
class _Put:
    item: InboxItem
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[bool]


def _settle(future: asyncio.Future[bool], fresh: bool | None, error: BaseException | None) -> None:
    if future.done():  # the waiter gave up (cancelled); the row is written all the same
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(bool(fresh))


class Recorder:
    """One thread that writes new events in batches: one transaction per batch (group commit).

    Why a single writer: every waiting ack costs one commit's latency plus the batch's, not a
    place in a queue shared with answer work; concurrent inserts from several threads would only
    queue on the database's write lock anyway (SQLite has one writer). The thread starts with
    the first event and is a daemon, so a stalled database never keeps the process from exiting.

    Args:
        store: where rows go (`Store.inbox_put_many`).
        owner: called at write time: the owner to record (None once the worker drains, so
            events still arriving are left for another worker).
        lease_seconds: the lease a fresh owned row starts with.
        max_batch: most events in one transaction.
    """

    def __init__(self, store: Store, *, owner: Callable[[], str | None], lease_seconds: float,
                 max_batch: int = 256) -> None:
        self.store = store
        self.owner = owner
        self.lease_seconds = lease_seconds
        self.max_batch = max_batch
        self.batches = 0
        self.written = 0
        self._queue: queue.SimpleQueue[_Put | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopped = False

    def put(self, item: InboxItem) -> asyncio.Future[bool]:
        """Queue `item`; the future says whether it was new once its batch has committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        with self._lock:
            if self._stopped:
                future.set_exception(RuntimeError("the inbox recorder is closed"))
                return future
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="inbox-recorder", daemon=True)
                self._thread.start()
            self._queue.put(_Put(item, loop, future))
        return future

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued (blocking the caller at most `timeout` s: used on the way out), then stop."""
        with self._lock:
            self._stopped = True
            thread = self._thread
            self._queue.put(None)
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch, stop = [first], False
            while len(batch) < self.max_batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            self._write(batch)
            if stop:
                return

    def _write(self, batch: list[_Put]) -> None:
        owner = self.owner()
        try:
            results = self.store.inbox_put_many([(p.item, owner) for p in batch], lease_seconds=self.lease_seconds)
        except Exception as exc:
            if len(batch) > 1:  # one row the database refuses must not fail the others
                for put in batch:
                    self._write([put])
                return
            self._resolve(batch[0], None, exc)
            return
        self.batches += 1
        self.written += len(batch)
        for put, fresh in zip(batch, results, strict=True):
            self._resolve(put, fresh, None)

    @staticmethod
    def _resolve(put: _Put, fresh: bool | None, error: BaseException | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is gone (process exiting)
            put.loop.call_soon_threadsafe(_settle, put.future, fresh, error)


class InboxWorker:
    """Runs inbox items for one process: record, answer, finish or hand back, resume, drain.

    Args:
        store: the shared store.
        platforms: which platforms' rows this worker resumes (its adapters can deliver those).
        resume: builds the work for a claimed row from its payload; None means it cannot be
            answered any more (the row is finished and logged).
        lease_seconds: how long a claim holds without renewal; renewed every third of it while
            the answer runs, so only a dead worker's rows expire.
        max_attempts: failed attempts before a row is given up (logged at ERROR).
        call_timeout: seconds any one store call may take from the caller's point of view.
        sweep_seconds: how often unowned and expired rows are looked for.
        retention_hours: rows older than this are pruned (hourly).
        max_running: the sweeper claims rows only while fewer answers than this are running here,
            so a worker that resumes a dead worker's backlog takes what it can answer and leaves
            the rest claimable by others.
    """

    def __init__(
        self,
        store: Store,
        *,
        platforms: tuple[str, ...],
        resume: Resume | None = None,
        lease_seconds: float = 30.0,
        max_attempts: int = 5,
        call_timeout: float = 10.0,
        sweep_seconds: float = 2.0,
        retention_hours: float = 72.0,
        owner: str | None = None,
        max_running: int = 256,
    ) -> None:
        self.store = store
        self.platforms = platforms
        self.resume = resume
        self.owner = owner or worker_id()
        self.lease_seconds = lease_seconds
        self.max_attempts = max_attempts
        self.call_timeout = call_timeout
        self.sweep_seconds = sweep_seconds
        self.retention_hours = retention_hours
        self.max_running = max_running
        self.accepting = True
        self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="inbox")
        self.recorder = Recorder(store, owner=lambda: self.owner if self.accepting else None,
                                 lease_seconds=lease_seconds)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._background: set[asyncio.Task[Any]] = set()
        self._loops: list[asyncio.Task[None]] = []

    # --- store calls, off the loop ----------------------------------------------------------
    async def call(self, fn: Callable[..., _T], *args: Any, timeout: float | None = None, **kwargs: Any) -> _T:
        """Run a store method on the inbox pool; raise StoreTimeout after `timeout` seconds.

        The timeout bounds the caller's wait only: the call itself still runs (shielded), so a
        step, finish or hand-back delayed by a slow database lands late instead of never, which
        would leave a finished answer to be resumed and posted again.
        """
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._executor, lambda: fn(*args, **kwargs))
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout or self.call_timeout)
        except TimeoutError:
            raise StoreTimeout(getattr(fn, "__name__", "store call")) from None

    def record(self, item: InboxItem) -> asyncio.Future[bool]:
        """Queue a new event for the recorder; the future says whether it was new.

        The write is not bounded by `call_timeout`: the caller acks after a short wait whatever
        happens, and the answer waits for this write (a stalled database delays the answer, the
        event stays recorded once the database is back). Events written once the worker drains
        are recorded unowned, for another worker (or this one after a restart) to claim.
        """
        return self.recorder.put(item)

    # --- running items ----------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._tasks)

    def task(self, key: str) -> asyncio.Task[None] | None:
        """The running answer for `key`, if any (tests await it)."""
        return self._tasks.get(key)

    def start(self, item: InboxItem, work: Work, *, recorded: Awaitable[bool] | None = None) -> None:
        """Answer `item` in the background (after `recorded` says it is new and ours)."""
        task = asyncio.create_task(self._run(item, work, recorded), name=f"inbox:{item.key}")
        self._tasks[item.key] = task
        task.add_done_callback(lambda t, key=item.key: self._forget(key, t))

    def _forget(self, key: str, task: asyncio.Task[None]) -> None:
        if self._tasks.get(key) is task:
            del self._tasks[key]
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            _log.error("inbox task %s failed: %s", key, exc, exc_info=exc)

    async def _run(self, item: InboxItem, work: Work, recorded: Awaitable[bool] | None) -> None:
        owned = True
        if recorded is not None:
            try:
                fresh = await recorded
            except Exception as exc:
                # Not recorded: answering is still better than dropping (no resume if we die).
                _log.error("could not record %s (%s); answering without a durable copy", item.key, exc)
                fresh, owned = True, False
            else:
                if fresh and not self.accepting:
                    # Draining: recorded unowned, or owned just before the drain began; either
                    # way another worker answers it (releasing an unowned row changes nothing).
                    await self._release(item.key, "drained", counted=False)
                    return
            if not fresh:
                _log.info("event %s already recorded; ignoring the redelivery", item.key)
                return
        delivery = Delivery(item, self, dict(item.steps))
        try:
            await work(delivery)
        except asyncio.CancelledError:
            if owned:
                await self._release(item.key, "drained", counted=False)
            raise
        except LeaseLost:
            _log.warning("lost the lease on %s; another worker answers it", item.key)
            return
        except Exception as exc:
            _log.warning("answering %s failed (%s); handing it back", item.key, type(exc).__name__, exc_info=exc)
            if owned:
                backoff = min(60.0, 2.0 ** max(0, item.attempts))
                state = await self._release(item.key, type(exc).__name__, counted=True, retry_after=backoff)
                if state == "given_up":
                    _log.error("gave up on %s after %d attempts", item.key, self.max_attempts)
            return
        if owned:
            try:
                await self.call(self.store.inbox_finish, item.key, self.owner)
            except Exception as exc:  # the answer is out; a redelivery would be skipped by its steps
                _log.warning("could not mark %s done: %s", item.key, exc)

    async def _release(self, key: str, error: str, *, counted: bool, retry_after: float = 0.0) -> str:
        # Shielded: a release interrupted by a second cancellation would leave the row leased
        # until its lease expires, delaying (not losing) the answer.
        try:
            return await asyncio.shield(self.call(
                self.store.inbox_release, key, self.owner, error=error, counted=counted,
                max_attempts=self.max_attempts, retry_after=retry_after,
            ))
        except Exception as exc:
            _log.warning("could not hand back %s (%s); its lease will expire", key, exc)
            return "lost"

    # --- sweeper, heartbeat, pruning --------------------------------------------------------
    def start_background(self) -> None:
        """Start the sweeper (resumes unowned and expired rows) and the lease heartbeat."""
        if self.resume is not None:
            self._loops.append(asyncio.create_task(self._sweep_loop(), name="inbox-sweeper"))
        self._loops.append(asyncio.create_task(self._heartbeat_loop(), name="inbox-heartbeat"))

    async def sweep_once(self, limit: int = 50) -> int:
        """Claim and start due rows now; return how many were started."""
        limit = min(limit, self.max_running - len(self._tasks))
        if self.resume is None or not self.accepting or limit <= 0:
            return 0
        claimed, given_up = await self.call(
            self.store.inbox_claim, self.owner, platforms=self.platforms, limit=limit,
            lease_seconds=self.lease_seconds, max_attempts=self.max_attempts,
        )
        for item in given_up:
            _log.error("gave up on %s after %d attempts", item.key, item.attempts)
        for item in claimed:
            if not self.accepting:
                await self._release(item.key, "drained", counted=False)
                continue
            work = self.resume(item)
            if work is None:
                _log.warning("cannot resume %s any more; closing it", item.key)
                await self.call(self.store.inbox_finish, item.key, self.owner)
                continue
            _log.info("resuming %s (attempt %d)", item.key, item.attempts)
            self.start(item, work)
        return len(claimed)

    async def _sweep_loop(self) -> None:
        since_prune = float("inf")
        while True:
            try:
                # A full batch means more are due (a dead worker's backlog): claim again at once,
                # as far as `max_running` allows, rather than 50 rows per sweep interval.
                while await self.sweep_once() >= 50:
                    await asyncio.sleep(0)
                if since_prune >= 3600:
                    since_prune = 0.0
                    gone = await self.call(self.store.prune_events, self.retention_hours * 3600)
                    if gone:
                        _log.info("pruned %d inbox rows and event keys older than %g h", gone, self.retention_hours)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                _log.warning("inbox sweep failed: %s", exc)
            since_prune += self.sweep_seconds
            await asyncio.sleep(self.sweep_seconds)

    async def renew_leases(self) -> int:
        """Renew the lease of every running answer in one write; return how many were renewed."""
        keys = list(self._tasks)
        if not keys:
            return 0
        return await self.call(self.store.inbox_renew_many, keys, self.owner, self.lease_seconds)

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                await self.renew_leases()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                _log.warning("could not renew the leases of %d running answers: %s", len(self._tasks), exc)

    async def wait_idle(self, timeout: float) -> bool:
        """Wait (bounded) until no answer is running, including ones started meanwhile; True if idle."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._tasks:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            await asyncio.wait(set(self._tasks.values()), timeout=remaining)
        return True

    # --- drain ------------------------------------------------------------------------------
    async def drain(self, timeout: float) -> tuple[int, int]:
        """Stop taking work; let running answers finish for `timeout` s, hand back the rest.

        Returns (finished, handed back). Cancelled work runs its own cleanup (adapters delete the
        "thinking" placeholders of work they hand back) and is released without using an attempt.
        """
        self.accepting = False
        for loop_task in self._loops:
            loop_task.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        self._loops.clear()
        tasks = set(self._tasks.values())
        if not tasks:
            return 0, 0
        done, pending = await asyncio.wait(tasks, timeout=max(0.0, timeout)) if timeout > 0 else (set(), tasks)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        _log.info("drain: %d answers finished, %d handed back", len(done), len(pending))
        return len(done), len(pending)

    def close(self, timeout: float = 5.0) -> None:
        """Write the events still queued (at most `timeout` s), then stop the threads.

        Queued events are written before the process goes: each may already have been acked.
        """
        self.recorder.close(timeout)
        self._executor.shutdown(wait=False, cancel_futures=True)
