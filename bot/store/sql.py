"""Behaviour shared by the SQLite and PostgreSQL stores: one set of SQL, two drivers.

Why shared: the two backends must behave identically (the same test suite runs against both), and
every method here is a single statement or a short transaction written in the SQL both understand
(`INSERT ... ON CONFLICT`, `RETURNING`). Subclasses supply connections, the placeholder style and
how a write transaction starts; everything else lives here once.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from bot.store.base import AnswerRecord, FeedbackRow, InboxItem, Turn, UsageRecord
from bot.store.migrations import MIGRATIONS, SCHEMA_VERSION_DDL, Migration, pending

__all__ = ["SqlStore"]


def _like_escape(value: str) -> str:
    """Escape LIKE wildcards so a user key is matched literally."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class SqlStore:
    """Implements `bot.store.base.Store` on top of a DB-API cursor; see the subclasses."""

    dialect: str = ""
    _placeholder: str = "?"

    # --- what a subclass provides ------------------------------------------------------------
    def _connect(self) -> Any:
        """Open one new driver connection, configured and ready."""
        raise NotImplementedError

    def _transaction(self, conn: Any, *, write: bool) -> AbstractContextManager[Any]:
        """A cursor inside a transaction (committed on exit, rolled back on error).

        `write=True` asks for a transaction that takes the write lock up front, so a
        read-then-write sequence cannot interleave with another process.
        """
        raise NotImplementedError

    def _exclusive(self, *, urgent: bool) -> AbstractContextManager[Any]:
        """Held around every write transaction of this process; nothing by default.

        `urgent` writes (new inbox events, which an ack waits for) may be let in ahead of others.
        """
        return nullcontext()

    def _healthy(self, conn: Any) -> bool:
        """Whether a connection that saw an error may go back to the pool."""
        return True

    def _lock_schema(self, cur: Any) -> None:
        """Serialise concurrent migrators (inside the migration transaction)."""

    # --- connection pool ---------------------------------------------------------------------
    # Why a small pool rather than one connection per thread: adapters run handlers on short-lived
    # worker threads, and a per-thread connection would leak one per dead thread. A connection is
    # used by one thread at a time; idle ones are kept up to `_max_idle`.
    _max_idle = 8

    def _init_pool(self) -> None:
        self._pool_lock = threading.Lock()
        self._idle: list[Any] = []
        self._closed = False
        self._pid = os.getpid()

    def _borrow(self) -> Any:
        with self._pool_lock:
            if self._closed:
                raise RuntimeError(f"{type(self).__name__} is closed")
            if self._pid != os.getpid():
                # Forked: the parent's connections are not ours to use (or close).
                self._idle, self._pid = [], os.getpid()
            if self._idle:
                return self._idle.pop()
        return self._connect()

    def _give_back(self, conn: Any) -> None:
        with self._pool_lock:
            if not self._closed and self._pid == os.getpid() and len(self._idle) < self._max_idle:
                self._idle.append(conn)
                return
        conn.close()

    @contextmanager
    def _cursor(self, *, write: bool = False, urgent: bool = False) -> Iterator[Any]:
        conn = self._borrow()
        try:
            with self._exclusive(urgent=urgent) if write else nullcontext(), \
                    self._transaction(conn, write=write) as cur:
                yield cur
        except BaseException:
            if self._healthy(conn):
                self._give_back(conn)
            else:
                conn.close()
            raise
        self._give_back(conn)

    def close(self) -> None:
        """Close every idle connection; later calls raise RuntimeError."""
        with self._pool_lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            try:
                conn.close()
            except Exception:  # closing is best effort; the process may be going down
                pass

    # --- helpers -----------------------------------------------------------------------------
    def _q(self, sql: str) -> str:
        return sql if self._placeholder == "?" else sql.replace("?", self._placeholder)

    def _exec(self, cur: Any, sql: str, params: tuple[Any, ...] = ()) -> Any:
        cur.execute(self._q(sql), params)
        return cur

    def _one(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        with self._cursor() as cur:
            return self._exec(cur, sql, params).fetchone()

    def _all(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._cursor() as cur:
            return list(self._exec(cur, sql, params).fetchall())

    def _write(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        with self._cursor(write=True) as cur:
            return self._exec(cur, sql, params).rowcount

    # --- schema ------------------------------------------------------------------------------
    def migrate(self, migrations: tuple[Migration, ...] = MIGRATIONS) -> list[int]:
        """Apply pending migrations in order; return the versions applied now (usually none).

        Safe to call from several processes at once: the schema lock makes the others wait and
        then find nothing left to do.
        """
        with self._cursor(write=True) as cur:
            self._lock_schema(cur)
            cur.execute(SCHEMA_VERSION_DDL[self.dialect])
            applied = {row[0] for row in self._exec(cur, "SELECT version FROM schema_version").fetchall()}
            done: list[int] = []
            for migration in pending(applied, migrations):
                for statement in migration.statements(self.dialect):
                    cur.execute(statement)
                self._exec(
                    cur,
                    "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)",
                    (migration.version, migration.description, time.time()),
                )
                done.append(migration.version)
            return done

    def schema_version(self) -> int:
        row = self._one("SELECT MAX(version) FROM schema_version")
        return int(row[0]) if row and row[0] is not None else 0

    # --- events ------------------------------------------------------------------------------
    def claim_event(self, key: str, *, lease_seconds: float = 120.0) -> bool:
        now = time.time()
        # One statement: insert a fresh claim, or take over an expired, unfinished one. RETURNING
        # yields a row only when this caller won, whatever the other processes are doing.
        with self._cursor(write=True) as cur:
            rows = self._exec(
                cur,
                """INSERT INTO events (key, done, lease_until, created_at) VALUES (?, 0, ?, ?)
                   ON CONFLICT (key) DO UPDATE SET lease_until = excluded.lease_until
                   WHERE events.done = 0 AND events.lease_until <= ?
                   RETURNING key""",
                (key, now + lease_seconds, now, now),
            ).fetchall()
        return bool(rows)

    def complete_event(self, key: str) -> None:
        now = time.time()
        self._write(
            """INSERT INTO events (key, done, lease_until, created_at) VALUES (?, 1, ?, ?)
               ON CONFLICT (key) DO UPDATE SET done = 1""",
            (key, now, now),
        )

    def purge_events(self, older_than_seconds: float = 7 * 86400) -> int:
        """Drop event keys older than the platforms' retry horizon so the table stays small."""
        return self._write("DELETE FROM events WHERE created_at < ?", (time.time() - older_than_seconds,))

    # --- durable inbox -----------------------------------------------------------------------
    _INBOX_COLUMNS = "key, platform, user_key, conversation_key, payload, steps, attempts"

    @staticmethod
    def _inbox_item(row: tuple[Any, ...]) -> InboxItem:
        return InboxItem(key=row[0], platform=row[1], user_key=row[2], conversation_key=row[3],
                         payload=json.loads(row[4] or "{}"), steps=json.loads(row[5] or "{}"),
                         attempts=int(row[6]))

    def inbox_put(self, item: InboxItem, *, owner: str | None, lease_seconds: float) -> bool:
        return self.inbox_put_many([(item, owner)], lease_seconds=lease_seconds)[0]

    def inbox_put_many(
        self, items: Sequence[tuple[InboxItem, str | None]], *, lease_seconds: float
    ) -> list[bool]:
        if not items:
            return []
        now = time.time()
        sql = """INSERT INTO inbox (key, platform, user_key, conversation_key, payload, state, attempts,
                   owner, lease_until, steps, created_at, updated_at)
                 VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?)
                 ON CONFLICT (key) DO NOTHING RETURNING key"""
        fresh: list[bool] = []
        # One transaction for the whole batch: one commit (one fsync, one round of locking) however
        # many events arrived together. A key repeated within the batch is new only the first time.
        with self._cursor(write=True, urgent=True) as cur:
            for item, owner in items:
                # ASCII JSON: PostgreSQL TEXT rejects NUL, and lone surrogates must not fail the insert.
                payload = json.dumps(item.payload, separators=(",", ":"))
                rows = self._exec(
                    cur, sql,
                    (item.key, item.platform, item.user_key, item.conversation_key, payload,
                     1 if owner else 0, owner, now + lease_seconds if owner else 0.0,
                     json.dumps(item.steps), now, now),
                ).fetchall()
                fresh.append(bool(rows))
        return fresh

    def inbox_claim(
        self, owner: str, *, platforms: tuple[str, ...], limit: int, lease_seconds: float, max_attempts: int
    ) -> tuple[list[InboxItem], list[InboxItem]]:
        if not platforms or limit <= 0:
            return [], []
        now = time.time()
        marks = ", ".join("?" for _ in platforms)
        due = f"state = 'pending' AND platform IN ({marks}) AND lease_until <= ?"
        # PostgreSQL: rows another worker is claiming right now are skipped, not waited for.
        lock = " FOR UPDATE SKIP LOCKED" if self.dialect == "postgres" else ""
        with self._cursor(write=True) as cur:
            given_up = [
                self._inbox_item(r) for r in self._exec(
                    cur,
                    f"""UPDATE inbox SET state = 'given_up', owner = NULL, payload = '{{}}', updated_at = ?
                        WHERE key IN (SELECT key FROM inbox WHERE {due} AND attempts >= ?{lock})
                        RETURNING {self._INBOX_COLUMNS}""",
                    (now, *platforms, now, max_attempts),
                ).fetchall()
            ]
            claimed = [
                self._inbox_item(r) for r in self._exec(
                    cur,
                    f"""UPDATE inbox SET owner = ?, lease_until = ?, attempts = attempts + 1, updated_at = ?
                        WHERE key IN (SELECT key FROM inbox WHERE {due} AND attempts < ?
                                      ORDER BY created_at LIMIT ?{lock})
                        RETURNING {self._INBOX_COLUMNS}""",
                    (owner, now + lease_seconds, now, *platforms, now, max_attempts, int(limit)),
                ).fetchall()
            ]
        return claimed, given_up

    def inbox_step(self, key: str, owner: str, name: str, value: Any) -> bool:
        with self._cursor(write=True) as cur:
            row = self._exec(
                cur, "SELECT steps FROM inbox WHERE key = ? AND owner = ? AND state = 'pending'", (key, owner)
            ).fetchone()
            if row is None:
                return False
            steps = json.loads(row[0] or "{}")
            steps[name] = value
            self._exec(cur, "UPDATE inbox SET steps = ?, updated_at = ? WHERE key = ?",
                       (json.dumps(steps), time.time(), key))
        return True

    def inbox_renew(self, key: str, owner: str, lease_seconds: float) -> bool:
        now = time.time()
        return self._write(
            "UPDATE inbox SET lease_until = ?, updated_at = ? WHERE key = ? AND owner = ? AND state = 'pending'",
            (now + lease_seconds, now, key, owner),
        ) > 0

    def inbox_renew_many(self, keys: Sequence[str], owner: str, lease_seconds: float) -> int:
        if not keys:
            return 0
        now = time.time()
        renewed = 0
        with self._cursor(write=True) as cur:
            for start in range(0, len(keys), 500):  # SQLite allows 999 parameters per statement
                chunk = list(keys[start:start + 500])
                marks = ", ".join("?" for _ in chunk)
                renewed += max(0, self._exec(
                    cur,
                    f"""UPDATE inbox SET lease_until = ?, updated_at = ?
                        WHERE owner = ? AND state = 'pending' AND key IN ({marks})""",
                    (now + lease_seconds, now, owner, *chunk),
                ).rowcount)
        return renewed

    def inbox_finish(self, key: str, owner: str | None) -> None:
        sql = "UPDATE inbox SET state = 'done', owner = NULL, payload = '{}', updated_at = ? WHERE key = ?"
        params: tuple[Any, ...] = (time.time(), key)
        if owner is not None:
            sql += " AND (owner = ? OR owner IS NULL)"
            params += (owner,)
        self._write(sql, params)

    def inbox_release(
        self, key: str, owner: str, *, error: str, counted: bool, max_attempts: int, retry_after: float = 0.0
    ) -> str:
        now = time.time()
        with self._cursor(write=True) as cur:
            row = self._exec(
                cur,
                """UPDATE inbox SET owner = NULL, lease_until = ?, last_error = ?, updated_at = ?,
                     attempts = CASE WHEN ? THEN attempts ELSE MAX0(attempts - 1) END,
                     state = CASE WHEN ? AND attempts >= ? THEN 'given_up' ELSE state END,
                     payload = CASE WHEN ? AND attempts >= ? THEN '{}' ELSE payload END
                   WHERE key = ? AND owner = ? AND state = 'pending' RETURNING state""".replace(
                    "MAX0(attempts - 1)",
                    "MAX(attempts - 1, 0)" if self.dialect == "sqlite" else "GREATEST(attempts - 1, 0)"),
                (now + max(0.0, retry_after), error[:200], now, counted, counted, max_attempts, counted, max_attempts, key, owner),
            ).fetchone()
        return str(row[0]) if row else "lost"

    def inbox_get(self, key: str) -> InboxItem | None:
        row = self._one(f"SELECT {self._INBOX_COLUMNS} FROM inbox WHERE key = ?", (key,))
        return self._inbox_item(row) if row else None

    def inbox_state(self, key: str) -> str | None:
        """The row's state (pending/done/given_up), or None; for tests and diagnostics."""
        row = self._one("SELECT state FROM inbox WHERE key = ?", (key,))
        return str(row[0]) if row else None

    def inbox_stats(self) -> dict[str, int]:
        now = time.time()
        row = self._one(
            """SELECT
                 COALESCE(SUM(CASE WHEN state = 'pending' AND lease_until <= ? THEN 1 ELSE 0 END), 0),
                 COALESCE(SUM(CASE WHEN state = 'pending' AND lease_until > ? THEN 1 ELSE 0 END), 0),
                 COALESCE(SUM(CASE WHEN attempts > 1 THEN 1 ELSE 0 END), 0),
                 COALESCE(SUM(CASE WHEN state = 'given_up' THEN 1 ELSE 0 END), 0)
               FROM inbox""",
            (now, now),
        )
        values = [int(v) for v in row] if row else [0, 0, 0, 0]
        return dict(zip(("pending", "in_flight", "retried", "given_up"), values, strict=True))

    def prune_events(self, older_than_seconds: float) -> int:
        cutoff = time.time() - older_than_seconds
        with self._cursor(write=True) as cur:
            gone = max(0, self._exec(cur, "DELETE FROM inbox WHERE created_at < ?", (cutoff,)).rowcount)
            gone += max(0, self._exec(cur, "DELETE FROM events WHERE created_at < ?", (cutoff,)).rowcount)
        return gone

    # --- conversation memory -----------------------------------------------------------------
    def append_turn(self, conversation_key: str, user_key: str, role: str, text: str) -> None:
        self._write(
            "INSERT INTO turns (conversation_key, user_key, role, text, created_at) VALUES (?, ?, ?, ?, ?)",
            (conversation_key, user_key, role, text, time.time()),
        )

    def recent_turns(self, conversation_key: str, limit: int = 10) -> list[Turn]:
        rows = self._all(
            "SELECT role, text, created_at FROM turns WHERE conversation_key = ? ORDER BY id DESC LIMIT ?",
            (conversation_key, max(0, int(limit))),
        )
        return [Turn(role=r[0], text=r[1], created_at=float(r[2])) for r in reversed(rows)]

    # --- per-conversation state --------------------------------------------------------------
    def load_conversation(self, conversation_key: str) -> dict[str, Any] | None:
        row = self._one("SELECT state FROM conversation_states WHERE conversation_key = ?", (conversation_key,))
        return json.loads(row[0]) if row else None

    def save_conversation(self, conversation_key: str, user_key: str, state: dict[str, Any]) -> None:
        """Upsert the state and record `user_key` as one of its writers, in one transaction.

        Why one transaction: a state must never exist without its writer on record, or a later
        `forget_user` of that writer would miss it.
        """
        if not isinstance(state, dict):
            raise TypeError(f"conversation state must be a dict, got {type(state).__name__}")
        # Encode before touching the database, so an unencodable value leaves the old state intact.
        # ASCII escapes keep NUL and lone surrogates storable (PostgreSQL TEXT rejects NUL).
        payload = json.dumps(state, separators=(",", ":"))
        with self._cursor(write=True) as cur:
            self._exec(
                cur,
                """INSERT INTO conversation_states (conversation_key, user_key, state, updated_at)
                   VALUES (?, ?, ?, ?)
                   ON CONFLICT (conversation_key) DO UPDATE SET user_key = excluded.user_key,
                     state = excluded.state, updated_at = excluded.updated_at""",
                (conversation_key, user_key, payload, time.time()),
            )
            self._exec(
                cur,
                """INSERT INTO conversation_state_writers (conversation_key, user_key) VALUES (?, ?)
                   ON CONFLICT (conversation_key, user_key) DO NOTHING""",
                (conversation_key, user_key),
            )

    # --- answers and feedback ----------------------------------------------------------------
    def save_answer(self, record: AnswerRecord) -> None:
        self._write(
            """INSERT INTO answers (answer_id, user_key, conversation_key, question, text, sources, created_at)
               VALUES (?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (answer_id) DO UPDATE SET user_key = excluded.user_key,
                 conversation_key = excluded.conversation_key, question = excluded.question,
                 text = excluded.text, sources = excluded.sources""",
            (
                record.answer_id,
                record.user_key,
                record.conversation_key,
                record.question,
                record.text,
                json.dumps(record.sources),
                record.created_at or time.time(),
            ),
        )

    def get_answer(self, answer_id: str) -> AnswerRecord | None:
        row = self._one(
            """SELECT answer_id, user_key, conversation_key, question, text, sources, created_at
               FROM answers WHERE answer_id = ?""",
            (answer_id,),
        )
        if row is None:
            return None
        return AnswerRecord(
            answer_id=row[0],
            user_key=row[1],
            conversation_key=row[2],
            question=row[3],
            text=row[4],
            sources=json.loads(row[5]),
            created_at=float(row[6]),
        )

    def record_feedback(self, answer_id: str, user_key: str, helpful: bool) -> None:
        self._write(
            """INSERT INTO feedback (answer_id, user_key, helpful, created_at) VALUES (?, ?, ?, ?)
               ON CONFLICT (answer_id, user_key) DO UPDATE SET helpful = excluded.helpful,
                 created_at = excluded.created_at""",
            (answer_id, user_key, 1 if helpful else 0, time.time()),
        )

    def feedback_counts(self, answer_id: str) -> tuple[int, int]:
        row = self._one(
            """SELECT COALESCE(SUM(helpful), 0), COALESCE(SUM(1 - helpful), 0)
               FROM feedback WHERE answer_id = ?""",
            (answer_id,),
        )
        return (int(row[0]), int(row[1])) if row else (0, 0)

    # --- usage ---------------------------------------------------------------------------------
    def record_usage(self, record: UsageRecord) -> None:
        created = record.created_at or time.time()
        day = time.strftime("%Y-%m-%d", time.gmtime(created))
        self._write(
            """INSERT INTO usage (day, created_at, platform, kind, intent, user_key, answer_id, question, llm_fallback)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (day, created, record.platform, record.kind, record.intent, record.user_key, record.answer_id,
             record.question, record.llm_fallback),
        )

    def usage_counts(self, since_day: str) -> list[tuple[str, str, str, int, int]]:
        rows = self._all(
            """SELECT day, platform, intent, COUNT(*),
                      COALESCE(SUM(CASE WHEN llm_fallback IS NULL THEN 0 ELSE 1 END), 0)
               FROM usage WHERE day >= ? GROUP BY day, platform, intent ORDER BY day, platform, intent""",
            (since_day,),
        )
        return [(r[0], r[1], r[2], int(r[3]), int(r[4])) for r in rows]

    def out_of_scope_questions(self, since_day: str, limit: int = 50) -> list[tuple[str, int, float]]:
        rows = self._all(
            """SELECT question, COUNT(*), MAX(created_at) FROM usage
               WHERE day >= ? AND intent = 'out_of_scope' AND question IS NOT NULL
               GROUP BY question ORDER BY COUNT(*) DESC, MAX(created_at) DESC LIMIT ?""",
            (since_day, max(0, int(limit))),
        )
        return [(r[0], int(r[1]), float(r[2])) for r in rows]

    def llm_fallback_counts(self, since_day: str) -> list[tuple[str, str, int]]:
        rows = self._all(
            """SELECT day, llm_fallback, COUNT(*) FROM usage
               WHERE day >= ? AND llm_fallback IS NOT NULL GROUP BY day, llm_fallback ORDER BY day, llm_fallback""",
            (since_day,),
        )
        return [(r[0], r[1], int(r[2])) for r in rows]

    def feedback_rows(self, limit: int = 100) -> list[FeedbackRow]:
        # Platform and intent come from the answer's usage row; answers given before migration 5
        # (or by `Brain.respond` alone) have none and show the platform from the user key.
        rows = self._all(
            """SELECT a.answer_id, a.question, a.text, a.created_at, v.up, v.down,
                      COALESCE(MAX(u.platform), ''), COALESCE(MAX(u.intent), ''), a.user_key
               FROM (SELECT answer_id, SUM(helpful) AS up, SUM(1 - helpful) AS down
                     FROM feedback GROUP BY answer_id) v
               JOIN answers a ON a.answer_id = v.answer_id
               LEFT JOIN usage u ON u.answer_id = a.answer_id
               GROUP BY a.answer_id, a.question, a.text, a.created_at, v.up, v.down, a.user_key
               ORDER BY v.down - v.up DESC, v.down DESC, a.created_at DESC LIMIT ?""",
            (max(0, int(limit)),),
        )
        return [FeedbackRow(answer_id=r[0], question=r[1], text=r[2], created_at=float(r[3]), helpful=int(r[4]),
                            not_helpful=int(r[5]), platform=r[6] or str(r[8]).partition(":")[0], intent=r[7])
                for r in rows]

    def quiz_results_since(self, since: float) -> list[tuple[float, dict[str, Any]]]:
        rows = self._all("SELECT created_at, result FROM quiz_results WHERE created_at >= ? ORDER BY id", (since,))
        return [(float(r[0]), json.loads(r[1])) for r in rows]

    # --- rate limiting -----------------------------------------------------------------------
    def hit_rate_limit(self, key: str, *, limit: int, window_seconds: float) -> bool:
        """Fixed window: the window containing `now` starts at a multiple of `window_seconds`."""
        now = time.time()
        window_start = (now // window_seconds) * window_seconds
        with self._cursor(write=True) as cur:
            row = self._exec(
                cur,
                """INSERT INTO rate_limits (key, window_start, count) VALUES (?, ?, 1)
                   ON CONFLICT (key) DO UPDATE SET
                     count = CASE WHEN rate_limits.window_start = excluded.window_start
                                  THEN rate_limits.count + 1 ELSE 1 END,
                     window_start = excluded.window_start
                   RETURNING count""",
                (key, window_start),
            ).fetchone()
        return int(row[0]) <= limit

    # --- quiz sessions -----------------------------------------------------------------------
    def load_quiz(self, user_key: str) -> dict[str, Any] | None:
        """The saved state with `state["version"]` set to the stored version (the store's is authoritative)."""
        row = self._one("SELECT state, version FROM quiz_sessions WHERE user_key = ?", (user_key,))
        if row is None:
            return None
        state = json.loads(row[0])
        state["version"] = int(row[1])
        return state

    def save_quiz(self, user_key: str, state: dict[str, Any], *, expected_version: int | None = None) -> bool:
        """Save; the stored version becomes `expected_version + 1` (or the old one + 1 without it).

        `expected_version=0` means "only if there is no session yet", so two racing starts cannot
        both win, and a stale press after a cancel cannot bring a deleted session back.
        """
        now = time.time()
        with self._cursor(write=True) as cur:
            if expected_version is None:
                row = self._exec(
                    cur,
                    """INSERT INTO quiz_sessions (user_key, state, version, updated_at) VALUES (?, ?, 1, ?)
                       ON CONFLICT (user_key) DO UPDATE SET state = excluded.state,
                         version = quiz_sessions.version + 1, updated_at = excluded.updated_at
                       RETURNING version""",
                    (user_key, self._state_json(state, None), now),
                ).fetchone()
                # Keep the JSON's own copy of the version in step with the column.
                self._exec(
                    cur,
                    "UPDATE quiz_sessions SET state = ? WHERE user_key = ?",
                    (self._state_json(state, int(row[0])), user_key),
                )
                return True
            new_version = expected_version + 1
            payload = self._state_json(state, new_version)
            if expected_version == 0:
                rows = self._exec(
                    cur,
                    """INSERT INTO quiz_sessions (user_key, state, version, updated_at) VALUES (?, ?, 1, ?)
                       ON CONFLICT (user_key) DO NOTHING RETURNING version""",
                    (user_key, payload, now),
                ).fetchall()
            else:
                rows = self._exec(
                    cur,
                    """UPDATE quiz_sessions SET state = ?, version = ?, updated_at = ?
                       WHERE user_key = ? AND version = ? RETURNING version""",
                    (payload, new_version, now, user_key, expected_version),
                ).fetchall()
            return bool(rows)

    @staticmethod
    def _state_json(state: dict[str, Any], version: int | None) -> str:
        data = dict(state)
        if version is not None:
            data["version"] = version
        return json.dumps(data, separators=(",", ":"))

    def delete_quiz(self, user_key: str) -> None:
        self._write("DELETE FROM quiz_sessions WHERE user_key = ?", (user_key,))

    def save_quiz_result(self, user_key: str, result: dict[str, Any]) -> None:
        self._write(
            "INSERT INTO quiz_results (user_key, result, created_at) VALUES (?, ?, ?)",
            (user_key, json.dumps(result), time.time()),
        )

    def latest_quiz_result(self, user_key: str) -> dict[str, Any] | None:
        row = self._one(
            "SELECT result FROM quiz_results WHERE user_key = ? ORDER BY id DESC LIMIT 1", (user_key,)
        )
        return json.loads(row[0]) if row else None

    # --- privacy -----------------------------------------------------------------------------
    def forget_user(self, user_key: str) -> int:
        """Delete every row about `user_key` in one transaction; return how many went.

        Rate-limit keys are free-form, so a counter is the user's when `user_key` appears in its key
        as whole `:`-separated segments ("slack:U1" matches "msg:slack:U1" but not "slack:U12").
        Feedback others left on this user's answers goes with the answers. Conversation states go
        if the user ever wrote them (see `save_conversation`); the count includes those states but
        not the bookkeeping rows naming their writers, which are deleted with them.
        """
        esc = _like_escape(user_key)
        platform, _, raw_user = user_key.partition(":")
        raw_user = raw_user or user_key
        patterns = (f"{esc}:%", f"%:{esc}", f"%:{esc}:%")
        statements: list[tuple[str, tuple[Any, ...]]] = [
            (
                "DELETE FROM conversation_states WHERE user_key = ? OR conversation_key IN "
                "(SELECT conversation_key FROM conversation_state_writers WHERE user_key = ?)",
                (user_key, user_key),
            ),
            (
                "DELETE FROM feedback WHERE user_key = ? OR answer_id IN "
                "(SELECT answer_id FROM answers WHERE user_key = ?)",
                (user_key, user_key),
            ),
            ("DELETE FROM answers WHERE user_key = ?", (user_key,)),
            ("DELETE FROM turns WHERE user_key = ?", (user_key,)),
            ("DELETE FROM usage WHERE user_key = ?", (user_key,)),
            ("DELETE FROM quiz_sessions WHERE user_key = ?", (user_key,)),
            ("DELETE FROM quiz_results WHERE user_key = ?", (user_key,)),
            ("DELETE FROM inbox WHERE user_key = ?", (user_key,)),
            # Older event keys name the platform's raw user id (Slack button presses did).
            (
                "DELETE FROM events WHERE key LIKE ? ESCAPE '\\'",
                (f"{_like_escape(platform)}:%:{_like_escape(raw_user)}:%",),
            ),
            (
                "DELETE FROM rate_limits WHERE key = ? OR key LIKE ? ESCAPE '\\' "
                "OR key LIKE ? ESCAPE '\\' OR key LIKE ? ESCAPE '\\'",
                (user_key, *patterns),
            ),
        ]
        total = 0
        with self._cursor(write=True) as cur:
            for sql, params in statements:
                total += max(0, self._exec(cur, sql, params).rowcount)
            # Writers of the states just deleted (this user's and their thread-mates' entries for
            # those conversations); not counted: they are an index of the states, not data.
            self._exec(
                cur,
                "DELETE FROM conversation_state_writers WHERE conversation_key IN "
                "(SELECT conversation_key FROM conversation_state_writers WHERE user_key = ?)",
                (user_key,),
            )
        return total

    def __enter__(self) -> SqlStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
