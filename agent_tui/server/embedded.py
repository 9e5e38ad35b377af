"""The central store in-process, for ``agent-tui demo`` and the tests: uvicorn in a thread."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from agent_tui.config import Settings
from agent_tui.server.app import create_app
from agent_tui.server.seed import seed_database


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class EmbeddedServer:
    """A real FastAPI server on 127.0.0.1 (a free port), real HTTP, in a background thread."""

    def __init__(self, settings: Settings, *, demo_cases: int = 3000, port: int = 0) -> None:
        self.settings = settings
        self.demo_cases = demo_cases
        self.port = port or free_port()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> str:
        """Migrate, seed on first run, serve; returns a summary of what the seed did."""
        summary = seed_database(self.settings, demo=self.demo_cases > 0, cases=self.demo_cases)
        app = create_app(self.settings, run_migrations=False)
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_level="critical",
            access_log=False,
            log_config=None,  # never write to the terminal the TUI draws on
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="central-store", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"中心库未能在 {self.url} 启动")
            time.sleep(0.02)
        return summary

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)


class ServerProcess:
    """``agent-tui serve`` in a child process on 127.0.0.1: for tests and benchmarks that must
    stop, SIGKILL and restart the central store on the same database and port."""

    def __init__(self, db_url: str, data_dir: Path, port: int = 0, workers: int = 1) -> None:
        self.db_url = db_url
        self.data_dir = data_dir
        self.port = port or free_port()
        self.workers = workers
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        exe = Path(sys.executable).with_name("agent-tui")
        env = {
            **os.environ,
            "AGENT_TUI_DATA_DIR": str(self.data_dir),
            "AGENT_TUI_CLOCK_INTERVAL_SECONDS": "0",
        }
        self.proc = subprocess.Popen(
            [
                *(str(exe), "serve", "--db", self.db_url, "--port", str(self.port)),
                *("--workers", str(self.workers)),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise RuntimeError(f"中心库进程退出：{err}")
            try:
                if httpx.get(f"{self.url}/api/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"中心库未能在 {self.url} 启动")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, as a power cut or an OOM kill."""
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            self.proc = None
