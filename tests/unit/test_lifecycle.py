"""The lifecycle state machine: every step, legal and illegal, for every role."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent_tui.domain.case import (
    OPEN_STATUSES,
    CallbackResult,
    Case,
    Role,
    Satisfaction,
    Status,
    SupervisionLevel,
)
from agent_tui.domain.errors import IllegalStep, StepForbidden, ValidationFailed
from agent_tui.domain.lifecycle import (
    RULES,
    Command,
    Step,
    apply,
    available_steps,
    register,
)

from .lifecycle_helpers import DEPT, INTAKE, T0, case_in, good_command, registered

STEPS = [s for s in Step if s is not Step.REGISTER]


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("role", list(Role))
def test_every_step_from_every_state_for_every_role(status: Status, step: Step, role: Role) -> None:
    case = case_in(status)
    cmd = good_command(step, role, case)
    rule = RULES[step]
    if role not in rule.roles:
        with pytest.raises(StepForbidden) as forbidden:
            apply(case, cmd)
        assert step.label in forbidden.value.message and role.label in forbidden.value.message
        return
    if status not in rule.sources:
        with pytest.raises(IllegalStep) as illegal:
            apply(case, cmd)
        assert not isinstance(illegal.value, StepForbidden)
        # The error names the state, the step and the role.
        assert status.label in illegal.value.message
        assert step.label in illegal.value.message
        assert role.label in illegal.value.message
        return
    if step is Step.DISPATCH and status is Status.DISPATCHED:
        # Already with a department: it must be returned first, never silently re-routed.
        with pytest.raises(IllegalStep):
            apply(case, cmd)
        return
    after, event = apply(case, cmd)
    assert after.version == case.version + 1
    assert event.step is step and event.role is role and event.actor == cmd.actor
    assert event.from_status is status and event.to_status is after.status
    assert event.version == after.version
    assert step in available_steps(case, role, cmd.actor_department)


def test_register_yields_an_event_with_the_whole_case() -> None:
    case, event = register(INTAKE, uuid="u", actor="agent1", role=Role.AGENT, at=T0)
    assert case.status is Status.REGISTERED and case.version == 1
    assert event.step is Step.REGISTER and event.from_status is None
    assert event.changes["content"] == (None, INTAKE.content)
    assert event.changes["agent"] == (None, "agent1")


@pytest.mark.parametrize("role", [Role.DEPARTMENT, Role.ADMIN, Role.SYSTEM])
def test_only_the_centre_registers(role: Role) -> None:
    with pytest.raises(StepForbidden):
        register(INTAKE, uuid="u", actor="x", role=role, at=T0)


def test_the_whole_loop_with_reopen_ends_archived() -> None:
    case = case_in(Status.RATED)  # rated dissatisfied
    case, ev = apply(case, good_command(Step.REOPEN, Role.AGENT, case))
    assert case.status is Status.IN_PROGRESS and case.reopens == 1 and case.replied_at is None
    assert case.satisfaction is None and case.callback_attempts == 0
    for step, role in [
        (Step.REPLY, Role.DEPARTMENT),
        (Step.REVIEW_PASS, Role.LEAD),
        (Step.CALLBACK, Role.AGENT),
        (Step.RATE, Role.AGENT),
        (Step.ARCHIVE, Role.AGENT),
    ]:
        case, ev = apply(case, good_command(step, role, case))
    assert case.status is Status.ARCHIVED and case.satisfaction is Satisfaction.SATISFIED
    assert ev.changes["status"] == (Status.RATED, Status.ARCHIVED)


def test_a_department_never_acts_on_another_departments_case() -> None:
    case = case_in(Status.DISPATCHED)
    cmd = replace(good_command(Step.SIGN, Role.DEPARTMENT, case), actor_department="ZJJ")
    with pytest.raises(StepForbidden, match="不属于本单位"):
        apply(case, cmd)
    assert available_steps(case, Role.DEPARTMENT, "ZJJ") == []
    # Its co-department (协办) gives its opinion, and takes none of the lead's steps.
    co = replace(cmd, actor_department="GAJ")
    with pytest.raises(StepForbidden, match="不属于本单位"):
        apply(case, co)
    assert available_steps(case, Role.DEPARTMENT, "GAJ") == [Step.CO_OPINION]


def test_dispatch_to_a_county_platform_then_on_to_a_department() -> None:
    case = registered()
    cmd = replace(good_command(Step.DISPATCH, Role.AGENT, case), department="", platform="411726")
    case, _ = apply(case, cmd)
    assert case.status is Status.DISPATCHED and case.assigned_platform == "411726"
    assert case.department == "" and case.handling_deadline is None
    # Nobody can sign a case that sits at a platform.
    with pytest.raises(StepForbidden):
        apply(case, good_command(Step.SIGN, Role.DEPARTMENT, case))
    case, _ = apply(case, good_command(Step.DISPATCH, Role.AGENT, case))
    assert case.department == DEPT and case.handling_deadline is not None


def test_dispatch_needs_exactly_one_target() -> None:
    case = registered()
    both = replace(good_command(Step.DISPATCH, Role.AGENT, case), platform="411726")
    with pytest.raises(ValidationFailed) as err:
        apply(case, both)
    assert err.value.errors[0].field == "department"
    neither = replace(good_command(Step.DISPATCH, Role.AGENT, case), department="")
    with pytest.raises(ValidationFailed):
        apply(case, neither)


def test_co_department_cannot_be_the_lead() -> None:
    case = registered()
    cmd = replace(good_command(Step.DISPATCH, Role.AGENT, case), co_departments=(DEPT,))
    with pytest.raises(ValidationFailed, match="协办"):
        apply(case, cmd)


@pytest.mark.parametrize(
    ("status", "step", "role"),
    [
        (Status.REGISTERED, Step.REFUSE, Role.AGENT),
        (Status.DISPATCHED, Step.REQUEST_RETURN, Role.DEPARTMENT),
        (Status.RETURN_REQUESTED, Step.REFUSE_RETURN, Role.LEAD),
        (Status.IN_PROGRESS, Step.REQUEST_EXTENSION, Role.DEPARTMENT),
        (Status.EXTENSION_REQUESTED, Step.REFUSE_EXTENSION, Role.AGENT),
        (Status.REPLIED, Step.REVIEW_FAIL, Role.AGENT),
        (Status.RATED, Step.REOPEN, Role.AGENT),
        (Status.IN_PROGRESS, Step.SUPERVISE, Role.LEAD),
    ],
)
def test_steps_that_need_a_reason_refuse_a_blank_one(
    status: Status, step: Step, role: Role
) -> None:
    case = case_in(status)
    with pytest.raises(ValidationFailed) as err:
        apply(case, replace(good_command(step, role, case), reason="  "))
    assert err.value.errors[0].field == "reason"


def test_return_only_within_the_window() -> None:
    case = case_in(Status.DISPATCHED)
    late = replace(
        good_command(Step.REQUEST_RETURN, Role.DEPARTMENT, case),
        at=case.return_deadline + timedelta(minutes=1),  # type: ignore[operator]
    )
    with pytest.raises(IllegalStep, match="退单时限"):
        apply(case, late)


def test_refused_return_forces_the_sign() -> None:
    case = case_in(Status.RETURN_REQUESTED)
    assert case.signed_at is None
    case, _ = apply(case, good_command(Step.REFUSE_RETURN, Role.LEAD, case))
    assert case.status is Status.IN_PROGRESS and case.signed_at is not None


def test_approved_return_goes_back_for_redispatch() -> None:
    case = case_in(Status.RETURNED)
    assert case.department == "" and case.returns == 1 and case.handling_deadline is None
    case, _ = apply(case, good_command(Step.DISPATCH, Role.AGENT, case))
    assert case.status is Status.DISPATCHED


def test_extension_must_be_asked_before_the_deadline_and_be_later() -> None:
    case = case_in(Status.IN_PROGRESS)
    assert case.handling_deadline is not None
    late = replace(
        good_command(Step.REQUEST_EXTENSION, Role.DEPARTMENT, case), at=case.handling_deadline
    )
    with pytest.raises(IllegalStep, match="超过办理期限"):
        apply(case, late)
    earlier = replace(
        good_command(Step.REQUEST_EXTENSION, Role.DEPARTMENT, case),
        new_deadline=case.handling_deadline - timedelta(hours=1),
    )
    with pytest.raises(ValidationFailed) as err:
        apply(case, earlier)
    assert err.value.errors[0].field == "new_deadline"


def test_approved_extension_moves_the_deadline_refused_keeps_it() -> None:
    case = case_in(Status.EXTENSION_REQUESTED)
    old, asked = case.handling_deadline, case.requested_deadline
    approved, _ = apply(case, good_command(Step.APPROVE_EXTENSION, Role.LEAD, case))
    assert approved.handling_deadline == asked and approved.extensions == 1
    refused, _ = apply(case, good_command(Step.REFUSE_EXTENSION, Role.LEAD, case))
    assert refused.handling_deadline == old and refused.requested_deadline is None


def test_review_fail_sends_it_back_to_the_department() -> None:
    case = case_in(Status.REPLIED)
    case, ev = apply(case, good_command(Step.REVIEW_FAIL, Role.AGENT, case))
    assert case.status is Status.IN_PROGRESS and case.replied_at is None
    assert ev.reason == "答复未说明处理结果"


def test_unreachable_callbacks_retry_then_close_as_unreachable() -> None:
    case = case_in(Status.CALLBACK_PENDING)
    for attempt in (1, 2):
        cmd = replace(good_command(Step.CALLBACK, Role.AGENT, case), reached=False)
        case, _ = apply(case, cmd)
        assert case.status is Status.CALLBACK_PENDING and case.callback_attempts == attempt
    cmd = replace(good_command(Step.CALLBACK, Role.AGENT, case), reached=False)
    case, ev = apply(case, cmd)
    assert case.status is Status.ARCHIVED
    assert case.callback_result is CallbackResult.UNREACHABLE and case.callback_attempts == 3
    assert ev.to_status is Status.ARCHIVED


def test_callback_needs_reached_or_not() -> None:
    case = case_in(Status.CALLBACK_PENDING)
    with pytest.raises(ValidationFailed):
        apply(case, replace(good_command(Step.CALLBACK, Role.AGENT, case), reached=None))


def test_only_a_dissatisfied_case_reopens() -> None:
    case = case_in(Status.CALLED_BACK)
    case, _ = apply(case, good_command(Step.RATE, Role.AGENT, case))  # satisfied
    with pytest.raises(IllegalStep, match="不满意"):
        apply(case, good_command(Step.REOPEN, Role.AGENT, case))
    assert Step.REOPEN not in available_steps(case, Role.AGENT)


def test_resolved_directly_may_be_sampled_for_callback() -> None:
    case = registered()
    cmd = replace(good_command(Step.RESOLVE, Role.AGENT, case), sample_callback=True)
    case, _ = apply(case, cmd)
    assert case.status is Status.CALLBACK_PENDING and case.callback_required


def test_supervision_only_escalates_and_keeps_the_status() -> None:
    case = case_in(Status.IN_PROGRESS)
    case, _ = apply(case, good_command(Step.NOTICE, Role.SYSTEM, case))
    assert case.supervision is SupervisionLevel.NOTICE
    case, ev = apply(case, good_command(Step.REMIND, Role.SYSTEM, case))
    assert case.supervision is SupervisionLevel.NOTICE  # a reminder never lowers it
    assert ev.from_status is ev.to_status is Status.IN_PROGRESS


def test_supervision_is_only_for_open_cases() -> None:
    for status in set(Status) - OPEN_STATUSES:
        case = case_in(status)
        with pytest.raises(IllegalStep):
            apply(case, good_command(Step.REMIND, Role.SYSTEM, case))


def test_a_registered_case_cannot_be_registered_again() -> None:
    case = registered()
    with pytest.raises(IllegalStep):
        apply(case, Command(Step.REGISTER, "agent1", Role.AGENT, T0))


# --- property: no sequence of steps leaves a case in an undefined state -------------------------

commands = st.tuples(
    st.sampled_from(STEPS),
    st.sampled_from(list(Role)),
    st.booleans(),  # reached, for callbacks
    st.sampled_from(list(Satisfaction)),
    st.booleans(),  # to a platform instead of a department, for dispatch
)


@settings(max_examples=300, deadline=None)
@given(st.lists(commands, max_size=40))
def test_no_sequence_of_steps_breaks_the_invariants(seq: list) -> None:  # type: ignore[type-arg]
    case = registered()
    for step, role, reached, satisfaction, to_platform in seq:
        cmd = replace(good_command(step, role, case), reached=reached, satisfaction=satisfaction)
        if step is Step.DISPATCH and to_platform:
            cmd = replace(cmd, department="", platform="411726")
        try:
            after, event = apply(case, cmd)
        except (IllegalStep, ValidationFailed):
            continue  # StepForbidden is an IllegalStep: refused steps leave the case as it was
        assert isinstance(after.status, Status)
        assert after.version == case.version + 1 == event.version
        assert after.supervision >= case.supervision
        assert event.from_status is case.status and event.to_status is after.status
        if after.status in (Status.IN_PROGRESS, Status.EXTENSION_REQUESTED, Status.REPLIED):
            assert after.department and after.signed_at is not None
            assert after.handling_deadline is not None
        if after.status is Status.DISPATCHED:
            # With a department, or waiting at a county platform (which keeps it when it
            # dispatches on to one of its departments).
            assert after.department or after.assigned_platform
        if after.status is Status.ARCHIVED:
            assert after.archived_at is not None
        if after.status is Status.RATED:
            assert after.satisfaction is not None
        if after.status is Status.REPLIED:
            assert after.replied_at is not None and after.result
        case = after


def _answered_on_the_call_then_rated(satisfaction: Satisfaction) -> Case:
    """Resolved directly, sampled for a callback, reached and rated: no department."""
    case = registered()
    case, _ = apply(
        case, replace(good_command(Step.RESOLVE, Role.AGENT, case), sample_callback=True)
    )
    case, _ = apply(case, good_command(Step.CALLBACK, Role.AGENT, case))
    return apply(
        case, replace(good_command(Step.RATE, Role.AGENT, case), satisfaction=satisfaction)
    )[0]


@pytest.mark.parametrize("role", list(Role))
def test_every_step_the_seat_offers_is_one_the_store_accepts(role: Role) -> None:
    """``available_steps`` (the keys a seat shows) and ``apply`` (what the store enforces) say
    the same: the live-view walk found 重办 offered on a case answered on the call, which has no
    department to reopen to, and the store refusing it."""
    department = DEPT if role is Role.DEPARTMENT else ""
    cases = [case_in(status) for status in Status]
    cases += [_answered_on_the_call_then_rated(s) for s in Satisfaction]
    for case in cases:
        for step in available_steps(case, role, department):
            cmd = good_command(step, role, case)
            if step is Step.REOPEN:
                cmd = replace(cmd, reason="群众反映问题仍存在")
            apply(case, cmd)  # raises if the store would refuse what the seat offers
