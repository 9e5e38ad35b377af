"""100 simulated seats against one central store: save-to-visible latency and outbox drain.

Usage: ``python bench/bench_seats.py [--seats 100] [--seconds 120] [--quick] [--long-poll]``

Seats read the change feed as a stream (``/api/changes/stream``, the default) or, with
``--long-poll``, by long-polling ``/api/changes`` (one request per change per seat).

Each seat is the real seat stack (``SeatStore`` on its own SQLite file, ``SyncEngine`` with
its own ``ApiClient``) in this process; the central store is ``agent-tui serve`` (SQLite,
one worker) in a subprocess on 127.0.0.1. Two measurements:

1. Save to visible: every seat saves cases at ten times a Zhumadian agent's peak rate (peak:
   one case per agent every 4 minutes, so 10x = one every 24 s per seat, Poisson arrivals).
   For each case, the time from ``save_new_case`` at its seat to the moment the change feed
   delivers it to each of the other seats. p50/p99 over all (case, other seat) pairs.
2. Outbox drain: with the server down, every seat queues what ten minutes of that rate make
   (25 cases a seat); then the server starts and the time until every outbox is empty gives
   the drain rate.

Both the server and the 100 seats share this 2-core machine: in a hall the store has its own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from percentiles import percentile
from sqlmodel import Session

from agent_tui.client.api import ApiClient
from agent_tui.client.store import SeatStore
from agent_tui.client.sync import Backoff, SyncEngine
from agent_tui.domain.case import Role
from agent_tui.server.auth import hash_password
from agent_tui.server.db import make_engine, migrate
from agent_tui.server.embedded import ServerProcess
from agent_tui.server.models import UserRow

RESULTS = Path(__file__).parent / "results" / "seats.json"
PEAK_PER_SEAT_S = 240.0  # one case every 4 minutes per agent at peak
RATE_FACTOR = 10
PASSWORD = "bench1234"


def case_body(seat: int, n: int) -> dict[str, Any]:
    return {
        "uuid": str(uuid.uuid4()),
        "appeal_type": "complaint",
        "content": f"坐席{seat}第{n}件：乐山大道与文化路交叉口东南角下水道堵塞",
        "caller_phone": f"139{seat:04d}{n:04d}",
        "category": "0101",
        "address": {"county": "驿城区", "road": "乐山大道与文化路交叉口"},
    }


def prepare(db_url: str, seats: int) -> None:
    migrate(db_url)
    engine = make_engine(db_url)
    h = hash_password(PASSWORD)
    now = datetime.now(UTC)
    with Session(engine) as session, session.begin():
        for i in range(seats):
            session.add(
                UserRow(
                    user_id=f"seat{i:03d}",
                    name=f"坐席{i}",
                    role=Role.AGENT,
                    password_hash=h,
                    created_at=now,
                )
            )
    engine.dispose()


def make_seats(url: str, n: int, workdir: Path, stream: bool = True) -> list[SyncEngine]:
    engines = []
    for i in range(n):
        api = ApiClient(url, f"seat{i:03d}", PASSWORD, timeout=httpx.Timeout(30.0, connect=5.0))
        store = SeatStore(workdir / "seats" / f"seat{i:03d}.db")
        engines.append(
            SyncEngine(
                api,
                store,
                seat_id=f"seat{i:03d}",
                poll_wait=20.0,
                backoff=Backoff(cap=2),
                stream=stream,
            )
        )
    return engines


async def visibility(
    url: str, seats: int, seconds: float, workdir: Path, stream: bool = True
) -> dict[str, Any]:
    engines = make_seats(url, seats, workdir / "vis", stream)
    saved_at: dict[str, tuple[int, float]] = {}
    seen: list[float] = []
    first: dict[str, float] = {}  # the first other seat to see each case

    def listener_for(i: int) -> Any:
        def on_change(_status: Any, changed: list[Any]) -> None:
            t = time.perf_counter()
            for case in changed:
                origin = saved_at.get(case.uuid)
                if origin is not None and origin[0] != i:
                    seen.append(t - origin[1])
                    first.setdefault(case.uuid, t - origin[1])

        return on_change

    for i, engine in enumerate(engines):
        await engine.bootstrap()
        engine.listeners.append(listener_for(i))
    tasks = [asyncio.create_task(e.run()) for e in engines]
    await asyncio.sleep(3)  # every seat is in its long-poll
    rng = random.Random(7)
    mean_gap = PEAK_PER_SEAT_S / RATE_FACTOR

    async def agent(i: int) -> None:
        n = 0
        end = time.perf_counter() + seconds
        while True:
            await asyncio.sleep(rng.expovariate(1 / mean_gap))
            if time.perf_counter() > end:
                return
            n += 1
            body = case_body(i, n)
            saved_at[body["uuid"]] = (i, time.perf_counter())
            engines[i].store.save_new_case(body)
            engines[i].kick()

    await asyncio.gather(*(agent(i) for i in range(seats)))
    await asyncio.sleep(5)  # let the last changes arrive
    for e in engines:
        e.stop()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for e in engines:
        await e.api.aclose()
        e.store.close()
    expected = len(saved_at) * (seats - 1)
    return {
        "cases": len(saved_at),
        "pairs_expected": expected,
        "pairs_seen": len(seen),
        "p50_ms": percentile(seen, 50) * 1000 if seen else None,
        "p90_ms": percentile(seen, 90) * 1000 if seen else None,
        "p99_ms": percentile(seen, 99) * 1000 if seen else None,
        "max_ms": max(seen) * 1000 if seen else None,
        "mean_ms": statistics.fmean(seen) * 1000 if seen else None,
        "offered_cases_per_s": seats * RATE_FACTOR / PEAK_PER_SEAT_S,
        "first_other_p50_ms": percentile(list(first.values()), 50) * 1000 if first else None,
        "first_other_p99_ms": percentile(list(first.values()), 99) * 1000 if first else None,
    }


async def drain(server: ServerProcess, seats: int, per_seat: int, workdir: Path) -> dict[str, Any]:
    server.stop()
    engines = make_seats(server.url, seats, workdir / "drain")
    for i, e in enumerate(engines):
        for n in range(per_seat):
            e.store.save_new_case(case_body(i, 1000 + n))
    queued = sum(e.store.outbox_length() for e in engines)
    server.start()
    t0 = time.perf_counter()

    async def push(e: SyncEngine) -> None:
        while e.store.pending():
            await e.push()

    await asyncio.gather(*(push(e) for e in engines))
    elapsed = time.perf_counter() - t0
    left = sum(e.store.outbox_length() for e in engines)
    for e in engines:
        await e.api.aclose()
        e.store.close()
    return {
        "queued": queued,
        "left": left,
        "seconds": elapsed,
        "cases_per_s": queued / elapsed,
    }


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="bench-seats-"))
    server = ServerProcess(f"sqlite:///{workdir / 'central.db'}", workdir)
    prepare(server.db_url, args.seats)
    server.start()
    try:
        vis = await visibility(server.url, args.seats, args.seconds, workdir, not args.long_poll)
        per_seat = round(600 * RATE_FACTOR / PEAK_PER_SEAT_S)  # ten minutes of outage
        dr = await drain(server, args.seats, per_seat, workdir)
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    feed = "long-poll" if args.long_poll else "stream"
    return {
        "seats": args.seats,
        "seconds": args.seconds,
        "feed": feed,
        "visibility": vis,
        "drain": dr,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seats", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--quick", action="store_true", help="20 seats for 20 s")
    parser.add_argument(
        "--long-poll", action="store_true", help="seats long-poll the feed instead of streaming"
    )
    args = parser.parse_args()
    if args.quick:
        args.seats, args.seconds = 20, 20.0
    result = asyncio.run(main_async(args))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    v, d = result["visibility"], result["drain"]
    rate = v["offered_cases_per_s"]
    print(
        f"{result['seats']} seats ({result['feed']}), {result['seconds']:.0f} s "
        f"at {rate:.2f} cases/s"
    )
    print("| measure | value |\n|---|---|")
    print(f"| cases saved | {v['cases']} |")
    seen, expected = v["pairs_seen"], v["pairs_expected"]
    print(f"| (case, other seat) deliveries seen / expected | {seen} / {expected} |")
    for k in ("first_other_p50_ms", "first_other_p99_ms"):
        print(f"| save → visible at the first other seat {k.split('_')[2]} | {v[k]:.0f} ms |")
    for k in ("p50_ms", "p90_ms", "p99_ms", "max_ms"):
        print(f"| save → visible at another seat {k[:-3]} | {v[k]:.0f} ms |")
    print(
        f"| outbox drain after a 10-minute outage | {d['queued']} cases in {d['seconds']:.1f} s "
        f"= {d['cases_per_s']:.0f} cases/s (left {d['left']}) |"
    )
    print(f"\nwrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
