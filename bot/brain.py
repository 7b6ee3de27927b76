"""The brain: one entry point, `Brain.handle(Inbound) -> Reply`, for every platform.

It routes quiz commands and quiz buttons to the quiz engine, feedback and share buttons to the
store, and free text to the answer path chosen by intent. It never raises to an adapter: any
failure becomes a short apology, because a traceback in a chat channel helps nobody and an
adapter that crashes loses the next message too.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any, Protocol

from bot.career import CareerServices
from bot.composer import compose_answer
from bot.fit import LABEL_NAMES
from bot.intents import Intent, classify, is_in_domain
from bot.messages import Button, Inbound, Kind, Reply, Source
from bot.sanitize import MAX_CHARS, clean
from bot.store.base import AnswerRecord, Store, Turn

__all__ = ["Brain", "HELP_TEXT"]

_log = logging.getLogger(__name__)

HELP_TEXT = (
    "I help you decide between **AI engineering** (building products on existing models: APIs, "
    "prompting, retrieval, evaluation) and **ML engineering** (training models; heavy math and "
    "statistics), or neither for now, and what to learn next. I answer from a curated knowledge base "
    "and cite it.\n"
    "- Ask a question: *Is AI engineering more like building the engine or the car?*\n"
    "- Describe yourself: *I'm a backend dev who hates calculus. Is AI engineering for me?*\n"
    "- Ask for a plan: *What should I learn first to become an AI engineer?*\n"
    "- `/quiz` takes the short fit quiz (buttons), `/quiz-reset` starts it over\n"
    "- `/career <question>` answers privately, `/plan <goal>` builds a learning plan\n"
    "- `/forget` deletes everything I hold about you"
)
_SMALLTALK_REPLIES = {
    "thanks": "You're welcome! Ask me anything else about AI or ML engineering careers.",
    "bye": "Good luck with your learning! I'm here whenever you want to pick it up again.",
    "default": "Hi! I'm careerbot. I help people decide between AI engineering and ML engineering and plan "
    "what to learn. Try *Should I become an AI engineer if I hate math?* or `/quiz`.",
}
_LLM_FALLBACK_NOTE = "_The AI model isn't available right now, so this answer comes straight from my knowledge base._"
_FOLLOW_UP = re.compile(r"\b(it|that|this|they|them|those|these|what about|and|also|more|why|how so)\b", re.I)
_ASSESS_QUERY = {
    "ai_engineer": "AI engineering builds products on existing models, closer to software engineering; who should pursue it",
    "ml_engineer": "ML engineers train models from scratch and need math, statistics, validation and test sets",
    "neither": "who should avoid AI engineering: shortcut to a high salary, stable predictable low-stress work",
}


class QuizPort(Protocol):
    """What the brain needs from the quiz engine."""

    def handles(self, inbound: Inbound) -> bool: ...
    def handle(self, inbound: Inbound) -> Reply: ...
    def status_text(self, user_key: str) -> str: ...
    def forget_charts(self, user_key: str) -> int: ...


AgentFn = Callable[[Inbound, str, Sequence[Turn]], Awaitable[Reply | None]]


class Brain:
    """Routes an `Inbound` to the right capability and returns the `Reply` to render.

    Args:
        services: retrieval, fit assessment and planning.
        store: durable state (memory, answers, feedback, rate limits, forget).
        quiz: the quiz engine, or None where the quiz is unavailable.
        agent: optional LLM answer path; returning None or raising falls back to the composer.
        secrets: values that must never appear in a reply (tokens, keys).
        rate_limit: (messages, seconds) allowed per user.
        workers: threads that run the synchronous answer path.
    """

    def __init__(
        self,
        services: CareerServices,
        store: Store,
        quiz: QuizPort | None = None,
        *,
        agent: AgentFn | None = None,
        secrets: Sequence[str] = (),
        rate_limit: tuple[int, float] = (30, 60.0),
        workers: int = 32,
    ) -> None:
        self.services = services
        self.store = store
        self.quiz = quiz
        self.agent = agent
        self._secrets = tuple(s for s in secrets if s)
        self._rate_limit = rate_limit
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="brain")

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    # --- entry points ----------------------------------------------------------------------
    async def handle(self, inbound: Inbound) -> Reply:
        """Answer one inbound; never raises."""
        try:
            if self.agent is not None and inbound.kind in (Kind.MENTION, Kind.DM):
                reply = await self._try_agent(inbound)
                if reply is not None:
                    return self._redact(reply)
            # Retrieval and embedding are CPU work: keep the event loop free for other users. The
            # pool is wider than the core count on purpose: threads mostly wait for the embedding
            # batcher, and more waiting queries make bigger, cheaper batches.
            loop = asyncio.get_running_loop()
            reply = await loop.run_in_executor(self._executor, self.respond, inbound)
            if reply.intent == "forget":
                await self._forget_agent_memory(inbound.user_key)
            return self._redact(reply)
        except Exception:
            _log.exception("failed to answer %s message %s", inbound.platform, inbound.message_id)
            return Reply(text="Sorry, something went wrong on my side while answering. Please try again in a "
                              "moment.", intent="error", ephemeral=True)

    def respond(self, inbound: Inbound) -> Reply:
        """The synchronous core of `handle` (the terminal and the benchmarks call it directly)."""
        if inbound.kind is Kind.ACTION:
            return self._action(inbound)
        if not self.store.hit_rate_limit(f"rate:{inbound.user_key}", limit=self._rate_limit[0],
                                         window_seconds=self._rate_limit[1]):
            return Reply(text="You're sending messages faster than I can answer them well. Give me a few "
                              "seconds and try again.", intent="rate_limited", ephemeral=True)
        if inbound.kind is Kind.COMMAND:
            return self._command(inbound)
        return self._free_text(inbound)

    # --- routing ---------------------------------------------------------------------------
    def _action(self, inbound: Inbound) -> Reply:
        value = inbound.action or ""
        if self.quiz is not None and self.quiz.handles(inbound):
            return self.quiz.handle(inbound)
        kind, _, rest = value.partition(":")
        if kind == "feedback":
            answer_id, _, vote = rest.rpartition(":")
            if answer_id and vote in ("up", "down") and self.store.get_answer(answer_id) is not None:
                self.store.record_feedback(answer_id, inbound.user_key, vote == "up")
                return Reply(text="Thanks for the feedback! It helps us improve the answers.", intent="feedback",
                             ephemeral=True)
            return Reply(text="I couldn't find that answer any more, so the feedback wasn't recorded.",
                         intent="feedback", ephemeral=True)
        if kind == "share":
            record = self.store.get_answer(rest)
            if record is None or record.user_key != inbound.user_key:
                return Reply(text="I can't share that answer: it's gone or it isn't yours.", intent="share",
                             ephemeral=True)
            sources = tuple(Source(**s) for s in record.sources)
            return Reply(text=f"*Question:* {record.question}\n\n{record.text}", intent="share", sources=sources,
                         data={"answer_id": record.answer_id})
        return Reply(text="That button has expired. Ask me again or type `/quiz`.", intent="unknown_action",
                     ephemeral=True)

    def _command(self, inbound: Inbound) -> Reply:
        command = (inbound.command or "").lower().lstrip("/")
        if self.quiz is not None and self.quiz.handles(inbound):
            return self.quiz.handle(inbound)
        text = clean(inbound.text)
        if command == "career":
            if not text.text:
                return Reply(text="Usage: `/career <your question>`, e.g. `/career do AI engineers need math?`",
                             intent="help", ephemeral=True)
            reply = self._free_text(inbound)
            answer_id = reply.data.get("answer_id")
            buttons = reply.buttons
            if answer_id:
                buttons = buttons + ((Button("Share in channel", f"share:{answer_id}", "primary"),),)
            return _with(reply, ephemeral=True, buttons=buttons)
        if command == "plan":
            return self._plan(inbound, text.text or "I want to become an AI engineer")
        if command == "forget":
            removed = self.store.forget_user(inbound.user_key)
            if self.quiz is not None:
                removed += self.quiz.forget_charts(inbound.user_key)
            return Reply(text=f"Done. I deleted everything I held about you ({removed} records: conversations, "
                              "quiz answers and results, feedback).", intent="forget", ephemeral=True)
        if command in ("help", "careerbot-help", "start"):
            return Reply(text=HELP_TEXT, intent="help", ephemeral=True)
        return Reply(text=f"I don't know the command `/{command}`.\n\n{HELP_TEXT}", intent="help", ephemeral=True)

    def _free_text(self, inbound: Inbound) -> Reply:
        cleaned = clean(inbound.text)
        intent = classify(cleaned.text)
        reply = self._by_intent(inbound, cleaned.text, intent)
        if cleaned.truncated and intent not in (Intent.HOSTILE, Intent.EMPTY):
            reply = _with(reply, text=f"_Your message was long, so I read only its first {MAX_CHARS:,} characters._"
                                      f"\n\n{reply.text}")
        if intent not in (Intent.EMPTY, Intent.HOSTILE):
            self.store.append_turn(inbound.conversation_key, inbound.user_key, "user", cleaned.text)
            self.store.append_turn(inbound.conversation_key, inbound.user_key, "assistant", reply.text[:4000])
        return reply

    def _by_intent(self, inbound: Inbound, text: str, intent: Intent) -> Reply:
        if intent is Intent.EMPTY:
            return Reply(text="I didn't get any text. Ask me about AI or ML engineering careers, or type `help`.",
                         intent=intent.value)
        if intent is Intent.HOSTILE:
            return Reply(text="I can only help with questions about AI and ML engineering careers, and my "
                              "instructions stay as they are. Try asking *what does an AI engineer do?*",
                         intent=intent.value)
        if intent is Intent.HELP:
            return Reply(text=HELP_TEXT, intent=intent.value)
        if intent is Intent.SMALLTALK:
            lowered = text.lower()
            key = "thanks" if re.search(r"\b(thank|thx|ty|cheers)", lowered) else (
                "bye" if re.search(r"\b(bye|see (you|ya))", lowered) else "default")
            return Reply(text=_SMALLTALK_REPLIES[key], intent=intent.value)
        if intent is Intent.QUIZ:
            return Reply(text="The fit quiz asks short questions about situations you'd enjoy or avoid. "
                              "Type `/quiz` to start it (or `careerbot quiz` in a terminal).", intent=intent.value)
        if intent is Intent.PLAN:
            return self._plan(inbound, text)
        if intent is Intent.ASSESS:
            return self._assess(inbound, text)
        if intent is Intent.OUT_OF_SCOPE:
            return self._out_of_scope()
        return self._answer(inbound, text)

    # --- capabilities ----------------------------------------------------------------------
    def _answer(self, inbound: Inbound, text: str) -> Reply:
        query = self._retrieval_query(inbound, text)
        passages = self.services.search(query, 5)
        if not passages or (passages[0].similarity < 0.2 and not is_in_domain(text)):
            return self._out_of_scope()
        body, sources = compose_answer(text, passages)
        if not body:
            return self._out_of_scope()
        return self._remember_answer(inbound, text, body, sources, intent="question",
                                     data={"passages": [p.chunk.chunk_id for p in passages]})

    def _assess(self, inbound: Inbound, text: str) -> Reply:
        fit = self.services.assess(text)
        # The person's own words steer retrieval ("if I hate math" finds how much math AI engineers
        # need); the verdict's theme keeps the passages on the recommended path.
        query = f"{text} {_ASSESS_QUERY[fit.label]}"
        passages = self.services.search(query, 4)
        context, sources = compose_answer(query, passages, max_sentences=3)
        nxt = ("For a fuller picture take the `/quiz`, or ask me for a learning plan."
               if fit.label != "neither" else
               "If your situation changes, the `/quiz` or a learning plan can help you start small.")
        body = f"{fit.explanation}\n\n{context}\n\n{nxt}".strip()
        return self._remember_answer(inbound, text, body, sources, intent="assess",
                                     data={"fit": fit.as_dict(), "label": fit.label,
                                           "label_name": LABEL_NAMES[fit.label]})

    def _plan(self, inbound: Inbound, text: str) -> Reply:
        plan = self.services.plan(text)
        sources = [Source(title=r["title"], url=r["url"]) for r in plan.resources][:8]
        return self._remember_answer(inbound, text, plan.to_markdown(), sources, intent="plan",
                                     data={"plan": plan.as_dict()})

    def _out_of_scope(self) -> Reply:
        return Reply(text="That's outside what I know. I'm a career bot for people weighing **AI engineering** "
                          "against **ML engineering**: ask me about the roles, skills, pay, challenges or what to "
                          "learn next, or type `help`.", intent=Intent.OUT_OF_SCOPE.value)

    def _remember_answer(self, inbound: Inbound, question: str, body: str, sources: Sequence[Source], *,
                         intent: str, data: dict[str, Any]) -> Reply:
        answer_id = uuid.uuid4().hex[:16]
        self.store.save_answer(AnswerRecord(
            answer_id=answer_id, user_key=inbound.user_key, conversation_key=inbound.conversation_key,
            question=question[:2000], text=body, sources=[s.as_dict() for s in sources], created_at=time.time(),
        ))
        buttons = ((Button("Helpful", f"feedback:{answer_id}:up", "primary"),
                    Button("Not helpful", f"feedback:{answer_id}:down")),)
        return Reply(text=body, intent=intent, sources=tuple(sources), buttons=buttons,
                     data={"answer_id": answer_id, **data})

    def _retrieval_query(self, inbound: Inbound, text: str) -> str:
        """Follow-ups ("and what about the pay?") borrow the previous question for retrieval."""
        if len(text.split()) > 10 or not _FOLLOW_UP.search(text):
            return text
        previous = [t.text for t in self.store.recent_turns(inbound.conversation_key, 4) if t.role == "user"]
        return f"{previous[-1]} {text}" if previous else text

    async def _try_agent(self, inbound: Inbound) -> Reply | None:
        """The LLM's answer to free text, or None when the offline path should answer as usual.

        A failed model call (timeout, 5xx, 429, malformed or unsafe output) is not an error for the
        user: the offline composer answers instead, with a one-line note saying so.
        """
        cleaned = clean(inbound.text)
        intent = classify(cleaned.text)
        if self.agent is None or intent not in (Intent.QUESTION, Intent.ASSESS, Intent.PLAN):
            return None
        allowed = await asyncio.to_thread(self.store.hit_rate_limit, f"rate:{inbound.user_key}",
                                          limit=self._rate_limit[0], window_seconds=self._rate_limit[1])
        if not allowed:
            return None  # `respond` gives the rate-limit reply
        history = await asyncio.to_thread(self.store.recent_turns, inbound.conversation_key, 10)
        reason = "no_answer"
        try:
            reply = await self.agent(inbound, cleaned.text, history)
        except Exception as exc:
            reply, reason = None, str(getattr(exc, "reason", "") or type(exc).__name__)
            _log.warning("LLM agent failed (%s); answering offline", reason, exc_info=not hasattr(exc, "reason"))
        if reply is None:
            offline = await asyncio.to_thread(self._free_text, inbound)
            return _with(offline, text=f"{_LLM_FALLBACK_NOTE}\n\n{offline.text}",
                         data={**offline.data, "llm_fallback": reason})
        return await asyncio.to_thread(self._remember_agent_reply, inbound, cleaned.text, reply)

    def _remember_agent_reply(self, inbound: Inbound, question: str, reply: Reply) -> Reply:
        self.store.append_turn(inbound.conversation_key, inbound.user_key, "user", question)
        self.store.append_turn(inbound.conversation_key, inbound.user_key, "assistant", reply.text[:4000])
        return self._remember_answer(inbound, question, reply.text, reply.sources, intent=reply.intent,
                                     data=reply.data)

    async def _forget_agent_memory(self, user_key: str) -> None:
        """`/forget` also reaches the LLM's conversation memory, which lives outside the store."""
        forget = getattr(self.agent, "forget_user", None)
        if forget is not None:
            try:
                await forget(user_key)
            except Exception:
                _log.warning("could not clear the LLM memory of a user", exc_info=True)

    def _redact(self, reply: Reply) -> Reply:
        text = reply.text
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return reply if text == reply.text else _with(reply, text=text)


def _with(reply: Reply, **changes: Any) -> Reply:
    return replace(reply, **changes)

