"""Every overlay's 汉字 reach the screen whole (issue 13, item 3).

Textual cut each line at the edges of every widget, also those under an overlay, and a 汉字
across a cut became two spaces: a toast over the split entry screen read ``理并派往 市城管局``,
the Footer's palette key ``^p   令面板`` (agent_tui/widgets/compositor.py, Textual #6357).
These tests read the frame as ``export_screenshot`` draws it and a terminal fed the app's
partial updates, at the two sizes seats use.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Static
from textual.widgets._footer import FooterKey
from textual.widgets._toast import Toast

from agent_tui.app import make_app
from agent_tui.config import Settings
from agent_tui.i18n import t
from tests.screen import drawn_lines, frame, region_lines, terminal, until
from tests.snapshots.test_snapshots import _case, _frozen, _lead_app, _offline_seat

SIZES = [pytest.param((100, 30), id="100x30"), pytest.param((140, 40), id="140x40")]
CONFLICT = "有操作与中心库冲突，已保留两个版本：F3 队列中打开该工单处理"


def _bare(text: str) -> str:
    """Text without the spaces and line ends wrapping adds (a lost glyph is a space too, so it
    still shows as a missing character)."""
    return "".join(text.split())


def _seat_with_history(tmp_path: Path):  # type: ignore[no-untyped-def]
    seat = _offline_seat(tmp_path)
    seat.store.put_cases(
        [
            _case(1, "北侧人行道有商户占道摆摊，影响通行", "dispatched", department="CGJ"),
        ]
    )
    return seat


async def _fill(pilot, phone: str) -> None:  # type: ignore[no-untyped-def]
    """A complaint about 占道经营 on 金山路 (routing picks 市城管局)."""
    await pilot.press(*phone, "enter", "3", "enter", *"zdjy", "enter")
    await pilot.press(*"jsl", "enter", "enter", *"北侧人行道有商户摆摊")
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
async def test_toasts_over_the_split_entry_screen_show_every_character(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    app = make_app(Settings(data_dir=tmp_path / "data"), _seat_with_history(tmp_path), _frozen)
    app.NOTIFICATION_TIMEOUT = 60  # all three at once, however slow the machine
    async with app.run_test(size=size, notifications=True) as pilot:
        with terminal(app) as seen:
            await _fill(pilot, "13912345671")
            assert "ZMD-20261126-0001" in "\n".join(s.text for s in frame(app))  # the history
            await pilot.press("f9")  # 已受理并派往 市城管局，编号待同步后分配
            await _fill(pilot, "13912345671")
            await pilot.press("ctrl+s")  # 已受理，编号待同步后分配 (no numbers in hand)
            app.notify(CONFLICT, title=t("冲突"), severity="error", timeout=10)
            await until(pilot, lambda: len(app.screen.query(Toast)) == 3)
            await pilot.pause(0.2)

            lines = frame(app)
            toasts = list(app.screen.query(Toast))
            later = t("编号待同步后分配")
            texts = [
                t("{done}，{said}", done=t("已受理并派往 {name}", name="市城管局"), said=later),
                t("{done}，{said}", done=t("已受理"), said=later),
                CONFLICT,
            ]
            assert sorted(toast._notification.message for toast in toasts) == sorted(texts)
            shown = "\n".join(s.text for s in lines)
            for toast in toasts:
                note = toast._notification
                on_screen = region_lines(lines, toast.region)
                # What the toast draws reaches the screen cell for cell ...
                assert on_screen == drawn_lines(toast), note.message
                # ... and reads as its title and message.
                text = region_lines(lines, toast.content_region)
                assert _bare(note.title + note.message) == _bare("".join(text))
            for text in texts[:2]:  # one line each: verbatim in the screen's text
                assert text in shown
            # A terminal fed the partial updates shows the same frame.
            assert seen.lines == [s.text for s in lines]


async def _footer_keys_read_whole(pilot) -> None:  # type: ignore[no-untyped-def]
    app = pilot.app
    footer = app.screen.query_one(Footer)
    for _ in range(100):  # the Footer composes its keys once the bindings are ready
        if footer.query(FooterKey):
            break
        await pilot.pause(0.05)
    await pilot.pause()
    lines = frame(app)
    keys = list(footer.query(FooterKey))
    palette = next(k for k in keys if k.has_class("-command-palette"))
    shown = region_lines(lines, palette.region)[0]
    assert f"{palette.key_display} {palette.description}" in shown
    screen = app.screen.region
    for key in keys:
        if key is palette or key.region.right > palette.region.x:
            continue  # under the docked palette key or past the edge: not shown at all
        assert key.region.right <= screen.right
        line = region_lines(lines, key.region)[0]
        assert f"{key.key_display} {key.description}" in line, line


@pytest.mark.parametrize("size", SIZES)
async def test_footer_keys_keep_their_characters_beside_the_docked_palette_key(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    """The lead's board and entry screen, and the lookup: keys overflow at 100 columns and lie
    under the palette key that Textual docks at the right."""
    app = _lead_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        await pilot.pause(0.3)
        await _footer_keys_read_whole(pilot)
        for mode in ("f2", "f4"):
            await pilot.press(mode)
            await pilot.pause(0.2)
            await _footer_keys_read_whole(pilot)


class _Split(App[None]):
    """Two panes with a border between them, like the entry screen, and a toast over both."""

    CSS = """
    #left { width: 3fr; } #right { width: 2fr; border-left: tall $primary; padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Static("受理表单 " * 40, id="left")
            with Vertical(id="right"):
                yield Static("来电历史")
                yield Static("ZMD-20261126-0001 已派单 北侧人行道有商户占道摆摊")


