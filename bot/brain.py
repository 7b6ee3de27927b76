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
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from typing import Any, Protocol

from bot.career import CareerServices, merge_drafts
from bot.composer import Draft, recap_of, short_item, source_of, takes_yes_or_no
from bot.conversation import TRACK_NAMES, ConversationState, is_follow_up, named_track
from bot.fit import LABEL_NAMES
from bot.fit.model import meaning, neither_reason, reason
from bot.intents import WANTS_TO_KNOW, Intent, about_me, classify, is_in_domain, self_mentions
from bot.messages import Button, Inbound, Kind, Reply, Source
from bot.plan import time_arithmetic
from bot.priority import lower_current_thread_priority
from bot.profile import PATTERN_FACTS, Profile, read_profile
from bot.sanitize import MAX_CHARS, clean, defuse_links
from bot.serving import SERVING_WORKERS
from bot.store.base import AnswerRecord, Store, Turn, UsageRecord
from bot.turns import ConversationTurns
from knowledge.text import spell_out, tokenize

__all__ = ["Brain", "HELP_TEXT"]

_log = logging.getLogger(__name__)

HELP_TEXT = (
    "I help you decide between **AI engineering** (building products on existing models: APIs, "
    "prompting, retrieval, evaluation) and **ML engineering** (training models; heavy math and "
    "statistics), or neither for now, and what to learn next. I answer from a curated knowledge base "
    "and cite it.\n"
    "- Ask a question: *How much math does an AI engineer really use?*\n"
    "- Describe yourself: *I'm a backend dev who hates calculus. Is AI engineering for me?*\n"
    "- Ask for a plan: *What should I learn first for AI engineering?*\n"
    "- `/quiz` takes the short fit quiz (buttons), `/quiz-reset` starts it over\n"
    "- `/career <question>` answers privately, `/plan <goal>` builds a learning plan\n"
    "- `/forget` deletes everything I hold about you"
)
_SMALLTALK_REPLIES = {
    "thanks": "You're welcome! Ask me anything else about AI or ML engineering careers.",
    "bye": "Good luck with your learning! I'm here whenever you want to pick it up again.",
    "default": "Hi! I'm careerbot. I help people decide between AI engineering and ML engineering and plan "
    "what to learn. Try *Do I need calculus for AI engineering?* or `/quiz`.",
}
_LLM_FALLBACK_NOTE = "_The AI model isn't available right now, so this answer comes straight from my knowledge base._"
_NAMES_SUBJECT = re.compile(r"^\W*(and|so|ok(ay)?|but)?\W*((what|how) about|and) (the |my |your )?[a-z]{3,}", re.I)
_MY_PATH = re.compile(r"\b(should|do|can|could|would|will) i (build|learn|do|make|start|focus|study|expect|earn|get)\b|"
                      r"\bfor (me|someone like me|people like me)\b|\bmy (path|track|chances|plan|situation|case)\b|"
                      r"\byou (suggested|recommended|said)\b|\bi'?d (get|earn|make)\b", re.I)
_BUILD = re.compile(r"\b(what (should|could|can|do) i (build|make|ship)|what to build|project ideas?|"
                    r"which projects? (should|could|can) i|(build|make) (for|in) my portfolio|"
                    r"what (would|could) (a|my) [a-z ]{0,15}project)\b", re.I)
_REQUEST = re.compile(r"\b(pls|please|plz|give me|show me|tell me|ideas?|examples?|list)\b", re.I)
# A message that opens like a question asks something, with or without its "?": chat drops them.
_INTERROGATIVE = re.compile(r"^\W*(?:(?:ok(?:ay)?|so|and|but|also|hm+|well|then|right|alright|wait|btw)\W+)*"
                            r"(?:what'?s?|how|why|which|where|when|who|can|could|do|does|did|is|are|should|would|"
                            r"will)\b(?!['’]t| not)", re.I)
_ASKING_CUE = re.compile(r"\bi\s+(?:really\s+)?(?:want|wanna|would like|'d like|am|'m)\s+(?:to\s+)?"
                         r"(?:know|understand|wondering|curious)\b", re.I)  # "I want to know" is not about the writer
# "...five years of go. ai or ml?": after a self-description, the choice between the roles asks for a verdict.
_ROLE_CHOICE = re.compile(r"\b(ai|ml|machine learning)(?: eng\w*)?\s*(?:or|vs\.?|versus|/)\s*(ai|ml|machine learning)"
                          r"(?: eng\w*)?\s*\??\s*$", re.I)
# "why tho?" alone: after a verdict it asks for the verdict's grounds.
_WHY_ONLY = re.compile(r"^\W*(?:(?:and|but|so|ok(?:ay)?|hm+)\W+)*(?:why|how come|on what basis|what makes you say that)"
                       r"(?:\W+(?:tho|though|so|is that|that|exactly|me|this one))*\W*$", re.I)
# "what do you mean?", "explain that pls", "in simpler words?": the last answer, said another way.
_ELABORATE = re.compile(
    r"^\W*(?:(?:and|but|so|ok(?:ay)?|hm+|wait|sorry|sry)\W+)*(?:what do (?:you|u) mean|what did (?:you|u) mean|"
    r"meaning|explain(?: that| this| it)?(?: more| better| again)?|(?:can|could) (?:you|u) (?:elaborate|explain)"
    r"(?: that| this| it)?|elaborate|in (?:simpler|plain|other) (?:words|terms)|i don'?t (?:get|understand)"
    r"(?: it| that| this)?|come again)(?:\W+(?:by that|by this|with that|please|pls|plz|exactly|more))*\W*$", re.I)
_ASKS_DURATION = re.compile(r"\b(how (long|many (weeks|months))|timeline|how much time|when (could|can|will) i)\b", re.I)
_POINTS_BACK = re.compile(r"\b(that|this|it|those|these|they|them|instead|then)\b", re.I)
_OWN_TOPIC = 0.3
# A question about where the bot's own knowledge comes from, and what to search for it.
_ABOUT_OUR_SOURCES = re.compile(
    r"\b(?:your|this bot'?s|careerbot'?s)\b[^.?!]{0,25}\b(?:sources?|info(?:rmation)?|knowledge|references?|"
    r"articles?)\b(?![^.?!]{0,15}\bmodels?\b)|\b(?:sources?|info(?:rmation)?|knowledge|articles?|references?)\b[^.?!]{0,25}"
    r"\b(?:you|your|this bot|careerbot)\b[^.?!]{0,20}\b(?:use|using|used|rely|based|come|get|take|draw|cite)", re.I)
