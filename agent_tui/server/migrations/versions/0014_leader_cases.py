"""leader-assigned cases (领导交办): the cases a city leader took at a seat

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05

* ``cases.leader_assigned``: registered or dispatched by a leader (``Role.LEADER``); set by the
  store in the same write as the registration or dispatch (``domain.leader``), never unset.
* ``ix_cases_leader_registered``: the leader cases by registration time, partial (a handful a
  month among a million cases): the board's and the reports' 领导交办 lines read only these.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

LEADER_TERM = "leader_assigned"


def upgrade() -> None:
    op.add_column(
        "cases",
        sa.Column("leader_assigned", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index(
        "ix_cases_leader_registered",
        "cases",
        ["registered_at", "id"],
        sqlite_where=sa.text(LEADER_TERM),
        postgresql_where=sa.text(LEADER_TERM),
    )


def downgrade() -> None:
    op.drop_index("ix_cases_leader_registered", table_name="cases")
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+), as 0011 does.
    op.drop_column("cases", "leader_assigned")
