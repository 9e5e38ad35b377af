"""Queues (工单队列): each role's working lists.

Agents: today's own cases, drafts, waiting for dispatch, dispatched, to review (replies,
return and extension requests), callbacks (oldest first), overdue; leads also supervision (due
within 24 hours or past due). The department desk: to sign, in hand (by deadline), requested
(return/extension), overdue, answered — the cases it leads (主办) — and 协办, the cases it
assists, where its opinion (协办意见) is asked (counted down to its due time, late ones marked).

The table shows the seat store at once (it works offline) and then what the central store
answers; typing filters the rows, arrows move, Enter opens the case, Ctrl+O sorts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Header, Input, Static

from agent_tui.client.seat import Seat
from agent_tui.data.reference import ReferenceData
from agent_tui.domain.case import Role
from agent_tui.domain.queues import QUEUE_SETS, QueueDef, co_late
from agent_tui.i18n import N_, t
from agent_tui.widgets.case_table import CASE_COLUMNS, LEADER_STYLE, case_cells, local, short
from agent_tui.widgets.footer import SteadyFooter
from agent_tui.widgets.seat_bar import SeatBar
from agent_tui.widgets.seat_events import SeatCasesChanged, follow_seat
from agent_tui.widgets.tables import Cell, fill_table

DRAFT_COLUMNS = (N_("草稿"), N_("最后修改"), N_("来电号码"), N_("分类"), N_("内容"))
#: Each queue's name on its tab (Chinese keys: ``t`` translates).
QUEUE_TITLES = {
    "mine": N_("今日我的"),
    "drafts": N_("草稿"),
    "waiting": N_("待派单"),
    "dispatched": N_("已派单"),
    "review": N_("待审核"),
    "callbacks": N_("待回访"),
    "overdue": N_("超期"),
    "supervision": N_("督办"),
    "incoming": N_("待签收"),
    "handling": N_("办理中"),
    "requested": N_("已申请"),
    "answered": N_("已答复"),
    "assisting": N_("协办"),
}
QUEUE_KEYS = ("f5", "f6", "f7", "f8", "f9", "f10", "f11", "f12")
#: Time moves cases into the overdue queue and the countdowns on: re-read this often.
TICK_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Row:
    key: str  # case uuid, or draft id
    cells: tuple[str, ...]
    overdue: bool = False
    leader: bool = False  # 领导交办: its status cell stands out


class QueueScreen(Screen[None]):
    HELP_TITLE = N_("工单队列")

    BINDINGS = [
        # The tab row above the table shows the queue keys; the Footer keeps to the rest.
        Binding(
            "f5",
            "queue_at(0)",
            "切换队列",
            tooltip="F5–F12 按队列栏的键切换；Tab / Shift+Tab 下一个、上一个",
            show=False,
            priority=True,
            id="queues.switch",
        ),
        *(
            Binding(key, f"queue_at({i})", show=False, priority=True, id=f"queues.switch{i}")
            for i, key in enumerate(QUEUE_KEYS[1:], 1)
        ),
        Binding("tab", "queue_step(1)", show=False, priority=True, id="queues.next"),
        Binding("shift+tab", "queue_step(-1)", show=False, priority=True, id="queues.previous"),
        Binding(
            "ctrl+o",
            "sort",
            "排序",
            tooltip="按下一列排序（同列再按反向）",
            priority=True,
            id="queues.sort",
        ),
        Binding("ctrl+r", "reload", "刷新", tooltip="从中心库重新读取", id="queues.reload"),
        Binding("down", "cursor(1)", "下一行", show=False, id="pick.next_row"),
        Binding("up", "cursor(-1)", "上一行", show=False, id="pick.previous_row"),
        Binding("pagedown", "cursor(10)", "下一页", show=False, id="pick.page_down_rows"),
        Binding("pageup", "cursor(-10)", "上一页", show=False, id="pick.page_up_rows"),
    ]

    def __init__(
        self,
        seat: Seat,
        reference: ReferenceData,
        open_case: Callable[[str], None],
        open_drafts: Callable[[], None],
    ) -> None:
        super().__init__()
        self.seat = seat
        self.reference = reference
        self._open_case = open_case
        self._open_drafts = open_drafts
        self.queue = self.queues[0]
        self._rows: list[Row] = []
        self._sort: tuple[int, bool] | None = None  # column, reverse
        #: The cache changed while another screen was in front: re-read on resume.
        self._stale = False
        #: The central store has not answered for this queue (offline): the rows are this
        #: seat's cache, and the line under the table says so (the seat bar says why).
        self._unconfirmed = False

    @property
    def queues(self) -> tuple[QueueDef, ...]:
        """This user's queues (the role is known once the seat has logged in)."""
        user = self.seat.user
        return QUEUE_SETS[user.role if user else Role.AGENT]

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="queues"):
            yield Static("", id="queue-tabs")
            yield Input(id="queue-filter", placeholder=t("筛选：工单号、号码、分类、单位、内容"))
            yield DataTable(id="queue-table", cursor_type="row", zebra_stripes=True)
            yield Static("", id="queue-status", classes="hint")
        yield SeatBar(self.seat)
        yield SteadyFooter()

    def on_mount(self) -> None:
        self.title = t("驻马店 12345 · 工单队列")
        self.query_one("#queue-table", DataTable).can_focus = False
        self.query_one("#queue-filter", Input).focus()
        follow_seat(self)
        self.set_interval(TICK_SECONDS, self.refresh_rows)
        self.action_queue(self.queue.key)

    def on_screen_resume(self) -> None:
        self._stale = False
        self.refresh_rows()

    def on_seat_cases_changed(self, message: SeatCasesChanged) -> None:
        """A change in the feed, a fetch or a step queued here: the queue is re-read from the
        seat's cache, so a case that moved on leaves it, a new one joins it, and the cursor
        stays on its case."""
        if self.is_current:
            self.refresh_rows()
        else:
            self._stale = True

    def _now(self) -> datetime:
        now: datetime = self.app.clock()  # type: ignore[attr-defined]
        return now

    # -- which rows ----------------------------------------------------------------------------

    def _build_rows(self) -> list[Row]:
        now = self._now()
        if self.queue.drafts:
            rows = []
            for draft_id, body, updated in self.seat.drafts_saved():
                category = self.reference.category(str(body.get("category", "")))
                rows.append(
                    Row(
                        draft_id,
                        (
                            t("受理草稿") if draft_id == "entry" else draft_id,
                            local(datetime.fromisoformat(updated)),
                            str(body.get("caller_phone", "")),
                            category.name if category else "",
                            short(body.get("content", ""), 30),
                        ),
                    )
                )
            return rows
        if self.queue.co:  # 协办: counted down to this department's opinion, late ones marked
            dept = self.seat.department
            return [
                Row(
                    cached.uuid,
                    case_cells(cached, self.reference, now, co_department=dept),
                    co_late(cached.case, now, dept),
                )
                for cached in self.seat.queue(self.queue, now)
            ]
        return [
            Row(
                cached.uuid,
                case_cells(cached, self.reference, now),
                cached.overdue(now),
                cached.case.leader_assigned,
            )
            for cached in self.seat.queue(self.queue, now)
        ]

    # -- showing them --------------------------------------------------------------------------

    def refresh_rows(self) -> None:
        if self.queue not in self.queues:
            self.queue = self.queues[0]
        self._rows = self._build_rows()
        self._show_rows()

    def visible_rows(self) -> list[tuple[str, tuple[str, ...]]]:
        """(case uuid, cells) of the rows shown now, top to bottom (tests compare them with
        the central store's answer)."""
        table = self.query_one("#queue-table", DataTable)
        cells = {r.key: r.cells for r in self._rows}
        keys = [str(row.key.value) for row in table.ordered_rows]
        return [(k, cells[k]) for k in keys if k in cells]

    def _show_rows(self) -> None:
        table = self.query_one("#queue-table", DataTable)
        columns = DRAFT_COLUMNS if self.queue.drafts else CASE_COLUMNS
        needle = self.query_one("#queue-filter", Input).value.strip().lower()
        rows = [r for r in self._rows if not needle or any(needle in c.lower() for c in r.cells)]
        if self._sort is not None:
            column, reverse = self._sort
            rows.sort(
                key=lambda r: r.cells[column] if column < len(r.cells) else "", reverse=reverse
            )
        titles = []
        for i, title in enumerate(columns):
            mark = ""
            if self._sort is not None and self._sort[0] == i:
                mark = "▼" if self._sort[1] else "▲"
            titles.append(t(title) + mark)
        cells: list[list[Cell]] = [
            [
                Text(c, style="bold red" if row.overdue else LEADER_STYLE)
                if i == 2 and (row.overdue or row.leader)
                else c
                for i, c in enumerate(row.cells)
            ]
            for row in rows
        ]
        # Widths in terminal cells (汉字 count two); a refresh of the same rows updates cells.
        fill_table(table, titles, cells, [row.key for row in rows])
        shown = f"{len(rows)} / {len(self._rows)}" if needle else str(len(rows))
        queue = self._title(self.queue)
        self.query_one("#queue-status", Static).update(
            t(
                "{queue}：{shown} 件（本机缓存，未经中心库确认）· ↑↓ 选择 · Enter 打开",
                queue=queue,
                shown=shown,
            )
            if self._unconfirmed
            else t(
                "{queue}：{shown} 件 · ↑↓ 选择 · Enter 打开 · Ctrl+O 排序", queue=queue, shown=shown
            )
        )
        tabs = " ".join(
            f"[reverse] {key.upper()} {self._title(q)} [/]"
            if q is self.queue
            else f" {key.upper()} {self._title(q)} "
            for key, q in zip(QUEUE_KEYS, self.queues, strict=False)
        )
        self.query_one("#queue-tabs", Static).update(tabs)

    @on(Input.Changed, "#queue-filter")
    def _filter(self, event: Input.Changed) -> None:
        event.stop()
        self._show_rows()

    @on(Input.Submitted, "#queue-filter")
    def _open(self, event: Input.Submitted) -> None:
        event.stop()
        table = self.query_one("#queue-table", DataTable)
        if table.row_count == 0:
            return
        key = table.ordered_rows[table.cursor_row].key.value
        if key is None:
            return
        if self.queue.drafts:
            self._open_drafts()
        else:
            self._open_case(key)

    # -- actions -------------------------------------------------------------------------------

    def action_queue(self, key: str) -> None:
        self.queue = next(q for q in self.queues if q.key == key)
        self._sort = None
        self._unconfirmed = False
        self.refresh_rows()
        self.action_reload()

    def action_queue_at(self, index: int) -> None:
        if index < len(self.queues):
            self.action_queue(self.queues[index].key)

    def action_queue_step(self, delta: int) -> None:
        index = self.queues.index(self.queue)
        self.action_queue(self.queues[(index + delta) % len(self.queues)].key)

    def action_cursor(self, delta: int) -> None:
        table = self.query_one("#queue-table", DataTable)
        if table.row_count:
            table.move_cursor(row=max(0, min(table.row_count - 1, table.cursor_row + delta)))

    def action_sort(self) -> None:
        count = len(DRAFT_COLUMNS if self.queue.drafts else CASE_COLUMNS)
        if self._sort is None:
            self._sort = (0, False)
        elif not self._sort[1]:
            self._sort = (self._sort[0], True)
        else:
            self._sort = ((self._sort[0] + 1) % count, False)
        self._show_rows()

    @staticmethod
    def _title(queue: QueueDef) -> str:
        return t(QUEUE_TITLES[queue.key])

    def action_reload(self) -> None:
        if not self.queue.drafts:
            self._fetch(self.queue)

    @work(exclusive=True, group="queue-fetch", exit_on_error=False)
    async def _fetch(self, queue: QueueDef) -> None:
        """Ask the central store for the queue; its answer lands in the seat's cache and comes
        back here as a cases-changed message. Offline, the cache stays and says so."""
        answer = await self.seat.refresh_queue(queue, self._now())
        if queue is not self.queue:
            return
        self._unconfirmed = not answer.confirmed
        self._show_rows()
