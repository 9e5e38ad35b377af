"""The RBAC matrix over HTTP: every step × every role that can log in.

For each step a case is walked over HTTP into a state where the step is legal (one path per
step), then every role tries it:

- a role the rules allow gets 200 (each allowed role on its own case in that state);
- a role the rules do not allow gets 403 ``forbidden``, and the message names the step and the
  role in Chinese (the state is untouched);
- a department user of *another* unit gets 404 ``not_found``: it must not even learn that the
  case exists, so visibility is checked before the role (the 404 message names only the uuid);
- the owning department gets 404 too on cases not yet dispatched to it (it cannot see them).

The SYSTEM role (the clock) has no login: its steps are covered by ``test_reports.py``.
"""

from __future__ import annotations

import uuid

import pytest

from agent_tui.domain.case import Role, Status
from agent_tui.domain.lifecycle import RULES, Step
from agent_tui.wire import STEP_BODIES
from tests.api.conftest import Api
from tests.api.helpers import (
    DEPT_USER,
    OTHER_DEPT_USER,
    assert_error,
    case_in,
    new_case,
    step,
    take,
)

ROLE_USERS: dict[Role, str] = {
    Role.AGENT: "agent01",
    Role.LEAD: "lead01",
    Role.DEPARTMENT: DEPT_USER,
    Role.ADMIN: "admin",
    Role.LEADER: "leader01",
}

#: The state each step is tried from (one legal source state per step).
SOURCE: dict[Step, Status] = {
    Step.REFUSE: Status.REGISTERED,
    Step.RESOLVE: Status.REGISTERED,
    Step.DISPATCH: Status.REGISTERED,
    Step.SIGN: Status.DISPATCHED,
    Step.REQUEST_RETURN: Status.DISPATCHED,
    Step.APPROVE_RETURN: Status.RETURN_REQUESTED,
    Step.REFUSE_RETURN: Status.RETURN_REQUESTED,
    Step.REQUEST_EXTENSION: Status.IN_PROGRESS,
    Step.APPROVE_EXTENSION: Status.EXTENSION_REQUESTED,
    Step.REFUSE_EXTENSION: Status.EXTENSION_REQUESTED,
    Step.REPLY: Status.IN_PROGRESS,
    Step.REVIEW_PASS: Status.REPLIED,
    Step.REVIEW_FAIL: Status.REPLIED,
    Step.CALLBACK: Status.CALLBACK_PENDING,
    Step.RATE: Status.CALLED_BACK,
    Step.REOPEN: Status.RATED,
    Step.URGE: Status.IN_PROGRESS,
    Step.SUPPLEMENT: Status.DISPATCHED,
    Step.CO_OPINION: Status.IN_PROGRESS,
    Step.REMIND: Status.IN_PROGRESS,
    Step.SUPERVISE: Status.IN_PROGRESS,
    Step.NOTICE: Status.IN_PROGRESS,
    Step.PUBLIC_NOTICE: Status.IN_PROGRESS,
    Step.ARCHIVE: Status.RATED,
}


def test_the_matrix_covers_every_step_endpoint_from_a_legal_state() -> None:
    assert set(SOURCE) == set(STEP_BODIES) == set(RULES)
    for step_, state in SOURCE.items():
        assert state in RULES[step_].sources, step_


#: The steps tried from each state (one test per state: a test's setup costs more than a step).
#: A co-department's opinion (协办意见) is taken by a department that is not the case's lead,
#: which this matrix's users cannot stand for: ``test_co_opinions.test_who_may_not`` and the
#: test below cover it (the lead 403, the centre 403, an unrelated department 404, the
#: co-department 200).
BY_STATE: dict[Status, list[Step]] = {}
for _step, _state in SOURCE.items():
    if _step is not Step.CO_OPINION:
        BY_STATE.setdefault(_state, []).append(_step)


@pytest.mark.parametrize("state", list(BY_STATE), ids=lambda s: s.value)
def test_only_the_roles_the_rules_allow_may_take_each_step(http: Api, state: Status) -> None:
    for step_ in BY_STATE[state]:
        check_step(http, step_, state)


