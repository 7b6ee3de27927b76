"""The test suite's fake Slack Web API as its own process, for benchmarks that load it heavily.

Why a process: in the load generator's process the fake competes with the sender for one event
loop, and its slow replies would show up as Slack timeouts (and the retries they cause) that real
Slack would not produce. Serves the fake on 127.0.0.1:PORT plus GET /_calls, the recorded calls
as JSON (method, the few params the benchmark reads, ok, returned ts, monotonic time, which is
system-wide on Linux and so comparable with the caller's clock).

    python benchmarks/fake_slack_server.py PORT
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "integration" / "slack")]

from aiohttp import web  # noqa: E402
from slack_fake_api import FakeSlack  # noqa: E402


async def serve(port: int) -> None:
    fake = FakeSlack()
    fake.port = port
    app = web.Application(client_max_size=50 * 1024 * 1024)
    app.add_routes([
        web.get("/_calls", lambda _: web.json_response([
            {"method": c.method, "ok": bool(c.response.get("ok")), "at": c.at,
             "ts": c.params.get("ts"), "thread_ts": c.params.get("thread_ts"), "text": c.params.get("text"),
             "response_ts": c.response.get("ts")}
            for c in fake.calls])),
        web.post("/api/{method}", fake._api),
        web.get("/api/{method}", fake._api),
        web.post("/upload/{file_id}", fake._upload),
        web.post("/response/{rid}", fake._response),
    ])
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print("ready", flush=True)
    await stop.wait()
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
