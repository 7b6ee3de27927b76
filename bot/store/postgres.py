"""The scale-out store: PostgreSQL, shared by several workers and Discord shard processes.

Same schema and SQL as SQLite (see `bot.store.sql`). Writes that read before they write run in a
transaction; the single-statement upserts are atomic on their own, so the lease on an event key and
the quiz's optimistic version check hold across processes without extra locking.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bot.store.sql import SqlStore

__all__ = ["PostgresStore"]

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class PostgresStore(SqlStore):
    """`Store` on PostgreSQL via psycopg 3.

    Args:
        url: a libpq URL, e.g. postgresql://user@host:5432/db.
        schema: keep the tables in this schema (created if missing) instead of the default
            search path; tests use a unique one per run so parallel runs never collide.
        connect_timeout: seconds before an unreachable server is reported.
    """

    dialect = "postgres"
    _placeholder = "%s"

    def __init__(self, url: str, *, schema: str | None = None, connect_timeout: float = 10.0) -> None:
        try:
            import psycopg  # noqa: F401  (imported here: optional dependency, only for this backend)
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise RuntimeError("PostgreSQL needs psycopg: pip install 'careerbot[postgres]'") from exc
        if schema is not None and not _SCHEMA_NAME.match(schema):
            raise ValueError(f"schema must be a lowercase SQL identifier, got {schema!r}")
        self.url = url.replace("postgres://", "postgresql://", 1) if url.startswith("postgres://") else url
        self.schema = schema
        self._connect_timeout = connect_timeout
        self._init_pool()
        self.migrate()

    def _connect(self) -> Any:
        import psycopg

        conn = psycopg.connect(self.url, autocommit=True, connect_timeout=max(1, int(self._connect_timeout)))
        if self.schema:
            conn.execute(f"SET search_path TO {self.schema}")  # validated identifier
        return conn

    @contextmanager
    def _transaction(self, conn: Any, *, write: bool) -> Iterator[Any]:
        if write:
            with conn.transaction(), conn.cursor() as cur:
                yield cur
        else:
            with conn.cursor() as cur:
                yield cur

    def _healthy(self, conn: Any) -> bool:
        return not (conn.closed or conn.broken)

    def _lock_schema(self, cur: Any) -> None:
        # Concurrent CREATE TABLE IF NOT EXISTS can still collide in PostgreSQL's catalog, so
        # migrators queue on an advisory lock held until the migration transaction ends.
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"careerbot-migrate:{self.schema or ''}",))
        if self.schema:
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema}")

    def drop_schema(self) -> None:
        """Drop this store's schema and everything in it (tests clean up with this), then close."""
        if not self.schema:
            raise RuntimeError("drop_schema needs a store opened with schema=...")
        with self._cursor(write=True) as cur:
            cur.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")
        self.close()

    def __repr__(self) -> str:
        host = self.url.split("@")[-1]  # never show credentials
        return f"PostgresStore({host!r}, schema={self.schema!r})"
