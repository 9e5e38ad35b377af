"""login throttle: failures counted per (user, address), per address and per user

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04

``login_throttle`` replaces ``login_failures`` (a row per failed login, kept forever: a flood
of made-up user ids grew it without end). One row per counted key, purged once nothing depends
on it (``forget_at``, indexed). The old rows are dropped: at worst a user gets their five free
tries again once.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_try_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("trusted_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("forget_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key"),
    )
    op.create_index("ix_login_throttle_forget_at", "login_throttle", ["forget_at"])
    op.drop_index("ix_login_failures_user_at", table_name="login_failures")
    op.drop_table("login_failures")


def downgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_login_failures_user_at", "login_failures", ["user_id", "at"])
    op.drop_index("ix_login_throttle_forget_at", table_name="login_throttle")
    op.drop_table("login_throttle")
