"""the change feed says when a case leaves a reader's sight

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04

* ``changes.withdrawn_from``: the readers (``department:CGJ``, ``platform:411721``) that saw
  the case before this change and do not after it (a re-dispatch to another department, an
  approved return). The feed tells them to drop the case from their cache; without it a
  department's queue kept a case that had moved on, because the feed only lists cases a
  reader may see now.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("changes") as batch:
        batch.add_column(
            sa.Column("withdrawn_from", sa.String(length=400), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("changes") as batch:
        batch.drop_column("withdrawn_from")
