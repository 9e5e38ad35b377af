"""Rows to domain values and wire answers, and back: the store's one translation table.

``row_to_case``/``case_columns`` turn a ``cases`` row into a domain ``Case`` and back;
``encode_changes``/``event_from_row`` do the same for the audit log's events; ``to_public``
makes the answer a viewer gets (masked as ``visibility`` says); the paging cursors are
encoded and decoded here; ``check_instant`` refuses times no hotline has.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, Field, TypeAdapter, ValidationError

from agent_tui import wire as S
from agent_tui.domain.case import (
    Address,
    AppealType,
    CallbackResult,
    Case,
    Channel,
    CoOpinion,
    Gender,
    ReplyOutcome,
    Role,
    Satisfaction,
    Solved,
    Status,
    SupervisionLevel,
    Urgency,
)
from agent_tui.domain.errors import FieldError, ValidationFailed
from agent_tui.domain.lifecycle import Event, Step
from agent_tui.domain.rules import co_opinion_overdue, is_overdue
from agent_tui.server.models import CaseRow, EventRow
from agent_tui.server.visibility import Actor, masks_caller

_DATETIME_FIELDS = frozenset(f.name for f in dataclasses.fields(Case) if "datetime" in str(f.type))
_ENUM_FIELDS: dict[str, Any] = {
    "status": Status,
    "appeal_type": AppealType,
    "channel": Channel,
    "urgency": Urgency,
    "gender": Gender,
    "callback_result": CallbackResult,
    "satisfaction": Satisfaction,
    "reply_outcome": ReplyOutcome,
    "callback_solved": Solved,
}
#: Each enum's members by value: a dict lookup, where calling the enum class costs ten times
#: as much (the KPI replay decodes half a million events at 1M cases).
_BY_VALUE: dict[str, dict[str, Any]] = {
    name: {m.value: m for m in enum} for name, enum in _ENUM_FIELDS.items()
}
_STEPS: dict[str, Step] = {m.value: m for m in Step}
_ROLES: dict[str, Role] = {m.value: m for m in Role}
_STATUSES: dict[str, Status] = {m.value: m for m in Status}


def row_to_case(row: Any) -> Case:
    """``row``: a ``CaseRow`` or a Core row of the ``cases`` table."""
    return Case(
        uuid=row.uuid,
        appeal_type=AppealType(row.appeal_type),
        content=row.content,
        status=Status(row.status),
        channel=Channel(row.channel),
        urgency=Urgency(row.urgency),
        number=row.number,
        caller_phone=row.caller_phone,
        caller_name=row.caller_name,
        gender=Gender(row.gender),
        confidential=row.confidential,
        anonymous=row.anonymous,
        category=row.category,
        address=Address(
            row.county, row.township, row.village, row.road, row.address_detail, row.lat, row.lon
        ),
        platform=row.platform,
        agent=row.agent,
        registered_at=row.registered_at,
        department=row.department,
        co_departments=tuple(c for c in row.co_departments.split(";") if c),
        assigned_platform=row.assigned_platform,
        dispatched_at=row.dispatched_at,
        sign_deadline=row.sign_deadline,
        return_deadline=row.return_deadline,
        handling_deadline=row.handling_deadline,
        deadline_provisional=row.deadline_provisional,
        signed_at=row.signed_at,
        requested_deadline=row.requested_deadline,
        extensions=row.extensions,
        returns=row.returns,
        replied_at=row.replied_at,
        result=row.result,
        reply_outcome=ReplyOutcome(row.reply_outcome) if row.reply_outcome else None,
        reply_officer=row.reply_officer,
        reply_phone=row.reply_phone,
        refusal_reason=row.refusal_reason,
        callback_required=row.callback_required,
        callback_attempts=row.callback_attempts,
        callback_result=CallbackResult(row.callback_result) if row.callback_result else None,
        satisfaction=Satisfaction(row.satisfaction) if row.satisfaction else None,
        callback_solved=Solved(row.callback_solved) if row.callback_solved else None,
        callback_note=row.callback_note,
        reopens=row.reopens,
        supervision=SupervisionLevel(row.supervision),
        leader_assigned=bool(row.leader_assigned),
        archived_at=row.archived_at,
        urges=row.urges,
        last_urged_at=row.last_urged_at,
        supplements=row.supplements,
        co_opinions=decode_opinions(row.co_opinions),
        co_opinion_deadline=row.co_opinion_deadline,
        version=row.version,
    )


def decode_opinions(text: str) -> tuple[CoOpinion, ...]:
    """``cases.co_opinions`` (JSON) as the domain's opinions."""
    return tuple(_opinion(o) for o in json.loads(text or "[]"))


