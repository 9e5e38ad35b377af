"""The central store's rules over the database: every write goes through ``Store``.

One write = one transaction that first takes the next change number (an UPDATE of one counter
row, whose lock is held to commit: sequence order is commit order, and concurrent writers queue
instead of racing), then checks idempotency and the case version, applies the domain step,
appends the event, updates the projection and records the change. Routes stay thin.
"""

from __future__ import annotations

import base64
import bisect
import contextlib
import dataclasses
import functools
import itertools
import json
import logging
import math
import multiprocessing
import os
import random
import sys
import threading
import time
import uuid as uuid_mod
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from agent_tui import wire as S
from agent_tui.config import Settings
from agent_tui.data.calendar import default_calendar
from agent_tui.data.reference import ReferenceData, load_reference
from agent_tui.domain.calendar import SHANGHAI, Deadline, DeadlineUnit, WorkCalendar
from agent_tui.domain.case import (
    OPEN_STATUSES,
    Address,
    AppealType,
    CallbackResult,
    Case,
    Channel,
    DeadlineClass,
    Gender,
    Intake,
    Role,
    Satisfaction,
    Status,
    SupervisionLevel,
    Urgency,
    validate_intake,
)
from agent_tui.domain.deadlines import (
    DEFAULT_POLICY,
    DeadlinePolicy,
    dispatch_deadlines,
    extended_deadline,
    reopen_deadline,
    supervision_due,
)
from agent_tui.domain.errors import DomainError, FieldError, ValidationFailed
from agent_tui.domain.hotspots import (
    BASELINE_DAYS,
    MIN_CASES,
    HotspotFinding,
    PlaceCount,
    find_hotspots,
)
from agent_tui.domain.kpi import (
    KPI_FIELDS,
    TRACED,
    GroupBy,
    KpiReport,
    Kpis,
    KpiTrace,
    compute_kpis,
    traced_cases,
)
from agent_tui.domain.lifecycle import Command, Event, Step, apply, register
from agent_tui.domain.related import group_of
from agent_tui.domain.routing import Router
from agent_tui.server.models import (
    RELATED_TERM,
    CaseRow,
    ChangeRow,
    EventRow,
    IdempotencyRow,
    PlatformRow,
    ReferenceSetRow,
    SeatRow,
)

log = logging.getLogger(__name__)

# --- errors the routes turn into HTTP answers ---------------------------------------------------


class NotFound(DomainError):
    code = "not_found"


class VersionConflict(DomainError):
    """The step was decided on an older version: the seat must look again (HTTP 409)."""

    code = "version_conflict"

    def __init__(self, current: S.CasePublic, sent: int) -> None:
        self.current = current
        super().__init__(
            f"工单已被他人更新（您看到的是第 {sent} 版，当前为第 {current.version} 版），"
            "请刷新后重试",
            f"The case changed (you saw version {sent}, it is now {current.version}): reload",
        )


# --- who is asking ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: str
    role: Role
    department: str = ""
    platform: str = "city"
    name: str = ""

    @property
    def is_county(self) -> bool:
        return self.platform != "city"


SYSTEM = Actor("clock", Role.SYSTEM, name="系统")


# --- row <-> domain -----------------------------------------------------------------------------

_DATETIME_FIELDS = frozenset(f.name for f in dataclasses.fields(Case) if "datetime" in str(f.type))
_ENUM_FIELDS: dict[str, Any] = {
    "status": Status,
    "appeal_type": AppealType,
    "channel": Channel,
    "urgency": Urgency,
    "gender": Gender,
    "callback_result": CallbackResult,
    "satisfaction": Satisfaction,
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
        refusal_reason=row.refusal_reason,
        callback_required=row.callback_required,
        callback_attempts=row.callback_attempts,
        callback_result=CallbackResult(row.callback_result) if row.callback_result else None,
        satisfaction=Satisfaction(row.satisfaction) if row.satisfaction else None,
        reopens=row.reopens,
        supervision=SupervisionLevel(row.supervision),
        archived_at=row.archived_at,
        version=row.version,
    )


_CASE_FIELDS = tuple(
    f.name for f in dataclasses.fields(Case) if f.name not in ("address", "co_departments")
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
    if isinstance(value, Address):
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
    masked = viewer.role is Role.DEPARTMENT and (row.confidential or row.anonymous)
    phone = "" if masked else row.caller_phone
    name = MASK if masked and row.confidential else ("" if masked else row.caller_name)
    status = Status(row.status)
    overdue = (
        status in OPEN_STATUSES
        and row.handling_deadline is not None
        and row.replied_at is None
        and now >= row.handling_deadline
    )
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


def _bad_cursor() -> ValidationFailed:
    return ValidationFailed([FieldError("cursor", "invalid", "翻页游标无效", "Invalid cursor")])


def decode_cursor(cursor: str) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list):
            raise ValueError
        return values
    except ValueError as exc:
        raise _bad_cursor() from exc


@dataclass(frozen=True, slots=True)
class CaseFilter:
    status: tuple[Status, ...] = ()
    department: str = ""
    platform: str = ""
    agent: str = ""
    overdue: bool | None = None
    due_before: datetime | None = None
    appeal_type: AppealType | None = None
    category: str = ""
    caller_phone: str = ""
    text: str = ""
    #: A group of related cases: its first case and the cases linked to it.
    related_to: str = ""
    order: str = "newest"  # "newest" (id desc) | "deadline" (handling_deadline asc)


