"""The write path's shared parts: ``Writer``, the base of the one writer per SQL dialect.

Every write of a case comes through a ``Writer``: ``create_case`` (register, idempotent by
the case's uuid) and ``apply_step``/``apply_step_json`` (one lifecycle step, exactly once per
command id). Here is what does not depend on the database's dialect: checking the request
(times, intake, the case to link to), finding the step's target (``_step_target``: the
command id's earlier answer, the visibility check, the version check that makes a 409),
working the step out with the domain (``_stepped``, ``_command``: deadlines and reference
codes) and the rows a write appends (``registration``, ``append_params``). How the rows get
into the database is each dialect's own: ``cases.sqlite`` (Core statements in a transaction
holding the change number) and ``cases.postgres`` (each write one statement).
"""

from __future__ import annotations

import dataclasses
import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from agent_tui import wire as S
from agent_tui.domain.calendar import Deadline, DeadlineUnit
from agent_tui.domain.case import (
    Address,
    AppealType,
    Case,
    DeadlineClass,
    Intake,
    validate_intake,
)
from agent_tui.domain.deadlines import (
    co_opinion_by,
    dispatch_deadlines,
    extended_deadline,
    reopen_deadline,
)
from agent_tui.domain.errors import DomainError, FieldError, ValidationFailed
from agent_tui.domain.lifecycle import (
    REGISTER_ROLES,
    VERSIONLESS_STEPS,
    Command,
    Event,
    Step,
    apply,
    register,
)
from agent_tui.domain.numbers import check_seat_number, number_day, parse_number, series_name
from agent_tui.domain.related import group_of
from agent_tui.server.codec import case_columns, encode_changes, row_to_case, to_public
from agent_tui.server.context import StoreContext
from agent_tui.server.errors import NotFound, VersionConflict
from agent_tui.server.numbers import prefix_of, seat_blocks
from agent_tui.server.tables import CASES, IDEMPOTENCY, SELECT_CASE
from agent_tui.server.visibility import Actor, can_see, withdrawn_from

log = logging.getLogger(__name__)


