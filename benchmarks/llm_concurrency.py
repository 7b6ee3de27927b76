"""LLM-path concurrency benchmark: do slow model calls overlap, or does the bot answer one at a time?

Starts the scripted OpenAI-compatible server from the integration tests on 127.0.0.1, in its own
process, with a fixed delay on every model call (default 500 ms), builds the real brain with `CAREERBOT_LLM` pointed at
it (real ChatOpenAI client, real tools and index, SQLite memory in a temporary folder), and sends
one question from each of N conversations at once. Every answer takes two model calls (a
`search_articles` call, then the cited answer), so each conversation needs about 2 x delay on its own.

If the event loop is never blocked, the wall time for all N is close to one conversation's time,
far below the sum over conversations. It also samples event-loop lag (how late a 10 ms timer
fires) while the answers run. Bounded in count and time; run by hand, never as a test:

    .venv/bin/python benchmarks/llm_concurrency.py [--conversations 50] [--delay 0.5] [--json]

Uses the project's index in data/index (built on first use, which takes a minute).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "integration" / "llm")]

QUESTIONS = [
    "What does an AI engineer do compared with an ML engineer?",
    "Do ML engineers need a lot of math and statistics?",
    "What should I learn first to become an AI engineer?",
    "Is AI engineering closer to software engineering?",
    "What are the main challenges of AI engineering?",
]


async def _lag_monitor(stop: asyncio.Event, samples: list[float], interval: float = 0.01) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        start = loop.time()
        await asyncio.sleep(interval)
        samples.append(max(0.0, loop.time() - start - interval))


def _serve(delay: float, ready: Any, stop: Any) -> None:
    """The model server, in its own process: its CPU must not be billed to the bot's event loop."""
    from openai_stub import OpenAIStub

    async def main() -> None:
        async with OpenAIStub(fixed_delay=delay) as stub:
            ready.put(stub.base_url)
            while not stop.is_set():
                await asyncio.sleep(0.05)

    asyncio.run(main())


async def run(conversations: int, delay: float, timeout: float) -> dict[str, Any]:
    import multiprocessing

    from bot.config import Settings
    from bot.messages import Inbound, Kind
    from bot.runtime import Knowledge, build_brain
    from bot.store import open_store

    base = Settings.from_env({})
    knowledge = Knowledge.load(base)
    context = multiprocessing.get_context("spawn")
    ready, stop = context.Queue(), context.Event()
    server = context.Process(target=_serve, args=(delay, ready, stop), daemon=True)
    server.start()
    try:
        base_url = await asyncio.to_thread(ready.get, True, 30)
        with tempfile.TemporaryDirectory(prefix="careerbot-llm-bench-") as tmp:
            settings = replace(base, data_dir=Path(tmp), database_url=f"sqlite:///{tmp}/bench.sqlite3",
                               llm="openai:bench-model", llm_base_url=base_url, llm_timeout=max(5.0, delay * 4))
            store = open_store(settings.database_url)
            brain = build_brain(settings, knowledge, store)
            agent: Any = brain.agent
            try:
                # Warm-up: opens the HTTP client and the checkpointer, so the run measures steady state.
                await brain.handle(Inbound("bench", "warm", "warm", QUESTIONS[0], Kind.DM))

                async def one(i: int) -> tuple[float, dict[str, Any]]:
                    started = time.perf_counter()
                    reply = await brain.handle(Inbound("bench", f"user{i}", f"dm{i}", QUESTIONS[i % len(QUESTIONS)],
                                                       Kind.DM))
                    return time.perf_counter() - started, reply.data

                lag: list[float] = []
                done = asyncio.Event()
                monitor = asyncio.create_task(_lag_monitor(done, lag))
                started = time.perf_counter()
                results = await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(conversations))), timeout)
                wall = time.perf_counter() - started
                done.set()
                await monitor
            finally:
                await agent.aclose()
                store.close()
    finally:
        stop.set()
        server.join(10)
        if server.is_alive():
            server.terminate()

    latencies = [seconds for seconds, _ in results]
    fallbacks = sum(1 for _, data in results if "llm_fallback" in data)
    calls = sum(data.get("llm", {}).get("model_calls", 0) for _, data in results)
    return {
        "conversations": conversations,
        "model_delay_s": delay,
        "model_calls": calls,
        "fallbacks": fallbacks,
        "wall_s": round(wall, 3),
        "sum_of_conversation_s": round(sum(latencies), 3),
        "sum_of_model_delay_s": round(calls * delay, 3),
        "per_conversation_own_calls_s": round(calls / max(conversations, 1) * delay, 3),
        "latency_p50_s": round(statistics.median(latencies), 3),
        "latency_max_s": round(max(latencies), 3),
        "overlap_factor": round(sum(latencies) / wall, 1),
        "loop_lag_p99_ms": round(sorted(lag)[int(len(lag) * 0.99) - 1] * 1000, 1) if lag else None,
        "loop_lag_max_ms": round(max(lag) * 1000, 1) if lag else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--delay", type=float, default=0.5, help="seconds added to every model call")
    parser.add_argument("--timeout", type=float, default=120.0, help="give up after this many seconds")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not 1 <= args.conversations <= 500:
        parser.error("--conversations must be between 1 and 500")
    report = asyncio.run(run(args.conversations, args.delay, args.timeout))
    if args.json:
        print(json.dumps(report))
    else:
        print(f"{report['conversations']} concurrent conversations, {report['model_calls']} model calls "
              f"of {report['model_delay_s']:.2f} s each ({report['fallbacks']} offline fallbacks)")
        print(f"  wall time                  {report['wall_s']:.2f} s")
        print(f"  one conversation's calls   {report['per_conversation_own_calls_s']:.2f} s")
        print(f"  sum over conversations     {report['sum_of_conversation_s']:.2f} s "
              f"(overlap x{report['overlap_factor']})")
        print(f"  latency p50 / max          {report['latency_p50_s']:.2f} s / {report['latency_max_s']:.2f} s")
        print(f"  event-loop lag p99 / max   {report['loop_lag_p99_ms']} ms / {report['loop_lag_max_ms']} ms")
    return 0 if report["fallbacks"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
