"""A single-key choice: ``1 咨询  2 求助  3 投诉 …`` — one digit picks and moves on."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, TypeVar

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

V = TypeVar("V")


class ChoiceBar(Widget, Generic[V], can_focus=True):
    """Options numbered 1–9. A digit picks (and focus moves on), arrows move the choice.

    ``empty=True``: nothing is chosen until a digit or an arrow picks (a question the user must
    answer, never a default answer); ``selected`` is then None.
    """

    DEFAULT_CSS = """
    ChoiceBar { height: 1; width: 1fr; }
    ChoiceBar:focus { background: $boost; }
    """

    BINDINGS = [
        Binding("left", "move(-1)", "上一选项", show=False, id="choice.previous"),
        Binding("right", "move(1)", "下一选项", show=False, id="choice.next"),
        Binding("enter", "accept", "确定", show=False, id="choice.accept"),
    ]

    index: reactive[int] = reactive(0)

    class Changed(Message):
        def __init__(self, bar: ChoiceBar[object], value: object) -> None:
            super().__init__()
            self.bar = bar
            self.value = value

        @property
        def control(self) -> ChoiceBar[object]:
            return self.bar

    def __init__(
        self,
        options: Sequence[tuple[V, str]],
        *,
        value: V | None = None,
        advance: bool = True,
        empty: bool = False,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.options = list(options)
        self.advance = advance
        if value is not None:
            self.index = [v for v, _ in self.options].index(value)
        elif empty:
            self.set_reactive(ChoiceBar.index, -1)

    @property
    def value(self) -> V:
        return self.options[max(self.index, 0)][0]

    @value.setter
    def value(self, value: V) -> None:
        self.index = [v for v, _ in self.options].index(value)

    def get_content_width(self, container: Size, viewport: Size) -> int:
        """With ``width: auto``: the roomiest layout's width (all options, never cut)."""
        return self._layout(" ", " ").cell_len - 1

    @property
    def selected(self) -> V | None:
        """The chosen option, or None while nothing is (``empty``)."""
        return self.options[self.index][0] if self.index >= 0 else None

    def render(self) -> Text:
        # The roomiest layout that fits the width: padded and spaced, padded, then bare (English
        # labels take about twice the cells of Chinese ones).
        width = self.size.width
        for pad, gap in ((" ", " "), (" ", ""), ("", " ")):
            text = self._layout(pad, gap)
            if not width or text.cell_len - len(gap) <= width:
                break
        return text

    def _layout(self, pad: str, gap: str) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        for i, (_value, label) in enumerate(self.options):
            style = "reverse bold" if i == self.index else ""
            text.append(f"{pad}{i + 1} {label}{pad}", style=style)
            text.append(gap)
        return text

    def watch_index(self, index: int) -> None:
        if index < 0:
            return
        self.post_message(self.Changed(self, self.options[index][0]))  # type: ignore[arg-type]

    def action_accept(self) -> None:
        self.screen.focus_next()

    def action_move(self, delta: int) -> None:
        if self.index < 0:
            self.index = 0 if delta > 0 else len(self.options) - 1
            return
        self.index = (self.index + delta) % len(self.options)

    def on_key(self, event: events.Key) -> None:
        if event.character and event.character.isdigit():
            n = int(event.character)
            if 1 <= n <= len(self.options):
                event.stop()
                event.prevent_default()
                self.index = n - 1
                if self.advance:
                    self.screen.focus_next()
