"""Blocking errors at intake are visible: beside their fields, counted at the top, the first
one focused; the content counts its characters; the knowledge base opens on the category; Tab
from the appeal type does not hand the next digits to 紧急程度; the caller block is on screen."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, Static, TextArea

from agent_tui.app import make_app
from agent_tui.client.seat import Seat
from agent_tui.config import Settings
from agent_tui.domain.case import CONTENT_MAX, AppealType, Urgency
from agent_tui.screens.entry import CaseEntryScreen
from agent_tui.screens.knowledge import AnswerScreen
from agent_tui.widgets.choice import ChoiceBar
from agent_tui.widgets.pick import PickField
from agent_tui.widgets.search_list import SearchList


def _text(screen: CaseEntryScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def _visible(screen: CaseEntryScreen, selector: str) -> bool:
    widget = screen.query_one(selector)
    region = widget.region
    return bool(widget.display) and region.height > 0 and screen.region.contains_region(region)


async def test_f9_with_an_unknown_category_flags_it_and_counts_the_rest(
    seat: Seat, tmp_path: Path
) -> None:
    app = make_app(Settings(data_dir=tmp_path / "ui"), seat)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, CaseEntryScreen)
        await pilot.press(*"13912345678", "enter", "3", "enter", *"qqqxx")
        await pilot.press("f9")
        await pilot.pause()
        assert "没有名为“qqqxx”的分类" in _text(screen, "#category-error")
        summary = _text(screen, "#entry-summary")
        # category, address (a complaint needs a place), content, department: all blocking
        assert "还有 4 处需要修改" in summary and "诉求分类" in summary
        assert app.focused is screen.query_one("#category-input", Input)
        assert _visible(screen, "#category-error") and _visible(screen, "#entry-summary")
        assert seat.store.outbox_length() == 0
        # fixing one leaves three, counted as the agent types
        category = screen.query_one("#category", PickField)
        category.input.value = ""
        await pilot.press(*"tingshui", "enter")
        await pilot.pause()
        assert _text(screen, "#category-error") == ""
        assert "还有 2 处需要修改" in _text(screen, "#entry-summary")  # the category routed too
        await pilot.press(*"jsl", "enter", "enter", *"停水两天了没人管")
        await pilot.pause()
        assert _text(screen, "#entry-summary") == ""


async def test_the_content_counts_its_characters(seat: Seat, tmp_path: Path) -> None:
    app = make_app(Settings(data_dir=tmp_path / "ui"), seat)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, CaseEntryScreen)
        assert _text(screen, "#content-count") == f"0/{CONTENT_MAX} 字"
        screen.query_one("#content", TextArea).text = "停水两天"
        await pilot.pause()
        assert _text(screen, "#content-count") == f"4/{CONTENT_MAX} 字"
        screen.query_one("#content", TextArea).text = "水" * (CONTENT_MAX + 1)
        await pilot.pause()
        assert screen.query_one("#content-count").has_class("-over")


async def test_the_knowledge_base_opens_searched_on_the_category(
    seat: Seat, tmp_path: Path
) -> None:
    app = make_app(Settings(data_dir=tmp_path / "ui"), seat)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = app.screen
        await pilot.press(*"13912345678", "enter", "1", "enter", *"zfgjj", "enter")
        await pilot.press(*"jsl", "enter", "enter", *"公积金怎么提取")
        await pilot.press("ctrl+r")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, AnswerScreen)
        search = dialog.query_one(SearchList)
        assert search.input.value == "住房公积金"
        assert len(search.hits) >= 2
        assert all(h.value.category == "0208" for h in search.hits[:2])
        assert screen is not dialog


async def test_tab_from_the_appeal_type_goes_to_the_category(seat: Seat, tmp_path: Path) -> None:
    app = make_app(Settings(data_dir=tmp_path / "ui"), seat)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = app.screen
        await pilot.press(*"13912345678", "enter")
        assert app.focused is screen.query_one("#appeal_type", ChoiceBar)
        await pilot.press("tab", *"1001")
        assert screen.query_one("#appeal_type", ChoiceBar).value is AppealType.COMPLAINT
        assert screen.query_one("#urgency", ChoiceBar).value is Urgency.NORMAL
        assert screen.query_one("#category-input", Input).value == "1001"
        # the urgency is still there: Shift+Tab back to it
        await pilot.press("shift+tab")
        assert app.focused is screen.query_one("#urgency", ChoiceBar)


async def test_the_caller_block_is_on_screen_at_140x40(seat: Seat, tmp_path: Path) -> None:
    app = make_app(Settings(data_dir=tmp_path / "ui"), seat)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CaseEntryScreen)
        for selector in ("#caller_phone", "#caller_name", "#gender", "#confidential", "#anonymous"):
            assert _visible(screen, selector), selector
        phone = screen.query_one("#caller_phone").region
        assert screen.query_one("#caller_name").region.y == phone.y  # beside the number
        assert (
            screen.query_one("#confidential").region.y < screen.query_one("#appeal_type").region.y
        )
