"""audit chain: every event hashed onto the one before it; REPLACE and TRUNCATE refused

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

* ``audit_chain``: one link per event (position, event id, the previous link's hash, this
  link's hash), written by a trigger on ``case_events`` (see ``server/audit_chain.py`` for what
  is hashed); ``audit_chain_head``: the last link, one row, whose lock orders concurrent
  writers. Events already stored are linked here, in id order.
* SQLite: ``INSERT OR REPLACE`` / ``REPLACE`` of an existing event is refused (a REPLACE deletes
  the old row without running delete triggers unless ``recursive_triggers`` is on, so the
  append-only triggers of 0001 did not see it); the chain's tables are append-only too. The
  triggers call ``sha256()``, which ``db.make_engine`` registers on every connection: a writer
  without it cannot append an event at all. An event's ``at`` must be in the store's format.
* PostgreSQL: TRUNCATE of the log and of the chain is refused; the chain function runs as the
  tables' owner (SECURITY DEFINER), so the runtime role needs no right on the chain tables
  and cannot write them; UPDATE/DELETE/TRUNCATE on the log are revoked from every role but
  the owner (``agent-tui db grant`` gives the runtime role the rest; README: two roles).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from agent_tui.server.audit_chain import FIELDS, GENESIS, VERSION, chain_existing

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

#: The log and its chain: appended to, never changed (revoked from all but the owner).
APPEND_ONLY = ("case_events", "audit_chain", "audit_chain_head")


def _pg_canonical(position: str) -> str:
    """``audit_chain.canonical`` in PostgreSQL over ``NEW`` (independent of the session's
    TimeZone, DateStyle and float settings: no implicit casts of times or floats)."""
    parts = [f"'{VERSION}'", f"({position})::text"]
    for name, kind in FIELDS:
        if kind == "int":
            value = f"NEW.{name}::text"
        elif kind == "time":
            value = f"to_char(NEW.{name} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
        else:
            value = f"encode(convert_to(NEW.{name}, 'UTF8'), 'hex')"
        parts.append(f"coalesce({value}, '-')")
    return " || '|' || ".join(parts)


def _sqlite_canonical(position: str) -> str:
    """The same in SQLite; ``at`` is checked to be the store's text first (see the trigger)."""
    parts = [f"'{VERSION}'", f"CAST({position} AS TEXT)"]
    for name, kind in FIELDS:
        if kind == "int":
            value = f"CAST(NEW.{name} AS TEXT)"
        elif kind == "time":
            value = f"replace(NEW.{name}, ' ', 'T') || 'Z'"
        else:
            value = f"lower(hex(NEW.{name}))"  # hex(NULL) is '', not NULL: the CASE below
        parts.append(f"CASE WHEN NEW.{name} IS NULL THEN '-' ELSE {value} END")
    return " || '|' || ".join(parts)


_SQLITE_TIME_GLOB = (
    "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]"
    ".[0-9][0-9][0-9][0-9][0-9][0-9]"
)


def _sqlite_raise(message: str) -> str:
    return f"SELECT RAISE(ABORT, '{message}')"


def _upgrade_sqlite() -> None:
    # REPLACE: a BEFORE INSERT trigger runs before the conflict is resolved.
    op.execute(
        "CREATE TRIGGER case_events_no_replace BEFORE INSERT ON case_events"
        " WHEN EXISTS (SELECT 1 FROM case_events WHERE id = NEW.id)"
        f" BEGIN {_sqlite_raise('case_events is append-only (REPLACE refused)')}; END"
    )
    op.execute(
        "CREATE TRIGGER case_events_chain AFTER INSERT ON case_events BEGIN "
        + _sqlite_raise("audit chain: the head row is missing")
        + " WHERE NOT EXISTS (SELECT 1 FROM audit_chain_head WHERE id = 1); "
        + _sqlite_raise("case_events.at must be the store''s UTC text YYYY-MM-DD HH:MM:SS.ffffff")
        + f" WHERE typeof(NEW.at) <> 'text' OR NEW.at NOT GLOB '{_SQLITE_TIME_GLOB}'; "
        "UPDATE audit_chain_head SET position = position + 1, prev_hash = hash,"
        f" hash = sha256(hash || '|' || {_sqlite_canonical('position + 1')}) WHERE id = 1; "
        "INSERT INTO audit_chain (position, event_id, prev_hash, hash)"
        " SELECT position, NEW.id, prev_hash, hash FROM audit_chain_head WHERE id = 1; "
        "END"
    )
    for table in ("audit_chain", "audit_chain_head"):
        op.execute(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}"
            f" BEGIN {_sqlite_raise(f'{table} is append-only')}; END"
        )
    op.execute(
        "CREATE TRIGGER audit_chain_no_update BEFORE UPDATE ON audit_chain"
        f" BEGIN {_sqlite_raise('audit_chain is append-only')}; END"
    )
    op.execute(
        "CREATE TRIGGER audit_chain_no_replace BEFORE INSERT ON audit_chain"
        " WHEN EXISTS (SELECT 1 FROM audit_chain"
        " WHERE position = NEW.position OR event_id = NEW.event_id)"
        f" BEGIN {_sqlite_raise('audit_chain is append-only (REPLACE refused)')}; END"
    )
    op.execute(
        "CREATE TRIGGER audit_chain_head_no_replace BEFORE INSERT ON audit_chain_head"
        " WHEN EXISTS (SELECT 1 FROM audit_chain_head)"
        f" BEGIN {_sqlite_raise('audit_chain_head has one row')}; END"
    )
    op.execute(
        "CREATE TRIGGER audit_chain_head_moves_on BEFORE UPDATE ON audit_chain_head"
        " WHEN NEW.id <> OLD.id OR NEW.position <> OLD.position + 1"
        " OR NEW.prev_hash <> OLD.hash"
        f" BEGIN {_sqlite_raise('audit_chain_head only moves on by one link')}; END"
    )


