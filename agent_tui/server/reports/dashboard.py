"""The lead's board: the summary and the dashboard (counts by status and department or
platform, deadlines, callbacks waiting and their ages, the overdue and due-soon lists, seats,
today's volume), each from aggregate queries over indexes, plus the KPI tiles
(``reports.kpis``) and hot spots (``reports.hotspots``).
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from agent_tui import wire as S
from agent_tui.domain.case import OPEN_STATUSES, Status
from agent_tui.domain.lifecycle import Step
from agent_tui.domain.rules import FINISHED_STATUSES
from agent_tui.server.cases.reads import co_overdue
from agent_tui.server.context import StoreContext
from agent_tui.server.models import CaseRow
from agent_tui.server.reports.hotspots import Hotspots
from agent_tui.server.reports.kpis import KpiReports, kpi_out, kpi_periods, today
from agent_tui.server.reports.leader import leader_tally
from agent_tui.server.seats import Seats
from agent_tui.server.tables import CASES, EVENTS, status_in
from agent_tui.server.visibility import Actor, visible_cases

log = logging.getLogger(__name__)

_CLOSED = FINISHED_STATUSES
#: Cases the lead still watches: open, or waiting for / in their callback and rating.
_ACTIVE = frozenset(s for s in Status if s not in _CLOSED)
_DUE_SOON = timedelta(hours=2)
_LIST_MAX = 50


class LeadBoard:
    """The lead console's two answers, ``lead_summary`` and ``dashboard``."""

    def __init__(
        self, ctx: StoreContext, seats: Seats, kpis: KpiReports, hotspots: Hotspots
    ) -> None:
        self.ctx = ctx
        self.seats = seats
        self.kpis = kpis
        self.hotspots = hotspots

    def lead_summary(self, viewer: Actor) -> S.LeadSummary:
        now = self.ctx.now()
        day_start, day_end = today(now)
        visible = visible_cases(viewer)
        with Session(self.ctx.engine) as session:
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
            seats = self.seats.statuses(session, now, viewer)
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

    def dashboard(self, viewer: Actor) -> S.Dashboard:
        """Everything the lead console shows, from aggregate queries over indexes only (the
        lists are ≤ 50 rows each) plus the KPI tiles, which are cached (``kpi_report``)."""
        now = self.ctx.now()
        day_start, day_end = today(now)
        visible = visible_cases(viewer)
        with Session(self.ctx.engine) as session:
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
            seats = self.seats.statuses(session, now, viewer)
            urges = _urges_today(session, visible, day_start)
            co_late = session.execute(
                sa.select(sa.func.count()).where(visible, co_overdue(viewer, now))
            ).scalar_one()
            _, month_start, month_end = kpi_periods(now)[-1]
            leader = leader_tally(session, visible, month_start, month_end, now)
        # The tiles ready within ``kpi_wait_seconds`` (together); the others are named pending
        # and come with a later answer (their replays go on meanwhile).
        tiles, pending = [], []
        budget = time.monotonic() + self.ctx.settings.kpi_wait_seconds
        for period, start, end in kpi_periods(now):
            wait = max(0.0, budget - time.monotonic())
            try:
                found = self.kpis.kpi_report(viewer, start, end, cached=True, wait=wait)
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
            hotspots=self.hotspots.current(viewer),
            urges_today=urges,
            co_overdue=co_late,
            leader=leader,
        )

    def leader_report(self, viewer: Actor, start: datetime, end: datetime) -> S.LeaderTally:
        """The leader-assigned cases (领导交办) registered in [start, end), counted now."""
        with Session(self.ctx.engine) as session:
            return leader_tally(session, visible_cases(viewer), start, end, self.ctx.now())


def _urges_today(session: Session, visible: Any, day_start: datetime) -> dict[str, int]:
    """Urges (催办) since the start of today by the case's lead department: today's events
    (``ix_case_events_at``) joined to their cases (≈ a day's events, a few thousand rows)."""
    rows = session.execute(
        sa.select(col(CaseRow.department), sa.func.count())
        .select_from(EVENTS.join(CASES, EVENTS.c.case_id == CASES.c.id))
        .where(EVENTS.c.at >= day_start, EVENTS.c.step == str(Step.URGE), visible)
        .group_by(col(CaseRow.department))
    ).all()
    return {department: int(n) for department, n in rows}


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
        status_in(OPEN_STATUSES),
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
    c = CASES.c
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
            c.leader_assigned,
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
            leader_assigned=bool(r.leader_assigned),
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
