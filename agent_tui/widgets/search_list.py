"""A search box over a pick-list: type, see at most ``limit`` ranked results, Enter picks.

Rendering, not searching, is the cost per keystroke (docs/benchmarks.md), so the list shows a
window of results and is replaced in one ``set_options`` call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option


@dataclass(frozen=True, slots=True)
class Hit:
    """One row of a pick-list: what to show, and the thing it stands for."""

    label: str
    detail: str
    value: Any


Searcher = Callable[[str], Sequence[Hit]]


def prompt_for(hit: Hit) -> Text:
    # One line per result, cut with an ellipsis: wrapped rows make the list jump while typing.
    text = Text(hit.label, no_wrap=True, overflow="ellipsis")
    text.append("  ")
    text.append(hit.detail, style="dim")
    return text


class SearchList(Vertical):
    """An Input above an OptionList; arrow keys move in the list while typing."""

    DEFAULT_CSS = """
    SearchList { height: 1fr; }
    SearchList > Input { margin-bottom: 0; }
    SearchList > OptionList { height: 1fr; }
    """

    BINDINGS = [
        Binding("down", "cursor(1)", "下一项", show=False, id="pick.next"),
        Binding("up", "cursor(-1)", "上一项", show=False, id="pick.previous"),
        Binding("pagedown", "cursor(10)", "下一页", show=False, id="pick.page_down"),
        Binding("pageup", "cursor(-10)", "上一页", show=False, id="pick.page_up"),
    ]

    class Picked(Message):
        def __init__(self, search_list: SearchList, hit: Hit) -> None:
            super().__init__()
            self.search_list = search_list
            self.hit = hit

        @property
        def control(self) -> SearchList:
            return self.search_list

    class Highlighted(Picked):
        pass

    def __init__(
        self,
        searcher: Searcher,
        *,
        placeholder: str = "",
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self._searcher = searcher
        self._placeholder = placeholder
        self._hits: Sequence[Hit] = ()

    def compose(self) -> ComposeResult:
        yield Input(placeholder=self._placeholder, id="search-input")
        yield OptionList(id="search-results")

    @property
    def input(self) -> Input:
        return self.query_one("#search-input", Input)

    @property
    def results(self) -> OptionList:
        return self.query_one("#search-results", OptionList)

    @property
    def hits(self) -> Sequence[Hit]:
        return self._hits

    def set_searcher(self, searcher: Searcher, placeholder: str = "") -> None:
        self._searcher = searcher
        if placeholder:
            self.input.placeholder = placeholder
        self.refresh_results()

    def refresh_results(self) -> None:
        query = self.input.value
        self._hits = self._searcher(query) if query.strip() else ()
        options = [
            Option(f"{h.label}  [dim]{h.detail}[/]", id=str(i)) for i, h in enumerate(self._hits)
        ]
        results = self.results
        results.set_options(options)
        if options:
            results.highlighted = 0

    @on(Input.Changed, "#search-input")
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        self.refresh_results()

    @on(Input.Submitted, "#search-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        index = self.results.highlighted
        if index is not None and index < len(self._hits):
            self.post_message(self.Picked(self, self._hits[index]))

    @on(OptionList.OptionSelected, "#search-results")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.post_message(self.Picked(self, self._hits[event.option_index]))

    @on(OptionList.OptionHighlighted, "#search-results")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if event.option_index < len(self._hits):
            self.post_message(self.Highlighted(self, self._hits[event.option_index]))

    def action_cursor(self, delta: int) -> None:
        results = self.results
        if not self._hits:
            return
        current = results.highlighted or 0
        results.highlighted = max(0, min(len(self._hits) - 1, current + delta))
