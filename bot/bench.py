"""`careerbot bench`: reply latency and throughput of the brain with no LLM, at a fixed arrival rate.

Messages arrive on a fixed schedule (open loop), as they do from a busy community, and go straight
to `Brain.handle` as an adapter would send them; each one's latency runs from its scheduled arrival
to its reply, so queueing delay counts. `conversations` is how many people talk to the bot at once:
message i comes from conversation i mod N, so each conversation sends rate/N messages a second and
the brain answers each conversation's messages in order (at most N answers in progress). The brain
is built as `careerbot run` builds it (`bot.serving.SERVING_BRAIN`: answer threads, admission bound,
thread priority); `workers` overrides the thread count only. The per-person rate limit is lifted
(rate/N a second is more than a person sends), so no reply is a cheap "slow down".

Past capacity the brain's bounded queue answers "busy" at once: the bench counts those (`shed`) and
reports the latency of the real answers, so overload shows as shed messages and bounded latency
rather than a pile-up. The floor (one query embedding plus the hybrid search, measured alone) is
reported beside it, with the ratio of the reply p50 to it. Questions are generated to be distinct,
so the query-embedding cache does not flatter the result: each message's text is embedded once.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import resource
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.messages import Inbound, Kind

__all__ = ["bench_questions", "run_bench"]

_OPENERS = ["What", "How much", "Why", "Do", "Which", "Is it true that", "Can you explain why", "Tell me"]
_TOPICS = [
    "latency does a fraud detection system need", "is AI engineer pay at major tech firms", "is AI engineering a gold rush",
    "math does an ML engineer need", "must an AI engineer train their own models", "is the difference between AI and ML engineers",
    "tools does an AI engineer use every day", "is evaluation important for LLM apps", "skills matter for junior AI engineers",
    "does running models locally help privacy", "is RAG and how does it work", "are the five challenges of AI engineering",
    "should avoid a career in AI engineering", "projects can I build to learn", "is prompt injection",
    "recall and precision targets matter in production", "does Chip Huyen say about the two careers",
    "is Ollama used for", "are embeddings and vector search", "does an AI engineer do on an ordinary working day",
]
_TAILS = ["", " for a beginner", " in 2026", " if I come from backend work", " for someone self-taught",
          " at a startup", " compared to data science", " according to your sources"]


def bench_questions(n: int, seed: int = 7) -> list[str]:
    """`n` questions, distinct as long as n <= 1280, in a shuffled but reproducible order."""
    combos = list(itertools.product(_OPENERS, _TOPICS, _TAILS))
    random.Random(seed).shuffle(combos)
    return [f"{o} {t}{tail}?" for o, t, tail in (combos * (n // len(combos) + 1))[:n]]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def run_bench(settings: Settings, *, messages: int = 2000, conversations: int = 32, rate: float = 140.0,
              workers: int | None = None) -> dict[str, Any]:
    """Send `messages` distinct questions at `rate` a second from `conversations` people; see the module doc."""
    from bot.runtime import Knowledge, build_brain
    from bot.serving import SERVING_BRAIN
    from bot.store import open_store

    if conversations < 1:
        raise ValueError("conversations must be at least 1")
    options = dict(SERVING_BRAIN)
    if workers is not None:
        options["workers"] = workers

    started = time.perf_counter()
    knowledge = Knowledge.load(settings)
    load_seconds = time.perf_counter() - started
    with tempfile.TemporaryDirectory(prefix="careerbot-bench-") as tmp:
        bench_settings = replace(settings, data_dir=Path(tmp), database_url=f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        store = open_store(bench_settings.database_url)
        try:
            brain = build_brain(bench_settings, knowledge, store, rate_limit=(messages + 1, 60.0), **options)
            floor = _floor(knowledge, bench_questions(200, seed=99))
            cpu_started = time.process_time()
            latencies, wall = asyncio.run(_drive(brain, bench_questions(messages), rate, conversations))
            cpu_seconds = time.process_time() - cpu_started
            shed, capacity, peak = brain.shed, brain.capacity, brain.peak_admitted
            brain.close()
        finally:
            store.close()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {
        "messages": messages,
        "target_rate": rate,
        "conversations": conversations,
        "concurrency": conversations,  # the CLI's --concurrency: conversations, not threads
        "workers": options["workers"],
        "thread_nice": options.get("thread_nice", 0),
        "admission_capacity": capacity,
        "peak_admitted": peak,
        "achieved_rate": round((messages - shed) / wall, 1),
        "answered": messages - shed,
        "shed": shed,
        "cpu_cores_used": round(cpu_seconds / wall, 2),
        "cpu_ms_per_message": round(cpu_seconds / messages * 1000, 2),
        "latency_ms": {p: round(_percentile(latencies, q) * 1000, 1) if latencies else None
                       for p, q in (("p50", 50), ("p95", 95), ("p99", 99), ("max", 100))},
        "floor_ms": {"p50": round(statistics.median(floor) * 1000, 2), "p99": round(_percentile(floor, 99) * 1000, 2)},
        "max_rss_mb": round(rss_mb, 1),
        "startup_seconds": round(load_seconds, 1),
    }
    lat = result["latency_ms"]
    result["ratio_to_floor_p50"] = (round(lat["p50"] / result["floor_ms"]["p50"], 2)
                                    if lat["p50"] is not None and result["floor_ms"]["p50"] else None)
    result["summary"] = (
        f"{messages} messages at {rate:g}/s target: {result['answered']} answered ({result['achieved_rate']}/s), "
        f"{shed} shed as busy; {conversations} conversations, {options['workers']} answer threads, "
        f"at most {capacity} messages admitted (peak {peak})\n"
        f"reply latency ms: p50 {lat['p50']}  p95 {lat['p95']}  p99 {lat['p99']}  max {lat['max']}\n"
        f"floor (embed + hybrid search, alone) ms: p50 {result['floor_ms']['p50']}  p99 {result['floor_ms']['p99']}; "
        f"reply p50 / floor p50 = {result['ratio_to_floor_p50']}\n"
        f"CPU {result['cpu_cores_used']} cores ({result['cpu_ms_per_message']} ms a message); "
        f"max RSS {result['max_rss_mb']} MB; knowledge load {result['startup_seconds']} s"
    )
    return result


def _floor(knowledge: Any, questions: list[str]) -> list[float]:
    retriever = knowledge.services.retriever
    times = []
    for q in questions:
        t = time.perf_counter()
        retriever.search(q + " (floor)", 5)  # the suffix keeps these out of the embedding cache
        times.append(time.perf_counter() - t)
    return times


async def _drive(brain: Any, questions: list[str], rate: float, conversations: int) -> tuple[list[float], float]:
    """Latencies of the answered messages ("busy" replies are counted by the brain, not timed here).

    One sender sleeps until each message's time and starts it then, rather than thousands of
    tasks sleeping from the start: the driver's own event-loop work is the loop and the GIL the
    brain needs, so it is kept to what an adapter receiving the messages would do.
    """
    latencies: list[float] = []
    in_flight: set[asyncio.Task[None]] = set()
    start = time.perf_counter()

    async def one(i: int, text: str, scheduled: float) -> None:
        reply = await brain.handle(Inbound("bench", f"U{i % conversations}", "C1", text, Kind.DM))
        if reply.intent != "busy":
            latencies.append(time.perf_counter() - scheduled)

    for i, text in enumerate(questions):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(one(i, text, scheduled))  # late: its latency still counts from `scheduled`
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    if in_flight:
        await asyncio.gather(*in_flight)
    return latencies, time.perf_counter() - start
