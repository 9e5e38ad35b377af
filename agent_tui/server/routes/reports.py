"""The lead console's summary and the KPIs, plus health."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query

from agent_tui import wire as S
from agent_tui.domain.case import Role
from agent_tui.domain.errors import FieldError, ValidationFailed
from agent_tui.domain.kpi import GroupBy, Kpis
from agent_tui.server.deps import StoreDep, require
from agent_tui.server.services import Actor, check_instant

router = APIRouter(tags=["reports"])

LeadDep = Annotated[Actor, Depends(require(Role.LEAD, Role.ADMIN))]


@router.get("/health", name="health", tags=["health"])
def health(store: StoreDep) -> dict[str, object]:
    with store.engine.connect() as connection:
        connection.execute(sa.text("SELECT 1"))
    return {"status": "ok", "database": store.engine.dialect.name, "last_seq": store.last_seq()}


@router.get("/reports/summary", name="lead_summary", response_model=S.LeadSummary)
def lead_summary(actor: LeadDep, store: StoreDep) -> S.LeadSummary:
    return store.lead_summary(actor)


def _ratio(r: object) -> S.RatioOut:
    return S.RatioOut(
        numerator=r.numerator,  # type: ignore[attr-defined]
        denominator=r.denominator,  # type: ignore[attr-defined]
        value=r.value,  # type: ignore[attr-defined]
    )


def _kpi_out(k: Kpis) -> S.KpiOut:
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


@router.get("/reports/kpis", name="kpis", response_model=S.KpiReportOut)
def kpis(
    actor: LeadDep,
    store: StoreDep,
    start: datetime,
    end: datetime,
    group_by: Annotated[GroupBy, Query()] = GroupBy.NONE,
) -> S.KpiReportOut:
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
    report = store.kpis(actor, start, end, group_by)
    return S.KpiReportOut(
        start=report.start,
        end=report.end,
        group_by=report.group_by.value,
        total=_kpi_out(report.total),
        groups={k: _kpi_out(v) for k, v in report.groups.items()},
    )
