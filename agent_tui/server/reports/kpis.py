"""KPI reports: the figures over a period, cached per viewer scope, and the cases behind them.

A replay (``reports.replay``) reads every event of every case active in the period: seconds
at 1M cases. So replays run on a runner of their own (a process, ``reports.kpi_worker``, or a
thread where no process can start), concurrent requests for the same key share one, and the
answers are cached (stale-while-revalidate) for the board's tiles (``kpi_periods``). The
clock loop warms the city's tiles ahead of the lead (``warm_reports``).
"""

from __future__ import annotations

import bisect
import logging
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from agent_tui import wire as S
from agent_tui.domain.calendar import SHANGHAI
from agent_tui.domain.case import Role
from agent_tui.domain.kpi import GroupBy, KpiReport, Kpis
from agent_tui.server.codec import decode_id_cursor, encode_cursor, to_public
from agent_tui.server.context import StoreContext
from agent_tui.server.reports import kpi_worker
from agent_tui.server.reports.replay import CaseIds, replay_period
from agent_tui.server.tables import CASES
from agent_tui.server.visibility import Actor, scope

log = logging.getLogger(__name__)


class KpiReports:
    """The KPI replays of this process: their runner, the ones running, the cache."""

    def __init__(self, ctx: StoreContext) -> None:
        self.ctx = ctx
        #: KPI replays by (viewer scope, start, end, grouping): (made at, the figures, the
        #: cases behind them). See ``kpi_report``.
        self.cache: dict[tuple[Any, ...], tuple[float, KpiReport, CaseIds]] = {}
        self._lock = threading.Lock()
        #: Replays running (one per key), on ``runner`` (a process or a thread).
        self._running: dict[tuple[Any, ...], Future[tuple[KpiReport, CaseIds]]] = {}
        self.runner: Executor | None = None

    def kpis(self, viewer: Actor, start: datetime, end: datetime, group_by: GroupBy) -> KpiReport:
        """KPIs over [start, end) from the events of every case active in the period (the
        cases ``viewer`` may see: a county lead's are its platform's)."""
        return self._replay(viewer, start, end, group_by, self.ctx.now())[0]

    def kpi_report(
        self,
        viewer: Actor,
        start: datetime,
        end: datetime,
        group_by: GroupBy = GroupBy.NONE,
        *,
        cached: bool = False,
        wait: float | None = None,
    ) -> tuple[KpiReport, CaseIds] | None:
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
        ttl = (
            self.ctx.settings.kpi_cache_long_seconds
            if long
            else self.ctx.settings.kpi_cache_seconds
        )
        if not cached or ttl <= 0:
            return self._replay(viewer, start, end, group_by, self.ctx.now())
        key = (scope(viewer), start, end, group_by)
        hit = self.cache.get(key)
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
    ) -> tuple[Future[tuple[KpiReport, CaseIds]], bool]:
        """The replay for ``key``: the one running (False), or a new one on the runner (True)."""
        with self._lock:
            running = self._running.get(key)
            if running is not None:
                return running, False
            if self.runner is None:
                self.runner = self._make_kpi_runner()
            replay: Any = self._replay
            if isinstance(self.runner, ProcessPoolExecutor):
                replay = kpi_worker.replay
            running = self.runner.submit(replay, viewer, start, end, by, self.ctx.now())
            self._running[key] = running

        def done(future: Future[tuple[KpiReport, CaseIds]]) -> None:
            if not future.cancelled() and future.exception() is None:
                self._remember(key, *future.result())
            with self._lock:
                self._running.pop(key, None)

        running.add_done_callback(done)
        return running, True

    def _make_kpi_runner(self) -> Executor:
        url = self.ctx.engine.url
        if self.ctx.settings.kpi_processes <= 0 or url.database in (None, "", ":memory:"):
            return ThreadPoolExecutor(1, thread_name_prefix="kpi")
        try:
            with _real_stderr():
                runner = ProcessPoolExecutor(
                    self.ctx.settings.kpi_processes,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=kpi_worker.start,
                    initargs=(url.render_as_string(hide_password=False), os.getpid()),
                )
        except (OSError, ValueError):  # no processes here: the tiles come from a thread
            log.warning("KPI replays run in a thread: no replay process", exc_info=True)
            return ThreadPoolExecutor(1, thread_name_prefix="kpi")
        return runner

    def warm_reports(self) -> None:
        """Start the replays of the city-wide KPI tiles that are missing or stale, without
        waiting for them (the clock loop calls this; a county lead's tiles are made on first
        request)."""
        if self.ctx.settings.kpi_cache_seconds <= 0:
            return
        centre = Actor(user_id="system", role=Role.LEAD)
        for _period, start, end in kpi_periods(self.ctx.now()):
            self.kpi_report(centre, start, end, cached=True, wait=0)

    def forget(self) -> None:
        """Drop the cached replays (the next request makes them afresh)."""
        with self._lock:
            self.cache.clear()

    def close(self) -> None:
        """Stop the replay runner (the server is shutting down)."""
        with self._lock:
            runner, self.runner = self.runner, None
        if runner is not None:
            runner.shutdown(wait=False, cancel_futures=True)

    def _remember(self, key: tuple[Any, ...], report: KpiReport, ids: CaseIds) -> None:
        with self._lock:
            if len(self.cache) >= 64:  # scopes × periods: old periods go
                self.cache.clear()
            self.cache[key] = (time.monotonic(), report, ids)

    def _replay(
        self, viewer: Actor, start: datetime, end: datetime, group_by: GroupBy, now: datetime
    ) -> tuple[KpiReport, CaseIds]:
        return replay_period(self.ctx.engine, viewer, start, end, group_by, now)

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
        last_id = decode_id_cursor(cursor, "after") if cursor else None  # before a replay
        found = self.kpi_report(viewer, start, end, cached=True)
        assert found is not None  # no wait limit: the replay's answer
        ids = found[1].get(kpi, part)
        upto = len(ids) if last_id is None else bisect.bisect_left(ids, last_id)
        page = ids[max(0, upto - limit - 1) : upto][::-1]
        now = self.ctx.now()
        rows: list[Any] = []
        if page[:limit]:
            with self.ctx.engine.connect() as connection:
                rows = list(
                    connection.execute(
                        sa.select(CASES)
                        .where(CASES.c.id.in_(page[:limit]))
                        .order_by(CASES.c.id.desc())
                    ).all()
                )
        next_cursor = encode_cursor([page[limit - 1]]) if len(page) > limit else None
        return S.CasePage(items=[to_public(r, viewer, now) for r in rows], next_cursor=next_cursor)


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


