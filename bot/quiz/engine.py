"""The quiz engine: commands and button presses in, `Reply` out, state in the store.

Why every step is load -> check -> compare-and-set: buttons arrive late, twice, from other people
and from other processes (several Discord shards share one database). The session carries a
version, and `store.save_quiz(..., expected_version=...)` only writes if nobody else wrote first;
the loser re-reads and answers "already recorded". Nothing is kept in memory between calls, so a
process killed mid-quiz resumes at the same question after a restart.

Session state (owned here; the store treats it as opaque JSON):
    {"quiz": id, "fingerprint": questions hash, "nonce": 6 hex, "owner": platform user id,
     "order": [question ids], "answers": [option index | -1 skipped | None not reached],
     "index": current position, "status": "active" | "finished", "started_at", "updated_at",
     "version": set by the store}
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bot.messages import Attachment, Button, Inbound, Reply
from bot.quiz import buttons, render
from bot.quiz.chart import render_radar
from bot.quiz.model import Question, QuizDefinition, load_quiz_definition
from bot.quiz.plan import SkillCatalog, build_plan, load_skill_catalog
from bot.quiz.result import QuizResult
from bot.quiz.scoring import LABEL_NAMES, score_answers
from bot.store.base import Store

__all__ = ["QUIZ_COMMANDS", "QuizEngine"]

log = logging.getLogger(__name__)

QUIZ_COMMANDS = ("quiz", "quiz-reset", "quiz-cancel", "quiz-status")
SKIPPED = -1
FINISH_LEASE_SECONDS = 30.0
_SUBCOMMANDS = {
    "": "quiz", "start": "quiz", "resume": "quiz", "continue": "quiz",
    "reset": "quiz-reset", "restart": "quiz-reset", "again": "quiz-reset",
    "cancel": "quiz-cancel", "stop": "quiz-cancel", "quit": "quiz-cancel",
    "status": "quiz-status", "result": "quiz-status",
}  # fmt: skip


class QuizEngine:
    """Runs the fit quiz for every user of every platform on top of a `Store`.

    Args:
        store: durable state (sessions, results).
        quiz_definition: a loaded `QuizDefinition`, or the path of quiz.yaml.
        knowledge: the skills catalogue for the learning plan: a `SkillCatalog`, the path of
            skills.yaml, or its parsed mapping. None: results come without a plan.
        chart_dir: where radar charts are written; None disables charts.
    """

    def __init__(
        self,
        store: Store,
        quiz_definition: QuizDefinition | str | Path,
        knowledge: SkillCatalog | str | Path | Mapping[str, Any] | None = None,
        chart_dir: Path | None = None,
    ) -> None:
        self.store = store
        self.definition = (
            quiz_definition
            if isinstance(quiz_definition, QuizDefinition)
            else load_quiz_definition(quiz_definition)
        )
        if knowledge is None or isinstance(knowledge, SkillCatalog):
            self.catalog = knowledge
        else:
            self.catalog = load_skill_catalog(knowledge)
        self.chart_dir = Path(chart_dir) if chart_dir is not None else None

    @classmethod
    def from_settings(cls, store: Store, settings: Any) -> QuizEngine:
        """The usual wiring: quiz.yaml and skills.yaml from the knowledge dir, charts in the data dir."""
        knowledge_dir = Path(settings.knowledge_dir)
        skills = knowledge_dir / "skills.yaml"
        return cls(
            store,
            knowledge_dir / "quiz.yaml",
            knowledge=skills if skills.exists() else None,
            chart_dir=Path(settings.data_dir) / "charts",
        )

    # --- entry points ----------------------------------------------------------------------
    def handles(self, inbound: Inbound) -> bool:
        """Whether this inbound is the quiz's to answer (a quiz command or a quiz button)."""
        if inbound.action is not None:
            return inbound.action.startswith(buttons.PREFIX)
        return (inbound.command or "") in QUIZ_COMMANDS

    def handle(self, inbound: Inbound) -> Reply:
        """Dispatch a quiz command or a quiz button press."""
        if inbound.action is not None:
            return self.handle_action(inbound)
        return self.handle_command(inbound)

    def handle_command(self, inbound: Inbound) -> Reply:
        """`/quiz` (start or resume; `/quiz reset|cancel|status` also work), `/quiz-reset`,
        `/quiz-cancel`, `/quiz-status`."""
        command = (inbound.command or "quiz").strip().lower()
        if command == "quiz":
            command = _SUBCOMMANDS.get(inbound.text.strip().lower(), "quiz")
        user_key = inbound.user_key
        if command == "quiz-reset":
            return self._start(inbound, fresh=True)
        if command == "quiz-cancel":
            return self._cancel(user_key, replace=False)
        if command == "quiz-status":
            return Reply(text=self.status_text(user_key), intent="quiz", ephemeral=True)
        return self._start(inbound, fresh=False)

    def handle_action(self, inbound: Inbound) -> Reply:
        """A press of one of the quiz's buttons; every invalid press gets a short reply, no change."""
        action = buttons.parse(inbound.action)
        if action is None:
            return _notice("That button isn't one I recognise. Type `/quiz` to start or resume your quiz.")
        if action.owner != buttons.owner_token(inbound.user):
            return _notice("This quiz belongs to someone else. Type `/quiz` to take your own.")
        if action.verb == "r":
            return self._start(inbound, fresh=True, replace=True)
        # A lost compare-and-set means another press landed first: re-read and judge again.
        for _ in range(3):
            reply = self._step(inbound, action)
            if reply is not None:
                return reply
        return _notice("Several presses arrived at once; please press again.")

    def score_sheet(self, answers: str | Sequence[int | None]) -> QuizResult:
        """Score a whole answer sheet, as `careerbot quiz --answers 1,3,2,...` does.

        `answers` are 1-based option numbers in question order (0, None or an empty field =
        skipped), as a list or the CLI's comma-separated text. Missing trailing answers count as
        skipped. Raises ValueError with a one-line message for a bad sheet.
        """
        if isinstance(answers, str):
            fields = [f.strip() for f in answers.split(",")] if answers.strip() else []
            try:
                numbers: list[int | None] = [int(f) if f else None for f in fields]
            except ValueError:
                raise ValueError("answers must be option numbers separated by commas, e.g. 1,3,2") from None
        else:
            numbers = list(answers)
        sheet: list[int | None] = []
        for i, n in enumerate(numbers):
            if n is None or n == 0:
                sheet.append(None)
            elif isinstance(n, int) and n > 0:
                sheet.append(n - 1)
            else:
                raise ValueError(f"answer {i + 1} must be an option number (1, 2, ...) or 0 to skip, got {n!r}")
        digest = hashlib.sha256(repr(sheet).encode()).hexdigest()[:12]
        return self.build_result(sheet, chart_name=f"quiz-sheet-{digest}.png")

    def status_text(self, user_key: str) -> str:
        """One or two sentences on the user's quiz: in progress, last result, or none yet."""
        state = self.store.load_quiz(user_key)
        if state and state.get("status") == "active" and self._compatible(state):
            answers = state["answers"]
            answered = sum(a is not None and a != SKIPPED for a in answers)
            skipped = sum(a == SKIPPED for a in answers)
            return (
                f"Quiz in progress: question {state['index'] + 1} of {len(state['order'])} "
                f"({answered} answered, {skipped} skipped). Type `/quiz` to continue."
            )
        result = self.store.latest_quiz_result(user_key)
        if result:
            fits = result.get("fits") or {}
            label = LABEL_NAMES.get(result.get("label", ""), result.get("label", "unknown"))
            scores = result.get("scores") or {}
            weakest = ", ".join(d for d, _ in sorted(scores.items(), key=lambda kv: kv[1])[:2])
            return (
                f"Last quiz result: {label} (AI-engineer fit {fits.get('ai_engineer', '?')}, "
                f"ML-engineer fit {fits.get('ml_engineer', '?')}); weakest areas: {weakest or 'n/a'}. "
                "Type `/quiz-reset` to take it again."
            )
        return "No quiz taken yet. Type `/quiz` to start: 15 short questions, about three minutes."

    def forget_charts(self, user_key: str) -> int:
        """Delete the user's chart files (the store's `forget_user` covers the rows)."""
        if self.chart_dir is None or not self.chart_dir.exists():
            return 0
        removed = 0
        for path in self.chart_dir.glob(f"quiz-{_user_hash(user_key)}-*.png"):
            path.unlink(missing_ok=True)
            removed += 1
        return removed

    # --- results ---------------------------------------------------------------------------
    def build_result(self, sheet: Sequence[int | None], *, chart_name: str | None = None) -> QuizResult:
        """Score `sheet` (0-based option indices in definition order, None = skipped)."""
        definition = self.definition
        card = score_answers(definition, sheet)
        plan = build_plan(definition, card.label, card.scores, self.catalog)
        chart: str | None = None
        if self.chart_dir is not None and chart_name:
            labels = {d.id: d.label for d in definition.dimensions}
            title = f"Your profile: {LABEL_NAMES[card.label]}"
            chart = str(render_radar(card.scores, labels, self.chart_dir / chart_name, title=title))
        return QuizResult(
            label=card.label,
            scores=card.scores,
            fits=card.fits,
            explanation=render.explanation_text(definition, card),
            chart=chart,
            reasons=card.reasons,
            cautions=card.cautions,
            movers=card.movers,
            plan=plan,
            answered=card.answered,
            total=card.total,
        )

    def result_reply(self, result: QuizResult, owner: str, *, replace: bool) -> Reply:
        attachments = ()
        if result.chart:
            attachments = (
                Attachment(filename="quiz-profile.png", path=Path(result.chart), title="Your quiz profile"),
            )
        return Reply(
            text=render.result_markdown(self.definition, result),
            intent="quiz",
            sources=result.sources,
            buttons=((Button(label="Take it again", value=buttons.encode("r", owner)),),),
            attachments=attachments,
            replace=replace,
            data=result.details(),
        )

    # --- internals -------------------------------------------------------------------------
    def _compatible(self, state: Mapping[str, Any]) -> bool:
        """False when quiz.yaml changed under a running session (questions re-ordered or edited)."""
        return state.get("fingerprint") == self.definition.fingerprint and state.get("quiz") == self.definition.id

    def _new_state(self, inbound: Inbound) -> dict[str, Any]:
        now = time.time()
        return {
            "quiz": self.definition.id,
            "fingerprint": self.definition.fingerprint,
            "nonce": secrets.token_hex(3),
            "owner": inbound.user,
            "order": [q.id for q in self.definition.questions],
            "answers": [None] * len(self.definition.questions),
            "index": 0,
            "status": "active",
            "started_at": now,
            "updated_at": now,
        }

    def _start(self, inbound: Inbound, *, fresh: bool, replace: bool = False) -> Reply:
        user_key = inbound.user_key
        for _ in range(3):
            state = self.store.load_quiz(user_key)
            if state is not None and state.get("status") == "finished":
                reply = self._recover_finished(user_key, state, replace=replace)
                if reply is None:
                    continue
                return reply
            if state is not None and not fresh and self._compatible(state):
                return self._question_reply(
                    state, replace=replace, note=f"Welcome back: picking up at question {state['index'] + 1}."
                )
            note = "The quiz changed since you started it, so it starts over." if state and not fresh else ""
            new = self._new_state(inbound)
            expected = int(state["version"]) if state else 0
            if self.store.save_quiz(user_key, new, expected_version=expected):
                new["version"] = expected + 1
                return self._question_reply(new, replace=replace, note=note)
        return _notice("Your quiz is being updated from somewhere else; type `/quiz` again.")

    def _cancel(self, user_key: str, *, replace: bool) -> Reply:
        had = self.store.load_quiz(user_key) is not None
        self.store.delete_quiz(user_key)
        owner = user_key.split(":", 1)[1] if ":" in user_key else user_key
        text = "Quiz cancelled; its answers were discarded." if had else "You have no quiz in progress."
        return Reply(
            text=text + " Press Start to begin a new one, or type `/quiz`.",
            intent="quiz",
            buttons=((Button(label="Start", value=buttons.encode("r", owner), style="primary"),),),
            replace=replace,
        )

    def _step(self, inbound: Inbound, action: buttons.QuizAction) -> Reply | None:
        """Apply one press; None means a concurrent write won and the caller should retry."""
        user_key = inbound.user_key
        state = self.store.load_quiz(user_key)
        if state is None or state.get("nonce") != action.nonce:
            return self._stale(user_key, state, action)
        if state.get("status") == "finished":
            return self._recover_finished(user_key, state, replace=True)
        if not self._compatible(state):
            return self._start(inbound, fresh=True, replace=True)
        if action.verb == "c":
            return self._cancel(user_key, replace=True)

        index, total = int(state["index"]), len(state["order"])
        q = action.question
        assert q is not None  # parse() guarantees it for a, b and s
        if q != index:
            return self._not_current(state, action)
        if action.verb == "b":
            if index == 0:
                return self._question_reply(state, replace=True, note="This is the first question.")
            state["index"] = index - 1
        elif action.verb == "s":
            state["answers"][index] = SKIPPED
            state["index"] = index + 1
        else:  # answer
            options = self._question(state, index).options
            if action.option is None or action.option >= len(options):
                return _notice("That button isn't one I recognise. Type `/quiz` to see your current question.")
            state["answers"][index] = action.option
            state["index"] = index + 1
        state["updated_at"] = time.time()
        if state["index"] >= total:
            state["status"] = "finished"
            state["finishing_until"] = state["updated_at"] + FINISH_LEASE_SECONDS
        expected = int(state["version"])
        if not self.store.save_quiz(user_key, state, expected_version=expected):
            return None
        state["version"] = expected + 1
        if state["status"] == "finished":
            return self._finish(user_key, state, replace=True)
        return self._question_reply(state, replace=True)

    def _stale(self, user_key: str, state: Mapping[str, Any] | None, action: buttons.QuizAction) -> Reply:
        latest = self.store.latest_quiz_result(user_key)
        if latest and latest.get("nonce") == action.nonce:
            return _notice("That quiz is already finished; your answer was recorded. `/quiz-status` shows the result.")
        if state is not None:
            return self._question_reply(
                dict(state), replace=False, note="That button is from an earlier quiz. Here is your current one."
            )
        return _notice("That quiz is no longer running (it was cancelled or replaced). Type `/quiz` to start again.")

    def _not_current(self, state: dict[str, Any], action: buttons.QuizAction) -> Reply:
        q, index = action.question or 0, int(state["index"])
        if q >= len(state["order"]) or q > index:
            return _notice("That question isn't open yet. Type `/quiz` to see your current question.")
        recorded = state["answers"][q]
        if action.verb == "a" and recorded == action.option:
            note = f"Already recorded your answer to question {q + 1}."
        elif action.verb == "a":
            note = f"Question {q + 1} is already answered; press Back to change it."
        else:
            note = f"Question {q + 1} is behind you."
        return self._question_reply(state, replace=True, note=note)

    def _question(self, state: Mapping[str, Any], position: int) -> Question:
        question = self.definition.question(state["order"][position])
        assert question is not None  # _compatible() checked the fingerprint
        return question

    def _question_reply(self, state: Mapping[str, Any], *, replace: bool, note: str = "") -> Reply:
        index, total = int(state["index"]), len(state["order"])
        question = self._question(state, index)
        previous = state["answers"][index]
        text = render.question_text(
            self.definition, question, index, total, previous if isinstance(previous, int) and previous >= 0 else None
        )
        return Reply(
            text=f"_{note}_\n\n{text}" if note else text,
            intent="quiz",
            buttons=render.question_buttons(state["owner"], state["nonce"], index, question),
            replace=replace,
            data={"quiz": {"question": index + 1, "of": total, "question_id": question.id}},
        )

    def _recover_finished(self, user_key: str, state: dict[str, Any], *, replace: bool) -> Reply | None:
        """A session marked finished whose result may not be saved yet.

        Normally the press that finished it is producing the result right now (a double press of
        the last button lands here): say so. If that finisher died, its lease has run out: take
        the lease over with a compare-and-set, so exactly one caller produces the result.
        """
        now = time.time()
        if float(state.get("finishing_until", 0)) > now:
            return _notice("Already recorded; your result is on its way.")
        state["finishing_until"] = now + FINISH_LEASE_SECONDS
        expected = int(state["version"])
        if not self.store.save_quiz(user_key, state, expected_version=expected):
            return None
        return self._finish(user_key, state, replace=replace)

    def _finish(self, user_key: str, state: Mapping[str, Any], *, replace: bool) -> Reply:
        sheet = [a if isinstance(a, int) and a >= 0 else None for a in state["answers"]]
        # Re-map by question id, so scoring follows the definition's order whatever the session's.
        by_id = dict(zip(state["order"], sheet, strict=True))
        ordered = [by_id.get(q.id) for q in self.definition.questions]
        chart_name = f"quiz-{_user_hash(user_key)}-{state['nonce']}.png"
        result = self.build_result(ordered, chart_name=chart_name)
        self.store.save_quiz_result(user_key, {**result.details(), "nonce": state["nonce"], "finished_at": time.time()})
        self.store.delete_quiz(user_key)
        return self.result_reply(result, str(state["owner"]), replace=replace)


def _user_hash(user_key: str) -> str:
    """Chart files are named by a hash, not the raw platform id."""
    return hashlib.sha256(user_key.encode()).hexdigest()[:16]


def _notice(text: str) -> Reply:
    """A short reply only the presser sees, which leaves the quiz message as it is."""
    return Reply(text=text, intent="quiz", ephemeral=True, replace=False)
