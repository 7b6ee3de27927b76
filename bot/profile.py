"""What a person has said about themselves, as structured facts with the words they came from.

The fit verdict, the learning plan and follow-up answers all need the same facts (does this person
code, how do they feel about math, how much time do they have, why do they want this), and a
conversation builds them up over several messages. `Profile` holds them; `read_profile` extracts
them from text; `Profile.merge` folds a new message's facts into what the conversation already knew,
newer statements winning.

Every fact keeps its quote so an explanation can show the person which of their words it read, and
so a wrong reading is visible instead of hidden inside a score.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.fit.signals import ClauseReading

__all__ = ["CONSTRAINTS", "MOTIVES", "PATTERN_FACTS", "Profile", "read_profile", "states_time"]

PATTERN_FACTS = frozenset({"role", "coding_years", "hours_per_week", "weeks"})  # read by pattern, not by meaning
MOTIVES = ("curiosity", "money", "shortcut")
CONSTRAINTS = ("stability", "hours", "family", "not_job_seeking")


@dataclass(frozen=True)
class Profile:
    """Facts about one person. None means "not said"; every set field has an entry in `quotes`.

    Attributes:
        role: current job or situation in their words ("backend developer", "nurse", "student").
        role_codes: whether that job involves writing code (a title is evidence only of the job).
        codes: whether the person writes code at all (job, hobby or study); False = never coded.
        coding_years: years of coding; 0 for none.
        math: -1 dislikes or is weak at math, 0 neutral or rusty, +1 comfortable or strong.
        interest: "build" (products on existing models), "train" (training models), or None.
        motives: subset of MOTIVES.
        constraints: subset of CONSTRAINTS.
        hours_per_week: study time available per week.
        weeks: the time frame they gave, in weeks (a deadline or "in six months").
        goal: what they want, in their words.
        quotes: field name -> the words the fact was read from.
    """

    role: str | None = None
    role_codes: bool | None = None
    codes: bool | None = None
    coding_years: float | None = None
    math: int | None = None
    interest: str | None = None
    motives: tuple[str, ...] = ()
    constraints: tuple[str, ...] = ()
    hours_per_week: float | None = None
    weeks: float | None = None
    goal: str | None = None
    quotes: dict[str, str] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return not self.quotes

    def merge(self, newer: Profile) -> Profile:
        """This profile updated by `newer`: a fact the newer text states replaces the older one."""
        changes: dict[str, Any] = {}
        for f in fields(self):
            if f.name == "quotes":
                continue
            value = getattr(newer, f.name)
            if f.name in ("motives", "constraints"):
                if value:
                    changes[f.name] = tuple(dict.fromkeys(getattr(self, f.name) + value))
            elif value is not None:
                changes[f.name] = value
        return replace(self, **changes, quotes={**self.quotes, **newer.quotes})

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["motives"] = list(self.motives)
        data["constraints"] = list(self.constraints)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Profile:
        """The inverse of `as_dict`; unknown keys (from a newer version) are ignored."""
        if not data:
            return cls()
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        kwargs["motives"] = tuple(kwargs.get("motives") or ())
        kwargs["constraints"] = tuple(kwargs.get("constraints") or ())
        kwargs["quotes"] = dict(kwargs.get("quotes") or {})
        return cls(**kwargs)


# --- reading a profile from text ---------------------------------------------------------------
_NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                 "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
                 "a couple of": 2, "a couple": 2, "a few": 3, "few": 3, "several": 4, "half a": 0.5}
_NUM = r"(\d+(?:\.\d+)?|" + "|".join(sorted(map(re.escape, _NUMBER_WORDS), key=len, reverse=True)) + r")"
_UNIT_WEEKS = {"day": 1 / 7, "week": 1.0, "wk": 1.0, "month": 4.35, "mo": 4.35, "year": 52.0, "yr": 52.0}
_YEARS_CODING = re.compile(
    _NUM + r"\+?\s*(?:-\s*\d+\s*)?(?:years?|yrs?|yoe|y)\b(?:\s+(?:of|in|as|doing|writing|at))?"
    r"(?P<what>[^.;!?]{0,40})", re.IGNORECASE)
_YEARS_BEFORE = re.compile(r"(?P<what>[^.;!?]{0,40}?)\b(?:for|since)\s+(?:about\s+|around\s+|almost\s+|over\s+|nearly\s+)?" + _NUM + r"\+?\s*(?:years?|yrs?)\b",
                           re.IGNORECASE)
_HOURS = re.compile(
    _NUM + r"\s*(?:-\s*\d+\s*)?(?:h|hrs?|hours?)\s*(?:(?:a|an|per|/|each|every|in (?:the|a))\s*(?P<unit>day|night|evening|week|wk|weekend)|"
    r"(?P<adverb>weekly|daily|nightly)\b)",
    re.IGNORECASE)
_TIMEFRAME = re.compile(
    r"(?:\b(?:in|within|by|under|next|over|for the next|in the next|about|around|have|got|give it|spend|"
    r"deadline(?: is)?|timeline(?: is)?|time ?frame(?: is)?|only|first)\s+|\()"
    r"(?:the\s+next\s+|about\s+|around\s+|maybe\s+)?" + _NUM
    + r"\s*(?P<unit>days?|weeks?|wks?|months?|mos?|years?|yrs?)\b"
    # "9 months from now", "is a year enough?": a span counted forward, whatever precedes it
    r"|\b" + _NUM.replace("(", "(?P<ahead>", 1) + r"\s*(?P<unit2>days?|weeks?|wks?|months?|mos?|years?|yrs?)"
    r"\s+(?:from now|enough|tops|at most|max)\b", re.IGNORECASE)
_CODING_CONTEXT = re.compile(r"\b(cod\w*|program\w*|develop\w*|dev|devs|engineer\w*|software|python|java\w*|"
                             r"typescript|backend|frontend|full-?stack|web|swe|sre|devops|experience|"
                             r"in (?:the )?(?:industry|tech))\b", re.IGNORECASE)
_NEGATED_WORK = re.compile(r"\b(zero|no|never|not|without|non|don'?t|can'?t)\b", re.IGNORECASE)
_ROLE = re.compile(
    r"\b(?:(?:i'?m|i am|i'?ve been|i have been|currently|i was)\s+(?:an?|the)|"
    r"(?:i work as|working as|work as|job as|employed as)(?:\s+(?:an?|the))?)\s+"  # "working as accountant"
    r"(?P<role>[a-z][a-z /&+-]{1,40}?)(?=\s*(?:[,.;!?()]|\d|\bwho\b|\bat\b|\bfor\b|\bwith\b|\band\b|\bbut\b|"
    r"\bin\b|\bfrom\b|\bhere\b|\bsince\b|$))"
    r"|^(?P<role2>[a-z][a-z /&+-]{1,30}?)\s+here\b",
    re.IGNORECASE | re.MULTILINE)
# "ux/ui designer, figma all day": a message that opens with a job title and no "I'm a".
_LEADING_ROLE = re.compile(
    r"^\W*(?:(?:hi|hey|hello|yo|so|ok)\W+)?(?P<role>(?:[a-z/+-]+ ){0,3}(?:designer|developer|dev|engineer|analyst|"
    r"nurse|teacher|student|accountant|manager|scientist|researcher|marketer|writer|consultant|sysadmin|"
    r"admin|pharmacist|lawyer|doctor|tester|architect|recruiter|librarian|technician|intern|freelancer))\s*"
    r"(?:,|:|\(|-|\d|\bhere\b|\bfor\b)", re.IGNORECASE)
_NOT_A_ROLE = re.compile(r"\b(bit|lot|little|total|complete|big|huge|fan|beginner|newbie|noob|way|fit|good|bad|kind|"
                         r"sort|people person|mom|dad|parent)\b", re.IGNORECASE)
_CODING_ROLE = re.compile(
    r"\b(developer|dev|programmer|coder|software|swe|sre|devops|backend|back-end|frontend|front-end|full-?stack|"
    r"web|mobile|ios|android|data engineer|data scientist|ml engineer|machine learning engineer|ai engineer|"
    r"engineer in (?:software|tech)|platform engineer|cloud engineer|qa automation|game dev\w*)\b", re.IGNORECASE)
_NOT_SEEKING = re.compile(r"\b(retired|retiree|not looking for a (?:new )?job|just for fun|as a hobby|hobbyist|"
                          r"for my own projects|no plans? to (?:switch|change) jobs?)\b", re.IGNORECASE)
_MONEY = re.compile(r"(\$|\bmoney\b|\bsalar\w*|\bpay\w*\b|\bpaid\b|\brich\b|\bincome\b|\bcash\b|\bsix figures\b|"
                    r"\b\d+k\b)", re.IGNORECASE)
_QUICK = re.compile(r"\b(quick\w*|fast\w*|shortcut|easy|easiest|asap|overnight|soon as possible)\b", re.IGNORECASE)
_FAMILY = re.compile(r"\b(famil\w*|kids?|children|baby|parent\w*|partner|wife|husband|caregiv\w*)\b", re.IGNORECASE)
_HOURS_WORDS = re.compile(r"\b(hours?|overtime|evenings?|weekends?|9[- ]?to[- ]?5|nine to five|crunch|"
                          r"on[- ]call|late nights?)\b", re.IGNORECASE)
_GOAL = re.compile(r"\bi(?:'d| would)? (?:really )?(?:want|wanna|hope|plan|would like|'d like|aim|dream)\s+(?:to\s+)?"
                   r"(?P<goal>[^.;!?]{4,80})", re.IGNORECASE)


def _number(token: str) -> float:
    token = token.lower().strip()
    try:
        return float(token)
    except ValueError:
        return float(_NUMBER_WORDS.get(token, 0))


def _affirmed_coding(text: str) -> bool:
    """Whether `text` names coding work that is not negated just before it ("zero coding" is not)."""
    return any(not _NEGATED_WORK.search(text[max(0, c.start() - 12):c.start()]) for c in _CODING_CONTEXT.finditer(text))


def _coding_years(text: str) -> tuple[float, str] | None:
    """Years of coding, only when the words around the number are about coding or a dev job."""
    for m in _YEARS_CODING.finditer(text):
        # "5 yrs of backend" names the work after the number; "senior swe 10y" just before it. Only
        # within the clause, and not negated: "8 yrs in icu, zero coding" is no years of coding.
        before = re.split(r"[,.;:!?()]|\band\b", text[max(0, m.start() - 30):m.start()])[-1]
        if _affirmed_coding(m.group("what") or "") or (len(before.split()) <= 4 and _affirmed_coding(before)):
            return _number(m.group(1)), (before + m.group(0)).strip()
    for m in _YEARS_BEFORE.finditer(text):
        if _CODING_CONTEXT.search(m.group("what") or ""):
            return _number(m.group(2)), m.group(0).strip()
    return None


def _hours_per_week(text: str) -> tuple[float, str] | None:
    m = _HOURS.search(text)
    if not m:
        return None
    hours = _number(m.group(1))
    unit = (m.group("unit") or {"weekly": "week", "daily": "day", "nightly": "night"}[m.group("adverb").lower()]).lower()
    # "2 h a day" is every day; evenings and nights are taken as working days.
    per_week = hours * 7 if unit == "day" else hours * 5 if unit in ("night", "evening") else \
        hours * 2 if unit == "weekend" else hours
    return per_week, m.group(0).strip()


def _time_frame_weeks(text: str) -> tuple[float, str] | None:
    for m in _TIMEFRAME.finditer(text):
        unit = (m.group("unit") or m.group("unit2")).lower().rstrip("s")
        unit = {"wk": "week", "mo": "month", "yr": "year"}.get(unit, unit)
        weeks = _number(m.group(1) or m.group("ahead")) * _UNIT_WEEKS[unit]
        before = text[max(0, m.start() - 40):m.start()].lower()
        after = text[m.end():m.end() + 25].lower()
        if not m.group(0).lower().startswith("first") and re.search(r"\b(ago|for|been|since|years? of)\s*$", before) or re.match(r"\s*(of|in|as|experience|exp)\b", after):
            continue  # "for 3 years", "4 yrs of python" describe the past, not a time frame
        if re.search(r"\d\s*(h|hrs?|hours?)\s*$", before):
            continue  # "3h a week max" is a pace, not a one-week deadline
        return round(weeks, 1), m.group(0).strip()
    return None


def _role(text: str) -> tuple[str, str] | None:
    for m in _ROLE.finditer(text):
        role = (m.group("role") or m.group("role2") or "").strip(" -/")
        if role and not _NOT_A_ROLE.search(role) and len(role.split()) <= 5:
            return role, m.group(0).strip()
    m = _LEADING_ROLE.match(text)
    if m:
        return m.group("role").strip(" -/"), m.group(0).rstrip(" ,:(-")
    return None


def states_time(clause: str) -> bool:
    """Whether a clause gives study time or a time frame: facts read by pattern, not feelings to classify.

    "10 hrs/week free" says how much time someone has, not that they want short hours at work.
    """
    return bool(_HOURS.search(clause) or _time_frame_weeks(clause))


def read_profile(text: str, readings: Sequence[ClauseReading] = ()) -> Profile:
    """The facts in `text`. `readings` are its clauses' signals (see `bot.fit.signals`).

    Numbers (years, hours, weeks) and the job are read by pattern, since they have a fixed form;
    what the person likes, fears and wants comes from the clause readings, so a job title is only
    ever evidence of what the job is: "I'm a nurse" says nothing about math.
    """
    facts: dict[str, Any] = {}
    quotes: dict[str, str] = {}
    role = _role(text)
    if role:
        facts["role"], quotes["role"] = role
        facts["role_codes"] = bool(_CODING_ROLE.search(role[0]))
        if facts["role_codes"]:
            facts["codes"], quotes["codes"] = True, role[1]
    years = _coding_years(text)
    if years:
        facts["coding_years"], quotes["coding_years"] = years
        if years[0] > 0:
            facts["codes"], quotes["codes"] = True, years[1]
    hours = _hours_per_week(text)
    if hours:
        facts["hours_per_week"], quotes["hours_per_week"] = hours
    frame = _time_frame_weeks(text)
    if frame:
        facts["weeks"], quotes["weeks"] = frame
    goal = _GOAL.search(text)
    if goal:
        facts["goal"], quotes["goal"] = goal.group("goal").strip(), goal.group(0).strip()

    motives: list[str] = []
    constraints: list[str] = []
    strongest: dict[str, ClauseReading] = {}
    for r in readings:
        if r.signal not in strongest or r.confidence > strongest[r.signal].confidence:
            strongest[r.signal] = r
        if r.signal == "motivation" and r.polarity < 0:
            if _MONEY.search(r.clause):
                motives.append("money")
                quotes.setdefault("motives", r.clause)
            if _QUICK.search(r.clause) or not _MONEY.search(r.clause):
                motives.append("shortcut")
                quotes.setdefault("motives", r.clause)
        elif r.signal == "motivation" and r.polarity > 0:
            motives.append("curiosity")
            quotes.setdefault("motives", r.clause)
        elif r.signal in ("pressure", "relearning") and r.polarity < 0:
            kind = "family" if _FAMILY.search(r.clause) else "hours" if _HOURS_WORDS.search(r.clause) else "stability"
            constraints.append(kind)
            quotes.setdefault("constraints", r.clause)
    if _MONEY.search(text) and not motives and re.search(r"\b(only|just|mainly|mostly)\b[^.]{0,30}"
                                                          + _MONEY.pattern, text, re.IGNORECASE):
        motives.append("money")
    not_seeking = _NOT_SEEKING.search(text)
    if not_seeking:
        constraints.append("not_job_seeking")
        quotes.setdefault("constraints", not_seeking.group(0))

    coding = strongest.get("coding")
    if coding is not None and "codes" not in facts:
        facts["codes"], quotes["codes"] = coding.polarity > 0, coding.clause
        if coding.polarity < 0 and re.search(r"\b(never|no|zero|any)\b", coding.clause, re.IGNORECASE):
            facts["coding_years"], quotes["coding_years"] = 0.0, coding.clause
    math = strongest.get("math")
    if math is not None:
        facts["math"], quotes["math"] = math.polarity, math.clause
    build, train = strongest.get("build"), strongest.get("train")
    interests = [r for r in (build, train) if r is not None and r.polarity > 0]
    if interests:
        pick = max(interests, key=lambda r: r.confidence)
        facts["interest"], quotes["interest"] = pick.signal, pick.clause
    return Profile(**facts, motives=tuple(dict.fromkeys(motives)), constraints=tuple(dict.fromkeys(constraints)),
                   quotes=quotes)
