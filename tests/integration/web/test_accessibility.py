"""Issue 14's accessibility floor without a browser: every field has a label, every button a name,
and every text colour in style.css reaches 4.5:1 on the background it is drawn on (WCAG AA).

Keyboard use of the quiz buttons is checked in Chromium (test_browser.py); what can be read from
the served HTML and CSS is checked here, so a new unlabelled field or a paler grey fails fast.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from web_support import ADMIN_TOKEN, csrf_of

STYLE = Path(__file__).resolve().parents[3] / "adapters" / "web" / "static" / "style.css"

# (selector whose `color` is the text's, selector whose `background` is behind it). Text without a
# colour of its own takes body's; every rule of style.css that sets `color` must appear on the left.
PAIRS = [
    ("body", "body"), ("body", ".entry.user"), ("body", "th"), ("body", ".tag"),
    ("a", "body"), ("a", ".entry.user"), ("a", ".skip"), (".top a", ".top"),
    (".intro", "body"), (".meta", "body"), (".hint", "body"), (".status", "body"), (".error", "body"),
    (".meta", "th"), (".entry .who", ".entry.user"), (".entry .who", ".entry.bot"), (".note", ".entry.bot"),
    (".btn", ".btn"), (".btn.primary", ".btn.primary"), (".btn.danger", ".btn"),
    (".chart figcaption", "body"), ("figure figcaption", "body"),
]


def _rules(css: str) -> dict[str, dict[str, str]]:
    """selector -> declarations, one entry per selector of a group (later rules win, as in CSS)."""
    rules: dict[str, dict[str, str]] = {}
    for selectors, body in re.findall(r"([^{}]+)\{([^}]*)\}", re.sub(r"/\*.*?\*/", "", css, flags=re.S)):
        declarations = dict(
            (name.strip(), value.strip()) for name, _, value in (d.partition(":") for d in body.split(";")) if value
        )
        for selector in selectors.split(","):
            rules.setdefault(selector.strip(), {}).update(declarations)
    return rules


def _hex(value: str, variables: dict[str, str]) -> str:
    match = re.fullmatch(r"var\((--[\w-]+)\)", value)
    value = variables[match.group(1)] if match else value
    assert re.fullmatch(r"#[0-9a-fA-F]{3}|#[0-9a-fA-F]{6}", value), f"not a hex colour: {value}"
    return value if len(value) == 7 else "#" + "".join(c * 2 for c in value[1:])


def _luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(foreground: str, background: str) -> float:
    lighter, darker = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_contrast_formula() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)  # the usual AA grey


def test_every_text_colour_reaches_4_5_to_1() -> None:
    rules = _rules(STYLE.read_text())
    variables = {k: v for k, v in rules[":root"].items() if k.startswith("--")}
    coloured = {s for s, d in rules.items() if "color" in d and s != ":root"}
    unchecked = coloured - {text for text, _ in PAIRS}
    assert not unchecked, f"add these rules' text to PAIRS with the background they sit on: {sorted(unchecked)}"
    low = []
    for text, behind in PAIRS:
        fg = _hex(rules[text]["color"], variables)
        bg = _hex(rules[behind].get("background") or rules[behind]["background-color"], variables)
        if contrast(fg, bg) < 4.5:
            low.append(f"{text} {fg} on {behind} {bg}: {contrast(fg, bg):.2f}")
    assert not low, low


class _Controls(HTMLParser):
    """Fields (not hidden) with their ids, label targets, and buttons with their text."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str | None, str | None]] = []  # (tag, id, aria-label)
        self.labelled: set[str] = set()
        self.buttons: list[str] = []
        self._button: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("input", "textarea", "select") and a.get("type") != "hidden":
            self.fields.append((tag, a.get("id"), a.get("aria-label")))
        elif tag == "label" and a.get("for"):
            self.labelled.add(str(a["for"]))
        elif tag == "button":
            self._button = [a.get("aria-label") or ""]

    def handle_data(self, data: str) -> None:
        if self._button is not None:
            self._button.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "button" and self._button is not None:
            self.buttons.append("".join(self._button).strip())
            self._button = None


def _check(page: str, where: str) -> int:
    controls = _Controls()
    controls.feed(page)
    unlabelled = [(tag, i) for tag, i, aria in controls.fields if not aria and (i is None or i not in controls.labelled)]
    assert not unlabelled, f"{where}: fields without a label: {unlabelled}"
    assert all(controls.buttons), f"{where}: a button without text"
    return len(controls.fields) + len(controls.buttons)


async def test_every_field_has_a_label_and_every_button_a_name(client: TestClient) -> None:
    page = await (await client.get("/")).text()
    csrf = csrf_of(page)
    await client.post("/quiz", data={"csrf": csrf})
    with_quiz = await (await client.get("/")).text()
    assert "Question 1 of" in with_quiz and 'role="group" aria-label="Choices"' in with_quiz
    checked = _check(with_quiz, "playground with a quiz question")
    checked += _check(await (await client.get("/plan")).text(), "plan")
    checked += _check(await (await client.get("/admin")).text(), "admin sign-in")
    dashboard = await client.get("/admin", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert dashboard.status == 200
    checked += _check(await dashboard.text(), "admin dashboard")
    assert checked > 10
