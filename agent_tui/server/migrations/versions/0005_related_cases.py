"""related cases: the group a case was linked to at intake, and the candidates' index

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27

* ``cases.related_to``: the uuid of the first case of the group a case was linked to
  (``''`` when not linked), with a partial index over linked cases only, so the many unlinked
  creates never write it;
* ``ix_cases_category_registered``: the intake's candidates (same category, registered within
  the window), read as a short index range instead of the day's cases.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

RELATED_TERM = "related_to <> ''"


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(
            sa.Column("related_to", sa.String(length=36), nullable=False, server_default="")
        )
    op.create_index(
        "ix_cases_related_to",
        "cases",
        ["related_to"],
        sqlite_where=sa.text(RELATED_TERM),
        postgresql_where=sa.text(RELATED_TERM),
    )
    op.create_index("ix_cases_category_registered", "cases", ["category", "registered_at"])


def downgrade() -> None:
    op.drop_index("ix_cases_category_registered", table_name="cases")
    op.drop_index("ix_cases_related_to", table_name="cases")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("related_to")
