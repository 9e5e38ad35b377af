"""Case entry driven by Pilot against a real central store (HTTP on 127.0.0.1)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.widgets import Input, Static

from agent_tui.app import make_app
from agent_tui.client.seat import Seat
from agent_tui.config import Settings
from agent_tui.domain.case import Role
from agent_tui.screens.entry import CaseEntryScreen
from agent_tui.server.cases.reads import CaseFilter
from agent_tui.server.store import Store
from agent_tui.server.visibility import Actor

SIZE = (120, 36)
LEAD = Actor("lead01", Role.LEAD)


async def wait_for(predicate, timeout: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.1)


async def test_a_complaint_typed_with_initials_is_dispatched_and_reaches_the_server(
    seat: Seat, central_store: Store, tmp_path: Path
) -> None:
    app = make_app(Settings(data_dir=tmp_path / "ui"), seat)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, CaseEntryScreen)
        non_content = 0

        async def key(*keys: str) -> None:
            nonlocal non_content
            non_content += len(keys)
            await pilot.press(*keys)

        await pilot.press(*"13912345678")
        await key("enter")
        await key("3")  # 投诉
        await key("enter")  # 一般
        await pilot.press(*"zdjy")  # 占道经营
        await key("enter")
        await pilot.press(*"jsl")  # 金山路
        await key("enter")
        await key("enter")  # no detail
        await pilot.press(*"北侧人行道有商户摆摊")
        await key("tab")
        # 金山路 is in the central city: the city's 城管局 serves it, and the form says so
        assert "市城管局（中心城区由市级单位办理）" in str(
            screen.query_one("#route-info", Static).render()
        )
        await key("f9")
        assert non_content <= 15
        await wait_for(lambda: seat.store.outbox_length() == 0)
        page = central_store.list_cases(LEAD, CaseFilter())
        (case,) = page.items
        assert case.status == "dispatched" and case.department
        assert case.address.road == "金山路" and case.category
        assert case.content == "北侧人行道有商户摆摊"
        # The form is clear again, ready for the next call.
        assert screen.query_one("#caller_phone", Input).value == ""


async def test_field_errors_appear_beside_the_fields(seat: Seat, tmp_path: Path) -> None:
    app = make_app(Settings(data_dir=tmp_path / "ui"), seat)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await pilot.press(*"12345")
        await pilot.press("ctrl+s")
        phone_error = str(screen.query_one("#caller_phone-error", Static).render())
        assert "区号" in phone_error
        assert "请选择诉求分类" in str(screen.query_one("#category-error", Static).render())
        assert "请填写诉求内容" in str(screen.query_one("#content-error", Static).render())
        assert seat.store.outbox_length() == 0  # nothing saved


async def test_the_draft_survives_a_restart(seat: Seat, tmp_path: Path, central) -> None:  # type: ignore[no-untyped-def]
    app = make_app(Settings(data_dir=tmp_path / "ui"), seat)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"13912345678", "enter", "3", "enter", *"zdjy", "enter")
        seat.drafts.flush()
    # A new terminal on the same seat store (as after a crash) gets the form back.
    seat2 = Seat(central.url, "agent01", "demo1234", tmp_path / "seat")
    app2 = make_app(Settings(data_dir=tmp_path / "ui"), seat2)
    async with app2.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app2.screen
        assert screen.query_one("#caller_phone", Input).value == "13912345678"
        assert screen.query_one("#category-input", Input).value == "占道经营"
