"""The lifecycle of a case as a state machine: which step, from which state, by which role.

``register`` creates a case; ``apply`` takes one step. Both return the new case and the event
that records the step (the audit log entry: who, role, when, step, before/after, reason). Nothing
here computes deadlines or reads a clock: the caller passes the instant and any deadline it has
computed with ``agent_tui.domain.deadlines``, so the rules stay deterministic and testable.

A role that may never take a step gets ``StepForbidden`` (HTTP 403); a role that may, but not in
the case's current state, gets ``IllegalStep`` (HTTP 409). Both name the state, step and role.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from agent_tui.domain.case import (
    OFFICER_MAX,
    OPEN_STATUSES,
    REASON_MAX,
    RESULT_MAX,
    WITH_DEPARTMENT_STATUSES,
    CallbackResult,
    Case,
    CoOpinion,
    Intake,
    LabelledEnum,
    ReplyOutcome,
    Role,
    Satisfaction,
    Solved,
    Status,
    SupervisionLevel,
    normalize_phone,
)
from agent_tui.domain.errors import FieldError, IllegalStep, StepForbidden, ValidationFailed
from agent_tui.domain.leader import LEADER_MARK, LEADER_SUPERVISION, marks_leader_case
from agent_tui.domain.outcome import check_callback_answers, check_reply

DEFAULT_MAX_CALLBACK_TRIES = 3


class Step(LabelledEnum):
    REGISTER = "register", "受理"
    REFUSE = "refuse", "不予受理"
    RESOLVE = "resolve", "直接办结"
    DISPATCH = "dispatch", "派单"
    SIGN = "sign", "签收"
    REQUEST_RETURN = "request_return", "申请退单"
    APPROVE_RETURN = "approve_return", "同意退单"
    REFUSE_RETURN = "refuse_return", "驳回退单"
    REQUEST_EXTENSION = "request_extension", "申请延期"
    APPROVE_EXTENSION = "approve_extension", "同意延期"
    REFUSE_EXTENSION = "refuse_extension", "驳回延期"
    REPLY = "reply", "答复"
    CO_OPINION = "co_opinion", "协办意见"
    REVIEW_PASS = "review_pass", "审核通过"
    REVIEW_FAIL = "review_fail", "审核退回"
    CALLBACK = "callback", "回访"
    RATE = "rate", "评价"
    REOPEN = "reopen", "重办"
    URGE = "urge", "来电催办"
    SUPPLEMENT = "supplement", "补充"
    REMIND = "remind", "催办"
    SUPERVISE = "supervise", "督办"
    NOTICE = "notice", "督办通报"
    PUBLIC_NOTICE = "public_notice", "公开通报"
    ARCHIVE = "archive", "归档"


CENTRE = frozenset({Role.AGENT, Role.LEAD})
#: Who takes a call: the centre, and a leader at a seat (领导接听), who registers, answers on
#: the call, refers or dispatches, and takes repeat calls (the centre reviews and calls back).
INTAKE = CENTRE | {Role.LEADER}
DEPT = frozenset({Role.DEPARTMENT})
SUPERVISORS = frozenset({Role.LEAD, Role.SYSTEM})

#: Steps that never change the status (supervision runs beside the lifecycle).
SUPERVISION_STEPS = frozenset({Step.REMIND, Step.SUPERVISE, Step.NOTICE, Step.PUBLIC_NOTICE})
#: A repeat call about an open case (重复来电): the caller urges it (催办) or adds information
#: (补充). They add to the case and decide nothing about it, so they never conflict with a step
#: taken meanwhile: the store adds them to the case as it is now, whatever version the seat saw
#: (still only while the case is open). The seat gives them their own keys, not a digit.
REPEAT_CALL_STEPS = frozenset({Step.URGE, Step.SUPPLEMENT})
#: Steps that add to the case as it is now, whatever version the seat saw (the store checks no
#: version): the repeat calls, and a co-department's opinion (协办意见), which decides nothing
#: about the lead department's steps and must not conflict with them.
VERSIONLESS_STEPS = REPEAT_CALL_STEPS | {Step.CO_OPINION}
#: A co-department's opinion: its text and its handling officer's name.
CO_OPINION_MAX = RESULT_MAX
#: The text a repeat call carries (what the caller said; the information added).
NOTE_MAX = REASON_MAX


@dataclass(frozen=True, slots=True)
class Rule:
    sources: frozenset[Status]
    roles: frozenset[Role]


RULES: Mapping[Step, Rule] = {
    Step.REFUSE: Rule(frozenset({Status.REGISTERED}), INTAKE),
    Step.RESOLVE: Rule(frozenset({Status.REGISTERED}), INTAKE),
    Step.DISPATCH: Rule(frozenset({Status.REGISTERED, Status.RETURNED, Status.DISPATCHED}), INTAKE),
    Step.SIGN: Rule(frozenset({Status.DISPATCHED}), DEPT),
    Step.REQUEST_RETURN: Rule(frozenset({Status.DISPATCHED, Status.IN_PROGRESS}), DEPT),
    Step.APPROVE_RETURN: Rule(frozenset({Status.RETURN_REQUESTED}), CENTRE),
    Step.REFUSE_RETURN: Rule(frozenset({Status.RETURN_REQUESTED}), CENTRE),
    Step.REQUEST_EXTENSION: Rule(frozenset({Status.IN_PROGRESS}), DEPT),
    Step.APPROVE_EXTENSION: Rule(frozenset({Status.EXTENSION_REQUESTED}), CENTRE),
    Step.REFUSE_EXTENSION: Rule(frozenset({Status.EXTENSION_REQUESTED}), CENTRE),
    Step.REPLY: Rule(frozenset({Status.IN_PROGRESS}), DEPT),
    # A co-department (协办), once, while the lead department holds the case.
    Step.CO_OPINION: Rule(WITH_DEPARTMENT_STATUSES, DEPT),
    Step.REVIEW_PASS: Rule(frozenset({Status.REPLIED}), CENTRE),
    Step.REVIEW_FAIL: Rule(frozenset({Status.REPLIED}), CENTRE),
    Step.CALLBACK: Rule(frozenset({Status.CALLBACK_PENDING}), CENTRE),
    Step.RATE: Rule(frozenset({Status.CALLED_BACK}), CENTRE),
    Step.REOPEN: Rule(frozenset({Status.RATED}), CENTRE),
    Step.URGE: Rule(OPEN_STATUSES, INTAKE),
    Step.SUPPLEMENT: Rule(OPEN_STATUSES, INTAKE),
    Step.REMIND: Rule(OPEN_STATUSES, SUPERVISORS),
    Step.SUPERVISE: Rule(OPEN_STATUSES, frozenset({Role.LEAD})),
    Step.NOTICE: Rule(OPEN_STATUSES, SUPERVISORS),
    Step.PUBLIC_NOTICE: Rule(OPEN_STATUSES, SUPERVISORS),
    Step.ARCHIVE: Rule(
        frozenset({Status.RESOLVED, Status.REFUSED, Status.RATED}), CENTRE | {Role.SYSTEM}
    ),
}

REGISTER_ROLES = INTAKE


@dataclass(frozen=True, slots=True)
class Command:
    """One step asked for by someone. Fields beyond the first four are per-step parameters."""

    step: Step
    actor: str
    role: Role
    at: datetime
    actor_department: str = ""  # the department a DEPARTMENT user belongs to
    reason: str = ""
    department: str = ""  # dispatch: lead department
    co_departments: tuple[str, ...] = ()
    platform: str = ""  # dispatch: a county platform instead of a department
    sign_deadline: datetime | None = None
    return_deadline: datetime | None = None
    handling_deadline: datetime | None = None  # dispatch, reopen, approve_extension
    deadline_provisional: bool = False
    new_deadline: datetime | None = None  # request_extension
    result: str = ""  # reply, resolve (the answer given)
    outcome: ReplyOutcome | None = None  # reply: 已解决 / 部分解决 / … (None: free text)
    officer: str = ""  # reply, co_opinion: the handling officer
    officer_phone: str = ""  # reply: their contact phone
    reached: bool | None = None  # callback
    satisfaction: Satisfaction | None = None  # rate
    solved: Solved | None = None  # rate: the caller's answer to "was it solved?"
    note: str = ""  # rate: what the caller said
    sample_callback: bool = False  # resolve: sampled for a callback
    max_callback_tries: int = DEFAULT_MAX_CALLBACK_TRIES
    co_opinion_deadline: datetime | None = None  # dispatch with co-departments
    opinion: str = ""  # co_opinion: the co-department's opinion
    phone: str = ""  # co_opinion: a contact phone (optional)


@dataclass(frozen=True, slots=True)
class Event:
    """One entry of the audit log. ``changes`` maps a field to its (before, after) values."""

    case_uuid: str
    step: Step
    actor: str
    role: Role
    at: datetime
    from_status: Status | None
    to_status: Status
    reason: str = ""
    changes: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)
    version: int = 0  # the case version this event produced


# --- helpers ------------------------------------------------------------------------------------


def _need(value: object, field_name: str, message: str, message_en: str) -> None:
    if value in (None, "", ()):
        raise ValidationFailed([FieldError(field_name, "required", message, message_en)])


def _need_reason(cmd: Command) -> None:
    _need(cmd.reason.strip(), "reason", f"“{cmd.step.label}”需要填写理由", "A reason is required")
    if len(cmd.reason) > REASON_MAX:
        raise ValidationFailed(
            [FieldError("reason", "too_long", f"理由最多 {REASON_MAX} 个字", "Reason too long")]
        )


def _illegal(case: Case, cmd: Command, why: str, why_en: str) -> IllegalStep:
    return IllegalStep(
        state=case.status.label, step=cmd.step.label, role=cmd.role.label, why=why, why_en=why_en
    )


def _check_department_scope(case: Case, cmd: Command) -> None:
    if cmd.role is Role.DEPARTMENT and (
        not case.department or case.department != cmd.actor_department
    ):
        raise StepForbidden(
            state=case.status.label,
            step=cmd.step.label,
            role=cmd.role.label,
            why="该工单不属于本单位主办",
            why_en="the case is not assigned to this department",
        )


def _check_co_department_scope(case: Case, cmd: Command) -> None:
    if cmd.role is Role.DEPARTMENT and (
        not cmd.actor_department or cmd.actor_department not in case.co_departments
    ):
        raise StepForbidden(
            state=case.status.label,
            step=cmd.step.label,
            role=cmd.role.label,
            why="本单位不是该工单的协办单位",
            why_en="this department is not a co-department of the case",
        )


def _diff(before: Case, after: Case) -> dict[str, tuple[Any, Any]]:
    changes: dict[str, tuple[Any, Any]] = {}
    for f in dataclasses.fields(Case):
        if f.name == "version":
            continue
        old, new = getattr(before, f.name), getattr(after, f.name)
        if old != new:
            changes[f.name] = (old, new)
    return changes


# --- the steps ----------------------------------------------------------------------------------


def register(
    intake: Intake,
    *,
    uuid: str,
    actor: str,
    role: Role,
    at: datetime,
    number: str = "",
    platform: str = "city",
) -> tuple[Case, Event]:
    """Record a new case from a validated intake (see ``case.validate_intake``)."""
    if role not in REGISTER_ROLES:
        raise StepForbidden(
            state="（新工单）",
            step=Step.REGISTER.label,
            role=role.label,
            why="只有话务员、班长或领导可以受理工单",
            why_en="only agents, leads and leaders register cases",
        )
    leader = marks_leader_case(role)
    case = Case(
        uuid=uuid,
        appeal_type=intake.appeal_type,
        content=intake.content,
        status=Status.REGISTERED,
        channel=intake.channel,
        urgency=intake.urgency,
        number=number,
        caller_phone=intake.caller_phone,
        caller_name=intake.caller_name,
        gender=intake.gender,
        confidential=intake.confidential,
        anonymous=intake.anonymous,
        category=intake.category,
        address=intake.address,
        platform=platform,
        agent=actor,
        registered_at=at,
        # 领导交办: supervised from the start, in the registration itself.
        supervision=LEADER_SUPERVISION if leader else SupervisionLevel.NONE,
        leader_assigned=leader,
        version=1,
    )
    # The first event carries the whole case, so that the log alone can rebuild it.
    changes = {
        f.name: (None, getattr(case, f.name))
        for f in dataclasses.fields(Case)
        if f.name != "version"
    }
    reason = LEADER_MARK if leader else ""  # the audit log says why it is supervised
    event = Event(uuid, Step.REGISTER, actor, role, at, None, Status.REGISTERED, reason, changes, 1)
    return case, event


def _refuse(case: Case, cmd: Command) -> Case:
    _need_reason(cmd)
    return replace(case, status=Status.REFUSED, refusal_reason=cmd.reason.strip())


def _resolve(case: Case, cmd: Command) -> Case:
    _need(cmd.result.strip(), "result", "请填写答复内容", "The answer given is required")
    status = Status.CALLBACK_PENDING if cmd.sample_callback else Status.RESOLVED
    return replace(
        case, status=status, result=cmd.result.strip(), callback_required=cmd.sample_callback
    )


def _dispatch(case: Case, cmd: Command) -> Case:
    case = _leader_marked(case, cmd)
    if case.status is Status.DISPATCHED and case.department:
        raise _illegal(case, cmd, "已派给承办单位，需退单后才能改派", "already with a department")
    if bool(cmd.department) == bool(cmd.platform):
        raise ValidationFailed(
            [
                FieldError(
                    "department",
                    "required",
                    "请选择一个主办单位或一个县区平台（二选一）",
                    "Dispatch to exactly one of a department or a county platform",
                )
            ]
        )
    if cmd.platform:
        if case.assigned_platform == cmd.platform:
            raise _illegal(case, cmd, "已在该平台", "already at that platform")
        return replace(
            case,
            status=Status.DISPATCHED,
            department="",
            co_departments=(),
            assigned_platform=cmd.platform,
            dispatched_at=cmd.at,
            co_opinions=(),
            co_opinion_deadline=None,
            sign_deadline=None,
            return_deadline=None,
            handling_deadline=None,
            deadline_provisional=False,
        )
    _need(cmd.handling_deadline, "handling_deadline", "缺少办理期限", "Handling deadline missing")
    if cmd.department in cmd.co_departments:
        raise ValidationFailed(
            [FieldError("co_departments", "duplicate", "协办单位不能与主办单位相同", "Co = lead")]
        )
    co_departments = tuple(dict.fromkeys(cmd.co_departments))
    return replace(
        case,
        status=Status.DISPATCHED,
        department=cmd.department,
        co_departments=co_departments,
        # A new dispatch asks the co-departments afresh (the lead may be another department).
        co_opinions=(),
        co_opinion_deadline=cmd.co_opinion_deadline if co_departments else None,
        dispatched_at=cmd.at,
        sign_deadline=cmd.sign_deadline,
        return_deadline=cmd.return_deadline,
        handling_deadline=cmd.handling_deadline,
        deadline_provisional=cmd.deadline_provisional,
        signed_at=None,
        requested_deadline=None,
    )


def _leader_marked(case: Case, cmd: Command) -> Case:
    """A leader's dispatch assigns the case (领导交办): marked and supervised in the same step."""
    if not marks_leader_case(cmd.role):
        return case
    return replace(
        case, leader_assigned=True, supervision=max(case.supervision, LEADER_SUPERVISION)
    )


