"""The throwaway PostgreSQL cluster and its fixtures (tests/pg.py, tests/conftest_pg.py)."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from tests.conftest_pg import *  # noqa: F403  (until tests/conftest.py imports them)
from tests.conftest_pg import PrepareDatabase
from tests.pg import PgCluster

_prepare_calls: list[str] = []


def _make_items(url: str) -> None:
    """An "expensive" set-up: one table, one row. Leaves a pooled connection open on purpose."""
    _prepare_calls.append(url)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL)"))
        conn.execute(sa.text("INSERT INTO items (name) VALUES ('from template')"))
    engine.connect()  # never closed: the template must still be clonable


def _names(url: str) -> list[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.scalars(sa.text("SELECT name FROM items ORDER BY id")))
    finally:
        engine.dispose()


def test_cluster_answers_select_version(pg_database_url: str) -> None:
    engine = sa.create_engine(pg_database_url)
    try:
        with engine.connect() as conn:
            version = conn.scalar(sa.text("SELECT version()"))
            tables = conn.scalar(
                sa.text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            )
            encoding = conn.scalar(sa.text("SHOW server_encoding"))
    finally:
        engine.dispose()
    assert isinstance(version, str)
    assert version.startswith("PostgreSQL ")
    assert tables == 0  # a fresh, empty database
    assert encoding == "UTF8"


def test_url_uses_loopback_only(pg_cluster: PgCluster, pg_database_url: str) -> None:
    url = sa.make_url(pg_database_url)
    assert url.drivername == "postgresql+psycopg"
    assert url.host == "127.0.0.1"
    assert url.port == pg_cluster.port
    assert url.username == "postgres"
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.scalar(sa.text("SHOW listen_addresses")) == "127.0.0.1"
            assert conn.scalar(sa.text("SELECT host(inet_server_addr())")) == "127.0.0.1"
            assert conn.scalar(sa.text("SHOW fsync")) == "off"
    finally:
        engine.dispose()


def test_databases_from_one_template_are_independent(
    pg_database_from_template: Callable[[PrepareDatabase], str],
) -> None:
    first = pg_database_from_template(_make_items)
    second = pg_database_from_template(_make_items)
    assert first != second
    assert len(_prepare_calls) == 1  # the template is prepared once, then cloned

    engine = sa.create_engine(first)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO items (name) VALUES ('only in first')"))
    finally:
        engine.dispose()

    assert _names(first) == ["from template", "only in first"]
    assert _names(second) == ["from template"]


def test_template_is_reused_across_tests(
    pg_database_from_template: Callable[[PrepareDatabase], str],
) -> None:
    url = pg_database_from_template(_make_items)
    assert _names(url) == ["from template"]
    assert len(_prepare_calls) == 1


def test_create_and_drop_database(pg_cluster: PgCluster) -> None:
    def exists(name: str) -> bool:
        with pg_cluster.connect() as conn:
            row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            return row is not None

    pg_cluster.create_database("Odd Name-1")  # quoted as an identifier
    assert exists("Odd Name-1")
    leftover = sa.create_engine(pg_cluster.url("Odd Name-1"))
    leftover.connect()  # an open connection must not block the drop
    pg_cluster.drop_database("Odd Name-1")
    leftover.dispose()
    assert not exists("Odd Name-1")
