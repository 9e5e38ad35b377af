"""The lead's board, live: how long from a change on the store to the board showing it.

    python bench/bench_board_live.py                      # SQLite
    python bench/bench_board_live.py --engines sqlite,postgres

For each engine: a real central store (``agent-tui serve`` in a child process, reference data
seeded, no demo cases), the real lead terminal (``make_app(..., start="board")``) under Pilot in
this process, and a writer thread that creates dispatched cases over HTTP as agents' seats would:

* *trickle*: one case at a time with random gaps of 0.1–1.5 s (the board mostly idle, each
  change on its own);
* *burst*: cases back to back as fast as the store answers (many changes while a refresh is in
  flight).

A case's latency runs from the store's answer to its create (the change is committed and in the
feed) to the end of the board's ``show`` of a dashboard whose ``open_total`` counts it (the
tables are filled; the frame follows within one screen tick). Target (issue 13): p99 ≤ 2 s.

Writes ``bench/results/board_live.json`` and prints a markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from bench_lead import database
from percentiles import percentile

RESULTS = Path(__file__).resolve().parent / "results" / "board_live.json"
PASSWORD = "bench1234"
ROAD = {"county": "驿城区", "road": "金山路"}
SIZE = (140, 40)


def prepare(url: str, data: Path) -> Any:
    from sqlmodel import Session

    from agent_tui.config import Settings
    from agent_tui.domain.case import Role
    from agent_tui.server.auth import hash_password
    from agent_tui.server.db import make_engine
    from agent_tui.server.embedded import ServerProcess
    from agent_tui.server.models import UserRow
    from agent_tui.server.seed import seed_database

    settings = Settings(data_dir=data, db_url=url, clock_interval_seconds=0)
    seed_database(settings, demo=False)
    engine = make_engine(url)
    h = hash_password(PASSWORD)
    with Session(engine) as session, session.begin():
        for user_id, role in (("agent01", Role.AGENT), ("lead01", Role.LEAD)):
            session.add(
                UserRow(
                    user_id=user_id,
                    name=user_id,
                    role=role,
                    password_hash=h,
                    created_at=datetime.now(UTC),
                )
            )
    engine.dispose()
    server = ServerProcess(url, data)
    server.start()
    return server


class Writer:
    """Creates dispatched cases over HTTP; stamps the store's answer to each."""

    def __init__(self, url: str) -> None:
        self.client = httpx.Client(base_url=url, timeout=30)
        r = self.client.post("/api/auth/login", json={"user_id": "agent01", "password": PASSWORD})
        r.raise_for_status()
        self.client.headers["Authorization"] = f"Bearer {r.json()['token']}"
        self.acked: list[float] = []

    def create(self) -> None:
        body = {
            "uuid": str(uuid.uuid4()),
            "appeal_type": "complaint",
            "content": "金山路与骏达路交叉口北侧商铺占道经营",
            "caller_phone": "13912345678",
            "category": "0101",
            "address": ROAD,
        }
        r = self.client.post("/api/cases", json=body)
        r.raise_for_status()
        case = r.json()
        r = self.client.post(
            f"/api/cases/{case['uuid']}/dispatch",
            json={"command_id": str(uuid.uuid4()), "version": case["version"], "department": "CGJ"},
        )
        r.raise_for_status()
        self.acked.append(time.perf_counter())

    def run(self, count: int, gaps: tuple[float, float] | None, rng: random.Random) -> None:
        for _ in range(count):
            if gaps:
                time.sleep(rng.uniform(*gaps))
            self.create()


async def phase(
    board: Any, shown: list[tuple[float, int]], writer: Writer, name: str, count: int, gaps: Any
) -> dict[str, Any]:
    base = len(writer.acked)
    open_before = board.data.open_total
    rng = random.Random(13)
    thread = threading.Thread(target=writer.run, args=(count, gaps, rng), daemon=True)
    thread.start()
    deadline = time.monotonic() + count * 3 + 60
    while (thread.is_alive() or shown[-1][1] < open_before + count) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    latencies = []
    for k in range(count):
        acked = writer.acked[base + k]
        want = open_before + k + 1
        at = next((t for t, n in shown if n >= want and t >= acked), None)
        if at is None:
            raise RuntimeError(f"{name}: case {k + 1} never reached the board")
        latencies.append((at - acked) * 1000)
    latencies.sort()
    return {
        "phase": name,
        "cases": count,
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "p99_ms": percentile(latencies, 99),
        "max_ms": latencies[-1],
        "board_fetches": sum(1 for t, _ in shown if t >= writer.acked[base]),
    }


async def run_engine(url: str, work: Path, count: int) -> list[dict[str, Any]]:
    from agent_tui.app import make_app
    from agent_tui.client.seat import Seat
    from agent_tui.config import Settings
    from agent_tui.screens.board import BoardScreen

    server = prepare(url, work / "central")
    try:
        writer = Writer(server.url)
        seat = Seat(server.url, "lead01", PASSWORD, work / "lead")
        await seat.api.login()
        app = make_app(Settings(data_dir=work / "ui"), seat, start="board")
        shown: list[tuple[float, int]] = []
        show = BoardScreen.show

        def stamped(self: BoardScreen, d: Any) -> None:
            show(self, d)
            shown.append((time.perf_counter(), d.open_total))

        BoardScreen.show = stamped  # type: ignore[method-assign]
        try:
            async with app.run_test(size=SIZE) as pilot:
                board = app.screen
                assert isinstance(board, BoardScreen)
                while board.data is None:
                    await asyncio.sleep(0.05)
                out = [
                    await phase(board, shown, writer, "trickle", count, (0.1, 1.5)),
                    await phase(board, shown, writer, "burst", count, None),
                ]
                await pilot.press("ctrl+q")
            out.append({"phase": "quit", "return_code": app.return_code})
        finally:
            BoardScreen.show = show  # type: ignore[method-assign]
        writer.client.close()
        return out
    finally:
        server.stop()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--engines", default="sqlite", help="sqlite,postgres")
    p.add_argument("--cases", type=int, default=200, help="cases per phase")
    p.add_argument("--out", type=Path, default=RESULTS)
    args = p.parse_args()
    results: dict[str, Any] = {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "loadavg_start": list(os.getloadavg()),
        "engines": {},
    }
    for name in [e.strip() for e in args.engines.split(",") if e.strip()]:
        work = Path(tempfile.mkdtemp(prefix=f"bench-board-live-{name}-"))
        try:
            with database(name, work) as url:
                results["engines"][name] = asyncio.run(run_engine(url, work, args.cases))
        finally:
            shutil.rmtree(work, ignore_errors=True)
    results["loadavg_end"] = list(os.getloadavg())
    print("| engine | phase | cases | p50 ms | p95 ms | p99 ms | max ms | board fetches |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for name, rows in results["engines"].items():
        for r in rows:
            if r["phase"] == "quit":
                print(f"| {name} | quit | | exit code {r['return_code']} | | | | |")
                continue
            print(
                f"| {name} | {r['phase']} | {r['cases']} | {r['p50_ms']:.0f} | {r['p95_ms']:.0f}"
                f" | {r['p99_ms']:.0f} | {r['max_ms']:.0f} | {r['board_fetches']} |"
            )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
