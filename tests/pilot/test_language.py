"""The English UI (``language = "en"``) against a real central store, and Chinese again after it
in the same process (the language and the class bindings are set per app by ``make_app``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Label, Static

from agent_tui.app import make_app
from agent_tui.client.seat import Seat
from agent_tui.config import Settings
from agent_tui.i18n import set_language
from agent_tui.keys import localize_bindings
from agent_tui.screens.entry import CaseEntryScreen
from agent_tui.server.embedded import EmbeddedServer
from agent_tui.widgets.seat_bar import SeatBar
from tests.pilot.conftest import PASSWORD
from tests.pilot.test_entry import SIZE


@pytest.fixture(autouse=True)
def _chinese_after() -> Iterator[None]:
    yield
    set_language("zh")
    localize_bindings()


def footer_descriptions(screen: CaseEntryScreen) -> set[str]:
    """What the Footer shows: the descriptions of the active, shown bindings."""
    return {
        binding.description
        for _node, binding, enabled, _tooltip in screen.active_bindings.values()
        if binding.show and enabled
    }


def labels(screen: CaseEntryScreen) -> set[str]:
    return {str(label.render()) for label in screen.query(Label)}


async def test_entry_speaks_english_then_chinese_again(
    central: EmbeddedServer, seat: Seat, tmp_path: Path
) -> None:
    app = make_app(Settings(data_dir=tmp_path / "ui", language="en"), seat)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, CaseEntryScreen)
        assert {"Caller phone", "Category", "Caller history"} <= labels(screen)
        assert screen.title == "Zhumadian 12345 · Intake"
        assert {"Dispatch", "Save", "New", "Help", "Queues", "Lookup"} <= footer_descriptions(
            screen
        )
        await pilot.press(*"12345", "ctrl+s")
        phone = str(screen.query_one("#caller_phone-error", Static).render())
        assert phone.startswith("Invalid phone")
        assert "Pick a category" in str(screen.query_one("#category-error", Static).render())
        assert "Content is required" in str(screen.query_one("#content-error", Static).render())
        bar = str(screen.query_one("#seat-bar", SeatBar).render())
        assert bar.startswith("Seat ") and ("Online" in bar or "Offline" in bar)
        await pilot.press("f1")
        help_text = str(app.screen.query_one("#help-text", Static).render())
        assert "Intake" in help_text and "General" in help_text and "Save" in help_text
        assert "保存" not in help_text

    zh_seat = Seat(central.url, "agent01", PASSWORD, tmp_path / "seat-zh")
    app = make_app(Settings(data_dir=tmp_path / "ui-zh"), zh_seat)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, CaseEntryScreen)
        assert {"来电号码", "诉求分类", "来电历史"} <= labels(screen)
        assert {"派单", "保存", "新建", "帮助", "队列", "查询"} <= footer_descriptions(screen)
        await pilot.press(*"12345", "ctrl+s")
        assert "区号" in str(screen.query_one("#caller_phone-error", Static).render())
        assert "请选择诉求分类" in str(screen.query_one("#category-error", Static).render())
