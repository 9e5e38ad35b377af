"""Reading cases: one case with its events, the queues (``CaseFilter``, keyset-paged), a
caller's history and the open cases a new one may be linked to. Every query is limited to what
the viewer may see (``visibility``); answers are ``wire.CasePublic`` (``codec.to_public``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from agent_tui import wire as S
from agent_tui.domain.case import (
    OPEN_STATUSES,
    WITH_DEPARTMENT_STATUSES,
    Address,
    AppealType,
    Role,
    Status,
)
from agent_tui.domain.errors import FieldError, ValidationFailed
from agent_tui.server.codec import (
    decode_deadline_cursor,
    decode_id_cursor,
    encode_cursor,
    to_public,
)
from agent_tui.server.context import StoreContext
from agent_tui.server.errors import NotFound
from agent_tui.server.models import RELATED_TERM, CaseRow, EventRow
from agent_tui.server.tables import CASES, SELECT_CASE, status_in
from agent_tui.server.visibility import (
    Actor,
    can_see,
    listed,
    phone_visible,
    visible_cases,
)


@dataclass(frozen=True, slots=True)
class CaseFilter:
    status: tuple[Status, ...] = ()
    department: str = ""
    platform: str = ""
    agent: str = ""
    overdue: bool | None = None
    #: A department's cases as a co-department (协办, True) or as the lead (False); None both.
    co: bool | None = None
    #: Cases whose co-departments' opinions (协办意见) are overdue: for a department, its own
    #: opinion; for the centre, anyone's.
    co_overdue: bool | None = None
    due_before: datetime | None = None
    appeal_type: AppealType | None = None
    category: str = ""
    caller_phone: str = ""
    text: str = ""
    #: A group of related cases: its first case and the cases linked to it.
    related_to: str = ""
    order: str = "newest"  # "newest" (id desc) | "deadline" (handling_deadline asc)


class CaseReads:
    """The case queries of the API (the writes are ``cases.common.Writer``'s)."""

    def __init__(self, ctx: StoreContext) -> None:
        self.ctx = ctx

    def _load(self, connection: Any, viewer: Actor, case_uuid: str) -> Any:
        """The case's Core row (a Session or a Connection), if ``viewer`` may see it."""
        row = connection.execute(SELECT_CASE, {"uuid": case_uuid}).first()
        if row is None or not can_see(viewer, row):
            raise NotFound(f"没有编号为 {case_uuid} 的工单", f"No case {case_uuid}")
        return row

    def get_case(self, viewer: Actor, case_uuid: str, with_events: bool = True) -> S.CasePublic:
        with Session(self.ctx.engine) as session:
            row = self._load(session, viewer, case_uuid)
            events = None
            if with_events:
                events = session.exec(
                    select(EventRow).where(EventRow.case_id == row.id).order_by(col(EventRow.id))
                ).all()
            return to_public(row, viewer, self.ctx.now(), events)

    def list_cases(
        self, viewer: Actor, f: CaseFilter, cursor: str | None = None, limit: int = 50
    ) -> S.CasePage:
        now = self.ctx.now()
        # Core rows, not ORM objects: a page is read-only, and 50 mapped objects cost ms.
        q: Any = sa.select(CASES).where(visible_cases(viewer))
        if f.status:
            q = q.where(status_in(f.status))
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
            q = q.where(col(CaseRow.caller_phone) == f.caller_phone, phone_visible(viewer))
        if f.text:
            # Typed text is text: %, _ and the escape character itself are escaped.
            q = q.where(
                sa.or_(
                    col(CaseRow.content).contains(f.text, autoescape=True),
                    col(CaseRow.number).contains(f.text, autoescape=True),
                )
            )
        if f.overdue is not None:
            open_ = status_in(OPEN_STATUSES)
            if self.ctx.engine.dialect.name == "sqlite":
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
        if f.co is not None and viewer.role is Role.DEPARTMENT:
            assisting = listed(col(CaseRow.co_departments), viewer.department)
            q = q.where(assisting if f.co else sa.not_(assisting))
        if f.co_overdue is not None:
            late = co_overdue(viewer, now)
            q = q.where(late if f.co_overdue else sa.not_(late))
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
                d, last_id = decode_deadline_cursor(cursor)
                q = q.where(
                    sa.tuple_(col(CaseRow.handling_deadline), col(CaseRow.id))
                    > sa.tuple_(sa.literal(d, UTCDateTimeType), sa.literal(last_id))
                )
            q = q.order_by(col(CaseRow.handling_deadline), col(CaseRow.id))
        else:
            if cursor:
                q = q.where(col(CaseRow.id) < decode_id_cursor(cursor))
            q = q.order_by(col(CaseRow.id).desc())
        with Session(self.ctx.engine) as session:
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
        now = self.ctx.now()
        q = (
            sa.select(CASES)
            .where(
                visible_cases(viewer),
                col(CaseRow.caller_phone) == phone,
                phone_visible(viewer),
            )
            .order_by(col(CaseRow.registered_at).desc(), col(CaseRow.id).desc())
            .limit(limit)
        )
        with Session(self.ctx.engine) as session:
            return [to_public(r, viewer, now) for r in session.execute(q).all()]

    def related_candidates(
        self, viewer: Actor, category: str, address: Address, limit: int = 10
    ) -> list[S.CasePublic]:
        """Open cases of the same category at the same village or road registered within the
        window: what the intake offers to link (newest first)."""
        now = self.ctx.now()
        since = now - timedelta(days=self.ctx.settings.related_window_days)
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
            sa.select(CASES)
            .where(
                visible_cases(viewer),
                col(CaseRow.category) == category,
                col(CaseRow.registered_at) >= since,
                col(CaseRow.county) == address.county,
                sa.or_(*place),
                status_in(OPEN_STATUSES),
            )
            .order_by(col(CaseRow.registered_at).desc())
            .limit(limit)
        )
        with self.ctx.engine.connect() as connection:
            rows = connection.execute(q).all()
        return [to_public(r, viewer, now) for r in rows]


#: For binding a Python datetime in a tuple comparison with the UTC column type.
UTCDateTimeType = CaseRow.__table__.c.handling_deadline.type  # type: ignore[attr-defined]


def co_overdue(viewer: Actor, now: datetime) -> Any:
    """The co-departments' opinions overdue now (``rules.co_opinion_overdue`` as SQL): owed
    (``co_pending``; a department: its own), past ``co_opinion_deadline``, while the lead
    department holds the case."""
    owed: Any = col(CaseRow.co_pending) != ""
    if viewer.role is Role.DEPARTMENT:
        owed = listed(col(CaseRow.co_pending), viewer.department)
    return sa.and_(
        owed,
        status_in(WITH_DEPARTMENT_STATUSES),
        col(CaseRow.co_opinion_deadline).is_not(None),
        col(CaseRow.co_opinion_deadline) <= now,
    )
