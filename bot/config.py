"""Settings: the one place that reads the environment.

Everything else receives a `Settings` instance. A bad value raises `ConfigError` whose message is
one line naming the variable, so the entry point can print it instead of a traceback. Secrets are
kept out of `repr()` so a logged settings object never leaks a token.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

__all__ = ["ConfigError", "Settings"]

_PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(ValueError):
    """A configuration value is missing or malformed; the message names the variable."""


def _csv(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    raw = env.get(name, "")
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _int(env: Mapping[str, str], name: str, default: int | None, *, minimum: int = 0) -> int | None:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _finite(env: Mapping[str, str], name: str) -> tuple[float, str] | None:
    """The number a variable holds and its raw text, or None when unset; nan and inf are refused."""
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number, got {raw!r}")
    return value, raw


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    found = _finite(env, name)
    if found is None:
        return default
    if found[0] <= 0:
        raise ConfigError(f"{name} must be a positive finite number, got {found[1]!r}")
    return found[0]


def _seconds(env: Mapping[str, str], name: str, default: float, *, minimum: float = 0.0) -> float:
    """A finite number of at least `minimum` (nan and inf are refused: a drain must end)."""
    found = _finite(env, name)
    if found is None:
        return default
    if found[0] < minimum:
        raise ConfigError(f"{name} must be a finite number of at least {minimum:g}, got {found[1]!r}")
    return found[0]


def _url(env: Mapping[str, str], name: str, schemes: tuple[str, ...]) -> str | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if not raw.startswith(tuple(f"{s}://" for s in schemes)):
        raise ConfigError(f"{name} must start with {' or '.join(s + '://' for s in schemes)}, got {raw!r}")
    return raw.rstrip("/")


def _token(env: Mapping[str, str], name: str, prefixes: tuple[str, ...] = ()) -> str | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if prefixes and not raw.startswith(prefixes):
        # Never echo the value: it is a secret even when it is the wrong one.
        raise ConfigError(f"{name} does not look right: it should start with {' or '.join(prefixes)}")
    return raw


def _port(env: Mapping[str, str], name: str) -> int | None:
    value = _int(env, name, None, minimum=1)
    if value is not None and value > 65535:
        raise ConfigError(f"{name} must be a TCP port (1-65535), got {value}")
    return value


def _admin_token(env: Mapping[str, str]) -> str | None:
    token = _token(env, "CAREERBOT_ADMIN_TOKEN")
    if token is not None and len(token) < 16:
        # A short token can be guessed over the network; never echo it.
        raise ConfigError("CAREERBOT_ADMIN_TOKEN is too short: use at least 16 characters "
                          "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')")
    return token


# The providers' own key variables, honoured when CAREERBOT_LLM_API_KEY is not set.
_PROVIDER_KEY_VARIABLES = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY",
                           "google_genai": "GOOGLE_API_KEY", "groq": "GROQ_API_KEY",
                           "mistralai": "MISTRAL_API_KEY", "deepseek": "DEEPSEEK_API_KEY", "xai": "XAI_API_KEY"}


def _llm_key(env: Mapping[str, str], llm: str | None) -> str | None:
    own = env.get("CAREERBOT_LLM_API_KEY", "").strip()
    if own or not llm:
        return own or None
    variable = _PROVIDER_KEY_VARIABLES.get(llm.partition(":")[0].strip().lower())
    return (env.get(variable, "").strip() or None) if variable else None


@dataclass(frozen=True)
class Settings:
    """Frozen runtime configuration; build it with `Settings.from_env()`."""

    # ./data of the folder the bot is started in (like .env), never the source tree or site-packages.
    data_dir: Path = field(default_factory=lambda: Path.cwd() / "data")
    index_dir: Path = field(default_factory=lambda: Path.cwd() / "data" / "index")
    knowledge_dir: Path = field(default_factory=lambda: _PROJECT_ROOT / "knowledge")
    database_url: str = ""
    llm: str | None = None
    llm_base_url: str | None = None
    llm_api_key: str | None = field(default=None, repr=False)
    llm_timeout: float = 20.0
    log_level: str = "INFO"
    drain_seconds: float = 10.0  # on SIGTERM/SIGINT: how long in-flight answers may finish before being handed back
    event_retention_hours: float = 72.0  # inbox rows and event keys older than this are deleted
    inbox_lease_seconds: float = 30.0  # a dead worker's unfinished events are resumed after this
    log_format: str = "text"  # text | json (one object per line)
    http_port: int | None = None  # /healthz, /readyz, /metrics while `careerbot run` serves a platform
    public_url: str = ""  # where the project's article pages are served; citations link there when set
    web_port: int | None = None  # `careerbot run` also serves the web playground and admin on it when set
    admin_token: str | None = field(default=None, repr=False)  # the admin dashboard is off without it

    discord_token: str | None = field(default=None, repr=False)
    discord_api_base_url: str | None = None
    discord_gateway_url: str | None = None
    discord_shard_count: int | None = None
    discord_shard_ids: tuple[int, ...] = ()
    discord_guild_ids: tuple[int, ...] = ()
    discord_allowed_channels: tuple[str, ...] = ()
    discord_admin_role: str | None = None
    discord_reply_mode: str = "reply"

    slack_bot_token: str | None = field(default=None, repr=False)
    slack_app_token: str | None = field(default=None, repr=False)
    slack_signing_secret: str | None = field(default=None, repr=False)
    slack_api_base_url: str | None = None
    slack_allowed_channels: tuple[str, ...] = ()
    slack_admin_users: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{self.data_dir / 'careerbot.sqlite3'}")

    @property
    def discord_enabled(self) -> bool:
        return bool(self.discord_token)

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token and (self.slack_app_token or self.slack_signing_secret))

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every secret value, so output filters can redact them."""
        values = (
            self.discord_token,
            self.slack_bot_token,
            self.slack_app_token,
            self.slack_signing_secret,
            self.llm_api_key,
            self.admin_token,
        )
        return tuple(v for v in values if v)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and validate the CAREERBOT_*, DISCORD_* and SLACK_* variables."""
        env = os.environ if environ is None else environ
        defaults = cls()
        data_dir = Path(env.get("CAREERBOT_DATA_DIR") or defaults.data_dir).expanduser()
        index_dir = Path(env.get("CAREERBOT_INDEX_DIR") or data_dir / "index").expanduser()
        knowledge_dir = Path(env.get("CAREERBOT_KNOWLEDGE_DIR") or defaults.knowledge_dir).expanduser()

        database_url = env.get("CAREERBOT_DATABASE_URL", "").strip()
        if database_url and not database_url.startswith(("sqlite:///", "postgresql://", "postgres://")):
            raise ConfigError(
                "CAREERBOT_DATABASE_URL must start with sqlite:/// or postgresql://, "
                f"got {database_url.split('://')[0]!r}"
            )

        llm = env.get("CAREERBOT_LLM", "").strip() or None
        if llm and llm.lower() not in ("none", "off") and ":" not in llm:
            raise ConfigError(f"CAREERBOT_LLM must look like provider:model (e.g. openai:gpt-4o-mini), got {llm!r}")
        if llm and llm.lower() in ("none", "off"):
            llm = None

        shard_ids_raw = _csv(env, "DISCORD_SHARD_IDS")
        try:
            shard_ids = tuple(int(s) for s in shard_ids_raw)
        except ValueError:
            raise ConfigError("DISCORD_SHARD_IDS must be comma-separated whole numbers, e.g. 0,1") from None
        shard_count = _int(env, "DISCORD_SHARD_COUNT", None, minimum=1)
        if shard_ids and shard_count is None:
            raise ConfigError("DISCORD_SHARD_IDS needs DISCORD_SHARD_COUNT to be set as well")
        if shard_count is not None and any(s >= shard_count for s in shard_ids):
            raise ConfigError(f"DISCORD_SHARD_IDS must all be below DISCORD_SHARD_COUNT ({shard_count})")
        try:
            guild_ids = tuple(int(g) for g in _csv(env, "DISCORD_GUILD_IDS"))
        except ValueError:
            raise ConfigError("DISCORD_GUILD_IDS must be comma-separated numeric guild ids") from None
        reply_mode = env.get("DISCORD_REPLY_MODE", "reply").strip().lower() or "reply"
        if reply_mode not in ("reply", "thread"):
            raise ConfigError(f"DISCORD_REPLY_MODE must be reply or thread, got {reply_mode!r}")

        log_level = env.get("CAREERBOT_LOG_LEVEL", "INFO").strip().upper() or "INFO"
        if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ConfigError(f"CAREERBOT_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {log_level!r}")

        log_format = env.get("CAREERBOT_LOG_FORMAT", "text").strip().lower() or "text"
        if log_format not in ("text", "json"):
            raise ConfigError(f"CAREERBOT_LOG_FORMAT must be text or json, got {log_format!r}")
        http_port = _int(env, "CAREERBOT_HTTP_PORT", None, minimum=1)
        if http_port is not None and http_port > 65535:
            raise ConfigError(f"CAREERBOT_HTTP_PORT must be a TCP port (1-65535), got {http_port}")

        return cls(
            data_dir=data_dir,
            index_dir=index_dir,
            knowledge_dir=knowledge_dir,
            database_url=database_url,
            llm=llm,
            llm_base_url=_url(env, "CAREERBOT_LLM_BASE_URL", ("http", "https")),
            llm_api_key=_llm_key(env, llm),
            llm_timeout=_float(env, "CAREERBOT_LLM_TIMEOUT", 20.0),
            log_level=log_level,
            drain_seconds=_seconds(env, "CAREERBOT_DRAIN_SECONDS", 10.0),
            event_retention_hours=_seconds(env, "CAREERBOT_EVENT_RETENTION_HOURS", 72.0, minimum=1.0),
            inbox_lease_seconds=_seconds(env, "CAREERBOT_INBOX_LEASE_SECONDS", 30.0, minimum=1.0),
            log_format=log_format,
            http_port=http_port,
            public_url=(_url(env, "CAREERBOT_PUBLIC_URL", ("http", "https")) or "").rstrip("/"),
            web_port=_port(env, "CAREERBOT_WEB_PORT"),
            admin_token=_admin_token(env),
            discord_token=_token(env, "DISCORD_TOKEN"),
            discord_api_base_url=_url(env, "DISCORD_API_BASE_URL", ("http", "https")),
            discord_gateway_url=_url(env, "DISCORD_GATEWAY_URL", ("ws", "wss")),
            discord_shard_count=shard_count,
            discord_shard_ids=shard_ids,
            discord_guild_ids=guild_ids,
            discord_allowed_channels=_csv(env, "DISCORD_ALLOWED_CHANNELS"),
            discord_admin_role=env.get("DISCORD_ADMIN_ROLE", "").strip() or None,
            discord_reply_mode=reply_mode,
            slack_bot_token=_token(env, "SLACK_BOT_TOKEN", ("xoxb-",)),
            slack_app_token=_token(env, "SLACK_APP_TOKEN", ("xapp-",)),
            slack_signing_secret=_token(env, "SLACK_SIGNING_SECRET"),
            slack_api_base_url=_url(env, "SLACK_API_BASE_URL", ("http", "https")),
            slack_allowed_channels=_csv(env, "SLACK_ALLOWED_CHANNELS"),
            slack_admin_users=_csv(env, "SLACK_ADMIN_USERS"),
        )

    def describe(self) -> dict[str, str]:
        """Settings as strings with secrets masked, for `careerbot` diagnostics and logs."""
        out: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if not f.repr:
                value = "set" if value else "unset"
            elif f.name == "database_url":
                value = _without_password(str(value))
            out[f.name] = str(value)
        return out


def _without_password(url: str) -> str:
    """A database URL fit for logs: `postgresql://user:***@host/db`."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in credentials:
        return url
    return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}"
