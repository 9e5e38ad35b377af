"""Screens at 120×36 with Chinese content: CJK must align. Review diffs before updating."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest

from agent_tui.app import make_app
from agent_tui.config import Settings

SIZE = (120, 36)


def test_lookup_address_jsl(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = make_app(Settings(data_dir=tmp_path / "data"))
    assert snap_compare(app, press=[*"jsl", "enter"], terminal_size=SIZE)


def test_lookup_category(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = make_app(Settings(data_dir=tmp_path / "data"))
    assert snap_compare(app, press=["f6", *"zy", "enter"], terminal_size=SIZE)


def test_help(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = make_app(Settings(data_dir=tmp_path / "data"))
    assert snap_compare(app, press=["f1"], terminal_size=SIZE)


def _offline_seat(tmp_path: Path):  # type: ignore[no-untyped-def]
    from agent_tui.client.seat import Seat

    # Port 9 (discard) on loopback: nothing answers, the seat is offline and says so.
    return Seat("http://127.0.0.1:9", "agent01", "x", tmp_path / "seat", seat_id="seat-07")


def _frozen() -> datetime:
    return datetime(2026, 11, 26, 2, 30, tzinfo=UTC)  # Thursday 10:30 in Zhumadian


def test_case_entry_with_routing(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = make_app(Settings(data_dir=tmp_path / "data"), _offline_seat(tmp_path), _frozen)

    async def fill(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.press(*"13912345678", "enter", "3", "enter", *"zdjy", "enter")
        await pilot.press(*"jsl", "enter", "enter")
        await pilot.press(*"ab")  # content: ASCII here (the snapshot harness types keys)
        await pilot.pause()

    assert snap_compare(app, run_before=fill, terminal_size=SIZE)


def test_case_entry_errors(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = make_app(Settings(data_dir=tmp_path / "data"), _offline_seat(tmp_path), _frozen)
    assert snap_compare(app, press=[*"12345", "ctrl+s"], terminal_size=SIZE)


def _case(n: int, content: str, status: str, **kw: object):  # type: ignore[no-untyped-def]
    from agent_tui import wire

    registered = datetime(2026, 11, 26, 1, 5 + n, tzinfo=UTC)
    return wire.CasePublic.model_validate(
        {
            "uuid": f"00000000-0000-4000-8000-00000000000{n}",
            "number": f"ZMD-20261126-000{n}",
            "status": status,
            "appeal_type": "complaint",
            "channel": "phone",
            "urgency": "normal",
            "caller_phone": f"1391234567{n}",
            "caller_name": "王女士",
            "gender": "female",
            "confidential": False,
            "anonymous": False,
            "category": "0101",
            "address": {"county": "驿城区", "road": "金山路", "detail": "北侧"},
            "content": content,
            "platform": "city",
            "agent": "agent01",
            "registered_at": registered.isoformat(),
            "department": kw.get("department", ""),
            "co_departments": [],
            "assigned_platform": "",
            "dispatched_at": None,
            "sign_deadline": kw.get("sign_deadline"),
            "return_deadline": None,
            "handling_deadline": kw.get("deadline"),
            "deadline_provisional": False,
            "signed_at": None,
            "requested_deadline": None,
            "extensions": 0,
            "returns": 0,
            "replied_at": kw.get("replied_at"),
            "result": kw.get("result", ""),
            "refusal_reason": "",
            "callback_required": False,
            "callback_attempts": 0,
            "callback_result": None,
            "satisfaction": None,
            "reopens": 0,
            "supervision": 0,
            "archived_at": None,
            "version": int(kw.get("version", 1)),  # type: ignore[call-overload]
            "updated_at": registered.isoformat(),
        }
    )


def _seat_with_cases(tmp_path: Path):  # type: ignore[no-untyped-def]
    seat = _offline_seat(tmp_path)
    seat.store.put_cases(
        [
            _case(1, "北侧人行道有商户占道摆摊，影响通行", "registered"),
            _case(2, "广场舞噪音扰民，晚上十点后仍在跳", "registered"),
            _case(
                3,
                "小区门口井盖缺失，夜间有人摔倒",
                "dispatched",
                department="CGJ",
                deadline="2026-11-25T16:00:00+00:00",
            ),
        ]
    )
    return seat


def _queue(*keys: str):  # type: ignore[no-untyped-def]
    """Press ``keys``, wait for the (failed) server fetch, and stop the cursor blinking: the
    capture must not depend on how long the fetch took."""

    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        from textual.widgets import Input

        await pilot.press(*keys)
        for _ in range(100):
            await pilot.pause(0.05)
            if "本机缓存" in str(pilot.app.screen.query_one("#queue-status").render()):
                break
        for box in pilot.app.screen.query(Input):
            box.cursor_blink = False
        await pilot.pause()

    return run


def test_queue_waiting_for_dispatch(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = make_app(Settings(data_dir=tmp_path / "data"), _seat_with_cases(tmp_path), _frozen)
    assert snap_compare(app, run_before=_queue("f3", "f7"), terminal_size=SIZE)


def test_queue_overdue(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = make_app(Settings(data_dir=tmp_path / "data"), _seat_with_cases(tmp_path), _frozen)
    assert snap_compare(app, run_before=_queue("f3", "f11"), terminal_size=SIZE)


async def _offline_noted(pilot) -> None:  # type: ignore[no-untyped-def]
    """Wait until the case screen has tried the server and says it shows the cache."""
    for _ in range(100):
        await pilot.pause(0.05)
        status = pilot.app.screen.query("#case-status")
        if status and "本机缓存" in str(status.first().render()):
            break
    await pilot.pause(0.2)
    await pilot.pause()


def test_step_form_dispatch(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = make_app(Settings(data_dir=tmp_path / "data"), _seat_with_cases(tmp_path), _frozen)

    async def open_it(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.press("f3", "f7", "enter")
        await _offline_noted(pilot)
        await pilot.press("3")  # 派单 (不予受理, 直接办结, 派单)
        await pilot.pause()
        for box in pilot.app.screen.query("Input"):
            box.cursor_blink = False
        await pilot.pause()

    assert snap_compare(app, run_before=open_it, terminal_size=SIZE)


def test_login_unreachable_server(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from agent_tui.client.last_login import LoginForm

    form = LoginForm(
        "http://127.0.0.1:9", "agent01", "demo1234", hint="演示账号：agent01 / demo1234"
    )
    app = make_app(Settings(data_dir=tmp_path / "data"), login=form)

    async def submit(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.press("enter")
        for _ in range(100):
            await pilot.pause(0.05)
            if "无法连接" in str(app.screen.query_one("#login-server-error").render()):
                break
        for box in app.screen.query("Input"):
            box.cursor_blink = False  # type: ignore[attr-defined]
        await pilot.pause()

    assert snap_compare(app, run_before=submit, terminal_size=SIZE)


def test_case_entry_in_english(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The English catalogue at 120×36: labels, choices, routing's deadline, field errors,
    Footer keys, seat bar (the form scrolled back to its top to show the widest rows)."""
    from agent_tui.i18n import set_language
    from agent_tui.keys import localize_bindings

    settings = Settings(data_dir=tmp_path / "data", language="en")
    app = make_app(settings, _offline_seat(tmp_path), _frozen)

    async def fill(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.press(*"12345", "enter", "3", "enter", *"zdjy", "enter")
        await pilot.press(*"jsl", "enter", "enter", "ctrl+s")
        pilot.app.screen.query_one("#caller_phone").focus()
        await pilot.pause()

    try:
        assert snap_compare(app, run_before=fill, terminal_size=SIZE)
    finally:
        set_language("zh")
        localize_bindings()


def test_department_desk_to_sign(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from agent_tui import wire

    seat = _offline_seat(tmp_path)
    # A liaison's seat (logged in earlier: the role comes from the cached session).
    seat.api.user = wire.UserPublic(
        user_id="cgj01", name="城管局联络员", role="department", department="CGJ"
    )
    seat.store.put_cases(
        [
            _case(
                n,
                content,
                "dispatched",
                department="CGJ",
                sign_deadline=f"2026-11-26T0{n + 3}:00:00+00:00",
                deadline="2026-12-03T16:00:00+00:00",
            )
            for n, content in (
                (1, "北侧人行道有商户占道摆摊，影响通行"),
                (2, "夜市烧烤油烟扰民，凌晨仍未收摊"),
            )
        ]
    )
    app = make_app(Settings(data_dir=tmp_path / "data"), seat, _frozen)
    assert snap_compare(app, run_before=_queue(), terminal_size=SIZE)


def test_callback_case(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    seat = _offline_seat(tmp_path)
    seat.store.put_cases(
        [
            _case(
                4,
                "北侧人行道有商户占道摆摊，影响通行",
                "callback_pending",
                department="CGJ",
                deadline="2026-11-28T16:00:00+00:00",
                replied_at="2026-11-25T08:00:00+00:00",
                result="经现场核查，已责令商户退回店内经营，并安排城管队员每日巡查。",
            )
        ]
    )
    app = make_app(Settings(data_dir=tmp_path / "data"), seat, _frozen)

    async def open_it(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.press("f3", "f10", "enter")  # 待回访, the oldest first
        await _offline_noted(pilot)

    assert snap_compare(app, run_before=open_it, terminal_size=SIZE)


def test_lookup_knowledge(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = make_app(Settings(data_dir=tmp_path / "data"))
    assert snap_compare(app, press=["f8", *"gjj", "enter"], terminal_size=SIZE)


def _dashboard():  # type: ignore[no-untyped-def]
    """A fixed board: what the central store would answer at 10:30 on a Thursday."""
    from agent_tui import wire

    at = _frozen()

    def ratio(n: int, d: int) -> dict[str, object]:
        return {"numerator": n, "denominator": d, "value": n / d if d else None}

    def kpis(scale: int) -> dict[str, object]:
        return {
            "on_time": ratio(47 * scale, 50 * scale),
            "callback": ratio(38 * scale, 42 * scale),
            "satisfaction": ratio(35 * scale, 38 * scale),
            "timely_signing": ratio(49 * scale, 50 * scale),
            "direct_resolution": ratio(12 * scale, 61 * scale),
            "returns": ratio(2, 50 * scale),
            "reopens": ratio(1, 38 * scale),
            "average_handling_hours": 30.5,
            "registered": 61 * scale,
            "volume_by_type": {},
            "volume_by_category": {},
            "volume_by_county": {},
            "volume_by_department": {},
        }

    def brief(
        n: int, minutes: int, department: str, content: str, level: int = 0
    ) -> dict[str, object]:
        return {
            "uuid": f"00000000-0000-4000-8000-0000000001{n:02d}",
            "number": f"ZMD-202611{20 + n:02d}-00{n:02d}",
            "status": "in_progress",
            "department": department,
            "platform": "city",
            "category": "0101",
            "county": "驿城区",
            "content": content,
            "handling_deadline": "2026-11-26T00:00:00+00:00",
            "minutes_left": minutes,
            "supervision": level,
        }

    return wire.Dashboard.model_validate(
        {
            "at": at,
            "by_status_department": [
                {"status": "dispatched", "department": "CGJ", "count": 4},
                {"status": "in_progress", "department": "CGJ", "count": 57},
                {"status": "replied", "department": "CGJ", "count": 3},
                {"status": "in_progress", "department": "ZJJ", "count": 35},
                {"status": "callback_pending", "department": "ZJJ", "count": 6},
                {"status": "registered", "department": "", "count": 7},
            ],
            "by_status_platform": [
                {"status": "in_progress", "platform": "city", "count": 92},
                {"status": "dispatched", "platform": "411726", "count": 3},
            ],
            "open_total": 112,
            "overdue": 2,
            "due_2h": 1,
            "due_today": 9,
            "callbacks_waiting": 6,
            "callback_ages": {"<1d": 4, "1-3d": 2, ">3d": 0},
            "oldest_callback_waiting_since": "2026-11-25T01:00:00+00:00",
            "overdue_cases": [
                brief(1, -3 * 24 * 60 - 90, "CGJ", "北侧人行道商户占道经营，多次反映未处理", 2),
                brief(2, -200, "ZJJ", "小区电梯停运三天，老人上下楼困难"),
            ],
            "due_soon_cases": [brief(3, 75, "CGJ", "夜市烧烤油烟扰民")],
            "seats": [
                {
                    "seat_id": "seat-07",
                    "user_id": "agent07",
                    "last_seen_at": at,
                    "outbox": 0,
                    "online": True,
                },
                {
                    "seat_id": "seat-12",
                    "user_id": "agent12",
                    "last_seen_at": at,
                    "outbox": 3,
                    "online": True,
                },
                {
                    "seat_id": "seat-21",
                    "user_id": "agent21",
                    "last_seen_at": "2026-11-26T01:10:00+00:00",
                    "outbox": 0,
                    "online": False,
                },
            ],
            "volume_by_hour": [0, 0, 1, 0, 0, 0, 1, 3, 9, 12, 7, *([0] * 13)],
            "volume_by_type": {"complaint": 17, "inquiry": 12, "help": 3, "report": 1},
            "kpis": [
                {"period": p, "start": at, "end": at, "kpis": kpis(s)}
                for p, s in (("today", 1), ("week", 5), ("month", 20))
            ],
            "hotspots": [
                {
                    "category": "0101",
                    "county": "驿城区",
                    "place": "金山路与骏达路交叉口",
                    "last_24h": 5,
                    "baseline_per_day": 0.4,
                    "open_cases": ["00000000-0000-4000-8000-000000000101"],
                    "rule": "24小时内 5 件，前7日日均 0.4 件",
                }
            ],
        }
    )


def _board(pane: str = ""):  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        from agent_tui.screens.board import BoardScreen

        await pilot.pause(0.3)  # the offline seat's first fetch has failed by now
        screen = pilot.app.screen
        assert isinstance(screen, BoardScreen)
        screen.show(_dashboard())
        if pane:
            await pilot.press(pane)
        await pilot.pause()

    return run_before


def _lead_app(tmp_path: Path):  # type: ignore[no-untyped-def]
    from agent_tui import wire

    seat = _offline_seat(tmp_path)
    seat.api.user = wire.UserPublic(user_id="lead01", name="值班长", role="lead")
    return make_app(Settings(data_dir=tmp_path / "data"), seat, _frozen, start="board")


def test_lead_board(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_lead_app(tmp_path), run_before=_board(), terminal_size=SIZE)


def test_lead_board_departments(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_lead_app(tmp_path), run_before=_board("2"), terminal_size=SIZE)


# -- issue 13: 汉字 over overlays, overlays inside the screen, the case read whole --------------
# At the two sizes seats use. The first two are the ones that showed the bugs: a toast over the
# split entry screen lost characters, and the pick-list covered the seat bar at 100×30.

SEAT_SIZES = [pytest.param((100, 30), id="100x30"), pytest.param((140, 40), id="140x40")]
CONFLICT = "有操作与中心库冲突，已保留两个版本：F3 队列中打开该工单处理"


async def _still(pilot) -> None:  # type: ignore[no-untyped-def]
    """No blinking cursor in the capture."""
    for box in pilot.app.screen.query("Input, TextArea"):
        box.cursor_blink = False
    await pilot.pause()


@pytest.mark.parametrize("size", SEAT_SIZES)
def test_toasts_over_the_entry_screen_with_caller_history(  # type: ignore[no-untyped-def]
    snap_compare, tmp_path: Path, size: tuple[int, int]
) -> None:
    from agent_tui import wire

    seat = _offline_seat(tmp_path)
    seat.store.put_cases([_case(1, "北侧人行道有商户占道摆摊，影响通行", "dispatched")])
    # Numbers reserved while it was online: the dispatch toast gives the case's number.
    block = {"id": 1, "platform": "city", "prefix": "ZMD", "year": 2026, "first": 41}
    seat.store.add_numbers(
        wire.NumberBlock(
            **block, last=60, seat_id="seat-07", user_id="agent01", reserved_at=_frozen()
        )
    )
    app = make_app(Settings(data_dir=tmp_path / "data"), seat, _frozen)
    app.NOTIFICATION_TIMEOUT = 60  # still up when the capture is taken, however slow

    async def dispatch(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.press(*"13912345671", "enter", "3", "enter", *"zdjy", "enter")
        await pilot.press(*"jsl", "enter", "enter", *"北侧人行道有商户摆摊", "f9")
        await pilot.press(*"13912345671")  # the next call: the same caller, two cases now
        pilot.app.notify(CONFLICT, title="冲突", severity="error")
        await pilot.pause(0.2)
        await _still(pilot)

    assert snap_compare(app, run_before=dispatch, terminal_size=size)


@pytest.mark.parametrize("size", SEAT_SIZES)
def test_address_pick_list_open(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    app = make_app(Settings(data_dir=tmp_path / "data"), _offline_seat(tmp_path), _frozen)

    async def search(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.press(*"13912345678", "enter", "3", "enter", *"zdjy", "enter", *"jsl")
        await _still(pilot)

    assert snap_compare(app, run_before=search, terminal_size=size)


REPLY = "".join(
    f"第{i}条：经现场核查，商户已退回店内经营，占道物品已清理，城管中队每日两次巡查。"
    for i in range(1, 30)
)[:600]
RETURN_REASON = (
    "该路段北段属经济开发区管辖，请改派开发区城管分局办理；本局已于当日电话告知来电人。" * 2
)


def _ticking(start: datetime, step: timedelta) -> Callable[[], datetime]:
    """A clock for the store that moves on ``step`` at each reading (a readable timeline)."""
    now = [start]

    def clock() -> datetime:
        now[0] += step
        return now[0]

    return clock


@pytest.mark.parametrize(
    ("size", "keys"),
    [
        pytest.param((100, 30), ("end",), id="100x30-end"),  # the timeline, scrolled to by key
        pytest.param((140, 40), (), id="140x40"),
    ],
)
def test_case_with_a_600_character_reply_and_its_timeline(  # type: ignore[no-untyped-def]
    snap_compare,
    tmp_path: Path,
    size: tuple[int, int],
    keys: tuple[str, ...],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A real central store on a frozen clock: the seat reads the case and its timeline."""
    from functools import partial

    from agent_tui import wire
    from agent_tui.client.seat import Seat
    from agent_tui.domain.case import Role
    from agent_tui.domain.lifecycle import Step
    from agent_tui.server import embedded
    from agent_tui.server.app import create_app
    from agent_tui.server.db import make_engine
    from agent_tui.server.store import Store
    from agent_tui.server.visibility import Actor
    from tests.pilot.conftest import PASSWORD, add_users

    settings = Settings(data_dir=tmp_path / "central", clock_interval_seconds=0, kpi_processes=0)
    clock = _ticking(datetime(2026, 11, 24, 1, 0, tzinfo=UTC), timedelta(minutes=7))
    monkeypatch.setattr(embedded, "create_app", partial(create_app, clock=clock))
    central = embedded.EmbeddedServer(settings, demo_cases=0)
    central.start()
    try:
        engine = make_engine(settings.database_url())
        add_users(engine)
        store = Store(engine, settings, clock=clock)
        agent, liaison = Actor("agent01", Role.AGENT), Actor("cgj01", Role.DEPARTMENT, "CGJ")
        case, _ = store.create_case(
            agent,
            wire.CaseCreate.model_validate(
                {
                    "uuid": "00000000-0000-4000-8000-000000000600",
                    "appeal_type": "complaint",
                    "caller_phone": "13912345678",
                    "caller_name": "王女士",
                    "category": "0101",
                    "address": {"county": "驿城区", "road": "金山路", "detail": "北侧"},
                    "content": "北侧人行道有商户占道摆摊，晚上烧烤油烟很大，行人只能走机动车道。",
                }
            ),
        )
        version = case.version
        for actor, step, body in (
            (agent, Step.DISPATCH, {"department": "CGJ"}),
            (liaison, Step.SIGN, {}),
            (liaison, Step.REQUEST_RETURN, {"reason": RETURN_REASON}),
            (agent, Step.REFUSE_RETURN, {"reason": "金山路北段由市城管局负责，请继续办理。"}),
            (liaison, Step.REPLY, {"result": REPLY}),
        ):
            request = wire.STEP_BODIES[step].model_validate(
                {"command_id": str(uuid4()), "version": version, **body}
            )
            version = store.apply_step(actor, case.uuid, step, request).version
        engine.dispose()
        seat = Seat(central.url, "agent01", PASSWORD, tmp_path / "seat", seat_id="seat-07")
        app = make_app(Settings(data_dir=tmp_path / "data"), seat, _frozen)

        async def open_it(pilot) -> None:  # type: ignore[no-untyped-def]
            for _ in range(200):
                await pilot.pause(0.05)
                if seat.store.case(case.uuid) is not None:
                    break
            await pilot.pause(0.3)
            pilot.app.open_case(case.uuid)
            for _ in range(200):
                await pilot.pause(0.05)
                timeline = pilot.app.screen.query("#case-timeline")
                if timeline and len(timeline.first().events) == 6:
                    break
            await pilot.press(*keys)
            await _still(pilot)

        assert snap_compare(app, run_before=open_it, terminal_size=size)
    finally:
        central.stop()


DESK_CASES = (
    "北侧人行道有商户占道摆摊，影响通行",
    "夜市烧烤油烟扰民，凌晨仍未收摊",
    "小区门口井盖缺失，夜间有人摔倒",
    "广场舞音响声音过大，晚上十点后仍在跳",
    "路边违规停放的渣土车遗撒严重",
    "公园内有人私搭乱建彩钢棚",
    "商铺门前堆放杂物占用盲道",
    "施工工地夜间施工噪音扰民",
    "户外广告牌松动有坠落风险",
)


@pytest.mark.parametrize("size", SEAT_SIZES)
def test_department_desk_just_after_login(  # type: ignore[no-untyped-def]
    snap_compare, tmp_path: Path, size: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real central store on a frozen clock, nine cases dispatched to 城管局 before its
    liaison logs in: the desk opens on 待签收 with one toast for the nine (not nine toasts)."""
    from functools import partial

    from agent_tui import wire
    from agent_tui.client.seat import Seat
    from agent_tui.domain.case import Role
    from agent_tui.domain.lifecycle import Step
    from agent_tui.server import embedded
    from agent_tui.server.app import create_app
    from agent_tui.server.db import make_engine
    from agent_tui.server.store import Store
    from agent_tui.server.visibility import Actor
    from tests.pilot.conftest import PASSWORD, add_users

    settings = Settings(data_dir=tmp_path / "central", clock_interval_seconds=0, kpi_processes=0)
    clock = _ticking(datetime(2026, 11, 26, 0, 30, tzinfo=UTC), timedelta(minutes=3))
    monkeypatch.setattr(embedded, "create_app", partial(create_app, clock=clock))
    central = embedded.EmbeddedServer(settings, demo_cases=0)
    central.start()
    try:
        engine = make_engine(settings.database_url())
        add_users(engine)
        store = Store(engine, settings, clock=clock)
        agent = Actor("agent01", Role.AGENT)
        for n, content in enumerate(DESK_CASES):
            case, _ = store.create_case(
                agent,
                wire.CaseCreate.model_validate(
                    {
                        "uuid": f"00000000-0000-4000-8000-{n:012d}",
                        "appeal_type": "complaint",
                        "caller_phone": f"1391234567{n}",
                        "category": "0101",
                        "address": {"county": "驿城区", "road": "金山路"},
                        "content": content,
                    }
                ),
            )
            dispatch = wire.DispatchBody.model_validate(
                {"command_id": str(uuid4()), "version": case.version, "department": "CGJ"}
            )
            store.apply_step(agent, case.uuid, Step.DISPATCH, dispatch)
        engine.dispose()
        seat = Seat(central.url, "cgj01", PASSWORD, tmp_path / "seat", seat_id="desk-03")
        # As the login screen leaves it (the profile; the token comes with the first request).
        seat.api.user = wire.UserPublic(
            user_id="cgj01", name="城管局联络员", role=Role.DEPARTMENT, department="CGJ"
        )
        seat.logged_in_online()
        app = make_app(Settings(data_dir=tmp_path / "data"), seat, _frozen)
        app.NOTIFICATION_TIMEOUT = 60  # still up when the capture is taken, however slow

        async def logged_in(pilot) -> None:  # type: ignore[no-untyped-def]
            for _ in range(200):
                await pilot.pause(0.05)
                table = pilot.app.screen.query("#queue-table")
                if table and table.first().row_count == len(DESK_CASES) and app._notifications:
                    break
            await pilot.pause(0.3)
            await _still(pilot)

        assert snap_compare(app, run_before=logged_in, terminal_size=size)
    finally:
        central.stop()