def _sign(case: Case, cmd: Command) -> Case:
    _check_department_scope(case, cmd)
    return replace(case, status=Status.IN_PROGRESS, signed_at=cmd.at)


def _request_return(case: Case, cmd: Command) -> Case:
    _check_department_scope(case, cmd)
    _need_reason(cmd)
    if case.return_deadline is not None and cmd.at > case.return_deadline:
        raise _illegal(
            case, cmd, "已超过退单时限（派单后 2 个工作日）", "the return window has closed"
        )
    return replace(case, status=Status.RETURN_REQUESTED)


def _approve_return(case: Case, cmd: Command) -> Case:
    return replace(
        case,
        status=Status.RETURNED,
        department="",
        co_departments=(),
        co_opinions=(),
        co_opinion_deadline=None,
        assigned_platform="",
        sign_deadline=None,
        return_deadline=None,
        handling_deadline=None,
        deadline_provisional=False,
        signed_at=None,
        returns=case.returns + 1,
    )


def _refuse_return(case: Case, cmd: Command) -> Case:
    _need_reason(cmd)
    # Refused: the department holds the case, signed by force if it had not signed yet.
    return replace(case, status=Status.IN_PROGRESS, signed_at=case.signed_at or cmd.at)


def _request_extension(case: Case, cmd: Command) -> Case:
    _check_department_scope(case, cmd)
    _need_reason(cmd)
    _need(cmd.new_deadline, "new_deadline", "请填写申请延期到的日期", "The new date is required")
    assert cmd.new_deadline is not None
    if case.handling_deadline is not None:
        if cmd.at >= case.handling_deadline:
            raise _illegal(case, cmd, "已超过办理期限，不能再申请延期", "the deadline has passed")
        if cmd.new_deadline <= case.handling_deadline:
            raise ValidationFailed(
                [
                    FieldError(
                        "new_deadline",
                        "not_later",
                        "延期后的日期必须晚于当前期限",
                        "The new date must be after the current deadline",
                    )
                ]
            )
    return replace(case, status=Status.EXTENSION_REQUESTED, requested_deadline=cmd.new_deadline)