class Store:
    """The central store's operations. One per process; thread-safe (a session per call)."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        reference: ReferenceData | None = None,
        calendar: WorkCalendar | None = None,
        policy: DeadlinePolicy = DEFAULT_POLICY,
        clock: Any = None,
    ) -> None:
        self.engine = engine
        #: The same pool, each statement its own transaction (``_create_in_one_statement``).
        self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        self.settings = settings
        self.reference = reference or load_reference()
        self.calendar = calendar or default_calendar(settings.calendar_overrides)
        self.policy = policy
        self.router = Router(self.reference.categories, self.reference.departments)
        self._known_categories = frozenset(c.code for c in self.reference.leaves())
        self._clock = clock or (lambda: datetime.now(UTC))
        self._rng = random.Random()
        #: Called after every committed write (wakes this process's long-polls).
        self.listeners: list[Any] = [self._forget_head]
        self._head, self._head_at = 0, 0.0
        self._write_lock: Any = (
            threading.Lock() if engine.dialect.name == "sqlite" else contextlib.nullcontext()
        )
        self._pages: dict[tuple[Any, ...], tuple[bytes, S.ChangesPage]] = {}
        #: KPI replays by (viewer scope, start, end, grouping): (made at, the figures, the
        #: cases behind them). See ``kpi_report``.
        self.kpi_cache: dict[tuple[Any, ...], tuple[float, KpiReport, _CaseIds]] = {}
        self._kpi_lock = threading.Lock()
        #: Replays running (one per key), on ``_kpi_runner`` (a process or a thread).
        self._kpi_running: dict[tuple[Any, ...], Future[tuple[KpiReport, _CaseIds]]] = {}
        self._kpi_runner: Executor | None = None
        #: Hot spots by viewer scope: (made at, the answer); see ``hotspots``.
        self._hotspot_cache: dict[tuple[str, str], tuple[float, list[S.Hotspot]]] = {}

    def _forget_head(self) -> None:
        self._head_at = 0.0

    def now(self) -> datetime:
        now: datetime = self._clock()
        return now

    # -- transactions --------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[tuple[Session, int]]:
        """A write transaction holding the next change number (and so the writers' queue).

        On SQLite the writers also queue on a lock in this process: SQLite allows one writer
        anyway, and threads that collide inside the database back off in busy-timeout steps
        (p99 of seconds under load) where a lock hands over at once.
        """
        with self._write_lock, Session(self.engine) as session, session.begin():
            seq = session.execute(_NEXT_SEQ).scalar_one()
            yield session, int(seq)
        for listener in self.listeners:
            listener()

    @contextmanager
    def _write_core(self, counter: str = "") -> Iterator[tuple[Connection, int, int]]:
        """``_write`` on a bare Core connection (the hot paths: no Session, no ORM).

        With ``counter`` (a day's case numbers) the same statement also takes that counter's
        next value, the change number's row first (every writer locks in that order). The
        body may ``rollback()`` to give both back (nothing changed); it commits otherwise.
        Listeners hear only of commits.
        """
        with self._write_lock, self.engine.connect() as connection:
            transaction = connection.begin()
            try:
                if counter:
                    got: dict[str, int] = dict(
                        connection.execute(_NEXT_SEQ_AND_COUNTER, {"name": counter}).all()
                    )
                    seq, count = got["change_seq"], got[counter]
                else:
                    seq, count = connection.execute(_NEXT_SEQ).scalar_one(), 0
                yield connection, int(seq), int(count)
            except BaseException:
                if transaction.is_active:
                    transaction.rollback()
                raise
            committed = transaction.is_active
            if committed:
                transaction.commit()
        if committed:
            for listener in self.listeners:
                listener()

    @staticmethod
    def _number_day(at: datetime) -> str:
        return at.astimezone(SHANGHAI).strftime("%Y%m%d")

    def _number(self, connection: Any, platform: str, day: str, value: int) -> str:
        """The case number for the day's ``value``-th case of ``platform``."""
        return f"{self._number_prefix(connection, platform, day)}{value:04d}"

    @staticmethod
    def _number_prefix(connection: Any, platform: str, day: str) -> str:
        """A day's case numbers of ``platform`` up to the running number: ``ZMD-XP-20261127-``."""
        prefix = "ZMD"
        if platform != "city":
            p = connection.execute(_PLATFORM_PREFIX, {"code": platform}).first()
            prefix = f"ZMD-{p.number_prefix}" if p and p.number_prefix else f"ZMD-{platform}"
        return f"{prefix}-{day}-"

    # -- visibility ----------------------------------------------------------------------------

    def _visible(self, viewer: Actor) -> Any:
        """A WHERE clause limiting cases to what ``viewer`` may see."""
        if viewer.role is Role.DEPARTMENT:
            d = viewer.department
            return sa.or_(
                col(CaseRow.department) == d,
                col(CaseRow.co_departments) == d,
                col(CaseRow.co_departments).like(f"{d};%"),
                col(CaseRow.co_departments).like(f"%;{d}"),
                col(CaseRow.co_departments).like(f"%;{d};%"),
            )
        if viewer.is_county:
            return sa.or_(
                col(CaseRow.platform) == viewer.platform,
                col(CaseRow.assigned_platform) == viewer.platform,
            )
        return sa.true()

    @staticmethod
    def _phone_visible(viewer: Actor) -> Any:
        """A department must not learn that a masked caller called: phone lookups skip them."""
        if viewer.role is Role.DEPARTMENT:
            return sa.and_(sa.not_(col(CaseRow.confidential)), sa.not_(col(CaseRow.anonymous)))
        return sa.true()

    def _can_see(self, viewer: Actor, row: Any) -> bool:
        if viewer.role is Role.DEPARTMENT:
            d = viewer.department
            return row.department == d or d in row.co_departments.split(";")
        if viewer.is_county:
            return viewer.platform in (row.platform, row.assigned_platform)
        return True

    def _load(self, connection: Any, viewer: Actor, case_uuid: str) -> Any:
        """The case's Core row (a Session or a Connection), if ``viewer`` may see it."""
        row = connection.execute(_SELECT_CASE, {"uuid": case_uuid}).first()
        if row is None or not self._can_see(viewer, row):
            raise NotFound(f"没有编号为 {case_uuid} 的工单", f"No case {case_uuid}")
        return row

    # -- create --------------------------------------------------------------------------------

    def create_case(self, actor: Actor, body: S.CaseCreate) -> tuple[S.CasePublic, bool]:
        """Register a case; the same uuid again returns the first case (created=False)."""
        now = self.now()
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
            known_categories=self._known_categories,
        )
        if actor.role not in (Role.AGENT, Role.LEAD):
            # Let the domain say it, with the state, step and role named.
            register(intake, uuid=case_uuid, actor=actor.user_id, role=actor.role, at=at)
        related_to = self._group_to_join(actor, case_uuid, body.related_to)
        day = self._number_day(at)
        if self.engine.dialect.name == "postgresql":
            return self._create_in_one_statement(actor, intake, case_uuid, at, now, related_to, day)
        for _ in range(3):
            try:
                with self._write_core(f"number:{actor.platform}:{day}") as (connection, seq, n):
                    number = self._number(connection, actor.platform, day, n)
                    case, event, values = _registration(
                        intake, actor, case_uuid, at, now, related_to, number, seq
                    )
                    # One round trip: a uuid already taken inserts nothing and returns no id.
                    case_id = connection.execute(_INSERT_NEW_CASE, values).scalar()
                    if case_id is not None:
                        self._append(
                            connection, case_id, case_uuid, case.department, event, seq, now
                        )
                        row = SimpleNamespace(id=case_id, **values)
                        return to_public(row, actor, now), True
                    connection.rollback()  # give back the change number: nothing changed
                existing = self._created_before(actor, case_uuid, now)
                if existing is not None:
                    return existing, False
            except IntegrityError:
                continue  # a concurrent create of the same uuid won: read it next time round
        raise RuntimeError("create_case: could not settle a concurrent create")

    def _created_before(self, actor: Actor, case_uuid: str, now: datetime) -> S.CasePublic | None:
        """The case a create's uuid already names (its repeat's answer), if there is one."""
        with self.engine.connect() as connection:
            existing = connection.execute(_SELECT_CASE, {"uuid": case_uuid}).first()
        if existing is None:
            return None
        if not self._can_see(actor, existing):
            raise NotFound("工单编号已被占用", "That case uuid is taken")
        return to_public(existing, actor, now)

    def _create_in_one_statement(
        self,
        actor: Actor,
        intake: Intake,
        case_uuid: str,
        at: datetime,
        now: datetime,
        related_to: str,
        day: str,
    ) -> tuple[S.CasePublic, bool]:
        """``create_case`` on PostgreSQL: one statement in its own transaction (one round trip).

        The statement takes the change number and the day's running number, writes the case,
        its register event and its change row (``_CREATE_PG``). The counters' row locks are
        held only while PostgreSQL runs it, never across a round trip. A uuid already taken
        makes the whole statement fail (so no number is spent) and the first case is answered.
        """
        # The number and the change number are the statement's to fill in.
        case, event, values = _registration(intake, actor, case_uuid, at, now, related_to, "", 0)
        params = {
            "counter": f"number:{actor.platform}:{day}",
            "row": json.dumps(values, ensure_ascii=False, default=_row_json_default),
            "uuid": case_uuid,
            "step": str(event.step),
            "actor": event.actor,
            "role": str(event.role),
            "at": event.at,
            "to_status": str(event.to_status),
            "reason": event.reason,
            "changes": encode_changes(event.changes),
            "version": event.version,
            "department": case.department,
            "now": now,
        }
        for _ in range(3):
            try:
                with self._autocommit.connect() as connection:
                    prefix = self._number_prefix(connection, actor.platform, day)
                    got = connection.execute(_CREATE_PG, {**params, "prefix": prefix}).one()
            except IntegrityError:
                existing = self._created_before(actor, case_uuid, now)
                if existing is not None:
                    return existing, False
                continue  # not the uuid: a number taken concurrently? try once more
            for listener in self.listeners:
                listener()
            values.update(number=got.number, last_seq=got.seq)
            return to_public(SimpleNamespace(id=got.id, **values), actor, now), True
        raise RuntimeError("create_case: could not settle a concurrent create")

    def _group_to_join(self, actor: Actor, case_uuid: str, target: UUID | None) -> str:
        """The group a new case linked to ``target`` joins ('' when not linked)."""
        if target is None:
            return ""
        with self.engine.connect() as connection:
            row = connection.execute(_SELECT_CASE, {"uuid": str(target)}).first()
        if row is None or not self._can_see(actor, row) or row.uuid == case_uuid:
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

    def related_candidates(
        self, viewer: Actor, category: str, address: Address, limit: int = 10
    ) -> list[S.CasePublic]:
        """Open cases of the same category at the same village or road registered within the
        window: what the intake offers to link (newest first)."""
        now = self.now()
        since = now - timedelta(days=self.settings.related_window_days)
        if not category or not address.county or not (address.village or address.road):
            return []
        place = []
        if address.village:
            place.append(
                sa.and_(
                    col(CaseRow.village) == address.village,
                    col(CaseRow.township) == address.township,
                )
            )
        if address.road:
            place.append(col(CaseRow.road) == address.road)
        q = (
            sa.select(_CASES)
            .where(
                self._visible(viewer),
                col(CaseRow.category) == category,
                col(CaseRow.registered_at) >= since,
                col(CaseRow.county) == address.county,
                sa.or_(*place),
                _status_in(OPEN_STATUSES),
            )
            .order_by(col(CaseRow.registered_at).desc())
            .limit(limit)
        )
        with self.engine.connect() as connection:
            rows = connection.execute(q).all()
        return [to_public(r, viewer, now) for r in rows]

    def _append(
        self,
        connection: Connection,
        case_id: int,
        case_uuid: str,
        department: str,
        event: Event,
        seq: int,
        now: datetime,
        done: dict[str, Any] | None = None,
    ) -> None:
        """The event, the change row and (a step) the command's answer: Core inserts on
        SQLite, one statement holding them all on PostgreSQL (round trips fewer per write)."""
        params = _append_params(case_id, case_uuid, department, event, seq, now, done)
        if connection.dialect.name == "postgresql":
            connection.execute(_APPEND_PG if done is None else _APPEND_DONE_PG, params)
            return
        connection.execute(_INSERT_EVENT, _unprefixed(params, "e_"))
        connection.execute(_INSERT_CHANGE, _unprefixed(params, "c_"))
        if done is not None:
            connection.execute(_INSERT_DONE, _unprefixed(params, "d_"))

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
                return self._apply_step_once(actor, case_uuid, step, body, key)
            except IntegrityError:
                continue  # the same command id committed concurrently: answer its result
        raise RuntimeError("apply_step: could not settle a concurrent retry")

    def _apply_step_once(
        self, actor: Actor, case_uuid: str, step: Step, body: S.StepBody, key: str
    ) -> tuple[str, S.CasePublic]:
        now = self.now()
        if self.engine.dialect.name == "postgresql":
            return self._step_in_one_statement(actor, case_uuid, step, body, key, now)
        with self._write_core() as (connection, seq, _):
            target = self._step_target(connection, actor, case_uuid, key, body.version, now)
            if isinstance(target, tuple):  # the answer this command id already got
                return target
            work = self._stepped(actor, step, body, target, now, key)
            # The version in the WHERE is belt and braces: the change-number lock already
            # makes this the only writer, and the version was checked above.
            updated = connection.execute(
                _UPDATE_CASE,
                {**work.changed, "last_seq": seq, "_id": target.id, "_version": target.version},
            )
            if updated.rowcount != 1:
                raise RuntimeError(f"apply_step: case {case_uuid} changed under the lock")
            self._append(
                connection, target.id, target.uuid, work.department, work.event, seq, now, work.done
            )
            return work.text, work.public

    def _step_target(
        self, connection: Any, actor: Actor, case_uuid: str, key: str, version: int, now: datetime
    ) -> Any:
        """The case row a step applies to, or the answer already given to its command id.

        Raises what the step cannot get past: the command id used by someone else, no such case
        (or not visible), a stale version (409 with the current case)."""
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
            return done.done_response, S.CasePublic.model_validate_json(done.done_response)
        if row is None or not self._can_see(actor, row):
            raise NotFound(f"没有编号为 {case_uuid} 的工单", f"No case {case_uuid}")
        if version != row.version:
            current = to_public(row, actor, now)
            connection.rollback()
            raise VersionConflict(current, version)
        return row

    def _stepped(
        self, actor: Actor, step: Step, body: S.StepBody, row: Any, now: datetime, key: str
    ) -> _StepWork:
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
        return _StepWork(changed, event, after.department, public, text, done)

    def _step_in_one_statement(
        self, actor: Actor, case_uuid: str, step: Step, body: S.StepBody, key: str, now: datetime
    ) -> tuple[str, S.CasePublic]:
        """A step on PostgreSQL: read the case (no lock), apply the domain's rules, then write
        everything in one statement on its own (``_step_sql``), as creates do. The statement
        updates the case only at the version read; when another step came first it writes
        nothing, and the step is read again (a 409, or a retry's stored answer)."""
        for _ in range(2):
            with self._autocommit.connect() as connection:
                target = self._step_target(connection, actor, case_uuid, key, body.version, now)
                if isinstance(target, tuple):
                    return target
                work = self._stepped(actor, step, body, target, now, key)
                params = {
                    **work.changed,
                    "_id": target.id,
                    "_version": target.version,
                    **_append_params(
                        target.id, target.uuid, work.department, work.event, 0, now, work.done
                    ),
                }
                written = connection.execute(_step_sql(frozenset(work.changed)), params).first()
            if written is not None:
                for listener in self.listeners:
                    listener()
                return work.text, work.public
        raise RuntimeError(f"apply_step: case {case_uuid} keeps changing")

    def deadline_class(self, case: Case) -> DeadlineClass:
        if case.category:
            try:
                return self.router.route(case.category, case.urgency).deadline_class
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
                if code and self.reference.department(code) is None:
                    raise ValidationFailed(
                        [FieldError("department", "unknown", f"未知的单位代码：{code}", code)]
                    )
            if body.platform and self.reference.platform(body.platform) is None:
                raise ValidationFailed(
                    [FieldError("platform", "unknown", f"未知的平台：{body.platform}", "")]
                )
            if body.department:
                d = dispatch_deadlines(
                    now, self.deadline_class(case), case.urgency, self.calendar, self.policy
                )
                assert d.handling_by is not None
                deadline = d.handling_by
                params.update(
                    sign_deadline=d.sign_by.at if d.sign_by else None,
                    return_deadline=d.return_by.at if d.return_by else None,
                    handling_deadline=d.handling_by.at,
                    deadline_provisional=d.provisional,
                )
        elif isinstance(body, S.ResolveBody):
            params["result"] = body.result
            sample = body.sample_callback
            if sample is None:
                sample = self._rng.random() < self.settings.callback_sample_rate
            params["sample_callback"] = sample
        elif isinstance(body, S.ReplyBody):
            params["result"] = body.result
        elif isinstance(body, S.ExtensionRequestBody):
            params["new_deadline"] = body.new_deadline
        elif isinstance(body, S.ExtensionApproveBody) and step is Step.APPROVE_EXTENSION:
            requested = body.deadline or case.requested_deadline
            if case.handling_deadline is not None and requested is not None:
                current = Deadline(
                    case.handling_deadline, case.handling_deadline, 0, DeadlineUnit.FIXED
                )
                deadline = extended_deadline(current, requested, self.calendar, self.policy)
                params["handling_deadline"] = deadline.at
        elif isinstance(body, S.CallbackBody):
            params["reached"] = body.reached
            params["max_callback_tries"] = self.settings.max_callback_tries
        elif isinstance(body, S.RateBody):
            params["satisfaction"] = body.satisfaction
        if step is Step.REOPEN:
            deadline = reopen_deadline(
                now, self.deadline_class(case), case.urgency, self.calendar, self.policy
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

    # -- reads ---------------------------------------------------------------------------------

    def get_case(self, viewer: Actor, case_uuid: str, with_events: bool = True) -> S.CasePublic:
        with Session(self.engine) as session:
            row = self._load(session, viewer, case_uuid)
            events = None
            if with_events:
                events = session.exec(
                    select(EventRow).where(EventRow.case_id == row.id).order_by(col(EventRow.id))
                ).all()
            return to_public(row, viewer, self.now(), events)

    def list_cases(
        self, viewer: Actor, f: CaseFilter, cursor: str | None = None, limit: int = 50
    ) -> S.CasePage:
        now = self.now()
        # Core rows, not ORM objects: a page is read-only, and 50 mapped objects cost ms.
        q: Any = sa.select(_CASES).where(self._visible(viewer))
        if f.status:
            q = q.where(_status_in(f.status))
        if f.department:
            q = q.where(CaseRow.department == f.department)
        if f.platform:
            q = q.where(
                sa.or_(
                    col(CaseRow.platform) == f.platform,
                    col(CaseRow.assigned_platform) == f.platform,
                )
            )
        if f.agent:
            q = q.where(CaseRow.agent == f.agent)
        if f.appeal_type:
            q = q.where(CaseRow.appeal_type == str(f.appeal_type))
        if f.category:
            q = q.where(CaseRow.category == f.category)
        if f.caller_phone:
            q = q.where(col(CaseRow.caller_phone) == f.caller_phone, self._phone_visible(viewer))
        if f.text:
            pattern = "%" + f.text.replace("%", r"\%").replace("_", r"\_") + "%"
            q = q.where(
                sa.or_(
                    col(CaseRow.content).like(pattern, escape="\\"),
                    col(CaseRow.number).like(pattern, escape="\\"),
                )
            )
        if f.overdue is not None:
            open_ = _status_in(OPEN_STATUSES)
            if self.engine.dialect.name == "sqlite":
                # "Most rows pass": without it SQLite walks (status, …) indexes and sorts the
                # overdue rows instead of reading ix_cases_open_deadline in order (measured).
                open_ = sa.func.likelihood(open_, sa.literal_column("0.9"))
            overdue = sa.and_(
                col(CaseRow.handling_deadline).is_not(None),  # never NULL: NOT works
                open_,
                col(CaseRow.replied_at).is_(None),
                col(CaseRow.handling_deadline) <= now,
            )
            q = q.where(overdue if f.overdue else sa.not_(overdue))
        if f.due_before is not None:
            q = q.where(col(CaseRow.handling_deadline) < f.due_before)
        if f.related_to:
            q = q.where(
                sa.or_(
                    col(CaseRow.uuid) == f.related_to,
                    # As the partial index states it, so that the index serves it.
                    sa.and_(sa.text(RELATED_TERM), col(CaseRow.related_to) == f.related_to),
                )
            )
        if f.order == "deadline":
            q = q.where(col(CaseRow.handling_deadline).is_not(None))
            if cursor:
                values = decode_cursor(cursor)
                try:
                    deadline, last_id = values
                    d = datetime.fromisoformat(deadline)
                    last_id = int(last_id)
                except (TypeError, ValueError) as exc:
                    raise _bad_cursor() from exc
                q = q.where(
                    sa.tuple_(col(CaseRow.handling_deadline), col(CaseRow.id))
                    > sa.tuple_(sa.literal(d, UTCDateTimeType), sa.literal(int(last_id)))
                )
            q = q.order_by(col(CaseRow.handling_deadline), col(CaseRow.id))
        else:
            if cursor:
                try:
                    (last_id,) = decode_cursor(cursor)
                    last_id = int(last_id)
                except (TypeError, ValueError) as exc:
                    raise _bad_cursor() from exc
                q = q.where(col(CaseRow.id) < last_id)
            q = q.order_by(col(CaseRow.id).desc())
        with Session(self.engine) as session:
            rows: Any = session.execute(q.limit(limit + 1)).all()
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = None
        if more and rows:
            last = rows[-1]
            next_cursor = encode_cursor(
                [last.handling_deadline, last.id] if f.order == "deadline" else [last.id]
            )
        return S.CasePage(items=[to_public(r, viewer, now) for r in rows], next_cursor=next_cursor)

    def caller_history(self, viewer: Actor, phone: str, limit: int = 20) -> list[S.CasePublic]:
        """The caller's cases, newest first, for the screen pop at the seat."""
        from agent_tui.domain.case import normalize_phone

        try:
            phone = normalize_phone(phone)
        except ValueError as exc:
            raise ValidationFailed(
                [FieldError("phone", "invalid", "电话号码无效", "Invalid phone number")]
            ) from exc
        now = self.now()
        q = (
            sa.select(_CASES)
            .where(
                self._visible(viewer),
                col(CaseRow.caller_phone) == phone,
                self._phone_visible(viewer),
            )
            .order_by(col(CaseRow.registered_at).desc(), col(CaseRow.id).desc())
            .limit(limit)
        )
        with Session(self.engine) as session:
            return [to_public(r, viewer, now) for r in session.execute(q).all()]

    # -- change feed ---------------------------------------------------------------------------

    def changes(self, viewer: Actor, after: int, limit: int = 500) -> S.ChangesPage:
        """The feed after ``after``. Every seat polling at the same position gets the same
        page: it is computed once per (scope, after, head of the feed) and shared."""
        return self.changes_json(viewer, after, limit)[1]

    def cached_changes(
        self, viewer: Actor, after: int, limit: int = 500
    ) -> tuple[bytes, S.ChangesPage] | None:
        """The shared page if some seat already asked for it (no database, no thread)."""
        return self._pages.get((_scope(viewer), after, limit, self.head()))

    def changes_json(
        self, viewer: Actor, after: int, limit: int = 500
    ) -> tuple[bytes, S.ChangesPage]:
        """The page and its JSON, serialised once for every seat at the same position."""
        head = self.head()
        key = (_scope(viewer), after, limit, head)
        cached = self._pages.get(key)
        if cached is not None:
            return cached
        page = self._changes(viewer, after, limit)
        answer = (page.model_dump_json().encode(), page)
        if page.last_seq <= head:  # a page computed against a newer head is not cached
            if len(self._pages) > 256:
                self._pages.clear()
            self._pages[key] = answer
        return answer

    def head(self, max_age: float = 0.25) -> int:
        """The last change number, read from the database at most every ``max_age`` seconds
        per process (local writes refresh it at once): idle long-polls cost no queries."""
        at = time.monotonic()
        if at - self._head_at > max_age:
            self._head = self.last_seq()
            self._head_at = at
        return self._head

    def _changes(self, viewer: Actor, after: int, limit: int) -> S.ChangesPage:
        now = self.now()
        with Session(self.engine) as session:
            rows = session.exec(
                select(ChangeRow)
                .where(col(ChangeRow.seq) > after)
                .order_by(col(ChangeRow.seq))
                .limit(limit)
            ).all()
            if not rows:
                return S.ChangesPage(changes=[], last_seq=after)
            case_ids = {r.case_id for r in rows if r.kind == "case" and r.case_id is not None}
            cases: dict[int, Any] = {}
            if case_ids:
                for found in session.execute(
                    sa.select(_CASES).where(_CASES.c.id.in_(case_ids))
                ).all():
                    cases[found.id] = found
        out: list[S.Change] = []
        emitted: set[int] = set()
        # Newest first so each case appears once, at its last change in this batch.
        for r in reversed(rows):
            if r.kind == "case":
                c = cases.get(r.case_id or -1)
                if c is None or r.case_id in emitted or not self._can_see(viewer, c):
                    continue
                emitted.add(r.case_id or -1)
                out.append(S.Change(seq=r.seq, kind="case", case=to_public(c, viewer, now)))
            else:
                out.append(S.Change(seq=r.seq, kind=r.kind, name=r.name, version=r.version))
        out.reverse()
        return S.ChangesPage(changes=out, last_seq=rows[-1].seq)

    def last_seq(self) -> int:
        """The feed's head: the last change row's number. (Not the counter: a PostgreSQL step
        that lost its race leaves a number unused, see ``_step_sql``.)"""
        with self.engine.connect() as connection:
            value = connection.execute(_LAST_CHANGE).scalar()
            return int(value or 0)

    # -- reference data ------------------------------------------------------------------------

    def reference_sets(self) -> list[S.ReferenceInfo]:
        with Session(self.engine) as session:
            rows = session.exec(select(ReferenceSetRow).order_by(col(ReferenceSetRow.name))).all()
            return [S.ReferenceInfo(name=r.name, version=r.version, etag=r.etag) for r in rows]

    def reference_set(self, name: str) -> ReferenceSetRow:
        with Session(self.engine) as session:
            row = session.get(ReferenceSetRow, name)
            if row is None:
                raise NotFound(f"没有名为 {name} 的参考数据", f"No reference set {name}")
            session.expunge(row)
            return row

    def put_reference_set(self, name: str, body: Any) -> S.ReferenceInfo:
        """Replace a reference set; seats learn of it through the change feed."""
        import hashlib

        text = json.dumps(body, ensure_ascii=False, sort_keys=True)
        etag = hashlib.sha256(text.encode()).hexdigest()[:32]
        now = self.now()
        with self._write() as (session, seq):
            found = session.get(ReferenceSetRow, name)
            if found is None:
                row = ReferenceSetRow(name=name, version=1, etag=etag, body=text, updated_at=now)
            elif found.etag == etag:
                row = found
                unchanged = S.ReferenceInfo(name=name, version=row.version, etag=etag)
                session.rollback()
                return unchanged
            else:
                row = found
                row.version, row.etag, row.body, row.updated_at = row.version + 1, etag, text, now
            session.add(row)
            session.add(
                ChangeRow(seq=seq, kind="reference", name=name, version=row.version, at=now)
            )
            return S.ReferenceInfo(name=name, version=row.version, etag=etag)

    # -- seats ---------------------------------------------------------------------------------

    def heartbeat(self, actor: Actor, beat: S.SeatHeartbeat) -> None:
        now = self.now()
        with Session(self.engine) as session, session.begin():
            row = session.get(SeatRow, beat.seat_id)
            if row is None:
                row = SeatRow(seat_id=beat.seat_id, user_id=actor.user_id, last_seen_at=now)
            row.user_id, row.last_seen_at, row.outbox = actor.user_id, now, beat.outbox
            session.add(row)

    # -- lead summary and KPIs -----------------------------------------------------------------

    def lead_summary(self, viewer: Actor) -> S.LeadSummary:
        now = self.now()
        day_start, day_end = _day(now)
        visible = self._visible(viewer)
        with Session(self.engine) as session:
            grouped = _status_department_counts(session, visible)
            overdue, _due_2h, due_today = _deadline_counts(session, visible, now, day_end)
            callbacks, oldest = session.execute(
                sa.select(sa.func.count(), sa.func.min(CaseRow.updated_at)).where(
                    col(CaseRow.status) == str(Status.CALLBACK_PENDING), visible
                )
            ).one()
            registered_today = session.execute(
                sa.select(sa.func.count()).where(col(CaseRow.registered_at) >= day_start, visible)
            ).scalar_one()
            seats = self._seats(session, now)
        return S.LeadSummary(
            at=now,
            by_status_department=grouped,
            open_total=_open_total(grouped),
            overdue=overdue,
            due_today=due_today,
            callbacks_waiting=callbacks,
            oldest_callback_waiting_since=_aware(oldest),
            registered_today=registered_today,
            seats=seats,
        )

    def _seats(self, session: Session, now: datetime) -> list[S.SeatStatus]:
        cutoff = now - timedelta(seconds=self.settings.seat_offline_after_seconds)
        return [
            S.SeatStatus(
                seat_id=s.seat_id,
                user_id=s.user_id,
                last_seen_at=s.last_seen_at,
                outbox=s.outbox,
                online=s.last_seen_at >= cutoff,
            )
            for s in session.exec(select(SeatRow).order_by(col(SeatRow.seat_id))).all()
        ]

    def dashboard(self, viewer: Actor) -> S.Dashboard:
        """Everything the lead console shows, from aggregate queries over indexes only (the
        lists are ≤ 50 rows each) plus the KPI tiles, which are cached (``kpi_report``)."""
        now = self.now()
        day_start, day_end = _day(now)
        visible = self._visible(viewer)
        with Session(self.engine) as session:
            # One GROUP BY read in index order (ix_cases_status_department_platform, covering),
            # summed both ways here: ≈ 2,000 rows at most against a 14 ms sort for the second.
            by_department: Counter[tuple[str, str]] = Counter()
            by_platform: Counter[tuple[str, str]] = Counter()
            for st, d, p, n in session.execute(
                sa.select(col(CaseRow.status), col(CaseRow.department), col(CaseRow.platform))
                .add_columns(sa.func.count())
                .where(col(CaseRow.status).in_([str(s) for s in _ACTIVE]), visible)
                .group_by(CaseRow.status, CaseRow.department, CaseRow.platform)
            ).all():
                by_department[st, d] += n
                by_platform[st, p] += n
            grouped = [
                S.StatusCount(status=Status(st), department=d, count=n)
                for (st, d), n in by_department.items()
            ]
            overdue, due_2h, due_today = _deadline_counts(session, visible, now, day_end)
            callbacks, oldest, ages = _callback_ages(session, visible, now)
            overdue_cases = _briefs(session, visible, now, None, now)
            due_soon = _briefs(session, visible, now, now, now + _DUE_SOON)
            by_hour, by_type = _volume_today(session, visible, day_start)
            seats = self._seats(session, now)
        # The tiles ready within ``kpi_wait_seconds`` (together); the others are named pending
        # and come with a later answer (their replays go on meanwhile).
        tiles, pending = [], []
        budget = time.monotonic() + self.settings.kpi_wait_seconds
        for period, start, end in kpi_periods(now):
            wait = max(0.0, budget - time.monotonic())
            try:
                found = self.kpi_report(viewer, start, end, cached=True, wait=wait)
            except Exception:  # a failed replay: the board says pending, the log says why
                log.exception("KPI replay failed for %s", period)
                found = None
            if found is None:
                pending.append(period)
                continue
            tile = S.KpiTile(period=period, start=start, end=end, kpis=kpi_out(found[0].total))  # type: ignore[arg-type]
            tiles.append(tile)
        return S.Dashboard(
            at=now,
            by_status_department=grouped,
            by_status_platform=[
                S.PlatformCount(status=Status(st), platform=p, count=n)
                for (st, p), n in by_platform.items()
            ],
            open_total=_open_total(grouped),
            overdue=overdue,
            due_2h=due_2h,
            due_today=due_today,
            callbacks_waiting=callbacks,
            callback_ages=ages,
            oldest_callback_waiting_since=oldest,
            overdue_cases=overdue_cases,
            due_soon_cases=due_soon,
            seats=seats,
            volume_by_hour=by_hour,
            volume_by_type=by_type,
            kpis=tiles,
            kpis_pending=pending,
            hotspots=self.hotspots(viewer),
        )

    def forget_reports(self) -> None:
        """Drop the cached KPI replays and hot spots (the next request makes them afresh)."""
        with self._kpi_lock:
            self.kpi_cache.clear()
            self._hotspot_cache.clear()

    def hotspots(self, viewer: Actor) -> list[S.Hotspot]:
        """Categories at places rising in the last 24 hours (the rule: ``domain.hotspots``),
        reused for ``kpi_cache_seconds`` per viewer scope: counting 8 days of cases by place
        reads ≈ 22,000 rows at 1M cases a year (≈ 40 ms on SQLite), and a day's rise does not
        change from one refresh to the next."""
        ttl = self.settings.kpi_cache_seconds
        key = _scope(viewer)
        hit = self._hotspot_cache.get(key)
        if ttl > 0 and hit is not None and time.monotonic() - hit[0] <= ttl:
            return hit[1]
        made = time.monotonic()
        found = self._hotspots(viewer)
        if ttl > 0:
            self._hotspot_cache[key] = (made, found)
        return found

    def _hotspots(self, viewer: Actor) -> list[S.Hotspot]:
        now = self.now()
        recent_from = now - timedelta(hours=24)
        since = recent_from - timedelta(days=BASELINE_DAYS)
        visible = self._visible(viewer)
        recent = sa.case((col(CaseRow.registered_at) >= recent_from, 1), else_=0)
        place = _PLACE
        with Session(self.engine) as session:
            counts = session.execute(
                sa.select(
                    col(CaseRow.category),
                    col(CaseRow.county),
                    _PLACE.label("place"),
                    sa.func.sum(recent),
                    sa.func.count(),
                )
                .where(col(CaseRow.registered_at) >= since, visible)
                .group_by(col(CaseRow.category), col(CaseRow.county), _PLACE)
                .having(sa.func.sum(recent) >= MIN_CASES)  # the rule's first half, in SQL
            ).all()
            found = find_hotspots(
                PlaceCount(c, k, p or "", int(last), int(n) - int(last))
                for c, k, p, last, n in counts
            )
            open_cases: dict[tuple[str, str, str], list[str]] = {}
            spots = sa.or_(
                sa.false(),
                *(
                    sa.and_(
                        col(CaseRow.category) == h.category,
                        col(CaseRow.county) == h.county,
                        place == h.place,
                    )
                    for h in found
                ),
            )
            if found:
                # Open or not is sorted out here: with the status in the WHERE, SQLite walks
                # every open case by status instead of the 8 days by registration (measured).
                rows = session.execute(
                    sa.select(
                        col(CaseRow.uuid),
                        col(CaseRow.category),
                        col(CaseRow.county),
                        _PLACE,
                        col(CaseRow.status),
                    )
                    .where(col(CaseRow.registered_at) >= since, visible, spots)
                    # Newest first in the index's order: ORDER BY id made SQLite scan the table.
                    .order_by(col(CaseRow.registered_at).desc(), col(CaseRow.id).desc())
                ).all()
                for u, c, k, p, status in rows:
                    uuids = open_cases.setdefault((c, k, p), [])
                    if status in _OPEN_CODES and len(uuids) < _LIST_MAX:
                        uuids.append(u)
        return [_hotspot(h, open_cases.get((h.category, h.county, h.place), [])) for h in found]

    # -- KPIs ----------------------------------------------------------------------------------

    def kpis(self, viewer: Actor, start: datetime, end: datetime, group_by: GroupBy) -> KpiReport:
        """KPIs over [start, end) from the events of every case active in the period (the
        cases ``viewer`` may see: a county lead's are its platform's)."""
        return self._replay(viewer, start, end, group_by, self.now())[0]

    def kpi_report(
        self,
        viewer: Actor,
        start: datetime,
        end: datetime,
        group_by: GroupBy = GroupBy.NONE,
        *,
        cached: bool = False,
        wait: float | None = None,
    ) -> tuple[KpiReport, _CaseIds] | None:
        """``kpis`` and the cases behind each ranked figure.

        With ``cached``, a replay of the same scope and period is reused while younger than
        ``kpi_cache_seconds`` (periods of a day or less) or ``kpi_cache_long_seconds`` (the
        week and the month), and an older one is answered at once while a fresh one is made in
        the background (stale-while-revalidate). A replay reads every event of every case
        active in the period (seconds at 1M cases, docs/benchmarks.md), so it runs on the
        replay runner (``kpi_processes``: a process of its own) and concurrent requests share
        one. A first request waits ``wait`` seconds for it (None: as long as it takes) and gets
        None if it is not done by then.
        """
        long = end - start > timedelta(days=1)
        ttl = self.settings.kpi_cache_long_seconds if long else self.settings.kpi_cache_seconds
        if not cached or ttl <= 0:
            return self._replay(viewer, start, end, group_by, self.now())
        key = (_scope(viewer), start, end, group_by)
        hit = self.kpi_cache.get(key)
        if hit is not None:
            made, report, ids = hit
            if time.monotonic() - made > ttl:
                self._run_replay(key, viewer, start, end, group_by)
            return report, ids
        running, started = self._run_replay(key, viewer, start, end, group_by)
        try:
            # Only the request that started the replay waits (``wait``); later ones while it
            # runs answer at once.
            return running.result(timeout=wait if started or wait is None else 0)
        except TimeoutError:
            return None

    def _run_replay(
        self, key: tuple[Any, ...], viewer: Actor, start: datetime, end: datetime, by: GroupBy
    ) -> tuple[Future[tuple[KpiReport, _CaseIds]], bool]:
        """The replay for ``key``: the one running (False), or a new one on the runner (True)."""
        with self._kpi_lock:
            running = self._kpi_running.get(key)
            if running is not None:
                return running, False
            if self._kpi_runner is None:
                self._kpi_runner = self._make_kpi_runner()
            replay: Any = self._replay
            if isinstance(self._kpi_runner, ProcessPoolExecutor):
                from agent_tui.server import kpi_worker

                replay = kpi_worker.replay
            running = self._kpi_runner.submit(replay, viewer, start, end, by, self.now())
            self._kpi_running[key] = running

        def done(future: Future[tuple[KpiReport, _CaseIds]]) -> None:
            if not future.cancelled() and future.exception() is None:
                self._remember(key, *future.result())
            with self._kpi_lock:
                self._kpi_running.pop(key, None)

        running.add_done_callback(done)
        return running, True

    def _make_kpi_runner(self) -> Executor:
        url = self.engine.url
        if self.settings.kpi_processes <= 0 or url.database in (None, "", ":memory:"):
            return ThreadPoolExecutor(1, thread_name_prefix="kpi")
        from agent_tui.server import kpi_worker

        try:
            with _real_stderr():
                runner = ProcessPoolExecutor(
                    self.settings.kpi_processes,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=kpi_worker.start,
                    initargs=(
                        url.render_as_string(hide_password=False),
                        self.settings.model_dump(),
                        os.getpid(),
                    ),
                )
        except (OSError, ValueError):  # no processes here: the tiles come from a thread
            log.warning("KPI replays run in a thread: no replay process", exc_info=True)
            return ThreadPoolExecutor(1, thread_name_prefix="kpi")
        return runner

    def warm_reports(self) -> None:
        """Start the replays of the city-wide KPI tiles that are missing or stale, without
        waiting for them (the clock loop calls this; a county lead's tiles are made on first
        request)."""
        if self.settings.kpi_cache_seconds <= 0:
            return
        centre = Actor(user_id="system", role=Role.LEAD)
        for _period, start, end in kpi_periods(self.now()):
            self.kpi_report(centre, start, end, cached=True, wait=0)

    def close(self) -> None:
        """Stop the replay runner (the server is shutting down)."""
        with self._kpi_lock:
            runner, self._kpi_runner = self._kpi_runner, None
        if runner is not None:
            runner.shutdown(wait=False, cancel_futures=True)

    def _remember(self, key: tuple[Any, ...], report: KpiReport, ids: _CaseIds) -> None:
        with self._kpi_lock:
            if len(self.kpi_cache) >= 64:  # scopes × periods: old periods go
                self.kpi_cache.clear()
            self.kpi_cache[key] = (time.monotonic(), report, ids)

    def _replay(
        self, viewer: Actor, start: datetime, end: datetime, group_by: GroupBy, now: datetime
    ) -> tuple[KpiReport, _CaseIds]:
        # Cases with a step in the period, and open cases whose deadline fell in it (a case
        # left unreplied past its deadline counts as late though nothing happened).
        active: Any = sa.union(
            sa.select(_EVENTS.c.case_id).where(_EVENTS.c.at >= start, _EVENTS.c.at < end),
            sa.select(_CASES.c.id).where(
                _CASES.c.handling_deadline >= start, _CASES.c.handling_deadline < end
            ),
        )
        if viewer.role is Role.DEPARTMENT or viewer.is_county:
            active = sa.select(_CASES.c.id).where(_CASES.c.id.in_(active), self._visible(viewer))
        # Core rows (no ORM objects, no ORDER BY: ``compute_kpis`` orders by time itself).
        q = sa.select(_EVENTS).where(_EVENTS.c.case_id.in_(active))
        with self.engine.connect() as connection:
            rows = connection.execute(q).all()
        ids = {r.case_uuid: r.case_id for r in rows}
        trace: KpiTrace = {}
        report = compute_kpis(
            [event_from_row(r, KPI_FIELDS) for r in rows],
            start=start,
            end=end,
            now=now,
            group_by=group_by,
            trace=trace,
        )
        return report, _CaseIds.of(trace, ids)

    def kpi_cases(
        self,
        viewer: Actor,
        kpi: str,
        part: str,
        start: datetime,
        end: datetime,
        cursor: str | None = None,
        limit: int = 50,
    ) -> S.CasePage:
        """The cases behind a KPI over [start, end): its denominator (``all``), the numerator
        (``met``) or the rest (``missed``), newest first, keyset-paged like ``list_cases``."""
        found = self.kpi_report(viewer, start, end, cached=True)
        assert found is not None  # no wait limit: the replay's answer
        ids = found[1].get(kpi, part)
        upto = len(ids)
        if cursor:
            try:
                (last_id,) = decode_cursor(cursor)
                upto = bisect.bisect_left(ids, int(last_id))
            except (TypeError, ValueError) as exc:
                raise _bad_cursor() from exc
        page = ids[max(0, upto - limit - 1) : upto][::-1]
        now = self.now()
        rows: list[Any] = []
        if page[:limit]:
            with self.engine.connect() as connection:
                rows = list(
                    connection.execute(
                        sa.select(_CASES)
                        .where(_CASES.c.id.in_(page[:limit]))
                        .order_by(_CASES.c.id.desc())
                    ).all()
                )
        next_cursor = encode_cursor([page[limit - 1]]) if len(page) > limit else None
        return S.CasePage(items=[to_public(r, viewer, now) for r in rows], next_cursor=next_cursor)

    # -- clock jobs ----------------------------------------------------------------------------

    def run_clock(self, now: datetime | None = None) -> int:
        """Raise supervision on cases near or past their deadline; returns the steps taken.

        Safe with several workers: each step's command id is derived from the case, the level
        and the deadline, so a second worker doing the same finds it done (idempotency).
        """
        now = now or self.now()
        horizon = now + timedelta(days=3)  # no reminder is due further ahead than this
        with Session(self.engine) as session:
            candidates = session.exec(
                select(CaseRow).where(
                    _status_in(OPEN_STATUSES),
                    col(CaseRow.handling_deadline) <= horizon,
                    col(CaseRow.replied_at).is_(None),
                    col(CaseRow.supervision) < int(SupervisionLevel.PUBLIC_NOTICE),
                )
            ).all()
        taken = 0
        steps = {
            SupervisionLevel.REMINDED: Step.REMIND,
            SupervisionLevel.NOTICE: Step.NOTICE,
            SupervisionLevel.PUBLIC_NOTICE: Step.PUBLIC_NOTICE,
        }
        for row in candidates:
            assert row.handling_deadline is not None
            deadline = Deadline(
                at=row.handling_deadline,
                start=row.deadline_start or row.dispatched_at or row.handling_deadline,
                amount=row.deadline_amount,
                unit=DeadlineUnit(row.deadline_unit) if row.deadline_unit else DeadlineUnit.FIXED,
                provisional=row.deadline_provisional,
            )
            due = supervision_due(now, deadline, self.calendar, self.policy)
            if due <= SupervisionLevel(row.supervision) or due not in steps:
                continue
            key = uuid_mod.uuid5(
                uuid_mod.NAMESPACE_URL,
                f"clock:{row.uuid}:{int(due)}:{row.handling_deadline.isoformat()}",
            )
            try:
                self.apply_step(
                    SYSTEM, row.uuid, steps[due], S.StepBody(command_id=key, version=row.version)
                )
                taken += 1
            except (VersionConflict, DomainError):
                continue  # changed meanwhile: the next run looks again
        return taken


_CLOSED = frozenset({Status.ARCHIVED, Status.REFUSED, Status.RESOLVED})
#: Cases the lead still watches: open, or waiting for / in their callback and rating.
_ACTIVE = frozenset(s for s in Status if s not in _CLOSED)
_OPEN_CODES = frozenset(str(s) for s in OPEN_STATUSES)
_DUE_SOON = timedelta(hours=2)
_LIST_MAX = 50

# Core statements built once: parameters bound per call, so SQLAlchemy compiles each once
# (building ``insert(...).values(**row)`` per call cost ≈ 1.5 ms in cache keys alone).
_CASES: Any = sa.inspect(CaseRow).local_table
_INSERT_CASE = sa.insert(_CASES).returning(_CASES.c.id)
_EVENTS: Any = sa.inspect(EventRow).local_table
_CHANGES: Any = sa.inspect(ChangeRow).local_table
_INSERT_EVENT = sa.insert(_EVENTS)
_INSERT_CHANGE = sa.insert(_CHANGES)
_IDEMPOTENCY: Any = sa.inspect(IdempotencyRow).local_table


@contextmanager
def _real_stderr() -> Iterator[None]:
    """multiprocessing hands ``sys.stderr``'s descriptor to the processes it starts; a terminal
    UI around the embedded store (the demo) has replaced ``sys.stderr`` by an object without
    one, and starting a process would fail: the process's stderr for the while."""
    saved = sys.stderr
    try:
        try:
            usable = saved.fileno() >= 0  # Textual's stand-in answers -1
        except (AttributeError, OSError, ValueError):
            usable = False
        if not usable:
            sys.stderr = sys.__stderr__
        yield
    finally:
        sys.stderr = saved


@dataclass(frozen=True)
class _StepWork:
    """A step worked out before it is written (``Store._stepped``)."""

    changed: dict[str, Any]
    event: Event
    department: str
    public: S.CasePublic
    text: str
    done: dict[str, Any]


def _append_params(
    case_id: int,
    case_uuid: str,
    department: str,
    event: Event,
    seq: int,
    now: datetime,
    done: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The event (``e_``), change (``c_``) and answer (``d_``) rows of a write, as parameters."""
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
        "c_at": now,
    }
    if done is not None:
        params.update({f"d_{k}": v for k, v in done.items()})
    return params


def _unprefixed(params: dict[str, Any], prefix: str) -> dict[str, Any]:
    return {k[len(prefix) :]: v for k, v in params.items() if k.startswith(prefix)}


@functools.lru_cache(maxsize=256)
def _step_sql(columns: frozenset[str]) -> Any:
    """A step on PostgreSQL in one statement (run on its own, autocommit): the change number,
    the case's changed ``columns`` at the version read, its event, its change row and the
    command's answer. When the version no longer matches, the case is not updated and nothing
    else is written; the change number taken is then not used (the feed's head is the last
    change row, see ``last_seq``, so a gap costs readers nothing)."""
    sets = ", ".join(f"{c} = :{c}" for c in sorted(columns))
    return sa.text(
        "WITH n AS ("
        " UPDATE counters SET value = value + 1 WHERE name = 'change_seq' RETURNING value"
        "), u AS ("
        f" UPDATE cases SET {sets}, last_seq = n.value FROM n"
        " WHERE cases.id = :_id AND cases.version = :_version"
        " RETURNING cases.id, n.value AS seq"
        "), e AS ("
        " INSERT INTO case_events"
        " (case_id, case_uuid, seq, step, actor, role, at, from_status, to_status, reason,"
        " changes, version)"
        " SELECT u.id, CAST(:e_case_uuid AS text), u.seq, CAST(:e_step AS text),"
        " CAST(:e_actor AS text), CAST(:e_role AS text), CAST(:e_at AS timestamptz),"
        " CAST(:e_from_status AS text), CAST(:e_to_status AS text), CAST(:e_reason AS text),"
        " CAST(:e_changes AS text), CAST(:e_version AS integer) FROM u"
        "), d AS ("
        " INSERT INTO idempotency_keys (key, user_id, status_code, response, created_at)"
        " SELECT CAST(:d_key AS text), CAST(:d_user_id AS text), CAST(:d_status_code AS integer),"
        " CAST(:d_response AS text), CAST(:d_created_at AS timestamptz) FROM u"
        ")"
        " INSERT INTO changes (seq, kind, case_id, name, version, department, at)"
        " SELECT u.seq, 'case', u.id, '', CAST(:c_version AS integer),"
        " CAST(:c_department AS text), CAST(:c_at AS timestamptz) FROM u"
        " RETURNING seq"
    )


def _registration(
    intake: Intake,
    actor: Actor,
    case_uuid: str,
    at: datetime,
    now: datetime,
    related_to: str,
    number: str,
    seq: int,
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
    return case, event, values


def _insert_bound(table: Any, prefix: str) -> Any:
    """``INSERT INTO table`` with every column bound as ``<prefix>_<column>`` (not ``id``)."""
    return sa.insert(table).values(
        {
            c.name: sa.bindparam(f"{prefix}_{c.name}", type_=c.type)
            for c in table.columns
            if c.name != "id"
        }
    )


#: ``WITH ev AS (INSERT INTO case_events …) INSERT INTO changes …``: both rows, one statement;
#: a step also stores its command's answer in it.
_APPEND_PG = _insert_bound(_CHANGES, "c").add_cte(_insert_bound(_EVENTS, "e").cte("ev"))
_APPEND_DONE_PG = _insert_bound(_CHANGES, "c").add_cte(
    _insert_bound(_EVENTS, "e").cte("ev"), _insert_bound(_IDEMPOTENCY, "d").cte("done")
)
_INSERT_DONE = sa.insert(_IDEMPOTENCY)
_SELECT_DONE = sa.select(
    _IDEMPOTENCY.c.user_id.label("done_user"), _IDEMPOTENCY.c.response.label("done_response")
).where(_IDEMPOTENCY.c.key == sa.bindparam("key"))
_SELECT_CASE = sa.select(_CASES).where(_CASES.c.uuid == sa.bindparam("uuid"))
_SELECT_CASE_AND_DONE = sa.select(
    _CASES,
    *(
        sa.select(c).where(_IDEMPOTENCY.c.key == sa.bindparam("key")).scalar_subquery().label(name)
        for c, name in (
            (_IDEMPOTENCY.c.user_id, "done_user"),
            (_IDEMPOTENCY.c.response, "done_response"),
        )
    ),
).where(_CASES.c.uuid == sa.bindparam("uuid"))
#: SET comes from the parameters given (the columns a step changed); one compiled form each.
_UPDATE_CASE = sa.update(_CASES).where(
    _CASES.c.id == sa.bindparam("_id"), _CASES.c.version == sa.bindparam("_version")
)
#: A create whose uuid is taken inserts nothing (and returns no id) instead of failing.
_INSERT_NEW_CASE = (
    sqlite_insert(_CASES).on_conflict_do_nothing(index_elements=["uuid"]).returning(_CASES.c.id)
)
_CASE_COLUMNS_BUT = [c.name for c in _CASES.columns if c.name not in ("id", "number", "last_seq")]
#: A create on PostgreSQL, whole, in one statement (run on its own, autocommit): the change
#: number and the day's running number (the counters, locked in that order as ``_write_core``
#: does), the case, its register event (its ``number`` filled in) and its change row. The case
#: comes as one JSON parameter: a case has over 50 columns, and psycopg neither caches the
#: parsing of a statement with more than 50 parameters nor adapts them cheaply. No ON CONFLICT
#: for the uuid: a repeat fails whole, so it spends no number.
_CREATE_PG = sa.text(
    "WITH n AS ("
    " INSERT INTO counters (name, value) VALUES ('change_seq', 1), (:counter, 1)"
    " ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING name, value"
    "), v AS ("
    " SELECT max(value) FILTER (WHERE name = 'change_seq') AS seq,"
    " max(value) FILTER (WHERE name <> 'change_seq')::text AS running FROM n"
    "), k AS ("
    " SELECT seq, CAST(:prefix AS text) || lpad(running, greatest(4, length(running)), '0')"
    " AS number FROM v"
    "), c AS ("
    f" INSERT INTO cases ({', '.join(_CASE_COLUMNS_BUT)}, number, last_seq)"
    f" SELECT {', '.join('r.' + c for c in _CASE_COLUMNS_BUT)}, k.number, k.seq"
    " FROM json_populate_record(NULL::cases, CAST(:row AS json)) AS r, k"
    " RETURNING id, number, last_seq"
    "), e AS ("
    " INSERT INTO case_events"
    " (case_id, case_uuid, seq, step, actor, role, at, from_status, to_status, reason,"
    " changes, version)"
    " SELECT c.id, CAST(:uuid AS text), c.last_seq, CAST(:step AS text), CAST(:actor AS text),"
    " CAST(:role AS text), CAST(:at AS timestamptz), NULL, CAST(:to_status AS text),"
    " CAST(:reason AS text),"
    " jsonb_set(CAST(:changes AS jsonb), '{number,1}', to_jsonb(c.number))::text,"
    " CAST(:version AS integer) FROM c"
    ")"
    " INSERT INTO changes (seq, kind, case_id, name, version, department, at)"
    " SELECT c.last_seq, 'case', c.id, '', CAST(:version AS integer),"
    " CAST(:department AS text), CAST(:now AS timestamptz) FROM c"
    " RETURNING case_id AS id, seq, (SELECT number FROM c) AS number"
)


def _row_json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime: store aware UTC instants only")
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__}")


_LAST_CHANGE = sa.select(sa.func.max(_CHANGES.c.seq))
_NEXT_SEQ = sa.text(
    "UPDATE counters SET value = value + 1 WHERE name = 'change_seq' RETURNING value"
)
#: The change number and another counter (a day's case numbers) in one statement.
_NEXT_SEQ_AND_COUNTER = sa.text(
    "INSERT INTO counters (name, value) VALUES ('change_seq', 1), (:name, 1) "
    "ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING name, value"
)
_PLATFORM: Any = sa.inspect(PlatformRow).local_table
_PLATFORM_PREFIX = sa.select(_PLATFORM.c.number_prefix).where(
    _PLATFORM.c.code == sa.bindparam("code")
)


def _status_in(statuses: Any) -> Any:
    """``status IN ('a', 'b', ...)`` with the codes written into the SQL, sorted.

    Literal, not bound: the partial indexes over open cases (migration 0003) are used only when
    the query holds their predicate as written (SQLite) or provably from constants (PostgreSQL,
    whose cached generic plans see parameters, not values). The codes are enum values.
    """
    codes = sorted({str(Status(s)) for s in statuses})
    return _CASES.c.status.in_([sa.literal_column(f"'{c}'") for c in codes])


def _scope(viewer: Actor) -> tuple[str, str]:
    """Viewers that see the same feed (visibility and masking): one cached page each."""
    if viewer.role is Role.DEPARTMENT:
        return ("department", viewer.department)
    if viewer.is_county:
        return ("platform", viewer.platform)
    return ("centre", "")


#: For binding a Python datetime in a tuple comparison with the UTC column type.
UTCDateTimeType = CaseRow.__table__.c.handling_deadline.type  # type: ignore[attr-defined]


#: A case's place for hot spots (``domain.hotspots.place_of``): the village, else the road, else
#: the township. The '' are literal so that PostgreSQL sees one expression in SELECT and GROUP BY.
_PLACE: Any = sa.func.coalesce(
    sa.func.nullif(_CASES.c.village, sa.literal_column("''")),
    sa.func.nullif(_CASES.c.road, sa.literal_column("''")),
    _CASES.c.township,
)


def _day(now: datetime) -> tuple[datetime, datetime]:
    """Today in Zhumadian: [midnight, next midnight)."""
    start = now.astimezone(SHANGHAI).replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


def kpi_periods(now: datetime) -> list[tuple[str, datetime, datetime]]:
    """The dashboard's KPI periods (Asia/Shanghai): today, this week (from Monday) and this
    month (from the 1st), each to its end: the figures count nothing after ``now`` anyway."""
    day, tomorrow = _day(now)
    week = day - timedelta(days=day.weekday())
    month = day.replace(day=1)
    next_month = (month + timedelta(days=32)).replace(day=1)
    return [
        ("today", day, tomorrow),
        ("week", week, week + timedelta(days=7)),
        ("month", month, next_month),
    ]


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _status_department_counts(session: Session, visible: Any) -> list[S.StatusCount]:
    rows = session.execute(
        sa.select(col(CaseRow.status), col(CaseRow.department), sa.func.count())
        .where(col(CaseRow.status).in_([str(s) for s in _ACTIVE]), visible)
        .group_by(CaseRow.status, CaseRow.department)
    ).all()
    return [S.StatusCount(status=Status(s), department=d, count=n) for s, d, n in rows]


def _open_total(grouped: list[S.StatusCount]) -> int:
    return sum(c.count for c in grouped if c.status in OPEN_STATUSES)


def _unreplied(visible: Any) -> Any:
    """Open unreplied cases with a deadline: the partial index ``ix_cases_open_deadline``."""
    return sa.and_(
        col(CaseRow.handling_deadline).is_not(None),
        _status_in(OPEN_STATUSES),
        col(CaseRow.replied_at).is_(None),
        visible,
    )


def _deadline_counts(
    session: Session, visible: Any, now: datetime, day_end: datetime
) -> tuple[int, int, int]:
    """(overdue, due within two hours, due by the end of today) among open unreplied cases."""
    deadline = col(CaseRow.handling_deadline)

    def count(*where: Any) -> int:
        return int(
            session.execute(
                sa.select(sa.func.count()).where(_unreplied(visible), *where)
            ).scalar_one()
        )

    return (
        count(deadline <= now),
        count(deadline > now, deadline <= now + _DUE_SOON),
        count(deadline > now, deadline <= day_end),
    )


#: Callback ages: since the reply (or, a directly resolved case, since it entered the queue).
CALLBACK_AGES = ("<1d", "1-3d", ">3d")


def _callback_ages(
    session: Session, visible: Any, now: datetime
) -> tuple[int, datetime | None, dict[str, int]]:
    """Callbacks waiting, the oldest, and how many by age. Two queries, each reading one index
    range: replied cases by ``replied_at`` (``ix_cases_status_replied_deadline`` alone), and
    the few directly resolved ones (no reply) by when they entered the queue."""
    day, three = now - timedelta(days=1), now - timedelta(days=3)
    waiting = col(CaseRow.status) == str(Status.CALLBACK_PENDING)
    total, oldest, counts = 0, None, [0, 0, 0]
    replied = col(CaseRow.replied_at)
    for since, where in (
        (replied, replied.is_not(None)),
        (col(CaseRow.updated_at), replied.is_(None)),
    ):
        n, first, young, middle, old = session.execute(
            sa.select(
                sa.func.count(),
                sa.func.min(since),
                sa.func.sum(sa.case((since > day, 1), else_=0)),
                sa.func.sum(sa.case((sa.and_(since <= day, since > three), 1), else_=0)),
                sa.func.sum(sa.case((since <= three, 1), else_=0)),
            ).where(waiting, where, visible)
        ).one()
        total += int(n)
        first = _aware(first)
        if first is not None and (oldest is None or first < oldest):
            oldest = first
        for i, k in enumerate((young, middle, old)):
            counts[i] += int(k or 0)
    return total, oldest, dict(zip(CALLBACK_AGES, counts, strict=True))


def _briefs(
    session: Session, visible: Any, now: datetime, after: datetime | None, upto: datetime
) -> list[S.CaseBrief]:
    """Open unreplied cases due in (after, upto], soonest first (the overdue: most late first)."""
    deadline = col(CaseRow.handling_deadline)
    where = [_unreplied(visible), deadline <= upto]
    if after is not None:
        where.append(deadline > after)
    c = _CASES.c
    rows = session.execute(
        sa.select(
            c.uuid,
            c.number,
            c.status,
            c.department,
            c.platform,
            c.category,
            c.county,
            sa.func.substr(c.content, 1, 40).label("content"),
            c.handling_deadline,
            c.supervision,
        )
        .where(*where)
        .order_by(c.handling_deadline, c.id)
        .limit(_LIST_MAX)
    ).all()
    return [
        S.CaseBrief(
            uuid=r.uuid,
            number=r.number,
            status=Status(r.status),
            department=r.department,
            platform=r.platform,
            category=r.category,
            county=r.county,
            content=r.content[:40],
            handling_deadline=r.handling_deadline,
            minutes_left=math.floor((r.handling_deadline - now).total_seconds() / 60),
            supervision=r.supervision,
        )
        for r in rows
    ]


def _volume_today(
    session: Session, visible: Any, day_start: datetime
) -> tuple[list[int], dict[str, int]]:
    """Cases registered today by hour (Asia/Shanghai) and by appeal type: one GROUP BY."""
    registered = col(CaseRow.registered_at)
    hours = [day_start + timedelta(hours=h) for h in range(25)]
    rows = session.execute(
        sa.select(
            col(CaseRow.appeal_type),
            sa.func.count(),
            *(
                sa.func.sum(sa.case((sa.and_(registered >= a, registered < b), 1), else_=0))
                for a, b in itertools.pairwise(hours)
            ),
        )
        .where(registered >= hours[0], registered < hours[-1], visible)
        .group_by(col(CaseRow.appeal_type))
    ).all()
    by_hour = [0] * 24
    by_type: dict[str, int] = {}
    for appeal_type, n, *per_hour in rows:
        by_type[appeal_type] = int(n)
        for h, k in enumerate(per_hour):
            by_hour[h] += int(k or 0)
    return by_hour, by_type


def _hotspot(h: HotspotFinding, open_cases: list[str]) -> S.Hotspot:
    return S.Hotspot(
        category=h.category,
        county=h.county,
        place=h.place,
        last_24h=h.last_24h,
        baseline_per_day=round(h.baseline_per_day, 3),
        open_cases=open_cases,
        rule=h.rule,
    )


def _ratio(r: Any) -> S.RatioOut:
    return S.RatioOut(numerator=r.numerator, denominator=r.denominator, value=r.value)


def kpi_out(k: Kpis) -> S.KpiOut:
    return S.KpiOut(
        on_time=_ratio(k.on_time),
        callback=_ratio(k.callback),
        satisfaction=_ratio(k.satisfaction),
        timely_signing=_ratio(k.timely_signing),
        direct_resolution=_ratio(k.direct_resolution),
        returns=_ratio(k.returns),
        reopens=_ratio(k.reopens),
        average_handling_hours=k.average_handling_hours,
        registered=k.registered,
        volume_by_type=dict(k.volume_by_type),
        volume_by_category=dict(k.volume_by_category),
        volume_by_county=dict(k.volume_by_county),
        volume_by_department=dict(k.volume_by_department),
    )


@dataclass(frozen=True, slots=True)
class _CaseIds:
    """The cases behind each ranked KPI of a replay, as sorted case ids (compact: a month at
    1M cases is ≈ 80,000 per figure): ``met`` and ``missed`` per KPI."""

    met: dict[str, list[int]]
    missed: dict[str, list[int]]

    @classmethod
    def of(cls, trace: KpiTrace, ids: dict[str, int]) -> _CaseIds:
        met = {k: sorted(ids[u] for u in traced_cases(trace, k, "met")) for k in TRACED}
        missed = {k: sorted(ids[u] for u in traced_cases(trace, k, "missed")) for k in TRACED}
        return cls(met, missed)

    def get(self, kpi: str, part: str) -> list[int]:
        if part == "met":
            return self.met[kpi]
        if part == "missed":
            return self.missed[kpi]
        return sorted(set(self.met[kpi]) | set(self.missed[kpi]))