_OUR_SOURCES_QUERY = "which source works is careerbot's advice based on"
# What to search for a short follow-up asking for one side of the topic (`FitModel.facet`).
# "reason" and "example" are read too, but searching them this way found less than the follow-up's own words.
_FACET_SEARCH = {"downside": "the downsides, challenges and risks of {}", "upside": "the benefits and advantages of {}"}
_SURE_FACET = 0.6
_FACET_WORDS = 4  # content words; longer follow-ups carry their own subject
_FRESH_FLOOR = 0.45  # what a follow-up adds past a recap must be at least this close to it (composer's support floor)
_UNSURE_SELF = 0.25  # below this the self-description check rules a message out, whatever it holds
_SELF_SENTENCE = 0.5  # a first-person sentence the self-description model is this sure of is left out of the search
_WHO_SAID = re.compile(r"^\W*(?:and |so |btw |ok )?(?:who|where)\b.{0,30}\b(?:said|say|says|saying|wrote|write|from|"
                       r"source|claims?)\b[^?]{0,20}\??\s*$", re.I)
_WHICH_OF_THOSE = re.compile(r"\bwhich (?:one )?of (?:those|these|them|the (?:five|four|three|two|\w+s))\b", re.I)
_NUMBERED = re.compile(r"\b(?:step|stage|point|item|number|no\.?|#)\s*(\d)\b", re.I)
_HOW_MANY_THERE = re.compile(r"\bhow many (?:were|are|was|is) (?:there|they|those|them)\b", re.I)
_ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
             "fifth": 5, "5th": 5, "sixth": 6, "6th": 6}
_ORDINAL_NAMES = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth"]
_ORDINAL = re.compile(r"\b(first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|sixth|6th|last|final)"
                      r"(?: (?:one|item|point|challenge|thing|reason|group|option))?\b", re.I)
_ORDINAL_NOUN = re.compile(r"\b(?:first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|sixth|6th|last|final) "
                           r"(?:one|item|point|challenge|thing|reason|group|option)\b", re.I)
_SURE_REQUEST = 0.6  # the learned request reading adds the verdict to an answer only when this sure
_SURE_PLAN = 0.9  # ... and sends a message to the planner, or to the verdict alone, only when this sure
_SURE_FIRST = 0.6  # the same for a message that describes its writer: what they ask is about themselves
_NAMES_FIELD = re.compile(r"\b(ai|ml|machine learning)\b", re.I)
# "is that hard?" has nothing to search but what it points at; "do I need a PhD for this?" names its own subject.
_FEW_WORDS = 3
_OWN = re.compile(r"\b(i|me|my|mine|i'm|i've|i'd)\b", re.I)
_SHARE_WINDOW_SECONDS = 86_400.0
_ROLE_IN_TOPIC = re.compile(r"\b(ml|machine learning|ai) engineer", re.I)  # a follow-up whose best passage is at least this close has a subject of its own
_TIME_FOLLOW_UP = re.compile(r"\b(how (long|many (weeks|months|hours))|weeks?|months?|hours? (a|per) (week|day)|"
                             r"h/week|time frame|deadline)\b", re.I)
_ASSESS_QUERY = {
    "ai_engineer": "AI engineering builds products on existing models, closer to software engineering; who should pursue it",
    "ml_engineer": "ML engineers build and train the models themselves; math, statistics, validation and test sets",
    "neither": "who should avoid AI engineering: shortcut to a high salary, stable predictable low-stress work",
}


class QuizPort(Protocol):
    """What the brain needs from the quiz engine."""

    def handles(self, inbound: Inbound) -> bool: ...
    def handle(self, inbound: Inbound) -> Reply: ...
    def status_text(self, user_key: str) -> str: ...
    def forget_charts(self, user_key: str) -> int: ...


AgentFn = Callable[[Inbound, str, Sequence[Turn]], Awaitable[Reply | None]]
AnswerObserver = Callable[[Inbound, Reply, float], None]
"""Told of every answer `handle` gives (the inbound, the reply, seconds taken): metrics, answer logs."""