def check_step(http: Api, step_: Step, state: Status) -> None:
    rule = RULES[step_]
    case = case_in(http, state)
    dept_sees_it = case["department"] == "CGJ"

    for role, user in ROLE_USERS.items():
        if role in rule.roles:
            continue
        r = step(http, case, step_, user)
        if role is Role.DEPARTMENT and not dept_sees_it:
            assert_error(r, 404, "not_found")
            continue
        body = assert_error(r, 403, "forbidden")
        assert f"“{step_.label}”" in body["message"], (step_, body)
        assert f"“{role.label}”" in body["message"], (step_, body)
        assert body["step"] == step_.label and body["role"] == role.label
        assert body["state"] == state.label

    # Another unit's department user does not see the case at all: 404, never 403.
    body = assert_error(step(http, case, step_, OTHER_DEPT_USER), 404, "not_found")
    assert case["uuid"] in body["message"] and state.label not in body["message"]

    unchanged = http.get(f"/api/cases/{case['uuid']}").json()
    assert unchanged["version"] == case["version"] and unchanged["status"] == state.value

    allowed = [role for role in ROLE_USERS if role in rule.roles]
    assert allowed, f"no role with a login may take {step_}"
    for i, role in enumerate(allowed):
        target = case if i == 0 else case_in(http, state)
        r = step(http, target, step_, ROLE_USERS[role])
        assert r.status_code == 200, f"{role} {step_}: {r.text}"
        after = r.json()
        assert after["version"] == target["version"] + 1
        events = http.get(f"/api/cases/{target['uuid']}").json()["events"]
        assert events[-1]["step"] == step_.value and events[-1]["role"] == role.value
        assert events[-1]["actor"] == ROLE_USERS[role]


def test_a_co_department_sees_the_case_but_may_not_take_the_lead_departments_steps(
    http: Api,
) -> None:
    case = new_case(http)
    case = take(http, case, Step.DISPATCH, "agent01", co_departments=["GAJ"])
    seen = http.get(f"/api/cases/{case['uuid']}", OTHER_DEPT_USER)
    assert seen.status_code == 200 and seen.json()["co_departments"] == ["GAJ"]
    body = assert_error(step(http, case, Step.SIGN, OTHER_DEPT_USER), 403, "forbidden")
    assert "“签收”" in body["message"] and "“承办单位”" in body["message"]
    take(http, case, Step.SIGN, DEPT_USER)
    # Its own step is the opinion (协办意见); the lead department may not give one.
    body = assert_error(step(http, case, Step.CO_OPINION, DEPT_USER), 403, "forbidden")
    assert "“协办意见”" in body["message"]
    take(http, case, Step.CO_OPINION, OTHER_DEPT_USER)


def test_a_step_from_a_wrong_state_is_409_illegal_step_naming_state_step_and_role(
    http: Api,
) -> None:
    case = new_case(http)
    body = assert_error(step(http, case, Step.REVIEW_PASS, "agent01"), 409, "illegal_step")
    assert body["state"] == Status.REGISTERED.label
    assert body["step"] == Step.REVIEW_PASS.label and body["role"] == Role.AGENT.label
    assert "“审核通过”" in body["message"] and "“已受理”" in body["message"]

    # A state-dependent rule inside a step: a case with a department is not re-dispatched.
    case = take(http, case, Step.DISPATCH, "agent01")
    body = assert_error(step(http, case, Step.DISPATCH, "agent01"), 409, "illegal_step")
    assert "退单" in body["message"]
    assert http.get(f"/api/cases/{case['uuid']}").json()["version"] == case["version"]


def test_a_stale_version_is_409_version_conflict_carrying_the_current_case(http: Api) -> None:
    case = new_case(http)
    current = take(http, case, Step.REMIND, "lead01")
    body = assert_error(step(http, case, Step.SUPERVISE, "lead01"), 409, "version_conflict")
    assert body["case"]["version"] == current["version"] == case["version"] + 1
    assert body["case"]["uuid"] == case["uuid"] and body["case"]["supervision"] == 1
    assert f"第 {case['version']} 版" in body["message"]
    # Retrying on the version the conflict returned works.
    again = step(http, body["case"], Step.SUPERVISE, "lead01")
    assert again.status_code == 200 and again.json()["version"] == current["version"] + 1


def test_a_version_from_the_future_is_also_a_conflict(http: Api) -> None:
    case = new_case(http)
    r = step(http, case, Step.REMIND, "lead01", version=case["version"] + 5)
    assert assert_error(r, 409, "version_conflict")["case"]["version"] == case["version"]


def test_a_command_id_reused_by_another_user_is_refused(http: Api) -> None:
    case = new_case(http)
    command_id = str(uuid.uuid4())
    take(http, case, Step.REMIND, "lead01", command_id=command_id)
    r = step(http, case, Step.DISPATCH, "agent01", command_id=command_id)
    body = assert_error(r, 422, "validation_failed")
    assert body["errors"][0]["field"] == "command_id"
