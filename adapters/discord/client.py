"""The discord.py client: intents, endpoints, cogs and command sync, built from `Settings`.

Why a factory and not a module-level bot: nothing happens at import time, dependencies (brain,
store) are passed in, and tests can build several bots against a local fake of Discord.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any

import discord
import yarl
from discord.ext import commands

from adapters.discord.commands_cog import CommandsCog
from adapters.discord.components import handle_press
from adapters.discord.inbound import Access
from adapters.discord.messages_cog import MessagesCog
from adapters.discord.render import CareerButton, safe_allowed_mentions
from adapters.discord.respond import Responder
from bot.config import ConfigError, Settings
from bot.inbox import InboxWorker
from bot.store.base import Store

__all__ = ["CareerBot", "ShardedCareerBot", "build_discord_bot", "discord_intents"]

_log = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://discord.com/api/v10"
DEFAULT_GATEWAY = "wss://gateway.discord.gg/"
SYNC_STATE_FILE = "discord-commands.json"
"""In the data folder: a hash of the command definitions last synced, per application and scope."""


def discord_intents() -> discord.Intents:
    """Only what the bot uses.

    guilds: channel and thread objects (allowed channels, thread replies); guild_messages and
    dm_messages: the messages themselves; message_content (privileged, enable it in the developer
    portal): the text of DMs and of replies to the bot's answers. No members or presences.
    """
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.dm_messages = True
    intents.message_content = True
    return intents


def _api_base(url: str | None) -> str:
    """`DISCORD_API_BASE_URL` as discord.py's `Route.BASE`; a bare host gets `/api/v10` appended."""
    if not url:
        return DEFAULT_API_BASE
    url = url.rstrip("/")
    return url if "/api" in yarl.URL(url).path else f"{url}/api/v10"


def check_settings(settings: Settings) -> None:
    """Raise `ConfigError` naming what is missing, before anything slow starts."""
    if not settings.discord_token:
        raise ConfigError("DISCORD_TOKEN is not set: create a bot in the Discord developer portal and put its token in .env")


def configure_endpoints(settings: Settings) -> None:
    """Point discord.py's REST client and gateway at the configured URLs.

    Both are class attributes in discord.py (`Route.BASE`, `DiscordWebSocket.DEFAULT_GATEWAY`), so
    they are process-wide: set them on every build, from settings alone, so the last build wins
    deterministically and an unset variable means real Discord.
    """
    discord.http.Route.BASE = _api_base(settings.discord_api_base_url)
    gateway = settings.discord_gateway_url or DEFAULT_GATEWAY
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)


def _guard_parser(name: str, parser: Callable[[Any], None]) -> Callable[[Any], None]:
    @functools.wraps(parser)
    def guarded(data: Any) -> None:
        try:
            parser(data)
        except Exception:
            # discord.py lets a parser error escape the gateway loop and stop the client; a
            # malformed event should cost one event, not the connection.
            _log.exception("dropped a malformed %s event", name)

    return guarded


class _CareerBotMixin:
    """Shared by the single-process and the sharded bot."""

    settings: Settings
    brain: Any
    store: Store
    responder: Responder
    access: Access

    def _init_career(self, settings: Settings, brain: Any, store: Store, responder: Responder) -> None:
        self.settings = settings
        self.brain = brain
        self.store = store
        self.responder = responder
        responder.client = self  # type: ignore[assignment]
        self.access = Access(settings.discord_allowed_channels, settings.discord_admin_role)
        state = self._connection  # type: ignore[attr-defined]
        for name, parser in list(state.parsers.items()):
            state.parsers[name] = _guard_parser(name, parser)

    def _syncs_commands(self) -> bool:
        """Only one process syncs commands: the one holding shard 0 (or the only one)."""
        shard_ids = getattr(self, "shard_ids", None)
        return not shard_ids or 0 in shard_ids

    async def setup_hook(self) -> None:
        bot: commands.Bot = self  # type: ignore[assignment]
        await bot.add_cog(MessagesCog(bot, self.responder, self.access, reply_mode=self.settings.discord_reply_mode))
        await bot.add_cog(CommandsCog(self.responder, self.access))
        bot.add_dynamic_items(CareerButton)
        # Logged in (REST works) but not yet on the gateway: resume what a dead worker left.
        self.responder.inbox.start_background()
        if self._syncs_commands():
            await self.sync_commands()

    async def on_career_button(self, interaction: discord.Interaction) -> None:
        """A press of any careerbot button (see `render.CareerButton`)."""
        await handle_press(interaction, self.responder, self.access)

    async def sync_commands(self) -> None:
        """Register the slash commands, but only where their definitions changed since the last sync.

        discord.py's maintainers advise against syncing at every start: it spends a tightly
        rate-limited endpoint and, globally, makes Discord re-propagate commands. A hash of each
        scope's command payload is kept in the data folder; a new or changed command tree syncs,
        an unchanged one does not. Per configured guild (instant) or globally (cached by Discord).
        A failure (e.g. the bot was invited without the applications.commands scope) is logged, not
        fatal: mentions and DMs still work.
        """
        bot: commands.Bot = self  # type: ignore[assignment]
        state_path = self.settings.data_dir / SYNC_STATE_FILE
        synced = _read_json(state_path)
        app = str(bot.application_id or "")
        scopes: list[discord.Object | None] = [discord.Object(id=g) for g in self.settings.discord_guild_ids] or [None]
        try:
            for guild in scopes:
                if guild is not None:
                    bot.tree.copy_global_to(guild=guild)
                key = f"{app}:{guild.id if guild is not None else 'global'}"
                digest = command_tree_hash(bot.tree, guild)
                if synced.get(key) == digest:
                    _log.info("slash commands unchanged (%s); not syncing", key)
                    continue
                await bot.tree.sync(guild=guild)
                synced[key] = digest
                _write_json(state_path, synced)
                _log.info("slash commands synced (%s)", key)
        except discord.HTTPException as exc:
            _log.error("could not register slash commands (%s): check the applications.commands scope", exc.status)

    async def on_message(self, message: discord.Message) -> None:
        """Replace commands.Bot's prefix-command processing: the bot has slash commands only."""


