"""indexes for the lead summary and the overdue queue

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27

Measured at 1,000,000 cases (docs/benchmarks.md): the summary's database time falls from 121 to
6.5 ms on SQLite and from 224 to 19 ms on PostgreSQL; the overdue page from 8.5 to 0.8 ms.
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_cases_status_department", "cases", ["status", "department"])
    op.create_index(
        "ix_cases_status_replied_deadline",
        "cases",
        ["status", "replied_at", "handling_deadline", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_cases_status_replied_deadline", table_name="cases")
    op.drop_index("ix_cases_status_department", table_name="cases")
