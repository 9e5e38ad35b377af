"""Leader on the line (领导接听): a leader's cases are leader-assigned and supervised at once."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from agent_tui.domain.case import Role, Status, SupervisionLevel, validate_intake
from agent_tui.domain.errors import StepForbidden
from agent_tui.domain.leader import LEADER_MARK, LeaderTally, marks_leader_case, tally
from agent_tui.domain.lifecycle import RULES, Command, Step, apply, available_steps, register
from tests.unit.lifecycle_helpers import INTAKE, T0, case_in, good_command, registered


def leader_case() -> tuple[object, object]:
    return register(
        validate_intake(INTAKE), uuid="l-1", actor="leader01", role=Role.LEADER, at=T0, number="N"
    )


def test_only_the_leader_role_marks_its_cases() -> None:
    assert marks_leader_case(Role.LEADER)
    assert not any(marks_leader_case(r) for r in Role if r is not Role.LEADER)


def test_a_leader_registers_a_marked_case_under_supervision_with_the_reason_in_the_log() -> None:
    case, event = register(
        validate_intake(INTAKE), uuid="l-1", actor="leader01", role=Role.LEADER, at=T0, number="N"
    )
    assert case.leader_assigned and case.supervision is SupervisionLevel.SUPERVISED
    assert (event.actor, event.role, event.reason) == ("leader01", Role.LEADER, LEADER_MARK)
    assert event.changes["leader_assigned"] == (None, True)
    assert event.changes["supervision"] == (None, SupervisionLevel.SUPERVISED)


@pytest.mark.parametrize("role", [Role.AGENT, Role.LEAD])
def test_an_agents_or_leads_case_is_not_marked(role: Role) -> None:
    case, event = register(
        validate_intake(INTAKE), uuid="a-1", actor="x", role=role, at=T0, number="N"
    )
    assert not case.leader_assigned and case.supervision is SupervisionLevel.NONE
    assert event.reason == ""


def test_a_leaders_dispatch_of_an_agents_case_marks_and_supervises_it_in_that_step() -> None:
    case = registered()
    after, event = apply(case, good_command(Step.DISPATCH, Role.LEADER, case))
    assert after.status is Status.DISPATCHED
    assert after.leader_assigned and after.supervision is SupervisionLevel.SUPERVISED
    assert event.reason == LEADER_MARK and event.role is Role.LEADER
    assert event.changes["leader_assigned"] == (False, True)


def test_an_agents_dispatch_keeps_a_leader_case_marked_and_a_higher_level_stays() -> None:
    case, _ = leader_case()
    case = replace(case, supervision=SupervisionLevel.NOTICE)  # type: ignore[type-var]
    after, event = apply(case, good_command(Step.DISPATCH, Role.AGENT, case))  # type: ignore[arg-type]
    assert after.leader_assigned and after.supervision is SupervisionLevel.NOTICE
    assert "leader_assigned" not in event.changes and event.reason == ""
    lead_case = registered()
    led, _ = apply(lead_case, good_command(Step.DISPATCH, Role.LEADER, lead_case))
    again, _ = apply(
        replace(led, status=Status.RETURNED, department=""),
        good_command(Step.DISPATCH, Role.LEADER, led),
    )
    assert again.supervision is SupervisionLevel.SUPERVISED  # never lowered, never twice


def test_a_leader_takes_the_intake_steps_and_not_the_centres_or_departments() -> None:
    intake = {Step.REFUSE, Step.RESOLVE, Step.DISPATCH, Step.URGE, Step.SUPPLEMENT}
    assert {s for s, rule in RULES.items() if Role.LEADER in rule.roles} == intake
    assert set(available_steps(registered(), Role.LEADER)) == {
        Step.REFUSE,
        Step.RESOLVE,
        Step.DISPATCH,
        Step.URGE,
        Step.SUPPLEMENT,
    }
    replied = case_in(Status.REPLIED)
    with pytest.raises(StepForbidden):
        apply(replied, good_command(Step.REVIEW_PASS, Role.LEADER, replied))
    with pytest.raises(StepForbidden):
        apply(
            replied,
            Command(Step.SUPERVISE, "leader01", Role.LEADER, T0, reason="领导交办"),
        )


def test_the_tally_counts_registered_done_open_and_overdue() -> None:
    now = T0 + timedelta(days=30)
    open_late = case_in(Status.IN_PROGRESS)  # deadline 7 days after dispatch: late by now
    open_in_time = replace(open_late, handling_deadline=now + timedelta(days=1))
    replied = case_in(Status.REPLIED)  # under review: not done, not overdue (replied)
    done = [case_in(Status.ARCHIVED), case_in(Status.CALLBACK_PENDING), case_in(Status.REFUSED)]
    got = tally([open_late, open_in_time, replied, *done], now)
    assert got == LeaderTally(registered=6, done=3, open=3, overdue=1)
    assert tally([], now) == LeaderTally()
