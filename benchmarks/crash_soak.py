"""Soak and crash benchmark: is any answer lost or doubled when workers die or are stopped?

Two real workers (`careerbot run slack --http PORT`, the real brain) share one PostgreSQL
database and one local fake of the Slack Web API (tests/integration/slack/slack_fake_api.py, run in
its own process by benchmarks/fake_slack_server.py).
This process plays Slack: it sends signed `app_mention` events, alternating between the workers
like a load balancer, at `--rate` events an hour for `--seconds`, then `--burst-rate` for
`--burst-seconds`. A request that is refused, fails or is not acknowledged within 3 s is retried on
the other worker with `X-Slack-Retry-Num`, as Slack does (up to 3 retries). Mid-run, worker A is
killed with SIGKILL and restarted; once it is back, worker B gets SIGTERM and is restarted.

At the end it waits for the answers to settle and prints, per event: lost (no answer in its
thread), duplicated (the same answer text posted twice in one thread), orphan placeholders
("Thinking…" posts never replaced nor deleted), never acked (all retries failed), p99 ack and p99
answer latency. So that no figure hides another, it also prints how many answers were the
brain's "busy" reply (counted as answered: the person is told to ask again), how many events a
worker acked before their inbox record committed (its log's warning; a crash then would lose
them), and how late this sender started its requests against the schedule (`send_lag_p99_ms`: a
late sender would show up as slow acks that no worker caused). Run by hand (the figures are only
meaningful on a quiet machine):

    .venv/bin/python benchmarks/crash_soak.py                       # 5 min + 1 min burst
    .venv/bin/python benchmarks/crash_soak.py --seconds 30 --burst-seconds 10 --json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "integration" / "slack")]

import aiohttp  # noqa: E402
from slack_fake_api import BOT_USER, TEAM, TOKEN  # noqa: E402
from slack_sdk.signature import SignatureVerifier  # noqa: E402

SECRET = "soak-signing-secret"
BUSY_TEXT = "I'm answering a lot of questions right now"  # the brain's reply when it sheds load
UNRECORDED_ACK = "acked before the database recorded it"  # the Slack adapter's warning
# Questions written for this benchmark: varied enough that answers differ, all in scope.
QUESTIONS = (
    "What does an AI engineer do day to day?",
    "How is an ML engineer different from an AI engineer?",
    "Do I need a lot of math to work with LLMs?",
    "What should I learn first to build LLM apps?",
    "Which skills matter most for an ML engineer?",
    "How long does it take to switch from backend work to AI engineering?",
    "What projects would show I can build with language models?",
    "Is evaluation an important part of AI engineering?",
)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class Worker:
    name: str
    port: int
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def start(self) -> None:
        self.starts += 1
        with open(self.log, "ab") as out:
            out.write(f"\n--- start {self.starts} ---\n".encode())
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "run", "slack", "--http", str(self.port)],
                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
            )

    async def ready(self, session: aiohttp.ClientSession, timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"worker {self.name} exited with {self.proc.returncode}; see {self.log}")
            with contextlib.suppress(aiohttp.ClientError, OSError):
                async with session.get(f"http://127.0.0.1:{self.port}/healthz") as resp:
                    if resp.status == 200:
                        return
            await asyncio.sleep(0.2)
        raise RuntimeError(f"worker {self.name} not ready after {timeout} s")

    def signal(self, sig: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)

    async def wait_exit(self, timeout: float) -> int | None:
        deadline = time.monotonic() + timeout
        while self.proc is not None and self.proc.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        return None if self.proc is None else self.proc.poll()


@dataclass
class Sent:
    ts: str
    first_sent: float
    lag: float = 0.0
    acked: bool = False
    ack_seconds: list[float] = field(default_factory=list)
    attempts: int = 0


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def create_database(admin_url: str) -> tuple[str, str]:
    import psycopg

    name = f"careerbot_soak_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return admin_url.rsplit("/", 1)[0] + f"/{name}", name


def drop_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def mention_payload(i: int, ts: str) -> dict[str, Any]:
    text = QUESTIONS[i % len(QUESTIONS)]
    channel = f"C0SOAK{i % 20:02d}"
    event = {"client_msg_id": f"m-{ts}", "type": "app_mention", "text": f"<@{BOT_USER}> {text}",
             "user": f"U0SOAK{i % 4000:04d}", "ts": ts, "team": TEAM, "channel": channel, "event_ts": ts}
    return {"token": "unused", "team_id": TEAM, "api_app_id": "A0SOAK", "event": event, "type": "event_callback",
            "event_id": f"Ev{ts.replace('.', '')}", "event_time": int(float(ts)),
            "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}]}


async def send_event(session: aiohttp.ClientSession, workers: list[Worker], i: int, record: Sent,
                     verifier: SignatureVerifier) -> None:
    raw = json.dumps(mention_payload(i, record.ts))
    for attempt in range(4):  # the first delivery and Slack's three retries
        worker = workers[(i + attempt) % len(workers)]
        stamp = str(int(time.time()))
        headers = {"content-type": "application/json", "x-slack-request-timestamp": stamp,
                   "x-slack-signature": verifier.generate_signature(timestamp=stamp, body=raw)}
        if attempt:
            headers.update({"x-slack-retry-num": str(attempt), "x-slack-retry-reason": "http_timeout"})
        record.attempts += 1
        start = time.monotonic()
        try:
            async with session.post(f"http://127.0.0.1:{worker.port}/slack/events", data=raw.encode(),
                                    headers=headers, timeout=aiohttp.ClientTimeout(total=3)) as resp:
                await resp.read()
                if resp.status == 200:
                    record.acked = True
                    record.ack_seconds.append(time.monotonic() - start)
                    return
        except (aiohttp.ClientError, OSError, TimeoutError):
            pass
        await asyncio.sleep(min(5.0, 0.5 * 2**attempt))


async def fetch_calls(session: aiohttp.ClientSession, base_url: str) -> list[dict[str, Any]]:
    async with session.get(f"{base_url}/_calls", timeout=aiohttp.ClientTimeout(total=120)) as resp:
        return list(await resp.json())


def tally(calls: list[dict[str, Any]], sent: dict[str, Sent]) -> dict[str, Any]:
    """Count per event. A placeholder edited twice with the same text is one answer (same message)."""
    from adapters.slack.render import thinking_message

    thinking = thinking_message().text
    busy = 0
    posted: dict[str, list[str]] = defaultdict(list)  # thread -> texts of new messages
    edited: dict[str, dict[str, str]] = defaultdict(dict)  # thread -> placeholder ts -> text
    answered_at: dict[str, float] = {}
    placeholder_thread: dict[str, str] = {}
    replaced: set[str] = set()
    deleted: set[str] = set()
    for call in calls:
        if not call["ok"]:
            continue
        method, thread = call["method"], call["thread_ts"]
        if method == "chat.postEphemeral" or (method == "chat.postMessage" and call["text"] != thinking):
            posted[thread].append(str(call["text"]))
            busy += BUSY_TEXT in str(call["text"])
            answered_at.setdefault(thread, call["at"])
        elif method == "chat.postMessage":
            placeholder_thread[call["response_ts"]] = thread
        elif method == "chat.update" and call["ts"] in placeholder_thread:
            replaced.add(call["ts"])
            owner = placeholder_thread[call["ts"]]
            edited[owner][call["ts"]] = str(call["text"])
            answered_at.setdefault(owner, call["at"])
        elif method == "chat.delete":
            deleted.add(call["ts"])

    def answers(ts: str) -> list[str]:
        return posted.get(ts, []) + list(edited.get(ts, {}).values())

    lost = [ts for ts in sent if not answers(ts)]
    duplicated = [ts for ts in sent if len(answers(ts)) != len(set(answers(ts)))]
    orphans = [ph for ph in placeholder_thread if ph not in replaced and ph not in deleted]
    acks = [s.ack_seconds[-1] for s in sent.values() if s.ack_seconds]
    latency = [answered_at[ts] - s.first_sent for ts, s in sent.items() if ts in answered_at]
    return {
        "events": len(sent),
        "acked": sum(s.acked for s in sent.values()),
        "never_acked": sum(not s.acked for s in sent.values()),
        "retried_deliveries": sum(s.attempts - 1 for s in sent.values()),
        "answered": len([ts for ts in sent if answers(ts)]),
        "lost": len(lost),
        "duplicated": len(duplicated),
        "orphan_placeholders": len(orphans),
        "answered_busy": busy,
        "ack_p99_ms": round(percentile(acks, 0.99) * 1000, 1),
        "ack_max_ms": round(max(acks, default=0.0) * 1000, 1),
        "answer_p50_ms": round(percentile(latency, 0.50) * 1000, 1),
        "answer_p99_ms": round(percentile(latency, 0.99) * 1000, 1),
        "send_lag_p99_ms": round(percentile([s.lag for s in sent.values()], 0.99) * 1000, 1),
        "examples": {"lost": lost[:5], "duplicated": duplicated[:5], "orphans": orphans[:5]},
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    fake_port = free_port()
    fake = subprocess.Popen([sys.executable, str(ROOT / "benchmarks" / "fake_slack_server.py"), str(fake_port)],
                            cwd=ROOT, stdout=subprocess.PIPE)
    assert fake.stdout is not None and fake.stdout.readline().strip() == b"ready"
    fake_url = f"http://127.0.0.1:{fake_port}"
    db_url, db_name = create_database(args.database_url)
    tmp = Path(tempfile.mkdtemp(prefix="careerbot-soak-"))
    index_dir = Path(args.index_dir) if args.index_dir else tmp / "index"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
           "SLACK_API_BASE_URL": fake_url + "/api", "CAREERBOT_DATABASE_URL": db_url,
           "CAREERBOT_DATA_DIR": str(tmp), "CAREERBOT_INDEX_DIR": str(index_dir),
           "CAREERBOT_DRAIN_SECONDS": str(args.drain_seconds), "CAREERBOT_LOG_LEVEL": "INFO"}
    env.pop("SLACK_APP_TOKEN", None)
    env.pop("DISCORD_TOKEN", None)
    if not args.index_dir:  # build once, so the workers only load it
        subprocess.run([sys.executable, "-m", "bot.cli", "index", "build", "--out", str(index_dir)],
                       cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    workers = [Worker(n, free_port(), env, tmp / f"worker-{n}.log") for n in ("a", "b")]
    verifier = SignatureVerifier(SECRET)
    sent: dict[str, Sent] = {}
    events: list[str] = []
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    try:
        for w in workers:
            w.start()
        for w in workers:
            await w.ready(session)
        phases = [(args.seconds, args.rate / 3600), (args.burst_seconds, args.burst_rate / 3600)]
        total = args.seconds + args.burst_seconds
        kill_at, term_at = total * args.kill_at, total * args.term_at

        async def chaos() -> None:
            a, b = workers
            await asyncio.sleep(kill_at)
            a.signal(signal.SIGKILL)
            events.append(f"{time.monotonic() - t0:.1f}s: worker a killed with SIGKILL")
            await a.wait_exit(10)
            a.start()
            await a.ready(session)
            events.append(f"{time.monotonic() - t0:.1f}s: worker a restarted and ready")
            await asyncio.sleep(max(0.0, term_at - (time.monotonic() - t0)))
            b.signal(signal.SIGTERM)
            events.append(f"{time.monotonic() - t0:.1f}s: worker b sent SIGTERM")
            code = await b.wait_exit(args.drain_seconds + 30)
            events.append(f"{time.monotonic() - t0:.1f}s: worker b exited with {code}")
            b.start()
            await b.ready(session)
            events.append(f"{time.monotonic() - t0:.1f}s: worker b restarted and ready")

        t0 = time.monotonic()
        chaos_task = asyncio.create_task(chaos())
        tasks: list[asyncio.Task[None]] = []
        i = 0
        phase_start = t0
        for seconds, per_second in phases:
            count = int(seconds * per_second)
            for k in range(count):
                delay = phase_start + k / per_second - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                ts = f"{1800000000 + i}.{i % 1000000:06d}"
                now = time.monotonic()
                sent[ts] = Sent(ts, now, lag=max(0.0, now - (phase_start + k / per_second)))
                tasks.append(asyncio.create_task(send_event(session, workers, i, sent[ts], verifier)))
                i += 1
            phase_start += seconds
        await asyncio.gather(*tasks)
        load_seconds = time.monotonic() - t0
        await chaos_task
        # Settle: until every event has an answer and no placeholder is left, or the time is up.
        deadline = time.monotonic() + args.settle_seconds
        while True:
            result = tally(await fetch_calls(session, fake_url), sent)
            if (result["lost"] == 0 and result["orphan_placeholders"] == 0) or time.monotonic() > deadline:
                break
            await asyncio.sleep(5.0)
        await asyncio.sleep(2.0)
        result = tally(await fetch_calls(session, fake_url), sent)
        result["acked_before_recorded"] = sum(
            w.log.read_text(errors="replace").count(UNRECORDED_ACK) for w in workers if w.log.exists())
        result.update({"load_seconds": round(load_seconds, 1), "rate_per_hour": args.rate,
                       "burst_rate_per_hour": args.burst_rate, "chaos": events, "logs": str(tmp)})
        return result
    finally:
        for w in workers:
            w.signal(signal.SIGTERM)
        for w in workers:
            if await w.wait_exit(args.drain_seconds + 30) is None and w.proc is not None:
                w.proc.kill()
        await session.close()
        fake.terminate()
        fake.wait(10)
        with contextlib.suppress(Exception):
            drop_database(args.database_url, db_name)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=300, help="steady phase length")
    p.add_argument("--rate", type=float, default=50_000, help="steady events per hour")
    p.add_argument("--burst-seconds", type=float, default=60)
    p.add_argument("--burst-rate", type=float, default=500_000, help="burst events per hour")
    p.add_argument("--kill-at", type=float, default=0.3, help="fraction of the run when worker a gets SIGKILL")
    p.add_argument("--term-at", type=float, default=0.7, help="fraction of the run when worker b gets SIGTERM")
    p.add_argument("--drain-seconds", type=float, default=10)
    p.add_argument("--settle-seconds", type=float, default=180, help="how long to wait for answers after the load")
    p.add_argument("--database-url", default=os.environ.get("CAREERBOT_TEST_POSTGRES_URL",
                                                            "postgresql://postgres@127.0.0.1:5432/test"))
    p.add_argument("--index-dir", help="a ready index (skips the build)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    result = asyncio.run(run(args))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key in ("events", "acked", "never_acked", "retried_deliveries", "answered", "answered_busy", "lost",
                    "duplicated", "orphan_placeholders", "acked_before_recorded", "ack_p99_ms", "ack_max_ms",
                    "answer_p50_ms", "answer_p99_ms", "send_lag_p99_ms", "load_seconds"):
            print(f"{key}: {result[key]}")
        for line in result["chaos"]:
            print(f"  {line}")
    return 0 if result["lost"] == result["duplicated"] == result["orphan_placeholders"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
