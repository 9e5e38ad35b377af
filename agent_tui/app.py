"""The Textual application: ``make_app(settings, seat)`` is the one factory the CLI and tests use.

Modes: 受理 (case entry, F2), 队列 (queues, F3; both need a seat) and 查询 (the reference lookup,
F4); a case opens over them (Enter in a queue, or the command palette, Ctrl+P). Without a seat
(``agent-tui lookup``) only the lookup runs; with a login form the login screen comes first.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import events
from textual.app import App
from textual.binding import Binding
from textual.command import CommandPalette
from textual.signal import Signal

from agent_tui.client.last_login import LoginForm
from agent_tui.config import Settings
from agent_tui.domain.case import Role, Status
from agent_tui.i18n import N_, set_language, t
from agent_tui.keys import GENERAL, KeyRow, localize_bindings, rows_from
from agent_tui.screens.help import HelpScreen
from agent_tui.screens.login import LoginScreen
from agent_tui.screens.palette import PROVIDERS
from agent_tui.widgets import compositor
from agent_tui.widgets.collector import IdleCollector
from agent_tui.widgets.times import display_zone, set_display_zone

# Only the login form (and help) are imported to paint the first screen; the rest — the wire
# models, httpx, the indexes and the other screens — load behind it (``_import_screens``).
if TYPE_CHECKING:
    from agent_tui.client.model import CasesChanged, SeatEvent
    from agent_tui.client.seat import Seat
    from agent_tui.client.session import Login
    from agent_tui.widgets.seat_events import (
        SeatCasesChanged,
        SeatCommandsHeld,
        SeatStatusChanged,
    )


def _import_screens() -> None:
    """Import every screen (once; Python caches modules) and put the bindings of the classes
    just imported in the current language."""
    import agent_tui.screens.board
    import agent_tui.screens.case_detail
    import agent_tui.screens.entry
    import agent_tui.screens.knowledge
    import agent_tui.screens.lookup
    import agent_tui.screens.queues
    import agent_tui.screens.step_form  # noqa: F401

    localize_bindings()


class AgentTUI(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = N_("驻马店 12345")
    COMMANDS = set(PROVIDERS)

    BINDINGS = [
        Binding(
            "f1", "help", "帮助", tooltip="按当前界面列出全部按键", priority=True, id="app.help"
        ),
        Binding("ctrl+q", "quit", "退出", tooltip="退出程序", priority=True, id="app.quit"),
        Binding("f2", "mode('entry')", "受理", tooltip="新工单受理", priority=True, id="app.entry"),
        Binding(
            "f3",
            "mode('queues')",
            "队列",
            tooltip="我的、草稿、待派、已派、超期",
            priority=True,
            id="app.queues",
        ),
        Binding(
            "f4",
            "mode('lookup')",
            "查询",
            tooltip="地址、分类、单位、知识库",
            priority=True,
            id="app.lookup",
        ),
        Binding(
            "ctrl+b",
            "mode('board')",
            "看板",
            tooltip="班长看板：队列、坐席、超期、指标、热点",
            priority=True,
            id="app.board",
        ),
        # Shown once, at the Footer's right edge (Textual docks the palette key there).
        Binding(
            "ctrl+p",
            "command_palette",
            "命令面板",
            tooltip="搜工单、地址、单位、知识库",
            show=False,
            priority=True,
            id="app.palette",
        ),
    ]

    def __init__(
        self,
        settings: Settings,
        seat: Seat | None = None,
        clock: Callable[[], datetime] | None = None,
        login: LoginForm | None = None,
        start: str = "",
    ) -> None:
        compositor.install()  # toasts and docked keys keep their 汉字 over other widgets' edges
        super().__init__()
        self.title = t(self.TITLE)
        #: The first screen after login: "" (by role) or "board" (``agent-tui lead``).
        self.start = start
        self.settings = settings
        self.seat = seat
        self.login_form = login
        #: The time every screen shows and computes deadlines from (tests freeze it).
        self.clock = clock or (lambda: datetime.now(UTC))
        #: Status, supervision level, urges, supplements and co-departments' opinions of the
        #: cases that concern this user (for toasts).
        self._watched: dict[str, tuple[Status, int, int, int, int]] = {}
        #: The seat's news (cases changed, sync status, refused commands) for whichever screen
        #: or widget follows it (``widgets.seat_events.follow_seat``).
        self.seat_events: Signal[SeatEvent] = Signal(self, "seat-events")
        #: Full garbage collections between keystrokes, not during them (``widgets.collector``).
        self.collector = IdleCollector()

    def on_mount(self) -> None:
        if self.settings.keymap:
            self.set_keymap(self.settings.keymap)
        if self.seat is not None:
            self._load_reference()
            self.start_seat(self.seat)
        elif self.login_form is not None:
            # The login form needs no index: it paints first, the indexes load behind it.
            self.push_screen(LoginScreen(self.login_form, self.settings.data_dir), self._logged_in)
            self.call_after_refresh(self._load_reference)
        else:
            self._load_reference()
            self.switch_mode("lookup")

    def _load_reference(self) -> None:
        """Reference data and the search indexes (once), then the collector takes over: the
        indexes are frozen (hundreds of thousands of long-lived objects that a full collection
        would otherwise walk again and again while the agent types, pauses of 0.3–1.5 s,
        docs/benchmarks.md) and full collections wait for a pause in the typing."""
        if hasattr(self, "entry_context"):
            return
        from agent_tui.data.addresses import build_address_index, read_address_csv
        from agent_tui.data.calendar import default_calendar
        from agent_tui.data.indexes import default_indexes, default_reference
        from agent_tui.domain.routing import Router
        from agent_tui.screens.entry import EntryContext
        from agent_tui.screens.lookup import LookupScreen, build_sources

        _import_screens()
        self.reference = ref = default_reference()
        addresses, categories, departments, knowledge = default_indexes()
        book = self.settings.address_book_path()
        if book is not None:
            addresses = build_address_index(read_address_csv(Path(book)))
        self.addresses, self.departments, self.knowledge = addresses, departments, knowledge
        sources = build_sources(ref, addresses, categories, departments, knowledge)
        self.add_mode("lookup", lambda: LookupScreen(sources, self.seat))
        self.entry_context = EntryContext(
            reference=ref,
            addresses=addresses,
            categories=categories,
            departments=departments,
            calendar=default_calendar(self.settings.calendar_overrides),
            router=Router(ref.categories, ref.departments, ref.county_routing, ref.platforms),
        )
        self._collect_between_keys()

    def _collect_between_keys(self) -> None:
        if not self.collector.running:
            self.collector.start()  # collects and freezes what start-up built
            self.set_interval(0.25, self.collector.tick, name="idle-collector")

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.InputEvent):
            self.collector.touch()
        await super().on_event(event)

    def _logged_in(self, login: Login | None) -> None:
        if login is None:
            self.exit()
            return
        self._load_reference()
        self.start_seat(login.seat)
        if login.offline:
            self.notify(
                t("中心库暂不可达：按本机登录记录离线工作，工单保存后待联网发送"),
                title=t("离线登录"),
                severity="warning",
                timeout=10,
            )

    def start_seat(self, seat: Seat) -> None:
        """The seat is logged in: open case entry (the department desk: its queues) and sync."""
        from agent_tui.screens.entry import CaseEntryScreen
        from agent_tui.screens.queues import QueueScreen

        self.seat = seat
        seat.tz = display_zone()  # "today" in the queues is the centre's day
        ctx = self.entry_context
        self.add_mode("entry", lambda: CaseEntryScreen(ctx, seat))
        self.add_mode(
            "queues",
            lambda: QueueScreen(seat, ctx.reference, self.open_case, self.open_drafts),
        )
        self._watched = {
            c.uuid: _watch(c.case)
            for c in seat.recent(limit=2000)
            if self._concerns_me(c.case.agent, c.case.department)
        }
        if self._is_lead():
            from agent_tui.screens.board import BoardScreen

            self.add_mode("board", lambda: BoardScreen(seat, ctx.reference, self.open_case))
        seat.listen(self._seat_event)
        if self.start == "board" and not self._is_lead():
            self.notify(t("看板只对班长和管理员开放"), severity="warning")
        first = "entry"
        if self._is_department():
            first = "queues"
        elif self.start == "board" and self._is_lead():
            first = "board"
        self.switch_mode(first)
        seat.keep_numbers(self.settings.number_pool)
        seat.start()

    def _is_lead(self) -> bool:
        user = self.seat.user if self.seat else None
        return bool(user and user.role in (Role.LEAD, Role.ADMIN))

    def _is_department(self) -> bool:
        user = self.seat.user if self.seat else None
        return bool(user and user.role is Role.DEPARTMENT)

    def _concerns_me(self, agent: object, department: object) -> bool:
        """An agent's own cases; a department's cases (the desk's toasts)."""
        seat = self.seat
        if seat is None:
            return False
        user = seat.user
        if user is not None and user.role is Role.DEPARTMENT:
            return bool(department) and department == user.department
        return agent == seat.user_id

    # -- what the seat tells ----------------------------------------------------------------------

    def _seat_event(self, event: SeatEvent) -> None:
        """Called by the seat in this loop: handled as a message (floods merge in the queue)."""
        from agent_tui.widgets.seat_events import as_message

        self.post_message(as_message(event))

    def on_seat_cases_changed(self, message: SeatCasesChanged) -> None:
        self._toast_cases(message.event)
        self.seat_events.publish(message.event)

    def on_seat_status_changed(self, message: SeatStatusChanged) -> None:
        self.seat_events.publish(message.event)

    def on_seat_commands_held(self, message: SeatCommandsHeld) -> None:
        held = message.event.held
        refused = [h for h in held if not h.conflict]
        if refused:
            self.notify(
                t("中心库拒绝了这一步：{error}", error=refused[-1].error)
                + (t("（共 {count} 项）", count=len(refused)) if len(refused) > 1 else ""),
                title=t("操作被拒绝"),
                severity="error",
                timeout=10,
            )
        if any(h.conflict for h in held):
            self.notify(
                t("有操作与中心库冲突，已保留两个版本：F3 队列中打开该工单处理"),
                title=t("冲突"),
                severity="error",
                timeout=10,
            )
        self.seat_events.publish(message.event)

    def _toast_cases(self, event: CasesChanged) -> None:
        """One toast per kind of news, however many cases a batch brings: the new cases a
        department must sign, the status changes of this user's cases, supervision."""
        new_to_sign: list[str] = []
        moved: list[tuple[str, Status, Status]] = []
        supervised: list[str] = []
        urged: list[str] = []
        supplemented: list[str] = []
        opinions: list[str] = []
        for case in event.cases:
            if not self._concerns_me(case.agent, case.department):
                continue
            before = self._watched.get(case.uuid)
            self._watched[case.uuid] = _watch(case)
            if case.uuid in event.own:
                continue  # this seat did it: the screen that did it already said so
            if before is None:
                if self._is_department() and case.status is Status.DISPATCHED:
                    new_to_sign.append(case.number)
                continue
            if before[0] != case.status:
                moved.append((case.number, before[0], case.status))
            if int(case.supervision) > before[1]:
                supervised.append(case.number)
            if case.urges > before[2]:
                urged.append(case.number)
            if case.supplements > before[3]:
                supplemented.append(case.number)
            if len(case.co_opinions) > before[4]:
                opinions.append(case.number)
        if new_to_sign:
            self.notify(
                t("{count} 件新派单待签收", count=len(new_to_sign))
                if len(new_to_sign) > 1
                else t("新派单，待签收"),
                title=t("工单 {number}", number=new_to_sign[0])
                if len(new_to_sign) == 1
                else t("派单"),
            )
        if event.initial:
            return  # the first fill after login: the queues show it, no news toasts
        if len(moved) == 1:
            number, before_status, now_status = moved[0]
            self.notify(
                f"{t(before_status.label)} → {t(now_status.label)}",
                title=t("工单 {number}", number=number),
            )
        elif moved:
            self.notify(
                t("{count} 件工单状态有变化：{numbers}", count=len(moved), numbers=_numbers(moved)),
                title=t("工单"),
            )
        if supervised:
            self.notify(
                t("被督办，请优先办理")
                if len(supervised) == 1
                else t("{count} 件工单被督办，请优先办理", count=len(supervised)),
                title=t("工单 {number}", number=supervised[0])
                if len(supervised) == 1
                else t("督办"),
                severity="warning",
            )

        if urged:  # the caller rang again: the desk sees which case (it rises in the queue)
            self.notify(
                t("催办：{number}", number=urged[0])
                if len(urged) == 1
                else t("{count} 件工单被催办：{numbers}", count=len(urged), numbers=_list(urged)),
                title=t("催办"),
                severity="warning",
            )
        if supplemented:
            self.notify(
                t("补充：{number}", number=supplemented[0])
                if len(supplemented) == 1
                else t(
                    "{count} 件工单有补充材料：{numbers}",
                    count=len(supplemented),
                    numbers=_list(supplemented),
                ),
                title=t("补充"),
            )
        if opinions:  # a co-department's opinion (协办意见) came in: the lead replies with it
            self.notify(
                t("协办意见：{number}", number=opinions[0])
                if len(opinions) == 1
                else t(
                    "{count} 件工单收到协办意见：{numbers}",
                    count=len(opinions),
                    numbers=_list(opinions),
                ),
                title=t("协办意见"),
            )

    # -- navigation -----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "mode" and parameters == ("board",):
            return self._is_lead()  # the key is shown to leads only
        return True

    def action_mode(self, mode: str) -> None:
        if mode == "board" and not self._is_lead():
            return
        if mode == "entry" and self._is_department():
            self.notify(t("承办单位账号不受理新工单：F3 是本单位的队列"), severity="warning")
            return
        if mode in ("entry", "queues") and self.seat is None:
            self.notify(t("资料查询模式没有连接中心库，不能受理"), severity="warning")
            return
        if self.current_mode != mode:
            self.switch_mode(mode)

    def open_case(self, case_uuid: str) -> None:
        from agent_tui.screens.case_detail import CaseScreen

        if self.seat is None:
            return
        self.push_screen(CaseScreen(self.seat, self.reference, self.entry_context, case_uuid))

    def open_drafts(self) -> None:
        self.action_mode("entry")

    async def show_lookup(self, kind: str, query: str) -> None:
        from agent_tui.screens.lookup import LookupScreen

        if self.current_mode != "lookup":
            await self.switch_mode("lookup")
        screen = self.screen
        if isinstance(screen, LookupScreen):
            screen.show(kind, query)

    def action_command_palette(self) -> None:
        if not CommandPalette.is_open(self):  # type: ignore[arg-type]
            self.push_screen(
                CommandPalette(
                    placeholder=t("搜工单号、来电号码、地址（拼音首字母）、单位、知识库…")
                )
            )

    async def on_unmount(self) -> None:
        self.collector.stop()
        if self.seat is not None:
            await self.seat.stop()

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss()
            return
        self.push_screen(HelpScreen(active_key_rows(self)))


def _numbers(moved: list[tuple[str, Status, Status]], shown: int = 3) -> str:
    """``ZMD-…-0041、ZMD-…-0042 等``: the first few case numbers of a batch."""
    return _list([number for number, _b, _n in moved], shown)


def _list(numbers: list[str], shown: int = 3) -> str:
    return t("、").join(numbers[:shown]) + (t(" 等") if len(numbers) > shown else "")


def _watch(case: Any) -> tuple[Status, int, int, int, int]:
    """What the toasts compare: status, supervision, urges (催办), supplements (补充), the
    co-departments' opinions received (协办意见)."""
    return (
        case.status,
        int(case.supervision),
        int(getattr(case, "urges", 0)),
        int(getattr(case, "supplements", 0)),
        len(getattr(case, "co_opinions", ())),
    )


def key_rows() -> list[KeyRow]:
    """Every binding of the program, grouped as the help shows them (for ``agent-tui keys``),
    in the current language."""
    _import_screens()
    from agent_tui.screens.board import BoardScreen, KpiCasesScreen
    from agent_tui.screens.callback_form import CallbackForm
    from agent_tui.screens.case_detail import CaseScreen
    from agent_tui.screens.entry import CaseEntryScreen
    from agent_tui.screens.lookup import LookupScreen
    from agent_tui.screens.queues import QueueScreen
    from agent_tui.screens.step_form import StepForm
    from agent_tui.widgets.search_list import SearchList

    return [
        *rows_from(CaseEntryScreen.HELP_TITLE, CaseEntryScreen.BINDINGS),
        *rows_from(QueueScreen.HELP_TITLE, QueueScreen.BINDINGS),
        *rows_from(CaseScreen.HELP_TITLE, CaseScreen.BINDINGS),
        *rows_from(BoardScreen.HELP_TITLE, BoardScreen.BINDINGS),
        *rows_from(KpiCasesScreen.HELP_TITLE, KpiCasesScreen.BINDINGS),
        *rows_from(StepForm.HELP_TITLE, StepForm.BINDINGS),
        *rows_from(CallbackForm.HELP_TITLE, CallbackForm.BINDINGS),
        *rows_from(LookupScreen.HELP_TITLE, LookupScreen.BINDINGS),
        *rows_from(LoginScreen.HELP_TITLE, LoginScreen.BINDINGS),
        *rows_from(GENERAL, AgentTUI.BINDINGS),
        *rows_from(LookupScreen.HELP_TITLE, SearchList.BINDINGS),
    ]


def active_key_rows(app: App[None]) -> list[KeyRow]:
    """The bindings that reach the current screen now, with user remaps applied.

    Walks the focus chain (focused widget → screen → app) rather than ``active_bindings``: a
    focused Input lists its own scroll keys there and hides the pick-list's arrows.
    """
    from textual.actions import parse as parse_action

    screen = app.screen
    focused = screen.focused
    chain = [*(focused.ancestors_with_self if focused else [screen]), app]
    rows: list[KeyRow] = []
    seen: set[str] = set()
    for node in chain:
        group = GENERAL if node is app else screen_title(screen)
        for key, bindings in node._bindings.key_to_bindings.items():
            for b in bindings:
                # Our bindings all carry an id; widget internals (Input cursor moves) do not.
                if not b.id or not b.description or b.id in seen:
                    continue
                _, name, params = parse_action(b.action)
                if node.check_action(name, params) is False:
                    continue  # not for this user now (the board for an agent)
                seen.add(b.id)
                rows += rows_from(
                    group, [Binding(key, b.action, b.description, tooltip=b.tooltip, id=b.id)]
                )
    return rows


def screen_title(screen: object) -> str:
    return str(getattr(screen, "HELP_TITLE", "") or type(screen).__name__)


def make_app(
    settings: Settings | None = None,
    seat: Seat | None = None,
    clock: Callable[[], datetime] | None = None,
    login: LoginForm | None = None,
    start: str = "",
) -> AgentTUI:
    """The one factory: the CLI and the tests build the terminal here.

    With a seat: case entry at once. With a login form: the login screen first. With neither:
    the reference lookup alone.
    """
    settings = settings or Settings()
    set_language(settings.language)
    set_display_zone(settings.display_timezone)
    localize_bindings()
    return AgentTUI(settings, seat, clock, login, start)