class Brain:
    """Routes an `Inbound` to the right capability and returns the `Reply` to render.

    Args:
        services: retrieval, fit assessment and planning.
        store: durable state (memory, answers, feedback, rate limits, forget).
        quiz: the quiz engine, or None where the quiz is unavailable.
        agent: optional LLM answer path; returning None or raising falls back to the composer.
        secrets: values that must never appear in a reply (tokens, keys).
        rate_limit: (messages, seconds) allowed per user: messages, commands, feedback and share presses.
        quiz_press_limit: (presses, seconds) allowed per user for quiz buttons, on a counter of their
            own: a quiz is 15 presses and "Take it again" starts another 15, so on the message
            counter a quick person was stopped mid-quiz.
        workers: CPU threads that run the synchronous answer path. Not the number of conversations
            served at once: answers are CPU work under one GIL, and on two cores more threads than
            a few only queue on the GIL (docs/performance.md). The default is `SERVING_WORKERS`.
        max_waiting: messages admitted beyond `workers` (waiting for a thread, for their
            conversation's turn or for their query embedding). Past `workers + max_waiting`
            a message gets a short "busy" reply at once: under overload the queue (and so every
            latency) stays bounded, instead of growing until every answer is late.
        prefetch: starts the query embedding of a message's text without a thread (the embedder's
            `submit`): every admitted message joins the next embedding batch while it waits,
            instead of only those that already hold a thread. The answer path then finds the
            vector it needs in the embedder's cache; each message's text is embedded once either
            way. None embeds in the answer thread, as before.
        observers: called with (inbound, reply, seconds) after every `handle`; one that raises is
            logged and skipped, it never costs the user the answer.
        thread_nice: how much the answer threads lower their OS scheduling priority (and that of
            threads they start, such as the embedding batchers), so the event loop that
            acknowledges platform events runs first under a burst; 0 leaves it unchanged.
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
        quiz_press_limit: tuple[int, float] = (120, 60.0),
        workers: int | None = None,
        max_waiting: int = 256,
        observers: Sequence[AnswerObserver] = (),
        thread_nice: int = 0,
        prefetch: Callable[[str], Future[Any]] | None = None,
    ) -> None:
        self.services = services
        self.store = store
        self.quiz = quiz
        self.agent = agent
        self._secrets = tuple(s for s in secrets if s)
        self._rate_limit = rate_limit
        self._quiz_press_limit = quiz_press_limit
        self.workers = SERVING_WORKERS if workers is None else workers
        self._executor = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="brain",
                                            initializer=lower_current_thread_priority, initargs=(thread_nice,))
        self.capacity = self.workers + max_waiting  # messages admitted at once; past it, "busy"
        self._admitted = 0
        self.peak_admitted = 0  # the most messages admitted at once (benchmarks report it)
        self.shed = 0  # messages answered "busy" because the queue was full (benchmarks report it)
        self._observers = tuple(observers)
        self._prefetch = prefetch
        self._turns = ConversationTurns()

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    # --- entry points ----------------------------------------------------------------------
    async def handle(self, inbound: Inbound) -> Reply:
        """Answer one inbound; never raises. Observers see every reply, apologies included."""
        started = time.perf_counter()
        reply = await self._handle(inbound)
        seconds = time.perf_counter() - started
        for observe in self._observers:
            try:
                observe(inbound, reply, seconds)
            except Exception:
                _log.warning("answer observer %r failed", observe, exc_info=True)
        return reply

    async def _handle(self, inbound: Inbound) -> Reply:
        try:
            loop = asyncio.get_running_loop()
            reply = None
            if self.agent is not None and inbound.kind in (Kind.MENTION, Kind.DM):
                reply = await self._try_agent(inbound)
            if reply is None:
                # Retrieval and embedding are CPU work: keep the event loop free for other users. The
                # pool is small on purpose (see `workers`); admitted messages wait for their query
                # embedding here, without a thread, so they still make bigger, cheaper batches.
                if self._admitted >= self.capacity and inbound.kind is not Kind.ACTION:
                    self.shed += 1
                    return Reply(text="I'm answering a lot of questions right now. Please ask again in a minute.",
                                 intent="busy", ephemeral=True)
                self._admitted += 1
                self.peak_admitted = max(self.peak_admitted, self._admitted)
                try:
                    embedding = self._start_embedding(inbound)
                    if inbound.kind is Kind.ACTION:
                        # A press (feedback, share, a quiz step) never waits behind a long answer.
                        reply = await loop.run_in_executor(self._executor, self._respond_and_record, inbound)
                    else:
                        async with self._turns.turn(inbound.conversation_key):
                            await _settled(embedding)
                            reply = await loop.run_in_executor(self._executor, self._respond_and_record, inbound)
                finally:
                    self._admitted -= 1
                if reply.intent == "forget":
                    await self._forget_agent_memory(inbound.user_key)
            else:
                await loop.run_in_executor(self._executor, self._record_usage, inbound, reply)
            return self._redact(reply)
        except Exception:
            _log.exception("failed to answer %s message %s", inbound.platform, inbound.message_id)
            return Reply(text="Sorry, something went wrong on my side while answering. Please try again in a "
                              "moment.", intent="error", ephemeral=True)

    def _start_embedding(self, inbound: Inbound) -> Future[Any] | None:
        """Queue the embedding the answer path will ask for first (the cleaned message text)."""
        if self._prefetch is None or inbound.kind is Kind.ACTION:
            return None
        if inbound.kind is Kind.COMMAND and (inbound.command or "").lower().lstrip("/") != "career":
            return None
        text = clean(inbound.text).text
        return self._prefetch(text) if text.strip() else None

    def _respond_and_record(self, inbound: Inbound) -> Reply:
        """`respond` and its usage row in one trip to a thread (each trip costs a GIL hand-over)."""
        reply = self.respond(inbound)
        self._record_usage(inbound, reply)
        return reply

    def respond(self, inbound: Inbound) -> Reply:
        """The synchronous core of `handle` (the terminal and the benchmarks call it directly)."""
        if not self._within_rate_limit(inbound):
            # Button presses count too: each share is a public post, each feedback a write (quiz
            # steps on a larger counter of their own, see `_within_rate_limit`).
            return Reply(text="You're sending messages faster than I can answer them well. Give me a few "
                              "seconds and try again.", intent="rate_limited", ephemeral=True)
        if inbound.kind is Kind.ACTION:
            return self._action(inbound)
        if inbound.kind is Kind.COMMAND:
            return self._command(inbound)
        return self._free_text(inbound)

    def _record_usage(self, inbound: Inbound, reply: Reply) -> None:
        """One usage row per reply to a message or command, so reports can say what people asked.

        Button presses are not counted (quiz steps would drown the answers; quiz verdicts are
        counted from the stored results). A failure to record is logged, never shown to the user.
        """
        if inbound.kind is Kind.ACTION or reply.intent == "forget":
            return
        try:
            out_of_scope = reply.intent == Intent.OUT_OF_SCOPE.value
            self.store.record_usage(UsageRecord(
                platform=inbound.platform, kind=str(inbound.kind), intent=reply.intent, user_key=inbound.user_key,
                created_at=time.time(), answer_id=reply.data.get("answer_id"),
                question=clean(inbound.text).text[:500] if out_of_scope else None,
                llm_fallback=reply.data.get("llm_fallback")))
        except Exception:
            _log.warning("could not record usage of a %s reply", inbound.platform, exc_info=True)

    # --- routing ---------------------------------------------------------------------------
    def _action(self, inbound: Inbound) -> Reply:
        value = inbound.action or ""
        if self.quiz is not None and self.quiz.handles(inbound):
            return self.quiz.handle(inbound)
        kind, _, rest = value.partition(":")
        if kind == "feedback":
            answer_id, _, vote = rest.rpartition(":")
            if answer_id and vote in ("up", "down") and self.store.get_answer(answer_id) is not None and \
                    self._write("feedback", self.store.record_feedback, answer_id, inbound.user_key, vote == "up"):
                return Reply(text="Thanks for the feedback! It helps us improve the answers.", intent="feedback",
                             ephemeral=True, data={"vote": vote})
            return Reply(text="I couldn't find that answer any more, so the feedback wasn't recorded.",
                         intent="feedback", ephemeral=True)
        if kind == "share":
            record = self.store.get_answer(rest)
            if record is None or record.user_key != inbound.user_key:
                return Reply(text="I can't share that answer: it's gone or it isn't yours.", intent="share",
                             ephemeral=True)
            if not self._first_share(record.answer_id):
                return Reply(text="That answer is already in the channel.", intent="share", ephemeral=True)
            sources = tuple(Source(**s) for s in record.sources)
            # The question is the user's words in a post made by the bot: their links stay plain text.
            return Reply(text=f"*Question:* {defuse_links(record.question)}\n\n{record.text}", intent="share",
                         sources=sources, data={"answer_id": record.answer_id})
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
            state = ConversationState.from_dict(self.store.load_conversation(inbound.conversation_key))
            reply = self._plan(inbound, text.text or "I am aiming for the AI engineer track", state)
            self._write("conversation", self.store.save_conversation, inbound.conversation_key, inbound.user_key,
                        state.as_dict())
            return reply
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
        state = ConversationState.from_dict(self.store.load_conversation(inbound.conversation_key))
        state.subject = named_track(cleaned.text) or state.subject
        reply = self._by_intent(inbound, cleaned.text, intent, state)
        if cleaned.truncated and intent not in (Intent.HOSTILE, Intent.EMPTY):
            reply = _with(reply, text=f"_Your message was long, so I read only its first {MAX_CHARS:,} characters._"
                                      f"\n\n{reply.text}")
        if intent not in (Intent.EMPTY, Intent.HOSTILE):
            self._write("turns", self._append_turns, inbound, cleaned.text, reply.text)
            if reply.intent in ("question", "assess", "plan"):
                state.last_intent = reply.intent
                state.remember_reply(reply.text, [src.as_dict() for src in reply.sources],
                                     about_list=reply.data.get("pointed") in ("item", "count"))
                self._write("conversation", self.store.save_conversation, inbound.conversation_key, inbound.user_key,
                            state.as_dict())
        return reply

    def _by_intent(self, inbound: Inbound, text: str, intent: Intent, state: ConversationState) -> Reply:
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
        if state.last_intent == "assess" and state.verdict and (_WHY_ONLY.match(text) or _ELABORATE.match(text)):
            return self._why_verdict(inbound, text, state)
        if state.last_intent == "question" and state.in_scope and state.last_answer and _ELABORATE.match(text):
            # (A bare "why?" is left to the search: restating the point found fewer of the reasons.)
            elaborated = self._elaborate(inbound, text, state)
            if elaborated is not None:
                return elaborated
        pointed = self._about_last_answer(inbound, text, state)
        if pointed is not None:
            return pointed
        if _ABOUT_OUR_SOURCES.search(spell_out(text)):
            # "what sources do you use?": about the bot, so its words ("sources", "use") must not be
            # searched as a question about open-source models.
            draft, _ = self.services.answer(text, _OUR_SOURCES_QUERY)
            if draft.text:
                state.topic = _OUR_SOURCES_QUERY
                return self._remember_answer(inbound, text, draft.text, draft.sources, intent="question",
                                             data={"card": draft.card, "pointed": "our-sources"})
        known_topic = state.in_scope or is_in_domain(text)
        earlier = state.in_scope  # before this message's own facts are read
        if intent is Intent.PLAN and not known_topic and not self.services.covers(text, margin=0.12):
            return self._out_of_scope()  # "how do I become a pilot?" asks for a plan we can't make
        described = self._describes(text, state)
        # "How many weeks is that at 5 h a week?": the plan's timeline, after a plan or once a pace is known.
        stated = read_profile(text)
        asks_time = state.in_scope and _ASKS_DURATION.search(text) is not None and (state.last_intent == "plan" or (
            _TIME_FOLLOW_UP.search(text) is not None and bool(state.profile.hours_per_week or stated.hours_per_week)))
        # "15 h a week, and I want to switch in 6 months: doable?" asks whether the plan fits that frame.
        asks_time = asks_time or (state.in_scope and bool(state.verdict or state.plan_track) and
                                  bool(stated.hours_per_week) and bool(stated.weeks) and "?" in text)
        if _BUILD.search(text) and (known_topic or described):
            return self._projects(inbound, text, state)
        if state.in_scope:
            # "the basics take ~60 h, so how long for me?": the sum first, then the plan's timeline.
            profile = state.profile.merge(stated)
            sum_line = time_arithmetic(text, profile.hours_per_week, profile.weeks)
            if sum_line is not None:
                reply = self._plan(inbound, text, state, timeline=True)
                return _with(reply, text=f"{sum_line}\n\n{reply.text}")
        # A learned reading of the request decides what wording alone cannot: mid-conversation,
        # "bottom line for me?" wants the verdict and "ok, 7 a week, lay it out" the plan; in a message
        # that describes the writer, "...proofs are fun, code is not. thoughts?" asks for a verdict.
        asks = self.services.request_kind(text) if earlier or described else {}
        sure = _SURE_PLAN if earlier else _SURE_FIRST
        asks_plan = earlier and asks.get("plan", 0.0) >= sure  # a first message's plan wording is left to the rules
        if asks_plan and not asks_time and state.profile.hours_per_week is not None and _ASKS_DURATION.search(text):
            asks_time = True
        if intent is Intent.PLAN or asks_time or asks_plan or (
                state.last_intent == "plan" and _TIME_FOLLOW_UP.search(text)):
            return self._plan(inbound, text, state, timeline=asks_time)
        # A self-description with no question ("backend dev, 5 yrs, math scares me") wants a verdict too.
        learned_only = not (intent is Intent.ASSESS or about_me(text)) and asks.get("own_verdict", 0.0) >= sure
        wants_verdict = intent is Intent.ASSESS or about_me(text) or learned_only or (
            described and not _asks_something(text, asks if earlier else {})) or (
            (described or not state.profile.is_empty) and _ROLE_CHOICE.search(text) is not None)
        if wants_verdict and (described or intent is Intent.ASSESS or not state.profile.is_empty):
            reply = self._assess(inbound, text, state, new_facts=described or state.profile.is_empty,
                                 reasoned_only=learned_only and not earlier)
            if reply is not None:
                return reply
            answer = self._answer(inbound, text, state)
            if answer.intent == "question":
                answer = _with(answer, text=f"{answer.text}\n\n{_tell_me_more(state.profile)}")
            return answer
        reply = self._answer(inbound, text, state)
        if reply.intent == "question" and state.verdict and asks.get("own_verdict", 0.0) >= _SURE_REQUEST:
            # "where does that leave me, job-hunt wise?" wants the fact and what it means for them.
            reply = _with(reply, text=f"{self._verdict_reminder(state)}\n\n{reply.text}")
        return reply

    def _elaborate(self, inbound: Inbound, text: str, state: ConversationState) -> Reply | None:
        """"What do you mean?" after an answer: its main point again, then what the sources say around it."""
        point = recap_of(_last_reply(state))
        if not point.text:
            return None
        sentence = re.sub(r"\s*\[\d+\]\s*$", "", point.text)
        more, _ = self.services.answer(sentence, sentence, said=state.last_answer)
        parts = [replace(point, text=f"What I meant: {point.text}")]
        if more.text and more.confidence >= _FRESH_FLOOR:
            parts.append(more)
        draft = merge_drafts(parts) if len(parts) > 1 else parts[0]
        return self._remember_answer(inbound, text, draft.text, draft.sources, intent="question",
                                     data={"pointed": "elaborate"})

    def _why_verdict(self, inbound: Inbound, text: str, state: ConversationState) -> Reply:
        """"Why?" right after a verdict asks for its grounds: the reason, and their own words behind it."""
        fit = self.services.assess(state.self_description(), known=state.profile)
        name = LABEL_NAMES.get(state.verdict or "", state.verdict or "")
        grounds = [f"“{r.clause[:90]}” ({meaning(r)})" for r in fit.readings[:3]]
        lines = [f"Why **{name}**: {state.verdict_reason or reason(fit)}"]
        if grounds:
            lines.append("From what you told me: " + "; ".join(grounds) + ".")
        lines.append("Tell me more about what you enjoy or avoid and I'll weigh it again, or take the `/quiz`.")
        passages = self.services.search(_ASSESS_QUERY[state.verdict or "neither"], 1)
        sources = [source_of(p, page_url=self.services.page_url) for p in passages]
        return self._remember_answer(inbound, text, "\n".join(lines), sources, intent="question",
                                     data={"pointed": "verdict"})

    def _verdict_reminder(self, state: ConversationState) -> str:
        """One line restating this conversation's verdict, so an answer about "me" says where they stand."""
        name = LABEL_NAMES.get(state.verdict or "", state.verdict or "")
        why = f" {state.verdict_reason}" if state.verdict_reason else ""
        return f"_For you, from what you told me: **{name}**.{why}_"

    def _describes(self, text: str, state: ConversationState) -> bool:
        """Whether `text` tells something about the person; if so its facts are kept for later verdicts.

        A learned check (self-description or question about the field) decides, not the pronouns:
        "sysadmin, ten years, scripting in bash, stats scare me" has no "I" but is all about the writer.
        """
        if about_me(text) and len(text.split()) <= 8:
            return False  # "so which path fits me?" asks for a verdict; it adds no fact to judge by
        sure = self.services.describes_self(text)
        # A stated job or years of experience (read by pattern, no model) lowers the bar: terse
        # self-descriptions ("android dev here, 6 yrs") read to the check like questions. So does a
        # question that says something about its writer ("is math vital? I'm bad at it"), when the
        # clause reader commits to what it says.
        if sure < _UNSURE_SELF:
            return False
        if sure < 0.5 and not (_facts(read_profile(text)) or _OWN.search(text)):
            return False
        reading = self.services.assessor.read(text)
        if sure < 0.5 and not (reading.readings or _facts(reading.profile)):
            return False
        if not reading.readings and not reading.hints and _facts(reading.profile) == 0:
            return False  # sounds personal ("give me ideas pls") but states nothing about the person
        state.profile = state.profile.merge(reading.profile)
        state.remember_about(text)
        return True

    # --- capabilities ----------------------------------------------------------------------
    def _answer(self, inbound: Inbound, text: str, state: ConversationState) -> Reply:
        text = self._question_part(text)
        # "and the salary?" or "downside?" lean on what came before; "what's a good X recipe?" does not.
        follow_up = state.in_scope and (is_follow_up(text) or len(tokenize(text)) <= 2)
        personal = self._personal_query(text, state)
        if personal is None and state.in_scope and state.subject in TRACK_NAMES and \
                not _NAMES_FIELD.search(text):
            # "is it crowded on that side?" after an ML verdict is about ML engineering.
            personal = f"{text} ({TRACK_NAMES[state.subject]})"
        # Scope is judged on the message's own words: the role added to its search would lend any
        # message ("a good bread recipe (AI engineer)?") the relevance of the role.
        own = None if personal is None else self.services.relevance(text)
        # "hmm why?" with the role added matches the role's yes/no cards, not the question: a "No."
        # opening would answer something nobody asked.
        yes_no = own is None or own >= _OWN_TOPIC or takes_yes_or_no(text)
        draft, relevance = self.services.answer(text, personal, yes_no=yes_no)
        if not draft.text and not yes_no:
            draft, relevance = self.services.answer(text, personal)
        own_relevance = relevance if own is None else own
        facet_query = self._facet_query(text, state) if follow_up and not _NAMES_FIELD.search(text) else None
        if facet_query is not None:
            # "what's the catch?" asks for one side of what came before: search that side of it.
            faceted, faceted_relevance = self.services.answer(text, facet_query)
            if faceted.text:
                draft, relevance = faceted, max(relevance, faceted_relevance)
        if facet_query is None and follow_up and state.topic and not _NAMES_FIELD.search(text) and \
                (relevance < _OWN_TOPIC or (_POINTS_BACK.search(text) and len(tokenize(text)) <= _FEW_WORDS)):
            # "Is that expensive?" is about what came before: search it together with that.
            # A follow-up that names its own subject ("and the hours?") keeps its own results.
            leaning, leaning_relevance = self.services.answer(text, f"{text} ({state.topic})")
            if leaning.text and leaning_relevance >= relevance:
                draft, relevance = leaning, leaning_relevance
        if follow_up and _repeats(draft.text, state.last_answer):
            # The same reply again answers nothing new ("why tho?", "which one then?"): its first point
            # as a recap, then what the sources add that the last reply did not say.
            # The sentence closest to what they asked, when they asked something; else the reply's lead.
            pick = (lambda sentences: self.services.closest(text, sentences)) if len(tokenize(text)) >= 2 else None
            recap = recap_of(_last_reply(state), pick)
            fresh, _ = self.services.answer(text, facet_query or personal or (
                f"{text} ({state.topic})" if state.topic else None), said=f"{state.last_answer} {draft.text}")
            if recap.text:
                parts = [replace(recap, text=f"As I said: {recap.text}")]
                if fresh.text and fresh.confidence >= _FRESH_FLOOR and not _repeats(fresh.text, state.last_answer):
                    parts.append(fresh)
                draft = merge_drafts(parts) if len(parts) > 1 else parts[0]
        # In a conversation already about these careers only a clearly unrelated message is refused.
        floor = 0.7 if state.in_scope else 1.0
        # Someone who has described themselves and now asks about their own case ("does my background
        # help?") is still talking about their career move, whatever the passages score.
        own_case = state.in_scope and not state.profile.is_empty and _OWN.search(text) is not None
        in_scope = follow_up or own_case or is_in_domain(text) or self.services.covers(text, own_relevance / floor)
        if not draft.text or not in_scope:
            return self._out_of_scope()
        if not follow_up:
            state.topic = text
        return self._remember_answer(inbound, text, draft.text, draft.sources, intent="question",
                                     data={"card": draft.card, "relevance": round(relevance, 3)})

    def _facet_query(self, text: str, state: ConversationState) -> str | None:
        """The search for a short follow-up that asks for one side of the last topic, read by a learned head.

        After a verdict or a plan the subject is the career itself; after an answer, the question it answered.
        """
        if not state.topic or len(tokenize(text)) > _FACET_WORDS:
            return None
        probs = self.services.follow_up_facet(text)
        facet = max(probs, key=probs.__getitem__) if probs else "other"
        if facet not in _FACET_SEARCH or probs[facet] < _SURE_FACET:
            return None
        career = state.last_intent in ("assess", "plan") and state.subject in TRACK_NAMES
        subject = f"a career as an {TRACK_NAMES[state.subject or '']}" if career else state.topic
        return _FACET_SEARCH[facet].format(subject)

    def _question_part(self, text: str) -> str:
        """What a message asks, without the sentences that only state the writer's facts.

        "I'm 45, an accountant for 20 years, 4 h a week. Is it too late?" is searched as "Is it too
        late?": the ages, years and hours would otherwise pull in passages full of figures. Those
        facts still reach the verdict and the plan through the conversation's profile. Sentences
        with a premise the answer needs ("money is all that matters to me") stay.
        """
        sentences = [x for x in re.split(r"(?<=[.!?])\s+", text.strip()) if x]
        if len(sentences) < 2:
            return text

        def asks(sentence: str) -> bool:
            return "?" in sentence or _INTERROGATIVE.search(sentence) is not None or WANTS_TO_KNOW.search(sentence) is not None

        if any(asks(x) and _OWN.search(_ASKING_CUE.sub(" ", x)) for x in sentences):
            return text  # "...could I make a career of it?" asks about the writer: their facts are its subject
        kept = [x for x in sentences if asks(x) or not (
            _facts(read_profile(x)) and _OWN.search(x) and self.services.describes_self(x) >= _SELF_SENTENCE)]
        return " ".join(kept) if len(kept) < len(sentences) and any(asks(x) for x in kept) else text

    def _about_last_answer(self, inbound: Inbound, text: str, state: ConversationState) -> Reply | None:
        """Follow-ups that point into the last answer: "the second one?", "how many were there?", "who said that?"."""
        if not (state.in_scope and state.last_answer):
            return None
        follow_up = is_follow_up(text) or len(text.split()) <= 5
        points_in = bool(state.last_list) and (
            _HOW_MANY_THERE.search(text) is not None or _WHICH_OF_THOSE.search(text) is not None or
            (_NUMBERED.search(text) is not None and len(text.split()) <= 8) or (
                _ORDINAL.search(text) is not None and (_ORDINAL_NOUN.search(text) is not None or len(text.split()) <= 5)))
        if not (follow_up or points_in):
            return None
        if _WHO_SAID.search(text) and state.last_sources:
            named = [f"**{s['title']}**" + (f" ({s['author']})" if s.get("author") else "") for s in state.last_sources[:3]]
            body = "That came from " + "; ".join(named) + "." + (
                " The links are in the sources below." if any(s.get("url") for s in state.last_sources) else "")
            sources = _last_reply(state).sources
            return self._remember_answer(inbound, text, body, sources, intent="question", data={"pointed": "sources"})
        items = state.last_list
        if not items or not points_in:
            return None
        if _HOW_MANY_THERE.search(text):
            body = f"There were {len(items)}: " + "; ".join(f"({i}) {_item_head(it)}" for i, it in enumerate(items, 1)) + "."
            return self._remember_answer(inbound, text, body, [Source(**s) for s in state.last_sources[:1]],
                                         intent="question", data={"pointed": "count"})
        ordinal = _ORDINAL.search(text)
        numbered = _NUMBERED.search(text)
        if numbered is not None:
            index = int(numbered.group(1)) - 1
            if not 0 <= index < len(items):
                return None
            lead_in = f"{numbered.group(0)[:1].upper()}{numbered.group(0)[1:]} is"
        elif ordinal is not None:
            word = ordinal.group(1).lower()
            index = len(items) - 1 if word in ("last", "final") else _ORDINALS.get(word, 0) - 1
            if not 0 <= index < len(items):
                return None
            lead_in = f"The {'last' if word in ('last', 'final') else _ORDINAL_NAMES[index]} one is"
        elif _WHICH_OF_THOSE.search(text):
            # "which of those is worst for me?": the item closest in meaning to what they said about it.
            about = " ".join([state.self_description(), _WHICH_OF_THOSE.sub(" ", text)]).strip()
            index = self.services.closest(about, [_item_head(it) for it in items])
            lead_in = "For you, probably"
        else:
            return None
        item = _item_head(items[index])
        draft, _ = self.services.answer(f"{text} {item}", f"{item} ({state.topic})")
        lead = f"{lead_in} **{item}**."
        body = f"{lead} {draft.text}".strip()
        return self._remember_answer(inbound, text, body, draft.sources, intent="question",
                                     data={"pointed": "item", "card": draft.card})

    def _personal_query(self, text: str, state: ConversationState) -> str | None:
        """A question about the person's own path ("what should I build?") is searched with their track."""
        if re.search(r"\b(ai|ml|machine learning)\b", text, re.I):
            return None
        track = {"ai_engineer": "AI engineer", "ml_engineer": "ML engineer"}.get(state.verdict or "", "")
        if track and _MY_PATH.search(text):
            return f"{text} ({track})"
        if _NAMES_SUBJECT.search(text):
            # "And what about the pay?" keeps its own subject but stays on the role under discussion.
            role = _ROLE_IN_TOPIC.search(state.topic)
            named = f"{role.group(1)} engineer" if role else track
            return f"{text} ({named})" if named else None
        return None

    def _assess(self, inbound: Inbound, text: str, state: ConversationState, *, new_facts: bool = True,
                reasoned_only: bool = False) -> Reply | None:
        """The verdict, or None when the person has said too little for one (then the question is answered).

        The verdict reads everything the person said about themselves in this conversation, so a
        follow-up such as "which path suits me, then?" is judged on their earlier messages, and only on
        them when it adds no facts: the same person gets the same verdict until they say more.
        """
        basis = state.self_description(text if new_facts else "") or text
        fit = self.services.assess(basis, known=state.profile)
        if fit.evidence + (self.services.describes_self(basis) >= 0.8) < 2 and not (
                fit.label == "neither" and neither_reason(fit)):
            # One remark ("if I hate math?") is too little to judge a person by, unless it is one of the
            # sources' own reasons to wait ("only the money matters to me").
            return None
        if reasoned_only and fit.label == "neither" and not neither_reason(fit):
            return None  # a "not now" with no reason the sources give would only discourage: answer instead
        state.profile, state.verdict, state.topic = fit.profile, fit.label, text
        state.verdict_reason = reason(fit)
        state.subject = fit.label if fit.label in TRACK_NAMES else None  # "neither": no role to lean on
        passages = self.services.search(_ASSESS_QUERY[fit.label], 1)
        sources = [source_of(p, page_url=self.services.page_url) for p in passages]
        nxt = ("Ask me *where do I start?* for a plan made from what you told me, or take the `/quiz`."
               if fit.label != "neither" else
               "If your situation changes, ask me for a plan to start small, or take the `/quiz`.")
        body = f"{fit.explanation}\n\n{nxt}"
        return self._remember_answer(inbound, text, body, sources, intent="assess",
                                     data={"fit": fit.as_dict(), "label": fit.label,
                                           "label_name": LABEL_NAMES[fit.label]})

    def _plan(self, inbound: Inbound, text: str, state: ConversationState | None = None, *,
              timeline: bool = False) -> Reply:
        """A plan made from everything the person said; `timeline` answers "how long?" with its time alone."""
        state = state or ConversationState()
        # After "neither for now" an earlier plan's track is no choice of theirs: the plan says it starts small.
        track = self.services.planner.explicit_track(text) or (
            state.verdict if state.verdict in ("ai_engineer", "ml_engineer") else None) or (
            state.plan_track if state.verdict != "neither" else None)
        profile = state.profile
        if self_mentions(text) or _TIME_FOLLOW_UP.search(text):
            profile = profile.merge(self.services.assessor.read(text).profile)
        plan = self.services.plan(state.self_description(text), track,
                                  profile=profile if not profile.is_empty else None, verdict=state.verdict)
        state.profile, state.plan_track, state.topic, state.subject = profile, plan.track, text, plan.track
        sources = [s for s in (self.services.article_source(a) for a in plan.articles) if s is not None][:6]
        body = plan.timeline_markdown() if timeline else plan.to_markdown()
        return self._remember_answer(inbound, text, body, sources, intent="plan",
                                     data={"plan": plan.as_dict()})

    def _projects(self, inbound: Inbound, text: str, state: ConversationState) -> Reply:
        """"What should I build?": portfolio projects for the person's track, matched to their words."""
        track = self.services.planner.explicit_track(text) or (
            state.verdict if state.verdict in ("ai_engineer", "ml_engineer") else None) or state.plan_track or (
            "ml_engineer" if state.profile.interest == "train" else "ai_engineer")
        projects = self.services.planner.suggest_projects(f"{state.self_description(text)} {state.profile.role or ''}",
                                                          track)
        name = {"ai_engineer": "AI engineer", "ml_engineer": "ML engineer"}[track]
        lines = [f"For the {name} path, build one project end to end rather than many demos [1]:"]
        lines += [f"- **{p.title}**: {p.description}" for p in projects]
        lines.append("Ship it: deploy it, measure it with numbers, and keep it in a public repo with a README; "
                     "a finished project shows you are productive from day one [1].")
        source = self.services.article_source("example-projects")
        state.topic = text
        return self._remember_answer(inbound, text, "\n".join(lines), [source] if source else [], intent="question",
                                     data={"projects": [p.as_dict() for p in projects], "track": track})

    def _out_of_scope(self) -> Reply:
        return Reply(text="I can't help with that one: I'm a career bot for people weighing **AI engineering** "
                          "against **ML engineering**. Ask me about the roles, skills, pay, challenges or what to "
                          "learn next, or type `help`.", intent=Intent.OUT_OF_SCOPE.value)

    def _remember_answer(self, inbound: Inbound, question: str, body: str, sources: Sequence[Source], *,
                         intent: str, data: dict[str, Any]) -> Reply:
        answer_id = uuid.uuid4().hex[:16]
        saved = self._write("answer", self.store.save_answer, AnswerRecord(
            answer_id=answer_id, user_key=inbound.user_key, conversation_key=inbound.conversation_key,
            question=question[:2000], text=body, sources=[s.as_dict() for s in sources], created_at=time.time(),
        ))
        if not saved:  # feedback and share refer to the record: no record, no buttons
            return Reply(text=body, intent=intent, sources=tuple(sources), data=dict(data))
        buttons = ((Button("Helpful", f"feedback:{answer_id}:up", "primary"),
                    Button("Not helpful", f"feedback:{answer_id}:down")),)
        return Reply(text=body, intent=intent, sources=tuple(sources), buttons=buttons,
                     data={"answer_id": answer_id, **data})

    async def _try_agent(self, inbound: Inbound) -> Reply | None:
        """The LLM's answer to free text, or None when the offline path should answer as usual.

        A failed model call (timeout, 5xx, 429, malformed or unsafe output) is not an error for the
        user: the offline composer answers instead, with a one-line note saying so.
        """
        cleaned = clean(inbound.text)
        intent = classify(cleaned.text)
        if self.agent is None or intent not in (Intent.QUESTION, Intent.ASSESS, Intent.PLAN):
            return None
        allowed = await asyncio.to_thread(self._within_rate_limit, inbound)
        if not allowed:
            return None  # `respond` gives the rate-limit reply
        history = await asyncio.to_thread(self.store.recent_turns, inbound.conversation_key, 10)
        known = await asyncio.to_thread(self._known_about, inbound, cleaned.text)
        prompt = f"{cleaned.text}\n\n[What this person said about themselves earlier: {known}]" if known else cleaned.text
        reason = "no_answer"
        try:
            reply = await self.agent(inbound, prompt, history)
        except Exception as exc:
            reply, reason = None, str(getattr(exc, "reason", "") or type(exc).__name__)
            _log.warning("LLM agent failed (%s); answering offline", reason, exc_info=not hasattr(exc, "reason"))
        if reply is None:
            offline = await asyncio.to_thread(self._free_text, inbound)
            return _with(offline, text=f"{_LLM_FALLBACK_NOTE}\n\n{offline.text}",
                         data={**offline.data, "llm_outcome": "fallback", "llm_fallback": reason})
        remembered = await asyncio.to_thread(self._remember_agent_reply, inbound, cleaned.text, reply)
        return _with(remembered, data={**remembered.data, "llm_outcome": "answered"})

    def _known_about(self, inbound: Inbound, text: str) -> str:
        """The LLM path keeps the same conversation state: this message's facts are stored, earlier ones returned."""
        state = ConversationState.from_dict(self.store.load_conversation(inbound.conversation_key))
        earlier = state.self_description()
        if self._describes(text, state):
            self._write("conversation", self.store.save_conversation, inbound.conversation_key, inbound.user_key,
                        state.as_dict())
        return earlier[-1200:]

    def _remember_agent_reply(self, inbound: Inbound, question: str, reply: Reply) -> Reply:
        self._write("turns", self._append_turns, inbound, question, reply.text)
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

    # --- limits and writes that must not cost the answer ------------------------------------
    def _within_rate_limit(self, inbound: Inbound) -> bool:
        """One counter per user for messages, commands, feedback and share; one for quiz buttons.

        Quiz steps are counted apart, with a larger allowance: a quick person answers the 15
        questions and presses "Take it again" within a minute, and on the message counter that
        stopped them mid-quiz. A quiz press writes one row and posts nothing in public; feedback
        (a write per vote) and share (a public post) stay on the message counter.

        A store that cannot count (disk full, database down) lets the message through: refusing
        everyone because a counter cannot be written would turn a storage problem into an outage.
        """
        if inbound.kind is Kind.ACTION and self.quiz is not None and self.quiz.handles(inbound):
            key, (limit, window) = f"quiz-press:{inbound.user_key}", self._quiz_press_limit
        else:
            key, (limit, window) = f"rate:{inbound.user_key}", self._rate_limit
        try:
            return self.store.hit_rate_limit(key, limit=limit, window_seconds=window)
        except Exception as exc:
            _log.warning("rate counter not written (%s); answering anyway", _error_name(exc))
            return True

    def _first_share(self, answer_id: str) -> bool:
        """True for the first "Share in channel" of an answer in a UTC day (a fixed window).

        Repeated presses post nothing: each share is a public post in the bot's name.
        """
        try:
            return self.store.hit_rate_limit(f"share:{answer_id}", limit=1, window_seconds=_SHARE_WINDOW_SECONDS)
        except Exception as exc:
            _log.warning("share counter not written (%s); not sharing", _error_name(exc))
            return False  # a public post is the one thing not to repeat when unsure

    def _append_turns(self, inbound: Inbound, question: str, answer: str) -> None:
        self.store.append_turn(inbound.conversation_key, inbound.user_key, "user", question)
        self.store.append_turn(inbound.conversation_key, inbound.user_key, "assistant", answer[:4000])

    def _write(self, what: str, write: Callable[..., Any], *args: Any) -> bool:
        """Run a store write whose failure must not cost the user the answer; False if it failed.

        Memory, answer records and feedback are worth having, not worth an apology: with the disk
        full the person still gets their answer, and the log says which write was lost (never the
        text it held).
        """
        try:
            write(*args)
        except Exception as exc:
            _log.warning("could not save %s (%s); answering anyway", what, _error_name(exc))
            return False
        return True

    def _redact(self, reply: Reply) -> Reply:
        text = reply.text
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return reply if text == reply.text else _with(reply, text=text)


