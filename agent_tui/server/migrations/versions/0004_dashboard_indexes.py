"""one index for the lead's counts by status × department and by status × county platform

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27

The dashboard counts the cases the lead still watches by status × department (as the summary
does) and by status × platform. ``ix_cases_status_department`` (0002) covers the first; for the
second SQLite read the whole of ``ix_cases_platform_status`` (platform first: every case). A
separate ``(status, platform)`` index was tried: with statistics (ANALYZE) SQLite then picked it,
not covering, for the department counts too (77 ms at 1M cases instead of ≈ 5). So one index
``(status, department, platform)`` replaces 0002's: both counts read only the active statuses'
range, from the index alone. Measured in docs/benchmarks.md ("Lead console").
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_cases_status_department_platform", "cases", ["status", "department", "platform"]
    )
    op.drop_index("ix_cases_status_department", table_name="cases")


def downgrade() -> None:
    op.create_index("ix_cases_status_department", "cases", ["status", "department"])
    op.drop_index("ix_cases_status_department_platform", table_name="cases")
