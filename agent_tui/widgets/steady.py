"""Widgets whose typing never re-lays-out the screen (the cost of a keystroke).

Textual's Input sets its virtual size to the text's width on every key, and an OptionList
to its options' height on every ``set_options``; both are layout refreshes, and a layout
refresh reflows and repaints the whole screen (about 10 ms of the 16 ms frame at 120×36,
docs/benchmarks.md). When the widget's own box is fixed by CSS (no ``auto`` width or height),
nothing outside it can move, so a repaint is all that is needed: the widget scrolls within
itself by its own virtual size, which it keeps either way.
"""

from __future__ import annotations

from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import Input, OptionList


def _steady_refresh(widget: Widget, layout: bool, recompose: bool) -> bool:
    """``layout`` unless the widget is mounted with a fixed box (then a repaint will do)."""
    if not layout or recompose or not widget.is_mounted or not widget.region:
        return layout  # not laid out yet (hidden, or just shown): let Textual place it
    return bool(widget.styles.auto_dimensions)


class SteadyInput(Input):
    def refresh(
        self,
        *regions: Region,
        repaint: bool = True,
        layout: bool = False,
        recompose: bool = False,
    ) -> SteadyInput:
        layout = _steady_refresh(self, layout, recompose)
        super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)
        return self


class SteadyOptionList(OptionList):
    """For a list with a fixed height that holds its options without scrolling."""

    def refresh(
        self,
        *regions: Region,
        repaint: bool = True,
        layout: bool = False,
        recompose: bool = False,
    ) -> SteadyOptionList:
        layout = _steady_refresh(self, layout, recompose)
        super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)
        return self
