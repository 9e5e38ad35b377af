"""The demo's store on its fixed port: terminals started at once agree on one store, a later
one joins it, a login waits while it seeds, and a seat finds it again after it restarts."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent_tui.client.session import open_seat
from agent_tui.config import Settings
from agent_tui.server.embedded import DemoStore, StoreProbe, free_port

from .conftest import AGENT_TUI, make_seat
from .test_sync import case_body, drain, server_case_uuids


class Demo:
    """``agent-tui demo --store-only`` processes on one data dir and one port."""

    def __init__(self, tmp_path: Path) -> None:
        self.port = free_port()
        self.data_dir = tmp_path / "home"
        self.env = {
            **os.environ,
            "AGENT_TUI_DATA_DIR": str(self.data_dir),
            "AGENT_TUI_DEMO_PORT": str(self.port),
            "AGENT_TUI_CLOCK_INTERVAL_SECONDS": "0",
        }
        self.procs: list[subprocess.Popen[str]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, cases: int = 60) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [str(AGENT_TUI), "demo", "--store-only", "--cases", str(cases)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.procs.append(proc)
        return proc

    def wait(self, state: str = StoreProbe.READY, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while StoreProbe.probe(self.url) != state:
            assert time.monotonic() < deadline, f"the demo store never became {state}"
            time.sleep(0.05)

    def settings(self) -> Settings:
        home = self.data_dir / "demo"
        return Settings(
            data_dir=home, db_url=f"sqlite:///{home / 'central.db'}", demo_port=self.port
        )

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(15)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    d = Demo(tmp_path)
    yield d
    d.stop_all()


def test_two_terminals_starting_the_demo_at_once_share_one_store(demo: Demo) -> None:
    """Two started in the same instant: the file lock lets one serve; the other says the store
    runs already and leaves. A third (in-process) joins instead of starting one."""
    first, second = demo.start(), demo.start()
    demo.wait()
    deadline = time.monotonic() + 60
    while first.poll() is None and second.poll() is None:
        assert time.monotonic() < deadline, "both still run: two stores?"
        time.sleep(0.1)
    left, stayed = (first, second) if first.poll() is not None else (second, first)
    assert left.returncode == 1
    assert "已在运行" in (left.stderr.read() if left.stderr else "")
    assert stayed.poll() is None
    joined = DemoStore(demo.settings(), port=demo.port).start()
    assert not joined.serving
    joined.stop()  # leaves the other's store alone
    assert StoreProbe.probe(demo.url) == StoreProbe.READY


def test_the_demo_port_taken_by_another_program_is_said(demo: Demo) -> None:
    """Something else on the port answers: no join, no second bind; a message names the
    setting."""
    import http.server
    import threading

    httpd = http.server.HTTPServer(("127.0.0.1", demo.port), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        proc = demo.start()
        assert proc.wait(60) == 2
        assert "demo_port" in (proc.stderr.read() if proc.stderr else "")
    finally:
        httpd.shutdown()


async def test_a_login_waits_while_the_demo_store_seeds(demo: Demo, tmp_path: Path) -> None:
    """The store listens at once and answers "starting" while its first run seeds: a login
    then waits for it and opens online (never offline on an empty cache, as if that were the
    queue), and the queue it sees is the seeded one."""
    demo.start(cases=3000)
    demo.wait(StoreProbe.STARTING, timeout=30)
    login = await open_seat(demo.url, "agent01", "demo1234", tmp_path / "seat")
    try:
        assert not login.offline
        page = await login.seat.api.list_cases(limit=5)
        assert len(page.items) == 5
    finally:
        await login.seat.api.aclose()


async def test_a_seat_on_the_demo_store_reconnects_after_it_restarts(
    demo: Demo, tmp_path: Path
) -> None:
    """Stop the demo's store under a running seat, save a case, start the store again (any
    terminal; same port): the seat is online again by itself and the case arrives."""
    store = demo.start()
    demo.wait()
    api, seat_store, engine = make_seat(demo.url, "agent01", tmp_path, "seat")
    engine.backoff.cap = 0.5
    running = asyncio.create_task(engine.run())
    deadline = asyncio.get_running_loop().time() + 20
    while not engine.status.online:
        assert asyncio.get_running_loop().time() < deadline, "never online"
        await asyncio.sleep(0.05)

    store.terminate()
    store.wait(15)
    while engine.status.online:
        assert asyncio.get_running_loop().time() < deadline + 20, "never saw it go"
        await asyncio.sleep(0.05)
    saved = seat_store.save_new_case(case_body(1), "agent01")

    demo.start()
    demo.wait()
    await drain(engine)
    deadline = asyncio.get_running_loop().time() + 20
    while not engine.status.online:
        assert asyncio.get_running_loop().time() < deadline, "did not reconnect"
        await asyncio.sleep(0.05)
    assert saved in await server_case_uuids(api)
    engine.stop()
    await asyncio.wait_for(running, 5)
    await api.aclose()
