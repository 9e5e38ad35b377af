"""The save toast tells the agent the case's number, offline too (issue 15, item 1)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from agent_tui.app import make_app
from agent_tui.client.last_login import LoginForm
from agent_tui.config import Settings
from agent_tui.screens.entry import CaseEntryScreen
from agent_tui.server.cases.reads import CaseFilter
from agent_tui.server.embedded import EmbeddedServer
from agent_tui.server.store import Store
from tests.pilot.conftest import PASSWORD
from tests.pilot.test_entry import SIZE, wait_for
from tests.pilot.test_seat_screens import LEAD

NUMBER = re.compile(r"ZMD-\d{8}-\d{4,}")


async def test_the_save_toast_shows_the_number_offline_and_says_when_there_is_none(
    central: EmbeddedServer, central_store: Store, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "ui", number_pool=1)
    form = LoginForm(central.url, "agent01", PASSWORD)
    app = make_app(settings, login=form)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, CaseEntryScreen))
        seat = app.seat
        assert seat is not None
        # Online, the seat takes a number in hand for saving offline.
        await wait_for(lambda: seat.numbers_left(datetime.now(UTC)) == 1)
    central.stop()

    app = make_app(settings, login=form)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, CaseEntryScreen))
        assert any("离线" in (n.title or "") for n in app._notifications)
        seat = app.seat
        assert seat is not None

        def toasts() -> list[str]:
            return [str(n.message) for n in app._notifications if n.title == "保存"]

        await pilot.press(*"13912345678", "enter", "3", "enter", *"zdjy", "enter")
        await pilot.press(*"jsl", "enter", "enter", *"商户占道经营", "tab", "ctrl+s")
        await wait_for(lambda: len(toasts()) == 1)
        (said,) = toasts()
        found = NUMBER.search(said)
        assert said.startswith("已受理，编号 ") and found, said
        shown = found.group()
        (first,) = [c for c in seat.recent() if c.case.number == shown]
        assert first.pending

        # The one number in hand is used: the next case is numbered when it syncs.
        await pilot.press(*"13912345679", "enter", "3", "enter", *"zdjy", "enter")
        await pilot.press(*"jsl", "enter", "enter", *"夜间施工噪音", "tab", "ctrl+s")
        await wait_for(lambda: len(toasts()) == 2)
        assert toasts()[1] == "已受理，编号待同步后分配"

        central.start()
        await wait_for(lambda: seat.store.outbox_length() == 0, timeout=40)
    stored = {c.content: c.number for c in central_store.list_cases(LEAD, CaseFilter()).items}
    assert stored["商户占道经营"] == shown  # the number told to the caller
    assert NUMBER.fullmatch(stored["夜间施工噪音"]) and stored["夜间施工噪音"] != shown
