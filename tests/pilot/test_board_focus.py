"""The lead's board opens on the overdue list (issue 13, item 10: Enter opened a KPI
drill-down, and an overdue case took Tab, Tab, Enter with no cue of where the keys were)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable

from agent_tui.app import active_key_rows
from agent_tui.keys import format_key
from agent_tui.screens.board import BoardScreen, KpiCasesScreen
from tests.screen import frame_text
from tests.snapshots.test_snapshots import _dashboard, _lead_app

SIZES = [pytest.param((100, 30), id="100x30"), pytest.param((140, 40), id="140x40")]


@pytest.mark.parametrize("size", SIZES)
async def test_enter_opens_the_first_overdue_case_and_k_reaches_the_kpis(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    app = _lead_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        await pilot.pause(0.3)
        board = app.screen
        assert isinstance(board, BoardScreen)
        board.show(_dashboard())
        opened: list[str] = []
        board._open = opened.append  # type: ignore[method-assign]  # no server to read it from
        await pilot.pause()

        late = board.query_one("#board-late", DataTable)
        kpis = board.query_one("#board-kpis", DataTable)
        assert board.focused is late
        # The cue: the focused table's border is the bright one, and says what Enter does.
        assert late.styles.border_top[1] != kpis.styles.border_top[1]
        screen = frame_text(app)
        assert "超期与将到期 · Enter 打开" in screen and "指标 · K" in screen

        await pilot.press("enter")
        assert opened == [_dashboard().overdue_cases[0].uuid]

        await pilot.press("k")
        assert board.focused is kpis
        assert late.styles.border_top[1] != kpis.styles.border_top[1]
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, KpiCasesScreen)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("1")
        assert app.screen.focused is late


async def test_the_key_help_says_where_enter_and_k_go(tmp_path: Path) -> None:
    app = _lead_app(tmp_path)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause(0.3)
        rows = {format_key(r.key): r for r in active_key_rows(app)}
        assert rows["Enter"].description == "打开工单" and "超期列表" in rows["Enter"].tooltip
        assert rows["K"].description == "指标明细" and "Enter 列出明细" in rows["K"].tooltip
        await pilot.press("f1")
        await pilot.pause()
        help_text = frame_text(app)
        assert "打开工单" in help_text and "指标明细" in help_text
