"""Closing the loop (issue: department desk, review, callbacks): one case travels the whole
lifecycle as three users at three seats over the real central store, every step from the
keyboard, and the KPIs computed afterwards are the ones this story should give."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from textual.widgets import DataTable, Input, Static

from agent_tui.app import AgentTUI, make_app
from agent_tui.client.seat import Seat
from agent_tui.config import Settings
from agent_tui.domain.case import Role, Status
from agent_tui.domain.kpi import GroupBy
from agent_tui.domain.lifecycle import Step
from agent_tui.screens.board import KPI_ROWS, BoardScreen
from agent_tui.screens.callback_form import CallbackForm
from agent_tui.screens.case_detail import CaseScreen
from agent_tui.screens.queues import QueueScreen
from agent_tui.server.cases.reads import CaseFilter
from agent_tui.server.embedded import EmbeddedServer
from agent_tui.server.store import Store
from agent_tui.server.visibility import Actor
from tests.pilot.conftest import PASSWORD
from tests.pilot.test_case_reading import _whole
from tests.pilot.test_entry import SIZE, wait_for

LEAD = Actor("lead01", Role.LEAD)


@asynccontextmanager
async def seat_app(central: EmbeddedServer, user: str, tmp_path: Path) -> AsyncIterator[Any]:
    """One user's seat terminal, logged in (so the role picks its screens and queues)."""
    seat = Seat(central.url, user, PASSWORD, tmp_path / user)
    await seat.api.login()
    app = make_app(Settings(data_dir=tmp_path / f"{user}-ui"), seat)
    async with app.run_test(size=SIZE) as pilot:
        yield app, pilot
        await wait_for(lambda: seat.store.outbox_length() == 0, timeout=20)


async def open_case(app: AgentTUI, pilot: Any, queue_key: str, number: str) -> CaseScreen:
    """F3, the queue's key, the case number typed into the filter, Enter."""
    if not isinstance(app.screen, QueueScreen):
        await pilot.press("f3")
    await pilot.press(queue_key)
    screen = app.screen
    assert isinstance(screen, QueueScreen)
    box = screen.query_one("#queue-filter", Input)
    if box.value != number:
        box.value = ""
        await pilot.press(*number)
    table = screen.query_one("#queue-table", DataTable)
    await wait_for(lambda: table.row_count == 1)
    await pilot.press("enter")
    await wait_for(lambda: isinstance(app.screen, CaseScreen))
    detail = app.screen
    assert isinstance(detail, CaseScreen)
    return detail


async def take(pilot: Any, detail: CaseScreen, label: str, *keys: str) -> None:
    """Press the digit of the action called ``label``, then ``keys`` (a form's fields)."""
    labels = [a.label for a in detail.actions]
    assert label in labels, f"{label} not offered: {labels}"
    await pilot.press(str(labels.index(label) + 1), *keys)


def status(store: Store, case_uuid: str) -> Status:
    return Status(store.get_case(LEAD, case_uuid).status)


async def review_and_call_back(
    app: AgentTUI, pilot: Any, store: Store, case_uuid: str, number: str
) -> CaseScreen:
    """待审核: pass the reply; then open the case from 待回访 (the callback queue)."""
    detail = await open_case(app, pilot, "f9", number)
    await take(pilot, detail, "审核通过")
    await wait_for(lambda: status(store, case_uuid) is Status.CALLBACK_PENDING)
    await pilot.press("escape")
    return await open_case(app, pilot, "f10", number)


