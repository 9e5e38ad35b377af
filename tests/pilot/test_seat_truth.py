"""What a new user saw, each fixed at its root (issue "The seat shows the truth"):

* the lead board crashed on quit after a change, and stopped refreshing after the first one;
* a department seat opened with one toast per new case (9 toasts over half the queue);
* the seat bar said 离线 for seconds after a successful login, and named a Python exception
  when the store was unreachable;
* queues kept cases that had moved on (the model-based walk in ``test_live_views`` covers every
  queue; here the three cases the user named, each on its own).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.widgets import DataTable, Static

from agent_tui.app import make_app
from agent_tui.client.api import Offline
from agent_tui.client.seat import Seat
from agent_tui.client.session import open_seat
from agent_tui.config import Settings
from agent_tui.screens.board import BoardScreen
from agent_tui.screens.queues import QueueScreen
from agent_tui.server.embedded import EmbeddedServer
from agent_tui.widgets.seat_bar import SeatBar
from agent_tui.widgets.seat_events import SeatCasesChanged, SeatCommandsHeld, SeatStatusChanged
from tests.pilot.conftest import PASSWORD
from tests.pilot.test_board import DISPATCH, Http
from tests.pilot.test_entry import SIZE, wait_for


def toasts(app: Any) -> list[str]:
    return [str(n.message) for n in app._notifications]


def shown(screen: Any) -> set[str]:
    """The cases a queue screen lists now (its table's row keys)."""
    table = screen.query_one("#queue-table", DataTable)
    return {str(row.key.value) for row in table.ordered_rows}


async def test_the_board_follows_every_change_and_quits_cleanly(
    central: EmbeddedServer, tmp_path: Path
) -> None:
    """Changes while the board is open reach it within the 2 s promised, the second and third
    as well as the first; quitting then leaves with exit code 0 (it raised ZeroDivisionError
    from a zero-interval timer, and the refresh stopped after the first change)."""
    http = Http(central.url)
    seat = Seat(central.url, "lead01", PASSWORD, tmp_path / "lead")
    await seat.api.login()
    app = make_app(Settings(data_dir=tmp_path / "ui"), seat, start="board")
    async with app.run_test(size=SIZE) as pilot:
        board = app.screen
        assert isinstance(board, BoardScreen)
        await wait_for(lambda: board.data is not None)
        for n in range(1, 4):
            # A change after a quiet spell (the last answer older than the minimum gap between
            # two): the refresh is due at once — that was the zero-interval timer.
            await pilot.pause(2.2)
            http.case(DISPATCH)
            changed = time.monotonic()
            await wait_for(lambda n=n: board.data is not None and board.data.open_total == n, 5)
            assert time.monotonic() - changed < 2.0, f"change {n} took too long to show"
            await pilot.pause(0.1)
        http.case(DISPATCH)  # one more in flight while quitting
        await pilot.pause(0.05)
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_code in (0, None)
    http.client.close()


async def test_a_department_desk_opens_with_one_toast_for_its_new_cases(
    central: EmbeddedServer, tmp_path: Path
) -> None:
    http = Http(central.url)
    for _ in range(9):
        http.case(DISPATCH)
    seat = Seat(central.url, "cgj01", PASSWORD, tmp_path / "desk")
    await seat.api.login()
    seat.logged_in_online()
    app = make_app(Settings(data_dir=tmp_path / "ui"), seat)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, QueueScreen)
        await wait_for(lambda: len(shown(screen)) == 9)
        await pilot.pause(0.5)
        assert toasts(app) == ["9 件新派单待签收"]
        # One more while the desk is open: its own toast.
        http.case(DISPATCH)
        await wait_for(lambda: len(toasts(app)) == 2)
        assert toasts(app)[-1] == "新派单，待签收"
    http.client.close()


async def test_the_seat_bar_says_online_from_the_first_frame_after_a_login(
    central: EmbeddedServer, tmp_path: Path
) -> None:
    login = await open_seat(central.url, "agent01", PASSWORD, tmp_path / "seat")
    app = make_app(Settings(data_dir=tmp_path / "ui"), login.seat)
    async with app.run_test(size=SIZE):
        bar = app.screen.query_one(SeatBar)
        assert "在线" in str(bar.render()) and not bar.has_class("-offline")


async def test_offline_says_why_in_words_not_an_exception_name(tmp_path: Path) -> None:
    seat = Seat("http://127.0.0.1:9", "agent01", PASSWORD, tmp_path / "seat")
    with pytest.raises(Offline) as refused:
        await seat.api.login()
    assert "ConnectError" not in refused.value.message
    assert refused.value.message == "无法连接中心库：连接被拒绝，中心库可能未启动或网络不通"
    timeout = Offline.because(httpx.ConnectTimeout("slow"))
    assert timeout.message == "无法连接中心库：连接超时，网络不通或中心库无响应"
    await seat.stop()


