"""The Textual application: ``make_app(settings, seat)`` is the one factory the CLI and tests use.

Two modes: 受理 (case entry, F2; needs a seat) and 查询 (the reference lookup, F4). Without a
seat (``agent-tui lookup``) only the lookup runs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from textual.app import App
from textual.binding import Binding

from agent_tui.client.seat import Seat
from agent_tui.config import Settings
from agent_tui.data.addresses import build_address_index, read_address_csv
from agent_tui.data.calendar import default_calendar
from agent_tui.data.indexes import default_indexes, default_reference
from agent_tui.domain.routing import Router
from agent_tui.keys import GENERAL, KeyRow, rows_from
from agent_tui.screens.entry import CaseEntryScreen, EntryContext
from agent_tui.screens.help import HelpScreen
from agent_tui.screens.lookup import LookupScreen, build_sources
from agent_tui.widgets.search_list import SearchList


class AgentTUI(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "驻马店 12345"
    ENABLE_COMMAND_PALETTE = False

    BINDINGS = [
        Binding(
            "f1", "help", "帮助", tooltip="按当前界面列出全部按键", priority=True, id="app.help"
        ),
        Binding("ctrl+q", "quit", "退出", tooltip="退出程序", priority=True, id="app.quit"),
        Binding("f2", "mode('entry')", "受理", tooltip="新工单受理", id="app.entry"),
        Binding(
            "f4", "mode('lookup')", "查询", tooltip="地址、分类、单位、知识库", id="app.lookup"
        ),
    ]

    def __init__(
        self,
        settings: Settings,
        seat: Seat | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.seat = seat
        #: The time every screen shows and computes deadlines from (tests freeze it).
        self.clock = clock or (lambda: datetime.now(UTC))

    def on_mount(self) -> None:
        if self.settings.keymap:
            self.set_keymap(self.settings.keymap)
        ref = default_reference()
        addresses, categories, departments, knowledge = default_indexes()
        book = self.settings.address_book_path()
        if book is not None:
            addresses = build_address_index(read_address_csv(Path(book)))
        sources = build_sources(ref, addresses, categories, departments, knowledge)
        self.add_mode("lookup", lambda: LookupScreen(sources, self.seat))
        if self.seat is None:
            self.switch_mode("lookup")
            return
        ctx = EntryContext(
            reference=ref,
            addresses=addresses,
            categories=categories,
            departments=departments,
            calendar=default_calendar(self.settings.calendar_overrides),
            router=Router(ref.categories, ref.departments),
        )
        seat = self.seat
        self.add_mode("entry", lambda: CaseEntryScreen(ctx, seat))
        self.switch_mode("entry")
        seat.start()

    def action_mode(self, mode: str) -> None:
        if mode == "entry" and self.seat is None:
            self.notify("资料查询模式没有连接中心库，不能受理", severity="warning")
            return
        if self.current_mode != mode:
            self.switch_mode(mode)

    async def on_unmount(self) -> None:
        if self.seat is not None:
            await self.seat.stop()

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss()
            return
        self.push_screen(HelpScreen(active_key_rows(self)))


def key_rows() -> list[KeyRow]:
    """Every binding of the program, grouped as the help shows them (for ``agent-tui keys``)."""
    return [
        *rows_from(CaseEntryScreen.HELP_TITLE, CaseEntryScreen.BINDINGS),
        *rows_from(LookupScreen.HELP_TITLE, LookupScreen.BINDINGS),
        *rows_from(GENERAL, AgentTUI.BINDINGS),
        *rows_from(LookupScreen.HELP_TITLE, SearchList.BINDINGS),
    ]


def active_key_rows(app: App[None]) -> list[KeyRow]:
    """The bindings that reach the current screen now, with user remaps applied.

    Walks the focus chain (focused widget → screen → app) rather than ``active_bindings``: a
    focused Input lists its own scroll keys there and hides the pick-list's arrows.
    """
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
) -> AgentTUI:
    """The one factory: the CLI and the tests build the terminal here."""
    return AgentTUI(settings or Settings(), seat, clock)