async def test_a_case_travels_the_whole_loop_as_three_users_and_the_kpis_follow(
    central: EmbeddedServer, central_store: Store, tmp_path: Path
) -> None:
    started = datetime.now(UTC)
    # agent01 takes the call and dispatches to 城管局 (routing by the category).
    async with seat_app(central, "agent01", tmp_path) as (app, pilot):
        await pilot.press(*"13912345678", "enter", "3", "enter", *"zdjy", "enter")
        await pilot.press(*"jsl", "enter", "enter", *"北侧人行道商户占道经营", "tab", "f9")
    (case,) = central_store.list_cases(LEAD, CaseFilter()).items
    uuid, number = case.uuid, case.number
    assert case.status == "dispatched" and case.department == "CGJ"

    # 城管局 signs it, then asks for more time.
    later = (datetime.now(UTC) + timedelta(days=9)).date().isoformat()  # ≤ 10 working days
    async with seat_app(central, "cgj01", tmp_path) as (app, pilot):
        assert isinstance(app.screen, QueueScreen)  # the desk opens on its queues
        detail = await open_case(app, pilot, "f5", number)  # 待签收
        await take(pilot, detail, "签收")
        await wait_for(lambda: status(central_store, uuid) is Status.IN_PROGRESS)
        await wait_for(lambda: "申请延期" in [a.label for a in detail.actions])
        await take(pilot, detail, "申请延期", *"需协调多个部门", "enter", *later, "enter")
        await wait_for(lambda: status(central_store, uuid) is Status.EXTENSION_REQUESTED)

    # agent02 approves the extension (the date asked for).
    async with seat_app(central, "agent02", tmp_path) as (app, pilot):
        detail = await open_case(app, pilot, "f9", number)  # 待审核
        await take(pilot, detail, "同意延期", "ctrl+s")
        await wait_for(lambda: status(central_store, uuid) is Status.IN_PROGRESS)

    async def reply(outcome: str, text: str) -> None:
        """A structured reply: the outcome's digit, what was done, officer, phone."""
        async with seat_app(central, "cgj01", tmp_path) as (app, pilot):
            detail = await open_case(app, pilot, "f6", number)  # 办理中
            await take(pilot, detail, "答复", outcome, *text, "tab", *"王强", "enter")
            await pilot.press(*"13903960001", "enter")
            await wait_for(lambda: status(central_store, uuid) is Status.REPLIED)

    await reply("2", "已责令商户退回店内经营")  # 2 部分解决
    replied = central_store.get_case(LEAD, uuid)
    assert (replied.reply_outcome, replied.reply_officer, replied.reply_phone) == (
        "partly",
        "王强",
        "13903960001",
    )

    # agent02 passes the reply (seeing it), calls back: unreachable, then reached and
    # dissatisfied: not solved, what the caller said, a summary, confirmed.
    async with seat_app(central, "agent02", tmp_path) as (app, pilot):
        review = await open_case(app, pilot, "f9", number)
        shown = _whole(review.query_one("#case-fields")).replace(" ", "")
        assert "部分解决" in shown and "王强13903960001" in shown
        await pilot.press("escape")
        detail = await review_and_call_back(app, pilot, central_store, uuid, number)
        script = _whole(detail.query_one("#case-fields")).replace(" ", "")
        assert "回访话术" in script and "部分解决" in script and "是否已解决" in script
        await take(pilot, detail, "未接通")
        await wait_for(lambda: central_store.get_case(LEAD, uuid).callback_attempts == 1)
        assert isinstance(app.screen, QueueScreen)  # one key, back to the queue
        detail = await open_case(app, pilot, "f10", number)
        await take(pilot, detail, "不满意，重办", "2", "enter", *"商户仍在占道", "ctrl+s")
        assert isinstance(app.screen, CallbackForm)  # the summary, nothing stored yet
        assert "重办" in str(app.screen.query_one("#callback-summary", Static).render())
        assert status(central_store, uuid) is Status.CALLBACK_PENDING
        await pilot.press("enter")
        await wait_for(lambda: status(central_store, uuid) is Status.IN_PROGRESS)
    reopened = central_store.get_case(LEAD, uuid)
    assert reopened.reopens == 1
    rate = [e for e in reopened.events or [] if e.step == "rate"][-1]
    assert rate.changes["callback_solved"] == [None, "unsolved"]
    assert rate.changes["callback_note"] == ["", "商户仍在占道"]
    assert [e for e in reopened.events or [] if e.step == "reopen"][-1].reason == "商户仍在占道"

    await reply("1", "已联合执法，商户已整改")

    async with seat_app(central, "agent02", tmp_path) as (app, pilot):
        detail = await review_and_call_back(app, pilot, central_store, uuid, number)
        await take(pilot, detail, "满意", "1", "ctrl+s", "ctrl+s")
        await wait_for(lambda: status(central_store, uuid) is Status.ARCHIVED)
    assert central_store.get_case(LEAD, uuid).callback_solved == "solved"

    final = central_store.get_case(LEAD, uuid)
    steps = [e.step for e in final.events or []]
    assert steps == [
        "register", "dispatch", "sign", "request_extension", "approve_extension", "reply",
        "review_pass", "callback", "callback", "rate", "reopen", "reply", "review_pass",
        "callback", "rate", "archive",
    ]  # fmt: skip
    report = central_store.kpis(
        LEAD, started - timedelta(hours=1), datetime.now(UTC) + timedelta(hours=1), GroupBy.NONE
    )
    k = report.total
    assert (k.direct_resolution.numerator, k.direct_resolution.denominator) == (0, 1)
    assert (k.timely_signing.numerator, k.timely_signing.denominator) == (1, 1)
    assert (k.on_time.numerator, k.on_time.denominator) == (2, 2)  # two rounds, both in time
    assert (k.callback.numerator, k.callback.denominator) == (1, 1)
    assert (k.satisfaction.numerator, k.satisfaction.denominator) == (1, 2)
    assert (k.resolution.numerator, k.resolution.denominator) == (1, 2)  # unsolved, then solved
    assert (k.reopens.numerator, k.reopens.denominator) == (1, 2)
    assert dict(k.replies_by_outcome) == {"partly": 1, "resolved": 1}

    # The lead's board shows both for this case: 满意率 and 解决率 today, 1 of 2 each.
    async with seat_app(central, "lead01", tmp_path) as (app, pilot):
        await pilot.press("ctrl+b")
        await wait_for(lambda: isinstance(app.screen, BoardScreen) and app.screen.data is not None)
        tiles = app.screen.query_one("#board-kpis", DataTable)
        names = [n for n, _ in KPI_ROWS]

        def today(name: str) -> str:
            return str(tiles.get_cell_at((names.index(name), 1)))

        await wait_for(lambda: today("resolution") != "计算中…", timeout=20)
        assert today("satisfaction") == today("resolution") == "50.0% 1/2"


