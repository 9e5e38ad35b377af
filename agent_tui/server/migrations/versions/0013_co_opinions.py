"""co-departments' opinions (协办意见)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05

* ``cases.co_opinions``: the opinions the co-departments gave (JSON: department, text, officer,
  phone, at), one per co-department; a case has at most ten co-departments and the opinions
  are always read with the case, so they live on its row and are written in the step's one
  statement (each is also in the audit log as a ``co_opinion`` event).
* ``cases.co_opinion_deadline``: when they are due (``domain.deadlines.co_opinion_by``).
* ``cases.co_pending``: the co-departments still owing one (";"-joined, like
  ``co_departments``), so that the overdue opinions are a WHERE clause (the co-department's
  queue, the board's count) without reading the JSON.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_COLUMNS = ("co_pending", "co_opinion_deadline", "co_opinions")


def upgrade() -> None:
    op.add_column("cases", sa.Column("co_opinions", sa.Text(), nullable=False, server_default="[]"))
    op.add_column(
        "cases", sa.Column("co_opinion_deadline", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "cases",
        sa.Column("co_pending", sa.String(length=200), nullable=False, server_default=""),
    )


def downgrade() -> None:
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+), as 0011 does: a batch copy of ``cases``
    # would drop the table the audit log's rows point at.
    for column in _COLUMNS:
        op.drop_column("cases", column)
