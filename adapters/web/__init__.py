"""The web adapter: a playground, the knowledge articles and the admin dashboard, on aiohttp + Jinja2.

It runs in the same process (and on the same brain and store) as the chat adapters: `careerbot run
web`, or `careerbot run` with `CAREERBOT_WEB_PORT` set.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web

from adapters.web.app import build_web_app
from bot.config import Settings
from bot.store.base import Store

__all__ = ["build_web_app", "run_web"]

_log = logging.getLogger(__name__)


async def run_web(settings: Settings, brain: Any, store: Store, knowledge: Any = None, *, port: int = 8080,
                  host: str = "0.0.0.0") -> None:
    """Serve the web app on `host:port` until cancelled."""
    knowledge_dir = getattr(knowledge, "knowledge_dir", None) or settings.knowledge_dir
    app = build_web_app(settings, brain, store, knowledge_dir=knowledge_dir)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as exc:
            from bot.config import ConfigError

            raise ConfigError(f"web: cannot listen on port {port} ({exc.strerror or exc})") from None
        _log.info("web: playground on http://%s:%d/ (admin %s)", host, port,
                  "on at /admin" if settings.admin_token else "off: CAREERBOT_ADMIN_TOKEN is unset")
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
