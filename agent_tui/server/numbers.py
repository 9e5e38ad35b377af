"""Case numbers: blocks reserved for seats, and what the write path checks a seat's number
against (the rules themselves are ``domain.numbers``).

A block is taken from the platform's year series (``number:<platform>:<yyyy>``, the counter
the store numbers its own cases from) in one statement that moves the counter on by the
block's size: two seats reserving at once queue on that counter row (PostgreSQL's row lock;
SQLite's one writer) and get disjoint blocks. Each block is appended to ``number_blocks``
(never updated or deleted: migration 0010's triggers) with the seat, the user and the time,
and logged: which seat held which numbers stays on record.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa

from agent_tui import wire as S
from agent_tui.domain.errors import FieldError, ValidationFailed
from agent_tui.domain.numbers import (
    NumberBlock,
    number_year,
    platform_prefix,
    reservable_years,
    series_name,
)
from agent_tui.server.context import StoreContext
from agent_tui.server.models import NumberBlockRow, PlatformRow
from agent_tui.server.visibility import Actor

log = logging.getLogger(__name__)

NUMBER_BLOCKS: Any = sa.inspect(NumberBlockRow).local_table
_PLATFORMS: Any = sa.inspect(PlatformRow).local_table

#: Move a series on by ``count`` (made at its first use) and answer where it stands now.
_TAKE = sa.text(
    "INSERT INTO counters (name, value) VALUES (:name, :count) ON CONFLICT (name) "
    "DO UPDATE SET value = counters.value + :count RETURNING value"
)
_PREFIX = sa.select(_PLATFORMS.c.number_prefix).where(_PLATFORMS.c.code == sa.bindparam("code"))
_SEAT_BLOCKS = sa.select(
    NUMBER_BLOCKS.c.prefix, NUMBER_BLOCKS.c.year, NUMBER_BLOCKS.c.first, NUMBER_BLOCKS.c.last
).where(
    NUMBER_BLOCKS.c.user_id == sa.bindparam("user_id"),
    NUMBER_BLOCKS.c.seat_id == sa.bindparam("seat_id"),
    NUMBER_BLOCKS.c.platform == sa.bindparam("platform"),
    NUMBER_BLOCKS.c.year == sa.bindparam("year"),
    NUMBER_BLOCKS.c.first <= sa.bindparam("running"),
    NUMBER_BLOCKS.c.last >= sa.bindparam("running"),
)


def prefix_of(connection: Any, platform: str) -> str:
    """The platform's case-number prefix: ``ZMD``, ``ZMD-XP``."""
    if platform == "city":
        return platform_prefix(platform)
    found = connection.execute(_PREFIX, {"code": platform}).first()
    return platform_prefix(platform, found.number_prefix if found else "")


def seat_blocks(
    connection: Any, actor: Actor, seat_id: str, year: int, running: int
) -> list[NumberBlock]:
    """The blocks of ``actor``'s seat ``seat_id`` in the year that hold ``running``."""
    rows = connection.execute(
        _SEAT_BLOCKS,
        {
            "user_id": actor.user_id,
            "seat_id": seat_id,
            "platform": actor.platform,
            "year": year,
            "running": running,
        },
    ).all()
    return [NumberBlock(r.prefix, r.year, r.first, r.last) for r in rows]


class Numbers:
    """Blocks of case numbers for the seats, and their record."""

    def __init__(self, ctx: StoreContext) -> None:
        self.ctx = ctx

    def reserve(self, actor: Actor, body: S.NumberReserve) -> S.NumberBlock:
        """The next ``body.count`` running numbers of the actor's platform's year (this one
        unless ``body.year`` names the next, in the last week of December), for the seat
        ``body.seat_id``."""
        now = self.ctx.now()
        allowed = reservable_years(now)
        year = body.year or number_year(now)
        if year not in allowed:
            raise ValidationFailed(
                [
                    FieldError(
                        "year",
                        "not_reservable",
                        f"现在只能领取 {'、'.join(map(str, allowed))} 年的工单编号",
                        f"Numbers can be reserved now for {', '.join(map(str, allowed))} only",
                    )
                ]
            )
        with self.ctx.write_turn() as deadline, self.ctx.engine.connect() as connection:
            self.ctx.bound_busy(connection, deadline)
            with connection.begin():
                last = connection.execute(
                    _TAKE, {"name": series_name(actor.platform, year), "count": body.count}
                ).scalar_one()
                values: dict[str, Any] = {
                    "platform": actor.platform,
                    "year": year,
                    "prefix": prefix_of(connection, actor.platform),
                    "first": int(last) - body.count + 1,
                    "last": int(last),
                    "seat_id": body.seat_id,
                    "user_id": actor.user_id,
                    "reserved_at": now,
                }
                block_id = connection.execute(
                    sa.insert(NUMBER_BLOCKS).values(**values).returning(NUMBER_BLOCKS.c.id)
                ).scalar_one()
        log.info(
            "numbers %s-%d %d..%d reserved for seat %s of %s",
            values["prefix"],
            year,
            values["first"],
            values["last"],
            body.seat_id,
            actor.user_id,
        )
        return S.NumberBlock(id=block_id, **values)

    def blocks(self, seat_id: str = "", user_id: str = "", limit: int = 200) -> list[S.NumberBlock]:
        """The record: which seat held which numbers, newest first."""
        q = sa.select(NUMBER_BLOCKS).order_by(NUMBER_BLOCKS.c.id.desc()).limit(limit)
        if seat_id:
            q = q.where(NUMBER_BLOCKS.c.seat_id == seat_id)
        if user_id:
            q = q.where(NUMBER_BLOCKS.c.user_id == user_id)
        with self.ctx.engine.connect() as connection:
            rows = connection.execute(q).all()
        return [S.NumberBlock.model_validate(r._mapping) for r in rows]