class Writer:
    """What every dialect's writer shares; ``_create`` and ``_step`` are each dialect's."""

    def __init__(self, ctx: StoreContext) -> None:
        self.ctx = ctx
        self._rng = random.Random()

    # -- create --------------------------------------------------------------------------------

    def create_case(self, actor: Actor, body: S.CaseCreate) -> tuple[S.CasePublic, bool]:
        """Register a case; the same uuid again returns the first case (created=False)."""
        now = self.ctx.now()
        case_uuid = str(body.uuid)
        at = body.registered_at or now
        if at > now + timedelta(minutes=5) or at < now - timedelta(days=7):
            raise ValidationFailed(
                [
                    FieldError(
                        "registered_at",
                        "out_of_range",
                        "受理时间不能晚于现在，也不能早于 7 天前（请检查坐席时钟）",
                        "registered_at must be within the last 7 days and not in the future",
                    )
                ]
            )
        a = body.address
        intake = validate_intake(
            Intake(
                appeal_type=body.appeal_type,
                content=body.content,
                channel=body.channel,
                urgency=body.urgency,
                caller_phone=body.caller_phone,
                caller_name=body.caller_name,
                gender=body.gender,
                confidential=body.confidential,
                anonymous=body.anonymous,
                category=body.category,
                address=Address(a.county, a.township, a.village, a.road, a.detail, a.lat, a.lon),
            ),
            known_categories=self.ctx.known_categories,
        )
        if actor.role not in REGISTER_ROLES:
            # Let the domain say it, with the state, step and role named.
            register(intake, uuid=case_uuid, actor=actor.user_id, role=actor.role, at=at)
        related_to = self._group_to_join(actor, case_uuid, body.related_to)
        if body.number:
            self._check_seat_number(actor, body, at)
        return self._create(
            actor,
            intake,
            case_uuid,
            at,
            now,
            related_to,
            number_day(at),
            body.number,
            body.seat_id if body.number else "",
        )

    def _check_seat_number(self, actor: Actor, body: S.CaseCreate, at: datetime) -> None:
        """A number given at a seat: of this platform, dated on the registration day, in a
        block reserved for this seat and user (422 beside ``number`` otherwise)."""
        parsed = parse_number(body.number)
        with self.ctx.engine.connect() as connection:
            prefix = prefix_of(connection, actor.platform)
            blocks = (
                seat_blocks(connection, actor, body.seat_id, parsed.year, parsed.running)
                if parsed is not None
                else []
            )
        check_seat_number(body.number, prefix, at, blocks)

    def _number_taken(self, number: str) -> bool:
        with self.ctx.engine.connect() as connection:
            return connection.execute(_NUMBER_TAKEN, {"number": number}).first() is not None

    def _create(
        self,
        actor: Actor,
        intake: Intake,
        case_uuid: str,
        at: datetime,
        now: datetime,
        related_to: str,
        day: str,
        number: str = "",
        seat_id: str = "",
    ) -> tuple[S.CasePublic, bool]:
        """Write the registered case, its event and its change row (the dialect's own):
        ``number`` when a seat gave it (checked), else the next of the platform's year."""
        raise NotImplementedError

    def _created_before(self, actor: Actor, case_uuid: str, now: datetime) -> S.CasePublic | None:
        """The case a create's uuid already names (its repeat's answer), if there is one."""
        with self.ctx.engine.connect() as connection:
            existing = connection.execute(SELECT_CASE, {"uuid": case_uuid}).first()
        if existing is None:
            return None
        if not can_see(actor, existing):
            raise NotFound("工单编号已被占用", "That case uuid is taken")
        return to_public(existing, actor, now)

    def _group_to_join(self, actor: Actor, case_uuid: str, target: UUID | None) -> str:
        """The group a new case linked to ``target`` joins ('' when not linked)."""
        if target is None:
            return ""
        with self.ctx.engine.connect() as connection:
            row = connection.execute(SELECT_CASE, {"uuid": str(target)}).first()
        if row is None or not can_see(actor, row) or row.uuid == case_uuid:
            raise ValidationFailed(
                [
                    FieldError(
                        "related_to",
                        "not_found",
                        "要关联的工单不存在",
                        "The case to link to does not exist",
                    )
                ]
            )
        return group_of(row.uuid, row.related_to)

    # -- steps ---------------------------------------------------------------------------------

    def apply_step(
        self, actor: Actor, case_uuid: str, step: Step, body: S.StepBody
    ) -> S.CasePublic:
        """Take one lifecycle step, exactly once per ``command_id``."""
        return self.apply_step_json(actor, case_uuid, step, body)[1]

    def apply_step_json(
        self, actor: Actor, case_uuid: str, step: Step, body: S.StepBody
    ) -> tuple[str, S.CasePublic]:
        """``apply_step`` with the answer's JSON, serialised once (it is also the stored
        answer a retry of the same command id gets)."""
        key = str(body.command_id)
        for _ in range(3):
            try:
                return self._step(actor, case_uuid, step, body, key, self.ctx.now())
            except IntegrityError:
                continue  # the same command id committed concurrently: answer its result
        raise RuntimeError("apply_step: could not settle a concurrent retry")

    def _step(
        self, actor: Actor, case_uuid: str, step: Step, body: S.StepBody, key: str, now: datetime
    ) -> tuple[str, S.CasePublic]:
        """Read the target, work the step out, write it (the dialect's own)."""
        raise NotImplementedError

    def _step_target(
        self,
        connection: Any,
        actor: Actor,
        case_uuid: str,
        key: str,
        version: int | None,
        now: datetime,
    ) -> Any:
        """The case row a step applies to, or the answer already given to its command id.

        Raises what the step cannot get past: the command id used by someone else, no such case
        (or not visible), a stale version (409 with the current case). ``version`` None: the
        step is taken on the case as it is now (a repeat call, ``step_version``)."""
        # The case and any answer already given to this command id, in one statement.
        row = connection.execute(_SELECT_CASE_AND_DONE, {"uuid": case_uuid, "key": key}).first()
        done = row if row is not None and row.done_user is not None else None
        if row is None:  # no such case; a retry may still name another case's command
            done = connection.execute(_SELECT_DONE, {"key": key}).first()
        if done is not None:
            connection.rollback()
            if done.done_user != actor.user_id:
                raise ValidationFailed(
                    [
                        FieldError(
                            "command_id",
                            "reused",
                            "命令编号已被其他用户使用",
                            "command_id already used by another user",
                        )
                    ]
                )
            answered = S.CasePublic.model_validate_json(done.done_response)
            if str(answered.uuid) != case_uuid:
                # A command id names one step of one case: its answer is not another case's.
                log.warning(
                    "command id %s of case %s refused on case %s", key, answered.uuid, case_uuid
                )
                raise ValidationFailed(
                    [
                        FieldError(
                            "command_id",
                            "reused_on_another_case",
                            "命令编号已用于另一件工单，请为本次操作生成新的命令编号",
                            "command_id was already used on another case: send a new one",
                        )
                    ]
                )
            return done.done_response, answered
        if row is None or not can_see(actor, row):
            raise NotFound(f"没有编号为 {case_uuid} 的工单", f"No case {case_uuid}")
        if version is not None and version != row.version:
            current = to_public(row, actor, now)
            connection.rollback()
            raise VersionConflict(current, version)
        return row

    def _stepped(
        self, actor: Actor, step: Step, body: S.StepBody, row: Any, now: datetime, key: str
    ) -> StepWork:
        """What a step writes: the changed columns, the event, the answer and its record."""
        before = row_to_case(row)
        command, deadline = self._command(actor, step, body, before, now)
        after, event = apply(before, command)
        old = row._mapping
        changed = {k: v for k, v in case_columns(after).items() if old[k] != v}
        if deadline is not None:
            changed.update(
                deadline_start=deadline.start,
                deadline_amount=deadline.amount,
                deadline_unit=str(deadline.unit),
            )
        elif after.handling_deadline is None:
            changed.update(deadline_start=None, deadline_amount=0, deadline_unit="")
        changed["updated_at"] = now
        # The answer holds no change number: it is whole before the write.
        public = to_public(SimpleNamespace(**{**old, **changed}), actor, now)
        text = public.model_dump_json()
        done = {
            "key": key,
            "user_id": actor.user_id,
            "status_code": 200,
            "response": text,
            "created_at": now,
        }
        return StepWork(
            changed, event, after.department, public, text, done, withdrawn_from(before, after)
        )

    def deadline_class(self, case: Case) -> DeadlineClass:
        if case.category:
            try:
                return self.ctx.router.route(case.category, case.urgency).deadline_class
            except DomainError:
                pass
        return (
            DeadlineClass.INQUIRY
            if case.appeal_type is AppealType.INQUIRY
            else DeadlineClass.NORMAL
        )

    def _command(
        self, actor: Actor, step: Step, body: S.StepBody, case: Case, now: datetime
    ) -> tuple[Command, Deadline | None]:
        """The domain command for a request, with the deadlines the server computes."""
        params: dict[str, Any] = {}
        deadline: Deadline | None = None
        reason = getattr(body, "reason", "")
        if reason:
            params["reason"] = reason
        if isinstance(body, S.DispatchBody):
            params["department"], params["platform"] = body.department, body.platform
            params["co_departments"] = tuple(body.co_departments)
            for code in (body.department, *body.co_departments):
                if code and self.ctx.reference.department(code) is None:
                    raise ValidationFailed(
                        [FieldError("department", "unknown", f"未知的单位代码：{code}", code)]
                    )
            if body.platform and self.ctx.reference.platform(body.platform) is None:
                raise ValidationFailed(
                    [FieldError("platform", "unknown", f"未知的平台：{body.platform}", "")]
                )
            if body.department:
                d = dispatch_deadlines(
                    now, self.deadline_class(case), case.urgency, self.ctx.calendar, self.ctx.policy
                )
                assert d.handling_by is not None
                deadline = d.handling_by
                params.update(
                    sign_deadline=d.sign_by.at if d.sign_by else None,
                    return_deadline=d.return_by.at if d.return_by else None,
                    handling_deadline=d.handling_by.at,
                    deadline_provisional=d.provisional,
                )
                if body.co_departments:
                    params["co_opinion_deadline"] = co_opinion_by(
                        now, d.handling_by, self.ctx.calendar, self.ctx.policy
                    ).at
        elif isinstance(body, S.ResolveBody):
            params["result"] = body.result
            sample = body.sample_callback
            if sample is None:
                sample = self._rng.random() < self.ctx.settings.callback_sample_rate
            params["sample_callback"] = sample
        elif isinstance(body, S.ReplyBody):
            params.update(
                result=body.result,
                outcome=body.outcome,
                officer=body.officer,
                officer_phone=body.officer_phone,
            )
        elif isinstance(body, S.CoOpinionBody):
            params.update(opinion=body.opinion, officer=body.officer, phone=body.phone)
        elif isinstance(body, S.ExtensionRequestBody):
            params["new_deadline"] = body.new_deadline
        elif isinstance(body, S.ExtensionApproveBody) and step is Step.APPROVE_EXTENSION:
            requested = body.deadline or case.requested_deadline
            if case.handling_deadline is not None and requested is not None:
                current = Deadline(
                    case.handling_deadline, case.handling_deadline, 0, DeadlineUnit.FIXED
                )
                deadline = extended_deadline(current, requested, self.ctx.calendar, self.ctx.policy)
                params["handling_deadline"] = deadline.at
        elif isinstance(body, S.CallbackBody):
            params["reached"] = body.reached
            params["max_callback_tries"] = self.ctx.settings.max_callback_tries
        elif isinstance(body, S.RateBody):
            params.update(satisfaction=body.satisfaction, solved=body.solved, note=body.note)
        if step is Step.REOPEN:
            deadline = reopen_deadline(
                now, self.deadline_class(case), case.urgency, self.ctx.calendar, self.ctx.policy
            )
            params["handling_deadline"] = deadline.at
            params["deadline_provisional"] = deadline.provisional
        command = Command(
            step,
            actor.user_id,
            actor.role,
            now,
            actor_department=actor.department,
            **params,
        )
        return command, deadline


