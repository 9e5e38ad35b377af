"""A case's 办理过程, whole: one line per event, and under it its 说明 (the reason, the reply,
the callback note) wrapped to the width, never cut.

A table column for the reason was too narrow to read at 100 columns and a DataTable cuts cells
at one line; here the event's fields line up in columns (measured in cells: 汉字 count two) and
the reason takes the full width below them, however long.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich import box
from rich.cells import cell_len, set_cell_size
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from agent_tui.i18n import t


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """One event as shown (display strings; the time already in the centre's zone)."""

    at: str
    actor: str
    role: str
    step: str
    change: str
    reason: str = ""


def _aligned(parts: Sequence[str], widths: Sequence[int]) -> str:
    return "  ".join(set_cell_size(p, w) for p, w in zip(parts, widths, strict=True)).rstrip()


def timeline_table(events: Sequence[TimelineEvent]) -> RenderableType:
    heads = [(e.actor, e.role, e.step, e.change) for e in events]
    titles = (t("操作人"), t("角色"), t("步骤"), t("状态变化"))
    widths = [max(cell_len(s) for s in column) for column in zip(titles, *heads, strict=True)]
    table = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        expand=True,
        header_style="bold",
        padding=(0, 1),
    )
    table.add_column(t("时间"), no_wrap=True)
    table.add_column(_aligned(titles, widths), ratio=1, overflow="fold")
    for event, head in zip(events, heads, strict=True):
        table.add_row(event.at, _aligned(head, widths))
        if event.reason:
            table.add_row("", Text(event.reason, overflow="fold"))
    return table


class Timeline(Static):
    """The events of one case, oldest first (empty until they are read from the store)."""

    DEFAULT_CSS = "Timeline { height: auto; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.events: list[TimelineEvent] = []

    def show(self, events: Sequence[TimelineEvent]) -> None:
        self.events = list(events)
        self.update(timeline_table(self.events) if self.events else "")

    @property
    def text(self) -> str:
        """The events as plain text, one field after another (for tests and copying)."""
        return "\n".join(
            " ".join(p for p in (e.at, e.actor, e.role, e.step, e.change, e.reason) if p)
            for e in self.events
        )