async def _settled(future: Future[Any] | None) -> None:
    """Wait for a prefetched embedding; its failure is left to the answer path, which retries it."""
    if future is None:
        return
    try:
        await asyncio.wrap_future(future)
    except Exception:  # noqa: BLE001 - the answer path embeds again and reports its own failure
        pass


def _error_name(exc: BaseException) -> str:
    """The error's kind (and SQLite's code), without its message: messages can quote the values."""
    code = getattr(exc, "sqlite_errorname", None)
    return f"{type(exc).__name__} {code}" if code else type(exc).__name__


def _facts(profile: Profile) -> int:
    """Facts read by pattern (job, years, hours, time frame); clause readings are counted apart."""
    return len(set(profile.quotes) & PATTERN_FACTS)


def _item_head(item: str) -> str:
    """A list item cut to its name ("High Difficulty, combining ..." -> "High Difficulty")."""
    return short_item(item, at_comma=True, max_words=10)


def _tell_me_more(profile: Profile) -> str:
    """The invitation to say more, asking only for what the person has not told yet."""
    missing = [ask for ask, known in (
        ("what you do now", profile.role is not None or profile.codes is not None),
        ("how you feel about coding", profile.codes is not None),
        ("how you feel about math", profile.math is not None),
        ("what you'd like to build", profile.interest is not None or profile.goal is not None)) if not known]
    if not missing:
        missing = ["what you enjoy in your work and what draws you to this field"]
    listed = missing[0] if len(missing) == 1 else ", ".join(missing[:-1]) + " and " + missing[-1]
    return f"_For a verdict on you, tell me a bit more: {listed}._"


