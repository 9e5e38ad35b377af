"""The shift lead's board (班长看板): queue status, seats, overdue cases, KPIs and hot spots.

Everything on it is one answer of the central store's ``GET /api/reports/dashboard`` (counts
and short lists the server aggregates; the board never pulls cases to count them), fetched when
the change feed brings something (at most every ``MIN_GAP`` seconds) and every ``EVERY``
seconds for the figures that move with the clock (due within 2 h, seats going silent).

Keys: the board opens on the overdue list (what a lead acts on): Enter opens the case. 1–7
switch the lower pane; ``k`` moves to the KPI tiles, where Enter lists the cases behind a
figure (drill-down); Tab moves between the tiles and the pane, and the focused one has a
bright border; ``s`` on a hot spot puts its open cases under supervision; Ctrl+E writes
today's Excel report, Ctrl+T shows the text summary to paste into a message.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import (
    DataTable,
    Header,
    Label,
    Static,
    TabbedContent,
    TabPane,
    TextArea,
)

from agent_tui import wire
from agent_tui.client.model import domain_case
from agent_tui.client.seat import Seat, SeatError
from agent_tui.data.reference import ReferenceData
from agent_tui.domain.calendar import SHANGHAI
from agent_tui.domain.case import AppealType, Status
from agent_tui.domain.lifecycle import Step, already_supervised
from agent_tui.domain.rules import short_deadline
from agent_tui.i18n import N_, t
from agent_tui.widgets.case_table import LEADER_STYLE, countdown, leader_mark, local, short
from agent_tui.widgets.footer import SteadyFooter
from agent_tui.widgets.seat_bar import SeatBar
from agent_tui.widgets.seat_events import SeatCasesChanged, follow_seat
from agent_tui.widgets.tables import Cell, fill_table

#: Seconds: the board asks again at most this often when the feed brings changes ...
MIN_GAP = 0.25
#: ... and at least this often (deadlines and seats move with the clock).
EVERY = 30.0

#: The KPI tiles: the domain's ranked figures, as the centre names them.
KPI_ROWS: tuple[tuple[str, str], ...] = (
    ("on_time", N_("按时办结率")),
    ("callback", N_("回访率")),
    ("satisfaction", N_("满意率")),
    ("resolution", N_("解决率")),
    ("timely_signing", N_("及时签收率")),
    ("direct_resolution", N_("直办率")),
)
PERIODS: tuple[tuple[str, str], ...] = (
    ("today", N_("今日")),
    ("week", N_("本周")),
    ("month", N_("本月")),
)
#: Columns of the status × department / platform tables: open statuses grouped as a lead
#: reads them.
STATUS_COLUMNS: tuple[tuple[str, tuple[Status, ...]], ...] = (
    (N_("待派单"), (Status.REGISTERED, Status.RETURNED)),
    (N_("待签收"), (Status.DISPATCHED,)),
    (N_("办理中"), (Status.IN_PROGRESS,)),
    (N_("退单/延期申请"), (Status.RETURN_REQUESTED, Status.EXTENSION_REQUESTED)),
    (N_("待审核"), (Status.REPLIED,)),
    (N_("待回访"), (Status.CALLBACK_PENDING, Status.CALLED_BACK)),
)
PANES: tuple[tuple[str, str], ...] = (
    ("late", N_("超期与将到期")),
    ("departments", N_("部门")),
    ("platforms", N_("县区平台")),
    ("callbacks", N_("回访")),
    ("seats", N_("坐席")),
    ("volume", N_("今日来电")),
    ("hotspots", N_("热点")),
)
CALLBACK_AGES: tuple[tuple[str, str], ...] = (
    ("<1d", N_("不足 1 天")),
    ("1-3d", N_("1–3 天")),
    (">3d", N_("超过 3 天")),
)


def percent(r: wire.RatioOut) -> str:
    return "—" if r.value is None else f"{r.value * 100:.1f}%"


class BoardScreen(Screen[None]):
    HELP_TITLE = N_("班长看板")

    BINDINGS = [
        Binding(
            "1",
            "pane(0)",
            "切换面板",
            tooltip="1–7：超期、部门、县区、回访、坐席、来电、热点",
            id="board.pane",
        ),
        *(Binding(str(n + 1), f"pane({n})", show=False, id=f"board.pane{n}") for n in range(1, 7)),
        # Enter belongs to the focused table (DataTable's own binding); this one names it in F1.
        Binding(
            "enter",
            "select",
            "打开工单",
            tooltip="超期列表：打开所选工单；指标表：列出该指标的工单（明细）",
            show=False,
            id="board.open",
        ),
        Binding(
            "k",
            "kpis",
            "指标明细",
            tooltip="光标到指标表：方向键选指标与时段，Enter 列出明细（1 回到超期列表）",
            show=False,  # the table's title says "K"; the Footer has no room left at 100 columns
            id="board.kpis",
        ),
        Binding(
            "s",
            "supervise",
            "督办热点",
            tooltip="热点面板：把所选热点的在办工单列入督办",
            id="board.supervise",
        ),
        Binding(
            "ctrl+e",
            "export",
            "导出日报",
            tooltip="今日日报写成 Excel（及文本摘要）",
            id="board.export",
        ),
        Binding(
            "ctrl+t", "summary", "文本摘要", tooltip="今日摘要，可复制发送", id="board.summary"
        ),
        Binding("ctrl+r", "reload", "刷新", tooltip="从中心库重新读取", id="board.reload"),
    ]

    def __init__(
        self, seat: Seat, reference: ReferenceData, open_case: Callable[[str], None]
    ) -> None:
        super().__init__()
        self.seat = seat
        self.reference = reference
        self._open_case = open_case
        self.data: wire.Dashboard | None = None
        self._last = float("-inf")  # monotonic time the last fetch started
        #: A refresh is scheduled (a timer) or running; ``_again``: something changed since
        #: the fetch running started, so another follows it.
        self._refresh_scheduled = False
        self._fetching = False
        self._refresh_again = False
        #: Milliseconds of the last fetch (server + transfer + parse) and of the last render.
        self.fetch_ms = 0.0
        self.render_ms = 0.0
        self.shown_at = 0.0  # perf_counter() when ``show`` finished (the benchmark paints after)
        #: Cases this board queued a 督办 for (a repeat press skips them before the store
        #: has confirmed the first; supervision only ever goes up).
        self._supervising: set[str] = set()

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="board"):
            yield Static("", id="board-head")
            with Horizontal(id="board-top"):
                yield DataTable(id="board-kpis", cursor_type="cell", zebra_stripes=True)
                yield Static("", id="board-callouts")
            with TabbedContent(id="board-tabs"):
                for key, title in PANES:
                    with TabPane(f"{PANES.index((key, title)) + 1} {t(title)}", id=f"pane-{key}"):
                        if key == "volume":
                            with Horizontal():
                                with Vertical(id="board-hours-box"):
                                    yield Label(t("今日各小时受理量"), classes="section-title")
                                    yield self._hour_chart()
                                yield DataTable(id="board-types", cursor_type="row")
                        elif key == "callbacks":
                            yield Static("", id="board-callbacks")
                        else:
                            yield DataTable(
                                id=f"board-{key}", cursor_type="row", zebra_stripes=True
                            )
        yield SeatBar(self.seat)
        yield SteadyFooter()

    @staticmethod
    def _hour_chart() -> Any:
        from textual_plotext import PlotextPlot

        return PlotextPlot(id="board-hours")

    def on_mount(self) -> None:
        self.title = t("驻马店 12345 · 班长看板")
        self.query_one("#board-head", Static).update(t("正在读取中心库……"))
        follow_seat(self)
        self.set_interval(EVERY, self.request_refresh)
        self.request_refresh()
        kpis = self.query_one("#board-kpis", DataTable)
        kpis.border_title = t("指标 · K")
        late = self.query_one("#board-late", DataTable)
        late.border_title = t("超期与将到期 · Enter 打开")
        late.focus()  # what a lead acts on first; the KPI tiles are one key away

    def on_seat_cases_changed(self, _message: SeatCasesChanged) -> None:
        self.request_refresh()

    # -- fetching ------------------------------------------------------------------------------

    def request_refresh(self) -> None:
        """Something changed: ask the central store again — at once if the last answer is
        older than ``MIN_GAP``, else when it is; never two at a time, never one lost."""
        if self._fetching:
            self._refresh_again = True
            return
        if self._refresh_scheduled:
            return
        self._refresh_scheduled = True
        wait = self._last + MIN_GAP - time.monotonic()
        if wait <= 0:
            self.call_later(self._fire)
        else:
            self.set_timer(wait, self._fire)

    def _fire(self) -> None:
        self._refresh_scheduled = False
        if not self._fetching:
            self.action_reload()

    def action_reload(self) -> None:
        self._fetching = True
        self._refresh_again = False
        self._last = time.monotonic()
        self._fetch()

    @work(exclusive=True, group="board", exit_on_error=False)
    async def _fetch(self) -> None:
        started = time.perf_counter()
        try:
            try:
                data = await self.seat.dashboard()
            except SeatError as exc:
                at = local(self.data.at, "%H:%M:%S") if self.data else "—"
                self.query_one("#board-head", Static).update(
                    t(
                        "[b red]中心库暂不可达[/]：显示 {at} 的数据（{error}）",
                        at=at,
                        error=exc.message,
                    )
                )
                return
            self.fetch_ms = (time.perf_counter() - started) * 1000
            self.show(data)
            if data.kpis_pending:  # the server is still computing a tile: ask again soon
                self._refresh_again = True
        finally:
            self._fetching = False
            if self._refresh_again:
                self.request_refresh()

    # -- showing it ----------------------------------------------------------------------------

    def show(self, d: wire.Dashboard) -> None:
        started = time.perf_counter()
        self.data = d
        self._show_head(d)
        self._show_kpis(d)
        self._show_callouts(d)
        self._show_late(d)
        self._show_counts(d)
        self._show_callbacks(d)
        self._show_seats(d)
        self._show_volume(d)
        self._show_hotspots(d)
        self.shown_at = time.perf_counter()
        self.render_ms = (self.shown_at - started) * 1000

    def _department(self, code: str) -> str:
        if not code:
            return t("（未派单）")
        return self.reference.department_label(code)

    def _platform(self, code: str) -> str:
        p = self.reference.platform(code)
        return (p.county or p.name) if p and code != "city" else t("市平台")

    def _category(self, code: str) -> str:
        c = self.reference.category(code)
        return c.name if c else code

    def _show_head(self, d: wire.Dashboard) -> None:
        online = sum(s.online for s in d.seats)
        registered = sum(d.volume_by_hour)
        self.query_one("#board-head", Static).update(
            t(
                "在办 [b]{open}[/] · 超期 [b red]{overdue}[/] · 2小时内到期 [b yellow]{due_2h}[/]"
                " · 今日到期 {due_today} · 待回访 {callbacks} · 坐席在线 {online}/{seats}"
                " · 今日受理 {registered} · 更新于 {at}",
                open=d.open_total,
                overdue=d.overdue,
                due_2h=d.due_2h,
                due_today=d.due_today,
                callbacks=d.callbacks_waiting,
                online=online,
                seats=len(d.seats),
                registered=registered,
                at=local(d.at, "%H:%M:%S"),
            )
            # Co-departments' opinions (协办意见) past due: only when there are any.
            + (t(" · 协办超期 [b red]{count}[/]", count=d.co_overdue) if d.co_overdue else "")
        )

    def _show_kpis(self, d: wire.Dashboard) -> None:
        tiles = {tile.period: tile.kpis for tile in d.kpis}
        rows: list[list[Cell]] = []
        for name, label in KPI_ROWS:
            row: list[Cell] = [t(label)]
            for period, _ in PERIODS:
                k = tiles.get(period)  # type: ignore[call-overload]
                if k is None:
                    row.append(t("计算中…") if period in d.kpis_pending else "—")
                    continue
                r: wire.RatioOut = getattr(k, name)
                row.append(f"{percent(r)} {r.numerator}/{r.denominator}")
            rows.append(row)
        titles = [t("指标（Enter 明细）"), *(t(label) for _, label in PERIODS)]
        fill_table(self.query_one("#board-kpis", DataTable), titles, rows, [n for n, _ in KPI_ROWS])

    def _show_callouts(self, d: wire.Dashboard) -> None:
        types = sorted(d.volume_by_type.items(), key=lambda kv: -kv[1])
        kinds = t("、").join(f"{t(AppealType(k).label)} {v}" for k, v in types if v) or "—"
        lines = [
            t("[b]今日受理[/b] {count} 件：{kinds}", count=sum(d.volume_by_hour), kinds=kinds),
            t(
                "[b]超期[/b] {count} 件 · [b]2小时内到期[/b] {soon} 件",
                count=d.overdue,
                soon=d.due_2h,
            ),
        ]
        if d.leader is not None and (d.leader.registered or d.leader.open):
            lines.append(
                t(
                    "[b]领导交办[/b] 本月 {count} 件 · 办结 {done} 件 · 在办 {open} 件"
                    "（超期 {overdue} 件）",
                    count=d.leader.registered,
                    done=d.leader.done,
                    open=d.leader.open,
                    overdue=d.leader.overdue,
                )
            )
        for c in d.overdue_cases[:3]:
            lines.append(
                f"  [red]{c.number}[/] {self._department(c.department)} {countdown(c.minutes_left)}"
            )
        if d.hotspots:
            h = d.hotspots[0]
            lines.append(
                t(
                    "[b]热点[/b] {category} @ {place}：{rule}",
                    category=self._category(h.category),
                    place=h.place or h.county,
                    rule=h.rule,
                )
            )
        self.query_one("#board-callouts", Static).update("\n".join(lines))

    def _show_late(self, d: wire.Dashboard) -> None:
        rows: list[list[Cell]] = []
        keys = []
        for c in (*d.overdue_cases, *d.due_soon_cases):
            late = (c.minutes_left or 0) < 0
            rows.append(
                [
                    Text(c.number, style="bold red" if late else "yellow"),
                    countdown(c.minutes_left),
                    Text(leader_mark(c) + t(c.status.label), style=LEADER_STYLE)
                    if c.leader_assigned
                    else t(c.status.label),
                    self._department(c.department),
                    self._platform(c.platform),
                    self._category(c.category),
                    "★" * c.supervision,
                    short(c.content, 24),
                ]
            )
            keys.append(c.uuid)
        titles = [
            t(x)
            for x in (
                N_("工单号"),
                N_("剩余"),
                N_("状态"),
                N_("主办单位"),
                N_("平台"),
                N_("分类"),
                N_("督办"),
                N_("内容"),
            )
        ]
        fill_table(self.query_one("#board-late", DataTable), titles, rows, keys)

    def _counts(
        self,
        pairs: list[tuple[Status, str, int]],
        name: Callable[[str], str],
        table_id: str,
        first: str,
        urges: dict[str, int] | None = None,
    ) -> None:
        """Open cases by status group per department (or platform); with ``urges``, a last
        column of today's urges (今日催办), where a department urged but with nothing open
        still gets its row."""
        by: dict[str, dict[Status, int]] = defaultdict(lambda: defaultdict(int))
        for status, key, count in pairs:
            by[key][status] += count
        for key in urges or {}:
            by.setdefault(key, defaultdict(int))  # a row of its own
        rows: list[list[Cell]] = []
        ordered = sorted(
            by.items(), key=lambda kv: (-sum(kv[1].values()), -(urges or {}).get(kv[0], 0))
        )
        for key, counts in ordered:
            cells = [sum(counts[s] for s in statuses) for _, statuses in STATUS_COLUMNS]
            urged = (urges or {}).get(key, 0)
            if not any(cells) and not urged:
                continue
            row: list[Cell] = [name(key), *(str(c) if c else "·" for c in cells), str(sum(cells))]
            if urges is not None:
                row.append(Text(str(urged), style="bold yellow") if urged else "·")
            rows.append(row)
        titles = [t(first), *(t(label) for label, _ in STATUS_COLUMNS), t("合计")]
        if urges is not None:
            titles.append(t("今日催办"))
        fill_table(self.query_one(table_id, DataTable), titles, rows)

    def _show_counts(self, d: wire.Dashboard) -> None:
        self._counts(
            [(c.status, c.department, c.count) for c in d.by_status_department],
            self._department,
            "#board-departments",
            N_("承办单位"),
            d.urges_today,
        )
        self._counts(
            [(c.status, c.platform, c.count) for c in d.by_status_platform],
            self._platform,
            "#board-platforms",
            N_("平台"),
        )

    def _show_callbacks(self, d: wire.Dashboard) -> None:
        oldest = d.oldest_callback_waiting_since
        lines = [t("[b]待回访[/b] {count} 件", count=d.callbacks_waiting)]
        for key, label in CALLBACK_AGES:
            lines.append(f"  {t(label)}: {d.callback_ages.get(key, 0)}")
        if oldest is not None:
            hours = int((d.at - oldest).total_seconds() // 3600)
            lines.append(
                t(
                    "最久的一件已等 {hours} 小时（自 {at}）",
                    hours=hours,
                    at=local(oldest),
                )
            )
        self.query_one("#board-callbacks", Static).update("\n".join(lines))

    def _show_seats(self, d: wire.Dashboard) -> None:
        rows: list[list[Cell]] = []
        for s in sorted(d.seats, key=lambda s: (not s.online, s.seat_id)):
            rows.append(
                [
                    s.seat_id,
                    s.user_id,
                    Text(t("在线"), style="green") if s.online else Text(t("离线"), style="red"),
                    local(s.last_seen_at, "%m-%d %H:%M:%S"),
                    Text(str(s.outbox), style="bold yellow" if s.outbox else ""),
                ]
            )
        titles = [t(x) for x in (N_("坐席"), N_("工号"), N_("状态"), N_("最后同步"), N_("待发送"))]
        fill_table(self.query_one("#board-seats", DataTable), titles, rows)

    def _show_volume(self, d: wire.Dashboard) -> None:
        chart: Any = self.query_one("#board-hours")
        plt = chart.plt
        plt.clear_data()
        plt.clear_figure()
        plt.bar([str(h) for h in range(24)], d.volume_by_hour)
        chart.refresh()
        rows: list[list[Cell]] = [
            [t(AppealType(k).label), str(v)]
            for k, v in sorted(d.volume_by_type.items(), key=lambda kv: -kv[1])
        ]
        fill_table(self.query_one("#board-types", DataTable), [t("诉求类型"), t("件数")], rows)

    def _show_hotspots(self, d: wire.Dashboard) -> None:
        rows: list[list[Cell]] = []
        for h in d.hotspots:
            rows.append(
                [
                    self._category(h.category),
                    h.county,
                    h.place,
                    str(h.last_24h),
                    f"{h.baseline_per_day:.1f}",
                    str(len(h.open_cases)),
                    self._supervised_text(h),
                    h.rule,
                ]
            )
        titles = [
            t(x)
            for x in (
                N_("分类"),
                N_("县区"),
                N_("地点"),
                N_("24小时"),
                N_("前7日日均"),
                N_("在办"),
                N_("督办"),
                N_("规则"),
            )
        ]
        fill_table(self.query_one("#board-hotspots", DataTable), titles, rows)

    def _supervised(self, hotspot: wire.Hotspot) -> set[str]:
        """Its open cases under supervision: as the central store said, and those this board
        has queued a 督办 for and the store has not confirmed yet."""
        return set(hotspot.supervised) | (set(hotspot.open_cases) & self._supervising)

    def _supervised_text(self, hotspot: wire.Hotspot) -> Cell:
        done = len(self._supervised(hotspot))
        if not hotspot.open_cases or not done:
            return ""
        if done >= len(hotspot.open_cases):
            return Text(t("已督办"), style="bold green")
        return t("已督办 {done}/{total}", done=done, total=len(hotspot.open_cases))

    # -- keys ----------------------------------------------------------------------------------

    def action_kpis(self) -> None:
        # At once, not after the next refresh (``Widget.focus``): K and Enter typed together
        # must reach the tiles, not the overdue list.
        self.set_focus(self.query_one("#board-kpis", DataTable))

    def action_select(self) -> None:
        """Enter when no table has the focus: the overdue list's case."""
        focused = self.focused
        table = focused if isinstance(focused, DataTable) else self.query_one("#board-late")
        if isinstance(table, DataTable) and table.row_count:
            self.set_focus(table)
            table.action_select_cursor()

    def action_pane(self, n: int) -> None:
        key, _ = PANES[n]
        self.query_one("#board-tabs", TabbedContent).active = f"pane-{key}"
        for table in self.query_one(f"#pane-{key}").query(DataTable):
            table.focus()
            break

    def on_data_table_cell_selected(self, event: DataTable.CellSelected) -> None:
        if event.data_table.id != "board-kpis" or self.data is None:
            return
        column = event.coordinate.column
        if column == 0:
            column = 1  # the name: today's cases
        period, label = PERIODS[column - 1]
        kpi, kpi_label = KPI_ROWS[event.coordinate.row]
        tile = next((x for x in self.data.kpis if x.period == period), None)
        if tile is None:
            return
        self.app.push_screen(
            KpiCasesScreen(
                self.seat,
                self.reference,
                kpi,
                f"{t(kpi_label)} · {t(label)}",
                tile.start,
                tile.end,
                self._open,
            )
        )

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "board-late" and event.row_key.value:
            self._open(event.row_key.value)

    @work(group="board-open", exit_on_error=False)
    async def _open(self, case_uuid: str) -> None:
        """Cases on the board need not be in this seat's cache: read it, then open it."""
        try:
            await self.seat.fetch_case(case_uuid)
        except SeatError as exc:
            self.notify(exc.message, title=t("打不开工单"), severity="error")
            return
        self._open_case(case_uuid)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "supervise":
            return self.query_one("#board-tabs", TabbedContent).active == "pane-hotspots"
        return True

    def action_supervise(self) -> None:
        if self.data is None or not self.data.hotspots:
            self.notify(t("没有热点"), severity="warning")
            return
        table = self.query_one("#board-hotspots", DataTable)
        hotspot = self.data.hotspots[min(table.cursor_row, len(self.data.hotspots) - 1)]
        self._supervise(hotspot)

    @work(group="board-supervise", exit_on_error=False)
    async def _supervise(self, hotspot: wire.Hotspot) -> None:
        """Each open case of the hot spot not yet under supervision goes under it, through the
        outbox on the version read now (a conflict is held like any other). A case is
        supervised once: a hot spot already supervised only says so."""
        place = hotspot.place or hotspot.county
        todo = [u for u in hotspot.open_cases if u not in self._supervised(hotspot)]
        if not todo:
            self.notify(t("{place}：已在督办中", place=place), title=t("督办"))
            return
        reason = t(
            "热点督办：{category} @ {place}，{rule}",
            category=self._category(hotspot.category),
            place=place,
            rule=hotspot.rule,
        )
        self._supervising.update(todo)  # a second press meanwhile finds them taken
        queued = already = 0
        for case_uuid in todo:
            try:
                await self.seat.fetch_case(case_uuid)
            except SeatError:
                self._supervising.discard(case_uuid)
                continue
            cached = self.seat.case(case_uuid)
            if cached is None:
                self._supervising.discard(case_uuid)
                continue
            if already_supervised(domain_case(cached.case)):
                already += 1  # supervised meanwhile (another lead, the clock's notice)
                continue
            self.seat.take_step(cached, Step.SUPERVISE, {"reason": reason})
            queued += 1
        skipped = len(hotspot.open_cases) - len(todo) + already
        message = t("已将 {count} 件列入督办（待发送到中心库）", count=queued)
        if skipped:
            message += t("；{count} 件已在督办中", count=skipped)
        self.notify(message, title=t("督办"))
        if self.data is not None:
            self._show_hotspots(self.data)

    def _today(self) -> date:
        now: datetime = getattr(self.app, "clock", lambda: datetime.now(UTC))()
        return now.astimezone(SHANGHAI).date()

    @work(group="board-export", exit_on_error=False)
    async def action_export(self) -> None:
        from agent_tui.client.report import build_workbook, text_summary

        day = self._today()
        try:
            data = await self.seat.report("daily", day)
        except SeatError as exc:
            self.notify(exc.message, title=t("导出失败"), severity="error")
            return
        folder = Path(self.app.settings.data_dir) / "reports"  # type: ignore[attr-defined]
        folder.mkdir(parents=True, exist_ok=True)
        path = build_workbook(data, folder / f"daily-{day.isoformat()}.xlsx")
        path.with_suffix(".txt").write_text(text_summary(data), encoding="utf-8")
        self.notify(str(path), title=t("日报已导出"), timeout=10)

    @work(group="board-export", exit_on_error=False)
    async def action_summary(self) -> None:
        from agent_tui.client.report import text_summary

        try:
            data = await self.seat.report("daily", self._today())
        except SeatError as exc:
            self.notify(exc.message, title=t("摘要失败"), severity="error")
            return
        self.app.push_screen(TextScreen(t("今日摘要（可选中复制）"), text_summary(data)))


