"""seats by user: a seat is its user's, (user_id, seat_id) the key; last_seen_at indexed

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04

A seat id sent by another user was written over the first user's seat (issue 14). The seats
table only mirrors the seats' last heartbeats (every seat sends one within a minute), so it is
made anew rather than copied: the board fills again as the seats beat.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("seats")
    op.create_table(
        "seats",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("seat_id", sa.String(length=64), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outbox", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "seat_id"),
    )
    op.create_index("ix_seats_last_seen_at", "seats", ["last_seen_at"])


def downgrade() -> None:
    op.drop_index("ix_seats_last_seen_at", table_name="seats")
    op.drop_table("seats")
    op.create_table(
        "seats",
        sa.Column("seat_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outbox", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("seat_id"),
    )