def _opinion(o: dict[str, Any]) -> CoOpinion:
    at = o.get("at")
    return CoOpinion(
        department=o["department"],
        text=o["text"],
        officer=o["officer"],
        phone=o.get("phone", ""),
        at=datetime.fromisoformat(at) if at else None,
    )


def encode_opinions(opinions: Sequence[CoOpinion]) -> str:
    """The opinions as ``cases.co_opinions`` keeps them (the same text for the same opinions:
    a write compares it with the row's to see what changed)."""
    return json.dumps(
        [dataclasses.asdict(o) for o in opinions], ensure_ascii=False, default=_encode_default
    )


_CASE_FIELDS = tuple(
    f.name
    for f in dataclasses.fields(Case)
    if f.name not in ("address", "co_departments", "co_opinions")
)


def case_columns(case: Case) -> dict[str, Any]:
    """The ``cases`` columns of a domain case (everything but id and bookkeeping)."""
    values: dict[str, Any] = {}
    for name in _CASE_FIELDS:
        value = getattr(case, name)
        if name == "supervision":
            value = int(value)
        elif isinstance(value, str):
            value = str(value)  # enums -> plain codes
        values[name] = value
    a = case.address
    values.update(
        county=a.county,
        township=a.township,
        village=a.village,
        road=a.road,
        address_detail=a.detail,
        lat=a.lat,
        lon=a.lon,
        co_departments=";".join(case.co_departments),
        co_opinions=encode_opinions(case.co_opinions),
        co_pending=";".join(case.co_missing),
    )
    return values


def case_to_row(case: Case, row: CaseRow) -> None:
    """Copy the domain projection onto the row."""
    for name, value in case_columns(case).items():
        if getattr(row, name) != value:
            setattr(row, name, value)


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Address):
        return dataclasses.asdict(value)
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, SupervisionLevel):
        return int(value)
    return value


