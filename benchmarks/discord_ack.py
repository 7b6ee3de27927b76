"""Discord interaction benchmark: how fast slash commands get their first response during a burst.

Two processes: this one runs the real discord.py client built by `build_discord_bot` with the real
brain (as `careerbot run` builds it), and a child process serves the test suite's fake Discord
gateway and REST API (tests/integration/discord/fake_discord.py) and, on its own clock, dispatches
`/career` interactions at a fixed rate (open loop) and notes when each one's first interaction
callback arrives (an answer, type 4, or a deferral, type 5). That interval is the "ack" Discord
waits for (it allows 3 s).

The adapter answers directly when the brain is quick and defers once `answer_budget` has passed,
so with the default budget (1.5 s) a burst's first responses cluster at the budget by design. Run
with `--answer-budget 0` to defer at once: the first response then measures the ack path alone
(gateway event, inbox record, deferral), the figure comparable to Slack's ack.

    .venv/bin/python benchmarks/discord_ack.py --rate 200 --seconds 5 --answer-budget 0 [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "integration" / "discord")]

QUESTIONS = ("Should I become an AI engineer?", "What should I learn first for ML engineering?",
             "Do I need a lot of math to work with LLMs?")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


# --- the fake Discord process ------------------------------------------------------------------


async def serve_fake() -> None:
    """Serve the fake; read one line of JSON ({"rate", "count", "users"}) on stdin, run the burst,
    wait for the first responses, print the per-interaction timings as one line of JSON, and
    serve on until stdin closes."""
    from fake_discord import FakeDiscord, user_payload

    async with FakeDiscord() as fake:
        print(json.dumps({"api": fake.api_base, "gateway": fake.gateway_url}), flush=True)
        loop = asyncio.get_running_loop()
        line = await loop.run_in_executor(None, sys.stdin.readline)
        order = json.loads(line)
        rate, count, users = float(order["rate"]), int(order["count"]), int(order["users"])
        dispatched: dict[str, float] = {}
        lags: list[float] = []
        begin = loop.time()
        for i in range(count):
            due = begin + i / rate
            if (delay := due - loop.time()) > 0:
                await asyncio.sleep(delay)
            user = user_payload(700000000000000000 + i % users, f"asker{i % users}")
            payload = fake.command_interaction(user, "career", {"question": f"{QUESTIONS[i % len(QUESTIONS)]} (#{i})"})
            fake.register_interaction(payload)
            lags.append(max(0.0, loop.time() - due))
            dispatched[payload["id"]] = loop.time()
            await fake.dispatch("INTERACTION_CREATE", payload)
        pattern = re.compile(r"/interactions/(\d+)/[^/]+/callback")

        def first_responses() -> dict[str, tuple[float, int]]:
            seen: dict[str, tuple[float, int]] = {}
            for call in fake.calls:
                m = pattern.fullmatch(call.path)
                if m and call.method == "POST" and m.group(1) not in seen:
                    seen[m.group(1)] = (call.at, int((call.json or {}).get("type", 0)))
            return seen

        deadline = loop.time() + 60
        while len(first_responses()) < count and loop.time() < deadline:
            await asyncio.sleep(0.2)
        seen = first_responses()
        print(json.dumps({
            "first_response": [seen[i][0] - t for i, t in dispatched.items() if i in seen],
            "types": [seen[i][1] for i in dispatched if i in seen],
            "lags": lags, "send_seconds": loop.time() - begin,
        }), flush=True)
        # Keep serving (answers still running need the API) until the bot process closes stdin.
        await loop.run_in_executor(None, sys.stdin.readline)


# --- the bot process ---------------------------------------------------------------------------


async def run(rate: float, seconds: float, users: int, answer_budget: float) -> dict[str, Any]:
    from fake_discord import TOKEN

    import bot.cli
    from adapters.discord import build_discord_bot
    from bot.config import Settings
    from bot.runtime import Knowledge, build_brain
    from bot.store import open_store

    fake = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--serve-fake", cwd=ROOT, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert fake.stdout is not None and fake.stdin is not None
    where = json.loads(await fake.stdout.readline())
    tmp = Path(tempfile.mkdtemp(prefix="careerbot-discord-bench-"))
    settings = Settings(data_dir=tmp, database_url=f"sqlite:///{tmp / 'bench.sqlite3'}", discord_token=TOKEN,
                        discord_api_base_url=where["api"], discord_gateway_url=where["gateway"],
                        index_dir=ROOT / "data" / "index")
    store = open_store(settings.database_url)
    knowledge = Knowledge.load(settings)
    brain = build_brain(settings, knowledge, store, **getattr(bot.cli, "SERVING_BRAIN", {}))
    client = build_discord_bot(settings, brain, store, answer_budget=answer_budget)
    task = asyncio.create_task(client.start(TOKEN))
    ready = asyncio.create_task(client.wait_until_ready())  # after start() has begun logging in
    done, _ = await asyncio.wait({ready, task}, timeout=60, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()  # raise the start-up error
    assert ready in done, "the Discord client did not become ready"
    count = int(rate * seconds)
    try:
        fake.stdin.write((json.dumps({"rate": rate, "count": count, "users": users}) + "\n").encode())
        await fake.stdin.drain()
        result = json.loads(await fake.stdout.readline())
    finally:
        inbox = client.responder.inbox  # type: ignore[union-attr]
        await inbox.drain(5)  # answers still running are handed back before the store closes
        inbox.close()
        await client.close()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        fake.stdin.close()
        await fake.wait()
        brain.close()
        store.close()
    first, types, lags = result["first_response"], result["types"], result["lags"]
    return {
        "events": count,
        "rate_per_second": rate,
        "answer_budget_s": answer_budget,
        "responded": len(first),
        "answered_directly": types.count(4),
        "deferred": types.count(5),
        "first_response_ms": {
            "p50": round(statistics.median(first) * 1000, 2) if first else None,
            "p99": round(percentile(first, 0.99) * 1000, 2),
            "max": round(max(first) * 1000, 2) if first else None,
        },
        "send_lag_ms": {"p99": round(percentile(lags, 0.99) * 1000, 2), "max": round(max(lags, default=0) * 1000, 2)},
        "shed_busy": brain.shed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0, help="interactions per second (default 200)")
    parser.add_argument("--seconds", type=float, default=5.0, help="how long to send (default 5)")
    parser.add_argument("--users", type=int, default=500, help="distinct askers (the brain limits each person)")
    parser.add_argument("--answer-budget", type=float, default=1.5,
                        help="seconds before the adapter defers (default 1.5, as `careerbot run`)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--serve-fake", action="store_true", help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    if args.serve_fake:
        asyncio.run(serve_fake())
        return
    started = time.monotonic()
    result = asyncio.run(run(args.rate, min(args.seconds, 60.0), max(1, args.users), max(0.0, args.answer_budget)))
    result["wall_seconds"] = round(time.monotonic() - started, 1)
    if args.json:
        print(json.dumps(result))
        return
    first = result["first_response_ms"]
    print(f"{result['events']} /career interactions at {result['rate_per_second']}/s, answer budget "
          f"{result['answer_budget_s']} s: {result['responded']} responded ({result['answered_directly']} answered "
          f"directly, {result['deferred']} deferred)")
    print(f"first response: p50 {first['p50']} ms, p99 {first['p99']} ms, max {first['max']} ms (Discord allows 3000 ms)")


if __name__ == "__main__":
    main()
