"""The store under a real uvicorn: what only a real server shows (issue 14).

- a chunked body over the limit is refused before the route runs: nothing is written
  (finding 7: the case was committed, then answered 413);
- a refused request leaves the keep-alive connection usable (finding 5: a 500 reset it).
"""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from agent_tui.domain.lifecycle import Step
from tests.api.helpers import case_body, good_body, issue_tokens, url
from tests.api.live import served


@pytest.fixture
def base(app: FastAPI) -> Iterator[str]:
    with served(app) as base_url:
        yield base_url


@pytest.fixture
def agent(app: FastAPI, base: str) -> Iterator[httpx.Client]:
    token = issue_tokens(app)["agent01"]
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


def chunks(text: str) -> Iterator[bytes]:
    data = text.encode()
    for i in range(0, len(data), 16384):
        yield data[i : i + 16384]


def test_a_chunked_body_over_the_limit_writes_nothing(agent: httpx.Client) -> None:
    body = case_body()
    headers = {"content-type": "application/json"}
    # Valid JSON, then 300 KB of spaces: still valid JSON, but over the 256 KB limit.
    r = agent.post("/api/cases", content=chunks(json.dumps(body) + " " * 300_000), headers=headers)
    assert r.status_code == 413, r.text
    assert r.json()["code"] == "too_large"
    assert agent.get(f"/api/cases/{body['uuid']}").status_code == 404

    created = agent.post("/api/cases", json=case_body())
    assert created.status_code == 201, created.text
    case: dict[str, Any] = created.json()
    step = json.dumps(good_body(Step.DISPATCH, case)) + " " * 300_000
    r = agent.post(url(case, Step.DISPATCH), content=chunks(step), headers=headers)
    assert r.status_code == 413, r.text
    assert agent.get(f"/api/cases/{case['uuid']}").json()["version"] == case["version"]


def test_a_refused_cursor_keeps_the_connection(agent: httpx.Client) -> None:
    for raw in (b"[Infinity]", b"[18446744073709551616]", b'["2020-01-01", 1]'):
        cursor = base64.urlsafe_b64encode(raw).decode()
        r = agent.get("/api/cases", params={"cursor": cursor, "order": "deadline"})
        assert r.status_code == 422, r.text
        r = agent.get("/api/cases")
        assert r.status_code == 200, r.text


def _read_response(sock: socket.socket) -> tuple[int, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(
        next(
            line.split(b":", 1)[1]
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )
    )
    while len(body) < length:
        body += sock.recv(65536)
    return int(head.split(b" ", 2)[1]), body


def test_an_unexpected_error_is_a_json_500_that_keeps_the_connection(
    app: FastAPI, base: str, caplog: pytest.LogCaptureFixture
) -> None:
    """No handler knows the error: it is logged, answered in the error shape, and the same
    keep-alive connection serves the next request (an exception leaving the app reset it)."""
    reads = app.state.store.reads
    real = reads.list_cases

    def boom(*args: Any, **kw: Any) -> Any:
        if kw.get("limit", args[3] if len(args) > 3 else 50) == 7:
            raise RuntimeError("boom")
        return real(*args, **kw)

    reads.list_cases = boom
    token = issue_tokens(app)["agent01"]
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        for limit, expected in ((7, 500), (5, 200), (7, 500), (5, 200)):
            sock.sendall(
                f"GET /api/cases?limit={limit} HTTP/1.1\r\nHost: x\r\n"
                f"Authorization: Bearer {token}\r\n\r\n".encode()
            )
            status, body = _read_response(sock)
            assert status == expected, body
            if status == 500:
                answer = json.loads(body)
                assert answer["code"] == "internal" and "服务器内部错误" in answer["message"]
    assert "boom" in caplog.text