def _last_reply(state: ConversationState) -> Draft:
    """The bot's last reply in this conversation with the sources its [n] markers point to."""
    return Draft(state.last_answer, [Source(title=x["title"], url=x.get("url", ""), author=x.get("author", ""))
                                     for x in state.last_sources])


def _repeats(text: str, earlier: str) -> bool:
    """Whether a draft mostly says again what the earlier reply said: its lead and at least half of
    its cited passages appear there word for word."""
    sentences = [x.strip() for x in re.split(r"\s*\[\d+\]\s*", text) if len(x.split()) >= 4]
    if not sentences or not earlier or sentences[0] not in earlier:
        return False
    return sum(x in earlier for x in sentences) * 2 >= len(sentences)


def _asks_something(text: str, asks: dict[str, float]) -> bool:
    """Whether a message that mentions its writer asks a question rather than only describing them.

    Mid-conversation the learned request reading also counts: "salary in that job for a person like
    me" reads as a question about pay, not as a new self-description to judge.
    """
    if "?" in text or _REQUEST.search(text) or _INTERROGATIVE.search(text):
        return True
    return bool(asks) and asks.get("question", 0.0) > asks.get("own_verdict", 0.0)


def _with(reply: Reply, **changes: Any) -> Reply:
    return replace(reply, **changes)

