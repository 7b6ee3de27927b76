"""The terminal front end: the same brain, rendered as plain text.

Buttons become numbered choices: after a reply with buttons, typing a number presses that button,
so the quiz and feedback work in a terminal exactly as they do on Slack or Discord. Lines starting
with a slash are commands (`/quiz`, `/plan ...`, `/forget`). End of input ends the chat cleanly,
which is what lets `make run </dev/null` set everything up and exit 0.
"""

from __future__ import annotations

import asyncio
import re
from typing import TextIO

from bot.brain import Brain
from bot.messages import Button, Inbound, Kind, Reply

__all__ = ["render_reply", "run_chat"]

_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)")
_QUIT = {"quit", "exit", ":q", "/quit", "/exit"}


def render_reply(reply: Reply) -> str:
    """Plain-text rendering: markdown links become 'title <url>', sources and buttons are listed."""
    lines = [_LINK.sub(r"\1 <\2>", reply.text)]
    if reply.sources and reply.intent not in ("plan", "quiz"):
        lines.append("\nSources:")
        for i, source in enumerate(reply.sources, 1):
            lines.append(f"  [{i}] {source.title}" + (f" <{source.url}>" if source.url else ""))
    for attachment in reply.attachments:
        lines.append(f"\n(chart saved to {attachment.path})")
    flat = [b for row in reply.buttons for b in row]
    if flat:
        lines.append("\n" + "  ".join(f"[{i}] {b.label}" for i, b in enumerate(flat, 1)))
    return "\n".join(lines)


def run_chat(brain: Brain, stdin: TextIO, stdout: TextIO, *, user: str = "local", interactive: bool = True) -> int:
    """Read lines until EOF or `quit`; returns the process exit code. `interactive` shows prompts."""
    stdout.write("careerbot: ask me about AI vs ML engineering careers. `help` for examples, `quit` to leave.\n")
    buttons: list[Button] = []
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
        reply = asyncio.run(brain.handle(inbound))
        buttons = [b for row in reply.buttons for b in row]
        stdout.write(f"\nbot> {render_reply(reply)}\n")
        stdout.flush()


def _to_inbound(text: str, user: str, buttons: list[Button]) -> Inbound:
    base = {"platform": "console", "user": user, "channel": "terminal"}
    if text.isdigit() and buttons and 1 <= int(text) <= len(buttons):
        return Inbound(**base, kind=Kind.ACTION, action=buttons[int(text) - 1].value, text=text)
    if text.startswith("/"):
        command, _, rest = text[1:].partition(" ")
        return Inbound(**base, kind=Kind.COMMAND, command=command.lower(), text=rest.strip())
    return Inbound(**base, kind=Kind.DM, text=text)
