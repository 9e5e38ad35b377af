"""The store answers from its first moment (issue 14, finding 13): a SQLite store restarted
after SIGKILL took ≈ 21 s before ``/health`` answered. Now the server listens at once and
answers 503 "starting" (with Retry-After) while the store is made (migrations, which recover
SQLite's log, imports, ``create_app``); then the store itself answers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from agent_tui.config import Settings
from agent_tui.server.boot import Booting
from agent_tui.server.db import migrate
from tests.api.helpers import case_body, issue_tokens
from tests.api.live import served

AGENT_TUI = Path(sys.executable).with_name("agent-tui")


@pytest.fixture
def db_url(tmp_path: Path) -> str:  # start-up is the same on both engines
    url = f"sqlite:///{tmp_path / 'central.db'}"
    migrate(url)
    return url


def test_starting_is_said_at_once_and_the_store_answers_once_made(
    app: FastAPI, settings: Settings
) -> None:
    release = threading.Event()

    def make() -> Any:
        assert release.wait(30)
        return app

    tokens = issue_tokens(app)
    headers = {"Authorization": f"Bearer {tokens['agent01']}"}
    with served(Booting(make)) as base, httpx.Client(base_url=base, timeout=5) as client:
        for method, path in (("GET", "/api/health"), ("POST", "/api/cases"), ("GET", "/x")):
            r = client.request(method, path, headers=headers, json=case_body())
            assert r.status_code == 503, r.text
            assert r.headers["retry-after"] == "1"
            body = r.json()
            assert body["status"] == "starting" and body["code"] == "starting"
            assert "正在启动" in body["message"]
        release.set()
        deadline = time.monotonic() + 10
        while (r := client.get("/api/health")).status_code != 200:
            assert time.monotonic() < deadline, r.text
            time.sleep(0.05)
        assert r.json()["status"] == "ok"
        assert client.post("/api/cases", json=case_body(), headers=headers).status_code == 201
        # The store's own lifespan ran: a long-poll is woken by the write.
        r = client.get("/api/changes", params={"after": 0, "wait": 1}, headers=headers)
        assert r.status_code == 200 and r.json()["changes"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(db_url: str, data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "AGENT_TUI_DATA_DIR": str(data_dir),
        "AGENT_TUI_CLOCK_INTERVAL_SECONDS": "0",
    }
    return subprocess.Popen(
        [str(AGENT_TUI), "serve", "--db", db_url, "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def first_answer_and_ready(proc: subprocess.Popen[bytes], port: int) -> tuple[float, float]:
    started = time.monotonic()
    first = None
    while time.monotonic() - started < 60:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        try:
            r = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2)
        except httpx.TransportError:
            time.sleep(0.02)
            continue
        if first is None:
            first = time.monotonic() - started
        if r.status_code == 200:
            return first, time.monotonic() - started
        assert r.status_code == 503 and r.json()["status"] == "starting", r.text
        time.sleep(0.02)
    raise AssertionError("the store did not become ready within 60 s")


def test_a_store_restarted_after_sigkill_answers_within_seconds(
    db_url: str, tmp_path: Path
) -> None:
    port = free_port()
    proc = start(db_url, tmp_path / "data", port)
    try:
        first_answer_and_ready(proc, port)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        proc = start(db_url, tmp_path / "data", port)
        first, ready = first_answer_and_ready(proc, port)
        print(f"after SIGKILL: first answer {first:.2f} s, ready {ready:.2f} s")
        assert first < 5, first  # ≈ 0.6 s on a quiet machine: Python, the CLI, uvicorn
    finally:
        proc.terminate()
        proc.wait(10)


def test_a_store_that_cannot_start_says_so_and_exits(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    proc = start(f"sqlite:///{blocker / 'central.db'}", tmp_path / "data", free_port())
    try:
        assert proc.wait(60) == 1
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.stderr is not None
    err = proc.stderr.read().decode()
    assert "中心库未能启动" in err, err[-2000:]
