"""A case's deadlines: limits by class and urgency, extensions, supervision, descriptions."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent_tui.domain.calendar import (
    SHANGHAI,
    DeadlineUnit,
    Span,
    WorkCalendar,
    YearSchedule,
    recompute,
)
from agent_tui.domain.case import DeadlineClass, SupervisionLevel, Urgency
from agent_tui.domain.deadlines import (
    DEFAULT_POLICY,
    DeadlinePolicy,
    ExtensionRefused,
    describe,
    describe_en,
    dispatch_deadlines,
    effective_class,
    extended_deadline,
    extension_limit,
    format_at,
    handling_deadline,
    notice_at,
    public_notice_at,
    registration_deadlines,
    reminder_at,
    reopen_deadline,
    supervision_due,
)
from agent_tui.domain.errors import DomainError

CAL = WorkCalendar()
#: Made up for the tests: the real 2027 schedule is not published. 元旦 Fri Jan 1 off.
TEST_2027 = YearSchedule(2027, holidays=frozenset({date(2027, 1, 1)}))

E, U, Q, N, C = (
    DeadlineClass.EMERGENCY,
    DeadlineClass.UTILITIES,
    DeadlineClass.INQUIRY,
    DeadlineClass.NORMAL,
    DeadlineClass.COMPLEX,
)


def sh(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=SHANGHAI)


# --- urgency × class -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("deadline_class", "urgency", "expected"),
    [
        (N, Urgency.NORMAL, N),
        (C, Urgency.NORMAL, C),
        (E, Urgency.NORMAL, E),
        (C, Urgency.URGENT, U),
        (Q, Urgency.URGENT, U),
        (E, Urgency.URGENT, E),
        (C, Urgency.CRITICAL, E),
        (U, Urgency.CRITICAL, E),
    ],
)
def test_urgency_only_ever_speeds_a_case_up(
    deadline_class: DeadlineClass, urgency: Urgency, expected: DeadlineClass
) -> None:
    assert effective_class(deadline_class, urgency) is expected


@pytest.mark.parametrize(
    ("deadline_class", "urgency", "dispatch", "sign", "handling"),
    [
        (E, Urgency.NORMAL, Span.hours(1), Span.minutes(15), Span.hours(2)),
        (U, Urgency.NORMAL, Span.hours(2), Span.minutes(30), Span.hours(24)),
        (Q, Urgency.NORMAL, Span.hours(24), Span.working_days(1), Span.working_days(3)),
        (N, Urgency.NORMAL, Span.hours(24), Span.working_days(1), Span.working_days(5)),
        (C, Urgency.NORMAL, Span.hours(24), Span.working_days(1), Span.working_days(15)),
        (N, Urgency.URGENT, Span.hours(2), Span.minutes(30), Span.hours(24)),
        (N, Urgency.CRITICAL, Span.hours(1), Span.minutes(15), Span.hours(2)),
    ],
)
def test_default_limits_follow_the_domain_table(
    deadline_class: DeadlineClass, urgency: Urgency, dispatch: Span, sign: Span, handling: Span
) -> None:
    assert DEFAULT_POLICY.dispatch_limit(deadline_class, urgency) == dispatch
    assert DEFAULT_POLICY.sign_limit(deadline_class, urgency) == sign
    assert DEFAULT_POLICY.handling_limit(deadline_class, urgency) == handling


def test_a_centre_configures_its_own_policy() -> None:
    policy = DeadlinePolicy.from_config(
        {"handling_normal": "7wd", "sign_utilities": "20min", "max_extension_working_days": 5}
    )
    assert policy.handling_limit(N, Urgency.NORMAL) == Span.working_days(7)
    assert policy.sign_limit(U, Urgency.NORMAL) == Span.minutes(20)
    assert policy.max_extension_working_days == 5
    assert policy.handling_limit(C, Urgency.NORMAL) == Span.working_days(15)
    with pytest.raises(ValueError, match="unknown deadline setting"):
        DeadlinePolicy.from_config({"handling_slow": "3wd"})
    with pytest.raises(ValueError, match="reminder_fraction"):
        DeadlinePolicy(reminder_fraction=1.5)


# --- registration, dispatch, reopening ------------------------------------------------------------


def test_registration_sets_the_dispatch_deadline() -> None:
    registered = sh(2026, 2, 13, 10)
    assert registration_deadlines(registered, N, Urgency.NORMAL, CAL).at == sh(2026, 2, 14, 10)
    assert registration_deadlines(registered, U, Urgency.NORMAL, CAL).at == sh(2026, 2, 13, 12)
    assert registration_deadlines(registered, N, Urgency.CRITICAL, CAL).at == sh(2026, 2, 13, 11)


def test_dispatch_across_the_spring_festival_2026() -> None:
    dispatched = sh(2026, 2, 13, 10)  # Fri; Sat Feb 14 is a make-up workday, Feb 15–23 off
    result = dispatch_deadlines(
        dispatched, N, Urgency.NORMAL, CAL, registered_at=sh(2026, 2, 13, 9)
    )
    assert result.dispatch_by is not None and result.dispatch_by.at == sh(2026, 2, 14, 9)
    assert result.sign_by.at == sh(2026, 2, 15)  # end of the make-up Saturday
    assert result.return_by.at == sh(2026, 2, 25)  # Feb 14, Feb 24
    assert result.handling_by.at == sh(2026, 2, 28)  # Feb 14, 24, 25, 26, 27
    assert not result.provisional


def test_an_emergency_cannot_be_returned_after_it_was_due() -> None:
    result = dispatch_deadlines(sh(2025, 10, 9, 10), N, Urgency.CRITICAL, CAL)
    assert result.sign_by.at == sh(2025, 10, 9, 10, 15)
    assert result.handling_by.at == sh(2025, 10, 9, 12)
    assert result.return_by == result.handling_by
    assert result.dispatch_by is None


def test_a_december_complex_case_is_provisional_until_2027_is_loaded() -> None:
    dispatched = sh(2026, 12, 14, 9)  # Mon
    result = dispatch_deadlines(dispatched, C, Urgency.NORMAL, CAL)
    # Dec 15–18, 21–25, 28–31 make 13; Fri Jan 1 (guessed) and Mon Jan 4 make 15.
    assert result.handling_by.at == sh(2027, 1, 5)
    assert result.handling_by.provisional
    assert not result.sign_by.provisional
    assert result.provisional

    fresh = result.recompute(CAL.with_schedule(TEST_2027))
    assert fresh.handling_by.at == sh(2027, 1, 6)  # Jan 1 off: Jan 4, 5
    assert not fresh.provisional
    assert fresh.sign_by == result.sign_by


def test_signing_and_reopening_start_a_fresh_handling_clock() -> None:
    signed = handling_deadline(sh(2025, 9, 30, 16), N, Urgency.NORMAL, CAL)
    assert signed.at == sh(2025, 10, 15)
    reopened = reopen_deadline(sh(2025, 10, 20, 11), Q, Urgency.NORMAL, CAL)
    assert reopened.at == sh(2025, 10, 24)  # Oct 21, 22, 23
    assert (reopened.amount, reopened.unit) == (3, DeadlineUnit.WORKING_DAYS)


# --- extensions ----------------------------------------------------------------------------------

#: From Wed 2025-09-24: Sep 25, 26, 28 (Sun, make-up), 29, 30: due at the end of Tue Sep 30.
#: Ten working days later is Tue Oct 21 (Oct 9–11, 13–17, 20–21).
CURRENT = handling_deadline(sh(2025, 9, 24, 10), N, Urgency.NORMAL, CAL)


def test_current_deadline_for_the_extension_tests() -> None:
    assert CURRENT.at == sh(2025, 10, 1)
    assert extension_limit(CURRENT, CAL).at == sh(2025, 10, 22)


def test_an_extension_within_the_limit_moves_the_deadline() -> None:
    moved = extended_deadline(CURRENT, sh(2025, 10, 21, 18), CAL)
    assert moved.at == sh(2025, 10, 21, 18)
    assert moved.unit is DeadlineUnit.FIXED
    assert moved.start == CURRENT.at
    assert not moved.provisional
    assert recompute(moved, CAL.with_schedule(TEST_2027)) == moved
    # The limit itself is allowed.
    assert extended_deadline(CURRENT, sh(2025, 10, 22), CAL).at == sh(2025, 10, 22)


def test_an_extension_beyond_ten_working_days_is_refused_in_chinese() -> None:
    with pytest.raises(ExtensionRefused) as info:
        extended_deadline(CURRENT, sh(2025, 10, 22, 0, 0, 1), CAL)
    assert isinstance(info.value, DomainError)
    assert info.value.message == "延期最多 10 个工作日：最晚可延至 2025年10月21日 星期二 24:00"


@pytest.mark.parametrize("requested", [sh(2025, 10, 1), sh(2025, 9, 30, 12)])
def test_an_extension_must_be_later_than_the_current_deadline(requested: datetime) -> None:
    with pytest.raises(ExtensionRefused, match="必须晚于当前期限"):
        extended_deadline(CURRENT, requested, CAL)


def test_an_extension_limit_past_2026_is_marked_provisional() -> None:
    current = handling_deadline(sh(2026, 12, 21, 9), N, Urgency.NORMAL, CAL)
    assert current.at == sh(2026, 12, 29)
    with pytest.raises(ExtensionRefused, match="（暂定）"):
        extended_deadline(current, sh(2027, 2, 1), CAL)
    assert extension_limit(current, CAL).provisional
    assert not extension_limit(current, CAL.with_schedule(TEST_2027)).provisional


def test_an_extension_rejects_a_naive_request() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        extended_deadline(CURRENT, datetime(2025, 10, 10), CAL)


# --- reminders and supervision -------------------------------------------------------------------


def test_reminder_for_a_working_day_deadline_is_the_start_of_its_last_working_day() -> None:
    deadline = handling_deadline(sh(2025, 9, 26, 9), N, Urgency.NORMAL, CAL)
    assert deadline.at == sh(2025, 10, 11)
    assert reminder_at(deadline, CAL) == sh(2025, 10, 10)
    two_days = DeadlinePolicy(reminder_working_days=2)
    assert reminder_at(deadline, CAL, two_days) == sh(2025, 10, 9)  # across the holiday
    # Never before the span starts.
    many = DeadlinePolicy(reminder_working_days=20)
    assert reminder_at(deadline, CAL, many) == sh(2025, 9, 26, 9)


def test_reminder_for_a_clock_deadline_is_the_last_quarter() -> None:
    emergency = handling_deadline(sh(2025, 10, 9, 10), E, Urgency.NORMAL, CAL)
    assert reminder_at(emergency, CAL) == sh(2025, 10, 9, 11, 30)
    utilities = handling_deadline(sh(2025, 10, 9, 10), U, Urgency.NORMAL, CAL)
    assert reminder_at(utilities, CAL) == sh(2025, 10, 10, 4)


def test_notices_fall_at_the_start_of_working_days_after_the_deadline() -> None:
    assert CURRENT.due_day == date(2025, 9, 30)
    assert notice_at(CURRENT, CAL) == sh(2025, 10, 9)
    # Late on Oct 9, 10, 11 (Sat, make-up), 13, and the fifth working day Oct 14.
    assert public_notice_at(CURRENT, CAL) == sh(2025, 10, 14)


def test_supervision_levels_rise_over_time() -> None:
    timeline = [
        (sh(2025, 9, 29, 23, 59), SupervisionLevel.NONE),
        (sh(2025, 9, 30), SupervisionLevel.REMINDED),
        (sh(2025, 10, 3), SupervisionLevel.REMINDED),  # missed, but the holiday is no working day
        (sh(2025, 10, 9), SupervisionLevel.NOTICE),
        (sh(2025, 10, 13, 23, 59), SupervisionLevel.NOTICE),
        (sh(2025, 10, 14), SupervisionLevel.PUBLIC_NOTICE),
        (sh(2025, 12, 1), SupervisionLevel.PUBLIC_NOTICE),
    ]
    for now, level in timeline:
        assert supervision_due(now, CURRENT, CAL) is level, now


@given(
    offsets=st.lists(st.integers(min_value=0, max_value=60 * 24 * 40), min_size=2, max_size=2),
    n=st.integers(min_value=1, max_value=15),
)
def test_supervision_never_goes_down_as_time_passes(offsets: list[int], n: int) -> None:
    start = sh(2025, 9, 1, 9)
    deadline = CAL.deadline_in_working_days(start, n)
    early, late = sorted(start + timedelta(minutes=m) for m in offsets)
    assert supervision_due(early, deadline, CAL) <= supervision_due(late, deadline, CAL)


# --- descriptions --------------------------------------------------------------------------------


def test_describe_working_days_left() -> None:
    deadline = handling_deadline(sh(2025, 9, 26, 9), N, Urgency.NORMAL, CAL)
    assert (
        describe(deadline, sh(2025, 9, 26, 9), CAL) == "剩余 5 个工作日（10月10日 星期五 24:00 前）"
    )
    assert describe_en(deadline, sh(2025, 9, 26, 9), CAL) == (
        "5 working days left (by Fri 10 Oct 24:00)"
    )


def test_describe_hours_left_and_overdue() -> None:
    emergency = handling_deadline(sh(2025, 10, 9, 10), E, Urgency.NORMAL, CAL)
    assert describe(emergency, sh(2025, 10, 9, 10, 40), CAL) == (
        "剩余 1 小时 20 分（10月9日 星期四 12:00 前）"
    )
    assert describe(emergency, sh(2025, 10, 9, 15), CAL) == "已超期 3 小时"
    assert describe_en(emergency, sh(2025, 10, 9, 11, 59, 30), CAL).startswith("under 1 min left")
    # Missed on Tue Sep 30; by Sat Oct 11 (make-up day) three working days late: Oct 9, 10, 11.
    assert describe(CURRENT, sh(2025, 10, 11, 10), CAL) == "已超期 3 个工作日"
    assert describe(CURRENT, sh(2025, 10, 14, 10), CAL) == "已超期 5 个工作日"
    # Over the holiday no working day has passed yet.
    assert describe(CURRENT, sh(2025, 10, 5, 10), CAL) == "已超期 5 天"


def test_describe_marks_provisional_deadlines() -> None:
    dispatched = sh(2026, 12, 14, 9)
    deadline = handling_deadline(dispatched, C, Urgency.NORMAL, CAL)
    assert describe(deadline, dispatched, CAL) == (
        "剩余 15 个工作日（2027年1月4日 星期一 24:00 前）（暂定：2027 年节假日未载入）"
    )
    assert describe_en(deadline, dispatched, CAL).endswith(
        "(provisional: 2027 holidays not loaded)"
    )
    loaded = CAL.with_schedule(TEST_2027)
    assert describe(deadline, dispatched, loaded).endswith("（暂定：待重新计算）")
    assert "暂定" not in describe(recompute(deadline, loaded), dispatched, loaded)


def test_format_at_shows_a_midnight_end_as_24_00_of_the_day_before() -> None:
    assert format_at(sh(2025, 10, 11)) == "2025年10月10日 星期五 24:00"
    assert format_at(sh(2025, 10, 11, 8, 5), sh(2025, 10, 1)) == "10月11日 星期六 08:05"
