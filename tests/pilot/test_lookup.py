"""The lookup screen driven by Pilot: keyboard only."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import OptionList, Static

from agent_tui.app import make_app
from agent_tui.config import Settings
from agent_tui.screens.help import HelpScreen
from agent_tui.screens.lookup import LookupScreen
from agent_tui.widgets.search_list import SearchList

SIZE = (120, 36)


def labels(screen: LookupScreen) -> list[str]:
    return [h.label for h in screen.query_one(SearchList).hits]


async def test_pinyin_initials_find_the_road_and_enter_shows_its_path(settings: Settings) -> None:
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, LookupScreen)
        await pilot.press(*"jsl")
        assert labels(screen)[0] == "河南驻马店经济开发区·金山路"  # the path: which 金山路
        await pilot.press("enter")
        detail = str(screen.query_one("#lookup-detail", Static).render())
        assert "金山路" in detail and "道路" in detail


async def test_arrow_keys_move_while_typing(settings: Settings) -> None:
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("l", "u")  # "lu": many roads
        results = app.screen.query_one(OptionList)
        assert results.option_count > 3
        assert results.highlighted == 0
        await pilot.press("down", "down", "up")
        assert results.highlighted == 1


async def test_function_keys_switch_what_is_searched(settings: Settings) -> None:
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, LookupScreen)
        await pilot.press("f6", *"zdjy")
        assert labels(screen)[0] == "占道经营"
        await pilot.press("enter")
        assert "默认主办" in str(screen.query_one("#lookup-detail", Static).render())
        await pilot.press("f8", "ctrl+l", *"gjj")
        assert any("公积金" in label for label in labels(screen))


async def test_f1_shows_help_built_from_the_active_bindings(settings: Settings) -> None:
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        text = "\n".join(f"{r.key} {r.description}" for r in app.screen.rows)
        assert "f5 地址" in text and "f1 帮助" in text
        await pilot.press("escape")
        assert isinstance(app.screen, LookupScreen)


async def test_keymap_from_config_remaps_a_binding(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", keymap={"lookup.category": "f9"})
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f9", *"zdjy")
        screen = app.screen
        assert isinstance(screen, LookupScreen)
        assert screen.current.key == "category"


async def test_centre_address_book_is_searchable(tmp_path: Path) -> None:
    book = tmp_path / "book.csv"
    book.write_text(
        "level,county,township,village,name,aliases,source\npoi,驿城区,,,天中广场东门,,centre\n",
        encoding="utf-8",
    )
    settings = Settings(data_dir=tmp_path / "data", address_book=book)
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"tzgc")
        screen = app.screen
        assert isinstance(screen, LookupScreen)
        assert "驿城区·天中广场东门" in labels(screen)
