"""Always visible at a seat: seat and agent, sync status (online/offline, outbox), clock."""

from __future__ import annotations

from datetime import UTC, datetime

from textual.reactive import reactive
from textual.widget import Widget

from agent_tui.client.seat import Seat
from agent_tui.i18n import t
from agent_tui.widgets.times import local


class SeatBar(Widget):
    """One line, repainted every second: a repaint, never a layout (``Static.update`` would
    re-lay-out the whole screen each second, under the agent's typing)."""

    DEFAULT_CSS = """
    SeatBar { height: 1; background: $panel; color: $text; padding: 0 1; }
    SeatBar.-offline { background: $error 40%; }
    """

    text: reactive[str] = reactive("", layout=False)

    def __init__(self, seat: Seat, *, id: str | None = "seat-bar") -> None:
        super().__init__(id=id)
        self.seat = seat

    def render(self) -> str:
        return self.text

    def on_mount(self) -> None:
        self.refresh_status()
        self.set_interval(1.0, self.refresh_status)

    def refresh_status(self) -> None:
        status = self.seat.status
        now = getattr(self.app, "clock", lambda: datetime.now(UTC))()
        clock = local(now, "%H:%M:%S")
        self.text = t(
            "坐席 {seat} · {user} · {status} · {clock}",
            seat=self.seat.seat_id,
            user=self.seat.user_id,
            status=status.label,
            clock=clock,
        )
        # The reason stays one hover (or F1) away: the bar itself must not jump about.
        self.tooltip = status.last_error or None
        self.set_class(not status.online, "-offline")
