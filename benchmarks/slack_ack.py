"""Slack HTTP-mode benchmark: ack latency and answers per second, with no Slack involved.

Starts the adapter in HTTP mode on 127.0.0.1, a local fake of the Web API, and sends signed
`app_mention` events at a fixed rate (open loop: a slow ack does not slow the sender down).
Reports ack latency p50/p99/max (Slack needs < 3 s) and answers per second (chat.postMessage
calls the fake received). Bounded in count and time; run by hand, never as a test:

    .venv/bin/python benchmarks/slack_ack.py --rate 50 --seconds 10 [--json]

By default it uses the real brain (`bot.brain.Brain`); `--brain echo` measures the adapter alone.
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
    if kind == "echo":
        return EchoBrain(), "echo"
    try:
        from bot.brain import Brain  # type: ignore[import-not-found]
    except ImportError as err:
        print(f"bot.brain is not available ({err}); using the echo brain", file=sys.stderr)
        return EchoBrain(), "echo (fallback)"
    for factory in ("from_settings", "create", "build"):
        if hasattr(Brain, factory):
            return getattr(Brain, factory)(settings, store=store), "real"
    return Brain(settings, store=store), "real"


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def run(rate: float, seconds: float, max_events: int, brain_kind: str) -> dict[str, Any]:
    import aiohttp
    from aiohttp import web
    from conftest import SECRET, SlackSender, app_mention  # type: ignore[import-not-found]
    from slack_fake_api import TOKEN, FakeSlack  # type: ignore[import-not-found]

    from adapters.slack.app import build_slack_app, build_web_client, slack_bot_of
    from adapters.slack.server import EVENTS_PATH, build_web_app
    from bot.config import Settings
    from bot.store.sqlite import SqliteStore

    fake = await FakeSlack().start()
    tmp = Path(tempfile.mkdtemp(prefix="careerbot-slack-bench-"))
    store = SqliteStore(tmp / "bench.sqlite3")
    settings = Settings(data_dir=tmp, slack_bot_token=TOKEN, slack_signing_secret=SECRET,
                        slack_api_base_url=fake.base_url + "/api")
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
            sent = await sender.event(app_mention(f"{questions[i % len(questions)]} (#{i})"))
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

    await slack_bot_of(app).jobs.drain(5)
    await runner.cleanup()
    await fake.stop()
    store.close()
    return {
        "brain": brain_name,
        "events": count,
        "rate_per_second": rate,
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
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(run(args.rate, min(args.seconds, 120.0), args.max_events, args.brain))
    if args.json:
        print(json.dumps(result))
        return
    ack = result["ack_ms"]
    print(f"brain: {result['brain']}; {result['events']} events at {result['rate_per_second']}/s, statuses {result['statuses']}")
    print(f"ack latency: p50 {ack['p50']} ms, p99 {ack['p99']} ms, max {ack['max']} ms (Slack needs < 3000 ms)")
    print(f"answered {result['answered']}/{result['events']}; {result['answers_per_second']} answers/s")


if __name__ == "__main__":
    main()