def _upgrade_postgresql() -> None:
    schema = op.get_bind().execute(sa.text("SELECT current_schema()")).scalar_one()
    s = f'"{schema}"'
    op.execute(
        f"CREATE FUNCTION {s}.case_events_chain() RETURNS trigger LANGUAGE plpgsql"
        f" SECURITY DEFINER SET search_path = {s}, pg_temp AS $$\n"
        "DECLARE link record;\n"
        "BEGIN\n"
        f"  UPDATE {s}.audit_chain_head AS h SET position = h.position + 1, prev_hash = h.hash,\n"
        "    hash = encode(sha256(convert_to(h.hash || '|' || "
        f"{_pg_canonical('h.position + 1')}, 'UTF8')), 'hex')\n"
        "  WHERE h.id = 1 RETURNING h.position, h.prev_hash, h.hash INTO link;\n"
        "  IF NOT FOUND THEN\n"
        "    RAISE EXCEPTION 'audit chain: the head row is missing';\n"
        "  END IF;\n"
        f"  INSERT INTO {s}.audit_chain (position, event_id, prev_hash, hash)\n"
        "  VALUES (link.position, NEW.id, link.prev_hash, link.hash);\n"
        "  RETURN NULL;\n"
        "END $$"
    )
    op.execute(f"REVOKE ALL ON FUNCTION {s}.case_events_chain() FROM PUBLIC")
    op.execute(
        "CREATE TRIGGER case_events_chain AFTER INSERT ON case_events"
        f" FOR EACH ROW EXECUTE FUNCTION {s}.case_events_chain()"
    )
    op.execute(
        f"CREATE FUNCTION {s}.audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP; END; $$"
    )
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION {s}.audit_append_only()"
        )
    op.execute(
        "CREATE TRIGGER audit_chain_no_change BEFORE UPDATE OR DELETE ON audit_chain"
        f" FOR EACH ROW EXECUTE FUNCTION {s}.audit_append_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_chain_head_no_delete BEFORE DELETE ON audit_chain_head"
        f" FOR EACH ROW EXECUTE FUNCTION {s}.audit_append_only()"
    )
    # Whoever was given rights on these tables keeps reading and appending, nothing more
    # (the runtime role: ``agent-tui db grant``; the chain tables: the trigger writes them).
    who = "CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE g.grantee::regrole::text END"
    op.execute(
        "DO $$ DECLARE g record; BEGIN"
        " FOR g IN SELECT DISTINCT c.relname, a.grantee FROM pg_class c"
        " CROSS JOIN LATERAL aclexplode(c.relacl) a"
        f" WHERE c.relnamespace = '{s}'::regnamespace"
        f" AND c.relname IN ({', '.join(repr(t) for t in APPEND_ONLY)})"
        " AND a.grantee <> c.relowner LOOP"
        " EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON %I FROM %s',"
        f" g.relname, {who});"
        " IF g.relname <> 'case_events' THEN"
        f" EXECUTE format('REVOKE INSERT ON %I FROM %s', g.relname, {who});"
        " END IF;"
        " END LOOP; END $$"
    )


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # No event may arrive between chaining the stored ones and the trigger taking over.
        op.execute("LOCK TABLE case_events IN SHARE ROW EXCLUSIVE MODE")
    op.create_table(
        "audit_chain",
        sa.Column(
            "position",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
            autoincrement=False,
        ),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("position"),
        sa.UniqueConstraint("event_id", name="uq_audit_chain_event"),
    )
    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.CheckConstraint("id = 1", name="ck_audit_chain_head_one_row"),
    )
    position, last = chain_existing(bind)
    prev = GENESIS
    if position:
        prev = bind.execute(
            sa.text("SELECT prev_hash FROM audit_chain WHERE position = :p"), {"p": position}
        ).scalar_one()
    bind.execute(
        sa.text(
            "INSERT INTO audit_chain_head (id, position, prev_hash, hash)"
            " VALUES (1, :position, :prev, :hash)"
        ),
        {"position": position, "prev": prev, "hash": last},
    )
    if bind.dialect.name == "sqlite":
        _upgrade_sqlite()
    else:
        _upgrade_postgresql()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in (
            "case_events_no_replace",
            "case_events_chain",
            "audit_chain_no_delete",
            "audit_chain_head_no_delete",
            "audit_chain_no_update",
            "audit_chain_no_replace",
            "audit_chain_head_no_replace",
            "audit_chain_head_moves_on",
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    else:
        op.execute("DROP TRIGGER IF EXISTS case_events_chain ON case_events")
        op.execute("DROP TRIGGER IF EXISTS case_events_no_truncate ON case_events")
        op.execute("DROP FUNCTION IF EXISTS case_events_chain()")
        op.execute("DROP TABLE audit_chain_head, audit_chain")  # their triggers go with them
        op.execute("DROP FUNCTION IF EXISTS audit_append_only()")
        return
    op.drop_table("audit_chain_head")
    op.drop_table("audit_chain")
