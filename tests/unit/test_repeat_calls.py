"""Repeat calls about a case (催办 urge, 补充 supplement) and supervising once (督办)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from agent_tui.domain.case import OPEN_STATUSES, Role, Satisfaction, Status, SupervisionLevel
from agent_tui.domain.errors import IllegalStep, StepForbidden, ValidationFailed
from agent_tui.domain.lifecycle import (
    REPEAT_CALL_STEPS,
    Step,
    already_supervised,
    apply,
    available_steps,
    repeat_call_steps,
)
from agent_tui.domain.queues import HANDLING, INCOMING, QUEUE_SETS
from agent_tui.domain.rules import is_finished

from .lifecycle_helpers import case_in, good_command, registered


def test_an_urge_counts_and_keeps_the_state() -> None:
    case = case_in(Status.IN_PROGRESS)
    cmd = good_command(Step.URGE, Role.AGENT, case)
    after, event = apply(case, cmd)
    assert after.status is Status.IN_PROGRESS
    assert (after.urges, after.last_urged_at, after.supplements) == (1, cmd.at, 0)
    assert after.version == case.version + 1
    assert event.step is Step.URGE and event.reason == cmd.reason
    assert event.from_status is event.to_status is Status.IN_PROGRESS
    assert event.changes["urges"] == (0, 1)
    again, _ = apply(after, replace(cmd, at=cmd.at.replace(minute=30)))
    assert again.urges == 2 and again.last_urged_at == cmd.at.replace(minute=30)


def test_a_supplement_counts_and_keeps_the_state() -> None:
    case = case_in(Status.DISPATCHED)
    after, event = apply(case, good_command(Step.SUPPLEMENT, Role.LEAD, case))
    assert (after.status, after.supplements, after.urges) == (Status.DISPATCHED, 1, 0)
    assert after.last_urged_at is None
    assert event.changes == {"supplements": (0, 1)}


@pytest.mark.parametrize("step", sorted(REPEAT_CALL_STEPS))
def test_a_repeat_call_needs_what_the_caller_said(step: Step) -> None:
    case = case_in(Status.IN_PROGRESS)
    for text in ("", "   ", "长" * 501):
        with pytest.raises(ValidationFailed) as refused:
            apply(case, replace(good_command(step, Role.AGENT, case), reason=text))
        assert refused.value.errors[0].field == "reason"


@pytest.mark.parametrize("step", sorted(REPEAT_CALL_STEPS))
@pytest.mark.parametrize("status", [s for s in Status if s not in OPEN_STATUSES])
def test_a_closed_case_takes_no_repeat_call(step: Step, status: Status) -> None:
    case = case_in(status)
    with pytest.raises(IllegalStep) as illegal:
        apply(case, good_command(step, Role.AGENT, case))
    assert "不能催办或补充" in illegal.value.message


@pytest.mark.parametrize("step", sorted(REPEAT_CALL_STEPS))
def test_a_department_does_not_urge(step: Step) -> None:
    case = case_in(Status.IN_PROGRESS)
    with pytest.raises(StepForbidden):
        apply(case, good_command(step, Role.DEPARTMENT, case))


def _rated(satisfaction: Satisfaction, *, direct: bool = False) -> object:
    case = case_in(Status.RATED) if not direct else registered()
    if direct:
        case, _ = apply(
            case, replace(good_command(Step.RESOLVE, Role.AGENT, case), sample_callback=True)
        )
        case, _ = apply(case, good_command(Step.CALLBACK, Role.AGENT, case))
        case, _ = apply(
            case, replace(good_command(Step.RATE, Role.AGENT, case), satisfaction=satisfaction)
        )
        return case
    return replace(case, satisfaction=satisfaction)


def test_repeat_call_offers_urge_on_open_and_reopen_where_the_lifecycle_allows_it() -> None:
    for status in OPEN_STATUSES:
        assert repeat_call_steps(case_in(status), Role.AGENT) == [Step.URGE, Step.SUPPLEMENT]
    assert repeat_call_steps(case_in(Status.IN_PROGRESS), Role.DEPARTMENT) == []
    # Dissatisfied with a department: 重办; answered on the call or satisfied: nothing.
    assert repeat_call_steps(_rated(Satisfaction.DISSATISFIED), Role.AGENT) == [Step.REOPEN]  # type: ignore[arg-type]
    assert repeat_call_steps(_rated(Satisfaction.SATISFIED), Role.AGENT) == []  # type: ignore[arg-type]
    direct = _rated(Satisfaction.DISSATISFIED, direct=True)
    assert repeat_call_steps(direct, Role.AGENT) == []  # type: ignore[arg-type]
    for status in (Status.RESOLVED, Status.ARCHIVED, Status.REFUSED):
        assert repeat_call_steps(case_in(status), Role.AGENT) == []
        assert is_finished(status)


def test_supervise_once() -> None:
    case = case_in(Status.IN_PROGRESS)
    assert not already_supervised(case)
    assert Step.SUPERVISE in available_steps(case, Role.LEAD)
    supervised, _ = apply(case, good_command(Step.SUPERVISE, Role.LEAD, case))
    assert already_supervised(supervised)
    assert Step.SUPERVISE not in available_steps(supervised, Role.LEAD)
    with pytest.raises(IllegalStep) as again:
        apply(supervised, good_command(Step.SUPERVISE, Role.LEAD, supervised))
    assert "已在督办中" in again.value.message
    # Noticed (通报) is under supervision too; a reminder (催办 by the clock) is not yet.
    noticed = replace(case, supervision=SupervisionLevel.NOTICE)
    with pytest.raises(IllegalStep):
        apply(noticed, good_command(Step.SUPERVISE, Role.LEAD, noticed))
    reminded = replace(case, supervision=SupervisionLevel.REMINDED)
    assert apply(reminded, good_command(Step.SUPERVISE, Role.LEAD, reminded))[0].supervision == 2


def test_the_department_queues_put_urged_cases_first() -> None:
    early = case_in(Status.IN_PROGRESS)
    late = replace(
        early,
        uuid="case-2",
        number="N2",
        handling_deadline=early.handling_deadline.replace(year=2027),  # type: ignore[union-attr]
    )
    urged_late, _ = apply(late, good_command(Step.URGE, Role.AGENT, late))
    assert HANDLING.sort([early, urged_late]) == [urged_late, early]
    assert HANDLING.sort([early, late]) == [early, late]  # not urged: by deadline
    for queue in QUEUE_SETS[Role.DEPARTMENT]:
        if queue in (INCOMING, HANDLING):
            assert queue.urged_first
    assert not any(q.urged_first for q in QUEUE_SETS[Role.AGENT])
