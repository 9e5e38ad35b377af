"""Leader-assigned cases (领导交办) counted: the board's line and the reports' line.

A handful of cases a month (a leader takes calls once a month) among a million: they are read
by the partial index ``ix_cases_leader_registered`` (migration 0014) and counted by the
domain's rule (``domain.leader.tally``), so the board, the report and the seat agree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from agent_tui import wire as S
from agent_tui.domain.leader import tally
from agent_tui.server.tables import CASES

#: The bare column (no ``= 1`` on SQLite): the partial index's own predicate, so it is used.
LEADER_ASSIGNED: Any = sa.literal_column("cases.leader_assigned")


def leader_tally(
    session: Session, visible: Any, start: datetime, end: datetime, now: datetime
) -> S.LeaderTally:
    """The leader cases registered in [start, end) that the viewer sees, counted at ``now``."""
    c = CASES.c
    rows = session.execute(
        sa.select(c.status, c.handling_deadline, c.replied_at).where(
            LEADER_ASSIGNED, c.registered_at >= start, c.registered_at < end, visible
        )
    ).all()
    counted = tally(rows, now)
    return S.LeaderTally(
        start=start,
        end=end,
        registered=counted.registered,
        done=counted.done,
        open=counted.open,
        overdue=counted.overdue,
    )
