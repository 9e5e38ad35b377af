"""Seats: each seat's heartbeat (who is logged in there, when it was last seen, how many
commands wait in its outbox) and the seats' status as the lead's board shows it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from agent_tui import wire as S
from agent_tui.server.context import StoreContext
from agent_tui.server.models import SeatRow
from agent_tui.server.visibility import Actor


class Seats:
    """Heartbeats in, seat statuses out."""

    def __init__(self, ctx: StoreContext) -> None:
        self.ctx = ctx

    def heartbeat(self, actor: Actor, beat: S.SeatHeartbeat) -> None:
        now = self.ctx.now()
        with Session(self.ctx.engine) as session, session.begin():
            row = session.get(SeatRow, beat.seat_id)
            if row is None:
                row = SeatRow(seat_id=beat.seat_id, user_id=actor.user_id, last_seen_at=now)
            row.user_id, row.last_seen_at, row.outbox = actor.user_id, now, beat.outbox
            session.add(row)

    def statuses(self, session: Session, now: datetime) -> list[S.SeatStatus]:
        """Every seat, online if heard from within ``seat_offline_after_seconds``."""
        cutoff = now - timedelta(seconds=self.ctx.settings.seat_offline_after_seconds)
        return [
            S.SeatStatus(
                seat_id=s.seat_id,
                user_id=s.user_id,
                last_seen_at=s.last_seen_at,
                outbox=s.outbox,
                online=s.last_seen_at >= cutoff,
            )
            for s in session.exec(select(SeatRow).order_by(col(SeatRow.seat_id))).all()
        ]