def step_version(step: Step, body: S.StepBody) -> int | None:
    """The version a step must find the case at; None for a repeat call (催办, 补充) or a
    co-department's opinion (协办意见), which add to the case as it is now
    (``lifecycle.VERSIONLESS_STEPS``)."""
    return None if step in VERSIONLESS_STEPS else body.version


def number_prefix(connection: Any, platform: str, day: str) -> str:
    """A day's case numbers of ``platform`` up to the running number: ``ZMD-XP-20261127-``."""
    return f"{prefix_of(connection, platform)}-{day}-"


def number_series(platform: str, day: str) -> str:
    """The counter a case registered on ``day`` takes its running number from (the
    platform's year: ``domain.numbers``)."""
    return series_name(platform, int(day[:4]))


@dataclass(frozen=True)
class StepWork:
    """A step worked out before it is written (``Writer._stepped``)."""

    changed: dict[str, Any]
    event: Event
    department: str
    public: S.CasePublic
    text: str
    done: dict[str, Any]
    #: The readers that lose sight of the case by this step (``visibility.withdrawn_from``).
    withdrawn_from: str = ""


def append_params(
    case_id: int,
    case_uuid: str,
    department: str,
    event: Event,
    seq: int,
    now: datetime,
    done: dict[str, Any] | None = None,
    withdrawn: str = "",
) -> dict[str, Any]:
    """The event (``e_``), change (``c_``) and answer (``d_``) rows of a write, as parameters.

    Every writer writes these rows from here; a column added to ``case_events``, ``changes`` or
    ``idempotency_keys`` is added here and to the PostgreSQL statements (``cases.postgres``),
    which name their columns one by one. (Reference sets write their change rows in
    ``reference_sets``; ``seed`` writes the demo's in bulk.)"""
    params = {
        "e_case_id": case_id,
        "e_case_uuid": case_uuid,
        "e_seq": seq,
        "e_step": str(event.step),
        "e_actor": event.actor,
        "e_role": str(event.role),
        "e_at": event.at,
        "e_from_status": str(event.from_status) if event.from_status else None,
        "e_to_status": str(event.to_status),
        "e_reason": event.reason,
        "e_changes": encode_changes(event.changes),
        "e_version": event.version,
        "c_seq": seq,
        "c_kind": "case",
        "c_case_id": case_id,
        "c_name": "",
        "c_version": event.version,
        "c_department": department,
        "c_withdrawn_from": withdrawn,
        "c_at": now,
    }
    if done is not None:
        params.update({f"d_{k}": v for k, v in done.items()})
    return params


