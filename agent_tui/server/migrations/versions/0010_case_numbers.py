"""case numbers at save: blocks of numbers reserved for seats; one series per platform and year

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05

* ``number_blocks``: a block of running numbers (``first``..``last`` of a platform's year
  series) reserved for a seat and its user (``POST /api/numbers/reserve``). Append-only
  (UPDATE and DELETE refused by triggers): it is the record of which seat held which numbers.
* The running number of a case number now counts per platform and year
  (``number:<platform>:<yyyy>``), the store's own numbers and the seats' blocks alike, so
  neither can take the other's. Each year's counter starts above every running number the
  day counters (``number:<platform>:<yyyymmdd>``) gave out that year: no number given before
  can come round again.
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "number_blocks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=24), nullable=False),
        sa.Column("first", sa.Integer(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.Column("seat_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("reserved_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_number_blocks_seat",
        "number_blocks",
        ["user_id", "seat_id", "platform", "year", "first"],
    )
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER number_blocks_no_{verb.lower()} BEFORE {verb} ON number_blocks "
                "BEGIN SELECT RAISE(ABORT, 'number_blocks is append-only'); END"
            )
    else:
        op.execute(
            "CREATE FUNCTION number_blocks_append_only() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'number_blocks is append-only'; END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER number_blocks_no_change BEFORE UPDATE OR DELETE ON number_blocks "
            "FOR EACH ROW EXECUTE FUNCTION number_blocks_append_only()"
        )

    # Each platform's year series starts past the numbers its days gave out.
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT name, value FROM counters WHERE name LIKE 'number:%'")
    ).all()
    years: dict[str, int] = defaultdict(int)
    for name, value in rows:
        _, platform, day = name.split(":", 2)
        if len(day) == 8 and day.isdigit():
            key = f"number:{platform}:{day[:4]}"
            years[key] = max(years[key], int(value))
    for key, value in sorted(years.items()):
        bind.execute(
            sa.text(
                "INSERT INTO counters (name, value) VALUES (:n, :v) ON CONFLICT (name) "
                "DO UPDATE SET value = CASE WHEN counters.value > :v THEN counters.value "
                "ELSE :v END"
            ),
            {"n": key, "v": value},
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP TRIGGER IF EXISTS number_blocks_no_change ON number_blocks")
        op.execute("DROP FUNCTION IF EXISTS number_blocks_append_only()")
    op.drop_index("ix_number_blocks_seat", table_name="number_blocks")
    op.drop_table("number_blocks")
