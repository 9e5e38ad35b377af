"""Leader on the line (领导接听), from the keyboard over a real central store.

The city leader logs in at a seat: the entry screen and the seat bar say 领导接听. The case the
leader types and dispatches lands under supervision (督办) marked 领导交办; 城管局's desk sees the
marker in 待签收 and on the case screen; the lead's board counts it on its 领导交办 line.
"""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from agent_tui.domain.case import Role, SupervisionLevel
from agent_tui.domain.leader import LEADER_MARK
from agent_tui.screens.board import BoardScreen
from agent_tui.screens.case_detail import CaseScreen
from agent_tui.screens.entry import CaseEntryScreen
from agent_tui.screens.queues import QueueScreen
from agent_tui.server.cases.reads import CaseFilter
from agent_tui.server.db import make_engine
from agent_tui.server.embedded import EmbeddedServer
from agent_tui.server.store import Store
from agent_tui.widgets.seat_bar import SeatBar
from tests.pilot.conftest import add_users
from tests.pilot.test_board import DISPATCH, LEAD, Http
from tests.pilot.test_entry import wait_for
from tests.pilot.test_urge import running


async def test_a_leader_seat_case_lands_in_supervision_and_every_view_marks_it(
    central: EmbeddedServer, central_store: Store, tmp_path: Path
) -> None:
    engine = make_engine(central.settings.database_url())
    add_users(engine, {"leader01": (Role.LEADER, "")})
    engine.dispose()
    # An agent's case for 城管局 too: it is not marked.
    plain = Http(central.url).case(DISPATCH, caller_phone="13800000000")

    async with running(central, tmp_path, "leader01") as t:
        leader = t["leader01"]
        with leader.context():
            entry = leader.app.screen
            assert isinstance(entry, CaseEntryScreen)
            assert "领导接听" in entry.title
            bar = entry.query_one(SeatBar)
            assert "领导接听" in str(bar.render()) and bar.has_class("-leader")
            await leader.pilot.press(*"13912345678", "enter", "3", "enter", *"zdjy", "enter")
            await leader.pilot.press(*"jsl", "enter", "enter", *"北侧人行道商户占道经营", "tab")
            await leader.pilot.press("f9")
            await wait_for(lambda: leader.seat.store.outbox_length() == 0, timeout=20)

    mine = [c for c in central_store.list_cases(LEAD, CaseFilter()).items if c.agent == "leader01"]
    (case,) = mine
    assert case.status == "dispatched" and case.department == "CGJ"
    assert case.leader_assigned and case.supervision == SupervisionLevel.SUPERVISED
    events = central_store.get_case(LEAD, case.uuid, with_events=True).events or []
    assert [(e.step, e.actor, e.role) for e in events] == [
        ("register", "leader01", "leader"),
        ("dispatch", "leader01", "leader"),
    ]
    assert events[0].reason == LEADER_MARK

    async with running(central, tmp_path, "cgj01", "lead01") as t:
        desk, lead = t["cgj01"], t["lead01"]
        with desk.context():
            queues = desk.app.screen
            assert isinstance(queues, QueueScreen) and queues.queue.key == "incoming"
            await wait_for(lambda: len(queues.visible_rows()) == 2)
            status = {uuid: cells[2] for uuid, cells in queues.visible_rows()}
            assert status[case.uuid].startswith("【领导交办】")
            assert "领导交办" not in status[plain["uuid"]]
            # Typing 领导 in the filter keeps the leader's case only; Enter opens it.
            await desk.pilot.press(*"领导")
            await wait_for(lambda: [k for k, _ in queues.visible_rows()] == [case.uuid])
            await desk.pilot.press("enter")
            await wait_for(lambda: isinstance(desk.app.screen, CaseScreen))
            detail = desk.app.screen
            marker = detail.query_one("#case-leader", Static)
            assert marker.has_class("-shown") and marker.display
            assert "【领导交办】督办" in str(marker.render())

        with lead.context():
            board = lead.app.screen
            assert isinstance(board, BoardScreen)
            callouts = board.query_one("#board-callouts", Static)
            await wait_for(lambda: "领导交办" in str(callouts.render()), timeout=20)
            text = str(callouts.render())
            assert "本月 1 件" in text and "在办 1 件" in text
