"""Slack HTTP-mode benchmark: ack latency and answers per second, with no Slack involved.

Starts the adapter in HTTP mode on 127.0.0.1, a local fake of the Web API, and sends signed
`app_mention` events at a fixed rate (open loop: a slow ack does not slow the sender down).
Reports ack latency p50/p99/max (Slack needs < 3 s) and answers per second (chat.postMessage
calls the fake received). Bounded in count and time; run by hand, never as a test:

    .venv/bin/python benchmarks/slack_ack.py --rate 50 --seconds 10 [--json]

By default it uses the real brain (`bot.runtime.build_brain`: embeddings, the project's index in
data/index, the quiz); `--brain echo` measures the adapter alone. Events rotate over `--users`
askers, because the brain rate-limits each person (30 messages a minute).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "integration" / "slack")]


class EchoBrain:
    """Answers at once; isolates the adapter's own cost."""

    async def handle(self, inbound: Any) -> Any:
        from bot.messages import Reply

        return Reply(text=f"**You said:** {inbound.text}")


def load_brain(kind: str, settings: Any, store: Any) -> tuple[Any, str]:
    """The real brain (embeddings, index, quiz) built the way the CLI builds it, or the echo brain."""
    if kind == "echo":
        return EchoBrain(), "echo"
    from bot.runtime import Knowledge, build_brain

    started = time.monotonic()
    knowledge = Knowledge.load(settings)
    print(f"knowledge loaded in {time.monotonic() - started:.1f}s", file=sys.stderr)
    return build_brain(settings, knowledge, store), "real"


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def run(rate: float, seconds: float, max_events: int, brain_kind: str, users: int) -> dict[str, Any]:
    import aiohttp
    from aiohttp import web
    from conftest import SECRET, SlackSender, app_mention  # type: ignore[import-not-found]
    from slack_fake_api import TOKEN, FakeSlack  # type: ignore[import-not-found]

    from adapters.slack.app import build_slack_app, build_web_client, slack_bot_of
    from adapters.slack.server import EVENTS_PATH, build_web_app
    from bot.config import Settings
    from bot.store import open_store

    fake = await FakeSlack().start()
    tmp = Path(tempfile.mkdtemp(prefix="careerbot-slack-bench-"))
    # Own data dir and database; the project's knowledge index (data/index), as a deployment uses.
    settings = Settings(data_dir=tmp, database_url=f"sqlite:///{tmp / 'bench.sqlite3'}", slack_bot_token=TOKEN,
                        slack_signing_secret=SECRET, slack_api_base_url=fake.base_url + "/api")
    store = open_store(settings.database_url)
    brain, brain_name = load_brain(brain_kind, settings, store)
    app = build_slack_app(settings, brain, store, client=build_web_client(settings))
    runner = web.AppRunner(build_web_app(app, SECRET), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}{EVENTS_PATH}"

    latencies: list[float] = []
    statuses: dict[int, int] = {}
    questions = ["Should I become an AI engineer?", "What should I learn first for ML engineering?",
                 "I'm a backend dev who hates calculus, is AI engineering for me?"]
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        sender = SlackSender(url, session)

        async def one(i: int) -> None:
            # Many askers, as in a real workspace: the brain limits each person to 30 messages a minute.
            sent = await sender.event(app_mention(f"{questions[i % len(questions)]} (#{i})", user=f"U{i % users:07d}"))
            latencies.append(sent.seconds)
            statuses[sent.status] = statuses.get(sent.status, 0) + 1

        start = time.monotonic()
        tasks = []
        count = min(max_events, int(rate * seconds))
        for i in range(count):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i)))
        await asyncio.gather(*tasks)
        sent_seconds = time.monotonic() - start
        # Wait (bounded) for the answers to land.
        deadline = time.monotonic() + max(10.0, seconds)
        while len(fake.calls_to("chat.postMessage")) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        answered = len(fake.calls_to("chat.postMessage"))
        total_seconds = time.monotonic() - start

    await slack_bot_of(app).inbox.drain(5)
    await runner.cleanup()
    await fake.stop()
    store.close()
    return {
        "brain": brain_name,
        "events": count,
        "rate_per_second": rate,
        "users": users,
        "send_seconds": round(sent_seconds, 3),
        "statuses": statuses,
        "ack_ms": {
            "p50": round(statistics.median(latencies) * 1000, 2) if latencies else None,
            "p99": round(percentile(latencies, 0.99) * 1000, 2),
            "max": round(max(latencies) * 1000, 2) if latencies else None,
        },
        "answered": answered,
        "answers_per_second": round(answered / total_seconds, 1) if total_seconds else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=50.0, help="events per second (default 50)")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to send (default 10)")
    parser.add_argument("--max-events", type=int, default=5000, help="hard cap on events sent")
    parser.add_argument("--brain", choices=("real", "echo"), default="real")
    parser.add_argument("--users", type=int, default=500, help="distinct askers the events rotate over")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(run(args.rate, min(args.seconds, 120.0), args.max_events, args.brain, max(1, args.users)))
    if args.json:
        print(json.dumps(result))
        return
    ack = result["ack_ms"]
    print(f"brain: {result['brain']}; {result['events']} events at {result['rate_per_second']}/s, statuses {result['statuses']}")
    print(f"ack latency: p50 {ack['p50']} ms, p99 {ack['p99']} ms, max {ack['max']} ms (Slack needs < 3000 ms)")
    print(f"answered {result['answered']}/{result['events']}; {result['answers_per_second']} answers/s")


if __name__ == "__main__":
    main()
