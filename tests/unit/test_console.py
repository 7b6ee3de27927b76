"""The terminal front end: rich rendering on a terminal, the plain fallback elsewhere, the JSON chat.

A stub brain stands in for the real one: these tests are about rendering and line handling, and the
real brain's wiring is covered by tests/integration/test_cli.py.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from adapters.console import (
    decode_line,
    json_payload,
    print_reply,
    render_reply,
    rich_reply,
    run_chat,
    run_json_chat,
)
from bot.messages import Attachment, Button, Inbound, Reply, Source

URL = "https://example.com/articles/ai-vs-ml"
REPLY = Reply(
    text=f"## Short answer\n\n**AI engineers** build on existing models [1].\n\n- prompting\n- retrieval\n\n"
         f"Read [the comparison]({URL}).",
    intent="question",
    sources=(Source("AI vs ML engineering", URL, "snippet"), Source("No link", "", author="A. Writer")),
    buttons=((Button("Helpful", "feedback:a1:up", "primary"), Button("Not helpful", "feedback:a1:down")),),
    data={"answer_id": "a1", "passages": ["c1"]},
)


class StubBrain:
    """Answers with canned replies and remembers what it was sent."""

    agent = None

    def __init__(self, reply: Reply = REPLY) -> None:
        self.reply = reply
        self.seen: list[Inbound] = []

    async def handle(self, inbound: Inbound) -> Reply:
        self.seen.append(inbound)
        return self.reply


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def segments(renderable: object, width: int = 200) -> list[tuple[str, bool]]:
    """(text, bold) pieces as rich would draw them, independent of ANSI codes and colour support."""
    console = Console(width=width, force_terminal=True, color_system="truecolor")
    return [(seg.text, bool(seg.style and seg.style.bold)) for seg in console.render(renderable)]


def plain_text(renderable: object, width: int = 200) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None)
    console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined]


# --- rich renderer ------------------------------------------------------------------------------

def test_rich_turns_markdown_bold_into_styled_text() -> None:
    pieces = segments(rich_reply(REPLY))
    assert ("AI engineers", True) in pieces and ("Sources:", True) in pieces
    assert not any(bold for text, bold in pieces if "AI vs ML engineering" in text)  # only the heading is bold
    assert not any("**" in text for text, _ in pieces)


def test_rich_shows_link_urls_lists_headings_sources_and_numbered_buttons() -> None:
    out = plain_text(rich_reply(REPLY))
    assert "the comparison" in out and URL in out  # the URL is spelled out, not hidden in a hyperlink
    assert "Short answer" in out and "##" not in out
    assert "• prompting" in out and "• retrieval" in out
    assert "[1] AI vs ML engineering " + URL in out and "[2] No link (A. Writer)" in out
    assert "[1] Helpful  [2] Not helpful" in out
    assert "[1]" in out.split("Sources:")[0]  # the citation marker survives, not eaten as rich markup


def test_rich_without_buttons_and_for_plans() -> None:
    out = plain_text(rich_reply(REPLY, buttons=False))
    assert "Helpful" not in out and "Sources:" in out
    # A plan cites the articles it is built from; a quiz step carries its own links and lists none.
    plan = Reply(text="**Stage 1**", intent="plan", sources=REPLY.sources)
    assert "Sources:" in plain_text(rich_reply(plan))
    quiz = Reply(text="**Result**", intent="quiz", sources=REPLY.sources,
                 attachments=(Attachment("radar.png", Path("/tmp/radar.png")),))
    out = plain_text(rich_reply(quiz))
    assert "Sources:" not in out and "chart saved to /tmp/radar.png" in out


# --- plain fallback -----------------------------------------------------------------------------

def test_plain_renderer_keeps_markdown_and_writes_links_as_title_and_url() -> None:
    out = render_reply(REPLY)
    assert "**AI engineers**" in out and f"the comparison <{URL}>" in out
    assert f"  [1] AI vs ML engineering <{URL}>" in out and "  [2] No link (A. Writer)\n" in out
    assert "[1] Helpful  [2] Not helpful" in out
    one_shot = render_reply(REPLY, buttons=False)
    assert "Helpful" not in one_shot and "Sources:" in one_shot


def test_print_reply_picks_the_renderer() -> None:
    plain, styled = io.StringIO(), io.StringIO()
    print_reply(REPLY, plain, rich=False)
    print_reply(REPLY, styled, rich=True)
    assert "bot> " in plain.getvalue() and "**AI engineers**" in plain.getvalue()
    assert "bot>" in styled.getvalue() and "**" not in styled.getvalue() and URL in styled.getvalue()


def test_run_chat_renders_plain_into_a_pipe_and_rich_on_a_terminal() -> None:
    piped = io.StringIO()
    assert run_chat(StubBrain(), io.StringIO("hello\n"), piped, interactive=False) == 0
    assert "**AI engineers**" in piped.getvalue() and "[1] Helpful" in piped.getvalue()

    terminal = FakeTerminal()
    assert run_chat(StubBrain(), io.StringIO("hello\n"), terminal, interactive=False) == 0
    assert "**" not in terminal.getvalue() and "AI engineers" in terminal.getvalue()
    assert "[1] Helpful" in terminal.getvalue()


def test_run_chat_numbers_press_the_last_replys_buttons() -> None:
    brain = StubBrain()
    run_chat(brain, io.StringIO("what is it?\n2\n/plan ai engineer\nquit\nnever sent\n"), io.StringIO(),
             interactive=False, rich=False)
    first, pressed, command = brain.seen
    assert first.kind == "dm" and pressed.kind == "action" and pressed.action == "feedback:a1:down"
    assert command.kind == "command" and command.command == "plan" and command.text == "ai engineer"


# --- JSON chat ----------------------------------------------------------------------------------

def test_json_chat_one_object_per_reply_in_one_conversation() -> None:
    brain = StubBrain()
    out = io.StringIO()
    status = run_json_chat(brain, [b"What does an AI engineer do?\n", b"\n", b"and the pay?\r\n", b"2\n",
                                   "/help\n"], out)
    assert status == 0
    objects = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(objects) == 4 and all(set(o) == {"text", "intent", "sources"} for o in objects)
    assert len({i.conversation_key for i in brain.seen}) == 1 and len({i.user_key for i in brain.seen}) == 1
    assert brain.seen[1].text == "and the pay?"
    assert brain.seen[2].kind == "dm" and brain.seen[2].text == "2"  # no unseen button is pressed
    assert brain.seen[3].kind == "command" and brain.seen[3].command == "help"


def test_json_chat_runs_are_separate_conversations() -> None:
    first, second = StubBrain(), StubBrain()
    run_json_chat(first, [b"hi\n"], io.StringIO())
    run_json_chat(second, [b"hi\n"], io.StringIO())
    assert first.seen[0].conversation_key != second.seen[0].conversation_key


def test_json_chat_reports_an_undecodable_line_and_goes_on() -> None:
    brain = StubBrain()
    out = io.StringIO()
    assert run_json_chat(brain, [b"caf\xe9?\n", b"next question\n"], out) == 1
    error, answer = (json.loads(line) for line in out.getvalue().splitlines())
    assert error == {"error": "line 1: not valid UTF-8 (byte 0xe9 at position 4)", "line": 1}
    assert answer["text"] == REPLY.text and [i.text for i in brain.seen] == ["next question"]


def test_decode_line_and_payload() -> None:
    assert decode_line("\ufeffhi\r\n".encode()) == "hi"
    with pytest.raises(ValueError, match="byte 0xff at position 1"):
        decode_line(b"\xff")
    assert json_payload(REPLY) == {"text": REPLY.text, "intent": "question", "sources": [
        {"title": "AI vs ML engineering", "url": URL, "snippet": "snippet"}, {"title": "No link", "url": "", "snippet": ""}]}
    plan = Reply(text="p", intent="plan", data={"plan": {"track": "ai_engineer"}, "answer_id": "x"})
    assert json_payload(plan)["plan"] == {"track": "ai_engineer"} and "answer_id" not in json_payload(plan)
