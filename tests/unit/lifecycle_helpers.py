"""Build cases in every state by walking the real lifecycle (no hand-made projections)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from agent_tui.domain.case import (
    Address,
    AppealType,
    Case,
    Intake,
    Role,
    Satisfaction,
    Status,
    validate_intake,
)
from agent_tui.domain.lifecycle import Command, Step, apply, register

T0 = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)  # 09:00 in Zhumadian
DEPT = "CGJ"
#: The co-department (协办) of the dispatches here.
CO_DEPT = "GAJ"

INTAKE = Intake(
    appeal_type=AppealType.COMPLAINT,
    content="金山路与骏达路交叉口北侧商铺张贴小广告",
    caller_phone="13912345678",
    category="0105",
    address=Address(county="驿城区", road="金山路与骏达路交叉口"),
)


def registered(uuid: str = "case-1", at: datetime = T0) -> Case:
    case, _ = register(
        validate_intake(INTAKE), uuid=uuid, actor="agent1", role=Role.AGENT, at=at, number="N1"
    )
    return case


def good_command(step: Step, role: Role, case: Case, at: datetime | None = None) -> Command:
    """A command with every parameter ``step`` needs, as a careful user would send it."""
    at = at or (case.registered_at or T0) + timedelta(hours=1) * (case.version)
    actor = {Role.DEPARTMENT: "dept1", Role.LEAD: "lead1", Role.SYSTEM: "system"}.get(
        role, "agent1"
    )
    base = Command(step, actor, role, at, actor_department=DEPT if role is Role.DEPARTMENT else "")
    deadline = at + timedelta(days=7)
    params: dict[str, object] = {
        Step.REFUSE: {"reason": "属于诉讼范畴，请向法院起诉"},
        Step.RESOLVE: {"result": "已告知供水抢修电话"},
        Step.DISPATCH: {
            "department": DEPT,
            "sign_deadline": at + timedelta(days=1),
            "return_deadline": at + timedelta(days=2),
            "handling_deadline": deadline,
            "co_departments": (CO_DEPT,),
            "co_opinion_deadline": at + timedelta(days=2),
        },
        Step.REQUEST_RETURN: {"reason": "不属于本单位职责"},
        Step.REFUSE_RETURN: {"reason": "属于本单位职责范围"},
        Step.REQUEST_EXTENSION: {
            "reason": "需协调多个单位",
            "new_deadline": (case.handling_deadline or deadline) + timedelta(days=5),
        },
        Step.APPROVE_EXTENSION: {},
        Step.REFUSE_EXTENSION: {"reason": "理由不充分"},
        Step.REPLY: {"result": "已清理小广告并约谈商户"},
        Step.REVIEW_FAIL: {"reason": "答复未说明处理结果"},
        Step.CALLBACK: {"reached": True},
        Step.RATE: {"satisfaction": Satisfaction.SATISFIED},
        Step.REOPEN: {"reason": "群众反映问题仍存在", "handling_deadline": deadline},
        Step.SUPERVISE: {"reason": "领导交办"},
        Step.URGE: {"reason": "来电人说已过去三天仍无人处理"},
        Step.SUPPLEMENT: {"reason": "来电人补充：小广告在每天早上六点张贴"},
        Step.CO_OPINION: {
            "actor_department": CO_DEPT,
            "opinion": "已派员配合主办单位到现场核实",
            "officer": "李警官",
        },
    }.get(step, {})  # type: ignore[assignment]
    return replace(base, **params)  # type: ignore[arg-type]


#: How to reach each state from REGISTERED: (step, role, extra params).
PATHS: dict[Status, list[tuple[Step, Role, dict[str, object]]]] = {
    Status.REGISTERED: [],
    Status.REFUSED: [(Step.REFUSE, Role.AGENT, {})],
    Status.RESOLVED: [(Step.RESOLVE, Role.AGENT, {})],
    Status.DISPATCHED: [(Step.DISPATCH, Role.AGENT, {})],
    Status.RETURN_REQUESTED: [
        (Step.DISPATCH, Role.AGENT, {}),
        (Step.REQUEST_RETURN, Role.DEPARTMENT, {}),
    ],
    Status.RETURNED: [
        (Step.DISPATCH, Role.AGENT, {}),
        (Step.REQUEST_RETURN, Role.DEPARTMENT, {}),
        (Step.APPROVE_RETURN, Role.LEAD, {}),
    ],
    Status.IN_PROGRESS: [(Step.DISPATCH, Role.AGENT, {}), (Step.SIGN, Role.DEPARTMENT, {})],
    Status.EXTENSION_REQUESTED: [
        (Step.DISPATCH, Role.AGENT, {}),
        (Step.SIGN, Role.DEPARTMENT, {}),
        (Step.REQUEST_EXTENSION, Role.DEPARTMENT, {}),
    ],
    Status.REPLIED: [
        (Step.DISPATCH, Role.AGENT, {}),
        (Step.SIGN, Role.DEPARTMENT, {}),
        (Step.REPLY, Role.DEPARTMENT, {}),
    ],
    Status.CALLBACK_PENDING: [
        (Step.DISPATCH, Role.AGENT, {}),
        (Step.SIGN, Role.DEPARTMENT, {}),
        (Step.REPLY, Role.DEPARTMENT, {}),
        (Step.REVIEW_PASS, Role.AGENT, {}),
    ],
    Status.CALLED_BACK: [
        (Step.DISPATCH, Role.AGENT, {}),
        (Step.SIGN, Role.DEPARTMENT, {}),
        (Step.REPLY, Role.DEPARTMENT, {}),
        (Step.REVIEW_PASS, Role.AGENT, {}),
        (Step.CALLBACK, Role.AGENT, {}),
    ],
    Status.RATED: [
        (Step.DISPATCH, Role.AGENT, {}),
        (Step.SIGN, Role.DEPARTMENT, {}),
        (Step.REPLY, Role.DEPARTMENT, {}),
        (Step.REVIEW_PASS, Role.AGENT, {}),
        (Step.CALLBACK, Role.AGENT, {}),
        (Step.RATE, Role.AGENT, {"satisfaction": Satisfaction.DISSATISFIED}),
    ],
    Status.ARCHIVED: [(Step.RESOLVE, Role.AGENT, {}), (Step.ARCHIVE, Role.AGENT, {})],
}


def case_in(status: Status) -> Case:
    case = registered()
    for step, role, extra in PATHS[status]:
        case, _ = apply(case, replace(good_command(step, role, case), **extra))  # type: ignore[arg-type]
    assert case.status is status
    return case
