"""Button values for quiz steps: short, self-describing, and checked strictly when they come back.

Why this shape: values travel through Discord's custom_id (at most 100 characters) and Slack's
action value, and come back untrusted. Each carries the owner (so someone else's press is refused),
the session nonce (so a button from a cancelled or earlier quiz is recognised as stale) and the
question index (so an answer to a question that is no longer current is refused).

    quiz:a:<owner>:<nonce>:<question>:<option>   answer
    quiz:b:<owner>:<nonce>:<question>            back
    quiz:s:<owner>:<nonce>:<question>            skip
    quiz:c:<owner>:<nonce>                       cancel
    quiz:r:<owner>                               restart / start again
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

__all__ = ["PREFIX", "QuizAction", "encode", "owner_token", "parse"]

PREFIX = "quiz:"
_SAFE_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,40}$")
_NONCE = re.compile(r"^[0-9a-f]{6}$")
_ARITY = {"a": 4, "b": 3, "s": 3, "c": 2, "r": 1}


def owner_token(user: str) -> str:
    """The user id itself when short and plain (readable in logs), else a stable hash of it."""
    if _SAFE_ID.match(user):
        return user
    return "~" + hashlib.sha256(user.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class QuizAction:
    verb: str  # a | b | s | c | r
    owner: str
    nonce: str | None = None
    question: int | None = None
    option: int | None = None


def encode(verb: str, owner: str, nonce: str | None = None, question: int | None = None, option: int | None = None) -> str:
    parts = [verb, owner_token(owner)]
    parts += [str(p) for p in (nonce, question, option) if p is not None]
    value = PREFIX + ":".join(parts)
    assert len(value) <= 100, value  # owner_token keeps every value short
    return value


def parse(value: str | None) -> QuizAction | None:
    """The action a button value describes, or None when it is malformed or forged."""
    if not value or not value.startswith(PREFIX) or len(value) > 100:
        return None
    parts = value[len(PREFIX) :].split(":")
    verb, rest = parts[0], parts[1:]
    if verb not in _ARITY or len(rest) != _ARITY[verb]:
        return None
    owner = rest[0]
    if not owner or not (_SAFE_ID.match(owner) or re.match(r"^~[0-9a-f]{16}$", owner)):
        return None
    if verb == "r":
        return QuizAction(verb, owner)
    nonce = rest[1]
    if not _NONCE.match(nonce):
        return None
    numbers = rest[2:]
    if not all(n.isdigit() and len(n) <= 3 for n in numbers):
        return None
    ints = [int(n) for n in numbers]
    return QuizAction(
        verb,
        owner,
        nonce,
        question=ints[0] if ints else None,
        option=ints[1] if len(ints) > 1 else None,
    )