def _approve_extension(case: Case, cmd: Command) -> Case:
    deadline = cmd.handling_deadline or case.requested_deadline
    _need(deadline, "handling_deadline", "缺少批准后的期限", "The approved deadline is missing")
    return replace(
        case,
        status=Status.IN_PROGRESS,
        handling_deadline=deadline,
        deadline_provisional=cmd.deadline_provisional,
        requested_deadline=None,
        extensions=case.extensions + 1,
    )


def _refuse_extension(case: Case, cmd: Command) -> Case:
    _need_reason(cmd)
    return replace(case, status=Status.IN_PROGRESS, requested_deadline=None)


def _reply(case: Case, cmd: Command) -> Case:
    _check_department_scope(case, cmd)
    reply = check_reply(cmd.result, cmd.outcome, cmd.officer, cmd.officer_phone)
    return replace(
        case,
        status=Status.REPLIED,
        replied_at=cmd.at,
        result=reply.result,
        reply_outcome=reply.outcome,
        reply_officer=reply.officer,
        reply_phone=reply.officer_phone,
    )


def _co_opinion(case: Case, cmd: Command) -> Case:
    """A co-department's opinion (协办意见), once: a second one is refused (409); what it
    adds later goes to the lead department by other means, since the lead may have replied
    on the first already."""
    _check_co_department_scope(case, cmd)
    if cmd.actor_department not in case.co_missing:
        raise _illegal(case, cmd, "已提交协办意见", "the co-opinion was already given")
    errors: list[FieldError] = []
    text, officer, phone = cmd.opinion.strip(), cmd.officer.strip(), cmd.phone.strip()
    if not text:
        errors.append(
            FieldError("opinion", "required", "请填写协办意见", "The opinion is required")
        )
    elif len(text) > CO_OPINION_MAX:
        errors.append(
            FieldError(
                "opinion", "too_long", f"协办意见最多 {CO_OPINION_MAX} 个字", "Opinion too long"
            )
        )
    if not officer:
        errors.append(
            FieldError("officer", "required", "请填写经办人", "The handling officer is required")
        )
    elif len(officer) > OFFICER_MAX:
        errors.append(
            FieldError("officer", "too_long", f"经办人最多 {OFFICER_MAX} 个字", "Name too long")
        )
    if phone:
        try:
            phone = normalize_phone(phone)
        except ValueError:
            errors.append(
                FieldError(
                    "phone",
                    "invalid",
                    "电话号码无效：手机为 11 位，固话请带区号（如 0396-2345678）",
                    "Invalid phone: an 11-digit mobile, or a landline with its area code",
                )
            )
    if errors:
        raise ValidationFailed(errors)
    opinion = CoOpinion(cmd.actor_department, text, officer, phone, cmd.at)
    return replace(case, co_opinions=(*case.co_opinions, opinion))


