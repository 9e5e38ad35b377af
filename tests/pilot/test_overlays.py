"""Overlays stay inside their screen's area: the address pick-list and the toasts never cover
the seat bar or the Footer (issue 13, item 7: at 100×30 the pick-list drew over both)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Footer, Header, OptionList
from textual.widgets._footer import FooterKey
from textual.widgets._toast import Toast

from agent_tui.app import make_app
from agent_tui.config import Settings
from agent_tui.widgets.seat_bar import SeatBar
from tests.screen import frame, region_lines, until
from tests.snapshots.test_snapshots import _frozen, _offline_seat

SIZES = [pytest.param((100, 30), id="100x30"), pytest.param((140, 40), id="140x40")]


async def _bars_intact(pilot) -> None:  # type: ignore[no-untyped-def]
    """The seat bar and the Footer read as they draw themselves, on the frame."""
    app = pilot.app
    screen = app.screen
    for _ in range(100):  # the Footer composes its keys once the bindings are ready
        if screen.query_one(Footer).query(FooterKey):
            break
        await pilot.pause(0.05)
    await pilot.pause()
    lines = frame(app)
    seat_bar = screen.query_one(SeatBar)
    (shown,) = region_lines(lines, seat_bar.region)
    assert "坐席 seat-07 · agent01 · 离线 · 待发送" in shown and "10:30:00" in shown, shown
    footer = screen.query_one(Footer)
    (keys,) = region_lines(lines, footer.region)
    assert keys.startswith(" f9 派单  ^s 保存") and keys.rstrip().endswith("^p 命令面板"), keys


@pytest.mark.parametrize("size", SIZES)
async def test_the_address_pick_list_stays_between_the_header_and_the_seat_bar(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    app = make_app(Settings(data_dir=tmp_path / "data"), _offline_seat(tmp_path), _frozen)
    async with app.run_test(size=size) as pilot:
        await pilot.press(*"13912345678", "enter", "3", "enter", *"zdjy", "enter", *"jsl")
        screen = app.screen
        results = screen.query_one("#address").query_one(OptionList)
        await until(pilot, lambda: results.display and results.option_count == 8)
        assert results.display and results.option_count == 8
        box = results.region
        assert box.bottom <= screen.query_one(SeatBar).region.y
        assert box.y >= screen.query_one(Header).region.bottom
        assert box.height == 10  # all eight hits, one row each, and the border
        shown = "\n".join(region_lines(frame(app), box))
        assert "金山路  道路" in shown and "…" not in shown.splitlines()[1]
        await _bars_intact(pilot)


@pytest.mark.parametrize("size", SIZES)
async def test_toasts_stand_above_the_seat_bar(tmp_path: Path, size: tuple[int, int]) -> None:
    app = make_app(Settings(data_dir=tmp_path / "data"), _offline_seat(tmp_path), _frozen)
    async with app.run_test(size=size, notifications=True) as pilot:
        for n in range(3):
            app.notify(f"第 {n + 1} 件新派单，待签收", title="工单", timeout=30)
        await until(pilot, lambda: len(app.screen.query(Toast)) == 3)
        seat_bar = app.screen.query_one(SeatBar).region
        toasts = list(app.screen.query(Toast))
        assert len(toasts) == 3
        assert all(toast.region.bottom <= seat_bar.y for toast in toasts)
        await _bars_intact(pilot)
