"""The embedded default store: one SQLite file, shared safely by threads and processes.

Why these settings: WAL lets readers proceed while one writer writes; `busy_timeout` makes a
writer wait for the lock instead of failing when Discord shard processes share the file; every
read-modify-write runs in `BEGIN IMMEDIATE`, which takes the write lock before reading, so two
processes cannot both decide they won a claim.

Writers of one process queue on a `WriteGate` before asking SQLite for the lock. SQLite's busy
handler polls with growing sleeps (up to 100 ms) and lets no one go first, so with dozens of
answer threads writing at once an inbox record (which an ack waits for) could wait hundreds of
milliseconds; the gate wakes the next writer as soon as the lock is free and lets the inbox
recorder in ahead of answer writes. The busy handler is left for other processes.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.store.sql import SqlStore

__all__ = ["SqliteStore", "WriteGate"]


class WriteGate:
    """This process's writers, one at a time, urgent ones first.

    A waiting urgent writer (the inbox recorder) gets the gate before any waiting ordinary one,
    so it waits for at most the transaction under way, however many answer writes are queued.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._busy = False
        self._urgent = 0
        self.waiting = 0  # writers waiting now (tests watch it instead of sleeping)

    @contextmanager
    def hold(self, *, urgent: bool) -> Iterator[None]:
        with self._cond:
            self.waiting += 1
            self._urgent += urgent
            try:
                while self._busy or (not urgent and self._urgent):
                    self._cond.wait()
            finally:
                self.waiting -= 1
                self._urgent -= urgent
            self._busy = True
        try:
            yield
        finally:
            with self._cond:
                self._busy = False
                self._cond.notify_all()


class SqliteStore(SqlStore):
    """`Store` on a SQLite file; the schema is created or upgraded when it opens."""

    dialect = "sqlite"
    _placeholder = "?"

    def __init__(self, path: str | Path, *, busy_timeout_ms: int = 30_000) -> None:
        self.path = Path(path)
        if str(path) == ":memory:":
            raise ValueError("SqliteStore needs a file (several connections share it); use a temp file in tests")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._busy_timeout_ms = busy_timeout_ms
        self._gate = WriteGate()
        self._init_pool()
        self.migrate()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path,
            timeout=self._busy_timeout_ms / 1000,
            isolation_level=None,  # autocommit; write transactions are explicit BEGIN IMMEDIATE
            check_same_thread=False,  # the pool hands a connection to one thread at a time
        )
        conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
        conn.execute("PRAGMA journal_mode = WAL")
        # NORMAL is durable across process crashes in WAL mode (only an OS crash can lose the
        # last commits), and much faster than FULL.
        conn.execute("PRAGMA synchronous = NORMAL")
        return conn

    def _exclusive(self, *, urgent: bool) -> contextlib.AbstractContextManager[None]:
        return self._gate.hold(urgent=urgent)

    @contextmanager
    def _transaction(self, conn: sqlite3.Connection, *, write: bool) -> Iterator[sqlite3.Cursor]:
        cur = conn.cursor()
        try:
            if write:
                cur.execute("BEGIN IMMEDIATE")
            try:
                yield cur
            except BaseException:
                if conn.in_transaction:
                    conn.rollback()
                raise
            if conn.in_transaction:
                conn.commit()
        finally:
            cur.close()

    def __repr__(self) -> str:
        return f"SqliteStore({str(self.path)!r})"
