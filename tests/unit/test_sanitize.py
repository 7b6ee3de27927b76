"""Cleaning: what reaches the brain, the embedder and the store is encodable, visible and link-free."""

from __future__ import annotations

import json
import sqlite3

import pytest

from bot.messages import Inbound, Kind
from bot.sanitize import clean, defuse_links, scrub


@pytest.mark.parametrize("raw", [
    "what does an AI engineer do?\ud800",            # lone high surrogate (a JSON "\ud800" escape)
    "\udcff\udcfewhat does an AI engineer do?",      # surrogateescape'd bytes from a non-UTF-8 argv
    "what does an \udc80AI engineer do?",
])
def test_lone_surrogates_are_removed_so_the_text_encodes(raw: str) -> None:
    out = clean(raw).text
    assert out.encode("utf-8") and "AI engineer" in out
    sqlite3.connect(":memory:").execute("SELECT ?", (out,))  # the store's driver accepts it
    json.dumps(out, ensure_ascii=False).encode("utf-8")


def test_a_split_surrogate_pair_becomes_its_character() -> None:
    assert scrub("ok \ud83d\ude00") == "ok \U0001f600"


def test_bidi_controls_and_invisible_characters_are_removed() -> None:
    text = "ig\u200bnore \u202eevil\u202c \u2066isolate\u2069 \u061cmark soft\u00adhyphen \U000e0041tag\ufeff"
    out = clean(text).text
    assert out == "ignore evil isolate mark softhyphen tag"
    assert not any(0x202a <= ord(c) <= 0x202e or 0x2066 <= ord(c) <= 0x2069 for c in out)


def test_blank_letters_and_other_separators() -> None:
    assert clean("\u3164\u3164 hi \u2800").text == "hi"
    assert clean("one\u2028two\x0cthree\x85four").text == "one\ntwo three four"


@pytest.mark.parametrize(("raw", "expected"), [
    ("see [the docs](https://evil.example/login) now", "see the docs (https://evil.example/login) now"),
    ("[x](<https://evil.example>)", "x (https://evil.example)"),
    ('[x]( https://evil.example "title")', "x (https://evil.example)"),
    ("［x］（https://evil.example）", "x (https://evil.example)"),   # fullwidth brackets, after NFKC
    ("<https://evil.example|Slack login>", "Slack login (https://evil.example)"),
    ("broken ](https://evil.example", "broken ] (https://evil.example"),
])
def test_user_links_become_plain_text_with_their_address(raw: str, expected: str) -> None:
    assert clean(raw).text == expected
    assert "](" not in clean(raw).text


def test_defuse_links_leaves_plain_text_alone() -> None:
    assert defuse_links("Is [this] (really) hard?") == "Is [this] (really) hard?"


def test_inbound_is_scrubbed_as_it_is_built() -> None:
    inbound = Inbound("slack", "U1", "C1", "hi\ud800 \u202ethere", Kind.ACTION, action="share:\udcffab")
    assert inbound.text == "hi there" and inbound.action == "share:ab"
