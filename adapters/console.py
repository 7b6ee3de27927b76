"""The terminal front end: the same brain, rendered for a terminal, a pipe, or a JSON consumer.

Buttons become numbered choices: after a reply with buttons, typing a number presses that button,
so the quiz and feedback work in a terminal exactly as they do on Slack or Discord. Lines starting
with a slash are commands (`/quiz`, `/plan ...`, `/forget`). End of input ends the chat cleanly,
which is what lets `make run </dev/null` set everything up and exit 0.

Two renderers: on a terminal the markdown is drawn with `rich` (bold, lists, headings, links with
their URL spelled out, since a terminal cannot click them reliably); anywhere else (a pipe, a file, the
tests) the plain renderer, whose output is stable text that scripts and assertions can match.

`run_json_chat` is the scripted variant (`careerbot chat --json`): one JSON object per reply, so a
program can hold a conversation with the bot without parsing terminal text.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Iterable
from typing import Any, TextIO

from rich.console import Console, Group, RenderableType
from rich.markdown import Markdown
from rich.text import Text

from bot.brain import Brain
from bot.messages import Button, Inbound, Kind, Reply, Source

__all__ = ["decode_line", "json_payload", "print_reply", "render_reply", "rich_reply", "run_chat", "run_json_chat",
           "source_dict"]

_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)")
_QUIT = {"quit", "exit", ":q", "/quit", "/exit"}
# Structured parts of `Reply.data` worth handing to a program; the rest (answer ids, chunk ids,
# fallback reasons) is bookkeeping that would make the JSON shape depend on internals.
_PAYLOAD_DATA_KEYS = ("plan", "fit", "quiz")


def render_reply(reply: Reply, *, buttons: bool = True) -> str:
    """Plain-text rendering: markdown links become 'title <url>', sources and buttons are listed.

    `buttons=False` is for one-shot output (`careerbot ask "..."`): the process ends after printing,
    so listing buttons nobody can press would only be noise.
    """
    lines = [_LINK.sub(r"\1 <\2>", reply.text)]
    if _shows_sources(reply):
        lines.append("\nSources:")
        for i, source in enumerate(reply.sources, 1):
            lines.append(f"  [{i}] {source.label}" + (f" <{source.url}>" if source.url else ""))
    for attachment in reply.attachments:
        lines.append(f"\n(chart saved to {attachment.path})")
    flat = _flat(reply) if buttons else []
    if flat:
        lines.append("\n" + "  ".join(f"[{i}] {b.label}" for i, b in enumerate(flat, 1)))
    return "\n".join(lines)


def rich_reply(reply: Reply, *, buttons: bool = True) -> RenderableType:
    """The terminal rendering: markdown drawn by rich, then sources, charts and numbered buttons.

    Links keep their URL visible (`hyperlinks=False`): many terminals do not support OSC 8 links, and
    the URL is the part of a citation a reader needs. Sources and buttons are `Text`, never markup,
    so a title like "[1] ..." cannot be mistaken for a rich style tag.
    """
    parts: list[RenderableType] = [Markdown(reply.text, hyperlinks=False)]
    if _shows_sources(reply):
        sources = Text("\n")
        sources.append("Sources:", style="bold")
        sources.append("\n")
        for i, source in enumerate(reply.sources, 1):
            sources.append(f"  [{i}] {source.label}")
            if source.url:
                sources.append(" ")
                sources.append(source.url, style="underline blue")
            sources.append("\n")
        sources.rstrip()
        parts.append(sources)
    for attachment in reply.attachments:
        parts.append(Text(f"\n(chart saved to {attachment.path})", style="dim"))
    flat = _flat(reply) if buttons else []
    if flat:
        row = Text("\n")
        for i, button in enumerate(flat, 1):
            if i > 1:
                row.append("  ")
            row.append(f"[{i}] {button.label}", style="bold cyan" if button.style == "primary" else "cyan")
        parts.append(row)
    return Group(*parts)


def print_reply(reply: Reply, stdout: TextIO, *, rich: bool, buttons: bool = True) -> None:
    """Write one reply with the renderer that suits `stdout` (see the module docstring)."""
    if rich:
        console = Console(file=stdout, highlight=False)
        console.print(Text("\nbot>", style="bold green"))
        console.print(rich_reply(reply, buttons=buttons))
    else:
        stdout.write(f"\nbot> {render_reply(reply, buttons=buttons)}\n")
    stdout.flush()


def json_payload(reply: Reply) -> dict[str, Any]:
    """The `--json` shape shared by `ask`, `ask --file` and `chat --json`.

    Always {"text", "intent", "sources": [{"title","url","snippet"}]}; a plan, fit verdict or quiz
    step adds its structured part under its own key, so a program need not parse markdown for it.
    """
    payload: dict[str, Any] = {"text": reply.text, "intent": reply.intent,
                               "sources": [source_dict(s) for s in reply.sources]}
    for key in _PAYLOAD_DATA_KEYS:
        if key in reply.data:
            payload[key] = reply.data[key]
    return payload


def source_dict(source: Source) -> dict[str, str]:
    """A source as the command-line contract spells it: exactly {"title", "url", "snippet"}.

    Projected here rather than taken from `Source.as_dict()`, so a field added to `Source` for the
    chat adapters does not silently change a JSON shape that scripts and tests depend on.
    """
    return {"title": source.title, "url": source.url, "snippet": source.snippet}


def decode_line(raw: bytes | str) -> str:
    """One input line as text, without its line ending; raises `ValueError` with a short reason.

    Lines are decoded one at a time so that a stray byte spoils only its own line, not the whole
    file or stream (a BOM at the start of a file, as Windows editors write, is dropped).
    """
    if isinstance(raw, str):
        return raw.rstrip("\r\n")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at position {exc.start + 1})") from None
    return text.removeprefix("\ufeff").rstrip("\r\n")


def run_chat(brain: Brain, stdin: TextIO, stdout: TextIO, *, user: str = "local", interactive: bool = True,
             rich: bool | None = None) -> int:
    """Read lines until EOF or `quit`; returns the process exit code. `interactive` shows prompts.

    `rich=None` picks the rich renderer only when `stdout` is a terminal, so piped output stays the
    plain text that scripts (and `make run </dev/null`) rely on.
    """
    use_rich = _isatty(stdout) if rich is None else rich
    stdout.write("careerbot: ask me about AI vs ML engineering careers. `help` for examples, `quit` to leave.\n")
    buttons: list[Button] = []
    # One event loop for the whole chat: an LLM agent's HTTP clients are bound to the loop they
    # were created on, and a new loop per message would strand them.
    with asyncio.Runner() as runner:
        try:
            while True:
                if interactive:
                    stdout.write("\nyou> ")
                    stdout.flush()
                line = stdin.readline()
                if not line:
                    if interactive:
                        stdout.write("\n")
                    return 0
                text = line.strip()
                if not text:
                    continue
                if text.lower() in _QUIT:
                    return 0
                inbound = _to_inbound(text, user, buttons)
                reply = runner.run(brain.handle(inbound))
                buttons = _flat(reply)
                print_reply(reply, stdout, rich=use_rich)
        finally:
            _close_agent(brain, runner)


def run_json_chat(brain: Brain, lines: Iterable[bytes | str], stdout: TextIO, *, user: str | None = None) -> int:
    """`careerbot chat --json`: every non-blank line is the next message of one conversation.

    Each reply is one JSON object on its own line (see `json_payload`), flushed at once so a program
    driving the bot through a pipe can read the answer before sending the next line. Slash commands
    work as in the terminal chat; numbers are ordinary text here, because the JSON does not show
    buttons and pressing an unseen one would surprise a script. A line that is not valid UTF-8 gets
    {"error", "line"} in its place and the conversation goes on.

    `user` defaults to a fresh id per run, so each scripted run is its own conversation and a
    previous run's questions cannot leak into this one's follow-ups.

    Returns 0 when every line was read, 1 when some line had to be skipped.
    """
    user = user or f"json-{uuid.uuid4().hex[:12]}"
    status = 0
    with asyncio.Runner() as runner:
        try:
            for number, raw in enumerate(lines, 1):
                try:
                    text = decode_line(raw).strip()
                except ValueError as exc:
                    status = 1
                    _write_json(stdout, {"error": f"line {number}: {exc}", "line": number})
                    continue
                if not text:
                    continue
                reply = runner.run(brain.handle(_to_inbound(text, user, [])))
                _write_json(stdout, json_payload(reply))
        finally:
            _close_agent(brain, runner)
    return status


def _write_json(stdout: TextIO, obj: dict[str, Any]) -> None:
    stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    stdout.flush()


def _close_agent(brain: Brain, runner: asyncio.Runner) -> None:
    """Close an LLM agent's clients on the loop that opened them (no-op without an agent)."""
    aclose = getattr(getattr(brain, "agent", None), "aclose", None)
    if aclose is not None:
        runner.run(aclose())


def _shows_sources(reply: Reply) -> bool:
    # Quiz steps carry their own links in the body; a plan's sources are the articles it is built from.
    return bool(reply.sources) and reply.intent != "quiz"


def _flat(reply: Reply) -> list[Button]:
    return [b for row in reply.buttons for b in row]


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def _to_inbound(text: str, user: str, buttons: list[Button]) -> Inbound:
    base = {"platform": "console", "user": user, "channel": "terminal"}
    if text.isdigit() and buttons and 1 <= int(text) <= len(buttons):
        return Inbound(**base, kind=Kind.ACTION, action=buttons[int(text) - 1].value, text=text)
    if text.startswith("/"):
        command, _, rest = text[1:].partition(" ")
        return Inbound(**base, kind=Kind.COMMAND, command=command.lower(), text=rest.strip())
    return Inbound(**base, kind=Kind.DM, text=text)
