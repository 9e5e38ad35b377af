"""Hot spots: categories rising at a place in the last 24 hours against the days before
(the rule is ``domain.hotspots``; the counting is SQL here), with the open cases behind each,
cached per viewer scope for ``kpi_cache_seconds``.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from agent_tui import wire as S
from agent_tui.domain.case import OPEN_STATUSES, SupervisionLevel
from agent_tui.domain.hotspots import (
    BASELINE_DAYS,
    MIN_CASES,
    HotspotFinding,
    PlaceCount,
    find_hotspots,
)
from agent_tui.server.context import StoreContext
from agent_tui.server.models import CaseRow
from agent_tui.server.tables import CASES
from agent_tui.server.visibility import Actor, scope, visible_cases

_OPEN_CODES = frozenset(str(s) for s in OPEN_STATUSES)
#: Open cases listed per hot spot (as many as the board's other lists).
_LIST_MAX = 50


class Hotspots:
    """The hot spots of this process's viewers, and their cache."""

    def __init__(self, ctx: StoreContext) -> None:
        self.ctx = ctx
        #: Hot spots by viewer scope: (made at, the answer); see ``hotspots``.
        self._cache: dict[tuple[str, str], tuple[float, list[S.Hotspot]]] = {}

    def forget(self) -> None:
        """Drop the cached hot spots (the next request makes them afresh)."""
        self._cache.clear()

    def hotspots(self, viewer: Actor) -> list[S.Hotspot]:
        """Categories at places rising in the last 24 hours (the rule: ``domain.hotspots``),
        reused for ``kpi_cache_seconds`` per viewer scope: counting 8 days of cases by place
        reads ≈ 22,000 rows at 1M cases a year (≈ 40 ms on SQLite), and a day's rise does not
        change from one refresh to the next."""
        ttl = self.ctx.settings.kpi_cache_seconds
        key = scope(viewer)
        hit = self._cache.get(key)
        if ttl > 0 and hit is not None and time.monotonic() - hit[0] <= ttl:
            return hit[1]
        made = time.monotonic()
        found = self._hotspots(viewer)
        if ttl > 0:
            self._cache[key] = (made, found)
        return found

    def current(self, viewer: Actor) -> list[S.Hotspot]:
        """``hotspots`` with the open cases under supervision now (``Hotspot.supervised``),
        read fresh by uuid (≤ 50 a spot): a hot spot supervised a moment ago says so at once,
        though the hot spots themselves are cached."""
        found = self.hotspots(viewer)
        uuids = {u for h in found for u in h.open_cases}
        if not uuids:
            return found
        with Session(self.ctx.engine) as session:
            supervised = set(
                session.execute(
                    sa.select(col(CaseRow.uuid)).where(
                        col(CaseRow.uuid).in_(sorted(uuids)),
                        col(CaseRow.supervision) >= int(SupervisionLevel.SUPERVISED),
                    )
                ).scalars()
            )
        return [
            h.model_copy(update={"supervised": [u for u in h.open_cases if u in supervised]})
            for h in found
        ]

    def _hotspots(self, viewer: Actor) -> list[S.Hotspot]:
        now = self.ctx.now()
        recent_from = now - timedelta(hours=24)
        since = recent_from - timedelta(days=BASELINE_DAYS)
        visible = visible_cases(viewer)
        recent = sa.case((col(CaseRow.registered_at) >= recent_from, 1), else_=0)
        place = _PLACE
        with Session(self.ctx.engine) as session:
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


#: A case's place for hot spots (``domain.hotspots.place_of``): the village, else the road, else
#: the township. The '' are literal so that PostgreSQL sees one expression in SELECT and GROUP BY.
_PLACE: Any = sa.func.coalesce(
    sa.func.nullif(CASES.c.village, sa.literal_column("''")),
    sa.func.nullif(CASES.c.road, sa.literal_column("''")),
    CASES.c.township,
)


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
