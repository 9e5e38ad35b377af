"""The shift lead's board over a real central store: figures, drill-down, hot spots, export."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from textual.widgets import DataTable, Static

from agent_tui.app import make_app
from agent_tui.client.seat import Seat
from agent_tui.config import Settings
from agent_tui.domain.case import Role
from agent_tui.domain.kpi import GroupBy
from agent_tui.screens.board import KPI_ROWS, BoardScreen, KpiCasesScreen, percent
from agent_tui.server.embedded import EmbeddedServer
from agent_tui.server.store import Store
from agent_tui.server.visibility import Actor
from agent_tui.wire import RatioOut
from tests.pilot.conftest import PASSWORD
from tests.pilot.test_entry import SIZE, wait_for

LEAD = Actor("lead01", Role.LEAD)
ROAD = {"county": "驿城区", "road": "金山路与骏达路交叉口"}


class Http:
    """The central store over HTTP, as seats would fill it."""

    def __init__(self, url: str) -> None:
        self.client = httpx.Client(base_url=url, timeout=10)
        self.tokens: dict[str, str] = {}

    def call(self, method: str, path: str, user: str, **kw: Any) -> dict[str, Any]:
        if user not in self.tokens:
            r = self.client.post("/api/auth/login", json={"user_id": user, "password": PASSWORD})
            self.tokens[user] = r.json()["token"]
        headers = {"Authorization": f"Bearer {self.tokens[user]}"}
        r = self.client.request(method, path, headers=headers, **kw)
        assert r.status_code < 300, r.text
        return r.json()  # type: ignore[no-any-return]

    def call_step(self, case: dict[str, Any], step: str, user: str, **extra: Any) -> dict[str, Any]:
        """One step on ``case`` at the version it has; the case after it."""
        body = {"command_id": str(uuid.uuid4()), "version": case["version"], **extra}
        path = f"/api/cases/{case['uuid']}/{step.replace('_', '-')}"
        return self.call("POST", path, user, json=body)

    def case(self, *steps: tuple[str, str, dict[str, Any]], **over: Any) -> dict[str, Any]:
        body = {
            "uuid": str(uuid.uuid4()),
            "appeal_type": "complaint",
            "content": "金山路与骏达路交叉口北侧商铺占道经营",
            "caller_phone": "13912345678",
            "category": "0101",
            "address": ROAD,
            **over,
        }
        case = self.call("POST", "/api/cases", "agent01", json=body)
        for step, user, extra in steps:
            body = {"command_id": str(uuid.uuid4()), "version": case["version"], **extra}
            path = f"/api/cases/{case['uuid']}/{step.replace('_', '-')}"
            case = self.call("POST", path, user, json=body)
        return case


DISPATCH = ("dispatch", "agent01", {"department": "CGJ"})


@pytest.fixture
def filled(central: EmbeddedServer) -> Iterator[dict[str, Any]]:
    """Today: three calls about one stall (a hot spot), one more dispatched elsewhere, one
    resolved on the call, one signed by 城管局."""
    http = Http(central.url)
    hot = [http.case(DISPATCH) for _ in range(3)]
    other = http.case(DISPATCH, category="0102", address={"county": "西平县", "road": "解放大道"})
    resolved = http.case(("resolve", "agent01", {"result": "已告知办理流程和所需材料"}))
    signed = http.case(
        DISPATCH, ("sign", "cgj01", {}), address={"county": "驿城区", "road": "解放大道"}
    )
    yield {"hot": hot, "other": other, "resolved": resolved, "signed": signed}
    http.client.close()


def _cell(table: DataTable[Any], row: int, column: int) -> str:
    return str(table.get_cell_at((row, column)))


async def test_the_board_shows_the_store_and_its_kpis_are_the_domain_formulas(
    central: EmbeddedServer, central_store: Store, filled: dict[str, Any], tmp_path: Path
) -> None:
    seat = Seat(central.url, "lead01", PASSWORD, tmp_path / "lead")
    await seat.api.login()
    app = make_app(Settings(data_dir=tmp_path / "ui"), seat, start="board")
    async with app.run_test(size=SIZE) as pilot:
        board = app.screen
        assert isinstance(board, BoardScreen)
        await wait_for(lambda: board.data is not None)
        data = board.data
        assert data is not None
        head = str(board.query_one("#board-head", Static).render())
        assert f"在办 {data.open_total}" in head and data.open_total == 5  # 4 dispatched + signed

        # The tiles are the domain's KPIs over each tile's period, as the store computes them.
        kpis = board.query_one("#board-kpis", DataTable)
        for column, tile in enumerate(data.kpis, 1):
            report = central_store.kpis(LEAD, tile.start, tile.end, GroupBy.NONE)
            for row, (name, _label) in enumerate(KPI_ROWS):
                ratio = getattr(report.total, name)
                expected = RatioOut(
                    numerator=ratio.numerator, denominator=ratio.denominator, value=ratio.value
                )
                cell = _cell(kpis, row, column)
                assert cell.startswith(percent(expected)), (name, tile.period, cell)
                assert cell.endswith(f" {ratio.numerator}/{ratio.denominator}")
        today = central_store.kpis(LEAD, data.kpis[0].start, data.kpis[0].end, GroupBy.NONE)
        assert today.total.direct_resolution.numerator == 1
        assert today.total.direct_resolution.denominator == 6

        # 2: by department; 城管局 has four to sign and one in hand.
        await pilot.press("2")
        departments = board.query_one("#board-departments", DataTable)
        rows = [[str(c) for c in departments.get_row_at(i)] for i in range(departments.row_count)]
        cgj = next(r for r in rows if r[0] == "市城管局")
        assert cgj[2:4] == ["4", "1"] and cgj[7] == "5"
        assert cgj[-1] == "·"  # 今日催办: no urge today

        # Drill-down: 直办率 today, the cases that were not resolved on the call, then the one.
        kpis.focus()
        direct = [n for n, _ in KPI_ROWS].index("direct_resolution")
        kpis.cursor_coordinate = kpis.validate_cursor_coordinate((direct, 1))
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, KpiCasesScreen))
        drill = app.screen
        assert isinstance(drill, KpiCasesScreen)
        table = drill.query_one("#kpi-cases", DataTable)
        await wait_for(lambda: table.row_count == 5)
        await pilot.press("tab")  # 达标
        await wait_for(lambda: table.row_count == 1)
        assert _cell(table, 0, 0) == filled["resolved"]["number"]
        await pilot.press("escape")

        # 7: the hot spot (calls about one place today, none before); s supervises it.
        await pilot.press("7")
        spots = board.query_one("#board-hotspots", DataTable)
        assert spots.row_count == 1
        # Four calls there today (one resolved on the call), three of them still open.
        assert _cell(spots, 0, 2) == ROAD["road"]
        assert (_cell(spots, 0, 3), _cell(spots, 0, 5)) == ("4", "3")
        await pilot.press("s")
        for case in filled["hot"]:
            await wait_for(lambda c=case: central_store.get_case(LEAD, c["uuid"]).supervision > 0)
        assert central_store.get_case(LEAD, filled["other"]["uuid"]).supervision == 0

        # Ctrl+E: today's report as a workbook whose figures are the API's.
        await pilot.press("ctrl+e")
        day = datetime.now(UTC).astimezone(data.kpis[0].start.tzinfo).date().isoformat()
        path = tmp_path / "ui" / "reports" / f"daily-{day}.xlsx"
        await wait_for(lambda: path.exists(), timeout=20)
        book = openpyxl.load_workbook(path)
        assert "概览" in book.sheetnames
        assert path.with_suffix(".txt").read_text(encoding="utf-8").strip()


async def test_an_agent_has_no_board(central: EmbeddedServer, tmp_path: Path) -> None:
    seat = Seat(central.url, "agent01", PASSWORD, tmp_path / "agent")
    await seat.api.login()
    app = make_app(Settings(data_dir=tmp_path / "ui"), seat, start="board")
    async with app.run_test(size=SIZE) as pilot:
        assert not isinstance(app.screen, BoardScreen)
        await pilot.press("ctrl+b")
        assert not isinstance(app.screen, BoardScreen)


async def test_the_tiles_come_from_the_replay_process_inside_the_terminal(tmp_path: Path) -> None:
    """As ``make run`` has it: the store embedded in the terminal's process, the replays in a
    process of their own (started from inside the running Textual app, whose stderr is not a
    file): the tiles are there after a few refreshes."""
    from datetime import datetime as dt

    from sqlmodel import Session

    from agent_tui.server.auth import hash_password
    from agent_tui.server.db import make_engine
    from agent_tui.server.models import UserRow

    settings = Settings(data_dir=tmp_path / "central", clock_interval_seconds=0, kpi_processes=1)
    server = EmbeddedServer(settings, demo_cases=0)
    server.start()
    engine = make_engine(settings.database_url())
    with Session(engine) as session, session.begin():
        session.add(
            UserRow(
                user_id="lead01",
                name="lead01",
                role=Role.LEAD,
                password_hash=hash_password(PASSWORD),
                created_at=dt.now(UTC),
            )
        )
    engine.dispose()
    try:
        seat = Seat(server.url, "lead01", PASSWORD, tmp_path / "lead")
        await seat.api.login()
        app = make_app(Settings(data_dir=tmp_path / "ui"), seat, start="board")
        async with app.run_test(size=SIZE):
            board = app.screen
            assert isinstance(board, BoardScreen)
            await wait_for(lambda: board.data is not None and len(board.data.kpis) == 3, 60)
            assert board.data is not None and not board.data.kpis_pending
    finally:
        server.stop()
