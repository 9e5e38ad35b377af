"""A quick measure of the write path (create and one step), in process and over HTTP.

    python bench/server_profile.py                       # SQLite, 30,000 cases
    python bench/server_profile.py --engine postgres --cases 30000 --profile

On a fresh database with N bulk-loaded cases (``server_data``):

1. in process: ``Store.create_case`` from the JSON body (``CaseCreate.model_validate_json``,
   as the route does) to the answer's bytes (``model_dump_json``), one thread; then
   ``Store.apply_step`` (dispatch to CGJ) on each case created, from its JSON body too. CPU and
   wall time per call; ``--profile`` prints cProfile's top functions for each;
2. over HTTP against a real server (``bench_server.server``: one uvicorn worker, uvloop +
   httptools) driven by ``server_load`` (raw sockets, 16 connections, closed loop): creates,
   then a dispatch of each case created, with the server process's CPU per request.

Much smaller and shorter than ``bench_server.py``: for comparing variants side by side.
``--audit-chain off`` drops the audit chain's trigger after the set-up (the store as it was
before migration 0007); ``bench/bench_audit_chain.py`` runs both, alternately.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import json
import pstats
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_server import create_bodies, login, prepare, proc_cpu_seconds, server
from server_data import utcnow
from server_load import build_request, closed_loop

from agent_tui import wire as S
from agent_tui.config import Settings
from agent_tui.domain.case import Role
from agent_tui.domain.lifecycle import Step
from agent_tui.server.store import Store
from agent_tui.server.visibility import Actor

AGENT = Actor("bench_agent", Role.AGENT, name="bench_agent")
LEAD = Actor("bench_lead", Role.LEAD, name="bench_lead")


def dispatch_body(version: int) -> bytes:
    return json.dumps(
        {"command_id": str(uuid.uuid4()), "version": version, "department": "CGJ"}
    ).encode()


def timed(calls: list[Callable[[], Any]], profile: bool) -> dict[str, Any]:
    prof = cProfile.Profile() if profile else None
    cpu0, t0 = time.process_time(), time.perf_counter()
    walls = []
    if prof:
        prof.enable()
    for call in calls:
        s = time.perf_counter()
        call()
        walls.append((time.perf_counter() - s) * 1000)
    if prof:
        prof.disable()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
    out: dict[str, Any] = {
        "n": len(calls),
        "per_s": len(calls) / wall,
        "cpu_ms": cpu * 1000 / len(calls),
        "wall_p50_ms": statistics.median(walls),
    }
    if prof:
        text = io.StringIO()
        pstats.Stats(prof, stream=text).sort_stats("cumulative").print_stats(45)
        out["profile"] = text.getvalue()
    return out


def in_process(store: Store, n: int, profile: bool) -> dict[str, Any]:
    bodies = create_bodies()
    raw = [bodies(i) for i in range(n + 50)]
    uuids: list[str] = []

    def create(b: bytes) -> None:
        body = S.CaseCreate.model_validate_json(b)
        case, _ = store.create_case(AGENT, body)
        case.model_dump_json()
        uuids.append(case.uuid)

    for b in raw[:50]:  # warm-up: statements compiled, caches filled
        create(b)
    created = timed([lambda b=b: create(b) for b in raw[50:]], profile)

    def step(u: str) -> None:
        body = S.DispatchBody.model_validate_json(dispatch_body(1))
        store.apply_step(LEAD, u, Step.DISPATCH, body).model_dump_json()

    for u in uuids[:50]:
        step(u)
    stepped = timed([lambda u=u: step(u) for u in uuids[50:]], profile)
    return {"create": created, "dispatch": stepped}


async def over_http(port: int, pid: int, seconds: float, rounds: int) -> dict[str, Any]:
    tokens = {u: await login(port, u) for u in ("bench_agent", "bench_lead")}
    bodies = create_bodies()
    made: list[str] = []

    def create(i: int) -> bytes:
        body = bodies(i)
        made.append(json.loads(body)["uuid"])
        return build_request("POST", "/api/cases", tokens["bench_agent"], body)

    await closed_loop(port, create, conns=4, duration=1, max_requests=100)
    out: dict[str, Any] = {}
    made.clear()
    done = 0  # cases already dispatched (each once, at version 1)
    for key in ("create", "dispatch"):
        runs = []
        cpu0 = proc_cpu_seconds(pid)
        for _ in range(rounds):
            if key == "create":
                r = await closed_loop(
                    port, create, conns=16, duration=seconds, max_requests=100_000
                )
            else:
                todo = made[done:]
                r = await closed_loop(
                    port,
                    lambda i, todo=todo: build_request(
                        "POST",
                        f"/api/cases/{todo[i]}/dispatch",
                        tokens["bench_lead"],
                        dispatch_body(1),
                    ),
                    conns=16,
                    duration=seconds,
                    max_requests=len(todo),
                    ok_statuses=(200,),
                )
                done += r.requests
            runs.append(r)
        cpu = proc_cpu_seconds(pid) - cpu0
        ok = sum(r.ok for r in runs)
        out[key] = {
            "rate_rounds": [round(r.rate, 1) for r in runs],
            "server_cpu_ms": cpu * 1000 / max(1, sum(r.requests for r in runs)),
            "ok": ok,
            "requests": sum(r.requests for r in runs),
            "first_error": next((r.first_error for r in runs if r.first_error), ""),
        }
    return out


def drop_chain_trigger(engine: Any) -> None:
    """The store without the audit chain's trigger (events are not linked)."""
    import sqlalchemy as sa

    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(sa.text("DROP TRIGGER case_events_chain"))
        else:
            connection.execute(sa.text("DROP TRIGGER case_events_chain ON case_events"))


