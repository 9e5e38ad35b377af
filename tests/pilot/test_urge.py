"""Repeat calls and supervising once, from the keyboard over a real central store.

An agent takes a repeat call: the caller's number brings up the history, F7 urges the open
case with what the caller said. 城管局's desk, running meanwhile, gets the toast ``催办：<number>``,
the case shows its count and rises to the top of 待签收; the lead's board counts it in 今日催办.
On the board, ``s`` on a hot spot supervises its cases; a second ``s`` supervises nothing again
and only says so.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from textual.widgets import DataTable

from agent_tui.app import AgentTUI, make_app
from agent_tui.client.seat import Seat
from agent_tui.config import Settings
from agent_tui.domain.lifecycle import Step
from agent_tui.screens.board import BoardScreen
from agent_tui.screens.case_detail import CaseScreen
from agent_tui.screens.entry import CaseEntryScreen
from agent_tui.screens.queues import QueueScreen
from agent_tui.screens.step_form import StepForm
from agent_tui.server.embedded import EmbeddedServer
from agent_tui.server.store import Store
from tests.pilot.conftest import PASSWORD
from tests.pilot.test_board import DISPATCH, LEAD, Http
from tests.pilot.test_entry import SIZE, wait_for

CALLER = "13912345678"


class Terminal:
    def __init__(self, app: AgentTUI, pilot: Any, seat: Seat) -> None:
        self.app, self.pilot, self.seat = app, pilot, seat

    @contextlib.contextmanager
    def context(self) -> Any:
        # Several apps share one event loop: Textual finds "the app" through a context variable.
        with self.app._context():
            yield

    def toasts(self) -> list[str]:
        return [f"{n.title}|{n.message}" for n in self.app._notifications]


@contextlib.asynccontextmanager
async def running(
    central: EmbeddedServer, tmp_path: Path, *users: str
) -> AsyncIterator[dict[str, Terminal]]:
    """The users' terminals, logged in and online, side by side in this event loop."""
    async with contextlib.AsyncExitStack() as stack:
        found: dict[str, Terminal] = {}
        for user in users:
            seat = Seat(central.url, user, PASSWORD, tmp_path / user)
            await seat.api.login()
            seat.logged_in_online()
            start = "board" if user.startswith("lead") else ""
            app = make_app(Settings(data_dir=tmp_path / f"ui-{user}"), seat, start=start)
            pilot = await stack.enter_async_context(app.run_test(size=SIZE))
            found[user] = Terminal(app, pilot, seat)
        yield found


async def test_an_agent_urges_from_the_caller_history_and_the_desk_and_board_see_it(
    central: EmbeddedServer, central_store: Store, tmp_path: Path
) -> None:
    http = Http(central.url)
    # Two cases for 城管局 to sign: the other caller's was dispatched first (its deadline is
    # the sooner), so it leads 待签收 until the repeat caller's case is urged.
    other = http.case(DISPATCH, caller_phone="13800000000")
    repeat = http.case(DISPATCH, caller_phone=CALLER)
    async with running(central, tmp_path, "cgj01", "agent01", "lead01") as t:
        desk, agent, lead = t["cgj01"], t["agent01"], t["lead01"]
        with desk.context():
            queues = desk.app.screen
            assert isinstance(queues, QueueScreen) and queues.queue.key == "incoming"
            await wait_for(
                lambda: [k for k, _ in queues.visible_rows()] == [other["uuid"], repeat["uuid"]]
            )

        with agent.context():
            entry = agent.app.screen
            assert isinstance(entry, CaseEntryScreen)
            await agent.pilot.press(*CALLER)
            history = entry.query_one("#history", DataTable)
            await wait_for(lambda: history.row_count == 1)
            await agent.pilot.press("f7")
            await wait_for(lambda: isinstance(agent.app.screen, StepForm))
            await agent.pilot.press("ctrl+s")  # nothing written: refused beside the field
            assert isinstance(agent.app.screen, StepForm)
            await agent.pilot.press(*"第三次来电还是没人来处理", "ctrl+s")
            await wait_for(lambda: isinstance(agent.app.screen, CaseEntryScreen))
        await wait_for(lambda: central_store.get_case(LEAD, repeat["uuid"]).urges == 1)
        events = central_store.get_case(LEAD, repeat["uuid"], with_events=True).events or []
        assert (events[-1].step, events[-1].reason) == ("urge", "第三次来电还是没人来处理")
        with agent.context():  # the history pane shows the count
            await wait_for(lambda: "催办1" in str(history.get_cell_at((0, 2))))

        # The desk: one toast naming the case, the count in its row, the case on top.
        with desk.context():
            await wait_for(lambda: f"催办|催办：{repeat['number']}" in desk.toasts())
            await wait_for(lambda: queues.visible_rows()[0][0] == repeat["uuid"])
            top = queues.visible_rows()[0][1]
            assert "催办1" in top[2]

        # The board: 今日催办 by department.
        with lead.context():
            board = lead.app.screen
            assert isinstance(board, BoardScreen)
            await lead.pilot.press("2")
            table = board.query_one("#board-departments", DataTable)

            def cgj_urges() -> str:
                titles = [str(c.label) for c in table.ordered_columns]
                if "今日催办" not in titles:
                    return ""
                for i in range(table.row_count):
                    row = [str(c) for c in table.get_row_at(i)]
                    if row[0] == "市城管局":
                        return row[titles.index("今日催办")]
                return ""

            await wait_for(lambda: cgj_urges() == "1", timeout=20)
    http.client.close()


