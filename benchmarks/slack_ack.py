"""Slack HTTP-mode benchmark: ack latency and answers per second, with no Slack involved.

Three processes, as in production: this one serves the adapter in HTTP mode on 127.0.0.1 with the
real brain (or `--brain echo`); the fake Slack Web API runs in its own process
(benchmarks/fake_slack_server.py); and a sender process plays Slack, posting signed
`app_mention` events at a fixed rate (open loop: a slow ack does not slow the sender down) and
timing each request from just before it is written to when the response is read.

Why separate processes: when the sender and the fake share the adapter's event loop, every ack
they time also includes the sender's own signing and the fake's work, and an adapter whose loop is
starved delays the sender's clock reads as well; neither is what Slack would see. The sender also
reports how late it started each request against its schedule (`send_lag_ms`), so a sender that
cannot keep up is visible instead of showing up as slow acks.

Reports ack latency p50/p99/max (Slack needs < 3 s), the events the adapter acked before their
inbox record committed, what the brain shed as "busy", and how many events were answered (a post,
a private reply, or a "thinking" placeholder edited into the answer) and how fast. Bounded in
count and time; run by hand, never as a test:

    .venv/bin/python benchmarks/slack_ack.py --rate 200 --seconds 5 [--json]

Events rotate over `--users` askers, because the brain rate-limits each person (30 messages a
minute).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "integration" / "slack")]

QUESTIONS = ("Should I become an AI engineer?", "What should I learn first for ML engineering?",
             "I'm a backend dev who hates calculus, is AI engineering for me?")


class EchoBrain:
    """Answers at once; isolates the adapter's own cost."""

    async def handle(self, inbound: Any) -> Any:
        from bot.messages import Reply

        return Reply(text=f"**You said:** {inbound.text}")


def load_brain(kind: str, settings: Any, store: Any, workers: int | None = None) -> tuple[Any, str]:
    """The real brain (embeddings, index, quiz) built the way `careerbot run` builds it, or the echo brain."""
    if kind == "echo":
        return EchoBrain(), "echo"
    import bot.cli
    from bot.runtime import Knowledge, build_brain

    started = time.monotonic()
    knowledge = Knowledge.load(settings)
    print(f"knowledge loaded in {time.monotonic() - started:.1f}s", file=sys.stderr)
    # getattr: the same benchmark also measures commits from before the serving options existed.
    options = dict(getattr(bot.cli, "SERVING_BRAIN", {}))
    if workers is not None:
        options["workers"] = workers
    return build_brain(settings, knowledge, store, **options), "real"


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


# --- the sender process ------------------------------------------------------------------------


async def send_all(url: str, rate: float, count: int, users: int) -> dict[str, Any]:
    """Post `count` signed events at `rate` per second; per request its ack time and start lag."""
    import aiohttp
    from conftest import SECRET, app_mention  # type: ignore[import-not-found]
    from slack_sdk.signature import SignatureVerifier

    verifier = SignatureVerifier(SECRET)
    # Serialised ahead of time and signed just before the clock starts, so the sender's own CPU
    # work stays out of the timed window.
    bodies = [json.dumps(app_mention(f"{QUESTIONS[i % len(QUESTIONS)]} (#{i})", user=f"U{i % users:07d}"))
              for i in range(count)]
    latencies: list[float] = []
    lags: list[float] = []
    statuses: dict[str, int] = {}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def one(raw: str) -> None:
            stamp = str(int(time.time()))
            headers = {"content-type": "application/json", "x-slack-request-timestamp": stamp,
                       "x-slack-signature": verifier.generate_signature(timestamp=stamp, body=raw)}
            start = time.monotonic()
            try:
                async with session.post(url, data=raw.encode(), headers=headers,
                                        timeout=aiohttp.ClientTimeout(total=30)) as resp:
                    await resp.read()
                    status = str(resp.status)
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                status = type(exc).__name__
            latencies.append(time.monotonic() - start)
            statuses[status] = statuses.get(status, 0) + 1

        begin = time.monotonic()
        tasks = []
        for i, raw in enumerate(bodies):
            due = begin + i / rate
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            lags.append(max(0.0, time.monotonic() - due))
            tasks.append(asyncio.create_task(one(raw)))
        await asyncio.gather(*tasks)
        return {"latencies": latencies, "lags": lags, "statuses": statuses,
                "send_seconds": time.monotonic() - begin}


# --- the adapter process -----------------------------------------------------------------------


