"""One function per rule (``domain.rules``, ``domain.queues``): overdue, the running deadline
and its countdown, how a deadline reads, which queue holds a case and in which order."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from agent_tui.client.model import CachedCase
from agent_tui.data.indexes import default_reference
from agent_tui.domain.calendar import end_of_day
from agent_tui.domain.case import OPEN_STATUSES, Status
from agent_tui.domain.deadlines import format_at
from agent_tui.domain.queues import (
    CALLBACKS,
    DISPATCHED,
    INCOMING,
    MINE,
    OVERDUE,
    REVIEW,
    SUPERVISION,
    WAITING,
)
from agent_tui.domain.rules import (
    Clock,
    is_overdue,
    running_deadline,
    short_deadline,
    start_of_local_day,
)
from agent_tui.widgets.case_table import CASE_COLUMNS, case_cells
from agent_tui.wire import CasePublic

NOW = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)  # Friday 10:00 in Zhumadian


def test_overdue_from_the_deadline_instant_on_while_open_and_unreplied() -> None:
    deadline = NOW
    assert is_overdue(Status.IN_PROGRESS, deadline, None, NOW)  # the instant itself: late
    assert not is_overdue(Status.IN_PROGRESS, deadline, None, NOW - timedelta(microseconds=1))
    assert not is_overdue(Status.IN_PROGRESS, deadline, NOW, NOW + timedelta(days=1))  # replied
    assert not is_overdue(Status.IN_PROGRESS, None, None, NOW)
    for status in Status:
        if status not in OPEN_STATUSES:
            assert not is_overdue(status, deadline, None, NOW + timedelta(days=1))


def test_the_running_deadline_is_the_sign_deadline_until_signed() -> None:
    sign, handling = NOW + timedelta(minutes=30), NOW + timedelta(days=5)
    waiting = running_deadline(Status.DISPATCHED, sign, handling, None)
    assert waiting is not None and waiting.clock is Clock.SIGN and waiting.at == sign
    assert waiting.minutes_left(NOW) == 30
    working = running_deadline(Status.IN_PROGRESS, sign, handling, None)
    assert working is not None and working.clock is Clock.HANDLING
    assert running_deadline(Status.IN_PROGRESS, sign, handling, NOW) is None  # replied
    assert running_deadline(Status.ARCHIVED, sign, handling, None) is None


def test_an_end_of_day_deadline_reads_as_24_00_of_its_day_everywhere() -> None:
    """The same deadline read ``12-12 00:00`` in a queue and ``12月11日 星期五 24:00 前`` on the
    entry form: both now say the 11th."""
    day = date(2026, 12, 11)
    at = end_of_day(day)
    assert short_deadline(at) == "12-11 24:00"
    assert format_at(at, NOW) == "12月11日 星期五 24:00"
    assert short_deadline(at - timedelta(hours=6, minutes=30)) == "12-11 17:30"
    assert short_deadline(None) == ""
    assert start_of_local_day(NOW) == datetime(2026, 12, 3, 16, 0, tzinfo=UTC)


def _case(status: Status, **over: object) -> CasePublic:
    data: dict[str, object] = {
        "uuid": str(uuid.uuid4()),
        "number": "ZMD-20261204-0001",
        "status": status,
        "appeal_type": "complaint",
        "channel": "phone",
        "urgency": "normal",
        "caller_phone": "13912345678",
        "caller_name": "",
        "gender": "unknown",
        "confidential": False,
        "anonymous": False,
        "category": "0101",
        "address": {},
        "content": "金山路北侧商铺占道经营",
        "platform": "city",
        "agent": "agent01",
        "registered_at": NOW - timedelta(hours=1),
        "department": "CGJ",
        "co_departments": [],
        "assigned_platform": "",
        "dispatched_at": None,
        "sign_deadline": None,
        "return_deadline": None,
        "handling_deadline": None,
        "deadline_provisional": False,
        "signed_at": None,
        "requested_deadline": None,
        "extensions": 0,
        "returns": 0,
        "replied_at": None,
        "result": "",
        "refusal_reason": "",
        "callback_required": False,
        "callback_attempts": 0,
        "callback_result": None,
        "satisfaction": None,
        "reopens": 0,
        "supervision": 0,
        "archived_at": None,
        "version": 1,
        "updated_at": NOW - timedelta(hours=1),
    }
    data.update(over)
    return CasePublic.model_validate(data)


def test_the_countdown_column_says_which_deadline_it_counts() -> None:
    ref = default_reference()
    column = CASE_COLUMNS.index("时限")
    to_sign = _case(
        Status.DISPATCHED,
        sign_deadline=NOW + timedelta(minutes=25),
        handling_deadline=end_of_day(date(2026, 12, 11)),
    )
    cells = case_cells(CachedCase(to_sign), ref, NOW)
    assert cells[column] == "签收 剩 0时25分"
    assert cells[CASE_COLUMNS.index("办理期限")] == "12-11 24:00"
    late = _case(Status.IN_PROGRESS, handling_deadline=NOW - timedelta(days=1, hours=2))
    cells = case_cells(CachedCase(late), ref, NOW)
    assert cells[column] == "答复 超 1天2时"
    assert cells[CASE_COLUMNS.index("状态")] == "办理中·超期"
    assert case_cells(CachedCase(_case(Status.ARCHIVED)), ref, NOW)[column] == ""


@dataclass(frozen=True)
class Holds:
    status: Status
    expected: set[str]


@pytest.mark.parametrize(
    "case",
    [
        Holds(Status.REGISTERED, {"waiting", "mine"}),
        Holds(Status.RETURNED, {"waiting", "mine"}),
        Holds(Status.DISPATCHED, {"dispatched", "incoming", "mine"}),
        Holds(Status.REPLIED, {"review", "mine"}),
        Holds(Status.EXTENSION_REQUESTED, {"dispatched", "review", "mine"}),
        Holds(Status.CALLBACK_PENDING, {"callbacks", "mine"}),
        Holds(Status.ARCHIVED, {"mine"}),
    ],
    ids=lambda h: str(h.status),
)
def test_which_queues_hold_a_case(case: Holds) -> None:
    queues = (MINE, WAITING, DISPATCHED, REVIEW, CALLBACKS, OVERDUE, SUPERVISION, INCOMING)
    public = _case(case.status)
    held = {q.key for q in queues if q.holds(public, "agent01", NOW)}
    assert held == case.expected


def test_time_moves_a_case_into_the_overdue_and_supervision_queues() -> None:
    public = _case(Status.IN_PROGRESS, handling_deadline=NOW + timedelta(hours=3))
    assert SUPERVISION.holds(public, "agent01", NOW)  # due within 24 h
    assert not OVERDUE.holds(public, "agent01", NOW)
    assert OVERDUE.holds(public, "agent01", NOW + timedelta(hours=3))
    assert not MINE.holds(public, "agent01", NOW + timedelta(days=1))  # not today any more
    assert not MINE.holds(public, "agent02", NOW)


def test_deadline_queues_put_the_running_deadline_first_and_ties_never_flip() -> None:
    soon_to_sign = _case(
        Status.DISPATCHED,
        number="ZMD-20261204-0002",
        sign_deadline=NOW + timedelta(minutes=20),
        handling_deadline=NOW + timedelta(days=5),
    )
    working = _case(
        Status.IN_PROGRESS, number="ZMD-20261204-0003", handling_deadline=NOW + timedelta(hours=5)
    )
    twin_a = _case(Status.REGISTERED, number="ZMD-20261204-0004")
    twin_b = _case(Status.REGISTERED, number="ZMD-20261204-0005")
    assert [c.number for c in DISPATCHED.sort([working, soon_to_sign])] == [
        soon_to_sign.number,
        working.number,
    ]
    assert WAITING.sort([twin_a, twin_b]) == WAITING.sort([twin_b, twin_a])
