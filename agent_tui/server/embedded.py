"""The central store in-process, for ``agent-tui demo`` and the tests: uvicorn in a thread.

The demo's store lives on a fixed local port (``demo_port``, 8346), so that every terminal of
the demo shares one: ``agent-tui demo``, ``seat --demo``, ``lead --demo`` and ``report`` each
join the store that answers there, or start one if none does: ``agent-tui demo --store-only``
in a child process, which serves it in a thread (``DemoStore``). A file lock in the demo's data
directory (POSIX ``flock``), held for as long as a process serves the store, makes two
terminals started at once agree on one store. The store listens at once and answers 503
"starting" while its first run seeds the demo (a login waits for it); a seat that was attached
to a store that stops finds it again when any terminal starts it anew, on the same port.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
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


class PortTaken(RuntimeError):
    """The demo's port is held by something that is not an agent-tui store."""


class StoreProbe:
    """What answers ``GET /api/health`` on a local port: a store (ready or starting), or no one."""

    READY, STARTING, NONE, OTHER = "ready", "starting", "none", "other"

    @staticmethod
    def probe(url: str, timeout: float = 1.0) -> str:
        try:
            response = httpx.get(f"{url}/api/health", timeout=timeout)
        except httpx.TransportError:
            return StoreProbe.NONE
        try:
            body = response.json()
        except ValueError:
            return StoreProbe.OTHER
        status = body.get("status") if isinstance(body, dict) else None
        if response.status_code == 200 and status == "ok":
            return StoreProbe.READY
        if response.status_code == 503 and status == "starting":
            return StoreProbe.STARTING
        return StoreProbe.OTHER


class DemoStore:
    """The demo's central store on ``127.0.0.1:port``: joined if one answers there, else
    served by this process (in a thread) until ``stop``; see the module's note.

    ``start`` returns at once once the store listens; a first run seeds the demo behind
    a 503 "starting" (``wait_ready`` waits for it)."""

    def __init__(self, settings: Settings, *, port: int, demo_cases: int = 3000) -> None:
        self.settings = settings
        self.port = port
        self.demo_cases = demo_cases
        #: True when this process serves the store (it started it); False when it joined.
        self.serving = False
        self.summary = ""
        self._lock: int | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._booting: Any = None  # boot.Booting once serving

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def lock_path(self) -> Path:
        return self.settings.data_dir / "store.lock"

    @property
    def log_path(self) -> Path:
        """Where a terminal that starts the store as a child process sends its output."""
        return self.settings.data_dir / "store.log"

    def start(self, timeout: float = 60.0) -> DemoStore:
        """Join the store on the port, or serve it here. Raises ``PortTaken`` when something
        else holds the port, ``RuntimeError`` when the store does not come up in ``timeout``."""
        deadline = time.monotonic() + timeout
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        while True:
            found = StoreProbe.probe(self.url)
            if found in (StoreProbe.READY, StoreProbe.STARTING):
                return self  # joined
            if found == StoreProbe.OTHER:
                raise PortTaken(self.taken_message())
            if self._take_lock():
                # Ours to serve, unless one came up between the probe and the lock.
                if StoreProbe.probe(self.url) in (StoreProbe.READY, StoreProbe.STARTING):
                    self._release_lock()
                    return self
                self._serve()
                return self
            # Another process holds the lock: it is starting the store; wait for it to answer.
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"演示中心库未能在 {self.url} 启动（另一个进程持有 {self.lock_path}）"
                )
            time.sleep(0.1)

    def _take_lock(self) -> bool:
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                return False
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock = fd
        return True

    def _release_lock(self) -> None:
        if self._lock is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._lock, fcntl.LOCK_UN)
            os.close(self._lock)
            self._lock = None

    def taken_message(self) -> str:
        return (
            f"演示中心库的端口 {self.port} 已被其他程序占用：请用 AGENT_TUI_DEMO_PORT 或配置项 "
            f"demo_port 换一个端口 / port {self.port} is taken by another program: set demo_port"
        )

    def _make(self) -> object:
        self.summary = seed_database(self.settings, demo=self.demo_cases > 0, cases=self.demo_cases)
        return create_app(self.settings, run_migrations=False)

    def _serve(self) -> None:
        from agent_tui.server.boot import Booting

        self._booting = Booting(self._make, stop=self._stop_server)
        config = uvicorn.Config(
            self._booting,
            host="127.0.0.1",
            port=self.port,
            log_level="critical",
            access_log=False,
            log_config=None,  # never write to the terminal the TUI draws on
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="demo-store", daemon=True)
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                self._release_lock()
                raise PortTaken(self.taken_message())
            time.sleep(0.02)
        self.serving = True

    def _stop_server(self) -> None:
        if self._server is not None:
            self._server.should_exit = True

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Until the store answers ready (a first run's seed done); ``RuntimeError`` if not."""
        deadline = time.monotonic() + timeout
        while (found := StoreProbe.probe(self.url)) != StoreProbe.READY:
            failed = self._booting is not None and self._booting.error
            if failed or found == StoreProbe.OTHER or time.monotonic() > deadline:
                why = self._booting.error if self._booting is not None else found
                raise RuntimeError(f"演示中心库未能在 {self.url} 启动：{why}")
            time.sleep(0.1)

    def run_forever(self) -> None:
        """Serve until interrupted (``demo --store-only``)."""
        try:
            while self._thread is not None and self._thread.is_alive():
                self._thread.join(0.5)
        except KeyboardInterrupt:
            pass

    def stop(self) -> None:
        """Stop serving (if this process serves the store) and let another take it over."""
        self._stop_server()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._release_lock()
        self.serving = False


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
