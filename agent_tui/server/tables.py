"""The tables as SQLAlchemy Core sees them, and the SQL pieces more than one concern uses.

Statements are built once at import: their parameters are bound per call, so SQLAlchemy
compiles each once (building ``insert(...).values(**row)`` per call cost ≈ 1.5 ms in cache
keys alone). Each concern keeps its own statements; the ones here are shared: reading a case
by uuid, taking the next change number, and ``status_in`` (written so the partial indexes
serve it).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from agent_tui.domain.case import Status
from agent_tui.server.models import CaseRow, ChangeRow, EventRow, IdempotencyRow

CASES: Any = sa.inspect(CaseRow).local_table
EVENTS: Any = sa.inspect(EventRow).local_table
CHANGES: Any = sa.inspect(ChangeRow).local_table
IDEMPOTENCY: Any = sa.inspect(IdempotencyRow).local_table

SELECT_CASE = sa.select(CASES).where(CASES.c.uuid == sa.bindparam("uuid"))
#: The next change number: its counter row stays locked to commit (see ``context.write``).
NEXT_SEQ = sa.text(
    "UPDATE counters SET value = value + 1 WHERE name = 'change_seq' RETURNING value"
)


def status_in(statuses: Any) -> Any:
    """``status IN ('a', 'b', ...)`` with the codes written into the SQL, sorted.

    Literal, not bound: the partial indexes over open cases (migration 0003) are used only when
    the query holds their predicate as written (SQLite) or provably from constants (PostgreSQL,
    whose cached generic plans see parameters, not values). The codes are enum values.
    """
    codes = sorted({str(Status(s)) for s in statuses})
    return CASES.c.status.in_([sa.literal_column(f"'{c}'") for c in codes])
