"""Benchmark the central store at 1,000,000 cases, on SQLite and on PostgreSQL.

    python bench/bench_server.py                    # 1,000,000 cases, both engines (≈ 12 min)
    python bench/bench_server.py --quick            # 50,000 cases, shorter phases (≈ 3 min)
    python bench/bench_server.py --cases 200000 --engines sqlite

Per engine: migrate a fresh database (SQLite file in a temp dir; PostgreSQL 15 in a throwaway
``PgCluster``, fsync off), seed the reference data, bulk-load N cases (``server_data``: driver
executemany, timed = the raw insert rate), then

1. in process, without HTTP: each queue query and the lead summary through ``Store`` (SQL + ORM
   + pydantic), the same SQL replayed on the raw DBAPI connection (pure DB time), and its plan
   (``EXPLAIN QUERY PLAN`` / ``EXPLAIN (ANALYZE, BUFFERS)``);
2. over HTTP against a real server (``server_launch``: one uvicorn worker, uvloop + httptools, on
   127.0.0.1), driven by ``server_load`` (raw asyncio sockets, keep-alive, hand-written HTTP/1.1;
   its CPU time is reported): queue pages and the summary open-loop at a fixed offered load
   (p50/p99 from the due time), GET and create throughput closed-loop at saturation, and the
   server process's CPU time per request (from /proc).

Prints a markdown table; writes ``bench/results/server.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import sqlalchemy as sa
from server_data import PASSWORD, LoadResult, bulk_load, create_users, utcnow
from server_load import Connection, RunStats, build_request, closed_loop, open_loop, percentile

from agent_tui.config import Settings
from agent_tui.demo import generate_demo
from agent_tui.domain.case import OPEN_STATUSES, Role, Status
from agent_tui.server.cases.reads import CaseFilter
from agent_tui.server.db import make_engine, migrate
from agent_tui.server.seed import seed_reference
from agent_tui.server.store import Store
from agent_tui.server.visibility import Actor

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "server.json"
LEAD = Actor("bench_lead", Role.LEAD, name="bench_lead")
DEPT = Actor("bench_cgj", Role.DEPARTMENT, department="CGJ", name="bench_cgj")


@dataclass(frozen=True)
class Query:
    name: str
    viewer: Actor
    user: str
    path: str
    filter: CaseFilter


QUERIES = (
    Query(
        "in_progress by deadline",
        LEAD,
        "bench_lead",
        "/api/cases?status=in_progress&order=deadline&limit=50",
        CaseFilter(status=(Status.IN_PROGRESS,), order="deadline"),
    ),
    Query(
        "CGJ dispatched+in_progress by deadline",
        LEAD,
        "bench_lead",
        "/api/cases?department=CGJ&status=dispatched&status=in_progress&order=deadline&limit=50",
        CaseFilter(
            status=(Status.DISPATCHED, Status.IN_PROGRESS), department="CGJ", order="deadline"
        ),
    ),
    Query(
        "overdue by deadline",
        LEAD,
        "bench_lead",
        "/api/cases?overdue=true&order=deadline&limit=50",
        CaseFilter(overdue=True, order="deadline"),
    ),
    Query(
        "in_progress by deadline, as department CGJ",
        DEPT,
        "bench_cgj",
        "/api/cases?status=in_progress&order=deadline&limit=50",
        CaseFilter(status=(Status.IN_PROGRESS,), order="deadline"),
    ),
)
SUMMARY_PATH = "/api/reports/summary"


@dataclass(frozen=True)
class Profile:
    cases: int
    queue_rate: float
    queue_seconds: float  # per round
    summary_rate: float
    summary_seconds: float  # per round
    create_seconds: float  # per round
    rounds: int
    conns: int
    db_repeats: int


FULL = Profile(1_000_000, 50, 8, 5, 10, 5, 3, 16, 200)
QUICK = Profile(50_000, 50, 4, 5, 4, 3, 2, 16, 50)


# --- helpers -------------------------------------------------------------------------------------


def ms_stats(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p99": percentile(values, 99),
        "max": max(values) if values else float("nan"),
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def proc_cpu_seconds(pid: int) -> float:
    """CPU seconds of ``pid`` and of its running children (uvicorn's worker processes)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if stat.parent.name == str(pid) or fields[1] == str(pid):
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


class Capture:
    """Collects the SQL an engine sends while ``on`` (statement and parameters, as sent)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.on = False
        self.sent: list[tuple[str, Any]] = []
        sa.event.listen(engine, "before_cursor_execute", self._before)

    def _before(self, _c: Any, _cur: Any, statement: str, params: Any, _ctx: Any, _m: Any) -> None:
        if self.on:
            self.sent.append((statement, params))

    @contextlib.contextmanager
    def capture(self) -> Iterator[list[tuple[str, Any]]]:
        self.sent = []
        self.on = True
        try:
            yield self.sent
        finally:
            self.on = False


def time_raw(
    engine: sa.Engine, statements: list[tuple[str, Any]], repeats: int
) -> dict[str, float]:
    """Replay ``statements`` on the raw DBAPI connection; ms per round (all statements)."""
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        times = []
        for _ in range(repeats + 5):
            t0 = time.perf_counter()
            for stmt, params in statements:
                cur.execute(stmt, params)
                cur.fetchall()
            times.append((time.perf_counter() - t0) * 1000)
        raw.rollback()
        return ms_stats(times[5:])
    finally:
        raw.close()


def explain(engine: sa.Engine, statements: list[tuple[str, Any]]) -> list[str]:
    raw = engine.raw_connection()
    out: list[str] = []
    try:
        cur = raw.cursor()
        for stmt, params in statements:
            if "FROM cases" not in stmt:
                continue
            if engine.dialect.name == "sqlite":
                cur.execute("EXPLAIN QUERY PLAN " + stmt, params)
                lines = [str(r[3]) for r in cur.fetchall()]
            else:
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + stmt, params)
                lines = [str(r[0]) for r in cur.fetchall()]
            out.append(" | ".join(lines))
        raw.rollback()
    finally:
        raw.close()
    return out


def time_call(fn: Callable[[], Any], repeats: int) -> dict[str, float]:
    times = []
    for _ in range(repeats + 3):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return ms_stats(times[3:])


# --- the database side ---------------------------------------------------------------------------


def prepare(url: str, data_dir: Path, cases: int, now: datetime) -> tuple[sa.Engine, LoadResult]:
    migrate(url)
    engine = make_engine(url)
    store = Store(engine, Settings(data_dir=data_dir, db_url=url, clock_interval_seconds=0))
    seed_reference(store)
    create_users(engine, now)
    load = bulk_load(engine, cases, now)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE cases"))
    return engine, load


def db_side(
    engine: sa.Engine,
    url: str,
    data_dir: Path,
    repeats: int,
    names: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """Store calls, their SQL replayed raw, and plans, for each queue query and the summary."""
    capture = Capture(engine)
    store = Store(engine, Settings(data_dir=data_dir, db_url=url, clock_interval_seconds=0))
    out: dict[str, Any] = {}
    calls: list[tuple[str, Callable[[], Any]]] = [
        (q.name, lambda q=q: store.list_cases(q.viewer, q.filter, None, 50))
        for q in QUERIES
        if names is None or q.name in names
    ]
    calls.append(("lead summary", lambda: store.lead_summary(LEAD)))
    for name, fn in calls:
        with capture.capture() as sent:
            fn()
        statements = list(sent)
        out[name] = {
            "store_ms": time_call(fn, repeats if name != "lead summary" else repeats // 5),
            "raw_ms": time_raw(engine, statements, repeats if name != "lead summary" else 20),
            "plan": explain(engine, statements),
            "sql": [s for s, _ in statements],
        }
    return out


#: Candidate indexes, tried one at a time (and together) in the bench database, then dropped.
EXPERIMENTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("+ (status, department)", ("CREATE INDEX ix_bench_sd ON cases (status, department)",)),
    (
        "+ (status, replied_at, handling_deadline)",
        ("CREATE INDEX ix_bench_srd ON cases (status, replied_at, handling_deadline, id)",),
    ),
    (
        "+ both",
        (
            "CREATE INDEX ix_bench_sd ON cases (status, department)",
            "CREATE INDEX ix_bench_srd ON cases (status, replied_at, handling_deadline, id)",
        ),
    ),
)


OVERDUE_UNION = "overdue by deadline, rewritten: UNION ALL of one ordered LIMIT per status"


def overdue_union(engine: sa.Engine, repeats: int) -> dict[str, Any]:
    """The overdue queue page as one ordered, limited index walk per open status, merged."""
    now = utcnow()
    sqlite = engine.dialect.name == "sqlite"
    bound: Any = now.replace(tzinfo=None).isoformat(" ", "microseconds") if sqlite else now
    parts = [
        f"SELECT * FROM (SELECT * FROM cases WHERE status = '{status}' AND replied_at IS NULL "
        f"AND handling_deadline IS NOT NULL AND handling_deadline <= :now "
        f"ORDER BY handling_deadline, id LIMIT 51) AS s{i}"
        for i, status in enumerate(sorted(str(x) for x in OPEN_STATUSES))
    ]
    sql = sa.text(
        "SELECT * FROM (" + " UNION ALL ".join(parts) + ") AS u ORDER BY handling_deadline, id "
        "LIMIT 51"
    )
    times = []
    with engine.connect() as conn:
        for _ in range(repeats + 5):
            t0 = time.perf_counter()
            rows = conn.execute(sql, {"now": bound}).fetchall()
            times.append((time.perf_counter() - t0) * 1000)
        explain_sql = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN (ANALYZE, BUFFERS) "
        plan = conn.execute(sa.text(explain_sql + str(sql)), {"now": bound}).fetchall()
    lines = [str(r[3]) if sqlite else str(r[0]) for r in plan]
    return {"raw_ms": ms_stats(times[5:]), "rows": len(rows), "plan": [" | ".join(lines)]}


def index_experiments(engine: sa.Engine, url: str, data_dir: Path, repeats: int) -> dict[str, Any]:
    """The summary and the overdue queue with candidate indexes added (then dropped again)."""
    out: dict[str, Any] = {}
    for label, ddl in EXPERIMENTS:
        with engine.begin() as conn:
            for stmt in ddl:
                conn.execute(sa.text(stmt))
            conn.execute(
                sa.text("ANALYZE cases" if engine.dialect.name != "sqlite" else "SELECT 1")
            )
        try:
            found = db_side(engine, url, data_dir, repeats, names=("overdue by deadline",))
            out[label] = {
                k: {"raw_ms": v["raw_ms"], "store_ms": v["store_ms"], "plan": v["plan"]}
                for k, v in found.items()
            }
            if "ix_bench_srd" in " ".join(ddl):
                out[label][OVERDUE_UNION] = overdue_union(engine, repeats)
        finally:
            with engine.begin() as conn:
                for stmt in ddl:
                    name = stmt.split()[2]
                    conn.execute(sa.text(f"DROP INDEX {name}"))
    return out


# --- the HTTP side -------------------------------------------------------------------------------


@contextlib.contextmanager
def server(url: str, data_dir: Path, log: Path, workers: int = 1) -> Iterator[tuple[int, int]]:
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                str(HERE / "server_launch.py"),
                *("--db-url", url, "--data-dir", str(data_dir), "--port", str(port)),
                *("--workers", str(workers)),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("server did not start within 60 s") from None
                time.sleep(0.1)
        yield port, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


async def login(port: int, user: str) -> str:
    c = await Connection.open(port)
    try:
        body = json.dumps({"user_id": user, "password": PASSWORD}).encode()
        status, answer = await c.request(build_request("POST", "/api/auth/login", body=body))
        if status != 200:
            raise RuntimeError(f"login {user}: {status} {answer[:200]!r}")
        token: str = json.loads(answer)["token"]
        return token
    finally:
        await c.close()


def create_bodies() -> Callable[[int], bytes]:
    intakes = []
    for d in generate_demo(utcnow(), count=500):
        i = d.intake
        intakes.append(
            {
                "appeal_type": str(i.appeal_type),
                "content": i.content,
                "caller_phone": i.caller_phone,
                "caller_name": i.caller_name,
                "gender": str(i.gender),
                "anonymous": i.anonymous,
                "confidential": i.confidential,
                "category": i.category,
                "address": {"county": i.address.county, "road": i.address.road},
            }
        )
    return lambda n: json.dumps({"uuid": str(uuid.uuid4()), **intakes[n % len(intakes)]}).encode()


def summarize_runs(runs: list[RunStats]) -> dict[str, Any]:
    lat = [x for r in runs for x in r.latencies_ms]
    return {
        **ms_stats(lat),
        "p50_rounds": [percentile(r.latencies_ms, 50) for r in runs],
        "p99_rounds": [percentile(r.latencies_ms, 99) for r in runs],
        "rate_rounds": [r.rate for r in runs],
        "ok": sum(r.ok for r in runs),
        "requests": sum(r.requests for r in runs),
        "late_starts": sum(r.late_starts for r in runs),
        "generator_cpu_share": sum(r.generator_cpu_s for r in runs)
        / max(1e-9, sum(r.elapsed for r in runs)),
        "first_error": next((r.first_error for r in runs if r.first_error), ""),
    }


async def http_side(port: int, pid: int, prof: Profile) -> dict[str, Any]:
    tokens = {u: await login(port, u) for u in ("bench_lead", "bench_agent", "bench_cgj")}
    out: dict[str, Any] = {}

    async def phase(key: str, runs_fn: Callable[[], Any]) -> list[RunStats]:
        cpu0 = proc_cpu_seconds(pid)
        runs: list[RunStats] = [await runs_fn() for _ in range(prof.rounds)]
        cpu = proc_cpu_seconds(pid) - cpu0
        out[key] = summarize_runs(runs)
        out[key]["server_cpu_ms_per_request"] = cpu * 1000 / max(1, out[key]["requests"])
        return runs

    for q in QUERIES:
        raw = build_request("GET", q.path, tokens[q.user])
        await closed_loop(port, lambda _i, r=raw: r, conns=4, duration=2, max_requests=200)
        await phase(
            f"queue: {q.name}",
            lambda r=raw: open_loop(
                port,
                lambda _i: r,
                rate=prof.queue_rate,
                duration=prof.queue_seconds,
                conns=prof.conns,
            ),
        )
    floors = (
        ("floor: GET /api/auth/me (auth only)", "/api/auth/me", (200,)),
        ("floor: GET unknown path (404, no DB)", "/api/no-such-path", (404,)),
    )
    for key, path, ok in floors:
        raw = build_request("GET", path, tokens["bench_lead"])
        await phase(
            key,
            lambda r=raw, ok=ok: closed_loop(
                port,
                lambda _i: r,
                conns=8,
                duration=prof.create_seconds,
                max_requests=50_000,
                ok_statuses=ok,
            ),
        )
    raw = build_request("GET", QUERIES[0].path, tokens["bench_lead"])
    await phase(
        "queue GET at saturation",
        lambda: closed_loop(
            port, lambda _i: raw, conns=8, duration=prof.create_seconds, max_requests=50_000
        ),
    )
    raw = build_request("GET", SUMMARY_PATH, tokens["bench_lead"])
    await closed_loop(port, lambda _i: raw, conns=1, duration=2, max_requests=5)
    await phase(
        "lead summary",
        lambda: open_loop(
            port, lambda _i: raw, rate=prof.summary_rate, duration=prof.summary_seconds, conns=4
        ),
    )
    bodies = create_bodies()
    agent = tokens["bench_agent"]

    def create(i: int) -> bytes:
        return build_request("POST", "/api/cases", agent, bodies(i))

    await closed_loop(port, create, conns=4, duration=2, max_requests=200)
    await phase(
        "create at saturation",
        lambda: closed_loop(
            port, create, conns=prof.conns, duration=prof.create_seconds, max_requests=50_000
        ),
    )
    return out


# --- driver --------------------------------------------------------------------------------------


def run_engine(
    name: str, prof: Profile, work: Path, *, http: bool = True, experiments: bool = False
) -> dict[str, Any]:
    data_dir = work / name
    data_dir.mkdir(parents=True, exist_ok=True)
    now = utcnow()
    with contextlib.ExitStack() as stack:
        if name == "sqlite":
            url = f"sqlite:///{data_dir / 'central.db'}"
        else:
            sys.path.insert(0, str(HERE.parent / "tests"))
            from pg import PgCluster

            pg = stack.enter_context(PgCluster())
            pg.create_database("bench")
            url = pg.url("bench")
        t0 = time.perf_counter()
        engine, load = prepare(url, data_dir, prof.cases, now)
        print(
            f"[{name}] loaded {load.rows:,} cases in {load.total_seconds:.1f} s "
            f"(insert {load.rows_per_second:,.0f} rows/s)",
            file=sys.stderr,
            flush=True,
        )
        db = db_side(engine, url, data_dir, prof.db_repeats)
        print(f"[{name}] db side done", file=sys.stderr, flush=True)
        tried = index_experiments(engine, url, data_dir, prof.db_repeats) if experiments else {}
        if not http:
            engine.dispose()
            return {
                "engine": name,
                "version": _db_version(url),
                "load": _load_dict(load),
                "db": db,
                "index_experiments": tried,
                "seconds": time.perf_counter() - t0,
            }
        with server(url, data_dir, data_dir / "server.log") as (port, pid):
            # The generator must not stall on a full collection of this process's big heap.
            gc.collect()
            gc.freeze()
            gc.disable()
            try:
                measured = asyncio.run(http_side(port, pid, prof))
                measured["loadavg_after"] = list(os.getloadavg())
            finally:
                gc.enable()
                gc.unfreeze()
        engine.dispose()
        return {
            "engine": name,
            "version": _db_version(url),
            "load": _load_dict(load),
            "db": db,
            "index_experiments": tried,
            "http": measured,
            "seconds": time.perf_counter() - t0,
        }


def _load_dict(load: LoadResult) -> dict[str, Any]:
    return {
        "rows": load.rows,
        "insert_seconds": load.insert_seconds,
        "rows_per_second": load.rows_per_second,
        "total_seconds": load.total_seconds,
        "statuses": load.statuses,
        "open_overdue": load.open_overdue,
    }


def _db_version(url: str) -> str:
    engine = make_engine(url)
    try:
        with engine.connect() as c:
            if engine.dialect.name == "sqlite":
                return "SQLite " + str(c.execute(sa.text("select sqlite_version()")).scalar())
            return str(c.execute(sa.text("show server_version")).scalar()).split()[0]
    finally:
        engine.dispose()


def _f(x: float, digits: int = 1) -> str:
    return f"{x:,.{digits}f}"


def report(results: list[dict[str, Any]], prof: Profile) -> str:
    lines = [
        f"Central store at {prof.cases:,} cases — one uvicorn worker (uvloop, httptools); "
        "load: raw asyncio sockets, keep-alive",
        "",
        "| engine | measure | pure DB p50 / p99 ms | Store (in process) p50 ms |",
        "|---|---|---|---|",
    ]
    for r in results:
        for name, d in r["db"].items():
            lines.append(
                f"| {r['engine']} | {name} | {_f(d['raw_ms']['p50'], 2)} / "
                f"{_f(d['raw_ms']['p99'], 2)} | {_f(d['store_ms']['p50'], 2)} |"
            )
    with_http = [r for r in results if "http" in r]
    if with_http:
        lines += [
            "",
            "| engine | HTTP | offered load | p50 ms | p99 ms (rounds) | server CPU ms/req |",
            "|---|---|---|---|---|---|",
        ]
    for r in with_http:
        measures = [(f"queue: {q.name}", prof.queue_rate) for q in QUERIES]
        for key, rate in [*measures, ("lead summary", prof.summary_rate)]:
            h = r["http"][key]
            rounds = "–".join(_f(x) for x in (min(h["p99_rounds"]), max(h["p99_rounds"])))
            lines.append(
                f"| {r['engine']} | {key} | {rate:g} req/s | {_f(h['p50'])} | "
                f"**{_f(h['p99'])}** ({rounds}) | {_f(h['server_cpu_ms_per_request'], 2)} |"
            )
    if with_http:
        lines += [
            "",
            "| engine | raw insert rows/s | create req/s at saturation (rounds) | create ÷ raw | "
            "create p50 ms | server CPU ms/create | queue GET req/s at saturation | "
            "load-gen CPU share |",
            "|---|---|---|---|---|---|---|---|",
        ]
    for r in with_http:
        c, g = r["http"]["create at saturation"], r["http"]["queue GET at saturation"]
        raw = r["load"]["rows_per_second"]
        rate = statistics.median(c["rate_rounds"])
        spread = "–".join(_f(x, 0) for x in (min(c["rate_rounds"]), max(c["rate_rounds"])))
        lines.append(
            f"| {r['engine']} | {_f(raw, 0)} | **{_f(rate, 0)}** ({spread}) | "
            f"1 : {_f(raw / rate, 0)} ({_f(100 * rate / raw, 2)} %) | {_f(c['p50'])} | "
            f"{_f(c['server_cpu_ms_per_request'], 2)} | "
            f"{_f(statistics.median(g['rate_rounds']), 0)} | "
            f"{_f(100 * c['generator_cpu_share'], 0)} % |"
        )
    if with_http:
        lines += ["", "| engine | closed loop, 8 connections | req/s | server CPU ms/req |"]
        lines.append("|---|---|---|---|")
    for r in with_http:
        for key in (
            "floor: GET unknown path (404, no DB)",
            "floor: GET /api/auth/me (auth only)",
            "queue GET at saturation",
            "create at saturation",
        ):
            h = r["http"][key]
            lines.append(
                f"| {r['engine']} | {key} | {_f(statistics.median(h['rate_rounds']), 0)} | "
                f"{_f(h['server_cpu_ms_per_request'], 2)} |"
            )
    tried = [r for r in results if r.get("index_experiments")]
    if tried:
        lines += ["", "| engine | candidate index | measure | pure DB p50 ms (was) |"]
        lines.append("|---|---|---|---|")
    for r in tried:
        for label, found in r["index_experiments"].items():
            for name, d in found.items():
                was = r["db"][name if name != OVERDUE_UNION else "overdue by deadline"]
                lines.append(
                    f"| {r['engine']} | {label} | {name} | {_f(d['raw_ms']['p50'], 2)} "
                    f"({_f(was['raw_ms']['p50'], 2)}) |"
                )
    lines.append("")
    for r in results:
        lines.append(f"Plans, {r['engine']} ({r['version']}):")
        for name, d in r["db"].items():
            for plan in d["plan"]:
                lines.append(f"- {name}: `{plan[:400]}`")
        lines.append("")
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="50,000 cases, shorter phases")
    p.add_argument("--cases", type=int, help="number of bulk-loaded cases")
    p.add_argument("--engines", default="sqlite,postgres", help="sqlite,postgres")
    p.add_argument("--keep", action="store_true", help="keep the SQLite work directory")
    p.add_argument("--db-only", action="store_true", help="skip the HTTP measurements")
    p.add_argument("--index-experiments", action="store_true", help="also time candidate indexes")
    p.add_argument("--out", type=Path, default=RESULTS, help="JSON output path")
    args = p.parse_args()
    prof = QUICK if args.quick else FULL
    if args.cases:
        prof = Profile(args.cases, *list(prof.__dict__.values())[1:])
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    work = Path(tempfile.mkdtemp(prefix="bench-server-"))
    t0 = time.perf_counter()
    results = []
    try:
        for name in engines:
            results.append(
                run_engine(
                    name,
                    prof,
                    work,
                    http=not args.db_only,
                    experiments=args.index_experiments,
                )
            )
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    text = report(results, prof)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": {
            "nproc": os.cpu_count(),
            "python": platform.python_version(),
            "cpu": _cpu_model(),
        },
        "profile": prof.__dict__,
        "seconds": time.perf_counter() - t0,
        "loadavg_at_end": os.getloadavg(),
        "results": results,
    }
    args.out.write_text(json.dumps(meta, indent=2, ensure_ascii=False, default=str))
    print(f"\n(total {meta['seconds']:.0f} s; JSON in {args.out})")
    return 0


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


if __name__ == "__main__":
    raise SystemExit(main())