def test_seat_messages_never_bubble_back_to_the_app() -> None:
    """A follower's copy reaching the app would be published again, for ever."""
    for message in (SeatCasesChanged, SeatStatusChanged, SeatCommandsHeld):
        assert message.bubble is False, message


async def test_queues_let_go_of_cases_that_moved_on(
    central: EmbeddedServer, tmp_path: Path
) -> None:
    """The three the new user named: after review 待审核 kept the case; after 满意 the archived
    case stayed in 待回访; agent02 dispatched a case and agent01's 待派单 kept it."""
    http = Http(central.url)
    seat = Seat(central.url, "agent01", PASSWORD, tmp_path / "seat")
    await seat.api.login()
    seat.logged_in_online()
    replied = http.case(DISPATCH, ("sign", "cgj01", {}), ("reply", "cgj01", {"result": "已处理"}))
    waiting = http.case()
    app = make_app(Settings(data_dir=tmp_path / "ui"), seat)
    async with app.run_test(size=SIZE) as pilot:
        await app.switch_mode("queues")
        queues = app.screen
        assert isinstance(queues, QueueScreen)

        await pilot.press("f9")  # 待审核
        await wait_for(lambda: replied["uuid"] in shown(queues))
        after = http.call_step(replied, "review_pass", "agent01")
        await wait_for(lambda: replied["uuid"] not in shown(queues), 2)

        await pilot.press("f10")  # 待回访
        await wait_for(lambda: replied["uuid"] in shown(queues), 2)
        after = http.call_step(after, "callback", "agent01", reached=True)
        after = http.call_step(after, "rate", "agent01", satisfaction="satisfied")
        http.call_step(after, "archive", "agent01")
        await wait_for(lambda: replied["uuid"] not in shown(queues), 2)

        await pilot.press("f7")  # 待派单
        await wait_for(lambda: waiting["uuid"] in shown(queues), 2)
        http.call_step(waiting, "dispatch", "agent02", department="CGJ")
        await wait_for(lambda: waiting["uuid"] not in shown(queues), 2)
        status = str(queues.query_one("#queue-status", Static).render())
        assert "未经中心库确认" not in status
    await asyncio.sleep(0)
    http.client.close()


async def test_a_seat_is_not_told_of_its_own_steps_as_news(
    central: EmbeddedServer, tmp_path: Path
) -> None:
    """The desk signs: the agent whose case it is gets "已派单 → 办理中"; the desk, which did
    it, gets only its own "已提交" (the feed's echo of its own step is no news)."""
    http = Http(central.url)
    case = http.case(DISPATCH)
    seat = Seat(central.url, "cgj01", PASSWORD, tmp_path / "desk")
    await seat.api.login()
    seat.logged_in_online()
    app = make_app(Settings(data_dir=tmp_path / "ui"), seat)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, QueueScreen)
        await wait_for(lambda: case["uuid"] in shown(screen))
        app.open_case(case["uuid"])
        await pilot.pause(0.3)
        await pilot.press("1")  # 签收
        await wait_for(lambda: seat.status.outbox == 0 and seat.case(case["uuid"]) is not None)
        await wait_for(lambda: seat.case(case["uuid"]).case.status == "in_progress")  # type: ignore[union-attr]
        await pilot.pause(1.0)  # the feed's echo has come by now
        assert [t for t in toasts(app) if "→" in t] == []
        assert any("已提交" in t for t in toasts(app))
    http.client.close()


async def test_an_open_case_is_read_once_per_version(
    central: EmbeddedServer, tmp_path: Path
) -> None:
    """An open case screen reads the case's timeline from the store once for each version it
    sees, not in a loop (reading it refreshed the cache, which told the screen to read again:
    ~30 reads a second for as long as the case stayed open)."""
    http = Http(central.url)
    seat = Seat(central.url, "agent01", PASSWORD, tmp_path / "seat")
    await seat.api.login()
    seat.logged_in_online()
    case = http.case(DISPATCH)
    app = make_app(Settings(data_dir=tmp_path / "ui"), seat)
    reads: list[str] = []
    fetch = seat.fetch_case

    async def counted(uuid: str) -> Any:
        reads.append(uuid)
        return await fetch(uuid)

    seat.fetch_case = counted  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: seat.case(case["uuid"]) is not None, 5)
        app.open_case(case["uuid"])
        await wait_for(lambda: len(reads) >= 1, 5)
        await asyncio.sleep(2)
        assert len(reads) <= 2, f"{len(reads)} reads of one unchanged case in 2 s"
        count = len(reads)
        http.call_step(case, "sign", "cgj01")  # a new version: read once more
        await wait_for(lambda: len(reads) > count, 3)
        await asyncio.sleep(1.5)
        assert len(reads) <= count + 2
        await pilot.pause()
    http.client.close()
