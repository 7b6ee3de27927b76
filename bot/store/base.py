"""The store interface every state backend implements.

Why one interface: the brain, the quiz engine and the adapters all need durable state (quiz
progress, conversation memory, which platform events were already handled, rate-limit counters,
feedback), and an admin picks the backend with `CAREERBOT_DATABASE_URL` alone. Methods are
synchronous and short (single statements or small transactions); callers on an event loop may
call them directly, since each completes in well under a millisecond on SQLite.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

__all__ = ["AnswerRecord", "FeedbackRow", "InboxItem", "Store", "Turn", "UsageRecord"]


@dataclass(frozen=True)
class Turn:
    """One message of a conversation, for context in follow-ups."""

    role: str  # "user" or "assistant"
    text: str
    created_at: float


@dataclass(frozen=True)
class AnswerRecord:
    """An answer the bot gave, kept so feedback and "share to channel" can refer to it by id."""

    answer_id: str
    user_key: str
    conversation_key: str
    question: str
    text: str
    sources: list[dict[str, str]]
    created_at: float


@dataclass(frozen=True)
class UsageRecord:
    """One reply to a message or command, for the usage report and the admin dashboard.

    `question` is set only for replies out of scope: those questions show where the knowledge base
    has gaps; other questions are already kept with their answer record.
    """

    platform: str
    kind: str
    intent: str
    user_key: str
    created_at: float
    answer_id: str | None = None
    question: str | None = None
    llm_fallback: str | None = None


@dataclass(frozen=True)
class FeedbackRow:
    """The votes on one answer, with what was asked and answered."""

    answer_id: str
    question: str
    text: str
    created_at: float
    helpful: int
    not_helpful: int
    platform: str
    intent: str


@dataclass(frozen=True)
class InboxItem:
    """One platform event in the durable inbox: what arrived, for whom, and what was already sent.

    `payload` is the adapter's own JSON (enough to answer the event again from scratch); `steps`
    maps a delivery step ("placeholder", "answer", ...) to what it produced (a message ts or id).
    """

    key: str
    platform: str
    user_key: str
    conversation_key: str
    payload: dict[str, Any]
    steps: dict[str, Any]
    attempts: int = 0


@runtime_checkable
class Store(Protocol):
    """Durable state. Every method is safe to call from several threads and several processes."""

    # --- platform event deduplication -------------------------------------------------------
    def claim_event(self, key: str, *, lease_seconds: float = 120.0) -> bool:
        """Return True if the caller should process the event `key` now.

        True the first time a key is seen, and again if an earlier claim was never completed and
        its lease expired (the process died mid-answer: the retry must not be lost). False while
        another claim is live or after `complete_event`.
        """
        ...

    def complete_event(self, key: str) -> None:
        """Mark the event handled so every later delivery is ignored."""
        ...

    # --- durable inbox ----------------------------------------------------------------------
    def inbox_put(self, item: InboxItem, *, owner: str | None, lease_seconds: float) -> bool:
        """Record a new event; True if it was new (a redelivery of a known key returns False).

        With `owner`, the caller holds it for `lease_seconds` (attempt 1); with None, it is left
        for any worker to claim (a draining worker records what still arrives, answers nothing).
        """
        ...

    def inbox_put_many(
        self, items: Sequence[tuple[InboxItem, str | None]], *, lease_seconds: float
    ) -> list[bool]:
        """Record several new events, each with its owner (or None), in one transaction.

        Returns, in order, whether each was new. Why: the ack of every event waits for its record,
        and one commit for many events (group commit) costs about what one commit costs.
        """
        ...

    def inbox_claim(
        self, owner: str, *, platforms: tuple[str, ...], limit: int, lease_seconds: float, max_attempts: int
    ) -> tuple[list[InboxItem], list[InboxItem]]:
        """Claim unowned or expired pending events: (claimed, given up now).

        Each claim counts one attempt; an expired event that already had `max_attempts` is marked
        given_up instead (returned so the caller can log it) and never claimed again.
        """
        ...

    def inbox_step(self, key: str, owner: str, name: str, value: Any) -> bool:
        """Record a delivery step; False if `owner` no longer holds the event (its lease was lost)."""
        ...

    def inbox_renew(self, key: str, owner: str, lease_seconds: float) -> bool: ...

    def inbox_renew_many(self, keys: Sequence[str], owner: str, lease_seconds: float) -> int:
        """Extend the leases `owner` still holds on `keys` in one transaction; return how many.

        Why one call: a worker with hundreds of answers in flight renews them all in one write,
        so its heartbeat keeps up however busy it is and no live lease expires.
        """
        ...

    def inbox_finish(self, key: str, owner: str | None) -> None:
        """Mark the event done and drop its payload (the key stays, so redeliveries are ignored)."""
        ...

    def inbox_release(
        self, key: str, owner: str, *, error: str, counted: bool, max_attempts: int, retry_after: float = 0.0
    ) -> str:
        """Hand the event back (failed, cancelled or drained) so any worker can claim it; return its state.

        It becomes claimable `retry_after` seconds from now (a backoff after a failure).

        `counted=False` (a drain hand-back) does not use up an attempt. A counted failure that
        reached `max_attempts` becomes given_up.
        """
        ...

    def inbox_get(self, key: str) -> InboxItem | None: ...

    def inbox_stats(self) -> dict[str, int]:
        """Counts for monitoring: pending (claimable), in_flight (leased), retried, given_up."""
        ...

    def prune_events(self, older_than_seconds: float) -> int:
        """Delete inbox rows and event keys older than the retention; return how many went."""
        ...

    # --- conversation memory ----------------------------------------------------------------
    def append_turn(self, conversation_key: str, user_key: str, role: str, text: str) -> None: ...

    def recent_turns(self, conversation_key: str, limit: int = 10) -> list[Turn]:
        """The last `limit` turns, oldest first."""
        ...

    # --- per-conversation state (the caller owns the payload's shape) -------------------------
    def load_conversation(self, conversation_key: str) -> dict[str, Any] | None:
        """The state last saved for this conversation, or None if there is none (or it was forgotten).

        Why it exists: a follow-up ("and the hours?") must build on what the person already
        said in this thread, DM or terminal session (profile facts, the last verdict, the current
        topic) even after a restart or on another worker; the raw turns alone would have to be
        re-read and re-interpreted on every message.
        """
        ...

    def save_conversation(self, conversation_key: str, user_key: str, state: dict[str, Any]) -> None:
        """Replace the conversation's state with `state`, stored as JSON, stamped with the time.

        Last writer wins: this is memory for follow-ups, not a ledger, so no version check; each
        message saves the state merged from what it loaded. `user_key` is who wrote it: every
        writer of a conversation is remembered so `forget_user` can find states holding their
        words even after someone else in the same thread wrote last. The round trip is JSON's:
        tuples come back as lists and non-string keys as strings; a value JSON cannot encode raises
        TypeError before anything is written.
        """
        ...

    # --- answers and feedback ---------------------------------------------------------------
    def save_answer(self, record: AnswerRecord) -> None: ...

    def get_answer(self, answer_id: str) -> AnswerRecord | None: ...

    def record_feedback(self, answer_id: str, user_key: str, helpful: bool) -> None:
        """Store a helpful / not-helpful vote; a second vote by the same user replaces the first."""
        ...

    def feedback_counts(self, answer_id: str) -> tuple[int, int]:
        """(helpful, not helpful) votes for an answer."""
        ...

    # --- usage (reports, admin dashboard) -------------------------------------------------------
    def record_usage(self, record: UsageRecord) -> None: ...

    def usage_counts(self, since_day: str) -> list[tuple[str, str, str, int, int]]:
        """(day, platform, intent, replies, LLM fallbacks) from `since_day` (UTC, YYYY-MM-DD) on."""
        ...

    def out_of_scope_questions(self, since_day: str, limit: int = 50) -> list[tuple[str, int, float]]:
        """(question, times asked, last asked) of replies out of scope, most asked first."""
        ...

    def llm_fallback_counts(self, since_day: str) -> list[tuple[str, str, int]]:
        """(day, reason, count) of answers the offline composer gave because the LLM failed."""
        ...

    def feedback_rows(self, limit: int = 100) -> list[FeedbackRow]:
        """Answers with at least one vote, worst-rated first (most net "not helpful" votes)."""
        ...

    def quiz_results_since(self, since: float) -> list[tuple[float, dict[str, Any]]]:
        """(created_at, result) of every quiz finished since `since` (a Unix time)."""
        ...

    # --- rate limiting ----------------------------------------------------------------------
    def hit_rate_limit(self, key: str, *, limit: int, window_seconds: float) -> bool:
        """Count one hit for `key`; return True while the count in the current window is <= limit."""
        ...

    # --- quiz sessions (the quiz engine owns the payload's shape) ----------------------------
    def load_quiz(self, user_key: str) -> dict[str, Any] | None: ...

    def save_quiz(self, user_key: str, state: dict[str, Any], *, expected_version: int | None = None) -> bool:
        """Save quiz state; with `expected_version`, only if the stored version still matches.

        Returns False when another writer got there first (a double button press), so the quiz
        engine can answer "already recorded" instead of corrupting the session.
        """
        ...

    def delete_quiz(self, user_key: str) -> None: ...

    def save_quiz_result(self, user_key: str, result: dict[str, Any]) -> None: ...

    def latest_quiz_result(self, user_key: str) -> dict[str, Any] | None: ...

    # --- privacy ----------------------------------------------------------------------------
    def forget_user(self, user_key: str) -> int:
        """Delete everything held about a user; return how many rows went.

        That includes every conversation state the user ever wrote to, even one where someone
        else in the same thread wrote last: the state may carry the user's own words, and /forget
        must not leave them behind (the thread's other people lose that thread's memory too).
        """
        ...

    def close(self) -> None: ...
