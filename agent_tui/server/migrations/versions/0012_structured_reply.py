"""the structured reply and the callback's answers

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05

* ``cases.reply_outcome``, ``reply_officer``, ``reply_phone``: a department's reply says what
  came of the case (已解决 / 部分解决 / 未解决 / 情况不属实 / 已解释说明), who handled it and
  how to reach them (``NULL``/``''``: a free-text reply, as all replies before this were);
* ``cases.callback_solved``, ``callback_note``: the caller's answer to "was the problem
  solved?" (解决率) and what they said at the callback.

The event log carries the same fields in each reply's and rating's ``changes`` (the domain's
diff), so the KPI replay reads them from the log as it reads satisfaction.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs (no batch copy of ``cases``: on SQLite that drops and recreates the
    # table, which the audit log's foreign key refuses).
    op.add_column("cases", sa.Column("reply_outcome", sa.String(length=16), nullable=True))
    op.add_column(
        "cases",
        sa.Column("reply_officer", sa.String(length=40), nullable=False, server_default=""),
    )
    op.add_column(
        "cases", sa.Column("reply_phone", sa.String(length=20), nullable=False, server_default="")
    )
    op.add_column("cases", sa.Column("callback_solved", sa.String(length=16), nullable=True))
    op.add_column(
        "cases",
        sa.Column("callback_note", sa.String(length=1000), nullable=False, server_default=""),
    )


def downgrade() -> None:
    # Plain DROP COLUMNs (SQLite ≥ 3.35), for the same reason as above.
    for name in (
        "callback_note",
        "callback_solved",
        "reply_phone",
        "reply_officer",
        "reply_outcome",
    ):
        op.drop_column("cases", name)
