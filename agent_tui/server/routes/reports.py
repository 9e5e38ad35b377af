"""The lead console's summary and the KPIs, plus health."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query

from agent_tui import wire as S
from agent_tui.domain.case import Role
from agent_tui.domain.errors import FieldError, ValidationFailed
from agent_tui.domain.kpi import GroupBy
from agent_tui.server.codec import check_instant
from agent_tui.server.deps import BoardDep, HotspotsDep, KpisDep, StoreDep, require
from agent_tui.server.reports.kpis import kpi_out
from agent_tui.server.visibility import Actor

router = APIRouter(tags=["reports"])

LeadDep = Annotated[Actor, Depends(require(Role.LEAD, Role.ADMIN))]


@router.get("/health", name="health", tags=["health"])
def health(store: StoreDep) -> dict[str, object]:
    """Liveness, for anyone (load balancers, the seat's login screen): the store answers and
    its database does. Nothing more without a token: the feed's head is
    ``GET /api/changes/head``."""
    with store.engine.connect() as connection:
        connection.execute(sa.text("SELECT 1"))
    return {"status": "ok"}


@router.get("/reports/summary", name="lead_summary", response_model=S.LeadSummary)
def lead_summary(actor: LeadDep, board: BoardDep) -> S.LeadSummary:
    return board.lead_summary(actor)


def _check_period(start: datetime, end: datetime) -> None:
    check_instant("start", start)
    check_instant("end", end)
    if start.tzinfo is None or end.tzinfo is None or end <= start:
        raise ValidationFailed(
            [
                FieldError(
                    "start",
                    "invalid",
                    "起止时间须带时区，且结束晚于开始",
                    "start/end need a time zone and end > start",
                )
            ]
        )


@router.get("/reports/dashboard", name="dashboard", response_model=S.Dashboard)
def dashboard(actor: LeadDep, board: BoardDep) -> S.Dashboard:
    """The lead console: counts, deadlines, callbacks, seats, today's volume, KPI tiles
    (cached for ``kpi_cache_seconds``) and hot spots."""
    return board.dashboard(actor)


@router.get("/reports/leader", name="leader_cases", response_model=S.LeaderTally)
def leader_cases(actor: LeadDep, board: BoardDep, start: datetime, end: datetime) -> S.LeaderTally:
    """Leader-assigned cases (领导交办) registered in [start, end): 受理 / 办结 / 在办 / 超期."""
    _check_period(start, end)
    return board.leader_report(actor, start, end)


@router.get("/reports/hotspots", name="hotspots", response_model=list[S.Hotspot])
def hotspots(actor: LeadDep, spots: HotspotsDep) -> list[S.Hotspot]:
    return spots.current(actor)


@router.get("/reports/kpi-cases", name="kpi_cases", response_model=S.CasePage)
def kpi_cases(
    actor: LeadDep,
    reports: KpisDep,
    kpi: Literal[
        "on_time", "callback", "satisfaction", "resolution", "timely_signing", "direct_resolution"
    ],
    start: datetime,
    end: datetime,
    part: Literal["met", "missed", "all"] = "all",
    after: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> S.CasePage:
    """The cases behind a KPI over [start, end): the numerator (``met``), the rest of the
    denominator (``missed``) or all of it; ``after`` is the ``next_cursor`` of the last page."""
    _check_period(start, end)
    return reports.kpi_cases(actor, kpi, part, start, end, after, limit)


@router.get("/reports/kpis", name="kpis", response_model=S.KpiReportOut)
def kpis(
    actor: LeadDep,
    reports: KpisDep,
    start: datetime,
    end: datetime,
    group_by: Annotated[GroupBy, Query()] = GroupBy.NONE,
) -> S.KpiReportOut:
    _check_period(start, end)
    report = reports.kpis(actor, start, end, group_by)
    return S.KpiReportOut(
        start=report.start,
        end=report.end,
        group_by=report.group_by.value,
        total=kpi_out(report.total),
        groups={k: kpi_out(v) for k, v in report.groups.items()},
    )
