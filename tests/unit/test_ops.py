"""Health, metrics and logs on their own: readiness reasons, scrape-time inbox counts, JSON lines."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import threading
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.messages import Inbound, Kind, Reply, Source
from bot.ops import AnswerLog, Health, Metrics, configure_logging, hash_user
from bot.ops.logs import JsonFormatter
from bot.store import open_store
from bot.store.sqlite import SqliteStore


def values(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for f in text_string_to_metric_families(text) for s in f.samples}


@pytest.fixture
def sqlite(tmp_path: Path):
    store = open_store(f"sqlite:///{tmp_path / 's.sqlite3'}")
    yield store
    store.close()


def inbound(platform: str = "slack", user: str = "U1") -> Inbound:
    return Inbound(platform, user, "C1", "what does an AI engineer do?", Kind.MENTION)


# --- health -----------------------------------------------------------------------------------------

async def test_ready_when_index_store_and_platforms_are(sqlite) -> None:
    health = Health(sqlite, index_loaded=lambda: True)
    connected = {"v": False}
    health.add_platform("discord", lambda: connected["v"])

    async def socket_alive() -> bool:
        return True

    health.add_platform("slack", socket_alive)
    assert await health.ready() == (False, {"index": "ok", "store": "ok", "discord": "not connected", "slack": "ok"})
    connected["v"] = True
    assert (await health.ready())[0]
    health.close()


async def test_a_closed_store_is_not_ready(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'gone.sqlite3'}")
    store.close()
    health = Health(store, index_loaded=lambda: True)
    ready, checks = await health.ready()
    assert not ready and checks["store"].startswith("error: ")
    health.close()


class HangingStore(SqliteStore):
    """A real SQLite store whose reads hang, like a database behind a dead network link."""

    def __init__(self, path: Path, release: threading.Event) -> None:
        super().__init__(path)
        self.release = release

    def load_conversation(self, conversation_key: str):  # type: ignore[override]
        self.release.wait(5)
        return super().load_conversation(conversation_key)


async def test_a_hung_store_times_out_without_blocking_the_loop(tmp_path: Path) -> None:
    release = threading.Event()
    store = HangingStore(tmp_path / "h.sqlite3", release)
    health = Health(store, index_loaded=lambda: True, timeout=0.2)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    tick = asyncio.create_task(ticker())
    ready, checks = await health.ready()
    tick.cancel()
    release.set()
    assert not ready and checks["store"] == "no answer within 0.2 s"
    assert ticks >= 5, "the event loop was blocked while the store hung"
    health.close()
    store.close()


# --- metrics ----------------------------------------------------------------------------------------

def test_registries_are_per_instance() -> None:
    a, b = Metrics(), Metrics()
    a.observe(inbound(), Reply(text="x", intent="question"), 0.02)
    assert a.registry.get_sample_value("careerbot_answers_total", {"platform": "slack", "intent": "question"}) == 1
    assert b.registry.get_sample_value("careerbot_answers_total", {"platform": "slack", "intent": "question"}) is None


async def test_observe_counts_votes_llm_outcomes_and_rate_limits(sqlite) -> None:
    m = Metrics()
    m.observe(inbound(), Reply(text="ok", intent="question", data={"llm_outcome": "answered"}), 0.3)
    m.observe(inbound(), Reply(text="ok", intent="question", data={"llm_outcome": "fallback", "llm_fallback": "timeout"}), 1.2)
    m.observe(inbound("discord"), Reply(text="thanks", intent="feedback", data={"vote": "down"}), 0.01)
    m.observe(inbound("discord"), Reply(text="slow down", intent="rate_limited"), 0.001)
    got = values((await m.render(sqlite)).decode())
    assert got[("careerbot_llm_calls_total", (("outcome", "answered"),))] == 1
    assert got[("careerbot_llm_calls_total", (("outcome", "fallback"),))] == 1
    assert got[("careerbot_llm_fallbacks_total", (("reason", "timeout"),))] == 1
    assert got[("careerbot_feedback_votes_total", (("vote", "down"),))] == 1
    assert got[("careerbot_rate_limited_total", (("platform", "discord"),))] == 1
    assert got[("careerbot_answer_seconds_bucket", (("le", "0.5"), ("platform", "slack")))] == 1
    assert got[("careerbot_answer_seconds_count", (("platform", "slack"),))] == 2
    assert got[("careerbot_inbox_messages", (("state", "pending"),))] == 0  # the store's durable inbox, read at scrape


class InboxStore(SqliteStore):
    """A real SQLite store with the inbox counts the durable inbox adds (`inbox_stats`)."""

    calls_on: list[str] = []

    def inbox_stats(self) -> dict[str, int]:
        InboxStore.calls_on.append(threading.current_thread().name)
        return {"pending": 3, "in_flight": 1, "retried": 7, "given_up": 0}


async def test_inbox_depth_is_read_at_scrape_time_off_the_loop(tmp_path: Path) -> None:
    store = InboxStore(tmp_path / "i.sqlite3")
    m = Metrics()
    got = values((await m.render(store)).decode())
    assert got[("careerbot_inbox_messages", (("state", "pending"),))] == 3
    assert got[("careerbot_inbox_messages", (("state", "retried"),))] == 7
    assert InboxStore.calls_on and InboxStore.calls_on[-1] != threading.current_thread().name
    store.close()


# --- logs -------------------------------------------------------------------------------------------

def test_json_lines_and_the_answer_line_carry_no_user_text() -> None:
    stream = io.StringIO()
    handler = configure_logging("INFO", "json", stream=stream)
    try:
        reply = Reply(text="answer", intent="question", sources=(Source(title="t", url="u", snippet="s"),))
        asker = inbound(user="U0SECRETID")
        AnswerLog()(asker, reply, 0.0421)
        logging.getLogger("careerbot.test").warning("two\nlines", exc_info=ValueError("boom"))
        lines = stream.getvalue().splitlines()
        assert len(lines) == 2, lines  # the traceback stays inside its JSON object
        answer, warning = (json.loads(line) for line in lines)
        assert answer["message"].startswith("answer ") and answer["level"] == "INFO"
        assert {k: answer[k] for k in ("platform", "intent", "sources", "latency_ms", "user")} == {
            "platform": "slack", "intent": "question", "sources": 1, "latency_ms": 42.1, "user": hash_user(asker.user_key)}
        assert "U0SECRETID" not in lines[0] and "AI engineer do" not in lines[0]
        assert warning["message"] == "two\nlines" and "ValueError: boom" in warning["exception"]
    finally:
        logging.getLogger().removeHandler(handler)


def test_library_noise_is_quiet() -> None:
    stream = io.StringIO()
    handler = configure_logging("DEBUG", "text", stream=stream)
    try:
        logging.getLogger("discord.client").warning("PyNaCl is not installed, voice will NOT be supported")
        logging.getLogger("discord.client").warning("davey is not installed, voice will NOT be supported")
        logging.getLogger("careerbot.slack").warning("As you gave `client` as well, `token` will be unused.")
        logging.getLogger("matplotlib.font_manager").debug("findfont: score(FontEntry(...)) = 10.05")
        logging.getLogger("careerbot").debug("kept")
        assert stream.getvalue().strip().endswith("careerbot: kept")
        assert len(stream.getvalue().strip().splitlines()) == 1
    finally:
        logging.getLogger().removeHandler(handler)


def test_json_formatter_renders_odd_extras_as_text() -> None:
    record = logging.makeLogRecord({"name": "x", "levelname": "INFO", "msg": "m", "thing": object()})
    assert json.loads(JsonFormatter().format(record))["thing"].startswith("<object")


async def test_a_taken_ops_port_is_a_one_line_config_error(sqlite) -> None:
    import socket

    from bot.config import ConfigError
    from bot.ops import start_ops_server

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        health = Health(sqlite, index_loaded=lambda: True)
        with pytest.raises(ConfigError, match=f"CAREERBOT_HTTP_PORT {port}: cannot listen"):
            await start_ops_server(health, Metrics(), port, host="127.0.0.1")
        health.close()