def _review_pass(case: Case, cmd: Command) -> Case:
    return replace(case, status=Status.CALLBACK_PENDING, callback_required=True)


def _review_fail(case: Case, cmd: Command) -> Case:
    _need_reason(cmd)
    return replace(case, status=Status.IN_PROGRESS, replied_at=None)


def _callback(case: Case, cmd: Command) -> Case:
    if cmd.reached is None:
        raise ValidationFailed(
            [FieldError("reached", "required", "请选择是否接通", "Reached or not is required")]
        )
    attempts = case.callback_attempts + 1
    if cmd.reached:
        return replace(
            case,
            status=Status.CALLED_BACK,
            callback_attempts=attempts,
            callback_result=CallbackResult.REACHED,
        )
    if attempts >= cmd.max_callback_tries:
        # The last try failed: closed as unreachable (counts as called back, not as rated).
        return replace(
            case,
            status=Status.ARCHIVED,
            callback_attempts=attempts,
            callback_result=CallbackResult.UNREACHABLE,
            archived_at=cmd.at,
        )
    return replace(case, callback_attempts=attempts, callback_result=CallbackResult.UNREACHABLE)


def _rate(case: Case, cmd: Command) -> Case:
    answers = check_callback_answers(cmd.satisfaction, cmd.solved, cmd.note)
    return replace(
        case,
        status=Status.RATED,
        satisfaction=answers.satisfaction,
        callback_solved=answers.solved,
        callback_note=answers.note,
    )


