"""Real concurrency against a real server (uvicorn on a free port), on SQLite and PostgreSQL.

The TestClient runs one request at a time; here ``httpx.AsyncClient`` fires requests at the same
moment and the server's thread pool runs them in parallel against the database.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlmodel import Session, col, func, select

from agent_tui.server.models import CaseRow, EventRow
from tests.api.helpers import case_body, issue_tokens

PARALLEL_CREATES = 20
PARALLEL_RETRIES = 10


@pytest.fixture
def server(app: FastAPI) -> Iterator[str]:
    """The app served by uvicorn in a background thread; yields its base URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def tokens(app: FastAPI) -> dict[str, str]:
    return issue_tokens(app)


def auth(tokens: dict[str, str], user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[user]}"}


def count(app: FastAPI, model: Any, *where: Any) -> int:
    with Session(app.state.store.engine) as session:
        return int(session.exec(select(func.count()).select_from(model).where(*where)).one())


async def create(base: str, tokens: dict[str, str]) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, headers=auth(tokens, "agent01")) as c:
        r = await c.post("/api/cases", json=case_body())
        assert r.status_code == 201, r.text
        return r.json()  # type: ignore[no-any-return]


async def test_one_create_sent_twenty_times_at_once_makes_one_case(
    app: FastAPI, server: str, tokens: dict[str, str]
) -> None:
    body = case_body()
    async with httpx.AsyncClient(base_url=server, headers=auth(tokens, "agent01")) as c:
        answers = await asyncio.gather(
            *(c.post("/api/cases", json=body) for _ in range(PARALLEL_CREATES))
        )
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [200] * (PARALLEL_CREATES - 1) + [201], [r.text for r in answers]
    assert len({r.json()["number"] for r in answers}) == 1
    assert {r.json()["uuid"] for r in answers} == {body["uuid"]}
    assert count(app, CaseRow) == 1
    assert count(app, EventRow) == 1


async def test_two_users_stepping_on_one_version_at_once_lose_no_update(
    app: FastAPI, server: str, tokens: dict[str, str]
) -> None:
    case = await create(server, tokens)

    async with (
        httpx.AsyncClient(base_url=server, headers=auth(tokens, "agent01")) as a,
        httpx.AsyncClient(base_url=server, headers=auth(tokens, "agent02")) as b,
    ):
        url = f"/api/cases/{case['uuid']}/dispatch"
        answers = await asyncio.gather(
            a.post(url, json={"command_id": str(uuid.uuid4()), "version": 1, "department": "CGJ"}),
            b.post(url, json={"command_id": str(uuid.uuid4()), "version": 1, "department": "GAJ"}),
        )
        after = (await a.get(f"/api/cases/{case['uuid']}")).json()
    assert sorted(r.status_code for r in answers) == [200, 409], [r.text for r in answers]
    won = next(r for r in answers if r.status_code == 200).json()
    lost = next(r for r in answers if r.status_code == 409).json()
    assert lost["code"] == "version_conflict" and lost["case"]["version"] == 2, lost
    assert after["version"] == 2 == won["version"]
    assert after["department"] == won["department"]
    assert [e["step"] for e in after["events"]] == ["register", "dispatch"]


async def test_two_leads_supervising_one_version_at_once_conflict(
    app: FastAPI, server: str, tokens: dict[str, str]
) -> None:
    case = await create(server, tokens)
    async with httpx.AsyncClient(base_url=server, headers=auth(tokens, "lead01")) as c:
        answers = await asyncio.gather(
            *(
                c.post(
                    f"/api/cases/{case['uuid']}/remind",
                    json={"command_id": str(uuid.uuid4()), "version": 1},
                )
                for _ in range(2)
            )
        )
    assert sorted(r.status_code for r in answers) == [200, 409]
    assert next(r for r in answers if r.status_code == 409).json()["code"] == "version_conflict"
    assert count(app, EventRow, col(EventRow.case_uuid) == case["uuid"]) == 2


async def test_one_step_retried_ten_times_at_once_is_taken_once(
    app: FastAPI, server: str, tokens: dict[str, str]
) -> None:
    case = await create(server, tokens)
    body = {"command_id": str(uuid.uuid4()), "version": 1, "department": "CGJ"}
    async with httpx.AsyncClient(base_url=server, headers=auth(tokens, "agent01")) as c:
        answers = await asyncio.gather(
            *(
                c.post(f"/api/cases/{case['uuid']}/dispatch", json=body)
                for _ in range(PARALLEL_RETRIES)
            )
        )
        after = (await c.get(f"/api/cases/{case['uuid']}")).json()
    assert [r.status_code for r in answers] == [200] * PARALLEL_RETRIES, [r.text for r in answers]
    assert len({r.content for r in answers}) == 1
    assert answers[0].json()["version"] == after["version"] == 2
    assert [e["step"] for e in after["events"]] == ["register", "dispatch"]