def command_tree_hash(tree: discord.app_commands.CommandTree, guild: discord.abc.Snowflake | None) -> str:
    """SHA-256 of the JSON that `tree.sync(guild=guild)` would send."""
    payload = sorted((cmd.to_dict(tree) for cmd in tree.get_commands(guild=guild)), key=lambda c: str(c.get("name")))
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _read_json(path: Any) -> dict[str, str]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_json(path: Any, data: dict[str, str]) -> None:
    """Atomically, so a crash mid-write means "sync again", never a corrupt file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True))
        tmp.replace(path)
    except OSError as exc:
        _log.warning("could not record the synced command hash in %s (%s); the next start syncs again", path, exc)


def _bot_kwargs(settings: Settings) -> dict[str, Any]:
    return {
        "command_prefix": commands.when_mentioned,
        "help_command": None,
        "intents": discord_intents(),
        "allowed_mentions": safe_allowed_mentions(),
        "max_messages": 1000,
    }


class CareerBot(_CareerBotMixin, commands.Bot):
    """One gateway connection (fine below 2,500 servers)."""

    def __init__(self, settings: Settings, brain: Any, store: Store, responder: Responder, **options: Any) -> None:
        super().__init__(**{**_bot_kwargs(settings), **options})
        self._init_career(settings, brain, store, responder)


class ShardedCareerBot(_CareerBotMixin, commands.AutoShardedBot):
    """Several shards in this process: `DISCORD_SHARD_COUNT`, optionally `DISCORD_SHARD_IDS` so
    several processes split the shards between them (sharing one store)."""

    def __init__(self, settings: Settings, brain: Any, store: Store, responder: Responder, **options: Any) -> None:
        kwargs = {**_bot_kwargs(settings), **options}
        kwargs["shard_count"] = settings.discord_shard_count
        if settings.discord_shard_ids:
            kwargs["shard_ids"] = list(settings.discord_shard_ids)
        super().__init__(**kwargs)
        self._init_career(settings, brain, store, responder)


def build_discord_bot(
    settings: Settings,
    brain: Any,
    store: Store,
    *,
    answer_budget: float = 1.5,
    typing_after: float = 0.4,
    **client_options: Any,
) -> CareerBot | ShardedCareerBot:
    """The Discord client for `brain` (anything with `async handle(Inbound) -> Reply`).

    Raises `ConfigError` when `DISCORD_TOKEN` is missing. `answer_budget` and `typing_after` tune
    when interactions are deferred and when the typing indicator starts (see `Responder`);
    `client_options` go to discord.py's client as they are (e.g. `guild_ready_timeout`).
    """
    check_settings(settings)
    configure_endpoints(settings)
    # The bot never joins voice: discord.py's warnings about missing voice libraries would only
    # send operators looking for a problem that is not there.
    discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
    inbox = InboxWorker(store, platforms=("discord",), retention_hours=settings.event_retention_hours,
                        lease_seconds=settings.inbox_lease_seconds)
    responder = Responder(brain.handle, store, answer_budget=answer_budget, typing_after=typing_after, inbox=inbox)
    if settings.discord_shard_count:
        return ShardedCareerBot(settings, brain, store, responder, **client_options)
    return CareerBot(settings, brain, store, responder, **client_options)
