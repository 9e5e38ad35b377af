"""Always visible at a seat: seat and agent, sync status (online/offline, outbox), clock."""

from __future__ import annotations

from datetime import datetime

from textual.widgets import Static

from agent_tui.client.seat import Seat
from agent_tui.domain.calendar import SHANGHAI


class SeatBar(Static):
    DEFAULT_CSS = """
    SeatBar { height: 1; background: $panel; color: $text; padding: 0 1; }
    SeatBar.-offline { background: $error 40%; }
    """

    def __init__(self, seat: Seat, *, id: str | None = "seat-bar") -> None:
        super().__init__("", id=id)
        self.seat = seat

    def on_mount(self) -> None:
        self.refresh_status()
        self.set_interval(1.0, self.refresh_status)

    def refresh_status(self) -> None:
        status = self.seat.status
        clock = datetime.now(SHANGHAI).strftime("%H:%M:%S")
        error = f" · {status.last_error}" if status.last_error and not status.online else ""
        self.update(
            f"坐席 {self.seat.seat_id} · {self.seat.user_id} · {status.label}{error} · {clock}"
        )
        self.set_class(not status.online, "-offline")
