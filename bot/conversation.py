"""What the bot remembers about one conversation (a thread, a DM, a terminal session).

Follow-ups only make sense against what came before: "what does that mean for me?" needs what
the person said about themselves, "and the salary?" needs the topic, "how many weeks is that?"
needs the last plan. The state is small, JSON-able, kept in the store (so it survives restarts and
is deleted by `/forget`), and updated after every answered message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.profile import Profile

__all__ = ["ConversationState", "TRACK_NAMES", "is_follow_up", "named_track"]

TRACK_NAMES = {"ai_engineer": "AI engineer", "ml_engineer": "ML engineer"}
# "ai eng", "the ML path", "machine learning engineering": a role named however loosely.
_ROLE = re.compile(r"\b(ai|ml|machine learning)[ -]?(eng\w*|path|track|role|side|route|career|job)s?\b", re.I)
_BOTH = re.compile(r"\b(ai|ml)\s*(or|/|vs\.?|versus|and|&)\s*(ai|ml)\b", re.I)  # "ai or ml engineer?"
_RULED_OUT = re.compile(r"\b(not|no|without|instead of|rather than)( the| any)? [^,.;!?]{0,30}", re.I)

_REFERS_BACK = re.compile(
    r"^\s*(and|but|so|also|then|ok(ay)?|what about|how about|why|why not|is that|are they|does that|do they|"
    r"how (long|much|many)|where|which)\b|\b(it|that|this|they|them|those|these|there|then)\b[?.!]*\s*$|"
    r"\b(that|this|it|they|them|those|these)\b", re.IGNORECASE)


def is_follow_up(text: str) -> bool:
    """A short message that leans on the previous one ("and the salary?", "how long does that take?")."""
    return len(text.split()) <= 12 and bool(_REFERS_BACK.search(text))


def named_track(text: str) -> str | None:
    """The one role a message names ("and ml eng?"), or None when it names none or both.

    A role named only to be ruled out ("not the ML side") does not count.
    """
    if _BOTH.search(text):
        return None
    kept = _RULED_OUT.sub(" ", text)
    kinds = {"ml_engineer" if m.group(1).lower() != "ai" else "ai_engineer" for m in _ROLE.finditer(kept)}
    return kinds.pop() if len(kinds) == 1 else None


def list_items(text: str) -> list[str]:
    """The items of a list in a reply: "(1) A; (2) B" inline, or bullet or numbered lines."""
    inline = re.findall(r"\(\d\)\s*([^;()]+?)(?=;|\s*\(\d\)|\.\s|\.$|$)", text)
    if len(inline) >= 2:
        return [i.strip(" ,.") for i in inline]
    lines = re.findall(r"^\s*(?:[-*•]|\d+[.)])\s+(.+)$", text, re.M)
    return [re.sub(r"\*\*", "", ln).strip() for ln in lines] if len(lines) >= 2 else []


@dataclass
class ConversationState:
    """Profile facts and the messages they came from, the last verdict and plan track, and the topic."""

    profile: Profile = field(default_factory=Profile)
    about: list[str] = field(default_factory=list)
    verdict: str | None = None
    verdict_reason: str = ""  # why, in a sentence or two, kept with the verdict it explains
    topic: str = ""
    last_intent: str = ""
    plan_track: str | None = None
    subject: str | None = None  # the role under discussion: last one named, else the verdict or plan track
    last_answer: str = ""  # the bot's last reply (cut), for "the second one" and "who said that?"
    last_sources: list[dict[str, str]] = field(default_factory=list)  # its sources: title, author, url
    last_list: list[str] = field(default_factory=list)  # items of the last answer that held a list

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> ConversationState:
        data = data or {}
        return cls(profile=Profile.from_dict(data.get("profile")), about=[str(a) for a in data.get("about") or []],
                   verdict=data.get("verdict"), verdict_reason=str(data.get("verdict_reason") or ""),
                   topic=str(data.get("topic") or ""), last_intent=str(data.get("last_intent") or ""),
                   plan_track=data.get("plan_track"), subject=data.get("subject"),
                   last_answer=str(data.get("last_answer") or ""),
                   last_sources=[dict(x) for x in data.get("last_sources") or [] if isinstance(x, dict)],
                   last_list=[str(x) for x in data.get("last_list") or []])

    def as_dict(self) -> dict[str, Any]:
        return {"profile": self.profile.as_dict(), "about": self.about, "verdict": self.verdict, "verdict_reason": self.verdict_reason,
                "topic": self.topic,
                "last_intent": self.last_intent, "plan_track": self.plan_track,
                "subject": self.subject, "last_answer": self.last_answer, "last_sources": self.last_sources,
                "last_list": self.last_list}

    def remember_reply(self, text: str, sources: list[dict[str, str]], *, about_list: bool = False,
                       limit_chars: int = 1500) -> None:
        """Keep the bot's last answer, its sources and the list it gave: follow-ups point into them.

        A reply `about_list` (an answer to "the last one?") keeps the list, so "how many were there?"
        after it still means that list; any other reply replaces it, or clears it when it has none.
        """
        self.last_answer = text[:limit_chars]
        self.last_sources = [{k: str(s.get(k) or "") for k in ("title", "author", "url")} for s in sources[:6]]
        if not about_list:
            self.last_list = list_items(text)[:10]

    def remember_about(self, text: str, limit_chars: int = 1500) -> None:
        """Keep a message in which the person described themselves; the verdict reads them together."""
        if text not in self.about:
            self.about.append(text)
        while len(self.about) > 1 and sum(len(a) for a in self.about) > limit_chars:
            self.about.pop(0)

    def self_description(self, text: str = "") -> str:
        """Everything the person said about themselves, oldest first, with `text` last."""
        parts = [a for a in self.about if a != text] + ([text] if text else [])
        return "\n".join(parts)

    @property
    def in_scope(self) -> bool:
        """Whether this conversation is already about the careers the bot covers."""
        return bool(self.topic or self.verdict or not self.profile.is_empty)
