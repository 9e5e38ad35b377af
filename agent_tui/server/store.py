"""``Store``: the central store's concerns, made once per process and put together.

It owns nothing but their wiring. Each concern is its own module:

- ``cases`` — the write path (``Writer``: one writer per SQL dialect) and the case queries;
- ``feed`` — the change feed, its shared page cache and its head;
- ``reference_sets`` — the reference data the seats cache;
- ``seats`` — heartbeats and seat status;
- ``numbers`` — blocks of case numbers reserved for seats (and their record);
- ``reports`` — the lead's board, hot spots and the KPIs (replayed on their own runner);
- ``clock`` — the supervision steps the store takes by itself;
- ``visibility`` (who may see what), ``codec`` (rows ↔ domain ↔ wire), ``context`` (what they
  all share: engine, settings, reference data, calendar, clock, commit listeners).

Routes get the concern they need from ``deps``; the store's operations are also reachable
here by their old names (the CLI, the tests and the benchmarks call them), as the concerns'
own bound methods: no extra call on any path.
"""

from __future__ import annotations

import contextlib
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from agent_tui.config import Settings
from agent_tui.data.reference import ReferenceData
from agent_tui.domain.calendar import WorkCalendar
from agent_tui.domain.deadlines import DEFAULT_POLICY, DeadlinePolicy
from agent_tui.server.cases import writer_for
from agent_tui.server.cases.reads import CaseReads
from agent_tui.server.clock import ClockJobs
from agent_tui.server.context import StoreContext
from agent_tui.server.feed import Feed
from agent_tui.server.numbers import Numbers
from agent_tui.server.reference_sets import ReferenceSets
from agent_tui.server.reports.dashboard import LeadBoard
from agent_tui.server.reports.hotspots import Hotspots
from agent_tui.server.reports.kpis import KpiReports
from agent_tui.server.seats import Seats


class Store:
    """The store's concerns over one engine. One per process; thread-safe."""

    @property
    def calendar(self) -> WorkCalendar:
        """The working-day calendar deadlines count on now (with the imported years)."""
        return self.context.calendar

    def run_clock(self, now: Any = None) -> int:
        """The clock jobs; first the calendar again if another process imported a year."""
        self.references.load_calendar()
        return self.clock_jobs.run_clock(now)

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
        ctx = StoreContext(
            engine, settings, reference=reference, calendar=calendar, policy=policy, clock=clock
        )
        self.context = ctx
        self.engine = ctx.engine
        self.reference = ctx.reference
        self.policy = ctx.policy
        #: Called after every committed write (the feed's head first; the app adds its own).
        self.listeners = ctx.listeners
        self.now = ctx.now

        # The concerns, in dependency order.
        self.writer = writer_for(ctx)
        self.reads = CaseReads(ctx)
        self.feed = Feed(ctx)
        self.references = ReferenceSets(ctx)
        self.seats = Seats(ctx)
        self.numbers = Numbers(ctx)
        self.kpi_reports = KpiReports(ctx)
        self.hotspot_reports = Hotspots(ctx)
        self.board = LeadBoard(ctx, self.seats, self.kpi_reports, self.hotspot_reports)
        self.clock_jobs = ClockJobs(ctx, self.writer)

        # Their operations under the store's names.
        self.create_case = self.writer.create_case
        self.apply_step = self.writer.apply_step
        self.apply_step_json = self.writer.apply_step_json
        self.deadline_class = self.writer.deadline_class
        self.get_case = self.reads.get_case
        self.list_cases = self.reads.list_cases
        self.caller_history = self.reads.caller_history
        self.related_candidates = self.reads.related_candidates
        self.changes = self.feed.changes
        self.changes_json = self.feed.changes_json
        self.cached_changes = self.feed.cached_changes
        self.head = self.feed.head
        self.last_seq = self.feed.last_seq
        self.reference_sets = self.references.reference_sets
        self.reference_set = self.references.reference_set
        self.put_reference_set = self.references.put_reference_set
        self.heartbeat = self.seats.heartbeat
        self.reserve_numbers = self.numbers.reserve
        self.lead_summary = self.board.lead_summary
        self.dashboard = self.board.dashboard
        self.hotspots = self.hotspot_reports.hotspots
        self.kpis = self.kpi_reports.kpis
        self.kpi_report = self.kpi_reports.kpi_report
        self.kpi_cases = self.kpi_reports.kpi_cases
        self.kpi_cache = self.kpi_reports.cache
        self.warm_reports = self.kpi_reports.warm_reports
        # The years an admin imported (a store not yet migrated has none).
        with contextlib.suppress(sa.exc.SQLAlchemyError):
            self.references.load_calendar()

    @property
    def settings(self) -> Settings:
        return self.context.settings

    @settings.setter
    def settings(self, settings: Settings) -> None:
        """Every concern reads the settings from the context: a new value reaches them all."""
        self.context.settings = settings

    def forget_reports(self) -> None:
        """Drop the cached KPI replays and hot spots (the next request makes them afresh)."""
        self.kpi_reports.forget()
        self.hotspot_reports.forget()

    def close(self) -> None:
        """Stop the KPI replay runner and let the writes under way finish (the server is
        shutting down)."""
        self.kpi_reports.close()
        self.context.close()
