"""The seat shows the centre's time: the caller-history pane beside the seat bar's clock
(issue 13, item 4: the pane showed UTC, ``12-04 13:53`` beside a clock at 21:53)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import DataTable

from agent_tui.app import make_app
from agent_tui.config import Settings
from agent_tui.widgets.times import CENTRE_ZONE, set_display_zone
from tests.screen import frame_text
from tests.snapshots.test_snapshots import _case, _frozen, _offline_seat


def _seat(tmp_path: Path):  # type: ignore[no-untyped-def]
    seat = _offline_seat(tmp_path)
    # Registered 01:06 UTC: 09:06 in Zhumadian; the frozen clock is 02:30 UTC, 10:30 there.
    seat.store.put_cases([_case(1, "北侧人行道有商户占道摆摊，影响通行", "dispatched")])
    return seat


async def _history(app) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """The caller's one earlier case's 受理时间 cell, and the whole screen's text."""
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press(*"13912345671")
        await pilot.pause()
        table = app.screen.query_one("#history", DataTable)
        assert table.row_count == 1
        return str(table.get_row_at(0)[1]), frame_text(app)


async def test_caller_history_shows_shanghai_time_beside_the_clock(tmp_path: Path) -> None:
    app = make_app(Settings(data_dir=tmp_path / "data"), _seat(tmp_path), _frozen)
    registered, screen = await _history(app)
    assert registered == "11-26 09:06"
    assert "11-26 09:06" in screen and "10:30:00" in screen  # the row beside the seat bar
    assert "01:06" not in screen and "02:30" not in screen


@pytest.fixture
def zone() -> Iterator[None]:
    yield
    set_display_zone(CENTRE_ZONE)


async def test_a_centre_elsewhere_sets_its_zone(tmp_path: Path, zone: None) -> None:
    settings = Settings(data_dir=tmp_path / "data", display_timezone="UTC")
    app = make_app(settings, _seat(tmp_path), _frozen)
    registered, screen = await _history(app)
    assert registered == "11-26 01:06" and "02:30:00" in screen


async def test_caller_history_lists_a_case_saved_here_and_not_yet_sent(tmp_path: Path) -> None:
    """The same caller again right after a save (offline): the pane listed nothing at all,
    the case waiting in the outbox has no status yet."""
    app = make_app(Settings(data_dir=tmp_path / "data"), _seat(tmp_path), _frozen)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press(*"13912345671", "enter", "3", "enter", *"zdjy", "enter")
        await pilot.press(*"jsl", "enter", "enter", *"北侧人行道有商户摆摊", "ctrl+s")
        await pilot.press(*"13912345671")
        await pilot.pause(0.2)
        table = app.screen.query_one("#history", DataTable)
        rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        assert len(rows) == 2
        assert "（待发送）" in rows[0][0] and rows[0][1] == "11-26 10:30"
        assert "重复来电" in frame_text(app)
