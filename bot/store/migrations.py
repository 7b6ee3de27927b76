"""Versioned schema for the SQL stores, applied in order when a store opens.

Why hand-rolled: the schema is small, both backends need it, and an admin upgrading the bot must
never run a separate migration command. Each migration has a number, a description and the DDL for
each dialect. `schema_version` records what has been applied, so opening a store twice (or from
several processes at once) applies each migration exactly once. Never edit a shipped migration:
append a new one.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MIGRATIONS", "SCHEMA_VERSION_DDL", "Migration", "latest_version", "pending"]


@dataclass(frozen=True)
class Migration:
    """One schema step; `sqlite` and `postgres` hold the statements for that dialect."""

    version: int
    description: str
    sqlite: tuple[str, ...]
    postgres: tuple[str, ...]

    def statements(self, dialect: str) -> tuple[str, ...]:
        if dialect == "sqlite":
            return self.sqlite
        if dialect == "postgres":
            return self.postgres
        raise ValueError(f"unknown SQL dialect {dialect!r}")


# Table bodies shared by both dialects except for the types that differ.
def _tables(real: str, autoid: str, text_json: str) -> tuple[str, ...]:
    return (
        f"""CREATE TABLE IF NOT EXISTS events (
            key TEXT PRIMARY KEY,
            done INTEGER NOT NULL DEFAULT 0,
            lease_until {real} NOT NULL,
            created_at {real} NOT NULL)""",
        f"""CREATE TABLE IF NOT EXISTS turns (
            id {autoid},
            conversation_key TEXT NOT NULL,
            user_key TEXT NOT NULL,
            role TEXT NOT NULL,
            text TEXT NOT NULL,
            created_at {real} NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS turns_by_conversation ON turns (conversation_key, id)",
        "CREATE INDEX IF NOT EXISTS turns_by_user ON turns (user_key)",
        f"""CREATE TABLE IF NOT EXISTS answers (
            answer_id TEXT PRIMARY KEY,
            user_key TEXT NOT NULL,
            conversation_key TEXT NOT NULL,
            question TEXT NOT NULL,
            text TEXT NOT NULL,
            sources {text_json} NOT NULL,
            created_at {real} NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS answers_by_user ON answers (user_key)",
        f"""CREATE TABLE IF NOT EXISTS feedback (
            answer_id TEXT NOT NULL,
            user_key TEXT NOT NULL,
            helpful INTEGER NOT NULL,
            created_at {real} NOT NULL,
            PRIMARY KEY (answer_id, user_key))""",
        "CREATE INDEX IF NOT EXISTS feedback_by_user ON feedback (user_key)",
        f"""CREATE TABLE IF NOT EXISTS rate_limits (
            key TEXT PRIMARY KEY,
            window_start {real} NOT NULL,
            count INTEGER NOT NULL)""",
        f"""CREATE TABLE IF NOT EXISTS quiz_sessions (
            user_key TEXT PRIMARY KEY,
            state {text_json} NOT NULL,
            version INTEGER NOT NULL,
            updated_at {real} NOT NULL)""",
        f"""CREATE TABLE IF NOT EXISTS quiz_results (
            id {autoid},
            user_key TEXT NOT NULL,
            result {text_json} NOT NULL,
            created_at {real} NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS quiz_results_by_user ON quiz_results (user_key, id)",
    )


def _conversation_state_tables(real: str, text_json: str) -> tuple[str, ...]:
    # One row per conversation (last writer wins). A thread's key is shared by everyone in it, so
    # `user_key` (the last writer) alone cannot tell /forget which states hold a person's words:
    # `conversation_state_writers` remembers every user who ever saved a conversation's state.
    return (
        f"""CREATE TABLE IF NOT EXISTS conversation_states (
            conversation_key TEXT PRIMARY KEY,
            user_key TEXT NOT NULL,
            state {text_json} NOT NULL,
            updated_at {real} NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS conversation_states_by_user ON conversation_states (user_key)",
        """CREATE TABLE IF NOT EXISTS conversation_state_writers (
            conversation_key TEXT NOT NULL,
            user_key TEXT NOT NULL,
            PRIMARY KEY (conversation_key, user_key))""",
        "CREATE INDEX IF NOT EXISTS conversation_state_writers_by_user ON conversation_state_writers (user_key)",
    )


def _usage_tables(real: str, autoid: str) -> tuple[str, ...]:
    # One row per reply to a message or command (not per button press), for `careerbot report` and
    # the admin dashboard. `day` is the UTC date written at insert time, so both dialects group by a
    # plain column. `question` is kept only for replies out of scope (the knowledge base's gaps);
    # `llm_fallback` holds why the LLM path failed when the offline composer answered instead.
    return (
        f"""CREATE TABLE IF NOT EXISTS usage (
            id {autoid},
            day TEXT NOT NULL,
            created_at {real} NOT NULL,
            platform TEXT NOT NULL,
            kind TEXT NOT NULL,
            intent TEXT NOT NULL,
            user_key TEXT NOT NULL,
            answer_id TEXT,
            question TEXT,
            llm_fallback TEXT)""",
        "CREATE INDEX IF NOT EXISTS usage_by_day ON usage (day)",
        "CREATE INDEX IF NOT EXISTS usage_by_user ON usage (user_key)",
        "CREATE INDEX IF NOT EXISTS usage_by_answer ON usage (answer_id)",
    )


def _inbox_tables(real: str) -> tuple[str, ...]:
    # The durable inbox: every platform event is written here before it is acknowledged, so a
    # worker that dies (or is stopped) after the ack leaves a row another worker can resume.
    # `state` is pending (owned while `owner` is set and `lease_until` is in the future), done or
    # given_up; `steps` records what was already sent (placeholder ts, answer ts) so a resumed
    # answer edits or skips instead of posting twice. `payload` is emptied when the row is done.
    return (
        f"""CREATE TABLE IF NOT EXISTS inbox (
            key TEXT PRIMARY KEY,
            platform TEXT NOT NULL,
            user_key TEXT NOT NULL,
            conversation_key TEXT NOT NULL,
            payload TEXT NOT NULL,
            state TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            owner TEXT,
            lease_until {real} NOT NULL,
            steps TEXT NOT NULL,
            last_error TEXT,
            created_at {real} NOT NULL,
            updated_at {real} NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS inbox_due ON inbox (state, platform, lease_until)",
        "CREATE INDEX IF NOT EXISTS inbox_by_user ON inbox (user_key)",
        "CREATE INDEX IF NOT EXISTS inbox_by_age ON inbox (created_at)",
    )


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        version=1,
        description="events, turns, answers, feedback, rate limits, quiz sessions and results",
        sqlite=_tables("REAL", "INTEGER PRIMARY KEY AUTOINCREMENT", "TEXT"),
        postgres=_tables("DOUBLE PRECISION", "BIGSERIAL PRIMARY KEY", "TEXT"),
    ),
    Migration(
        version=2,
        description="index to purge old event keys cheaply",
        sqlite=("CREATE INDEX IF NOT EXISTS events_by_age ON events (created_at)",),
        postgres=("CREATE INDEX IF NOT EXISTS events_by_age ON events (created_at)",),
    ),
    Migration(
        version=3,
        description="per-conversation state for follow-ups, and who wrote it (for /forget)",
        sqlite=_conversation_state_tables("REAL", "TEXT"),
        postgres=_conversation_state_tables("DOUBLE PRECISION", "TEXT"),
    ),
    Migration(
        version=4,
        description="durable inbox: events recorded before the ack, with leases and delivery steps",
        sqlite=_inbox_tables("REAL"),
        postgres=_inbox_tables("DOUBLE PRECISION"),
    ),
    Migration(
        version=5,
        description="usage: one row per reply (platform, intent, out-of-scope question, LLM fallback)",
        sqlite=_usage_tables("REAL", "INTEGER PRIMARY KEY AUTOINCREMENT"),
        postgres=_usage_tables("DOUBLE PRECISION", "BIGSERIAL PRIMARY KEY"),
    ),
)

SCHEMA_VERSION_DDL = {
    "sqlite": """CREATE TABLE IF NOT EXISTS schema_version (
        version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at REAL NOT NULL)""",
    "postgres": """CREATE TABLE IF NOT EXISTS schema_version (
        version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at DOUBLE PRECISION NOT NULL)""",
}


def pending(applied: set[int], migrations: tuple[Migration, ...] = MIGRATIONS) -> list[Migration]:
    """Migrations not yet in `applied`, in version order."""
    return sorted((m for m in migrations if m.version not in applied), key=lambda m: m.version)


def latest_version(migrations: tuple[Migration, ...] = MIGRATIONS) -> int:
    return max(m.version for m in migrations)
