"""`careerbot check`: is the configuration usable, and does each configured service accept its token?

Each check tells three outcomes apart, because they need different fixes: the service rejected the
token (copy it again), the service could not be reached (DNS, connection refused, timeout, TLS:
check the network or the URL variable), or it answered something unexpected. `careerbot run`
performs the platform checks before loading the model, so a bad token costs a second, not twenty.

Exit codes (see README): 0 all good; 2 configuration error; 3 a token was rejected; 4 a service
could not be reached or gave an unexpected answer. Rejection wins over unreachability.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import yarl

from bot.config import Settings

__all__ = ["EXIT_CONFIG", "EXIT_OK", "EXIT_REJECTED", "EXIT_UNREACHABLE", "CheckResult", "check_discord",
           "check_llm", "check_local", "check_slack", "exit_code", "run_checks"]

EXIT_OK, EXIT_CONFIG, EXIT_REJECTED, EXIT_UNREACHABLE = 0, 2, 3, 4

SLACK_API = "https://slack.com/api"
DISCORD_API = "https://discord.com/api/v10"
OPENAI_API = "https://api.openai.com/v1"
ANTHROPIC_API = "https://api.anthropic.com/v1"
OLLAMA_API = "http://127.0.0.1:11434"
_SLACK_REJECTIONS = {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired",
                     "not_allowed_token_type", "missing_scope"}


@dataclass(frozen=True)
class CheckResult:
    """One line of the report. `status`: ok, rejected, unreachable, error, config, or skipped."""

    name: str
    status: str
    detail: str

    @property
    def failed(self) -> bool:
        return self.status in ("rejected", "unreachable", "error", "config")

    def line(self) -> str:
        return f"{self.name:<14} {self.status:<11} {self.detail}"


def exit_code(results: Iterable[CheckResult]) -> int:
    statuses = {r.status for r in results}
    if "config" in statuses:
        return EXIT_CONFIG
    if "rejected" in statuses:
        return EXIT_REJECTED
    if statuses & {"unreachable", "error"}:
        return EXIT_UNREACHABLE
    return EXIT_OK


# --- network --------------------------------------------------------------------------------------


def _network_failure(name: str, url: str, exc: BaseException, timeout: float) -> CheckResult:
    host = yarl.URL(url).host or url
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return CheckResult(name, "unreachable", f"cannot resolve {host} (DNS): check the network or the URL setting")
    if isinstance(exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientSSLError):
        return CheckResult(name, "unreachable", f"TLS with {host} failed ({type(exc).__name__}): a proxy or clock?")
    if isinstance(exc, aiohttp.ClientConnectorError):
        reason = exc.os_error.strerror if exc.os_error is not None and exc.os_error.strerror else str(exc.os_error)
        return CheckResult(name, "unreachable", f"cannot connect to {host}:{exc.port} ({reason})")
    if isinstance(exc, TimeoutError):
        return CheckResult(name, "unreachable", f"no answer from {host} within {timeout:g} s")
    return CheckResult(name, "unreachable", f"{host}: {type(exc).__name__}")


async def _request(session: aiohttp.ClientSession, method: str, url: str, **kwargs: Any) -> tuple[int, Any]:
    async with session.request(method, url, **kwargs) as resp:
        try:
            body: Any = await resp.json(content_type=None)
        except ValueError:
            body = None
        return resp.status, body


async def check_slack(settings: Settings, session: aiohttp.ClientSession, *, timeout: float = 5.0,
                      socket_mode: bool | None = None) -> list[CheckResult]:
    """SLACK_BOT_TOKEN with auth.test; SLACK_APP_TOKEN (Socket Mode) with apps.connections.open."""
    base = (settings.slack_api_base_url or SLACK_API).rstrip("/")
    results = []
    tokens = [("slack", "SLACK_BOT_TOKEN", settings.slack_bot_token, "auth.test")]
    if settings.slack_app_token and socket_mode is not False:
        tokens.append(("slack-app", "SLACK_APP_TOKEN", settings.slack_app_token, "apps.connections.open"))
    for name, variable, token, method in tokens:
        url = f"{base}/{method}"
        try:
            status, body = await _request(session, "POST", url, headers={"Authorization": f"Bearer {token}"})
        except (aiohttp.ClientError, TimeoutError) as exc:
            results.append(_network_failure(name, url, exc, timeout))
            continue
        error = body.get("error") if isinstance(body, dict) else None
        if status == 200 and isinstance(body, dict) and body.get("ok"):
            who = f"{body.get('user')} in {body.get('team')}" if method == "auth.test" else "Socket Mode allowed"
            results.append(CheckResult(name, "ok", f"{variable} accepted ({who})"))
        elif status in (401, 403) or error in _SLACK_REJECTIONS:
            results.append(CheckResult(name, "rejected", f"{variable} was rejected by Slack ({error or status})"))
        else:
            results.append(CheckResult(name, "error", f"unexpected answer from {method}: HTTP {status} {error or ''}".strip()))
    return results


async def check_discord(settings: Settings, session: aiohttp.ClientSession, *, timeout: float = 5.0) -> CheckResult:
    """DISCORD_TOKEN with GET /users/@me (what discord.py's login does)."""
    url = f"{_discord_api_base(settings.discord_api_base_url)}/users/@me"
    try:
        status, body = await _request(session, "GET", url, headers={"Authorization": f"Bot {settings.discord_token}"})
    except (aiohttp.ClientError, TimeoutError) as exc:
        return _network_failure("discord", url, exc, timeout)
    if status == 200 and isinstance(body, dict) and body.get("id"):
        return CheckResult("discord", "ok", f"DISCORD_TOKEN accepted (bot {body.get('username')})")
    if status in (401, 403):
        return CheckResult("discord", "rejected", "DISCORD_TOKEN was rejected by Discord: copy the bot token again")
    return CheckResult("discord", "error", f"unexpected answer from /users/@me: HTTP {status}")


def _discord_api_base(url: str | None) -> str:
    """DISCORD_API_BASE_URL as the bot reads it: a bare host gets `/api/v10` appended."""
    if not url:
        return DISCORD_API
    url = url.rstrip("/")
    return url if "/api" in yarl.URL(url).path else f"{url}/api/v10"


async def check_llm(settings: Settings, session: aiohttp.ClientSession, *, timeout: float = 5.0) -> CheckResult:
    """The model server: list its models with the key (no tokens are spent)."""
    provider = (settings.llm or "").partition(":")[0].strip().lower()
    base = settings.llm_base_url
    headers: dict[str, str] = {}
    if provider == "ollama":
        url = f"{(base or OLLAMA_API).rstrip('/')}/api/tags"
    elif provider == "anthropic" and not base:
        if not settings.llm_api_key:
            return CheckResult("llm", "config", "CAREERBOT_LLM is anthropic:… but no ANTHROPIC_API_KEY / CAREERBOT_LLM_API_KEY")
        url = f"{ANTHROPIC_API}/models"
        headers = {"x-api-key": settings.llm_api_key, "anthropic-version": "2023-06-01"}
    elif provider == "openai" or base:
        if not base and not settings.llm_api_key:
            return CheckResult("llm", "config", "CAREERBOT_LLM is openai:… but no OPENAI_API_KEY / CAREERBOT_LLM_API_KEY")
        url = f"{(base or OPENAI_API).rstrip('/')}/models"
        if settings.llm_api_key:
            headers = {"Authorization": f"Bearer {settings.llm_api_key}"}
    else:
        return CheckResult("llm", "skipped", f"no network check for provider {provider!r}")
    try:
        status, _ = await _request(session, "GET", url, headers=headers)
    except (aiohttp.ClientError, TimeoutError) as exc:
        return _network_failure("llm", url, exc, timeout)
    if status in (401, 403):
        return CheckResult("llm", "rejected", f"the model server rejected the API key (HTTP {status})")
    if status == 200:
        return CheckResult("llm", "ok", f"{settings.llm} server reachable, key accepted")
    if status == 404:  # an OpenAI-compatible server without a model list still answers
        return CheckResult("llm", "ok", f"{settings.llm} server reachable (it lists no models)")
    return CheckResult("llm", "error", f"unexpected answer from the model server: HTTP {status}")


# --- local ----------------------------------------------------------------------------------------


def check_local(settings: Settings) -> list[CheckResult]:
    """Folders, knowledge files, the database and the index, without loading the model."""
    results = []
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=settings.data_dir, prefix=".check-"):
            pass
        results.append(CheckResult("data dir", "ok", f"{settings.data_dir} is writable"))
    except OSError as exc:
        results.append(CheckResult("data dir", "config", f"CAREERBOT_DATA_DIR {settings.data_dir}: {exc.strerror or exc}"))
    articles = settings.knowledge_dir / "articles"
    count = len(list(articles.glob("*.md"))) if articles.is_dir() else 0
    results.append(CheckResult("knowledge", "ok" if count else "config",
                               f"{count} articles in {articles}" if count else f"no articles in {articles}"))
    results.append(_check_store(settings))
    if settings.discord_shard_count:
        shards = ",".join(map(str, settings.discord_shard_ids)) or "all"
        results.append(CheckResult("discord shards", "ok",
                                   f"this process runs shard(s) {shards} of {settings.discord_shard_count}"))
    manifest = settings.index_dir / "manifest.json"
    results.append(CheckResult("index", "ok", f"present at {settings.index_dir}" if manifest.is_file()
                               else "not built yet: `careerbot run` builds it (about 30 s), or `careerbot index build`"))
    return results


