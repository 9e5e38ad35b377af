"""PostgreSQL fixtures: one throwaway cluster per test session, one fresh database per test.

Wire them in ``tests/conftest.py`` with::

    from tests.conftest_pg import *  # noqa: F403

Fixtures
--------
``pg_cluster`` (session) -> ``PgCluster``
    The running cluster (``tests.pg.PgCluster``), started on first use (about 1 s) and stopped
    at the end of the session. Without PostgreSQL server binaries the test is *skipped*, except
    when ``$CI`` is set: there it *fails*, because CI must always run the PostgreSQL tests.
``pg_database_url`` (function) -> ``str``
    The SQLAlchemy URL (``postgresql+psycopg://postgres@127.0.0.1:PORT/NAME``) of a fresh,
    empty database made for this test alone and dropped after it.
``pg_template`` (session) -> ``(prepare) -> str``
    ``pg_template(prepare)`` returns the *name* of a template database that ``prepare(url)``
    filled; ``prepare`` runs once per session per callable object (pass a module-level
    function, not a lambda made anew in each test).
``pg_database_from_template`` (function) -> ``(prepare) -> str``
    ``pg_database_from_template(prepare)`` returns the URL of a new database cloned from
    ``pg_template(prepare)`` (``CREATE DATABASE x TEMPLATE tmpl``: tens of milliseconds, however
    long ``prepare`` takes); every database it made is dropped after the test.

Example: migrate once, give every test its own migrated database::

    import sqlalchemy as sa

    from agent_tui.server.db import metadata  # or run Alembic, anything taking a URL


    def migrate(url: str) -> None:
        engine = sa.create_engine(url)
        metadata.create_all(engine)
        engine.dispose()  # optional: leftover connections are closed anyway


    @pytest.fixture
    def pg_url(pg_database_from_template: Callable[[PrepareDatabase], str]) -> str:
        return pg_database_from_template(migrate)


    def test_something(pg_url: str) -> None:
        engine = sa.create_engine(pg_url)
        ...

To run an API test on both SQLite and PostgreSQL, parametrize a fixture::

    @pytest.fixture(params=["sqlite", "postgresql"])
    def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
        if request.param == "sqlite":
            return f"sqlite:///{tmp_path / 'test.db'}"
        return request.getfixturevalue("pg_database_from_template")(migrate)
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.pg import PgCluster, find_pg_bin

__all__ = [
    "OWNER_ROLE",
    "RUNTIME_ROLE",
    "PrepareDatabase",
    "as_role",
    "migrate_two_roles",
    "pg_cluster",
    "pg_database_from_template",
    "pg_database_url",
    "pg_runtime_database",
    "pg_template",
]

PrepareDatabase = Callable[[str], None]
"""Fills an empty database, given its SQLAlchemy URL (e.g. runs the migrations)."""

#: The store's two roles, as the README sets them up (``agent-tui db create-roles``): the owner
#: runs the migrations and owns the tables, the runtime role is what the store logs in as.
OWNER_ROLE = "agent_tui_owner"
RUNTIME_ROLE = "agent_tui_app"


def as_role(url: str, role: str) -> str:
    """``url`` logging in as ``role`` (the throwaway cluster trusts every local login)."""
    from agent_tui.server.pg_roles import with_user

    return with_user(url, role)


def migrate_two_roles(url: str) -> None:
    """A ``PrepareDatabase``: the two roles (cluster-wide, made once), the database's schema
    given to the owner, the migrations run as the owner, the runtime role granted its rights."""
    from agent_tui.server import pg_roles
    from agent_tui.server.db import migrate

    database = url.rsplit("/", 1)[1]
    pg_roles.create_roles(url, OWNER_ROLE, RUNTIME_ROLE, database)
    owner_url = as_role(url, OWNER_ROLE)
    migrate(owner_url)
    pg_roles.grant(owner_url, RUNTIME_ROLE)


# The cluster is shared by reference count, so that importing these fixtures into more than
# one module (conftest.py and a test module, say) still starts a single cluster.
_shared: PgCluster | None = None
_users = 0


@contextlib.contextmanager
def _shared_cluster(bindir: Path) -> Iterator[PgCluster]:
    global _shared, _users
    if _shared is None:
        cluster = PgCluster(bindir)
        cluster.start()
        _shared = cluster
    _users += 1
    try:
        yield _shared
    finally:
        _users -= 1
        if _users == 0 and _shared is not None:
            _shared.stop()
            _shared = None


def _database_name(request: pytest.FixtureRequest) -> str:
    """A unique database name that still says which test made it (at most 63 bytes)."""
    slug = re.sub(r"[^a-z0-9]+", "_", request.node.name.lower()).strip("_")
    return f"t_{slug[:40]}_{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """The session's throwaway PostgreSQL cluster (skips, or fails under $CI, without one)."""
    bindir = find_pg_bin()
    if bindir is None:
        reason = (
            "PostgreSQL server binaries (initdb, pg_ctl) not found in /usr/lib/postgresql/*/bin "
            "nor via pg_config/$PATH; install them (Debian: apt-get install postgresql)"
        )
        if os.environ.get("CI"):
            pytest.fail(f"$CI is set, so PostgreSQL tests must run: {reason}", pytrace=False)
        pytest.skip(reason)
    with _shared_cluster(bindir) as cluster:
        yield cluster


@pytest.fixture
def pg_database_url(pg_cluster: PgCluster, request: pytest.FixtureRequest) -> Iterator[str]:
    """The SQLAlchemy URL of a fresh empty database, dropped after the test."""
    name = _database_name(request)
    pg_cluster.create_database(name)
    try:
        yield pg_cluster.url(name)
    finally:
        pg_cluster.drop_database(name)


@pytest.fixture(scope="session")
def pg_template(pg_cluster: PgCluster) -> Callable[[PrepareDatabase], str]:
    """``pg_template(prepare)``: name of the template database ``prepare`` filled, made once."""
    return pg_cluster.template


@pytest.fixture
def pg_runtime_database(
    pg_database_from_template: Callable[[PrepareDatabase], str],
) -> Callable[[], str]:
    """``pg_runtime_database()``: the URL, as the runtime role, of a new migrated database made
    as production makes it (``migrate_two_roles``); ``as_role(url, OWNER_ROLE)`` or
    ``as_role(url, "postgres")`` reach the same database with more rights."""

    def create() -> str:
        return as_role(pg_database_from_template(migrate_two_roles), RUNTIME_ROLE)

    return create


@pytest.fixture
def pg_database_from_template(
    pg_cluster: PgCluster,
    pg_template: Callable[[PrepareDatabase], str],
    request: pytest.FixtureRequest,
) -> Iterator[Callable[[PrepareDatabase], str]]:
    """``pg_database_from_template(prepare)``: URL of a new clone of ``pg_template(prepare)``.

    Callable several times in one test (each call makes another database); all of them are
    dropped after the test.
    """
    with contextlib.ExitStack() as cleanup:

        def create(prepare: PrepareDatabase) -> str:
            template = pg_template(prepare)
            name = _database_name(request)
            pg_cluster.create_database(name, template=template)
            cleanup.callback(pg_cluster.drop_database, name)
            return pg_cluster.url(name)

        yield create