def _reopen(case: Case, cmd: Command) -> Case:
    if case.satisfaction is not Satisfaction.DISSATISFIED:
        raise _illegal(case, cmd, "只有不满意的工单可以重办", "only a dissatisfied case reopens")
    if not case.department:
        raise _illegal(case, cmd, "直接办结的工单没有承办单位，请重新受理", "no department")
    _need_reason(cmd)
    _need(cmd.handling_deadline, "handling_deadline", "缺少重办期限", "Deadline missing")
    return replace(
        case,
        status=Status.IN_PROGRESS,
        handling_deadline=cmd.handling_deadline,
        deadline_provisional=cmd.deadline_provisional,
        replied_at=None,
        callback_attempts=0,
        callback_result=None,
        satisfaction=None,
        callback_solved=None,
        callback_note="",
        reopens=case.reopens + 1,
    )


def _need_note(cmd: Command, message: str, message_en: str) -> None:
    _need(cmd.reason.strip(), "reason", message, message_en)
    if len(cmd.reason) > NOTE_MAX:
        raise ValidationFailed(
            [FieldError("reason", "too_long", f"最多 {NOTE_MAX} 个字", f"At most {NOTE_MAX}")]
        )


def _urge(case: Case, cmd: Command) -> Case:
    _need_note(cmd, "请填写来电人所说（催办内容）", "What the caller said is required")
    return replace(case, urges=case.urges + 1, last_urged_at=cmd.at)


