"""Usage and feedback figures over the store, shared by `careerbot report` and the admin dashboard.

Why one module: the command line and the dashboard must never disagree, so both read the same
`UsageReport` / `FeedbackReport` built here, and the CSV export of either is written here once.
It reads the store only; it needs neither the embedding model nor the index.
"""

from __future__ import annotations

import calendar
import csv
import io
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from bot.store.base import FeedbackRow, Store

__all__ = ["FeedbackReport", "UsageReport", "feedback_csv", "feedback_report", "feedback_text", "usage_csv",
           "usage_report", "usage_text"]

_DAY = 86400.0
_SNIPPET = 160


@dataclass(frozen=True)
class UsageReport:
    """Replies by day, platform and intent over the last `days` days (UTC), and what they show."""

    since_day: str
    days: int
    rows: list[tuple[str, str, str, int, int]]  # (day, platform, intent, replies, llm fallbacks)
    out_of_scope: list[tuple[str, int, float]]  # (question, times, last asked)
    quiz_verdicts: dict[str, int]
    llm_fallbacks: list[tuple[str, str, int]]  # (day, reason, count)
    day_list: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(r[3] for r in self.rows)

    def by(self, column: int) -> dict[str, int]:
        """Totals by platform (1) or intent (2), largest first."""
        counts: Counter[str] = Counter()
        for row in self.rows:
            counts[row[column]] += row[3]
        return dict(counts.most_common())

    def per_day(self, column: int) -> dict[str, dict[str, int]]:
        """{day: {platform or intent: replies}} for every day of the period, empty days included."""
        table: dict[str, dict[str, int]] = {day: {} for day in self.day_list}
        for row in self.rows:
            cell = table.setdefault(row[0], {})
            cell[row[column]] = cell.get(row[column], 0) + row[3]
        return table


@dataclass(frozen=True)
class FeedbackReport:
    """Every voted answer, worst-rated first, and the vote totals."""

    rows: list[FeedbackRow]

    @property
    def helpful(self) -> int:
        return sum(r.helpful for r in self.rows)

    @property
    def not_helpful(self) -> int:
        return sum(r.not_helpful for r in self.rows)


def _day(ts: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(ts))


def usage_report(store: Store, days: int = 30, *, now: float | None = None) -> UsageReport:
    """The last `days` days, today included."""
    days = max(1, int(days))
    now = time.time() if now is None else now
    start = now - (days - 1) * _DAY
    since_day = _day(start)
    since = float(calendar.timegm(time.strptime(since_day, "%Y-%m-%d")))  # that day's midnight, UTC
    verdicts = Counter(str(result.get("label") or "unknown") for _, result in store.quiz_results_since(since))
    return UsageReport(
        since_day=since_day,
        days=days,
        rows=store.usage_counts(since_day),
        out_of_scope=store.out_of_scope_questions(since_day),
        quiz_verdicts=dict(verdicts.most_common()),
        llm_fallbacks=store.llm_fallback_counts(since_day),
        day_list=[_day(start + i * _DAY) for i in range(days)],
    )


def feedback_report(store: Store, limit: int = 100) -> FeedbackReport:
    return FeedbackReport(rows=store.feedback_rows(limit))


def _snippet(text: str, width: int = _SNIPPET) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1].rstrip() + "…"


def _cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run: user text starting with = + - @ is prefixed with '."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()


def feedback_csv(report: FeedbackReport) -> str:
    return _csv(("answer_id", "created_utc", "platform", "intent", "helpful", "not_helpful", "question", "answer"),
                ((r.answer_id, time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(r.created_at)), r.platform, r.intent,
                  r.helpful, r.not_helpful, r.question, r.text) for r in report.rows))


def usage_csv(report: UsageReport) -> str:
    """One row per (day, platform, intent); the out-of-scope questions and verdicts follow as their own rows."""
    rows: list[tuple[object, ...]] = [("replies", d, p, i, n, f) for d, p, i, n, f in report.rows]
    rows += [("out_of_scope", _day(last), "", q, n, "") for q, n, last in report.out_of_scope]
    rows += [("quiz_verdict", report.since_day, "", label, n, "") for label, n in report.quiz_verdicts.items()]
    rows += [("llm_fallback", d, "", reason, n, n) for d, reason, n in report.llm_fallbacks]
    return _csv(("kind", "day", "platform", "intent_or_text", "count", "llm_fallbacks"), rows)


def feedback_text(report: FeedbackReport) -> str:
    if not report.rows:
        return "No feedback yet: nobody has pressed Helpful or Not helpful."
    lines = [f"{len(report.rows)} answers with votes: {report.helpful} helpful, {report.not_helpful} not helpful "
             "(worst-rated first)", ""]
    for r in report.rows:
        lines.append(f"-{r.not_helpful} +{r.helpful}  {r.platform or '?'}/{r.intent or '?'}  "
                     f"{_day(r.created_at)}  {r.answer_id}")
        lines.append(f"    Q: {_snippet(r.question)}")
        lines.append(f"    A: {_snippet(r.text)}")
    return "\n".join(lines)


def usage_text(report: UsageReport) -> str:
    lines = [f"Replies since {report.since_day} ({report.days} days, UTC): {report.total}"]
    if report.total:
        lines.append("By platform: " + ", ".join(f"{k} {v}" for k, v in report.by(1).items()))
        lines.append("By intent:   " + ", ".join(f"{k} {v}" for k, v in report.by(2).items()))
        lines.append("")
        lines.append(f"{'day':<11} {'platform':<10} {'intent':<14} {'replies':>7} {'llm fallbacks':>13}")
        lines += [f"{d:<11} {p:<10} {i:<14} {n:>7} {f:>13}" for d, p, i, n, f in report.rows]
    lines.append("")
    if report.out_of_scope:
        lines.append("Questions answered out of scope (most asked first):")
        lines += [f"  {n:>3}x  {_snippet(q, 100)}" for q, n, _ in report.out_of_scope]
    else:
        lines.append("Questions answered out of scope: none")
    verdicts = ", ".join(f"{k} {v}" for k, v in report.quiz_verdicts.items()) or "none"
    lines.append(f"Quiz verdicts: {verdicts}")
    fallbacks = sum(n for _, _, n in report.llm_fallbacks)
    reasons: Counter[str] = Counter()
    for _, reason, n in report.llm_fallbacks:
        reasons[reason] += n
    lines.append(f"LLM fallbacks: {fallbacks}" + (" (" + ", ".join(f"{k} {v}" for k, v in reasons.items()) + ")"
                                                   if fallbacks else ""))
    return "\n".join(lines)
