"""Two PostgreSQL roles for the central store: an **owner** that runs the migrations and owns
the tables, and a **runtime** role that ``agent-tui serve`` logs in as.

The runtime role reads and appends to the audit log (``case_events``: SELECT, INSERT) and only
reads its hash chain (the chain's trigger writes it as the owner); it reads and writes the
store's other tables, and owns nothing: it cannot ALTER a table, disable or drop a trigger,
TRUNCATE, UPDATE or DELETE the log. (A role that owns the log can do all of that, whatever the
triggers say.)

``create_roles_sql`` / ``database_sql`` are for a superuser (``agent-tui db create-roles``),
``grant_sql`` for the owner after each migration (``agent-tui migrate --grant-to``), and
``exposure`` tells the store at start-up whether its own role could rewrite the log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, make_url

#: Tables the runtime role may read and append to, and those it may only read.
APPEND_ONLY = ("case_events", "number_blocks")
READ_ONLY = ("audit_chain", "audit_chain_head", "alembic_version")

_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class RoleSetupError(ValueError):
    """A role or database name, or a URL, that the setup refuses (message in Chinese)."""


def check_name(name: str, what: str) -> str:
    """Role, database and schema names: lower-case letters, digits and ``_`` (no quoting)."""
    if not _NAME.fullmatch(name):
        raise RoleSetupError(
            f"{what}名称「{name}」不合规：只能用小写字母、数字和下划线，以字母或下划线开头，"
            "最长 63 个字符"
        )
    return name


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class Password:
    """A password to set, or a psql variable that holds it (``--sql`` prints ``:'var'``)."""

    value: str = ""
    psql_variable: str = ""

    def sql(self, *, shown: bool = True) -> str:
        if self.psql_variable:
            return f":'{self.psql_variable}'"
        if not shown:
            return "'********'"
        return _literal(self.value)

    def __bool__(self) -> bool:
        return bool(self.value or self.psql_variable)


def create_roles_sql(
    owner: str,
    runtime: str,
    owner_password: Password | None = None,
    runtime_password: Password | None = None,
    *,
    shown: bool = True,
) -> list[str]:
    """``CREATE ROLE`` for both (or ``ALTER ROLE`` when one exists: safe to run again).
    The runtime role is no member of the owner and inherits nothing from it."""
    statements = []
    for name, password in ((owner, owner_password), (runtime, runtime_password)):
        check_name(name, "角色")
        attrs = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
        if password:
            attrs += f" PASSWORD {password.sql(shown=shown)}"
        statements.append(
            "DO $$ BEGIN"
            f" IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {_literal(name)}) THEN"
            f" CREATE ROLE {name}; END IF; END $$"
        )
        statements.append(f"ALTER ROLE {name} {attrs}")
    statements.append(f"REVOKE {owner} FROM {runtime}")
    return statements


def database_sql(database: str, owner: str, runtime: str, schema: str = "public") -> list[str]:
    """Inside the store's database, as a superuser: the schema belongs to the owner, nobody
    else creates objects in it, the runtime role may use it and connect."""
    check_name(database, "数据库")
    check_name(schema, "模式")
    return [
        f"ALTER DATABASE {database} OWNER TO {owner}",
        f"REVOKE CREATE, TEMPORARY ON DATABASE {database} FROM PUBLIC",
        f"GRANT CONNECT ON DATABASE {database} TO {runtime}",
        f"ALTER SCHEMA {schema} OWNER TO {owner}",
        f"REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC",
        f"GRANT USAGE ON SCHEMA {schema} TO {runtime}",
    ]


def reassign_sql(old: str, owner: str) -> list[str]:
    """A store made by one role: hand its objects to the owner (inside the database)."""
    check_name(old, "角色")
    return [f"REASSIGN OWNED BY {old} TO {owner}"]


def grant_sql(runtime: str, schema: str = "public") -> list[str]:
    """As the owner, after each migration: what the runtime role may do on every table now
    there, and on the tables later migrations make (default privileges)."""
    check_name(runtime, "角色")
    check_name(schema, "模式")
    logs = ", ".join(f"{schema}.{t}" for t in APPEND_ONLY)
    reads = ", ".join(f"{schema}.{t}" for t in READ_ONLY)
    return [
        f"GRANT USAGE ON SCHEMA {schema} TO {runtime}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {runtime}",
        f"REVOKE ALL ON {logs}, {reads} FROM {runtime}",
        f"GRANT SELECT, INSERT ON {logs} TO {runtime}",
        f"GRANT SELECT ON {reads} TO {runtime}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {runtime}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema}"
        f" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {runtime}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema}"
        f" GRANT USAGE, SELECT ON SEQUENCES TO {runtime}",
    ]


def user_of(url: str) -> str:
    return make_url(url).username or ""


def with_user(url: str, user: str, password: str | None = None) -> str:
    """``url`` logging in as ``user`` (and its password, if given)."""
    return make_url(url).set(username=user, password=password).render_as_string(hide_password=False)


def with_database(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def run(connection: Connection, statements: list[str]) -> None:
    for statement in statements:
        connection.exec_driver_sql(statement)  # no parameters: a '%' is a '%'


def grant(owner_url: str, runtime: str) -> list[str]:
    """Run ``grant_sql`` as the owner (the URL's role); returns what was run."""
    engine = sa.create_engine(owner_url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as connection:
            schema = connection.execute(sa.text("SELECT current_schema()")).scalar_one()
            statements = grant_sql(runtime, schema)
            run(connection, statements)
    finally:
        engine.dispose()
    return statements


def create_roles(
    admin_url: str,
    owner: str,
    runtime: str,
    database: str,
    owner_password: Password | None = None,
    runtime_password: Password | None = None,
    reassign_from: str = "",
) -> list[str]:
    """As a superuser: both roles, the database (made if missing, owned by the owner) and its
    schema's rights. Safe to run again. Returns the statements run (passwords masked)."""
    check_name(database, "数据库")
    done: list[str] = []
    engine = sa.create_engine(admin_url, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            run(connection, create_roles_sql(owner, runtime, owner_password, runtime_password))
            done += create_roles_sql(owner, runtime, owner_password, runtime_password, shown=False)
            exists = connection.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": database}
            ).first()
            if exists is None:
                statement = f"CREATE DATABASE {database} OWNER {owner} ENCODING 'UTF8'"
                connection.exec_driver_sql(statement)
                done.append(statement)
    finally:
        engine.dispose()
    engine = sa.create_engine(with_database(admin_url, database), poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as connection:
            schema = connection.execute(sa.text("SELECT current_schema()")).scalar_one()
            statements = (reassign_sql(reassign_from, owner) if reassign_from else []) + (
                database_sql(database, owner, runtime, schema)
            )
            run(connection, statements)
            done += statements
    finally:
        engine.dispose()
    return done


def exposure(engine: Engine) -> list[str]:
    """What the engine's own role could do to rewrite the audit log (empty: nothing; always
    empty on SQLite, whose file is guarded by the file system)."""
    if engine.dialect.name != "postgresql":
        return []
    with engine.connect() as connection:
        row = connection.execute(
            sa.text(
                "SELECT current_user AS who,"
                " (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser,"
                " pg_has_role(current_user, c.relowner, 'USAGE') AS owner,"
                " has_table_privilege(c.oid, 'UPDATE') AS can_update,"
                " has_table_privilege(c.oid, 'DELETE') AS can_delete,"
                " has_table_privilege(c.oid, 'TRUNCATE') AS can_truncate"
                " FROM pg_class c WHERE c.oid = to_regclass('case_events')"
            )
        ).first()
    if row is None:
        return []
    found = []
    if row.superuser:
        found.append(f"角色 {row.who} 是超级用户")
    elif row.owner:
        found.append(f"角色 {row.who} 是审计日志表的属主（可停用触发器、改写或清空日志）")
    rights = [
        verb
        for verb, has in (
            ("UPDATE", row.can_update),
            ("DELETE", row.can_delete),
            ("TRUNCATE", row.can_truncate),
        )
        if has
    ]
    if rights and not row.superuser and not row.owner:
        found.append(f"角色 {row.who} 对审计日志有 {', '.join(rights)} 权限")
    return found