def _supplement(case: Case, cmd: Command) -> Case:
    _need_note(cmd, "请填写补充内容", "The additional information is required")
    return replace(case, supplements=case.supplements + 1)


def _raise_supervision(level: SupervisionLevel) -> Callable[[Case, Command], Case]:
    def step(case: Case, cmd: Command) -> Case:
        if cmd.step is Step.SUPERVISE:
            if case.supervision >= SupervisionLevel.SUPERVISED:
                # Supervised once: a second 督办 (a hot spot supervised again) adds nothing.
                raise _illegal(case, cmd, "已在督办中", "already under supervision")
            _need_reason(cmd)
        return replace(case, supervision=max(case.supervision, level))

    return step


def _archive(case: Case, cmd: Command) -> Case:
    return replace(case, status=Status.ARCHIVED, archived_at=cmd.at)


HANDLERS: Mapping[Step, Callable[[Case, Command], Case]] = {
    Step.REFUSE: _refuse,
    Step.RESOLVE: _resolve,
    Step.DISPATCH: _dispatch,
    Step.SIGN: _sign,
    Step.REQUEST_RETURN: _request_return,
    Step.APPROVE_RETURN: _approve_return,
    Step.REFUSE_RETURN: _refuse_return,
    Step.REQUEST_EXTENSION: _request_extension,
    Step.APPROVE_EXTENSION: _approve_extension,
    Step.REFUSE_EXTENSION: _refuse_extension,
    Step.REPLY: _reply,
    Step.CO_OPINION: _co_opinion,
    Step.REVIEW_PASS: _review_pass,
    Step.REVIEW_FAIL: _review_fail,
    Step.CALLBACK: _callback,
    Step.RATE: _rate,
    Step.REOPEN: _reopen,
    Step.URGE: _urge,
    Step.SUPPLEMENT: _supplement,
    Step.REMIND: _raise_supervision(SupervisionLevel.REMINDED),
    Step.SUPERVISE: _raise_supervision(SupervisionLevel.SUPERVISED),
    Step.NOTICE: _raise_supervision(SupervisionLevel.NOTICE),
    Step.PUBLIC_NOTICE: _raise_supervision(SupervisionLevel.PUBLIC_NOTICE),
    Step.ARCHIVE: _archive,
}


