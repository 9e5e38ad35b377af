"""Login, queues, case detail, conflicts, toasts and the command palette, driven by Pilot
against a real central store (uvicorn on 127.0.0.1)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from textual.command import CommandList
from textual.widgets import DataTable, Input, Static

from agent_tui.app import make_app
from agent_tui.client.last_login import LoginForm, remembered_login
from agent_tui.client.seat import Seat
from agent_tui.config import Settings
from agent_tui.domain.case import Role
from agent_tui.domain.lifecycle import Step
from agent_tui.screens.case_detail import CaseScreen
from agent_tui.screens.entry import CaseEntryScreen
from agent_tui.screens.login import LoginScreen
from agent_tui.screens.lookup import LookupScreen
from agent_tui.screens.queues import QueueScreen
from agent_tui.server.cases.reads import CaseFilter
from agent_tui.server.embedded import EmbeddedServer, free_port
from agent_tui.server.store import Store
from agent_tui.server.visibility import Actor
from agent_tui.widgets.search_list import SearchList
from agent_tui.widgets.timeline import Timeline
from tests.pilot.conftest import PASSWORD
from tests.pilot.test_entry import SIZE, wait_for

AGENT = Actor("agent01", Role.AGENT)
LEAD = Actor("lead01", Role.LEAD)


def text_of(screen: object, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())  # type: ignore[attr-defined]


def table_text(table: DataTable) -> str:  # type: ignore[type-arg]
    return "\n".join(" ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count))


def server_case(store: Store, content: str = "小区门口井盖缺失，夜间有人摔倒") -> str:
    """A registered case made on the server by agent01 (another seat of the same agent)."""
    from agent_tui import wire

    body = wire.CaseCreate.model_validate(
        {
            "uuid": str(uuid.uuid4()),
            "appeal_type": "complaint",
            "caller_phone": "13912345678",
            "category": "0101",
            "address": {"county": "驿城区", "road": "金山路"},
            "content": content,
        }
    )
    case, _ = store.create_case(AGENT, body)
    return case.uuid


def step(
    store: Store, actor: Actor, case_uuid: str, name: Step, version: int, **kw: object
) -> None:
    from agent_tui import wire

    body = wire.STEP_BODIES[name].model_validate(
        {"command_id": str(uuid.uuid4()), "version": version, **kw}
    )
    store.apply_step(actor, case_uuid, name, body)


def first_command(app: object) -> str:
    """The top hit of the open command palette ('' while it is still searching)."""
    results = app.screen.query_one(CommandList)  # type: ignore[attr-defined]
    if not results.option_count:
        return ""
    return str(results.get_option_at_index(0).prompt.plain)


# -- login ------------------------------------------------------------------------------------


async def test_login_wrong_password_then_right_one_opens_entry_and_is_remembered(
    central: EmbeddedServer, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "ui")
    app = make_app(settings, login=LoginForm(central.url))
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, LoginScreen)
        await pilot.press(*"agent01", "enter", *"wrong", "enter")
        await wait_for(lambda: "错误" in text_of(app.screen, "#login-password-error"))
        assert isinstance(app.screen, LoginScreen)
        password = app.screen.query_one("#login-password", Input)
        password.value = ""
        await pilot.press(*PASSWORD, "enter")
        await wait_for(lambda: isinstance(app.screen, CaseEntryScreen))
        # Mounted before the app closes: a screen still mounting at exit finds no children.
        await wait_for(lambda: bool(app.screen.query("#caller_phone")))
        await pilot.pause()
        assert app.seat is not None and app.seat.user is not None
        assert app.seat.user.role is Role.AGENT
    assert remembered_login(settings.data_dir) == (central.url, "agent01")
    # Next start: server and user are filled in; the password is asked.
    app = make_app(settings, login=LoginForm())
    async with app.run_test(size=SIZE) as pilot:
        assert app.screen.query_one("#login-user", Input).value == "agent01"
        assert app.screen.focused is app.screen.query_one("#login-password", Input)


async def test_unreachable_server_without_a_session_says_so(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    app = make_app(Settings(data_dir=tmp_path / "ui"), login=LoginForm(dead, "agent01"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*PASSWORD, "enter")
        await wait_for(lambda: "无法连接中心库" in text_of(app.screen, "#login-server-error"))
        assert isinstance(app.screen, LoginScreen)


async def test_offline_login_on_a_cached_session_queues_cases_until_the_server_returns(
    central: EmbeddedServer, central_store: Store, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "ui")
    form = LoginForm(central.url, "agent01", PASSWORD)
    app = make_app(settings, login=form)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, CaseEntryScreen))
    central.stop()
    app = make_app(settings, login=form)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, CaseEntryScreen))
        assert any("离线" in (n.title or "") for n in app._notifications)
        seat = app.seat
        assert seat is not None
        await pilot.press(*"13912345678", "enter", "3", "enter", *"zdjy", "enter")
        await pilot.press(*"jsl", "enter", "enter", *"商户占道经营", "tab", "ctrl+s")
        await wait_for(lambda: seat.store.outbox_length() == 1)
        await pilot.press("f3")
        table = app.screen.query_one("#queue-table", DataTable)
        await wait_for(lambda: "待发送" in table_text(table))
        central.start()
        await wait_for(lambda: seat.store.outbox_length() == 0, timeout=40)
        await wait_for(lambda: "待发送" not in table_text(table))
    (case,) = central_store.list_cases(LEAD, CaseFilter()).items
    assert case.content == "商户占道经营" and case.address.road == "金山路"


async def open_the_waiting_case(app: Any, pilot: Any) -> CaseScreen:
    """F3, F7 (待派单) holding one case, Enter: its case screen."""
    await pilot.press("f3", "f7")
    table = app.screen.query_one("#queue-table", DataTable)
    await wait_for(lambda: table.row_count == 1)
    await pilot.press("enter")
    await wait_for(lambda: isinstance(app.screen, CaseScreen))
    detail = app.screen
    assert isinstance(detail, CaseScreen)
    return detail


# -- queues and the case detail ---------------------------------------------------------------


async def test_queue_filters_as_you_type_and_enter_opens_the_case_with_its_timeline(
    seat: Seat, central_store: Store, tmp_path: Path
) -> None:
    first = server_case(central_store, "小区门口井盖缺失，夜间有人摔倒")
    server_case(central_store, "广场舞噪音扰民，晚上十点后仍在跳")
    app = make_app(Settings(data_dir=tmp_path / "ui"), seat)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f3")
        screen = app.screen
        assert isinstance(screen, QueueScreen)
        table = screen.query_one("#queue-table", DataTable)
        await wait_for(lambda: table.row_count == 2)
        await pilot.press(*"井盖")
        assert table.row_count == 1 and "井盖" in table_text(table)
        await pilot.press("f7")  # 待派单: the filter stays, the queue changes
        await wait_for(lambda: table.row_count == 1)
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, CaseScreen))
        detail = app.screen
        assert isinstance(detail, CaseScreen) and detail.case_uuid == first
        timeline = detail.query_one("#case-timeline", Timeline)
        await wait_for(lambda: len(timeline.events) >= 1)
        assert "受理" in timeline.text
        steps = text_of(detail, "#case-steps")
        assert "派单" in steps and "不予受理" in steps
        await pilot.press("escape")
        assert isinstance(app.screen, QueueScreen)


async def test_a_step_from_the_case_screen_reaches_the_server(
    seat: Seat, central_store: Store, tmp_path: Path
) -> None:
    case_uuid = server_case(central_store)
    app = make_app(Settings(data_dir=tmp_path / "ui"), seat)
    async with app.run_test(size=SIZE) as pilot:
        detail = await open_the_waiting_case(app, pilot)
        await wait_for(lambda: Step.DISPATCH in detail.steps)
        await pilot.press(str(detail.steps.index(Step.DISPATCH) + 1))
        # Routing by the case's category filled the department: confirm it.
        await pilot.press("ctrl+s")
        await wait_for(lambda: seat.store.outbox_length() == 0)
        case = central_store.get_case(LEAD, case_uuid)
        assert case.status == "dispatched" and case.department
        await wait_for(lambda: "派单" in detail.query_one("#case-timeline", Timeline).text)


async def test_a_step_form_shows_errors_beside_its_fields(
    seat: Seat, central_store: Store, tmp_path: Path
) -> None:
    server_case(central_store)
    app = make_app(Settings(data_dir=tmp_path / "ui"), seat)
    async with app.run_test(size=SIZE) as pilot:
        detail = await open_the_waiting_case(app, pilot)
        await pilot.press(str(detail.steps.index(Step.REFUSE) + 1))
        await pilot.press("ctrl+s")  # no reason given
        assert "请填写理由" in text_of(app.screen, "#step-reason-error")
        await pilot.press("escape")
        assert app.screen is detail and seat.store.outbox_length() == 0


async def test_a_conflict_shows_both_versions_and_can_be_reapplied(
    seat: Seat, central_store: Store, tmp_path: Path
) -> None:
    case_uuid = server_case(central_store)
    app = make_app(Settings(data_dir=tmp_path / "ui"), seat)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: seat.store.case(case_uuid) is not None)
        # The lead supervises it on the server (version 2) while this seat dispatches on v1.
        step(central_store, LEAD, case_uuid, Step.SUPERVISE, 1, reason="领导批示")
        cached = seat.case(case_uuid)
        assert cached is not None and cached.version == 1
        seat.take_step(cached, Step.DISPATCH, {"department": "CGJ"})
        await wait_for(lambda: len(seat.held()) == 1)
        await wait_for(lambda: any(n.title == "冲突" for n in app._notifications))
        app.open_case(case_uuid)
        await pilot.pause()
        detail = app.screen
        assert isinstance(detail, CaseScreen)
        await wait_for(lambda: "与中心库冲突" in text_of(detail, "#case-conflict"))
        panel = text_of(detail, "#case-conflict")
        assert "基于第 1 版" in panel and "第 2 版" in panel
        await pilot.press("ctrl+y")
        await wait_for(lambda: seat.store.outbox_length() == 0)
        case = central_store.get_case(LEAD, case_uuid)
        assert case.status == "dispatched" and case.department == "CGJ" and case.version == 3


async def test_a_change_to_my_case_elsewhere_shows_a_toast(
    seat: Seat, central_store: Store, tmp_path: Path
) -> None:
    case_uuid = server_case(central_store)
    app = make_app(Settings(data_dir=tmp_path / "ui"), seat)
    async with app.run_test(size=SIZE):
        await wait_for(lambda: seat.store.case(case_uuid) is not None)
        await wait_for(lambda: app._watched.get(case_uuid, ("",))[0] == "registered")
        step(central_store, LEAD, case_uuid, Step.DISPATCH, 1, department="CGJ")
        await wait_for(
            lambda: any("已派单" in str(n.message) for n in app._notifications), timeout=20
        )


# -- command palette --------------------------------------------------------------------------


async def test_palette_finds_an_address_by_initials_and_opens_the_lookup(
    seat: Seat, tmp_path: Path
) -> None:
    app = make_app(Settings(data_dir=tmp_path / "ui"), seat)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await pilot.press(*"jsl")
        await wait_for(lambda: first_command(app).startswith("地址 金山路"))
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, LookupScreen))
        search = app.screen.query_one(SearchList)
        assert search.input.value == "金山路"
        assert "金山路" in text_of(app.screen, "#lookup-detail")


async def test_palette_finds_a_case_by_its_content(
    seat: Seat, central_store: Store, tmp_path: Path
) -> None:
    case_uuid = server_case(central_store, "广场舞噪音扰民，晚上十点后仍在跳")
    app = make_app(Settings(data_dir=tmp_path / "ui"), seat)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: seat.store.case(case_uuid) is not None)
        await pilot.press("ctrl+p", *"广场舞")
        await wait_for(lambda: first_command(app).startswith("工单"))
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, CaseScreen))
        assert isinstance(app.screen, CaseScreen) and app.screen.case_uuid == case_uuid


async def test_login_while_the_demo_store_seeds_says_so_and_logs_in_when_ready(
    tmp_path: Path,
) -> None:
    """The demo's store listens before its first seed is done and answers "starting": the
    login form says the store is starting (not "unreachable", and no offline seat on an empty
    cache) and logs in by itself once the store is ready."""
    import threading

    from agent_tui.server.embedded import DemoStore

    release = threading.Event()

    class SlowDemo(DemoStore):
        def _make(self) -> object:
            release.wait(30)
            return super()._make()

    home = tmp_path / "demo"
    settings = Settings(
        data_dir=home,
        db_url=f"sqlite:///{home / 'central.db'}",
        clock_interval_seconds=0,
        kpi_processes=0,
    )
    store = SlowDemo(settings, port=free_port(), demo_cases=20).start()
    try:
        app = make_app(
            Settings(data_dir=tmp_path / "ui"), login=LoginForm(store.url, "agent01", PASSWORD)
        )
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("enter")
            await wait_for(lambda: "正在启动" in text_of(app.screen, "#login-status"))
            assert isinstance(app.screen, LoginScreen)
            assert not text_of(app.screen, "#login-server-error")
            release.set()
            await wait_for(lambda: isinstance(app.screen, CaseEntryScreen), timeout=30)
            await wait_for(lambda: bool(app.screen.query("#caller_phone")))
            await pilot.pause()
            assert app.seat is not None
            await wait_for(lambda: app.seat.status.online)
    finally:
        release.set()
        store.stop()