async def run(rate: float, seconds: float, max_events: int, brain_kind: str, users: int,
              workers: int | None = None) -> dict[str, Any]:
    import aiohttp
    from aiohttp import web
    from conftest import SECRET  # type: ignore[import-not-found]
    from slack_fake_api import TOKEN  # type: ignore[import-not-found]

    from adapters.slack import server as _server
    from adapters.slack.app import build_slack_app, build_web_client, slack_bot_of
    from adapters.slack.render import thinking_message

    EVENTS_PATH, build_web_app = _server.EVENTS_PATH, _server.build_web_app  # noqa: N806 (looked up at run time)
    from bot.config import Settings
    from bot.store import open_store

    fake_port = _free_port()
    fake = subprocess.Popen([sys.executable, str(ROOT / "benchmarks" / "fake_slack_server.py"), str(fake_port)],
                            cwd=ROOT, stdout=subprocess.PIPE)
    assert fake.stdout is not None and fake.stdout.readline().strip() == b"ready"
    fake_url = f"http://127.0.0.1:{fake_port}"
    tmp = Path(tempfile.mkdtemp(prefix="careerbot-slack-bench-"))
    # Own data dir and database; the project's knowledge index (data/index), as a deployment uses.
    settings = Settings(data_dir=tmp, database_url=f"sqlite:///{tmp / 'bench.sqlite3'}", slack_bot_token=TOKEN,
                        slack_signing_secret=SECRET, slack_api_base_url=fake_url + "/api")
    store = open_store(settings.database_url)
    brain, brain_name = load_brain(brain_kind, settings, store, workers)
    # One pooled session for the Web API calls, as `careerbot run slack` does.
    api_session = aiohttp.ClientSession()
    try:
        client = build_web_client(settings, session=api_session)
    except TypeError:  # a commit from before the pooled session: a new connection per call
        client = build_web_client(settings)
    app = build_slack_app(settings, brain, store, client=client)
    bot = slack_bot_of(app)
    runner = web.AppRunner(build_web_app(app, SECRET), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}{EVENTS_PATH}"
    count = min(max_events, int(rate * seconds))
    thinking = thinking_message().text
    try:
        sender = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--send-to", url, "--rate", str(rate), "--count", str(count),
            "--users", str(users), cwd=ROOT, stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(ROOT)})
        start = time.monotonic()
        out, _ = await sender.communicate()
        sent = json.loads(out)
        # Wait (bounded) for the answers to land.
        deadline = time.monotonic() + max(10.0, seconds)
        async with aiohttp.ClientSession() as session:
            while True:
                async with session.get(f"{fake_url}/_calls") as resp:
                    calls = await resp.json()
                answered = len(answered_threads(calls, thinking))
                if answered >= count or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.2)
        total_seconds = time.monotonic() - start
        await bot.inbox.drain(5)
    finally:
        await runner.cleanup()
        bot.inbox.close()
        await api_session.close()
        fake.terminate()
        fake.wait(10)
        store.close()
    latencies, lags = sent["latencies"], sent["lags"]
    return {
        "brain": brain_name,
        "events": count,
        "rate_per_second": rate,
        "users": users,
        "send_seconds": round(sent["send_seconds"], 3),
        "statuses": sent["statuses"],
        "ack_ms": {
            "p50": round(statistics.median(latencies) * 1000, 2) if latencies else None,
            "p99": round(percentile(latencies, 0.99) * 1000, 2),
            "max": round(max(latencies) * 1000, 2) if latencies else None,
        },
        "send_lag_ms": {"p99": round(percentile(lags, 0.99) * 1000, 2),
                        "max": round(max(lags, default=0.0) * 1000, 2)},
        # getattr: the same benchmark also measures commits from before these counters existed.
        "acked_before_recorded": getattr(bot, "unrecorded_acks", None),
        "recorder_batches": getattr(getattr(bot.inbox, "recorder", None), "batches", None),
        "shed_busy": getattr(brain, "shed", 0),
        "answered": answered,
        "answers_per_second": round(answered / total_seconds, 1) if total_seconds else None,
    }


def answered_threads(calls: list[dict[str, Any]], thinking: str) -> set[str]:
    """Threads (one per event) that got an answer: posted, private, or a placeholder edited into one."""
    placeholders: dict[str, str] = {}
    answered: set[str] = set()
    for call in calls:
        if not call["ok"]:
            continue
        if call["method"] == "chat.postMessage" and call["text"] == thinking:
            placeholders[call["response_ts"]] = call["thread_ts"]
        elif call["method"] in ("chat.postMessage", "chat.postEphemeral"):
            answered.add(call["thread_ts"])
        elif call["method"] == "chat.update" and call["ts"] in placeholders:
            answered.add(placeholders[call["ts"]])
    return answered


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=50.0, help="events per second (default 50)")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to send (default 10)")
    parser.add_argument("--max-events", type=int, default=5000, help="hard cap on events sent")
    parser.add_argument("--brain", choices=("real", "echo"), default="real")
    parser.add_argument("--users", type=int, default=500, help="distinct askers the events rotate over")
    parser.add_argument("--brain-workers", type=int, help="answer threads of the real brain (default: careerbot run's)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--send-to", help=argparse.SUPPRESS)  # the sender process (internal)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.send_to:
        print(json.dumps(asyncio.run(send_all(args.send_to, args.rate, args.count, max(1, args.users)))))
        return
    result = asyncio.run(run(args.rate, min(args.seconds, 120.0), args.max_events, args.brain, max(1, args.users),
                             args.brain_workers))
    if args.json:
        print(json.dumps(result))
        return
    ack, lag = result["ack_ms"], result["send_lag_ms"]
    print(f"brain: {result['brain']}; {result['events']} events at {result['rate_per_second']}/s, statuses {result['statuses']}")
    print(f"ack latency: p50 {ack['p50']} ms, p99 {ack['p99']} ms, max {ack['max']} ms (Slack needs < 3000 ms)")
    print(f"sender lag: p99 {lag['p99']} ms, max {lag['max']} ms; acked before recorded: {result['acked_before_recorded']}; "
          f"shed busy: {result['shed_busy']}")
    print(f"answered {result['answered']}/{result['events']}; {result['answers_per_second']} answers/s")


if __name__ == "__main__":
    main()
