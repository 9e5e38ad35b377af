"""A seat terminal against a real central store: uvicorn in a thread on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from agent_tui.client.seat import Seat
from agent_tui.config import Settings
from agent_tui.domain.case import Role
from agent_tui.server.auth import hash_password
from agent_tui.server.embedded import EmbeddedServer
from agent_tui.server.models import UserRow
from agent_tui.server.store import Store

PASSWORD = "demo1234"


#: user id: (role, department) — two agents, a shift lead and 城管局's liaison.
USERS: dict[str, tuple[Role, str]] = {
    "agent01": (Role.AGENT, ""),
    "agent02": (Role.AGENT, ""),
    "lead01": (Role.LEAD, ""),
    "cgj01": (Role.DEPARTMENT, "CGJ"),
}


def add_users(engine: Engine, users: dict[str, tuple[Role, str]] = USERS) -> None:
    """``users`` (by default ``USERS``), all with ``PASSWORD``."""
    h = hash_password(PASSWORD)
    with Session(engine) as session, session.begin():
        for user_id, (role, department) in users.items():
            session.add(
                UserRow(
                    user_id=user_id,
                    name=user_id,
                    role=role,
                    department=department,
                    password_hash=h,
                    created_at=datetime.now(UTC),
                )
            )


@pytest.fixture
def central(tmp_path: Path) -> Iterator[EmbeddedServer]:
    settings = Settings(
        data_dir=tmp_path / "central",
        clock_interval_seconds=0,
        kpi_processes=0,  # a thread; tests/api/test_dashboard.py covers the replay process
        kpi_wait_seconds=60,
    )
    server = EmbeddedServer(settings, demo_cases=0)
    server.start()
    from agent_tui.server.db import make_engine

    engine = make_engine(settings.database_url())
    add_users(engine)
    engine.dispose()
    yield server
    server.stop()


@pytest.fixture
def seat(central: EmbeddedServer, tmp_path: Path) -> Seat:
    return Seat(central.url, "agent01", PASSWORD, tmp_path / "seat")


@pytest.fixture
def central_store(central: EmbeddedServer) -> Store:
    from agent_tui.server.db import make_engine

    return Store(make_engine(central.settings.database_url()), central.settings)