def registration(
    intake: Intake,
    actor: Actor,
    case_uuid: str,
    at: datetime,
    now: datetime,
    related_to: str,
    number: str,
    seq: int,
    seat_id: str = "",
) -> tuple[Case, Event, dict[str, Any]]:
    """A new case, its register event and its ``cases`` row (with the store's bookkeeping)."""
    case, event = register(
        intake,
        uuid=case_uuid,
        actor=actor.user_id,
        role=actor.role,
        at=at,
        number=number,
        platform=actor.platform,
    )
    values = case_columns(case)
    values.update(
        uuid=case_uuid,
        number=number,
        registered_at=at,
        updated_at=now,
        last_seq=seq,
        deadline_start=None,
        deadline_amount=0,
        deadline_unit="",
        related_to=related_to,
    )
    if related_to:  # the link is in the audit log with the registration
        event = dataclasses.replace(
            event, changes={**event.changes, "related_to": ("", related_to)}
        )
    if seat_id:  # the seat that gave the number, in the audit log with the registration
        event = dataclasses.replace(event, changes={**event.changes, "seat_id": ("", seat_id)})
    return case, event, values


_SELECT_DONE = sa.select(
    IDEMPOTENCY.c.user_id.label("done_user"), IDEMPOTENCY.c.response.label("done_response")
).where(IDEMPOTENCY.c.key == sa.bindparam("key"))
_SELECT_CASE_AND_DONE = sa.select(
    CASES,
    *(
        sa.select(c).where(IDEMPOTENCY.c.key == sa.bindparam("key")).scalar_subquery().label(name)
        for c, name in (
            (IDEMPOTENCY.c.user_id, "done_user"),
            (IDEMPOTENCY.c.response, "done_response"),
        )
    ),
).where(CASES.c.uuid == sa.bindparam("uuid"))
_NUMBER_TAKEN = sa.select(CASES.c.id).where(CASES.c.number == sa.bindparam("number"))
