"""Discord events -> `Inbound`, and who may talk to the bot where.

Why separate from the cogs: the translation rules (which messages are addressed to the bot, which
id ties a conversation together, which channels are allowed) are the adapter's whole contract with
the brain, so they are plain functions over discord.py objects that tests can read in one place.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import discord

from adapters.discord.render import parse_conversation_footer
from bot.messages import Inbound, Kind

__all__ = ["Access", "inbound_from_command", "inbound_from_component", "inbound_from_message"]

PLATFORM = "discord"


def _strip_mentions(text: str, user_id: int, role_ids: Iterable[int] = ()) -> str:
    pattern = rf"<@!?{user_id}>"
    for role_id in role_ids:
        pattern += rf"|<@&{role_id}>"
    return re.sub(r"\s{2,}", " ", re.sub(pattern, " ", text)).strip()


def _channel_parts(channel: object) -> tuple[str, str | None]:
    """(channel id, thread id): a thread is reported under its parent so a conversation keeps one
    key whether the bot answered inline or opened the thread."""
    if isinstance(channel, discord.Thread):
        return str(channel.parent_id or channel.id), str(channel.id)
    return str(getattr(channel, "id", "")), None


def _self_role_ids(message: discord.Message) -> list[int]:
    """The bot's managed role: people often pick it instead of the bot in the mention menu."""
    guild = message.guild
    me = guild.me if guild is not None else None
    role = guild.self_role if guild is not None and me is not None else None
    return [role.id] if role is not None else []


def _replied_bot_message(message: discord.Message, bot_id: int) -> discord.Message | None:
    ref = message.reference
    resolved = ref.resolved if ref is not None else None
    if isinstance(resolved, discord.Message) and resolved.author.id == bot_id:
        return resolved
    return None


def _root_of(bot_message: discord.Message) -> str | None:
    """The conversation root recorded on one of the bot's answers (footer), else what it replied to."""
    for embed in bot_message.embeds:
        root = parse_conversation_footer(embed.footer.text if embed.footer else None)
        if root:
            return root
    ref = bot_message.reference
    return str(ref.message_id) if ref is not None and ref.message_id else None


def inbound_from_message(message: discord.Message, bot_user: discord.abc.User) -> Inbound | None:
    """The `Inbound` for a message addressed to the bot, or None when it is not for us.

    Addressed means: any DM; a mention of the bot (or its managed role); a reply to one of the bot's
    answers; any message in a thread the bot opened. Bots (including ourselves) and system messages
    are never addressed, so two bots can't loop.
    """
    if message.author.bot or message.webhook_id is not None:
        return None
    if message.type not in (discord.MessageType.default, discord.MessageType.reply):
        return None
    bot_id = bot_user.id
    if message.guild is None:
        return Inbound(
            platform=PLATFORM,
            user=str(message.author.id),
            channel=str(message.channel.id),
            text=_strip_mentions(message.content, bot_id),
            kind=Kind.DM,
            message_id=str(message.id),
        )
    role_ids = _self_role_ids(message)
    mentioned = any(u.id == bot_id for u in message.mentions) or any(
        r in message.raw_role_mentions for r in role_ids
    )
    replied = _replied_bot_message(message, bot_id)
    channel_id, thread_id = _channel_parts(message.channel)
    in_own_thread = isinstance(message.channel, discord.Thread) and message.channel.owner_id == bot_id
    if not (mentioned or replied is not None or in_own_thread):
        return None
    if thread_id is not None:
        conversation = thread_id
    elif replied is not None:
        conversation = _root_of(replied) or str(replied.id)
    else:
        conversation = str(message.id)
    return Inbound(
        platform=PLATFORM,
        user=str(message.author.id),
        channel=channel_id,
        text=_strip_mentions(message.content, bot_id, role_ids),
        kind=Kind.MENTION,
        thread=conversation,
        workspace=str(message.guild.id),
        message_id=str(message.id),
    )


def _interaction_where(interaction: discord.Interaction) -> tuple[str, str | None, str | None]:
    channel = interaction.channel
    if channel is not None:
        channel_id, thread_id = _channel_parts(channel)
    else:
        channel_id, thread_id = str(interaction.channel_id or ""), None
    workspace = str(interaction.guild_id) if interaction.guild_id else None
    return channel_id, thread_id, workspace


def inbound_from_command(interaction: discord.Interaction, command: str, text: str = "") -> Inbound:
    """A slash command as `Kind.COMMAND`; `text` is the command's argument."""
    channel_id, thread_id, workspace = _interaction_where(interaction)
    return Inbound(
        platform=PLATFORM,
        user=str(interaction.user.id),
        channel=channel_id,
        text=text.strip(),
        kind=Kind.COMMAND,
        thread=thread_id,
        command=command,
        workspace=workspace,
        message_id=str(interaction.id),
    )


def inbound_from_component(interaction: discord.Interaction) -> Inbound | None:
    """A button press as `Kind.ACTION` with the button's value; None for anything else."""
    data = interaction.data if isinstance(interaction.data, dict) else {}
    custom_id = data.get("custom_id")
    if not isinstance(custom_id, str) or not custom_id or interaction.user is None:
        return None
    channel_id, thread_id, workspace = _interaction_where(interaction)
    return Inbound(
        platform=PLATFORM,
        user=str(interaction.user.id),
        channel=channel_id,
        kind=Kind.ACTION,
        thread=thread_id,
        action=custom_id,
        workspace=workspace,
        message_id=str(interaction.id),
    )


@dataclass(frozen=True)
class Access:
    """Where the bot answers: `DISCORD_ALLOWED_CHANNELS` and `DISCORD_ADMIN_ROLE`.

    Allowed entries are channel ids, channel names, or guild ids (a guild id allows every channel of
    that server); threads follow their parent channel. Empty means everywhere. DMs are always allowed:
    they only reach people who chose to write to the bot. Members holding the admin role (by name or
    id) may use the bot anywhere, so admins can try it before opening a channel.
    """

    allowed: tuple[str, ...] = ()
    admin_role: str | None = None

    def is_admin(self, member: object) -> bool:
        if not self.admin_role or not isinstance(member, discord.Member):
            return False
        wanted = self.admin_role.lstrip("@").casefold()
        return any(wanted in (str(r.id), r.name.casefold()) for r in member.roles)

    def allows(self, *, guild: object, channel: object, member: object) -> bool:
        if guild is None or not self.allowed:
            return True
        if self.is_admin(member):
            return True
        names: set[str] = {str(getattr(guild, "id", ""))}
        for obj in (channel, getattr(channel, "parent", None)):
            if obj is not None:
                names.add(str(getattr(obj, "id", "")))
                name = getattr(obj, "name", None)
                if name:
                    names.add(str(name).casefold())
        parent_id = getattr(channel, "parent_id", None)
        if parent_id:
            names.add(str(parent_id))
        return any(entry.lstrip("#").casefold() in names for entry in self.allowed)
