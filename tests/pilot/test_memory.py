"""The seat does not pile up dead widgets while the agent moves between fields.

Textual's Footer recomposed on every focus change and kept every removed key alive through the
``compact`` watchers it never pruned (``widgets/footer.py``): after a shift, thousands of dead
widgets for every garbage collection to walk. Tab through the entry form as an agent does.
"""

from __future__ import annotations

import gc
from pathlib import Path

from textual.widgets._footer import FooterKey

from agent_tui.app import make_app
from agent_tui.client.seat import Seat
from agent_tui.config import Settings
from agent_tui.screens.entry import CaseEntryScreen
from agent_tui.widgets.footer import SteadyFooter
from tests.pilot.test_entry import SIZE


def live_footer_keys() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, FooterKey))


async def test_moving_between_fields_leaves_no_dead_footer_keys(seat: Seat, tmp_path: Path) -> None:
    app = make_app(Settings(data_dir=tmp_path / "ui"), seat)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CaseEntryScreen)
        footer = screen.query_one(SteadyFooter)
        for _ in range(6):  # settle: every field's keys drawn once
            await pilot.press("tab")
        await pilot.pause()
        keys_before, watchers_before = live_footer_keys(), footer.watcher_count
        for _ in range(60):
            await pilot.press("tab")
        for _ in range(60):
            await pilot.press("shift+tab")
        await pilot.pause()
        shown = len(footer.query(FooterKey))
        assert shown > 0
        # The keys on screen, plus at most one screen's worth being swapped: not one per Tab.
        assert live_footer_keys() <= keys_before + shown
        assert footer.watcher_count <= max(watchers_before, shown + 1)