def _check_store(settings: Settings, *, timeout: float = 5.0) -> CheckResult:
    """Connect and run `SELECT 1`, changing nothing (no file created, no migration run)."""
    url = settings.database_url
    if url.startswith("sqlite:///"):
        import sqlite3

        path = Path(url.removeprefix("sqlite:///"))
        if not path.exists():
            writable = os.access(path.parent if path.parent.exists() else settings.data_dir, os.W_OK)
            return CheckResult("database", "ok" if writable else "config",
                               f"SQLite file {path} will be created" if writable
                               else f"SQLite file {path}: its folder is not writable")
        try:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=timeout) as conn:
                conn.execute("SELECT 1").fetchone()
        except sqlite3.Error as exc:
            return CheckResult("database", "config", f"SQLite file {path}: {exc}")
        return CheckResult("database", "ok", f"SQLite file {path} opens")
    try:
        import psycopg
    except ImportError:
        return CheckResult("database", "config", "CAREERBOT_DATABASE_URL is PostgreSQL but psycopg is not installed "
                                                 "(pip install 'careerbot[postgres]')")
    try:
        with psycopg.connect(url, connect_timeout=max(1, int(timeout))) as conn:
            conn.execute("SELECT 1").fetchone()
    except psycopg.OperationalError as exc:
        message = str(exc).strip().splitlines()[-1][:200] if str(exc).strip() else type(exc).__name__
        refused = "authentication failed" in message or "password" in message or (
            "role" in message and "does not exist" in message)
        if refused:
            return CheckResult("database", "rejected", f"PostgreSQL refused the credentials: {message}")
        return CheckResult("database", "unreachable", f"PostgreSQL: {message}")
    except psycopg.Error as exc:
        return CheckResult("database", "error", f"PostgreSQL: {type(exc).__name__}")
    return CheckResult("database", "ok", "PostgreSQL answers")


