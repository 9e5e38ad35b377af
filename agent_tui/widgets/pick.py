"""A form field that picks from a ranked list: type 汉字/拼音/首字母, ↑↓, Enter picks.

The list shows while the field has focus and there is text; at most ``limit`` rows are ever
rendered (rendering, not searching, is what costs per keystroke). It opens below the field, or
above it when there is more room there, and never over the screen's bars: the seat bar and the
Footer stay readable at 100×30 (``overlay_bounds``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.geometry import Region
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, OptionList
from textual.widgets.option_list import Option

from agent_tui.widgets.search_list import Hit, prompt_for
from agent_tui.widgets.seat_bar import SeatBar
from agent_tui.widgets.steady import SteadyInput, SteadyOptionList

Searcher = Callable[[str], Sequence[Hit]]


def overlay_bounds(screen: Screen[object]) -> Region:
    """Where an overlay may draw on ``screen``: between its bars (the Header above; the seat
    bar and the Footer below). Textual keeps overlays inside the whole screen only."""
    width, height = screen.size
    top, bottom = 0, height
    for bar in screen.children:
        if not isinstance(bar, Header | Footer | SeatBar) or not bar.display:
            continue
        region = bar.region
        if region.y < height // 2:
            top = max(top, region.bottom)
        else:
            bottom = min(bottom, region.y)
    return Region(0, top, width, max(0, bottom - top))


class PickField(Vertical):
    DEFAULT_CSS = """
    PickField { height: auto; }
    /* An overlay, as Textual's Select does: opening, filling or closing the list repaints
       the list alone, never re-lays-out the form below it (the cost per keystroke). */
    PickField > OptionList {
        height: 10;
        max-height: 10;  /* OptionList's own 100% would be of this field's 3 rows */
        display: none;
        overlay: screen;
        constrain: none inside;
        background: $surface;
        border: tall $border-blurred;
        /* One row per hit, cut with …: Textual 8 wraps an option's prompt otherwise, and a
           hit over two rows pushes the last ones out of the list. */
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    PickField.-open > OptionList { display: block; }
    """

    BINDINGS = [
        Binding("down", "cursor(1)", "下一项", show=False, id="pick.next"),
        Binding("up", "cursor(-1)", "上一项", show=False, id="pick.previous"),
    ]

    class Picked(Message):
        def __init__(self, field: PickField, hit: Hit | None) -> None:
            super().__init__()
            self.field = field
            self.hit = hit

        @property
        def control(self) -> PickField:
            return self.field

    def __init__(
        self,
        searcher: Searcher,
        *,
        placeholder: str = "",
        limit: int = 8,
        id: str | None = None,
        empty: str = "",
        free_text: Callable[[str], Hit] | None = None,
    ) -> None:
        super().__init__(id=id)
        self._searcher = searcher
        #: Shown in the list when a query finds nothing (else the list just closes).
        self._empty = empty
        #: Enter on text that found nothing keeps it as this hit (an unmatched address).
        self._free_text = free_text
        self._placeholder = placeholder
        self._limit = limit
        self._hits: Sequence[Hit] = ()
        self.picked: Hit | None = None
        #: Rows of the open list: the hits and its border (a fixed box: no re-layout per key).
        self._rows = limit + 2

    def compose(self) -> ComposeResult:
        yield SteadyInput(placeholder=self._placeholder, id=f"{self.id}-input" if self.id else None)
        yield SteadyOptionList()

    @property
    def input(self) -> Input:
        return self.query_one(Input)

    @property
    def value(self) -> Any:
        return self.picked.value if self.picked else None

    def pick(self, hit: Hit | None) -> None:
        """Set the field (from a draft, or routing's proposal) without a search."""
        self.picked = hit
        with self.input.prevent(Input.Changed):
            self.input.value = hit.label if hit else ""
        self.remove_class("-open")

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        if self.picked is not None and event.value != self.picked.label:
            self.picked = None
            self.post_message(self.Picked(self, None))
        query = event.value.strip()
        self._hits = self._searcher(query)[: self._limit] if query else ()
        results = self.query_one(OptionList)
        options = [Option(prompt_for(h)) for h in self._hits]
        if query and not options and self._empty:
            # Nothing found: say so, rather than leave the agent guessing at an empty list.
            options = [Option(self._empty, disabled=True)]
        results.set_options(options)
        if self._hits:
            results.highlighted = 0
        opening = bool(options) and self.picked is None
        if opening and not self.has_class("-open"):
            self._place(results)
        self.set_class(opening, "-open")

    def _place(self, results: OptionList) -> None:
        """Below the field if the list fits there, else on the side with more room, cut to it."""
        bounds = overlay_bounds(self.screen)
        field = self.input.region
        below = bounds.bottom - field.bottom
        above = field.y - bounds.y
        if below >= self._rows or below >= above:
            rows, dy = min(self._rows, below), 0
        else:
            rows = min(self._rows, above)
            dy = -(rows + field.height)
        results.styles.height = rows
        results.styles.max_height = rows
        results.styles.offset = (0, dy)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        results = self.query_one(OptionList)
        if self.picked is None and self._hits:
            index = results.highlighted or 0
            self.pick(self._hits[index])
            self.post_message(self.Picked(self, self._hits[index]))
        elif self.picked is None and self._free_text is not None and event.value.strip():
            kept = self._free_text(event.value.strip())
            self.pick(kept)
            self.post_message(self.Picked(self, kept))
        self.screen.focus_next()

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option_index >= len(self._hits):
            return  # the "nothing found" line
        hit = self._hits[event.option_index]
        self.pick(hit)
        self.post_message(self.Picked(self, hit))
        self.input.focus()

    def on_descendant_blur(self) -> None:
        if not self.has_focus_within:
            self.remove_class("-open")

    def action_cursor(self, delta: int) -> None:
        if not self._hits:
            self.screen.focus_next() if delta > 0 else self.screen.focus_previous()
            return
        results = self.query_one(OptionList)
        current = results.highlighted or 0
        results.highlighted = max(0, min(len(self._hits) - 1, current + delta))
