"""PostgreSQL connections that die under the store: a pooled connection that sat idle is pinged
and replaced unseen; one that dies inside the ping window fails one request with a readable 503
(never a 500), and the seat's retry of that request then goes through, once."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from agent_tui.server import db
from tests.conftest_pg import as_role

from .conftest import Api
from .helpers import assert_error, case_body, new_case


@pytest.fixture
def db_url(pg_runtime_database: Callable[[], str]) -> str:
    """PostgreSQL only: SQLite has no server to lose a connection to."""
    return pg_runtime_database()


def kill_the_store_connections(url: str) -> int:
    """``pg_terminate_backend`` on every other connection to the database (a restart, as the
    store's pool sees it); how many there were."""
    engine = sa.create_engine(as_role(url, "postgres"), poolclass=NullPool)
    with engine.connect() as connection:
        killed = connection.execute(
            sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
    engine.dispose()
    return int(killed)


def cases_listed(http: Api) -> int:
    r = http.get("/api/cases", params={"limit": 200})
    assert r.status_code == 200, r.text
    return len(r.json()["items"])


def test_a_connection_killed_while_idle_is_replaced_unseen(
    http: Api, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    new_case(http)
    assert cases_listed(http) == 1
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)  # every connection counts as idle
    assert kill_the_store_connections(db_url) >= 1
    new_case(http)  # the ping found the dead connection: a fresh one served the create
    assert cases_listed(http) == 2


def test_a_connection_killed_inside_the_window_gives_a_503_then_the_retry_lands_once(
    http: Api, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    new_case(http)
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 1e9)  # no connection is ever pinged
    assert kill_the_store_connections(db_url) >= 1
    body = case_body()
    r = http.post("/api/cases", json=body)
    error = assert_error(r, 503, "unavailable")
    assert "数据库" in error["message"] and r.headers["Retry-After"] == "1"
    # The pool dropped its dead connections; the seat's outbox sends the same case again.
    assert http.post("/api/cases", json=body).status_code == 201
    assert http.post("/api/cases", json=body).status_code == 200
    assert cases_listed(http) == 2
