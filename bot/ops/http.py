"""The operator's HTTP routes: GET /healthz, /readyz and /metrics.

Served on their own port (`CAREERBOT_HTTP_PORT`) in every run mode, and also added to the Slack
HTTP-mode application so a load balancer probes the same port that takes Slack's requests.
"""

from __future__ import annotations

import json
import logging

from aiohttp import web

from bot.config import ConfigError
from bot.ops.health import Health
from bot.ops.metrics import CONTENT_TYPE, Metrics

__all__ = ["add_ops_routes", "ops_routes", "start_ops_server"]

_log = logging.getLogger(__name__)


def ops_routes(health: Health, metrics: Metrics) -> list[web.RouteDef]:
    """The three routes, for any aiohttp application."""

    async def healthz(_: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def readyz(_: web.Request) -> web.Response:
        ready, checks = await health.ready()
        return web.Response(status=200 if ready else 503, content_type="application/json",
                            text=json.dumps({"ready": ready, "checks": checks}) + "\n")

    async def metrics_page(_: web.Request) -> web.Response:
        body = await metrics.render(health.store, executor=health.executor, timeout=health.timeout)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    return [web.get("/healthz", healthz), web.get("/readyz", readyz), web.get("/metrics", metrics_page)]


def add_ops_routes(app: web.Application, health: Health, metrics: Metrics) -> None:
    app.add_routes(ops_routes(health, metrics))


async def start_ops_server(health: Health, metrics: Metrics, port: int, host: str = "0.0.0.0") -> web.AppRunner:
    """Serve the routes on `port` until the returned runner is cleaned up."""
    app = web.Application()
    add_ops_routes(app, health, metrics)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        raise ConfigError(f"CAREERBOT_HTTP_PORT {port}: cannot listen ({exc.strerror or exc})") from None
    _log.info("ops: /healthz /readyz /metrics on %s:%d", host, port)
    return runner
