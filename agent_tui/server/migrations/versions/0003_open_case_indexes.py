"""partial indexes over open cases for the overdue and department deadline queues

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27

Both index only the open cases that have a deadline (≈ 5 % of the table), in deadline order,
so a deadline-ordered queue page reads its 51 rows straight off the index instead of sorting
thousands, and a create (no deadline yet) writes neither:

* ``ix_cases_open_deadline``: unreplied open cases by deadline: the overdue queue (SQLite and
  PostgreSQL) and the summary's overdue counts;
* ``ix_cases_open_dept_deadline``: open cases per department by deadline: a department's queue
  over several open statuses (PostgreSQL sorted ≈ 4,100 rows per page at 1M cases).

The predicates are literal, and ``Store`` writes the same literal terms into its queries: SQLite
uses a partial index only when the query contains the index's terms as written, and PostgreSQL
only when it can prove them from constants. Measured in docs/benchmarks.md.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

#: The open statuses (domain ``OPEN_STATUSES``), sorted: the queries render them in this order.
OPEN = (
    "dispatched",
    "extension_requested",
    "in_progress",
    "registered",
    "replied",
    "return_requested",
    "returned",
)
OPEN_TERM = "status IN (" + ", ".join(f"'{s}'" for s in OPEN) + ")"
#: Cases without a deadline yet (every new one) stay out: a create writes neither index.
DUE_TERM = "handling_deadline IS NOT NULL AND " + OPEN_TERM
UNREPLIED_TERM = "handling_deadline IS NOT NULL AND replied_at IS NULL AND " + OPEN_TERM


def upgrade() -> None:
    op.create_index(
        "ix_cases_open_deadline",
        "cases",
        ["handling_deadline", "id"],
        sqlite_where=sa.text(UNREPLIED_TERM),
        postgresql_where=sa.text(UNREPLIED_TERM),
    )
    op.create_index(
        "ix_cases_open_dept_deadline",
        "cases",
        ["department", "handling_deadline", "id"],
        sqlite_where=sa.text(DUE_TERM),
        postgresql_where=sa.text(DUE_TERM),
    )


def downgrade() -> None:
    op.drop_index("ix_cases_open_dept_deadline", table_name="cases")
    op.drop_index("ix_cases_open_deadline", table_name="cases")