@pytest.mark.parametrize("width", range(61, 141, 9))
async def test_a_toast_reads_whole_at_any_width(width: int) -> None:
    from agent_tui.widgets import compositor

    compositor.install()
    app = _Split()
    message = "已受理并派往 市城管局，已保留两个版本：待发送到中心库"
    async with app.run_test(size=(width, 20), notifications=True) as pilot:
        with terminal(app) as seen:
            for offset in range(3):  # the toast's text at three offsets against the cuts
                app.notify(" " * offset + message, title="派单", timeout=30)
                await until(pilot, lambda n=offset: len(app.screen.query(Toast)) == n + 1)
            await pilot.pause(0.1)
            lines = frame(app)
            for toast in app.screen.query(Toast):
                text = region_lines(lines, toast.content_region)
                assert _bare("派单" + message) == _bare("".join(text))
            assert seen.lines == [s.text for s in lines]


class _Stack(App[None]):
    def compose(self) -> ComposeResult:
        with Vertical(id="stack"):
            yield Static("第二行：待发送到中心库", id="second")
            yield Static("第三行：已保留两个版本", id="third")


async def test_widgets_a_mount_moves_are_repainted_even_if_asked_where_they_are_first() -> None:
    """Mounting above two lines moves them down. Asking a widget's region before the layout
    pass (Textual's own refresh does) rebuilt the map quietly, and the layout pass then found
    nothing to repaint: the terminal kept the lines where they were."""
    from agent_tui.widgets import compositor

    compositor.install()
    app = _Stack()
    async with app.run_test(size=(40, 6)) as pilot:
        with terminal(app) as seen:
            stack = app.query_one("#stack")
            first = Static("第一行：新派单，待签收")
            await stack.mount(first, before=0)
            # The order seen with toasts: the screen hands the new widget to the compositor,
            # then a refresh asks a widget's size (``_set_dirty``) before the layout pass.
            app.screen._compositor.update_widgets({first})
            assert app.query_one("#third").region.y == 2  # the quiet rebuild
            await pilot.pause()
            await pilot.pause()
            assert seen.lines == [s.text for s in frame(app)]