async def run_checks(settings: Settings, *, platforms: Iterable[str] | None = None, llm: bool = True,
                     local: bool = True, timeout: float = 5.0, socket_mode: bool | None = None) -> list[CheckResult]:
    """Every check that applies to these settings; the network ones run concurrently."""
    chosen = set(platforms) if platforms is not None else {
        p for p, on in (("slack", settings.slack_enabled), ("discord", settings.discord_enabled)) if on}
    results = await asyncio.to_thread(check_local, settings) if local else []
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    async with aiohttp.ClientSession(timeout=client_timeout, trust_env=True) as session:
        jobs: list[Any] = []
        if "slack" in chosen:
            if settings.slack_bot_token:
                jobs.append(check_slack(settings, session, timeout=timeout, socket_mode=socket_mode))
            else:
                results.append(CheckResult("slack", "config", "SLACK_BOT_TOKEN is not set"))
        if "discord" in chosen:
            if settings.discord_token:
                jobs.append(check_discord(settings, session, timeout=timeout))
            else:
                results.append(CheckResult("discord", "config", "DISCORD_TOKEN is not set"))
        if llm and settings.llm:
            jobs.append(check_llm(settings, session, timeout=timeout))
        for outcome in await asyncio.gather(*jobs):
            results.extend(outcome if isinstance(outcome, list) else [outcome])
    if not chosen and local:
        results.append(CheckResult("platforms", "skipped", "no Slack or Discord tokens: `careerbot run` needs a terminal"))
    return results
