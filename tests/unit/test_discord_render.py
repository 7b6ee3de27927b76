"""Rendering a Reply for Discord: splitting, embed limits, buttons, mentions. No client, no network."""

from __future__ import annotations

from pathlib import Path

import discord
import pytest

from adapters.discord.client import _api_base, build_discord_bot
from adapters.discord.inbound import Access
from adapters.discord.render import (
    CONTENT_LIMIT,
    EMBED_DESCRIPTION_LIMIT,
    EMBED_TOTAL_LIMIT,
    FIELD_VALUE_LIMIT,
    CareerButton,
    build_view,
    conversation_footer,
    parse_conversation_footer,
    render_reply,
    safe_allowed_mentions,
    sanitize_content,
    split_text,
    to_discord_markdown,
)
from bot.config import ConfigError, Settings
from bot.messages import Attachment, Button, Reply, Source


def _paragraphs(n: int, size: int = 300) -> str:
    return "\n\n".join(f"Paragraph {i}: " + "word " * (size // 5) for i in range(n))


# --- splitting ---------------------------------------------------------------------------------


def test_short_text_is_one_piece() -> None:
    assert split_text("hello", 2000) == ["hello"]
    assert split_text("   ", 2000) == []


@pytest.mark.parametrize("limit", [CONTENT_LIMIT, EMBED_DESCRIPTION_LIMIT, 100])
def test_pieces_respect_the_limit_and_keep_every_word(limit: int) -> None:
    text = _paragraphs(40)
    pieces = split_text(text, limit)
    assert len(pieces) > 1
    assert all(len(p) <= limit for p in pieces)
    assert " ".join(" ".join(pieces).split()) == " ".join(text.split())


def test_splits_at_paragraph_breaks_when_it_can() -> None:
    text = ("a" * 900 + "\n\n") * 3
    pieces = split_text(text, 2000)
    assert all(p.endswith("a") and p.startswith("a") for p in pieces)


def test_a_word_longer_than_the_limit_is_cut_hard() -> None:
    pieces = split_text("x" * 5000, 2000)
    assert all(len(p) <= 2000 for p in pieces) and "".join(pieces) == "x" * 5000


def test_code_fences_stay_balanced_across_pieces() -> None:
    code = "```python\n" + "\n".join(f"print({i})" for i in range(600)) + "\n```"
    pieces = split_text("Intro\n\n" + code, 2000)
    assert len(pieces) > 1
    assert all(p.count("```") % 2 == 0 for p in pieces)
    assert all(len(p) <= 2000 for p in pieces)


# --- markdown and mentions ---------------------------------------------------------------------


def test_headings_become_bold_and_links_stay() -> None:
    out = to_discord_markdown("# Title\n\nSee [the article](https://example.org/a).\n- one\n- two")
    assert out.startswith("**Title**")
    assert "[the article](https://example.org/a)" in out and "- one" in out


def test_mass_mentions_are_defused_and_never_allowed() -> None:
    assert "@everyone" not in sanitize_content("hi @everyone and @here")
    mentions = safe_allowed_mentions().to_dict()
    assert mentions == {"parse": [], "replied_user": True}  # no everyone, roles or users parsed


def test_rendered_reply_carries_no_mass_mention() -> None:
    [out] = render_reply(Reply(text="ping @everyone please"))
    assert "@everyone" not in out.embeds[0].description
    assert out.send_kwargs()["allowed_mentions"].everyone is False


# --- embeds ------------------------------------------------------------------------------------


def test_answer_in_embed_with_numbered_source_links_and_buttons() -> None:
    reply = Reply(
        text="**Short answer:** AI engineering builds products on models.",
        sources=(
            Source("AI vs ML engineer", "https://example.org/ai-vs-ml"),
            Source("No URL here", ""),
        ),
        buttons=((Button("Helpful", "feedback:abc:up", "success"), Button("Not helpful", "feedback:abc:down", "danger")),),
    )
    [out] = render_reply(reply, footer=conversation_footer(123456789012345678))
    embed = out.embeds[0]
    assert embed.description.startswith("**Short answer:**")
    sources = embed.fields[0]
    assert sources.name == "Sources"
    assert sources.value.splitlines() == ["1. [AI vs ML engineer](https://example.org/ai-vs-ml)", "2. No URL here"]
    assert parse_conversation_footer(embed.footer.text) == "123456789012345678"
    view = out.view
    assert view is not None and [c.custom_id for c in view.children] == ["feedback:abc:up", "feedback:abc:down"]
    assert [c.style for c in view.children] == [discord.ButtonStyle.success, discord.ButtonStyle.danger]


def test_long_answers_split_within_embed_and_message_limits() -> None:
    reply = Reply(
        text=_paragraphs(80),  # about 24,000 characters
        sources=tuple(Source(f"Article {i} " + "t" * 150, f"https://example.org/{i}") for i in range(30)),
        buttons=((Button("Helpful", "feedback:x:up"),),),
        attachments=(Attachment("chart.png", Path("chart.png")),),
    )
    messages = render_reply(reply)
    assert len(messages) > 1
    for out in messages:
        assert 1 <= len(out.embeds) <= 10
        assert sum(len(e) for e in out.embeds) <= EMBED_TOTAL_LIMIT
        for embed in out.embeds:
            assert len(embed.description or "") <= EMBED_DESCRIPTION_LIMIT
            assert all(len(f.value) <= FIELD_VALUE_LIMIT for f in embed.fields)
            assert len(embed.fields) <= 25
    # Buttons and files only under the last message, after the whole answer.
    assert all(out.view is None and not out.attachments for out in messages[:-1])
    assert messages[-1].view is not None and messages[-1].attachments
    source_lines = [line for out in messages for e in out.embeds for f in e.fields for line in f.value.splitlines()]
    assert len(source_lines) == 30


def test_image_attachment_is_shown_in_the_embed() -> None:
    [out] = render_reply(Reply(text="Result", attachments=(Attachment("radar.png", Path("radar.png")),)))
    assert out.embeds[0].image.url == "attachment://radar.png"


def test_empty_text_still_renders_a_valid_embed() -> None:
    [out] = render_reply(Reply(text=""))
    assert out.embeds[0].description


# --- buttons -----------------------------------------------------------------------------------


def test_buttons_wrap_into_rows_of_five_and_drop_overlong_ids() -> None:
    row = tuple(Button(f"Option {i}", f"quiz:a:1:{i}") for i in range(7))
    bad = Button("Too long", "x" * 101)
    view = build_view((row, (bad,)))
    assert view is not None
    rows = [c.row for c in view.children]
    assert rows == [0] * 5 + [1] * 2
    assert all(len(c.custom_id) <= 100 for c in view.children)


def test_buttons_are_dynamic_items_not_kept_per_message() -> None:
    """Presses are dispatched by custom_id (DynamicItem), so discord.py stores no view per message."""
    from discord.ui.view import ViewStore

    view = build_view(((Button("Yes", "quiz:answer:1:0:1"), Button("Helpful", "feedback:ab12:up", "primary")),))
    assert view is not None and view.timeout is None
    assert all(isinstance(c, CareerButton) for c in view.children)
    assert view.to_components()[0]["components"][0]["custom_id"] == "quiz:answer:1:0:1"
    assert CareerButton.__discord_ui_compiled_template__.fullmatch("feedback:ab12:up")["value"] == "feedback:ab12:up"
    store = ViewStore(None)  # type: ignore[arg-type]
    store.add_view(view, message_id=1234)
    assert store._views == {} and store._synced_message_views == {}  # nothing per message
    assert CareerButton.__discord_ui_compiled_template__ in store._dynamic_items


def test_no_buttons_no_view() -> None:
    assert build_view(()) is None


# --- access and configuration ------------------------------------------------------------------


class _Obj:
    def __init__(self, id: int, name: str = "", parent: object | None = None) -> None:
        self.id, self.name, self.parent = id, name, parent
        self.parent_id = getattr(parent, "id", None)


def test_access_by_channel_id_name_parent_or_guild() -> None:
    guild, careers, random_ = _Obj(1), _Obj(10, "careers"), _Obj(11, "random")
    thread = _Obj(12, "a thread", parent=careers)
    by_id = Access(("10",))
    assert by_id.allows(guild=guild, channel=careers, member=None)
    assert by_id.allows(guild=guild, channel=thread, member=None)
    assert not by_id.allows(guild=guild, channel=random_, member=None)
    assert Access(("#careers",)).allows(guild=guild, channel=careers, member=None)
    assert Access(("1",)).allows(guild=guild, channel=random_, member=None)
    assert Access(("10",)).allows(guild=None, channel=random_, member=None)  # DMs
    assert Access(()).allows(guild=guild, channel=random_, member=None)


def test_missing_token_is_a_config_error_naming_the_variable() -> None:
    with pytest.raises(ConfigError, match="DISCORD_TOKEN"):
        build_discord_bot(Settings(), brain=object(), store=object())  # type: ignore[arg-type]


def test_api_base_url_gets_the_api_path() -> None:
    assert _api_base(None) == "https://discord.com/api/v10"
    assert _api_base("http://proxy:8080") == "http://proxy:8080/api/v10"
    assert _api_base("http://proxy:8080/api/v10/") == "http://proxy:8080/api/v10"
