"""The department's structured reply form and the callback form, over a real central store:
errors beside their fields, nothing queued before it is right; the callback form shows what
will be stored and stores it only on the second Ctrl+S (or Enter)."""

from __future__ import annotations

from pathlib import Path

from agent_tui.app import make_app
from agent_tui.client.seat import Seat
from agent_tui.config import Settings
from agent_tui.domain.case import Role, Status
from agent_tui.domain.lifecycle import Step
from agent_tui.screens.callback_form import CallbackForm
from agent_tui.screens.case_detail import CaseScreen
from agent_tui.screens.step_form import StepForm
from agent_tui.server.embedded import EmbeddedServer
from agent_tui.server.store import Store
from agent_tui.server.visibility import Actor
from tests.pilot.conftest import PASSWORD
from tests.pilot.test_case_loop import LEAD, open_case, seat_app, take
from tests.pilot.test_entry import SIZE, wait_for
from tests.pilot.test_seat_screens import server_case, step, text_of

AGENT = Actor("agent01", Role.AGENT)
DEPT = Actor("cgj01", Role.DEPARTMENT, department="CGJ")


def in_progress(store: Store) -> tuple[str, str]:
    uuid = server_case(store)
    step(store, AGENT, uuid, Step.DISPATCH, 1, department="CGJ")
    step(store, DEPT, uuid, Step.SIGN, 2)
    return uuid, store.get_case(LEAD, uuid).number


async def test_the_reply_form_checks_outcome_officer_and_phone_beside_each(
    central: EmbeddedServer, central_store: Store, tmp_path: Path
) -> None:
    uuid, number = in_progress(central_store)
    async with seat_app(central, "cgj01", tmp_path) as (app, pilot):
        detail = await open_case(app, pilot, "f6", number)
        await take(pilot, detail, "答复")
        form = app.screen
        assert isinstance(form, StepForm)
        await pilot.press("ctrl+s")  # nothing filled in
        assert "请选择办理结果" in text_of(form, "#step-outcome-error")
        assert "请填写" in text_of(form, "#step-result-error")
        assert app.seat.store.outbox_length() == 0
        await pilot.press("1", *"已清理", "tab", *"王强", "enter", *"12345", "enter")
        assert text_of(form, "#step-outcome-error") == ""
        assert "联系电话无效" in text_of(form, "#step-officer_phone-error")
        assert app.screen is form and app.seat.store.outbox_length() == 0
        phone = form.query_one("#step-officer_phone")
        phone.value = ""  # type: ignore[attr-defined]
        phone.focus()
        await pilot.press(*"0396 2345678", "enter")
        await wait_for(lambda: isinstance(app.screen, CaseScreen))
        await wait_for(lambda: central_store.get_case(LEAD, uuid).status == "replied")
    case = central_store.get_case(LEAD, uuid)
    assert (case.reply_outcome, case.reply_officer, case.reply_phone) == (
        "resolved",
        "王强",
        "0396-2345678",
    )


async def test_key_1_asks_solved_and_shows_what_it_stores_before_it_archives(
    central: EmbeddedServer, central_store: Store, tmp_path: Path
) -> None:
    uuid, number = in_progress(central_store)
    step(
        central_store,
        DEPT,
        uuid,
        Step.REPLY,
        3,
        outcome="explained",
        result="已向市民解释政策",
        officer="李红",
        officer_phone="13903960002",
    )
    step(central_store, AGENT, uuid, Step.REVIEW_PASS, 4)
    seat = Seat(central.url, "agent01", PASSWORD, tmp_path / "seat")
    await seat.api.login()
    app = make_app(Settings(data_dir=tmp_path / "ui"), seat)
    async with app.run_test(size=SIZE) as pilot:
        detail = await open_case(app, pilot, "f10", number)
        await take(pilot, detail, "满意")
        form = app.screen
        assert isinstance(form, CallbackForm)
        await pilot.press("ctrl+s")  # "solved?" not answered
        assert "是否已解决" in text_of(form, "#callback-solved-error")
        assert not form.query_one("#callback-summary").display
        await pilot.press("2", "enter", *"解释清楚了", "ctrl+s")  # 未解决, 满意 as keyed
        summary = text_of(form, "#callback-summary")
        assert "问题是否解决：未解决" in summary and "满意度：满意" in summary
        assert "解释清楚了" in summary and "归档" in summary
        assert central_store.get_case(LEAD, uuid).status == "callback_pending"
        await pilot.press("escape")  # back to the form, nothing stored
        assert app.screen is form and not form.query_one("#callback-summary").display
        assert seat.store.outbox_length() == 0
        await pilot.press("ctrl+s", "enter")  # check, then confirm
        await wait_for(lambda: central_store.get_case(LEAD, uuid).status == Status.ARCHIVED)
    case = central_store.get_case(LEAD, uuid)
    assert (case.callback_solved, case.satisfaction, case.callback_note) == (
        "unsolved",
        "satisfied",
        "解释清楚了",
    )
    assert [e.step for e in case.events or []][-3:] == ["callback", "rate", "archive"]


async def test_dissatisfied_needs_what_the_caller_said(
    central: EmbeddedServer, central_store: Store, tmp_path: Path
) -> None:
    uuid, number = in_progress(central_store)
    step(central_store, DEPT, uuid, Step.REPLY, 3, result="已处理")
    step(central_store, AGENT, uuid, Step.REVIEW_PASS, 4)
    async with seat_app(central, "agent01", tmp_path) as (app, pilot):
        detail = await open_case(app, pilot, "f10", number)
        await take(pilot, detail, "不满意，重办", "2", "enter", "ctrl+s")
        form = app.screen
        assert isinstance(form, CallbackForm)
        assert "重办理由" in text_of(form, "#callback-note-error")
        await pilot.press(*"仍然有噪音", "ctrl+s", "ctrl+s")
        await wait_for(lambda: central_store.get_case(LEAD, uuid).status == "in_progress")
    assert central_store.get_case(LEAD, uuid).reopens == 1


def test_the_callback_answers_become_the_steps_the_store_accepts() -> None:
    """Reached now: callback, rate, then archive — or reopen with what the caller said; a case
    answered on the call has no department to reopen to and is archived with the answers."""
    from agent_tui.screens.case_detail import callback_steps

    happy = {"solved": "solved", "satisfaction": "satisfied", "note": ""}
    assert [s for s, _ in callback_steps(happy, reached=True)] == [
        Step.CALLBACK,
        Step.RATE,
        Step.ARCHIVE,
    ]
    angry = {"solved": "unsolved", "satisfaction": "dissatisfied", "note": "还在漏水"}
    steps = callback_steps(angry, reached=False)
    assert steps[-1] == (Step.REOPEN, {"reason": "还在漏水"})
    assert steps[0] == (Step.RATE, angry)
    direct = callback_steps(angry, reached=True, can_reopen=False)
    assert [s for s, _ in direct] == [Step.CALLBACK, Step.RATE, Step.ARCHIVE]
