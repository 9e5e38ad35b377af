"""repeat calls about an open case: urges (催办) and supplements (补充)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05

* ``cases.urges``, ``cases.last_urged_at``, ``cases.supplements``: how often the caller rang
  again about the open case to urge it, when the last urge came, and how often information was
  added. The events themselves (``urge``, ``supplement``) are in the audit log like every step;
  the counters let the department's queue put urged cases first without reading the log.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("urges", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("cases", sa.Column("last_urged_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "cases", sa.Column("supplements", sa.Integer(), nullable=False, server_default="0")
    )


def downgrade() -> None:
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch copy of ``cases`` would drop
    # the table the audit log's rows point at, which the foreign keys refuse.
    for column in ("supplements", "last_urged_at", "urges"):
        op.drop_column("cases", column)