async def test_a_lead_supervises_a_case_and_the_department_desk_is_told(
    central: EmbeddedServer, central_store: Store, tmp_path: Path
) -> None:
    from tests.pilot.test_seat_screens import server_case, step

    uuid = server_case(central_store)
    step(central_store, LEAD, uuid, Step.DISPATCH, 1, department="CGJ")
    number = central_store.get_case(LEAD, uuid).number
    async with seat_app(central, "cgj01", tmp_path) as (desk, _desk_pilot):
        await wait_for(lambda: desk._watched.get(uuid, ("",))[0] == "dispatched")
        async with seat_app(central, "lead01", tmp_path) as (app, pilot):
            detail = await open_case(app, pilot, "f8", number)  # 已派单
            await take(pilot, detail, "督办", *"领导批示本周内办结", "enter")
            await wait_for(lambda: central_store.get_case(LEAD, uuid).supervision > 0)
        await wait_for(lambda: any("督办" in str(n.message) for n in desk._notifications))
    events = central_store.get_case(LEAD, uuid).events or []
    assert events[-1].step == "supervise" and events[-1].reason == "领导批示本周内办结"


async def test_a_related_call_is_linked_at_intake_and_handled_together(
    central: EmbeddedServer, central_store: Store, tmp_path: Path
) -> None:
    """Two callers report the same stall on 金山路: the second is offered the first (same
    category, same road, open), linked with Ctrl+L, and 城管局 signs both with one key."""
    intake = ("3", "enter", *"zdjy", "enter", *"jsl", "enter", "enter")
    async with seat_app(central, "agent01", tmp_path) as (app, pilot):
        await pilot.press(*"13912345678", "enter", *intake, *"北侧人行道商户占道经营", "tab", "f9")
        await wait_for(lambda: len(central_store.list_cases(LEAD, CaseFilter()).items) == 1)
        (first,) = central_store.list_cases(LEAD, CaseFilter()).items
        await wait_for(
            lambda: (c := app.seat.case(first.uuid)) is not None and c.case.number == first.number
        )

        await pilot.press(*"13800001111", "enter", *intake, *"金山路北侧又有商户摆摊")
        screen = app.screen
        offered = screen.query_one("#related", Static)
        await wait_for(lambda: first.number in str(offered.render()))
        assert screen.query_one("#related-box").display
        await pilot.press("ctrl+l")
        assert "已关联" in str(offered.render())
        await pilot.press("tab", "f9")
        await wait_for(lambda: len(central_store.list_cases(LEAD, CaseFilter()).items) == 2)
    second = next(
        c for c in central_store.list_cases(LEAD, CaseFilter()).items if c.uuid != first.uuid
    )
    assert second.related_to == first.uuid and second.status == "dispatched"
    assert second.department == first.department == "CGJ"

    async with seat_app(central, "cgj01", tmp_path) as (app, pilot):
        detail = await open_case(app, pilot, "f5", first.number)  # 待签收
        panel = detail.query_one("#case-related", Static)
        await wait_for(lambda: second.number in str(panel.render()))
        assert "一并办理" in str(panel.render())
        await take(pilot, detail, "签收")
        for case_uuid in (first.uuid, second.uuid):
            await wait_for(lambda u=case_uuid: status(central_store, u) is Status.IN_PROGRESS)
