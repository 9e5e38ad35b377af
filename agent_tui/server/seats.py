"""Seats: each seat's heartbeat (who is logged in there, when it was last seen, how many
commands wait in its outbox) and the seats' status as the lead's board shows it.

A seat is named by its user: the same seat id sent by two users is two seats, so no one can
overwrite another's (a department user once set agent01's outbox to 9,999,999). A user has
at most ``seats_per_user`` seats (a new one takes the place of the one heard from longest
ago), and a seat not heard from for ``seat_forget_after_seconds`` is forgotten: made-up seat
ids once filled the board (1,500 of them, 278 KB). The board
lists the seats its viewer may see, as it lists cases: a county lead its platform's users'.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from agent_tui import wire as S
from agent_tui.server.context import StoreContext
from agent_tui.server.models import SeatRow, UserRow
from agent_tui.server.visibility import Actor

log = logging.getLogger(__name__)

SEATS: Any = sa.inspect(SeatRow).local_table
USERS: Any = sa.inspect(UserRow).local_table
#: Forgotten seats are swept at most this often per process (a statement, not per beat).
SWEEP_SECONDS = 60.0


class Seats:
    """Heartbeats in, seat statuses out."""

    def __init__(self, ctx: StoreContext) -> None:
        self.ctx = ctx
        self._swept = 0.0

    def heartbeat(self, actor: Actor, beat: S.SeatHeartbeat) -> None:
        """Record ``actor``'s seat ``beat.seat_id`` as seen now (a write: ``write_turn``)."""
        now = self.ctx.now()
        forget = now - timedelta(seconds=self.ctx.settings.seat_forget_after_seconds)
        mine = sa.and_(SEATS.c.user_id == actor.user_id, SEATS.c.seat_id == beat.seat_id)
        with self.ctx.write_turn() as deadline, self.ctx.engine.connect() as connection:
            self.ctx.bound_busy(connection, deadline)
            with connection.begin():
                if time.monotonic() - self._swept > SWEEP_SECONDS:
                    connection.execute(sa.delete(SEATS).where(SEATS.c.last_seen_at < forget))
                    self._swept = time.monotonic()
                seen = sa.update(SEATS).where(mine).values(last_seen_at=now, outbox=beat.outbox)
                if connection.execute(seen).rowcount:
                    return
                self._make_room(connection, actor)
                try:
                    with connection.begin_nested():
                        connection.execute(
                            sa.insert(SEATS).values(
                                user_id=actor.user_id,
                                seat_id=beat.seat_id,
                                last_seen_at=now,
                                outbox=beat.outbox,
                            )
                        )
                except IntegrityError:  # the same seat's beat came in at the same moment
                    connection.execute(seen)

    def _make_room(self, connection: Any, actor: Actor) -> None:
        """Keep ``actor`` under ``seats_per_user``: a new seat takes the place of the one
        heard from longest ago (logged). Not a refusal: a refused beat would stop the seat's
        sync, and the seat a user logs in at last is the one that is there."""
        cap = self.ctx.settings.seats_per_user
        older = (
            connection.execute(
                sa.select(SEATS.c.seat_id)
                .where(SEATS.c.user_id == actor.user_id)
                .order_by(SEATS.c.last_seen_at.desc(), SEATS.c.seat_id)
                .offset(cap - 1)
            )
            .scalars()
            .all()
        )
        if older:
            log.warning("seats of %s over %d: forgetting %s", actor.user_id, cap, ", ".join(older))
            connection.execute(
                sa.delete(SEATS).where(SEATS.c.user_id == actor.user_id, SEATS.c.seat_id.in_(older))
            )

    def statuses(self, session: Any, now: datetime, viewer: Actor) -> list[S.SeatStatus]:
        """The seats ``viewer`` may see (a county lead: its platform's users'), heard from
        within ``seat_forget_after_seconds``; online if within ``seat_offline_after_seconds``."""
        settings = self.ctx.settings
        cutoff = now - timedelta(seconds=settings.seat_offline_after_seconds)
        forget = now - timedelta(seconds=settings.seat_forget_after_seconds)
        q = sa.select(SEATS).where(SEATS.c.last_seen_at >= forget)
        if viewer.is_county:
            q = q.join(USERS, USERS.c.user_id == SEATS.c.user_id).where(
                USERS.c.platform == viewer.platform
            )
        q = q.order_by(SEATS.c.seat_id, SEATS.c.user_id)
        return [
            S.SeatStatus(
                seat_id=s.seat_id,
                user_id=s.user_id,
                last_seen_at=s.last_seen_at,
                outbox=s.outbox,
                online=s.last_seen_at >= cutoff,
            )
            for s in session.execute(q).all()
        ]
