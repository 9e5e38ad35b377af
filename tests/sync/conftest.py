"""Seats against a real central store on loopback: ``agent-tui serve`` in a subprocess
(``ServerProcess``) that the tests can stop, SIGKILL and restart on the same database and port."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session

from agent_tui.client.api import ApiClient
from agent_tui.client.store import SeatStore
from agent_tui.client.sync import Backoff, SyncEngine
from agent_tui.domain.case import Role
from agent_tui.server.auth import hash_password
from agent_tui.server.db import make_engine, migrate
from agent_tui.server.embedded import ServerProcess
from agent_tui.server.models import UserRow

PASSWORD = "demo1234"
AGENT_TUI = Path(sys.executable).with_name("agent-tui")


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'central.db'}"
    migrate(url)
    engine = make_engine(url)
    password_hash = hash_password(PASSWORD)
    now = datetime.now(UTC)
    with Session(engine) as session, session.begin():
        for user_id, role in (
            ("agent01", Role.AGENT),
            ("agent02", Role.AGENT),
            ("lead01", Role.LEAD),
            ("admin", Role.ADMIN),
        ):
            session.add(
                UserRow(
                    user_id=user_id,
                    name=user_id,
                    role=role,
                    password_hash=password_hash,
                    created_at=now,
                )
            )
    engine.dispose()
    return url


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Iterator[ServerProcess]:
    proc = ServerProcess(db_url, tmp_path / "server")
    yield proc
    proc.stop()


def make_seat(
    url: str, user: str, tmp_path: Path, name: str
) -> tuple[ApiClient, SeatStore, SyncEngine]:
    api = ApiClient(url, user, PASSWORD, timeout=httpx.Timeout(5.0, connect=1.0))
    store = SeatStore(tmp_path / f"{name}.db")
    # Fast, deterministic backoff for tests.
    engine = SyncEngine(
        api, store, seat_id=name, poll_wait=2.0, backoff=Backoff(base=0.05, cap=0.3)
    )
    return api, store, engine