def _encode_default(value: Any) -> Any:
    """What ``json`` cannot write itself (strings, numbers, enums, tuples it can)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Address | CoOpinion):
        return dataclasses.asdict(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


def encode_changes(changes: Any) -> str:
    """``{field: [before, after]}`` as JSON: the C encoder writes the plain values and calls back
    only for instants and addresses (a register event has every field of the case)."""
    return json.dumps(changes, ensure_ascii=False, default=_encode_default)


def _decode(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in _DATETIME_FIELDS:
        return datetime.fromisoformat(value)
    if name in _BY_VALUE:
        return _BY_VALUE[name][value]
    if name == "address":
        return Address(**value)
    if name == "co_departments":
        return tuple(value)
    if name == "co_opinions":
        return tuple(_opinion(o) for o in value)
    if name == "supervision":
        return SupervisionLevel(value)
    return value


def event_from_row(row: Any, fields: frozenset[str] | None = None) -> Event:
    """``row``: an ``EventRow`` or a Core row of the ``case_events`` table. With ``fields``,
    only those changes are decoded (a register event carries every field of the case: the
    KPI replay reads ten of them, and decoding the rest was most of its time)."""
    raw = json.loads(row.changes)
    if fields is not None:
        raw = {k: v for k, v in raw.items() if k in fields}
    return Event(
        case_uuid=row.case_uuid,
        step=_STEPS[row.step],
        actor=row.actor,
        role=_ROLES[row.role],
        at=row.at,
        from_status=_STATUSES[row.from_status] if row.from_status else None,
        to_status=_STATUSES[row.to_status],
        reason=row.reason,
        changes={k: (_decode(k, a), _decode(k, b)) for k, (a, b) in raw.items()},
        version=row.version,
    )


MASK = "（保密）"


def to_public(
    row: Any, viewer: Actor, now: datetime, events: Sequence[EventRow] | None = None
) -> S.CasePublic:
    """``row``: a ``CaseRow`` or a Core row of the ``cases`` table (read paths use those)."""
    masked = masks_caller(viewer, row)
    phone = "" if masked else row.caller_phone
    name = MASK if masked and row.confidential else ("" if masked else row.caller_name)
    status = Status(row.status)
    overdue = is_overdue(status, row.handling_deadline, row.replied_at, now)
    public_events = None
    if events is not None:
        public_events = [_event_public(e, masked) for e in events]
    data = {name: getattr(row, name) for name in _PLAIN_PUBLIC_FIELDS}
    data.update(
        status=status,
        caller_phone=phone,
        caller_name=name,
        masked=masked,
        address=S.AddressOut(
            county=row.county,
            township=row.township,
            village=row.village,
            road=row.road,
            detail=row.address_detail,
            lat=row.lat,
            lon=row.lon,
        ),
        co_departments=[c for c in row.co_departments.split(";") if c],
        co_opinions=[dataclasses.asdict(o) for o in decode_opinions(row.co_opinions)],
        co_missing=[
            S.CoOpinionDue(
                department=d,
                due=row.co_opinion_deadline,
                overdue=co_opinion_overdue(status, row.co_opinion_deadline, True, now),
            )
            for d in row.co_pending.split(";")
            if d
        ],
        overdue=overdue,
        events=public_events,
    )
    return S.CasePublic.model_validate(data)


#: Public fields copied from the row as they are (pydantic turns codes into enums).
_PLAIN_PUBLIC_FIELDS = tuple(
    name
    for name in S.CasePublic.model_fields
    if name
    not in {
        "status",
        "caller_phone",
        "caller_name",
        "masked",
        "address",
        "co_departments",
        "co_opinions",
        "co_missing",
        "overdue",
        "events",
    }
)


_IDENTITY_FIELDS = frozenset({"caller_phone", "caller_name"})


def _event_public(row: EventRow, masked: bool) -> S.EventPublic:
    changes = json.loads(row.changes)
    if masked:
        changes = {k: v for k, v in changes.items() if k not in _IDENTITY_FIELDS}
    return S.EventPublic(
        id=row.id or 0,
        seq=row.seq,
        step=Step(row.step),
        actor=row.actor,
        role=Role(row.role),
        at=row.at,
        from_status=Status(row.from_status) if row.from_status else None,
        to_status=Status(row.to_status),
        reason=row.reason,
        changes=changes,
        version=row.version,
    )


def check_instant(name: str, value: datetime | None) -> None:
    """Refuse instants no hotline has (and that overflow when moved to UTC)."""
    if value is None:
        return
    if value.tzinfo is None or not 2000 <= value.year <= 2200:
        raise ValidationFailed(
            [
                FieldError(
                    name,
                    "out_of_range",
                    "时间须带时区，且在 2000–2200 年之间",
                    "A time with a time zone between the years 2000 and 2200 is required",
                )
            ]
        )


# --- cursors ------------------------------------------------------------------------------------


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps([_encode(v) for v in values]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def bad_cursor(field: str = "cursor", why: str = "", why_en: str = "") -> ValidationFailed:
    return ValidationFailed(
        [
            FieldError(
                field,
                "invalid",
                "翻页游标无效" + (f"：{why}" if why else "（请从第一页重新查询）"),
                "Invalid cursor" + (f": {why_en}" if why_en else " (start from the first page)"),
            )
        ]
    )


#: A row id in a cursor: a JSON integer (not a float, a string or a boolean) that a 64-bit
#: column can hold.
_RowId = Annotated[int, Field(strict=True, ge=0, le=2**63 - 1)]
_NEWEST: TypeAdapter[tuple[_RowId]] = TypeAdapter(tuple[_RowId])
_DEADLINE: TypeAdapter[tuple[AwareDatetime, _RowId]] = TypeAdapter(tuple[AwareDatetime, _RowId])


def _cursor_json(cursor: str, field: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except ValueError as exc:
        raise bad_cursor(field) from exc


def decode_id_cursor(cursor: str, field: str = "cursor") -> int:
    """The row id of a newest-first cursor (``[id]``), checked as a typed value."""
    try:
        (value,) = _NEWEST.validate_json(_cursor_json(cursor, field))
    except ValidationError as exc:
        raise bad_cursor(field, "应为 [整数编号]", "expected [integer id]") from exc
    return value


def decode_deadline_cursor(cursor: str, field: str = "cursor") -> tuple[datetime, int]:
    """The (deadline, row id) of a deadline-ordered cursor, checked as typed values: an
    instant with a time zone in the years no hotline leaves (``check_instant``), an id."""
    try:
        deadline, value = _DEADLINE.validate_json(_cursor_json(cursor, field))
    except ValidationError as exc:
        raise bad_cursor(
            field, "应为 [带时区的时间, 整数编号]", "expected [aware instant, integer id]"
        ) from exc
    if not 2000 <= deadline.year <= 2200:
        raise bad_cursor(field, "时间超出范围", "instant out of range")
    return deadline, value
