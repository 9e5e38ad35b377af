"""The central store over HTTP on SQLite and on PostgreSQL: every API test runs on both.

On PostgreSQL the store runs as the runtime role (``pg_runtime_database``): the database was
migrated by the owner role, as in production, so the tests see the rights the store really has.

``client`` is a TestClient over ``create_app`` (the real app: real auth, real database, real
migrations) with a frozen, settable clock. Users are made directly in the database with one
precomputed argon2 hash, because hashing is slow on purpose.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from agent_tui.config import Settings
from agent_tui.domain.case import Role
from agent_tui.server.app import create_app
from agent_tui.server.auth import hash_password
from agent_tui.server.db import migrate
from agent_tui.server.models import UserRow
from agent_tui.server.seed import seed_reference

PASSWORD = "demo1234"
_HASH = hash_password(PASSWORD)
#: Thursday 2026-11-26 09:00 in Zhumadian.
T0 = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)

USERS: dict[str, tuple[Role, str, str]] = {
    # user id: (role, department, platform)
    "agent01": (Role.AGENT, "", "city"),
    "agent02": (Role.AGENT, "", "city"),
    "lead01": (Role.LEAD, "", "city"),
    "leader01": (Role.LEADER, "", "city"),
    "admin": (Role.ADMIN, "", "city"),
    "cgj": (Role.DEPARTMENT, "CGJ", "city"),
    "gaj": (Role.DEPARTMENT, "GAJ", "city"),
    "by_agent": (Role.AGENT, "", "411726"),
}


class FrozenClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> datetime:
        self.now += timedelta(**kw)
        return self.now


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'central.db'}"
        migrate(url)
        return url
    # Migrated as the owner, served as the runtime role (README: two roles).
    make: Callable[[], str] = request.getfixturevalue("pg_runtime_database")
    return make()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        db_url=db_url,
        clock_interval_seconds=0,
        callback_sample_rate=0.0,
        # KPI replays on a thread, and the dashboard waits for them: tests read every tile
        # from the first answer (test_dashboard covers the replay process and pending tiles).
        kpi_processes=0,
        kpi_wait_seconds=60,
    )


@pytest.fixture
def app(settings: Settings, clock: FrozenClock) -> Iterator[FastAPI]:
    app = create_app(settings, clock=clock, run_migrations=False)
    store = app.state.store
    seed_reference(store)
    with Session(store.engine) as session, session.begin():
        for user_id, (role, department, platform) in USERS.items():
            session.add(
                UserRow(
                    user_id=user_id,
                    name=user_id,
                    role=role,
                    department=department,
                    platform=platform,
                    password_hash=_HASH,
                    created_at=T0,
                )
            )
    yield app
    store.engine.dispose()


@dataclass
class Api:
    """A TestClient with one bearer token per user, logged in on first use."""

    client: TestClient
    tokens: dict[str, str]

    def headers(self, user: str) -> dict[str, str]:
        if user not in self.tokens:
            r = self.client.post("/api/auth/login", json={"user_id": user, "password": PASSWORD})
            assert r.status_code == 200, r.text
            self.tokens[user] = r.json()["token"]
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def get(self, path: str, user: str = "agent01", **kw: Any) -> Any:
        return self.client.get(path, headers=self.headers(user), **kw)

    def post(self, path: str, user: str = "agent01", **kw: Any) -> Any:
        return self.client.post(path, headers=self.headers(user), **kw)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@pytest.fixture
def api(client: TestClient) -> Api:
    return Api(client, {})


@pytest.fixture
def http(api: Api) -> Api:
    """The API helper with every user already logged in (no argon2 per test)."""
    from tests.api.helpers import preauth  # helpers imports this module

    return preauth(api)
