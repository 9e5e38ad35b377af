"""What a running app shows, as text: the frame ``export_screenshot`` draws, and what a terminal
holds after the app's partial updates (the frames a real terminal is sent after the first)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.segment import ControlType, Segment
from textual.app import App
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget


def _console(app: App[Any]) -> Console:
    width, height = app.size
    return Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        legacy_windows=False,
        safe_box=False,
    )


def _full_update(app: App[Any]) -> Any:
    """A full update of the screen's compositor, as ``App.export_screenshot`` renders it
    (background screens included), leaving the regions still to repaint for the app's own next
    partial update."""
    compositor = app.screen._compositor
    pending = set(compositor._dirty_regions)
    update = compositor.render_update(full=True, screen_stack=app._background_screens)
    compositor._dirty_regions.update(pending)
    return update


def frame(app: App[Any]) -> list[Strip]:
    """The current screen, one strip per line, as ``App.export_screenshot`` renders it."""
    return [Strip.join(line) for line in _full_update(app).strips]


def frame_text(app: App[Any]) -> str:
    return "\n".join(strip.text for strip in frame(app))


def region_lines(lines: list[Strip], region: Region) -> list[str]:
    """The text of ``region`` (screen cells) in a frame, line by line."""
    x, y, width, height = region
    return [strip.crop(x, x + width).text for strip in lines[y : y + height]]


def drawn_lines(widget: Widget) -> list[str]:
    """What ``widget`` itself draws in its visible region (before compositing)."""
    region = widget.region.intersection(widget.screen.region)
    own = Region(
        region.x - widget.region.x, region.y - widget.region.y, region.width, region.height
    )
    return [strip.text for strip in widget.render_lines(own)]


class Terminal:
    """A grid of cells fed the updates the app sends, with a terminal's rule for wide glyphs:
    writing into either half of a double-width glyph erases the whole glyph."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.cells = [[" "] * width for _ in range(height)]

    def _put(self, x: int, y: int, char: str) -> None:
        row = self.cells[y]
        if row[x] == "" and x > 0:  # the right half of a wide glyph: the glyph goes
            row[x - 1] = " "
        if x + 1 < self.width and row[x + 1] == "" and cell_len(row[x]) == 2:
            row[x + 1] = " "
        row[x] = char

    def feed(self, segments: Iterable[Segment]) -> None:
        x = y = 0
        for text, _style, control in segments:
            if control:
                for code in control:
                    if code[0] is ControlType.CURSOR_MOVE_TO:
                        x, y = int(code[1]), int(code[2])  # type: ignore[misc]
                continue
            for char in text:
                if char == "\n":
                    continue  # updates position every line themselves
                width = cell_len(char)
                if not (0 <= y < self.height and 0 <= x < self.width):
                    x += width
                    continue
                self._put(x, y, char)
                if width == 2 and x + 1 < self.width:
                    self._put(x + 1, y, "")
                x += width

    @property
    def lines(self) -> list[str]:
        return ["".join(row) for row in self.cells]


@contextmanager
def terminal(app: App[Any]) -> Iterator[Terminal]:
    """A ``Terminal`` fed every update the app displays from now on (full and partial), the way
    the driver would write them; starts from the current full frame."""
    screen = Terminal(*app.size)
    console = _console(app)
    screen.feed(console.render(_full_update(app)))
    original = app._display

    def display(on: Any, renderable: Any) -> None:
        if renderable is not None:
            screen.feed(console.render(renderable))
        original(on, renderable)

    app._display = display  # type: ignore[method-assign]
    try:
        yield screen
    finally:
        app._display = original  # type: ignore[method-assign]


async def until(pilot: Any, predicate: Any, timeout: float = 10.0) -> None:
    """Pause until ``predicate()`` holds (a loaded machine takes longer to mount and paint)."""
    for _ in range(int(timeout / 0.05)):
        if predicate():
            break
        await pilot.pause(0.05)
    await pilot.pause()
