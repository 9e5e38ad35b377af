"""Always visible at a seat: seat and agent, sync status (online/offline, outbox), clock.

The status changes when the seat says so (a ``SeatStatusChanged`` message), not on a poll;
the clock ticks once a second. Both are a repaint, never a layout (``Static.update`` would
re-lay-out the whole screen each second, under the agent's typing).
"""

from __future__ import annotations

from datetime import UTC, datetime

from textual.reactive import reactive
from textual.widget import Widget

from agent_tui.client.seat import Seat
from agent_tui.domain.case import Role
from agent_tui.i18n import t
from agent_tui.widgets.seat_events import SeatStatusChanged, follow_seat
from agent_tui.widgets.times import local


class SeatBar(Widget):
    DEFAULT_CSS = """
    SeatBar { height: 1; background: $panel; color: $text; padding: 0 1; }
    SeatBar.-offline { background: $error 40%; }
    """

    status_text: reactive[str] = reactive("", layout=False)
    clock: reactive[str] = reactive("", layout=False)

    def __init__(self, seat: Seat, *, id: str | None = "seat-bar") -> None:
        super().__init__(id=id)
        self.seat = seat

    @property
    def leader(self) -> bool:
        """A leader's seat (领导接听): its cases are leader-assigned, and the bar says so."""
        user = self.seat.user
        return user is not None and user.role is Role.LEADER

    def render(self) -> str:
        if self.leader:
            return t(
                "坐席 {seat} · 领导接听 · {user} · {status} · {clock}",
                seat=self.seat.seat_id,
                user=self.seat.user_id,
                status=self.status_text,
                clock=self.clock,
            )
        return t(
            "坐席 {seat} · {user} · {status} · {clock}",
            seat=self.seat.seat_id,
            user=self.seat.user_id,
            status=self.status_text,
            clock=self.clock,
        )

    def on_mount(self) -> None:
        self.set_class(self.leader, "-leader")
        follow_seat(self)
        self.show_status()
        self.tick()
        self.set_interval(1.0, self.tick)

    def on_seat_status_changed(self, _message: SeatStatusChanged) -> None:
        self.show_status()

    def show_status(self) -> None:
        status = self.seat.status
        self.status_text = status.label
        # The reason stays one hover (or F1) away: the bar itself must not jump about.
        self.tooltip = status.last_error or None
        self.set_class(not status.online, "-offline")

    def tick(self) -> None:
        now = getattr(self.app, "clock", lambda: datetime.now(UTC))()
        self.clock = local(now, "%H:%M:%S")
