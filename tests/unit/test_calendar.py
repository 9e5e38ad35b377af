"""The working-day calendar: chinese-calendar, overrides, strict and provisional counting."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent_tui.domain.calendar import (
    SHANGHAI,
    Deadline,
    DeadlineUnit,
    Span,
    WorkCalendar,
    YearSchedule,
    deadline_in_hours,
    deadline_in_minutes,
    due_day,
    end_of_day,
    local_day,
    recompute,
)
from agent_tui.domain.errors import DomainError, OutsideCalendar

CAL = WorkCalendar()


def sh(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(n) for n in range((last - first).days + 1)]


#: A 2027 schedule made up for the tests (the real one is not published): only 元旦 on Friday
#: 2027-01-01 off and Saturday 2027-01-09 worked in lieu.
TEST_2027 = YearSchedule(
    2027, holidays=frozenset({date(2027, 1, 1)}), workdays=frozenset({date(2027, 1, 9)})
)


# --- the library's data, as the calendar sees it ------------------------------------------------


def test_national_day_2025_matches_chinese_calendar() -> None:
    # Facts from chinese-calendar 1.11: Oct 1–8 off, Sun Sep 28 and Sat Oct 11 worked in lieu.
    for day in days(date(2025, 9, 26), date(2025, 10, 15)):
        assert CAL.is_workday(day) == chinese_calendar.is_workday(day), day
    assert [d for d in days(date(2025, 10, 1), date(2025, 10, 8)) if CAL.is_workday(d)] == []
    assert CAL.is_workday(date(2025, 9, 28))  # Sunday make-up workday
    assert CAL.is_workday(date(2025, 10, 11))  # Saturday make-up workday
    assert not CAL.is_workday(date(2025, 9, 27))
    assert not CAL.is_workday(date(2025, 10, 12))
    assert CAL.is_workday(date(2025, 10, 9))


def test_spring_festival_2026_matches_chinese_calendar() -> None:
    # Feb 15 (Sun) – Feb 23 (Mon) off; Sat Feb 14 and Sat Feb 28 worked in lieu.
    for day in days(date(2026, 2, 7), date(2026, 3, 8)):
        assert CAL.is_workday(day) == chinese_calendar.is_workday(day), day
    assert [d for d in days(date(2026, 2, 15), date(2026, 2, 23)) if CAL.is_workday(d)] == []
    assert CAL.is_workday(date(2026, 2, 14))
    assert CAL.is_workday(date(2026, 2, 28))
    assert not CAL.is_workday(date(2026, 3, 1))


def test_five_working_days_across_national_day_2025() -> None:
    # From Tue Sep 30: Oct 9, 10, 11 (Sat, make-up), 13, 14.
    assert CAL.add_working_days(sh(2025, 9, 30, 16, 45), 5) == sh(2025, 10, 15)
    # From Fri Sep 26: Sep 28 (Sun, make-up), 29, 30, Oct 9, 10.
    assert CAL.add_working_days(sh(2025, 9, 26, 9), 5) == sh(2025, 10, 11)


def test_five_working_days_across_spring_festival_2026() -> None:
    # From Fri Feb 13: Feb 14 (Sat, make-up), 24, 25, 26, 27.
    at = CAL.add_working_days(sh(2026, 2, 13, 10), 5)
    assert at == sh(2026, 2, 28)
    assert due_day(at) == date(2026, 2, 27)
    deadline = CAL.deadline_in_working_days(sh(2026, 2, 13, 10), 5)
    assert deadline.at == at and not deadline.provisional
    # One more lands on the Saturday make-up day Feb 28.
    assert CAL.add_working_days(sh(2026, 2, 13, 10), 6) == sh(2026, 3, 1)


def test_counting_starts_the_day_after_whatever_the_hour() -> None:
    assert CAL.add_working_days(sh(2025, 10, 13, 0, 0), 1) == sh(2025, 10, 15)
    assert CAL.add_working_days(sh(2025, 10, 13, 23, 59), 1) == sh(2025, 10, 15)


def test_days_are_judged_in_shanghai_not_in_the_given_zone() -> None:
    # 16:30 UTC on Sat Sep 27 is 00:30 on Sun Sep 28 in Shanghai (a make-up workday).
    start = datetime(2025, 9, 27, 16, 30, tzinfo=UTC)
    assert local_day(start) == date(2025, 9, 28)
    assert CAL.add_working_days(start, 1) == sh(2025, 9, 30)
    assert CAL.add_working_days(start, 1).tzinfo == SHANGHAI


def test_working_days_between_and_next_workday() -> None:
    assert CAL.working_days_between(date(2025, 9, 30), date(2025, 10, 14)) == 5
    assert CAL.working_days_between(date(2025, 10, 14), date(2025, 9, 30)) == -5
    assert CAL.working_days_between(date(2025, 10, 1), date(2025, 10, 1)) == 0
    assert CAL.next_workday(date(2025, 9, 30)) == date(2025, 10, 9)
    assert CAL.next_workday(date(2026, 2, 13)) == date(2026, 2, 14)
    assert CAL.previous_workday(date(2025, 10, 9)) == date(2025, 9, 30)


def test_n_below_one_is_rejected() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        CAL.add_working_days(sh(2025, 1, 6), 0)


# --- uncovered years -----------------------------------------------------------------------------


@pytest.mark.parametrize("year", [2003, 2027, 2100])
def test_is_workday_outside_both_sources_raises_a_clear_error(year: int) -> None:
    assert not CAL.covers(year)
    with pytest.raises(OutsideCalendar) as info:
        CAL.is_workday(date(year, 5, 1))
    assert info.value.year == year
    assert isinstance(info.value, DomainError)
    assert f"{year} 年的节假日安排尚未载入" in info.value.message


def test_strict_add_working_days_raises_when_it_touches_2027() -> None:
    # Five working days from Thu Dec 24 end on Thu Dec 31: 2027 is never touched.
    assert CAL.add_working_days(sh(2026, 12, 24, 10), 5) == sh(2027, 1, 1)
    with pytest.raises(OutsideCalendar) as info:
        CAL.add_working_days(sh(2026, 12, 24, 10), 6)
    assert info.value.year == 2027
    with pytest.raises(OutsideCalendar):
        CAL.working_days_between(date(2026, 12, 30), date(2027, 1, 4))
    with pytest.raises(OutsideCalendar):
        CAL.next_workday(date(2026, 12, 31))


def test_deadline_across_new_year_2027_is_provisional_then_recomputed() -> None:
    start = sh(2026, 12, 24, 10)
    inside = CAL.deadline_in_working_days(start, 5)
    assert not inside.provisional

    guessed = CAL.deadline_in_working_days(start, 6)
    # Weekends alone: Fri 2027-01-01 counts as the 6th working day.
    assert guessed.provisional
    assert guessed.at == sh(2027, 1, 2)
    assert (guessed.start, guessed.amount, guessed.unit) == (start, 6, DeadlineUnit.WORKING_DAYS)

    # Unchanged until the year is loaded.
    assert recompute(guessed, CAL) == guessed

    loaded = CAL.with_schedule(TEST_2027)
    fresh = recompute(guessed, loaded)
    assert not fresh.provisional
    assert fresh.at == sh(2027, 1, 5)  # Jan 1 off: the 6th is Mon Jan 4
    assert loaded.add_working_days(start, 6) == fresh.at
    # The make-up Saturday counts once loaded.
    assert loaded.add_working_days(start, 11) == sh(2027, 1, 10)


def test_clock_deadlines_are_never_provisional_and_recompute_unchanged() -> None:
    late = deadline_in_hours(sh(2026, 12, 31, 23), 24)
    assert late.at == sh(2027, 1, 1, 23)
    assert not late.provisional
    assert recompute(late, CAL) is late
    assert deadline_in_minutes(sh(2026, 12, 31, 23, 50), 15).at == sh(2027, 1, 1, 0, 5)


def test_hours_are_absolute_time_even_across_a_dst_change() -> None:
    new_york = ZoneInfo("America/New_York")
    start = datetime(2026, 3, 7, 12, 0, tzinfo=new_york)  # DST starts Mar 8 in New York
    deadline = deadline_in_hours(start, 24)
    assert deadline.at - start == timedelta(hours=24)
    assert deadline.at.tzinfo == SHANGHAI


def test_naive_datetimes_are_rejected() -> None:
    naive = datetime(2025, 10, 9, 10, 0)
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.add_working_days(naive, 1)
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.deadline_in_working_days(naive, 1)
    with pytest.raises(ValueError, match="timezone-aware"):
        deadline_in_hours(naive, 1)
    with pytest.raises(ValueError, match="timezone-aware"):
        Deadline(at=naive, start=sh(2025, 10, 9), amount=1, unit=DeadlineUnit.HOURS)


# --- overrides -----------------------------------------------------------------------------------


def test_override_wins_over_the_library_for_its_whole_year() -> None:
    # A (made-up) correction of 2025 that has no make-up days.
    correction = YearSchedule(2025, holidays=frozenset(days(date(2025, 10, 1), date(2025, 10, 8))))
    corrected = CAL.with_schedule(correction)
    assert not corrected.is_workday(date(2025, 9, 28))
    assert CAL.is_workday(date(2025, 9, 28))  # the original calendar is unchanged
    assert corrected.is_workday(date(2026, 2, 14))  # other years still come from the library


def test_with_schedule_adds_a_year_and_replaces_an_earlier_one() -> None:
    assert not CAL.covers(2027)
    loaded = CAL.with_schedule(TEST_2027)
    assert loaded.covers(2027)
    assert not loaded.is_workday(date(2027, 1, 1))
    assert loaded.is_workday(date(2027, 1, 9))
    assert loaded.is_workday(date(2027, 1, 4))
    replaced = loaded.with_schedule(YearSchedule(2027))
    assert replaced.is_workday(date(2027, 1, 1))
    assert not replaced.is_workday(date(2027, 1, 9))


def test_two_schedules_for_one_year_are_ambiguous() -> None:
    with pytest.raises(ValueError, match="2027"):
        WorkCalendar([TEST_2027, YearSchedule(2027)])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"holidays": {date(2028, 1, 1)}}, "2028-01-01 is not in 2027"),
        ({"workdays": {date(2026, 12, 26)}}, "2026-12-26 is not in 2027"),
        (
            {"holidays": {date(2027, 1, 9)}, "workdays": {date(2027, 1, 9)}},
            "2027-01-09 is both a holiday and a workday",
        ),
        ({"workdays": {date(2027, 1, 4)}}, "workday 2027-01-04 is a Monday"),
    ],
)
def test_year_schedule_rejects_inconsistent_data(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        YearSchedule(2027, **kwargs)  # type: ignore[arg-type]


def test_span_parse_and_labels() -> None:
    assert Span.parse("15min") == Span.minutes(15)
    assert Span.parse(" 2h ") == Span.hours(2)
    assert Span.parse("5wd") == Span.working_days(5)
    assert Span.working_days(5).label == "5 个工作日"
    assert str(Span.hours(24)) == "24h"
    with pytest.raises(ValueError, match="not a time limit"):
        Span.parse("5 days")
    with pytest.raises(ValueError, match="at least 1"):
        Span.hours(0)


# --- properties ----------------------------------------------------------------------------------

ZONES = st.sampled_from(
    [SHANGHAI, UTC, ZoneInfo("America/New_York"), ZoneInfo("Pacific/Kiritimati")]
)
COVERED_STARTS = st.datetimes(
    min_value=datetime(2005, 1, 1), max_value=datetime(2026, 9, 30), timezones=ZONES
)


@given(start=COVERED_STARTS, n=st.integers(min_value=1, max_value=40))
def test_add_working_days_lands_at_the_end_of_the_nth_workday(start: datetime, n: int) -> None:
    at = CAL.add_working_days(start, n)
    last = due_day(at)
    assert at == end_of_day(last)
    assert CAL.is_workday(last)
    assert last > local_day(start)
    assert CAL.working_days_between(local_day(start), last) == n
    assert CAL.add_working_days(start.astimezone(SHANGHAI), n) == at


@given(start=COVERED_STARTS, n=st.integers(min_value=1, max_value=30))
def test_add_working_days_is_strictly_monotonic_in_n(start: datetime, n: int) -> None:
    assert CAL.add_working_days(start, n) < CAL.add_working_days(start, n + 1)


@given(
    start=st.datetimes(
        min_value=datetime(2026, 10, 1), max_value=datetime(2026, 12, 31, 23, 59), timezones=ZONES
    ),
    n=st.integers(min_value=1, max_value=40),
)
def test_provisional_deadlines_are_monotonic_and_flagged_once_past_2026(
    start: datetime, n: int
) -> None:
    shorter = CAL.deadline_in_working_days(start, n)
    longer = CAL.deadline_in_working_days(start, n + 1)
    assert shorter.at < longer.at
    assert shorter.provisional <= longer.provisional
    assert shorter.provisional == (shorter.at > sh(2027, 1, 1))


@given(
    a=st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 12, 31)),
    b=st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 12, 31)),
    c=st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 12, 31)),
)
def test_working_days_between_is_additive(a: date, b: date, c: date) -> None:
    assert CAL.working_days_between(a, b) == -CAL.working_days_between(b, a)
    assert CAL.working_days_between(a, c) == (
        CAL.working_days_between(a, b) + CAL.working_days_between(b, c)
    )
