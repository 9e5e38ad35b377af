"""The KPI replay itself: read the events of every case active in a period and run the
domain's formulas (``domain.kpi``) over them. It needs only an engine, so it runs alike in
the server (a thread) and in the replay process (``reports.kpi_worker``): ``replay_period``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from agent_tui.domain.case import Role
from agent_tui.domain.kpi import (
    KPI_FIELDS,
    TRACED,
    GroupBy,
    KpiReport,
    KpiTrace,
    compute_kpis,
    traced_cases,
)
from agent_tui.server.codec import event_from_row
from agent_tui.server.tables import CASES, EVENTS
from agent_tui.server.visibility import Actor, visible_cases


def replay_period(
    engine: Engine, viewer: Actor, start: datetime, end: datetime, group_by: GroupBy, now: datetime
) -> tuple[KpiReport, CaseIds]:
    """KPIs over [start, end) of the cases ``viewer`` may see, and the cases behind them."""
    # Cases with a step in the period, and open cases whose deadline fell in it (a case
    # left unreplied past its deadline counts as late though nothing happened).
    active: Any = sa.union(
        sa.select(EVENTS.c.case_id).where(EVENTS.c.at >= start, EVENTS.c.at < end),
        sa.select(CASES.c.id).where(
            CASES.c.handling_deadline >= start, CASES.c.handling_deadline < end
        ),
    )
    if viewer.role is Role.DEPARTMENT or viewer.is_county:
        active = sa.select(CASES.c.id).where(CASES.c.id.in_(active), visible_cases(viewer))
    # Core rows (no ORM objects, no ORDER BY: ``compute_kpis`` orders by time itself).
    q = sa.select(EVENTS).where(EVENTS.c.case_id.in_(active))
    with engine.connect() as connection:
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
    return report, CaseIds.of(trace, ids)


@dataclass(frozen=True, slots=True)
class CaseIds:
    """The cases behind each ranked KPI of a replay, as sorted case ids (compact: a month at
    1M cases is ≈ 80,000 per figure): ``met`` and ``missed`` per KPI."""

    met: dict[str, list[int]]
    missed: dict[str, list[int]]

    @classmethod
    def of(cls, trace: KpiTrace, ids: dict[str, int]) -> CaseIds:
        met = {k: sorted(ids[u] for u in traced_cases(trace, k, "met")) for k in TRACED}
        missed = {k: sorted(ids[u] for u in traced_cases(trace, k, "missed")) for k in TRACED}
        return cls(met, missed)

    def get(self, kpi: str, part: str) -> list[int]:
        if part == "met":
            return self.met[kpi]
        if part == "missed":
            return self.missed[kpi]
        return sorted(set(self.met[kpi]) | set(self.missed[kpi]))