def opened(screen: Any) -> bool:
    """The case screen is up and shows its case (its keys work from then on)."""
    return isinstance(screen, CaseScreen) and screen.is_mounted and screen.cached is not None


async def test_a_closed_case_is_not_urged_and_a_dissatisfied_one_is_reopened(
    central: EmbeddedServer, central_store: Store, tmp_path: Path
) -> None:
    http = Http(central.url)
    answered = http.case(
        ("resolve", "agent01", {"result": "已告知办理流程", "sample_callback": False})
    )
    dissatisfied = http.case(
        DISPATCH,
        ("sign", "cgj01", {}),
        ("reply", "cgj01", {"result": "已清理"}),
        ("review_pass", "agent01", {}),
        ("callback", "agent01", {"reached": True}),
        ("rate", "agent01", {"satisfaction": "dissatisfied"}),
    )
    async with running(central, tmp_path, "agent01") as t:
        agent = t["agent01"]
        with agent.context():
            agent.app.open_case(answered["uuid"])
            await wait_for(lambda: opened(agent.app.screen))
            await agent.pilot.press("f7")
            await wait_for(lambda: any("不能催办或补充" in x for x in agent.toasts()))
            assert isinstance(agent.app.screen, CaseScreen)  # no form: nothing to urge
            await agent.pilot.press("escape")
            # Rated dissatisfied, with a department: F7 opens 重办 instead.
            agent.app.open_case(dissatisfied["uuid"])
            await wait_for(lambda: opened(agent.app.screen))
            await agent.pilot.press("f7")
            await wait_for(lambda: isinstance(agent.app.screen, StepForm))
            form = agent.app.screen
            assert isinstance(form, StepForm) and form.step is Step.REOPEN
            await agent.pilot.press(*"来电人说问题仍在", "enter")
        await wait_for(
            lambda: central_store.get_case(LEAD, dissatisfied["uuid"]).status == "in_progress"
        )
    assert central_store.get_case(LEAD, dissatisfied["uuid"]).urges == 0
    assert central_store.get_case(LEAD, answered["uuid"]).urges == 0
    http.client.close()


async def test_a_hot_spot_is_supervised_once(
    central: EmbeddedServer, central_store: Store, tmp_path: Path
) -> None:
    http = Http(central.url)
    hot = [http.case(DISPATCH) for _ in range(3)]
    async with running(central, tmp_path, "lead01") as t:
        lead = t["lead01"]
        with lead.context():
            board = lead.app.screen
            assert isinstance(board, BoardScreen)
            await wait_for(lambda: board.data is not None and bool(board.data.hotspots))
            await lead.pilot.press("7")
            spots = board.query_one("#board-hotspots", DataTable)
            titles = [str(c.label) for c in spots.ordered_columns]
            column = titles.index("督办")
            assert str(spots.get_cell_at((0, column))) == ""
            await lead.pilot.press("s")
            for case in hot:
                await wait_for(
                    lambda c=case: central_store.get_case(LEAD, c["uuid"]).supervision == 2
                )
            await wait_for(lambda: lead.seat.store.outbox_length() == 0)
            await wait_for(lambda: str(spots.get_cell_at((0, column))) == "已督办")
            before = len(lead.toasts())
            await lead.pilot.press("s")  # again: nothing but a toast saying so
            await wait_for(lambda: len(lead.toasts()) > before)
            assert "已在督办中" in lead.toasts()[-1]
            await lead.pilot.pause(0.5)
            assert lead.seat.store.outbox_length() == 0 and not lead.seat.held()
    for case in hot:
        events = central_store.get_case(LEAD, case["uuid"], with_events=True).events or []
        assert [e.step for e in events].count("supervise") == 1
    http.client.close()
