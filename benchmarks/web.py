"""Web app benchmark: what a playground question and the admin dashboard cost over real HTTP.

Builds the real brain (model, index) on a temporary SQLite store, serves the web app on
127.0.0.1, and measures (1) `POST /chat` round trips as the page's script sends them, one browser
session at a time and several at once, and (2) `GET /admin` after filling the store with
`--rows` usage rows and voted answers, which is what the dashboard's queries scale with.
Run by hand, never as a test:

    .venv/bin/python benchmarks/web.py [--questions 60] [--sessions 8] [--rows 20000] [--json]

Uses the index in CAREERBOT_INDEX_DIR or data/index (built on first use, which takes a minute).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiohttp import ClientSession, CookieJar, web  # noqa: E402

from adapters.web import build_web_app  # noqa: E402
from adapters.web.app import KEYS, WebLimits  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.runtime import Knowledge, build_brain  # noqa: E402
from bot.store import AnswerRecord, open_store  # noqa: E402
from bot.store.base import UsageRecord  # noqa: E402

QUESTIONS = ["What does an AI engineer do?", "Do ML engineers need statistics?", "How much do AI engineers earn?",
             "What should I learn first for ML engineering?", "Is prompt engineering a real skill?",
             "What is retrieval-augmented generation?"]
TOKEN = "benchmark-admin-token-0123456789"


def _ms(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"p50": round(statistics.median(ordered) * 1000, 1),
            "p95": round(ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000, 1), "n": len(ordered)}


async def _session(base: str, questions: list[str]) -> list[float]:
    times = []
    async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as http:  # unsafe: cookies for 127.0.0.1
        page = await (await http.get(base + "/")).text()
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)  # type: ignore[union-attr]
        for question in questions:
            start = time.perf_counter()
            response = await http.post(base + "/chat", data={"csrf": csrf, "text": question},
                                       headers={"X-Requested-With": "careerbot"})
            body = await response.json()
            if response.status != 200 or "error" in body:
                raise SystemExit(f"POST /chat failed: {response.status} {body}")
            times.append(time.perf_counter() - start)
    return times


def _fill(store: Any, rows: int) -> None:
    now = time.time()
    for i in range(rows):
        at = now - (i % 30) * 86400
        answer_id = f"b{i}"
        if i % 10 == 0:
            store.save_answer(AnswerRecord(answer_id, f"slack:U{i % 500}", "c", f"question {i}", "an answer", [], at))
            store.record_feedback(answer_id, "slack:V", i % 20 == 0)
        store.record_usage(UsageRecord(("slack", "discord", "web")[i % 3], "dm", ("question", "plan", "out_of_scope")[i % 3],
                                       f"slack:U{i % 500}", at, answer_id=answer_id,
                                       question=f"off topic {i % 200}" if i % 3 == 2 else None))


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=24, help="per session at most 28: the brain's per-user limit is 30 a minute")
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    args.questions = min(args.questions, 28)

    base_settings = Settings.from_env()
    with tempfile.TemporaryDirectory(prefix="careerbot-web-bench-") as tmp:
        settings = replace(base_settings, data_dir=Path(tmp), database_url=f"sqlite:///{tmp}/bench.sqlite3",
                           llm=None, admin_token=TOKEN)
        knowledge = Knowledge.load(settings)
        store = open_store(settings.database_url)
        brain = build_brain(settings, knowledge, store)
        app = build_web_app(settings, brain, store)

        class Unlimited(WebLimits):  # every request comes from 127.0.0.1 here
            per_address = (10**9, 60.0)

        app[KEYS].limits = Unlimited
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        base = f"http://127.0.0.1:{port}"
        try:
            await _session(base, QUESTIONS[:2])  # warm-up
            sequential = await _session(base, [QUESTIONS[i % len(QUESTIONS)] for i in range(args.questions)])
            per = max(1, args.questions // args.sessions)
            start = time.perf_counter()
            together = await asyncio.gather(*(_session(base, [QUESTIONS[(i + s) % len(QUESTIONS)] for i in range(per)])
                                              for s in range(args.sessions)))
            wall = time.perf_counter() - start
            await asyncio.to_thread(_fill, store, args.rows)
            dashboard = []
            async with ClientSession(headers={"Authorization": f"Bearer {TOKEN}"}) as http:
                for _ in range(10):
                    t = time.perf_counter()
                    response = await http.get(base + "/admin?days=30")
                    await response.read()
                    if response.status != 200:
                        raise SystemExit(f"GET /admin failed: {response.status}")
                    dashboard.append(time.perf_counter() - t)
        finally:
            await runner.cleanup()
            brain.close()
            store.close()
    result = {"chat_one_session_ms": _ms(sequential),
              "chat_concurrent_ms": _ms([t for s in together for t in s]),
              "concurrent_sessions": args.sessions, "concurrent_per_second": round(per * args.sessions / wall, 1),
              "dashboard_ms": _ms(dashboard), "dashboard_usage_rows": args.rows}
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
