"""One behavioural suite for every store backend: SQLite always, PostgreSQL when reachable."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from bot.store import AnswerRecord, Store, open_store
from bot.store.migrations import MIGRATIONS, latest_version
from bot.store.sql import SqlStore
from bot.store.sqlite import SqliteStore

PG_URL = os.environ.get("CAREERBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@cache
def postgres_unreachable() -> str | None:
    """Why PostgreSQL tests must skip, or None when the server answers."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed"
    try:
        psycopg.connect(PG_URL, connect_timeout=2).close()
    except Exception as exc:
        return f"PostgreSQL unreachable at CAREERBOT_TEST_POSTGRES_URL ({PG_URL.split('@')[-1]}): {exc}"
    return None


def unique_schema() -> str:
    return f"cbtest_{uuid.uuid4().hex[:12]}"


class Backend:
    """Opens (and reopens) stores of one backend on the same database."""

    def __init__(self, kind: str, tmp_path: Path) -> None:
        self.kind = kind
        self.path = tmp_path / "store.sqlite3"
        self.schema = unique_schema()
        self.opened: list[SqlStore] = []

    def open(self, *, upto: int | None = None) -> SqlStore:
        """Open the store; with `upto`, as code that only knew migrations up to that version."""
        cls: type[SqlStore]
        if self.kind == "sqlite":
            cls = SqliteStore
        else:
            from bot.store.postgres import PostgresStore

            cls = PostgresStore
        if upto is not None:
            earlier = tuple(m for m in MIGRATIONS if m.version <= upto)

            class Earlier(cls):  # type: ignore[valid-type, misc]
                def migrate(self, migrations=earlier):  # type: ignore[no-untyped-def]
                    return super().migrate(migrations)

            cls = Earlier
        store = cls(self.path) if self.kind == "sqlite" else cls(PG_URL, schema=self.schema)  # type: ignore[call-arg]
        self.opened.append(store)
        return store

    def cleanup(self) -> None:
        for store in self.opened:
            store.close()
        if self.kind == "postgres":
            from bot.store.postgres import PostgresStore

            PostgresStore(PG_URL, schema=self.schema).drop_schema()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "postgres" and (reason := postgres_unreachable()):
        pytest.skip(reason)
    b = Backend(request.param, tmp_path)
    yield b
    b.cleanup()


@pytest.fixture
def store(backend: Backend) -> SqlStore:
    return backend.open()


def test_implements_protocol(store: SqlStore) -> None:
    assert isinstance(store, Store)


# --- events ---------------------------------------------------------------------------------
def test_claim_once_then_refused_until_completed(store: SqlStore) -> None:
    assert store.claim_event("slack:evt1") is True
    assert store.claim_event("slack:evt1") is False
    store.complete_event("slack:evt1")
    assert store.claim_event("slack:evt1", lease_seconds=0) is False
    assert store.claim_event("slack:evt2") is True


def test_expired_lease_can_be_reclaimed(store: SqlStore) -> None:
    assert store.claim_event("k", lease_seconds=0) is True
    # The first claimant died without completing: the retry must be processed.
    assert store.claim_event("k", lease_seconds=60) is True
    assert store.claim_event("k") is False


def test_complete_without_claim_blocks_later_claims(store: SqlStore) -> None:
    store.complete_event("never-claimed")
    assert store.claim_event("never-claimed") is False


