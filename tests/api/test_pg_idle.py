"""Quiet hours on PostgreSQL: writes after the store's pooled connections sat idle.

A pooled connection idle for longer than ``PING_AFTER_IDLE_SECONDS`` is pinged when it is next
checked out. The ping used to run ``SELECT 1`` outside autocommit, which left the connection
inside a transaction; the next write (run in autocommit, one statement) then failed with
"can't change 'autocommit' now: connection in transaction status INTRANS" and answered 500.
Every write after a pause of more than a second failed; bursts never showed it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from agent_tui.domain.lifecycle import Step
from agent_tui.server import db

from .conftest import Api
from .helpers import DEPT_USER, case_body, good_body, url


@pytest.fixture
def db_url(pg_runtime_database: Callable[[], str]) -> str:
    """PostgreSQL only (SQLite has no pool ping), as the runtime role."""
    return pg_runtime_database()


def quiet(seconds: float) -> None:
    """A quiet spell: nobody writes, the pool's connections sit idle."""
    time.sleep(seconds)


def test_writes_after_a_quiet_second_go_through(http: Api) -> None:
    """The real threshold: creates and a dispatch, each after more than a second of quiet."""
    created = []
    for _ in range(2):
        quiet(db.PING_AFTER_IDLE_SECONDS + 0.2)
        r = http.post("/api/cases", json=case_body())
        assert r.status_code == 201, r.text
        created.append(r.json())
    quiet(db.PING_AFTER_IDLE_SECONDS + 0.2)
    case = created[0]
    r = http.post(url(case, Step.DISPATCH), json=good_body(Step.DISPATCH, case))
    assert r.status_code == 200, r.text


def test_every_write_path_after_idle_gaps(http: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """Creates, steps of two roles, a retry and reads, each after a gap: every checkout path
    (one-statement autocommit writes, Core and ORM reads, the token lookup) gets a clean
    connection. The threshold is lowered so that the test does not sleep for long."""
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.05)
    gap = 0.15
    for _ in range(3):
        quiet(gap)
        body = case_body()
        r = http.post("/api/cases", json=body)
        assert r.status_code == 201, r.text
        case = r.json()
        quiet(gap)
        assert http.post("/api/cases", json=body).status_code == 200  # the seat's retry
        quiet(gap)
        dispatch = good_body(Step.DISPATCH, case)
        r = http.post(url(case, Step.DISPATCH), json=dispatch)
        assert r.status_code == 200, r.text
        case = r.json()
        quiet(gap)
        r = http.post(url(case, Step.DISPATCH), json=dispatch)  # the same command again
        assert r.status_code == 200 and r.json()["version"] == case["version"], r.text
        quiet(gap)
        r = http.post(url(case, Step.SIGN), DEPT_USER, json=good_body(Step.SIGN, case))
        assert r.status_code == 200, r.text
        quiet(gap)
        r = http.get(f"/api/cases/{case['uuid']}")
        assert r.status_code == 200 and len(r.json()["events"]) == 3, r.text
        quiet(gap)
        assert http.get("/api/cases", params={"limit": 5}).status_code == 200
        quiet(gap)
        assert http.get("/api/changes").status_code == 200


def test_a_pinged_connection_is_handed_out_idle(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ping leaves no transaction open, whatever the checkout then does with it."""
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)
    engine = db.make_engine(db_url, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        for options in ({}, {"isolation_level": "AUTOCOMMIT"}):
            with engine.connect().execution_options(**options) as connection:
                raw = connection.connection.dbapi_connection
                assert raw is not None
                status = raw.info.transaction_status  # type: ignore[attr-defined]
                assert status.name == "IDLE", options
                connection.execute(sa.text("SELECT 1"))
                connection.rollback()
    finally:
        engine.dispose()