class TextScreen(ModalScreen[None]):
    """Read-only text to select and copy; Escape closes."""

    BINDINGS = [Binding("escape", "close", "返回", tooltip="回到上一屏", id="text.close")]

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self._title, self._text = title, text

    def compose(self) -> ComposeResult:
        with Vertical(id="text-box"):
            yield Label(self._title, classes="section-title")
            yield TextArea(self._text, read_only=True, id="text-body")
        yield SteadyFooter()

    def action_close(self) -> None:
        self.dismiss()


class KpiCasesScreen(Screen[None]):
    """The cases behind one KPI figure: those that missed it first (Tab: met, all)."""

    HELP_TITLE = N_("指标明细")
    PARTS: tuple[tuple[str, str], ...] = (
        ("missed", N_("未达标")),
        ("met", N_("达标")),
        ("all", N_("全部")),
    )

    BINDINGS = [
        Binding("escape", "close", "返回", tooltip="回到上一屏", id="kpi.close"),
        Binding(
            "tab", "part", "切换", tooltip="未达标 / 达标 / 全部", priority=True, id="kpi.part"
        ),
        Binding("ctrl+r", "more", "下一页", tooltip="读下一页（每页 100 件）", id="kpi.more"),
    ]

    def __init__(
        self,
        seat: Seat,
        reference: ReferenceData,
        kpi: str,
        title: str,
        start: datetime,
        end: datetime,
        open_case: Callable[[str], Any],
    ) -> None:
        super().__init__()
        self.seat, self.reference = seat, reference
        self.kpi, self.heading, self.start, self.end = kpi, title, start, end
        self._open_case = open_case
        self.part = 0
        self.cases: list[wire.CasePublic] = []
        self.cursor: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="kpi-head")
        yield DataTable(id="kpi-cases", cursor_type="row", zebra_stripes=True)
        yield SteadyFooter()

    def on_mount(self) -> None:
        self.title = self.heading
        self._load(reset=True)

    @work(exclusive=True, group="kpi-cases", exit_on_error=False)
    async def _load(self, reset: bool) -> None:
        part = self.PARTS[self.part][0]
        if reset:
            self.cases, self.cursor = [], None
        try:
            page = await self.seat.kpi_cases(
                self.kpi, self.start, self.end, part, limit=100, after=self.cursor
            )
        except SeatError as exc:
            self.query_one("#kpi-head", Static).update(exc.message)
            return
        self.cases += page.items
        self.cursor = page.next_cursor
        self._show()

    def _show(self) -> None:
        rows: list[list[Cell]] = []
        for c in self.cases:
            rows.append(
                [
                    c.number,
                    local(c.registered_at),
                    t(c.status.label),
                    self.reference.department_label(c.department),
                    short_deadline(c.handling_deadline),
                    short(c.content, 30),
                ]
            )
        titles = [
            t(x)
            for x in (
                N_("工单号"),
                N_("受理时间"),
                N_("状态"),
                N_("主办单位"),
                N_("办理期限"),
                N_("内容"),
            )
        ]
        fill_table(
            self.query_one("#kpi-cases", DataTable), titles, rows, [c.uuid for c in self.cases]
        )
        more = t("，Ctrl+R 读下一页") if self.cursor else ""
        self.query_one("#kpi-head", Static).update(
            t(
                "{part}：{count} 件{more} · Tab 切换 · Enter 打开",
                part=t(self.PARTS[self.part][1]),
                count=len(self.cases),
                more=more,
            )
        )

    def action_part(self) -> None:
        self.part = (self.part + 1) % len(self.PARTS)
        self._load(reset=True)

    def action_more(self) -> None:
        if self.cursor:
            self._load(reset=False)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self._open_case(event.row_key.value)

    def action_close(self) -> None:
        self.dismiss()