def count_trigger_time(engine: Any) -> None:
    """PostgreSQL times the chain's trigger function in the store's sessions from now on."""
    import sqlalchemy as sa

    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        name = connection.execute(sa.text("SELECT current_database()")).scalar_one()
        connection.execute(sa.text(f"ALTER DATABASE \"{name}\" SET track_functions = 'pl'"))
        connection.execute(sa.text("SELECT pg_stat_reset()"))
    engine.dispose()  # new sessions take the setting


def trigger_time(engine: Any) -> dict[str, float]:
    """The chain trigger's calls and µs per call (the sessions have ended: stats flushed)."""
    import sqlalchemy as sa

    time.sleep(1.5)
    with engine.connect() as connection:
        row = connection.execute(
            sa.text(
                "SELECT calls, total_time FROM pg_stat_user_functions"
                " WHERE funcname = 'case_events_chain'"
            )
        ).first()
    engine.dispose()
    if row is None or not row.calls:
        return {"calls": 0, "us_per_call": 0.0}
    return {"calls": row.calls, "us_per_call": row.total_time * 1000 / row.calls}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--engine", default="sqlite", choices=["sqlite", "postgres"])
    p.add_argument("--cases", type=int, default=30_000, help="bulk-loaded cases")
    p.add_argument("--calls", type=int, default=2_000, help="in-process creates (and steps)")
    p.add_argument("--seconds", type=float, default=4, help="per HTTP round")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--profile", action="store_true", help="cProfile the in-process calls")
    p.add_argument("--no-http", action="store_true")
    p.add_argument("--workers", type=int, default=1, help="server workers (PostgreSQL)")
    p.add_argument(
        "--audit-chain", default="on", choices=["on", "off"], help="off: without its trigger"
    )
    p.add_argument("--json", type=Path, help="write the results here")
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-profile-"))
    results: dict[str, Any] = {
        "engine": args.engine,
        "cases": args.cases,
        "audit_chain": args.audit_chain,
    }
    try:
        with contextlib.ExitStack() as stack:
            if args.engine == "sqlite":
                url = f"sqlite:///{work / 'central.db'}"
            else:
                sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
                from pg import PgCluster

                pg = stack.enter_context(PgCluster())
                pg.create_database("bench")
                url = pg.url("bench")
            engine, _load = prepare(url, work, args.cases, utcnow())
            if args.audit_chain == "off":
                drop_chain_trigger(engine)
            elif engine.dialect.name == "postgresql":
                count_trigger_time(engine)
            store = Store(engine, Settings(data_dir=work, db_url=url, clock_interval_seconds=0))
            results["in_process"] = in_process(store, args.calls, args.profile)
            engine.dispose()
            if args.audit_chain == "on" and engine.dialect.name == "postgresql":
                results["in_process"]["trigger"] = trigger_time(engine)
            if not args.no_http:
                with server(url, work, work / "server.log", args.workers) as (port, pid):
                    results["http"] = asyncio.run(over_http(port, pid, args.seconds, args.rounds))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for key in ("create", "dispatch"):
        r = results["in_process"][key]
        print(
            f"in process {key}: {r['per_s']:.0f}/s, CPU {r['cpu_ms']:.2f} ms, "
            f"wall p50 {r['wall_p50_ms']:.2f} ms ({r['n']} calls)"
        )
        if "profile" in r:
            print(r.pop("profile"))
    for key, r in results.get("http", {}).items():
        print(
            f"HTTP {key}: {r['rate_rounds']} req/s, server CPU {r['server_cpu_ms']:.2f} ms/req, "
            f"ok {r['ok']}/{r['requests']} {r['first_error']}"
        )
    print(json.dumps({"engine": args.engine, "cases": args.cases, "chain": args.audit_chain}))
    if args.json:
        args.json.write_text(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
