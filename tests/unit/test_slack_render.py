"""Markdown -> mrkdwn, Block Kit limits and splitting, without any server."""

from __future__ import annotations

from adapters.slack.parse import slack_to_text
from adapters.slack.render import (
    SECTION_LIMIT,
    owner_of_block,
    render_reply,
    split_text,
    to_mrkdwn,
)
from bot.messages import Button, Reply, Source


def test_markdown_becomes_mrkdwn():
    md = "# Plan\n**Bold** and *soft* and ~~old~~, see [the guide](https://ex.org/a?b=1&c=2).\n- one\n* two"
    out = to_mrkdwn(md)
    assert out.splitlines()[0] == "*Plan*"
    assert "*Bold*" in out and "_soft_" in out and "~old~" in out
    assert "<https://ex.org/a?b=1&amp;c=2|the guide>" in out
    assert "• one" in out and "• two" in out


def test_control_characters_are_escaped_but_code_kept():
    out = to_mrkdwn("a < b & c > d `x<y`\n```python\nif a < b:\n    pass\n```")
    assert "a &lt; b &amp; c &gt; d" in out
    assert "`x&lt;y`" in out
    assert "```\nif a &lt; b:\n    pass\n```" in out  # language tag dropped, body escaped
    assert to_mrkdwn("snake_case_name and 2*3*4") == "snake_case_name and 2*3*4"


def test_link_labels_cannot_break_out():
    out = to_mrkdwn("[a|b>c](https://x.y/z)")
    assert out == "<https://x.y/z|a¦b&gt;c>"


def test_split_respects_the_limit_and_keeps_code_fenced():
    code = "```\n" + "\n".join(f"line {i}" for i in range(900)) + "\n```"
    chunks = split_text(code)
    assert len(chunks) > 1
    assert all(len(c) <= SECTION_LIMIT for c in chunks)
    assert all(c.count("```") % 2 == 0 for c in chunks)
    prose = " ".join(["word"] * 3000) + " <https://example.org/a-very-long-link|a link title> " + "end " * 500
    chunks = split_text(prose)
    assert all(len(c) <= SECTION_LIMIT for c in chunks)
    assert any("<https://example.org/a-very-long-link|a link title>" in c for c in chunks)  # never cut


def test_short_text_is_one_chunk_and_empty_is_none():
    assert split_text("hello") == ["hello"]
    assert split_text("") == []


def test_render_puts_sources_and_buttons_on_the_last_message():
    reply = Reply(
        text="\n\n".join("para " * 200 for _ in range(10)),
        sources=(Source("AI engineer roles", "https://ex.org/roles"),),
        buttons=((Button("Start quiz", "quiz:start", "primary"), Button("x" * 100, "v", "weird")),
                 (Button("Helpful", "feedback:abc123:up", "primary"), Button("Not helpful", "feedback:abc123:down"))),
        data={"answer_id": "abc123"},
    )
    messages = render_reply(reply, owner="U1")
    assert len(messages) > 1
    for m in messages[:-1]:
        assert [b["type"] for b in m.blocks] == ["section"]
    last = messages[-1].blocks
    assert last[1]["type"] == "context" and "<https://ex.org/roles|AI engineer roles>" in last[1]["elements"][0]["text"]
    actions = [b for b in last if b["type"] == "actions"]
    first_row = actions[0]["elements"]
    assert first_row[0]["style"] == "primary" and "style" not in first_row[1]
    assert len(first_row[1]["text"]["text"]) <= 75
    values = [e["value"] for a in actions for e in a["elements"]]
    assert "feedback:abc123:up" in values and "feedback:abc123:down" in values
    assert owner_of_block(actions[0]["block_id"]) == "U1"
    assert len({e["action_id"] for a in actions for e in a["elements"]}) == len(values)


def test_buttons_are_exactly_the_brains():
    """The adapter adds no buttons of its own: feedback and share rows come from the brain."""
    plain = render_reply(Reply(text="x", data={"answer_id": "id1"}))
    assert [b["type"] for b in plain[-1].blocks] == ["section"]
    rows = ((Button("Helpful", "feedback:id1:up", "primary"), Button("Not helpful", "feedback:id1:down")),
            (Button("Share in channel", "share:id1", "primary"),))
    blocks = render_reply(Reply(text="x", buttons=rows, data={"answer_id": "id1"}), owner="U1")[-1].blocks
    actions = [b for b in blocks if b["type"] == "actions"]
    assert [[e["value"] for e in a["elements"]] for a in actions] == [
        ["feedback:id1:up", "feedback:id1:down"], ["share:id1"]]
    assert [owner_of_block(a["block_id"]) for a in actions] == ["U1", "U1"]


def test_slack_text_is_cleaned_for_the_brain():
    raw = "<@UBOT> hi <@U2|ann> see <#C1|general> &amp; <https://ex.org|docs> &lt;3"
    assert slack_to_text(raw, "UBOT") == "hi @U2 see #general & docs (https://ex.org) <3"