def check(case: Case, cmd: Command) -> None:
    """Raise if ``cmd`` may not be taken on ``case`` by its role (state and role only)."""
    if cmd.step is Step.REGISTER:
        raise _illegal(case, cmd, "工单已受理，不能重复受理", "the case is already registered")
    rule = RULES[cmd.step]
    if cmd.role not in rule.roles:
        allowed = "、".join(sorted(r.label for r in rule.roles))
        raise StepForbidden(
            state=case.status.label,
            step=cmd.step.label,
            role=cmd.role.label,
            why=f"只有{allowed}可以执行此步骤",
            why_en=f"only {', '.join(sorted(r.value for r in rule.roles))} may do this",
        )
    if case.status not in rule.sources and cmd.step in REPEAT_CALL_STEPS:
        raise _illegal(
            case,
            cmd,
            "工单已办结，不能催办或补充"
            + ("；不满意的可重办" if Step.REOPEN in available_steps(case, cmd.role) else "")
            + "（或重新受理为新工单）",
            "the case is closed: reopen it where allowed, or register a new case",
        )
    if case.status not in rule.sources:
        allowed = "、".join(sorted(s.label for s in rule.sources))
        raise _illegal(
            case,
            cmd,
            f"此步骤只能在“{allowed}”状态下执行",
            f"allowed only from {', '.join(sorted(s.value for s in rule.sources))}",
        )


def apply(case: Case, cmd: Command) -> tuple[Case, Event]:
    """Take one step. Returns the new case (version + 1) and its event; raises a DomainError."""
    check(case, cmd)
    after = HANDLERS[cmd.step](case, cmd)
    after = replace(after, version=case.version + 1)
    reason = cmd.reason.strip()
    if not reason and after.leader_assigned and not case.leader_assigned:
        reason = LEADER_MARK  # a leader's dispatch: the audit log says why it is supervised
    event = Event(
        case_uuid=case.uuid,
        step=cmd.step,
        actor=cmd.actor,
        role=cmd.role,
        at=cmd.at,
        from_status=case.status,
        to_status=after.status,
        reason=reason,
        changes=_diff(case, after),
        version=after.version,
    )
    return after, event


def available_steps(case: Case, role: Role, actor_department: str = "") -> list[Step]:
    """The steps this role may take now, in lifecycle order (what the UI binds to keys)."""
    steps = []
    for step, rule in RULES.items():
        if role not in rule.roles or case.status not in rule.sources:
            continue
        if step is Step.CO_OPINION:
            if actor_department not in case.co_missing:
                continue  # as ``_co_opinion`` refuses it: a co-department's, once
        elif role is Role.DEPARTMENT and case.department != actor_department:
            continue
        if step is Step.DISPATCH and case.status is Status.DISPATCHED and case.department:
            continue
        if step is Step.REOPEN and (
            case.satisfaction is not Satisfaction.DISSATISFIED or not case.department
        ):
            continue  # as ``_reopen`` refuses it: only a dissatisfied case with a department
        if step is Step.SUPERVISE and already_supervised(case):
            continue  # as ``_raise_supervision`` refuses it: supervised once
        steps.append(step)
    return steps


def already_supervised(case: Case) -> bool:
    """Under supervision (督办) already: a second 督办 is refused (``Step.SUPERVISE``)."""
    return case.supervision >= SupervisionLevel.SUPERVISED


def repeat_call_steps(case: Case, role: Role) -> list[Step]:
    """What a repeat call about ``case`` may do for ``role`` now: urge and supplement while
    the case is open; on a closed case, reopen (重办) where the lifecycle allows it (a rated,
    dissatisfied case with a department); else nothing (a new case is registered)."""
    if case.is_open:
        return [s for s in (Step.URGE, Step.SUPPLEMENT) if role in RULES[s].roles]
    return [s for s in available_steps(case, role) if s is Step.REOPEN]
