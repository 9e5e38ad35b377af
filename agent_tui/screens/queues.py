"""Queues (工单队列): each role's working lists.

Agents: today's own cases, drafts, waiting for dispatch, dispatched, to review (replies,
return and extension requests), callbacks (oldest first), overdue; leads also supervision (due
within 24 hours or past due). The department desk: to sign, in hand (by deadline), requested
(return/extension), overdue, answered.

The table shows the seat store at once (it works offline) and then what the central store
answers; typing filters the rows, arrows move, Enter opens the case, Ctrl+O sorts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static

from agent_tui import wire
from agent_tui.client.api import ApiError
from agent_tui.client.seat import Seat
from agent_tui.data.reference import ReferenceData
from agent_tui.domain.calendar import SHANGHAI
from agent_tui.domain.case import OPEN_STATUSES, Role, Status
from agent_tui.i18n import N_, t
from agent_tui.widgets.case_table import CASE_COLUMNS, case_cells, is_overdue, local, short
from agent_tui.widgets.seat_bar import SeatBar
from agent_tui.widgets.tables import Cell, fill_table

#: Dispatched and still with the department (what the 已派单 queue shows).
WITH_DEPARTMENT = (
    Status.DISPATCHED,
    Status.IN_PROGRESS,
    Status.EXTENSION_REQUESTED,
    Status.RETURN_REQUESTED,
)
DRAFT_COLUMNS = (N_("草稿"), N_("最后修改"), N_("来电号码"), N_("分类"), N_("内容"))


@dataclass(frozen=True, slots=True)
class QueueDef:
    """One queue: which cases (the same rule for the seat's cache and the server's query)."""

    key: str
    title: str
    statuses: tuple[Status, ...] = ()
    order: str = "newest"  # newest | deadline | oldest (least recently touched first)
    mine_today: bool = False
    drafts: bool = False
    overdue: bool = False
    #: Open cases due before now + this (the supervision queue: near and past the deadline).
    due_within: timedelta | None = None


OPEN = tuple(sorted(OPEN_STATUSES, key=str))
MINE = QueueDef("mine", N_("今日我的"), mine_today=True)
DRAFTS = QueueDef("drafts", N_("草稿"), drafts=True)
WAITING = QueueDef("waiting", N_("待派单"), (Status.REGISTERED, Status.RETURNED))
DISPATCHED = QueueDef("dispatched", N_("已派单"), WITH_DEPARTMENT, order="deadline")
REVIEW = QueueDef(
    "review",
    N_("待审核"),
    (Status.REPLIED, Status.RETURN_REQUESTED, Status.EXTENSION_REQUESTED),
    order="oldest",
)
CALLBACKS = QueueDef(
    "callbacks", N_("待回访"), (Status.CALLBACK_PENDING, Status.CALLED_BACK), order="oldest"
)
OVERDUE = QueueDef("overdue", N_("超期"), OPEN, order="deadline", overdue=True)
SUPERVISION = QueueDef(
    "supervision", N_("督办"), OPEN, order="deadline", due_within=timedelta(hours=24)
)
# The department desk (承办单位): the server scopes every query to the user's department.
INCOMING = QueueDef("incoming", N_("待签收"), (Status.DISPATCHED,), order="deadline")
HANDLING = QueueDef("handling", N_("办理中"), (Status.IN_PROGRESS,), order="deadline")
REQUESTED = QueueDef(
    "requested",
    N_("已申请"),
    (Status.RETURN_REQUESTED, Status.EXTENSION_REQUESTED),
    order="deadline",
)
ANSWERED = QueueDef(
    "answered", N_("已答复"), (Status.REPLIED, Status.CALLBACK_PENDING, Status.CALLED_BACK)
)

#: The queues each role works, in tab order (F5, F6, ...).
QUEUE_SETS: dict[Role, tuple[QueueDef, ...]] = {
    Role.AGENT: (MINE, DRAFTS, WAITING, DISPATCHED, REVIEW, CALLBACKS, OVERDUE),
    Role.LEAD: (MINE, DRAFTS, WAITING, DISPATCHED, REVIEW, CALLBACKS, OVERDUE, SUPERVISION),
    Role.DEPARTMENT: (INCOMING, HANDLING, REQUESTED, OVERDUE, ANSWERED),
    Role.ADMIN: (WAITING, DISPATCHED, OVERDUE),
}
QUEUE_KEYS = ("f5", "f6", "f7", "f8", "f9", "f10", "f11", "f12")
PAGES = 5  # an "oldest first" queue reads at most this many pages of 200


@dataclass(frozen=True, slots=True)
class Row:
    key: str  # case uuid, or draft id
    cells: tuple[str, ...]
    overdue: bool = False


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
        self._server_rows: dict[str, list[dict[str, Any]]] = {}
        self._sort: tuple[int, bool] | None = None  # column, reverse

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
        yield Footer()

    def on_mount(self) -> None:
        self.title = t("驻马店 12345 · 工单队列")
        self.query_one("#queue-table", DataTable).can_focus = False
        self.query_one("#queue-filter", Input).focus()
        self.action_queue(self.queue.key)

    def on_screen_resume(self) -> None:
        self.refresh_rows()

    def _now(self) -> datetime:
        now: datetime = self.app.clock()  # type: ignore[attr-defined]
        return now

    # -- which rows ----------------------------------------------------------------------------

    def _cached(self) -> list[tuple[dict[str, Any], bool]]:
        store, now, q = self.seat.store, self._now(), self.queue
        if q.mine_today:
            today = now.astimezone(SHANGHAI).replace(hour=0, minute=0, second=0, microsecond=0)
            return store.cases(agent=self.seat.user_id, since=today, limit=500)
        statuses = tuple(str(s) for s in q.statuses)
        due = now + q.due_within if q.due_within else now if q.overdue else None
        order = "deadline" if q.order == "deadline" else "newest"
        rows = store.cases(status=statuses, due_before=due, order=order, limit=1000)
        if q.overdue:
            rows = [(b, p) for b, p in rows if is_overdue(b, now)]
        return rows

    def _server_query(self) -> dict[str, Any] | None:
        q = self.queue
        if q.drafts:
            return None
        if q.mine_today:
            return {"agent": self.seat.user_id, "limit": 200}
        query: dict[str, Any] = {"limit": 200}
        if q.overdue:
            query["overdue"] = "true"
        else:
            query["status"] = [str(s) for s in q.statuses]
        if q.due_within is not None:
            query["due_before"] = (self._now() + q.due_within).isoformat()
        if q.order == "deadline":
            query["order"] = "deadline"
        return query

    def _build_rows(self) -> list[Row]:
        now = self._now()
        if self.queue.drafts:
            rows = []
            for draft_id, body, updated in self.seat.store.drafts():
                category = self.reference.category(str(body.get("category", "")))
                rows.append(
                    Row(
                        draft_id,
                        (
                            t("受理草稿") if draft_id == "entry" else draft_id,
                            local(updated),
                            str(body.get("caller_phone", "")),
                            category.name if category else "",
                            short(body.get("content", ""), 30),
                        ),
                    )
                )
            return rows
        merged: dict[str, tuple[dict[str, Any], bool]] = {}
        for body, pending in self._cached():
            merged[str(body.get("uuid"))] = (body, pending)
        for body in self._server_rows.get(self.queue.key, []):
            uuid = str(body["uuid"])
            cached = merged.get(uuid)
            # The newer of the two (a step queued here keeps its pending row).
            if cached is None or int(cached[0].get("version", 0)) < int(body["version"]):
                merged[uuid] = (body, False)
        if self.queue.mine_today:
            today = local(now, "%Y-%m-%d")
            merged = {
                uuid: row
                for uuid, row in merged.items()
                if local(row[0].get("registered_at"), "%Y-%m-%d") == today
            }
        found = list(merged.values())
        if self.queue.order == "oldest":  # the least recently touched first (回访: oldest first)
            found.sort(key=lambda r: str(r[0].get("updated_at") or r[0].get("registered_at")))
        return [
            Row(
                str(body["uuid"]),
                case_cells(body, pending, self.reference, now),
                is_overdue(body, now),
            )
            for body, pending in found
        ]

    # -- showing them --------------------------------------------------------------------------

    def refresh_rows(self) -> None:
        if self.queue not in self.queues:
            self.queue = self.queues[0]
        self._rows = self._build_rows()
        self._show_rows()

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
                Text(c, style="bold red") if row.overdue and i == 2 else c
                for i, c in enumerate(row.cells)
            ]
            for row in rows
        ]
        # Widths in terminal cells (汉字 count two); a refresh of the same rows updates cells.
        fill_table(table, titles, cells, [row.key for row in rows])
        shown = f"{len(rows)} / {len(self._rows)}" if needle else str(len(rows))
        self.query_one("#queue-status", Static).update(
            t(
                "{queue}：{shown} 件 · ↑↓ 选择 · Enter 打开 · Ctrl+O 排序",
                queue=t(self.queue.title),
                shown=shown,
            )
        )
        tabs = " ".join(
            f"[reverse] {key.upper()} {t(q.title)} [/]"
            if q is self.queue
            else f" {key.upper()} {t(q.title)} "
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

    def action_reload(self) -> None:
        query = self._server_query()
        if query is not None:
            self._fetch(self.queue.key, query)

    @work(exclusive=True, group="queue-fetch", exit_on_error=False)
    async def _fetch(self, key: str, query: dict[str, Any]) -> None:
        items: list[wire.CasePublic] = []
        try:
            cursor = None
            # Newest first by default; an "oldest first" queue reads on to its oldest cases.
            for _ in range(PAGES if self.queue.order == "oldest" else 1):
                page: wire.CasePage = await self.seat.api.list_cases(
                    **query, **({"cursor": cursor} if cursor else {})
                )
                items += page.items
                cursor = page.next_cursor
                if cursor is None:
                    break
        except ApiError as exc:
            self.query_one("#queue-status", Static).update(
                t(
                    "{queue}：显示本机缓存（{error}）",
                    queue=t(self.queue.title),
                    error=exc.message,
                )
            )
            return
        self.seat.store.put_cases(items)
        self._server_rows[key] = [c.model_dump(mode="json") for c in items]
        if key == self.queue.key:
            self.refresh_rows()
