"""``agent-tui db create-roles``, ``migrate --grant-to`` and ``db check``: the README's two roles
on PostgreSQL, made from the command line on a cluster of their own names."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner

from agent_tui.cli import _ensure_schema, cli
from agent_tui.config import Settings
from agent_tui.server.db import migrate
from agent_tui.server.pg_roles import with_database, with_user
from tests.pg import PgCluster


@pytest.fixture
def names(pg_cluster: PgCluster) -> Iterator[dict[str, str]]:
    """Fresh role and database names (roles are cluster-wide), the database dropped after."""
    tag = uuid.uuid4().hex[:8]
    made = {"owner": f"own_{tag}", "runtime": f"app_{tag}", "database": f"store_{tag}"}
    yield made
    pg_cluster.drop_database(made["database"])


def urls(pg_cluster: PgCluster, names: dict[str, str]) -> tuple[str, str, str]:
    admin = pg_cluster.url("postgres")
    base = with_database(admin, names["database"])
    return admin, with_user(base, names["owner"]), with_user(base, names["runtime"])


def rights(url: str) -> tuple[bool, bool, bool]:
    """(owns case_events, may TRUNCATE it, may INSERT into it) for the URL's role."""
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            row = connection.execute(
                sa.text(
                    "SELECT pg_has_role(current_user, relowner, 'USAGE'),"
                    " has_table_privilege('case_events', 'TRUNCATE'),"
                    " has_table_privilege('case_events', 'INSERT')"
                    " FROM pg_class WHERE oid = 'case_events'::regclass"
                )
            ).one()
    finally:
        engine.dispose()
    return bool(row[0]), bool(row[1]), bool(row[2])


def test_create_roles_migrate_grant_and_check(pg_cluster: PgCluster, names: dict[str, str]) -> None:
    admin, owner_url, runtime_url = urls(pg_cluster, names)
    options = ["--owner", names["owner"], "--runtime", names["runtime"]]
    options += ["--database", names["database"], "--no-passwords"]
    made = CliRunner().invoke(cli, ["db", "create-roles", "--db", admin, *options])
    assert made.exit_code == 0, made.output
    assert f"CREATE DATABASE {names['database']} OWNER {names['owner']}" in made.output
    assert f"agent-tui migrate --db postgresql+psycopg://{names['owner']}@" in made.output
    again = CliRunner().invoke(cli, ["db", "create-roles", "--db", admin, *options])
    assert again.exit_code == 0, again.output  # safe to run again

    # The runtime role cannot make the schema: serve stops with a readable message.
    settings = Settings(db_url=runtime_url)
    with pytest.raises(Exception) as stopped:
        _ensure_schema(settings)
    assert getattr(stopped.value, "exit_code", None) == 2

    migrated = CliRunner().invoke(
        cli, ["migrate", "--db", owner_url, "--grant-to", names["runtime"]]
    )
    assert migrated.exit_code == 0, migrated.output
    assert (
        f"GRANT SELECT, INSERT ON public.case_events, public.number_blocks TO {names['runtime']}"
        in migrated.output
    )
    assert rights(owner_url) == (True, True, True)
    assert rights(runtime_url) == (False, False, True)

    checked = CliRunner().invoke(cli, ["db", "check", "--db", runtime_url])
    assert checked.exit_code == 0 and "不能改写审计日志" in checked.output, checked.output
    exposed = CliRunner().invoke(cli, ["db", "check", "--db", owner_url])
    assert exposed.exit_code == 1 and "属主" in exposed.output, exposed.output
    superuser = CliRunner().invoke(
        cli, ["db", "check", "--db", with_database(admin, names["database"])]
    )
    assert superuser.exit_code == 1 and "超级用户" in superuser.output

    # ``seed`` loads as the owner when its URL is configured, and shows no password.
    with_password = with_user(with_database(admin, names["database"]), names["owner"], "s3cret")
    env = {"AGENT_TUI_DB_OWNER_URL": with_password, "AGENT_TUI_DB_URL": runtime_url}
    seeded = CliRunner().invoke(cli, ["seed"], env=env)
    assert seeded.exit_code == 0, seeded.output
    assert "s3cret" not in seeded.output and f"{names['owner']}:***@" in seeded.output

    # Serving with the owner's URL configured migrates (nothing to do) and grants again.
    _ensure_schema(Settings(db_url=runtime_url, db_owner_url=owner_url))
    clean = CliRunner().invoke(cli, ["audit", "verify", "--db", runtime_url])
    assert clean.exit_code == 0 and "0 条事件" in clean.output, clean.output


def test_a_single_role_store_is_handed_to_the_owner(
    pg_cluster: PgCluster, names: dict[str, str]
) -> None:
    """A store made by one role (as before the two roles): ``--reassign-from`` gives its
    tables to the owner; the old role then has no more rights on the log than the runtime."""
    admin, owner_url, runtime_url = urls(pg_cluster, names)
    old = f"old_{names['owner'][4:]}"
    with pg_cluster.connect() as connection:
        connection.execute(f"CREATE ROLE {old} LOGIN")  # type: ignore[arg-type]
        connection.execute(f"CREATE DATABASE {names['database']} OWNER {old}")  # type: ignore[arg-type]
    old_url = with_user(with_database(admin, names["database"]), old)
    migrate(old_url)
    assert rights(old_url) == (True, True, True)
    options = ["--owner", names["owner"], "--runtime", names["runtime"]]
    options += ["--database", names["database"], "--no-passwords", "--reassign-from", old]
    made = CliRunner().invoke(cli, ["db", "create-roles", "--db", admin, *options])
    assert made.exit_code == 0, made.output
    assert f"REASSIGN OWNED BY {old} TO {names['owner']}" in made.output
    granted = CliRunner().invoke(
        cli, ["db", "grant", "--db", owner_url, "--runtime", names["runtime"]]
    )
    assert granted.exit_code == 0, granted.output
    assert rights(old_url)[:2] == (False, False)
    assert rights(runtime_url) == (False, False, True)


def test_create_roles_prints_sql_and_refuses_bad_names() -> None:
    printed = CliRunner().invoke(cli, ["db", "create-roles", "--sql"])
    assert printed.exit_code == 0, printed.output
    assert "PASSWORD :'runtime_password'" in printed.output
    assert "\\connect agent_tui" in printed.output
    assert "GRANT USAGE ON SCHEMA public TO agent_tui_app;" in printed.output
    bad = CliRunner().invoke(cli, ["db", "create-roles", "--sql", "--owner", "Robert'); DROP"])
    assert bad.exit_code == 2 and "不合规" in bad.output
    missing = CliRunner().invoke(cli, ["db", "create-roles", "--no-passwords"])
    assert missing.exit_code == 2 and "--db" in missing.output