def today(now: datetime) -> tuple[datetime, datetime]:
    """Today in Zhumadian: [midnight, next midnight)."""
    start = now.astimezone(SHANGHAI).replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


def kpi_periods(now: datetime) -> list[tuple[str, datetime, datetime]]:
    """The dashboard's KPI periods (Asia/Shanghai): today, this week (from Monday) and this
    month (from the 1st), each to its end: the figures count nothing after ``now`` anyway."""
    day, tomorrow = today(now)
    week = day - timedelta(days=day.weekday())
    month = day.replace(day=1)
    next_month = (month + timedelta(days=32)).replace(day=1)
    return [
        ("today", day, tomorrow),
        ("week", week, week + timedelta(days=7)),
        ("month", month, next_month),
    ]


def _ratio(r: Any) -> S.RatioOut:
    return S.RatioOut(numerator=r.numerator, denominator=r.denominator, value=r.value)


def kpi_out(k: Kpis) -> S.KpiOut:
    return S.KpiOut(
        on_time=_ratio(k.on_time),
        callback=_ratio(k.callback),
        callback_sampled=_ratio(k.callback_sampled),
        satisfaction=_ratio(k.satisfaction),
        resolution=_ratio(k.resolution),
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
        replies_by_outcome=dict(k.replies_by_outcome),
    )
