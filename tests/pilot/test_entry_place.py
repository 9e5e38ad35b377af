"""The place at intake: which 王庄 (the path in the list and the field), routing by the county
with its reason on the form, and an address the book does not know kept as typed."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, OptionList, Static

from agent_tui.app import make_app
from agent_tui.client.seat import Seat
from agent_tui.config import Settings
from agent_tui.screens.entry import CaseEntryScreen
from agent_tui.server.cases.reads import CaseFilter
from agent_tui.server.store import Store
from agent_tui.widgets.pick import PickField
from tests.pilot.test_entry import LEAD, SIZE, wait_for


def _text(screen: CaseEntryScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def _rows(field: PickField) -> list[str]:
    options = field.query_one(OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def _words(pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    for ch in text:
        await pilot.press("space" if ch == " " else ch)


async def test_a_water_outage_in_biyang_goes_to_biyangs_water_company_and_says_why(
    seat: Seat, central_store: Store, tmp_path: Path
) -> None:
    app = make_app(Settings(data_dir=tmp_path / "ui"), seat)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, CaseEntryScreen)
        await pilot.press(*"13912345678", "enter", "3", "enter")
        await pilot.press(*"tingshui", "enter")  # 停水
        # no place yet: the category's default, a city unit
        assert "默认主办：供水公司" in _text(screen, "#route-info")
        address = screen.query_one("#address", PickField)
        await _words(pilot, "泌阳 官庄 王庄")
        await pilot.pause()
        assert _rows(address)[0].startswith("泌阳县·官庄镇·王庄村")
        await pilot.press("enter")
        assert address.input.value == "泌阳县·官庄镇·王庄村"
        info = _text(screen, "#route-info")
        assert "按泌阳县分派：泌阳县供水公司（县区对口单位）" in info
        assert screen.query_one("#department-input", Input).value == "泌阳县供水公司"
        await pilot.press("enter")  # no detail
        await pilot.press(*"停水两天了")
        await pilot.press("f9")
        await wait_for(lambda: seat.store.outbox_length() == 0)
        (case,) = central_store.list_cases(LEAD, CaseFilter()).items
        assert case.department == "BYX-GS" and case.status == "dispatched"
        assert (case.address.county, case.address.township, case.address.village) == (
            "泌阳县",
            "官庄镇",
            "王庄村",
        )


async def test_a_category_no_county_unit_takes_stays_with_the_city(
    seat: Seat, tmp_path: Path
) -> None:
    app = make_app(Settings(data_dir=tmp_path / "ui"), seat)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, CaseEntryScreen)
        await pilot.press(*"13912345678", "enter", "3", "enter")
        await pilot.press(*"spaq", "enter")  # 食品安全
        await _words(pilot, "泌阳 王庄")
        await pilot.press("enter")
        assert screen.query_one("#address", PickField).input.value.startswith("泌阳县·")
        assert "市级单位：县区无对口单位" in _text(screen, "#route-info")
        assert screen.query_one("#department-input", Input).value == "市市场监管局"


async def test_nothing_found_says_so_and_free_text_is_kept_unmatched(
    seat: Seat, central_store: Store, tmp_path: Path
) -> None:
    app = make_app(Settings(data_dir=tmp_path / "ui"), seat)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, CaseEntryScreen)
        await pilot.press(*"13912345678", "enter", "3", "enter", *"tingshui", "enter")
        address = screen.query_one("#address", PickField)
        await _words(pilot, "泌阳 王")
        await pilot.pause()
        assert len(_rows(address)) > 1  # results for "泌阳 王" ...
        await _words(pilot, "qqq")
        await pilot.pause()
        # ... cleared, and the list says why it is empty
        assert _rows(address) == ["无匹配地址（回车：按所填文字记为未匹配地址）"]
        assert address.has_class("-open")
        await pilot.press("enter")
        assert address.input.value == "泌阳县·王qqq（未匹配）"
        # the county the words named still routes
        assert "按泌阳县分派" in _text(screen, "#route-info")
        await pilot.press(*"西头", "tab")
        await pilot.press(*"停水两天了")
        await pilot.press("ctrl+s")
        await wait_for(lambda: seat.store.outbox_length() == 0)
        (case,) = central_store.list_cases(LEAD, CaseFilter()).items
        assert case.address.county == "泌阳县" and case.address.village == ""
        assert case.address.detail == "王qqq（未匹配） 西头"
