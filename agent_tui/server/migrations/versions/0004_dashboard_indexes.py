"""an index for the lead dashboard's counts by status and county platform

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27

The dashboard counts the cases the lead still watches by status × platform. Without this index
SQLite reads the whole of ``ix_cases_platform_status`` (platform first: every case) and
PostgreSQL the table; with it both read only the active statuses' range (≈ 5 % of the cases).
Measured in docs/benchmarks.md ("Lead console").
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_cases_status_platform", "cases", ["status", "platform"])


def downgrade() -> None:
    op.drop_index("ix_cases_status_platform", table_name="cases")
