"""SQLite: a write waiting for the database's lock holds up nothing else (issue 14, finding 6).

Another process holding ``BEGIN IMMEDIATE`` (a backup, the CLI, a stuck tool) once froze the
whole store: writes ran on the event loop and waited SQLite's 30 s busy timeout, so ``/health``
timed out and a cached-token ``/auth/me`` took 9.6 s. Now writes wait on a write thread, for
``write_wait_seconds`` at most, and are then refused with 503 and Retry-After (nothing
written; the seat sends them again); everything else answers meanwhile.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from agent_tui.config import Settings
from tests.api.helpers import case_body, issue_tokens
from tests.api.live import served

WAIT = 1.5


@pytest.fixture
def db_url(tmp_path: Path) -> str:  # SQLite only: PostgreSQL has no database-wide write lock
    from agent_tui.server.db import migrate

    url = f"sqlite:///{tmp_path / 'central.db'}"
    migrate(url)
    return url


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"write_wait_seconds": WAIT})


@pytest.fixture
def base(app: FastAPI) -> Iterator[str]:
    with served(app) as url:
        yield url


@pytest.fixture
def tokens(app: FastAPI) -> dict[str, str]:
    return issue_tokens(app)


@pytest.fixture
def locked(db_url: str, tokens: dict[str, str]) -> Iterator[sqlite3.Connection]:
    """Another connection holding SQLite's write lock (as another process would)."""
    other = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield other
    finally:
        if other.in_transaction:
            other.execute("ROLLBACK")
        other.close()


async def timed(
    client: httpx.AsyncClient, method: str, path: str, **kw: object
) -> tuple[float, httpx.Response]:
    start = time.monotonic()
    r = await client.request(method, path, **kw)  # type: ignore[arg-type]
    return time.monotonic() - start, r


def test_reads_answer_at_once_while_a_write_waits_and_the_write_is_refused_in_time(
    tokens: dict[str, str], base: str, locked: sqlite3.Connection
) -> None:
    agent = {"Authorization": f"Bearer {tokens['agent01']}"}
    lead = {"Authorization": f"Bearer {tokens['lead01']}"}

    async def scenario() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            await client.get("/api/auth/me", headers=agent)  # the token is cached now
            body = case_body()
            create = asyncio.create_task(
                timed(client, "POST", "/api/cases", json=body, headers=agent)
            )
            beat = asyncio.create_task(
                timed(client, "POST", "/api/seats/heartbeat", json={"seat_id": "s1"}, headers=agent)
            )
            await asyncio.sleep(0.2)  # the create is waiting for the lock now
            for path, headers in (
                ("/api/health", {}),
                ("/api/auth/me", agent),
                ("/api/auth/me", lead),  # not cached: a query
                ("/api/cases", agent),
                ("/api/changes?after=0", agent),
            ):
                took, r = await timed(client, "GET", path, headers=headers)
                assert r.status_code == 200, (path, r.text)
                assert took < 0.5, (path, took)
            took, r = await create
            assert r.status_code == 503, r.text
            assert r.headers["retry-after"]
            assert r.json()["code"] in ("busy", "unavailable") and "稍后重试" in r.json()["message"]
            assert WAIT * 0.8 < took < WAIT + 1.5, took
            took, r = await beat
            assert r.status_code == 503, r.text
            locked.execute("ROLLBACK")  # the lock goes: the seat's retry is written
            r = await client.post("/api/cases", json=body, headers=agent)
            assert r.status_code == 201, r.text

    asyncio.run(scenario())


def test_a_write_waiting_for_the_lock_is_written_once_the_lock_goes(
    tokens: dict[str, str], base: str, locked: sqlite3.Connection
) -> None:
    agent = {"Authorization": f"Bearer {tokens['agent01']}"}

    async def scenario() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            body = case_body()
            create = asyncio.create_task(
                timed(client, "POST", "/api/cases", json=body, headers=agent)
            )
            await asyncio.sleep(WAIT / 3)
            locked.execute("ROLLBACK")
            took, r = await create
            assert r.status_code == 201, r.text
            assert took < WAIT, took

    asyncio.run(scenario())
