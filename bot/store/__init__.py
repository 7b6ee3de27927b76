"""State that must survive restarts: one interface, an embedded SQLite default, PostgreSQL for scale-out."""

from __future__ import annotations

from pathlib import Path

from bot.store.base import AnswerRecord, Store, Turn

__all__ = ["AnswerRecord", "Store", "Turn", "open_store"]


def open_store(database_url: str) -> Store:
    """Open the store named by `database_url` (`sqlite:///path` or `postgresql://...`).

    Why a factory: the admin picks the backend with one setting, and only the chosen driver is
    imported. A SQLite file's folder is created if missing.
    """
    url = database_url.strip()
    if url.startswith("sqlite:///"):
        from bot.store.sqlite import SqliteStore

        # sqlite:///relative/file and sqlite:////absolute/file, as in SQLAlchemy.
        path = url[len("sqlite:///") :].split("?", 1)[0]
        if not path:
            raise ValueError("sqlite:/// needs a file path, e.g. sqlite:///data/careerbot.sqlite3")
        return SqliteStore(Path(path).expanduser())
    if url.startswith(("postgresql://", "postgres://")):
        from bot.store.postgres import PostgresStore

        return PostgresStore(url)
    scheme = url.split("://")[0] if "://" in url else url[:20]
    raise ValueError(f"unsupported database URL scheme {scheme!r}: use sqlite:///path or postgresql://...")
