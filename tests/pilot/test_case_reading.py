"""The case screen shows the content, the reply and every reason whole, wrapped and scrolled
by keys, never cut (issue 13, item 5: the reply ended in "…" after one line, and so did the
timeline's 说明 column)."""

from __future__ import annotations

from pathlib import Path

from textual.containers import VerticalScroll
from textual.geometry import Region
from textual.widget import Widget

from agent_tui.app import make_app
from agent_tui.client.seat import Seat
from agent_tui.config import Settings
from agent_tui.domain.case import Role
from agent_tui.domain.lifecycle import Step
from agent_tui.screens.case_detail import CaseScreen
from agent_tui.server.store import Store
from agent_tui.server.visibility import Actor
from agent_tui.widgets.timeline import Timeline
from tests.pilot.test_entry import wait_for
from tests.pilot.test_seat_screens import server_case, step
from tests.screen import frame_text

AGENT = Actor("agent01", Role.AGENT)
LIAISON = Actor("cgj01", Role.DEPARTMENT, department="CGJ")


def _numbered(what: str, n: int, length: int) -> str:
    """Text with no spaces that a cut or a repeat cannot fake: 第1句…第2句…"""
    return "".join(f"第{i}句{what}" for i in range(1, n))[:length]


REPLY = _numbered("：经现场核查，已责令商户退回店内经营，城管队员每日巡查。", 40, 600)
RETURN = _numbered("：该路段属开发区管辖，请改派开发区城管分局。", 30, 300)
REFUSED = _numbered("：金山路北段由市城管局负责，不予退单。", 20, 200)
CONTENT = _numbered("：北侧人行道有商户占道摆摊，夜间烧烤油烟扰民。", 20, 400)


def _bare(text: str) -> str:
    return "".join(text.split())


def _whole(widget: Widget) -> str:
    """Everything the widget draws, scrolled into view or not."""
    width, height = widget.size
    return "".join(strip.text for strip in widget.render_lines(Region(0, 0, width, height)))


async def test_a_600_character_reply_and_long_reasons_read_whole_and_scroll_by_keys(
    seat: Seat, central_store: Store, tmp_path: Path
) -> None:
    case_uuid = server_case(central_store, CONTENT)
    version = 1
    for actor, name, kw in (
        (AGENT, Step.DISPATCH, {"department": "CGJ"}),
        (LIAISON, Step.SIGN, {}),
        (LIAISON, Step.REQUEST_RETURN, {"reason": RETURN}),
        (AGENT, Step.REFUSE_RETURN, {"reason": REFUSED}),
        (LIAISON, Step.REPLY, {"result": REPLY}),
    ):
        step(central_store, actor, case_uuid, name, version, **kw)
        version += 1
    assert len(REPLY) == 600
    app = make_app(Settings(data_dir=tmp_path / "ui"), seat)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(lambda: seat.store.case(case_uuid) is not None)
        await pilot.pause(0.3)  # the feed's first pull applied (a push before may race it)
        app.open_case(case_uuid)
        await wait_for(lambda: isinstance(app.screen, CaseScreen))
        detail = app.screen
        await wait_for(lambda: bool(detail.query("#case-timeline")))
        timeline = detail.query_one("#case-timeline", Timeline)
        await wait_for(lambda: len(timeline.events) == 6)
        await pilot.pause()

        fields = _whole(detail.query_one("#case-fields"))
        assert REPLY in _bare(fields) and CONTENT in _bare(fields)
        assert "…" not in fields
        reasons = _bare(_whole(timeline))
        assert RETURN in reasons and REFUSED in reasons
        assert "…" not in _whole(timeline)

        # The keys scroll the case: the end of the last reason comes into view.
        main = detail.query_one("#case-main", VerticalScroll)
        assert main.has_focus
        assert REFUSED[-12:] not in _bare(frame_text(app))
        for _ in range(12):
            await pilot.press("pagedown")
        await pilot.pause()
        assert main.scroll_y > 0
        assert REFUSED[-12:] in _bare(frame_text(app))
        await pilot.press("home")
        await pilot.pause()
        assert main.scroll_y == 0
