"""The profile reader's facts read by pattern: study time and time frames in the ways people write them."""

from __future__ import annotations

import pytest

from bot.profile import read_profile


@pytest.mark.parametrize(("text", "hours", "weeks"), [
    ("I can put in 10 hrs weekly and hope to move within a year", 10.0, 52.0),
    ("2 hours daily, and the switch should happen 6 months from now", 14.0, 26.1),
    ("is 3 months enough if I study 12h per week?", 12.0, 13.0),
    ("about 5 hours a week for the next 10 weeks", 5.0, 10.0),
    ("only 6 hour in the week, ready in 9 months?", 6.0, 39.1),
    ("3h a week max, what can I do in the first 8 weeks?", 3.0, 8.0),
    ("5 hrs a week, so what's the plan for first 6 weeks", 5.0, 6.0),
])
def test_study_time_and_time_frame(text: str, hours: float, weeks: float) -> None:
    profile = read_profile(text)
    assert profile.hours_per_week == hours and profile.weeks == pytest.approx(weeks, abs=0.1)


@pytest.mark.parametrize("text", ["I spent 5 years away from tech", "4 yrs of python behind me", "3 years ago I quit"])
def test_the_past_is_no_time_frame(text: str) -> None:
    assert read_profile(text).weeks is None


@pytest.mark.parametrize(("text", "years"), [
    ("senior swe 10y, distributed systems", 10.0),  # the job just before the number
    ("backend dev 5 yrs, math scares me", 5.0),
    ("4 yrs of python behind me", 4.0),  # the work just after it
])
def test_years_of_coding_next_to_the_job(text: str, years: float) -> None:
    profile = read_profile(text)
    assert profile.coding_years == years and profile.codes


@pytest.mark.parametrize("text", ["teacher, 10y in classrooms, now curious",
                                  "pharmacist, 8 yrs on the ward, zero coding so far"])  # negated work is none
def test_years_next_to_no_coding_word_are_not_coding(text: str) -> None:
    assert read_profile(text).coding_years is None


@pytest.mark.parametrize(("text", "role"), [("I am 45, working as accountant for 20 years.", "accountant"),
                                            ("i work as a nurse in icu", "nurse"), ("im tired of my job", None)])
def test_the_job_with_or_without_an_article(text: str, role: str | None) -> None:
    assert read_profile(text).role == role


@pytest.mark.parametrize(("text", "role"), [("ux/ui designer, figma all day", "ux/ui designer"),
                                            ("hey, android dev for 4 yrs", "android dev"),
                                            ("frontend dev 3 yrs (react)", "frontend dev"),
                                            ("what does a designer do all day?", None)])
def test_a_message_that_opens_with_a_job_title(text: str, role: str | None) -> None:
    assert read_profile(text).role == role
