"""Several real processes on one database: one winner per event key, nothing lost on restart."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PG_URL = os.environ.get("CAREERBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")

# Each child opens the store, says "ready", waits for "go" on stdin (so all race at once) and
# prints whether its claim won.
CLAIMER = """
import sys
from bot.store.sqlite import SqliteStore
from bot.store.postgres import PostgresStore
kind, target, schema, key = sys.argv[1:5]
store = SqliteStore(target) if kind == "sqlite" else PostgresStore(target, schema=schema)
print("ready", flush=True)
sys.stdin.readline()
print("won" if store.claim_event(key) else "lost", flush=True)
store.close()
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def _postgres_reason() -> str | None:
    try:
        import psycopg

        psycopg.connect(PG_URL, connect_timeout=2).close()
    except Exception as exc:
        return f"PostgreSQL unreachable at CAREERBOT_TEST_POSTGRES_URL: {exc}"
    return None


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def target(request: pytest.FixtureRequest, tmp_path: Path):
    """(kind, url-or-path, schema) of a fresh database, dropped afterwards."""
    if request.param == "sqlite":
        yield "sqlite", str(tmp_path / "shared.sqlite3"), "-"
        return
    if reason := _postgres_reason():
        pytest.skip(reason)
    from bot.store.postgres import PostgresStore

    schema = f"cbtest_{uuid.uuid4().hex[:12]}"
    yield "postgres", PG_URL, schema
    PostgresStore(PG_URL, schema=schema).drop_schema()


def test_processes_racing_for_one_event_have_exactly_one_winner(target: tuple[str, str, str]) -> None:
    kind, where, schema = target
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, kind, where, schema, "discord:interaction:42"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=_env(),
            cwd=ROOT,
        )
        for _ in range(4)
    ]
    try:
        for child in children:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "ready"
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        results = [child.communicate(timeout=60)[0].strip() for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
    assert sorted(results) == ["lost", "lost", "lost", "won"]


WRITER = """
import json, sys
from bot.store.sqlite import SqliteStore
from bot.store.postgres import PostgresStore
kind, target, schema = sys.argv[1:4]
store = SqliteStore(target) if kind == "sqlite" else PostgresStore(target, schema=schema)
store.claim_event("evt-1")
store.complete_event("evt-1")
store.append_turn("conv", "slack:U1", "user", "before the restart")
store.save_quiz("slack:U1", {"index": 6, "answers": [1, 2]}, expected_version=0)
store.save_conversation("conv", "slack:U1", {"profile": {"role": "nurse", "math": -1}, "topic": "fit"})
# Die without closing anything, as a killed worker would.
import os
os._exit(0)
"""

READER = """
import json, sys
from bot.store.sqlite import SqliteStore
from bot.store.postgres import PostgresStore
kind, target, schema = sys.argv[1:4]
store = SqliteStore(target) if kind == "sqlite" else PostgresStore(target, schema=schema)
print(json.dumps({
    "claim": store.claim_event("evt-1"),
    "turns": [t.text for t in store.recent_turns("conv")],
    "quiz": store.load_quiz("slack:U1"),
    "conversation": store.load_conversation("conv"),
    "migrated_now": store.migrate(),
}))
store.close()
"""


def test_state_written_by_a_killed_process_is_there_after_restart(target: tuple[str, str, str]) -> None:
    kind, where, schema = target
    args = [kind, where, schema]
    subprocess.run([sys.executable, "-c", WRITER, *args], check=True, env=_env(), cwd=ROOT, timeout=60)
    out = subprocess.run(
        [sys.executable, "-c", READER, *args], check=True, env=_env(), cwd=ROOT, timeout=60,
        capture_output=True, text=True,
    ).stdout
    seen = json.loads(out)
    assert seen == {
        "claim": False,
        "turns": ["before the restart"],
        "quiz": {"index": 6, "answers": [1, 2], "version": 1},
        "conversation": {"profile": {"role": "nurse", "math": -1}, "topic": "fit"},
        "migrated_now": [],
    }
