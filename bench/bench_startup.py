"""How long a SQLite store takes to answer after a SIGKILL (issue 14, finding 13).

    python bench/bench_startup.py                          # 50,000 cases, 15 s of load, 3 runs
    python bench/bench_startup.py --cases 300000 --load-seconds 20 --runs 3

A store with N bulk-loaded cases (``bench_server.prepare``) is served by a real ``agent-tui
serve`` (the interpreter's own, with its settings from the environment); creates (8
connections) and five feed streams run against it for ``--load-seconds``; then the server is
SIGKILLed (its write-ahead log as the load left it) and started again on the same database.
Reported per start: the first HTTP answer to ``GET /api/health`` (any status: 503 "starting"
counts) and the first 200 (the store ready), from the process's start; and the store's own
start-up log lines (database checked, app made, ready). To compare with an older tree, run it
with that tree on ``PYTHONPATH`` on a database migrated to that tree's head.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from bench_server import create_bodies, free_port, login, prepare
from server_data import utcnow
from server_load import build_request, closed_loop

AGENT_TUI = Path(sys.executable).with_name("agent-tui")


def start(url: str, work: Path, port: int, log: IO[bytes]) -> tuple[Any, float, float]:
    """Start ``agent-tui serve``; (process, first answer s, ready s) from the process's start."""
    env = {**os.environ, "AGENT_TUI_DATA_DIR": str(work / "data")}
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [str(AGENT_TUI), "serve", "--db", url, "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    first = None
    while time.monotonic() - t0 < 120:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited ({proc.returncode}); see {log.name}")
        try:
            r = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2)
        except httpx.HTTPError:
            time.sleep(0.02)
            continue
        if first is None:
            first = time.monotonic() - t0
        if r.status_code == 200:
            return proc, first, time.monotonic() - t0
        time.sleep(0.02)
    raise RuntimeError("the store was not ready within 120 s")


async def load(port: int, seconds: float) -> int:
    token = await login(port, "bench_agent")
    bodies = create_bodies()

    async def stream() -> None:
        headers = {"Authorization": f"Bearer {token}"}
        async with (
            httpx.AsyncClient(timeout=None) as client,
            client.stream(
                "GET", f"http://127.0.0.1:{port}/api/changes/stream?after=0", headers=headers
            ) as r,
        ):
            async for _ in r.aiter_lines():
                pass

    streams = [asyncio.create_task(stream()) for _ in range(5)]
    result = await closed_loop(
        port,
        lambda i: build_request("POST", "/api/cases", token, bodies(i)),
        conns=8,
        duration=seconds,
        max_requests=10**7,
    )
    for task in streams:
        task.cancel()
    return result.requests


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", type=int, default=50_000)
    p.add_argument("--load-seconds", type=float, default=15)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--db", type=Path, help="a prepared database dir to copy (else made)")
    args = p.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    try:
        source = args.db
        if source is None:
            source = root / "source"
            source.mkdir()
            engine, _ = prepare(f"sqlite:///{source / 'central.db'}", source, args.cases, utcnow())
            engine.dispose()
        for run in range(1, args.runs + 1):
            work = root / f"run{run}"
            shutil.copytree(source, work)
            url = f"sqlite:///{work / 'central.db'}"
            port = free_port()
            with (work / "first.log").open("wb") as log:
                proc, first, ready = start(url, work, port, log)
            print(f"run {run}: cold start: first answer {first:.2f} s, ready {ready:.2f} s")
            creates = asyncio.run(load(port, args.load_seconds))
            wal = work / "central.db-wal"
            size = wal.stat().st_size / 1e6 if wal.exists() else 0.0
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            with (work / "restart.log").open("wb") as log:
                proc, first, ready = start(url, work, port, log)
            proc.terminate()
            proc.wait()
            print(
                f"run {run}: {creates} creates, WAL {size:.1f} MB at SIGKILL; restart: "
                f"first answer {first:.2f} s, ready {ready:.2f} s"
            )
            for line in (work / "restart.log").read_text().splitlines():
                if "store:" in line:
                    print("   ", line.split("agent_tui.server: ", 1)[-1])
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