def test_threads_racing_for_one_event_have_one_winner(store: SqlStore) -> None:
    barrier = threading.Barrier(12)
    wins: list[bool] = []

    def claim() -> None:
        barrier.wait()
        wins.append(store.claim_event("contested"))

    threads = [threading.Thread(target=claim) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(wins) == [False] * 11 + [True]


def test_purge_events_drops_old_keys(store: SqlStore) -> None:
    store.claim_event("old")
    assert store.purge_events(older_than_seconds=-1) == 1
    assert store.claim_event("old") is True


# --- turns ----------------------------------------------------------------------------------
def test_recent_turns_are_the_last_n_oldest_first(store: SqlStore) -> None:
    for i in range(15):
        store.append_turn("conv-a", "slack:U1", "user" if i % 2 == 0 else "assistant", f"m{i}")
    store.append_turn("conv-b", "slack:U2", "user", "other")
    turns = store.recent_turns("conv-a", limit=10)
    assert [t.text for t in turns] == [f"m{i}" for i in range(5, 15)]
    assert turns[0].role == "assistant" and turns[-1].role == "user"
    assert turns[0].created_at <= turns[-1].created_at <= time.time()
    assert [t.text for t in store.recent_turns("conv-b")] == ["other"]
    assert store.recent_turns("nobody") == []


# --- answers and feedback -------------------------------------------------------------------
def _answer(answer_id: str, user_key: str = "slack:U1") -> AnswerRecord:
    return AnswerRecord(
        answer_id=answer_id,
        user_key=user_key,
        conversation_key="slack:T1:C1:user:U1",
        question="AI or ML?",
        text="It depends — **ünïcode** and 'quotes' survive.",
        sources=[{"title": "Roles", "url": "https://example.org/roles", "snippet": "..."}],
        created_at=123.5,
    )


def test_answer_round_trip(store: SqlStore) -> None:
    store.save_answer(_answer("a1"))
    assert store.get_answer("a1") == _answer("a1")
    assert store.get_answer("missing") is None


def test_feedback_second_vote_replaces_first(store: SqlStore) -> None:
    store.save_answer(_answer("a1"))
    store.record_feedback("a1", "slack:U1", True)
    store.record_feedback("a1", "slack:U2", True)
    store.record_feedback("a1", "slack:U3", False)
    assert store.feedback_counts("a1") == (2, 1)
    store.record_feedback("a1", "slack:U1", False)
    assert store.feedback_counts("a1") == (1, 2)
    assert store.feedback_counts("nothing") == (0, 0)


# --- rate limits ----------------------------------------------------------------------------
def test_rate_limit_fixed_window(store: SqlStore) -> None:
    hits = [store.hit_rate_limit("msg:slack:U1", limit=3, window_seconds=3600) for _ in range(5)]
    assert hits == [True, True, True, False, False]
    assert store.hit_rate_limit("msg:slack:U2", limit=3, window_seconds=3600) is True


def test_rate_limit_resets_in_next_window(store: SqlStore) -> None:
    # Windows are fixed and on the database's clock, which may tick apart from ours: a busy machine can
    # put two quick calls on either side of a window's edge, so the pair is tried on fresh keys until it
    # lands in one window (a second straddle in a row is not a real risk), then we wait well past it.
    for attempt in range(3):
        key = f"k{attempt}"
        assert store.hit_rate_limit(key, limit=1, window_seconds=0.5) is True
        if store.hit_rate_limit(key, limit=1, window_seconds=0.5) is False:
            break
    else:
        pytest.fail("a second call within one window was allowed three times")
    time.sleep(1.1)
    assert store.hit_rate_limit(key, limit=1, window_seconds=0.5) is True


# --- quiz -----------------------------------------------------------------------------------
def test_quiz_optimistic_concurrency(store: SqlStore) -> None:
    assert store.load_quiz("slack:U1") is None
    assert store.save_quiz("slack:U1", {"index": 0}, expected_version=0) is True
    # A second "start" racing the first loses instead of overwriting.
    assert store.save_quiz("slack:U1", {"index": 9}, expected_version=0) is False
    state = store.load_quiz("slack:U1")
    assert state == {"index": 0, "version": 1}
    assert store.save_quiz("slack:U1", {"index": 1}, expected_version=1) is True
    # The same button pressed twice: the second write carries the old version and loses.
    assert store.save_quiz("slack:U1", {"index": 2}, expected_version=1) is False
    assert store.load_quiz("slack:U1") == {"index": 1, "version": 2}
    assert store.save_quiz("slack:U1", {"index": 5}) is True  # unconditional
    assert store.load_quiz("slack:U1") == {"index": 5, "version": 3}


def test_deleted_quiz_is_not_resurrected_by_a_stale_write(store: SqlStore) -> None:
    store.save_quiz("slack:U1", {"index": 0}, expected_version=0)
    store.delete_quiz("slack:U1")
    assert store.save_quiz("slack:U1", {"index": 1}, expected_version=1) is False
    assert store.load_quiz("slack:U1") is None


def test_quiz_results_latest_wins(store: SqlStore) -> None:
    assert store.latest_quiz_result("slack:U1") is None
    store.save_quiz_result("slack:U1", {"label": "ml_engineer"})
    store.save_quiz_result("slack:U1", {"label": "ai_engineer", "scores": {"coding": 80}})
    store.save_quiz_result("slack:U2", {"label": "neither"})
    assert store.latest_quiz_result("slack:U1") == {"label": "ai_engineer", "scores": {"coding": 80}}


# --- per-conversation state ------------------------------------------------------------------
PROFILE_STATE = {
    "profile": {"role": "backend developer", "codes": True, "coding_years": 6, "math": 0,
                "motives": ["curiosity"], "quotes": {"role": "I'm a backend developer"}},
    "verdict": {"label": "ai_engineer", "confidence": 0.72},
    "topic": "fit",
}


def _updated_at(store: SqlStore, conversation_key: str) -> tuple[str, float]:
    with store._cursor() as cur:
        cur.execute(store._q("SELECT user_key, updated_at FROM conversation_states WHERE conversation_key = ?"),
                    (conversation_key,))
        row = cur.fetchone()
    return row[0], float(row[1])


def test_conversation_state_round_trip(store: SqlStore) -> None:
    assert store.load_conversation("slack:T1:C1:1700.1") is None
    before = time.time()
    store.save_conversation("slack:T1:C1:1700.1", "slack:U1", PROFILE_STATE)
    assert store.load_conversation("slack:T1:C1:1700.1") == PROFILE_STATE
    writer, updated_at = _updated_at(store, "slack:T1:C1:1700.1")
    assert writer == "slack:U1"
    assert before <= updated_at <= time.time()


def test_conversation_state_overwrite_replaces_whole_state(store: SqlStore) -> None:
    store.save_conversation("conv", "slack:U1", {"topic": "fit", "profile": {"math": -1}})
    _, first = _updated_at(store, "conv")
    time.sleep(0.01)
    # Last writer wins, and the write replaces the state rather than merging into it.
    store.save_conversation("conv", "slack:U2", {"topic": "plan"})
    assert store.load_conversation("conv") == {"topic": "plan"}
    writer, second = _updated_at(store, "conv")
    assert writer == "slack:U2" and second > first
    store.save_conversation("conv", "slack:U2", {})
    assert store.load_conversation("conv") == {}  # an empty state is a state, not "none"


def test_conversation_states_are_isolated(store: SqlStore) -> None:
    keys = ["discord:G1:C1:user:U1", "discord:G1:C1:user:U12", "discord:G1:C1:thread9", "console:-:tty:user:me"]
    for i, key in enumerate(keys):
        store.save_conversation(key, f"discord:U{i}", {"n": i, "key": key})
    store.save_conversation(keys[0], "discord:U0", {"n": 100})
    assert store.load_conversation(keys[0]) == {"n": 100}
    for i, key in enumerate(keys[1:], start=1):
        assert store.load_conversation(key) == {"n": i, "key": key}
    assert store.load_conversation("discord:G1:C1:user:U") is None
    assert store.load_conversation("discord:G1:C1:user:%") is None


def test_conversation_state_unicode_and_nested_data(store: SqlStore) -> None:
    state = {
        "quotes": {"goal": "Ich möchte KI-Ingenieurin werden 🤖", "role": "エンジニア", "rtl": "مهندس",
                   "combining": "e\u0301", "quotes": "it's \"fine\" \\ ok", "sql": "'; DROP TABLE turns; --"},
        "control": "nul\x00tab\tnewline\n",
        "lone_surrogate": "\udc80",
        "nested": {"a": [1, 2.5, -3, True, False, None, {"b": [[], {}, [{"c": "deep"}]]}]},
        "big": 2**53 + 1,
        "long": "x" * 100_000,
    }
    store.save_conversation("conv-ü", "slack:Ü1", state)
    assert store.load_conversation("conv-ü") == state
    # JSON's round trip, documented on the protocol: tuples become lists, keys become strings.
    store.save_conversation("conv-json", "slack:U1", {"motives": ("money", "curiosity"), "by_week": {1: "a"}})
    assert store.load_conversation("conv-json") == {"motives": ["money", "curiosity"], "by_week": {"1": "a"}}


def test_unencodable_state_is_refused_and_leaves_the_old_one(store: SqlStore) -> None:
    store.save_conversation("conv", "slack:U1", {"topic": "fit"})
    with pytest.raises(TypeError):
        store.save_conversation("conv", "slack:U1", {"skills": {"python"}})  # a set is not JSON
    with pytest.raises(TypeError, match="must be a dict"):
        store.save_conversation("conv", "slack:U1", ["not", "a", "dict"])  # type: ignore[arg-type]
    assert store.load_conversation("conv") == {"topic": "fit"}


def test_racing_conversation_writers_leave_one_whole_state(store: SqlStore) -> None:
    barrier = threading.Barrier(8)
    states = [{"writer": i, "facts": [i] * 50} for i in range(8)]

    def save(i: int) -> None:
        barrier.wait()
        store.save_conversation("shared-thread", f"slack:U{i}", states[i])

    threads = [threading.Thread(target=save, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    final = store.load_conversation("shared-thread")
    assert final in states
    assert _updated_at(store, "shared-thread")[0] == f"slack:U{final['writer']}"


def test_conversation_state_survives_close_and_reopen(backend: Backend) -> None:
    store = backend.open()
    store.save_conversation("slack:T1:D1:user:U1", "slack:U1", PROFILE_STATE)
    store.save_conversation("slack:T1:D1:user:U1", "slack:U1", {**PROFILE_STATE, "topic": "plan"})
    store.close()
    reopened = backend.open()  # same SQLite file / same PostgreSQL schema, fresh connections
    assert reopened.load_conversation("slack:T1:D1:user:U1") == {**PROFILE_STATE, "topic": "plan"}
    assert reopened.forget_user("slack:U1") == 1


def test_forget_user_deletes_only_their_conversation_states(store: SqlStore) -> None:
    store.save_conversation("conv-1", "slack:U1", {"who": "U1"})
    store.save_conversation("conv-2", "slack:U1", {"who": "U1"})
    store.save_conversation("conv-12", "slack:U12", {"who": "U12"})  # a prefix-sharing id
    store.save_conversation("conv-3", "slack:U2", {"who": "U2"})
    # A thread both wrote to, U2 last: the merged state may still hold U1's words.
    store.save_conversation("thread", "slack:U1", {"facts": ["U1 said"]})
    store.save_conversation("thread", "slack:U2", {"facts": ["U1 said", "U2 said"]})

    assert store.forget_user("slack:U1") == 3  # conv-1, conv-2 and the shared thread
    for key in ("conv-1", "conv-2", "thread"):
        assert store.load_conversation(key) is None
    assert store.load_conversation("conv-12") == {"who": "U12"}
    assert store.load_conversation("conv-3") == {"who": "U2"}
    assert store.forget_user("slack:U1") == 0

    # The thread starts afresh without U1: U1's earlier part in it no longer counts.
    store.save_conversation("thread", "slack:U2", {"facts": ["U2 again"]})
    assert store.forget_user("slack:U1") == 0
    assert store.load_conversation("thread") == {"facts": ["U2 again"]}
    assert store.forget_user("slack:U2") == 2  # conv-3 and the thread
    assert store.load_conversation("conv-12") == {"who": "U12"}
    with store._cursor() as cur:
        cur.execute("SELECT user_key FROM conversation_state_writers")
        assert [r[0] for r in cur.fetchall()] == ["slack:U12"]


# --- forget ---------------------------------------------------------------------------------
def _populate(store: SqlStore, user_key: str, suffix: str) -> None:
    store.append_turn(f"conv-{suffix}", user_key, "user", "hi")
    store.append_turn(f"conv-{suffix}", user_key, "assistant", "hello")
    store.save_answer(_answer(f"ans-{suffix}", user_key))
    store.record_feedback(f"ans-{suffix}", user_key, True)
    store.save_quiz(user_key, {"index": 3})
    store.save_quiz_result(user_key, {"label": "either"})
    store.hit_rate_limit(user_key, limit=5, window_seconds=60)
    store.hit_rate_limit(f"msg:{user_key}", limit=5, window_seconds=60)
    store.save_conversation(f"conv-{suffix}", user_key, {"topic": "fit", "profile": {"codes": True}})


def test_forget_user_deletes_everything_and_only_theirs(store: SqlStore) -> None:
    _populate(store, "slack:U1", "1")
    _populate(store, "slack:U12", "12")  # a prefix-sharing id must survive
    store.record_feedback("ans-1", "slack:U12", False)  # feedback on U1's answer goes with it

    deleted = store.forget_user("slack:U1")
    # 2 turns + 1 answer + 2 feedback + 1 session + 1 result + 2 rate counters + 1 conversation state
    assert deleted == 10
    assert store.recent_turns("conv-1") == []
    assert store.get_answer("ans-1") is None
    assert store.feedback_counts("ans-1") == (0, 0)
    assert store.load_quiz("slack:U1") is None
    assert store.latest_quiz_result("slack:U1") is None
    assert store.hit_rate_limit("slack:U1", limit=1, window_seconds=60) is True  # counter was reset
    assert store.load_conversation("conv-1") is None

    assert len(store.recent_turns("conv-12")) == 2
    assert store.get_answer("ans-12") is not None
    assert store.feedback_counts("ans-12") == (1, 0)
    assert store.load_quiz("slack:U12") is not None
    assert store.latest_quiz_result("slack:U12") == {"label": "either"}
    assert store.hit_rate_limit("slack:U12", limit=1, window_seconds=60) is False
    assert store.load_conversation("conv-12") == {"topic": "fit", "profile": {"codes": True}}
    assert store.forget_user("slack:U1") == 1  # only the counter hit just above


def test_forget_user_treats_like_wildcards_literally(store: SqlStore) -> None:
    store.hit_rate_limit("msg:slack:UA1", limit=5, window_seconds=60)
    assert store.forget_user("slack:U_1") == 0
    assert store.forget_user("slack:%") == 0


# --- schema and lifecycle -------------------------------------------------------------------
def test_migrations_are_idempotent(backend: Backend) -> None:
    store = backend.open()
    assert store.schema_version() == latest_version()
    assert store.migrate() == []
    store.close()
    again = backend.open()
    assert again.migrate() == []
    assert again.schema_version() == latest_version()
    with again._cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM schema_version")
        assert cur.fetchone()[0] == len(MIGRATIONS)


def test_migrations_apply_only_what_is_pending(tmp_path: Path) -> None:
    class FirstOnly(SqliteStore):
        def migrate(self, migrations=MIGRATIONS[:1]):  # type: ignore[no-untyped-def]
            return super().migrate(migrations)

    FirstOnly(tmp_path / "db.sqlite3").close()
    store = SqliteStore(tmp_path / "db.sqlite3")  # the upgrade runs at open
    assert store.schema_version() == latest_version()
    assert store.migrate() == []
    store.close()


def _has_table(store: SqlStore, name: str) -> bool:
    with store._cursor() as cur:
        if store.dialect == "sqlite":
            cur.execute("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
            return bool(cur.fetchone()[0])
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", (name,))  # resolved on the store's search_path
        return bool(cur.fetchone()[0])


def test_migration_adds_conversation_state_to_a_version_2_database(backend: Backend) -> None:
    # A database as the previous release left it: migrations 1-2 only, with data in it.
    old = backend.open(upto=2)
    assert old.schema_version() == 2
    assert not _has_table(old, "conversation_states")
    old.append_turn("conv", "slack:U1", "user", "from before the upgrade")
    old.save_quiz("slack:U1", {"index": 2}, expected_version=0)
    old.close()

    upgraded = backend.open()  # current code: the upgrade runs at open, in place
    assert upgraded.schema_version() == latest_version()
    assert _has_table(upgraded, "conversation_states") and _has_table(upgraded, "conversation_state_writers")
    assert upgraded.migrate() == []
    assert [t.text for t in upgraded.recent_turns("conv")] == ["from before the upgrade"]
    assert upgraded.load_quiz("slack:U1") == {"index": 2, "version": 1}
    assert upgraded.load_conversation("conv") is None
    upgraded.save_conversation("conv", "slack:U1", PROFILE_STATE)
    assert upgraded.load_conversation("conv") == PROFILE_STATE
    upgraded.close()

    again = backend.open()
    assert again.migrate() == []
    assert again.load_conversation("conv") == PROFILE_STATE
    assert again.forget_user("slack:U1") == 3  # 1 turn + 1 quiz session + 1 conversation state
    with again._cursor() as cur:
        cur.execute("SELECT version FROM schema_version ORDER BY version")
        assert [r[0] for r in cur.fetchall()] == [m.version for m in MIGRATIONS]


def test_data_survives_close_and_reopen(backend: Backend) -> None:
    store = backend.open()
    store.claim_event("e1")
    store.complete_event("e1")
    store.append_turn("c", "slack:U1", "user", "remember me")
    store.save_quiz("slack:U1", {"index": 4}, expected_version=0)
    store.save_quiz_result("slack:U1", {"label": "ml_engineer"})
    store.close()

    reopened = backend.open()
    assert reopened.claim_event("e1") is False
    assert [t.text for t in reopened.recent_turns("c")] == ["remember me"]
    assert reopened.load_quiz("slack:U1") == {"index": 4, "version": 1}
    assert reopened.latest_quiz_result("slack:U1") == {"label": "ml_engineer"}


def test_closed_store_refuses_work(store: SqlStore) -> None:
    store.close()
    with pytest.raises(RuntimeError, match="closed"):
        store.load_quiz("x")


def test_open_store_sqlite_creates_parent_dir(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "er" / "bot.sqlite3"
    store = open_store(f"sqlite:///{target}")
    try:
        assert isinstance(store, SqliteStore)
        assert target.exists()
    finally:
        store.close()


def test_open_store_rejects_unknown_scheme() -> None:
    with pytest.raises(ValueError, match="unsupported database URL"):
        open_store("mysql://localhost/db")
    with pytest.raises(ValueError, match="file path"):
        open_store("sqlite:///")


@pytest.mark.postgres
def test_open_store_postgres() -> None:
    if reason := postgres_unreachable():
        pytest.skip(reason)
    from bot.store.postgres import PostgresStore

    store = open_store(PG_URL)
    try:
        assert isinstance(store, PostgresStore)
        assert "postgres@" not in repr(store)
    finally:
        store.close()
