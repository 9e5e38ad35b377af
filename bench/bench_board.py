"""The shift lead's board refreshed against a big central store: fetch + render, as the lead
sees it.

Usage: ``python bench/bench_board.py --db-url sqlite:////tmp/lead-1m/sqlite/central.db
[--refreshes 60]`` on a store made by ``bench/bench_lead.py`` (1,000,000 cases), or any store.

The central store runs as ``agent-tui serve`` in its own process (one worker) on that database;
the board is the real Textual app (``make_app(..., start="board")``, headless, 120×36) logged
in as a lead over HTTP. Each refresh is timed in three parts: *fetch* (``GET
/api/reports/dashboard`` over HTTP and parsing it into the wire model, ``BoardScreen.fetch_ms``),
*update* (``BoardScreen.show``: every table, the chart and the texts, ``render_ms``) and *paint*
(from the end of the update to the first frame the compositor hands to the driver after it:
layout and rendering of the changed widgets; headless, so the terminal's own drawing is not in
it), and as their sum.
The first refresh (cold caches on both sides) is reported apart.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from percentiles import percentile
from textual.worker import WorkerCancelled

from agent_tui.app import make_app
from agent_tui.client.seat import Seat
from agent_tui.config import Settings
from agent_tui.domain.case import Role
from agent_tui.screens.board import BoardScreen
from agent_tui.server.auth import Accounts
from agent_tui.server.db import make_engine
from agent_tui.server.embedded import ServerProcess

RESULTS = Path(__file__).parent / "results" / "board.json"
LEAD, PASSWORD = "benchlead", "Tianzhong-Bench-2026"


def ensure_lead(db_url: str) -> None:
    from datetime import timedelta

    engine = make_engine(db_url)
    accounts = Accounts(engine, token_ttl=timedelta(hours=12))
    with contextlib.suppress(Exception):  # already there from an earlier run
        accounts.add_user(LEAD, "值班长", Role.LEAD, PASSWORD, now=datetime.now(UTC))
    engine.dispose()


async def quiet(frames: list[float], still: float = 0.15, limit: float = 3.0) -> None:
    """Until no frame has come for ``still`` seconds (the refresh is on screen)."""
    ends = time.perf_counter() + limit
    while time.perf_counter() < ends:
        last = frames[-1] if frames else 0.0
        await asyncio.sleep(still)
        if (frames[-1] if frames else 0.0) == last:
            return


async def measure(url: str, refreshes: int, work: Path) -> dict[str, Any]:
    seat = Seat(url, LEAD, PASSWORD, work / "seat")
    await seat.api.login()
    app = make_app(Settings(data_dir=work / "ui"), seat, start="board")
    rows: list[dict[str, float]] = []
    frames: list[float] = []
    async with app.run_test(size=(120, 36)):
        display = app._display

        def timed_display(screen: Any, renderable: Any) -> None:
            frames.append(time.perf_counter())
            display(screen, renderable)

        app._display = timed_display  # type: ignore[method-assign]
        board = app.screen
        assert isinstance(board, BoardScreen)
        await asyncio.sleep(3)  # the seat's start-up (bootstrap, first refresh) is over
        ready = time.monotonic() + 120
        while (board.data is None or board.data.kpis_pending) and time.monotonic() < ready:
            await asyncio.sleep(1)  # the tiles' first replays (seconds at 1M cases)
        while len(rows) < refreshes + 1:
            started = time.perf_counter()
            worker = board.action_reload()
            try:
                await worker.wait()
            except WorkerCancelled:
                continue  # a refresh the feed asked for replaced this one: again
            await quiet(frames)
            # The first frame after the update carries it (Textual composes what changed in one
            # frame; later ones are the clock and the cursor).
            painted = min([f for f in frames if f >= board.shown_at], default=board.shown_at)
            paint = (painted - board.shown_at) * 1000
            rows.append(
                {
                    "fetch": board.fetch_ms,
                    "update": board.render_ms,
                    "paint": paint,
                    "total": board.fetch_ms + board.render_ms + paint,
                    "wall": (painted - started) * 1000,
                }
            )
        data = board.data
    await seat.stop()
    first, rest = rows[0], rows[1:]
    summary: dict[str, Any] = {"first": first, "refreshes": len(rest)}
    for key in ("fetch", "update", "paint", "total", "wall"):
        values = [r[key] for r in rest]
        summary[key] = {
            "p50": statistics.median(values),
            "p99": percentile(values, 99),
            "max": max(values),
        }
    if data is not None:
        summary["open_total"] = data.open_total
        summary["overdue"] = data.overdue
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db-url", required=True)
    parser.add_argument("--refreshes", type=int, default=60)
    args = parser.parse_args()
    ensure_lead(args.db_url)
    work = Path(tempfile.mkdtemp(prefix="bench-board-"))
    server = ServerProcess(args.db_url, work)
    server.start(timeout=120)
    try:
        result = asyncio.run(measure(server.url, args.refreshes, work))
    finally:
        server.stop()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(f"board refresh over {result['refreshes']} refreshes (first apart), ms")
    print("| part | first | p50 | p99 | max |\n|---|---|---|---|---|")
    for key in ("fetch", "update", "paint", "total", "wall"):
        r = result[key]
        first = result["first"][key]
        print(f"| {key} | {first:.1f} | {r['p50']:.1f} | {r['p99']:.1f} | {r['max']:.1f} |")
    print(f"\nopen {result.get('open_total')}, overdue {result.get('overdue')}; wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
