"""Real worker processes (`careerbot run slack --http PORT`) killed with SIGKILL and stopped with SIGTERM.

An answer is held "in flight" without slowing anything artificially: the fake Web API answers the
answer's chat.postMessage with 429 and a long Retry-After, so the worker's Slack client is waiting
to post when the signal arrives (nothing was posted yet, as with real Slack).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest
from conftest import CHANNEL, SECRET, SlackSender, app_mention
from slack_fake_api import TEAM, TOKEN, FakeSlack

from adapters.slack.render import thinking_message
from bot.store.sqlite import SqliteStore

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class WorkerProcess:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.log = log
        with open(log, "ab") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "run", "slack", "--http", str(self.port)],
                                         cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)

    async def ready(self) -> None:
        deadline = time.monotonic() + 600
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                assert self.proc.poll() is None, self.log.read_text()[-2000:]
                try:
                    async with session.get(f"http://127.0.0.1:{self.port}/healthz") as resp:
                        if resp.status == 200:
                            return
                except (aiohttp.ClientError, OSError):
                    pass
                await asyncio.sleep(0.2)
        raise AssertionError("worker never became ready")

    async def exit_code(self, timeout: float) -> int | None:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return self.proc.poll()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


async def stalled_post(fake: FakeSlack, before: int) -> None:
    """Wait until the worker's answer hit the 429 (it is now waiting to retry)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if len([c for c in fake.calls if c.method == "chat.postMessage" and c.status == 429]) > before:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the answer never reached chat.postMessage")


def answers_in(fake: FakeSlack, ts: str) -> list[str]:
    """Answers in the thread: new messages, and "Thinking…" placeholders as edited (one each)."""
    thinking = thinking_message().text
    posts = [c for c in fake.calls_to("chat.postMessage") if c.params.get("thread_ts") == ts]
    placeholders = {c.response.get("ts") for c in posts if c.params.get("text") == thinking}
    edited = {c.params.get("ts"): str(c.params.get("text")) for c in fake.calls_to("chat.update")
              if c.params.get("ts") in placeholders}
    return [str(c.params.get("text")) for c in posts if c.params.get("text") != thinking] + list(edited.values())


async def until_answered(fake: FakeSlack, ts: str) -> None:
    deadline = time.monotonic() + 90
    while not answers_in(fake, ts):
        assert time.monotonic() < deadline, f"no answer in thread {ts}: {fake.methods()}"
        await asyncio.sleep(0.1)
    await fake.quiet(1.0)


async def mention_in_flight(fake: FakeSlack, session: aiohttp.ClientSession, worker: WorkerProcess, text: str, *,
                           stalled: int) -> str:
    """Send `worker` an app mention and return its ts once the answer is in flight (its post held by a rate limit)."""
    fake.rate_limit("chat.postMessage", times=1, retry_after=60)
    event = app_mention(text)
    sender = SlackSender(f"http://127.0.0.1:{worker.port}/slack/events", session)
    assert (await sender.event(event)).status == 200
    await stalled_post(fake, stalled)
    return str(event["event"]["ts"])


async def test_sigkill_is_resumed_and_sigterm_drains_without_loss_or_duplicates(
    fake: FakeSlack, knowledge, base_settings, tmp_path: Path
) -> None:
    db = tmp_path / "workers.sqlite3"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
           "SLACK_API_BASE_URL": fake.base_url + "/api", "CAREERBOT_DATABASE_URL": f"sqlite:///{db}",
           "CAREERBOT_DATA_DIR": str(tmp_path), "CAREERBOT_INDEX_DIR": str(base_settings.index_dir),
           "CAREERBOT_INBOX_LEASE_SECONDS": "2", "CAREERBOT_DRAIN_SECONDS": "0.5"}
    for name in ("SLACK_APP_TOKEN", "DISCORD_TOKEN", "CAREERBOT_LLM"):
        env.pop(name, None)
    workers: list[WorkerProcess] = []
    session = aiohttp.ClientSession()
    try:
        # 1. SIGKILL with an answer in flight: the next worker resumes it after the lease.
        a = WorkerProcess(env, tmp_path / "a.log")
        workers.append(a)
        await a.ready()
        first_ts = await mention_in_flight(fake, session, a, "What does an AI engineer build?", stalled=0)
        a.proc.send_signal(signal.SIGKILL)
        assert await a.exit_code(10) == -signal.SIGKILL
        store = SqliteStore(db)
        key1 = f"slack:{TEAM}:{CHANNEL}:{first_ts}"
        assert store.inbox_state(key1) == "pending", "recorded before the ack, not finished"
        b = WorkerProcess(env, tmp_path / "b.log")
        workers.append(b)
        await b.ready()
        await until_answered(fake, first_ts)
        assert len(answers_in(fake, first_ts)) == 1, "answered once after the crash"

        # 2. SIGTERM with an answer in flight: handed back within the drain, resumed by the next worker.
        second_ts = await mention_in_flight(fake, session, b, "Which math does an ML engineer need?", stalled=1)
        b.proc.send_signal(signal.SIGTERM)
        assert await b.exit_code(30) == 0, "SIGTERM drains and exits cleanly"
        log = (tmp_path / "b.log").read_text()
        assert "SIGTERM received" in log and "handed back" in log
        key2 = f"slack:{TEAM}:{CHANNEL}:{second_ts}"
        handed = store.inbox_get(key2)
        assert handed is not None and store.inbox_state(key2) == "pending" and handed.attempts == 0
        assert store.inbox_stats()["pending"] >= 1, "claimable at once, not after a lease"
        c = WorkerProcess(env, tmp_path / "c.log")
        workers.append(c)
        await c.ready()
        await until_answered(fake, second_ts)
        assert len(answers_in(fake, second_ts)) == 1
        assert len(answers_in(fake, first_ts)) == 1
        assert store.inbox_state(key1) == store.inbox_state(key2) == "done"
        store.close()
    finally:
        await session.close()
        for w in workers:
            w.stop()
