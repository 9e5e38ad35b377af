"""Co-departments take part (协办意见): who may give an opinion, when, once, and its deadline."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest

from agent_tui.domain.calendar import SHANGHAI, Span, WorkCalendar
from agent_tui.domain.case import (
    WITH_DEPARTMENT_STATUSES,
    Case,
    DeadlineClass,
    Role,
    Status,
    Urgency,
)
from agent_tui.domain.deadlines import DeadlinePolicy, co_opinion_by, dispatch_deadlines
from agent_tui.domain.errors import IllegalStep, StepForbidden, ValidationFailed
from agent_tui.domain.lifecycle import (
    VERSIONLESS_STEPS,
    Command,
    Step,
    apply,
    available_steps,
)
from agent_tui.domain.queues import ASSISTING, HANDLING, QUEUE_SETS, co_due, co_late
from agent_tui.domain.rules import co_opinion_overdue

from .lifecycle_helpers import DEPT, T0, good_command, registered

CO = "GAJ"
OTHER_CO = "ZJJ"
CAL = WorkCalendar()


def sh(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


def with_co(status: Status = Status.IN_PROGRESS) -> Case:
    """A case dispatched to DEPT with two co-departments, walked on to ``status``."""
    case = registered()
    dispatch = replace(
        good_command(Step.DISPATCH, Role.AGENT, case),
        co_departments=(CO, OTHER_CO),
        co_opinion_deadline=T0 + timedelta(days=2),
    )
    case, _ = apply(case, dispatch)
    if status is Status.IN_PROGRESS:
        case, _ = apply(case, good_command(Step.SIGN, Role.DEPARTMENT, case))
    if status is Status.REPLIED:
        case, _ = apply(case, good_command(Step.SIGN, Role.DEPARTMENT, case))
        case, _ = apply(case, good_command(Step.REPLY, Role.DEPARTMENT, case))
    assert case.status is status
    return case


def opinion(case: Case, department: str = CO, **extra: object) -> Command:
    assert case.dispatched_at is not None
    at = case.dispatched_at + timedelta(hours=3)
    cmd = Command(
        Step.CO_OPINION,
        "gaj01",
        Role.DEPARTMENT,
        at,
        actor_department=department,
        opinion="已派民警到现场核实，配合城管执法",
        officer="李警官",
        phone="0396-2345678",
    )
    return replace(cmd, **extra)  # type: ignore[arg-type]


def test_dispatch_asks_the_co_departments_and_sets_the_deadline() -> None:
    case = with_co(Status.DISPATCHED)
    assert case.co_missing == (CO, OTHER_CO)
    assert case.co_opinion_deadline is not None
    assert case.co_opinions == ()


@pytest.mark.parametrize("status", [Status.DISPATCHED, Status.IN_PROGRESS])
def test_a_co_department_gives_its_opinion_once(status: Status) -> None:
    case = with_co(status)
    assert available_steps(case, Role.DEPARTMENT, CO) == [Step.CO_OPINION]
    after, event = apply(case, opinion(case))
    assert after.status is status  # it decides nothing about the lead's steps
    (given,) = after.co_opinions
    assert (given.department, given.officer, given.phone) == (CO, "李警官", "0396-2345678")
    assert given.at == opinion(case).at
    assert after.co_missing == (OTHER_CO,)
    assert event.step is Step.CO_OPINION and "co_opinions" in event.changes
    # Once: the step is no longer offered, and a second is refused with the reason.
    assert available_steps(after, Role.DEPARTMENT, CO) == []
    with pytest.raises(IllegalStep, match="已提交协办意见"):
        apply(after, opinion(after))
    # The other co-department still may.
    assert available_steps(after, Role.DEPARTMENT, OTHER_CO) == [Step.CO_OPINION]
    both, _ = apply(after, opinion(after, OTHER_CO))
    assert both.co_missing == ()


def test_the_lead_department_and_strangers_may_not() -> None:
    case = with_co()
    # The lead department's own steps do not include an opinion on its own case.
    assert Step.CO_OPINION not in available_steps(case, Role.DEPARTMENT, DEPT)
    with pytest.raises(StepForbidden, match="不是该工单的协办单位"):
        apply(case, opinion(case, DEPT))
    with pytest.raises(StepForbidden):
        apply(case, opinion(case, "SWJ"))
    # A co-department takes none of the lead's steps.
    assert available_steps(case, Role.DEPARTMENT, CO) == [Step.CO_OPINION]
    with pytest.raises(StepForbidden):
        apply(case, replace(good_command(Step.REPLY, Role.DEPARTMENT, case), actor_department=CO))
    # The centre does not write a department's opinion.
    with pytest.raises(StepForbidden):
        apply(case, replace(opinion(case), role=Role.AGENT))


def test_only_while_the_lead_department_holds_the_case() -> None:
    replied = with_co(Status.REPLIED)
    assert available_steps(replied, Role.DEPARTMENT, CO) == []
    with pytest.raises(IllegalStep):
        apply(replied, opinion(replied))
    assert Step.CO_OPINION in VERSIONLESS_STEPS


def test_the_opinion_is_checked_field_by_field() -> None:
    case = with_co()
    with pytest.raises(ValidationFailed) as caught:
        apply(case, opinion(case, opinion=" ", officer="", phone="12345"))
    fields = {e.field: e.code for e in caught.value.errors}
    assert fields == {"opinion": "required", "officer": "required", "phone": "invalid"}
    with pytest.raises(ValidationFailed) as caught:
        apply(case, opinion(case, opinion="长" * 2001, officer="名" * 21))
    assert {e.field for e in caught.value.errors} == {"opinion", "officer"}
    # The phone is optional, and kept normalised when given.
    after, _ = apply(case, opinion(case, phone=""))
    assert after.co_opinions[0].phone == ""
    after, _ = apply(case, opinion(case, phone="139 1234 5678"))
    assert after.co_opinions[0].phone == "13912345678"


def test_a_new_dispatch_or_a_return_asks_afresh() -> None:
    case = with_co(Status.DISPATCHED)
    after, _ = apply(case, opinion(case))
    after, _ = apply(after, good_command(Step.REQUEST_RETURN, Role.DEPARTMENT, after))
    returned, _ = apply(after, good_command(Step.APPROVE_RETURN, Role.LEAD, after))
    assert (returned.co_opinions, returned.co_opinion_deadline, returned.co_missing) == (
        (),
        None,
        (),
    )


def test_the_deadline_is_two_working_days_after_dispatch_or_the_handling_deadline() -> None:
    # Fri 13 Feb 2026, before the Spring Festival: Sat 14 is a make-up workday, 15–23 off.
    dispatched = sh(2026, 2, 13, 10)
    d = dispatch_deadlines(dispatched, DeadlineClass.NORMAL, Urgency.NORMAL, CAL)
    assert co_opinion_by(dispatched, d.handling_by, CAL).at == sh(2026, 2, 25)  # Feb 14, 24
    # An emergency (2 h): due with the reply, not two days later.
    e = dispatch_deadlines(dispatched, DeadlineClass.NORMAL, Urgency.CRITICAL, CAL)
    assert co_opinion_by(dispatched, e.handling_by, CAL) == e.handling_by
    # A centre sets its own window.
    one_day = DeadlinePolicy(co_opinion_window=Span.working_days(1))
    assert co_opinion_by(dispatched, d.handling_by, CAL, one_day).at == sh(2026, 2, 15)
    assert DeadlinePolicy.from_config({"co_opinion_window": "3wd"}).co_opinion_window == (
        Span.working_days(3)
    )


def test_a_missing_opinion_is_overdue_from_its_deadline_while_the_lead_holds_the_case() -> None:
    due = sh(2026, 11, 27)
    for status in WITH_DEPARTMENT_STATUSES:
        assert co_opinion_overdue(status, due, True, due)
        assert not co_opinion_overdue(status, due, True, due - timedelta(minutes=1))
        assert not co_opinion_overdue(status, due, False, due + timedelta(days=3))
    assert not co_opinion_overdue(Status.REPLIED, due, True, due + timedelta(days=1))
    assert not co_opinion_overdue(Status.IN_PROGRESS, None, True, due)


def test_the_desk_keeps_the_cases_it_leads_apart_from_those_it_assists() -> None:
    due = sh(2026, 11, 30)
    now = sh(2026, 11, 27, 10)

    def case(number: str, lead: str, co: tuple[str, ...], owed: tuple[str, ...]) -> object:
        return SimpleNamespace(
            uuid=number,
            number=number,
            status=Status.IN_PROGRESS,
            agent="agent01",
            registered_at=sh(2026, 11, 26, 9),
            updated_at=sh(2026, 11, 26, 9),
            sign_deadline=None,
            handling_deadline=sh(2026, 12, 3),
            replied_at=None,
            department=lead,
            co_departments=co,
            co_missing=[SimpleNamespace(department=d, due=due) for d in owed],
        )

    led = case("N1", CO, (), ())
    given = case("N2", DEPT, (CO,), ())
    owed = case("N3", DEPT, (CO, OTHER_CO), (CO, OTHER_CO))
    assert HANDLING.holds(led, "gaj01", now, department=CO)
    assert not HANDLING.holds(owed, "gaj01", now, department=CO)
    assert [c.number for c in ASSISTING.sort([given, owed], CO)] == ["N3", "N2"]
    assert ASSISTING.holds(owed, "gaj01", now, department=CO)
    assert not ASSISTING.holds(led, "gaj01", now, department=CO)
    assert ASSISTING.server_query("gaj01", now)["co"] == "true"
    assert HANDLING.server_query("gaj01", now)["co"] == "false"
    assert co_due(owed, OTHER_CO) == due and co_due(given, CO) is None
    assert not co_late(owed, now, CO) and co_late(owed, due, CO) and co_late(owed, due)
    assert not co_late(given, due, CO)
    assert QUEUE_SETS[Role.DEPARTMENT][-1] is ASSISTING  # F10: the other keys stay put
