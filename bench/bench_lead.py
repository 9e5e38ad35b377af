"""Benchmark the lead console's dashboard endpoint at 1,000,000 cases (SQLite; PostgreSQL too).

    python bench/bench_lead.py                        # 1,000,000 cases, SQLite
    python bench/bench_lead.py --engines sqlite,postgres
    python bench/bench_lead.py --cases 100000 --work /tmp/lead-bench --keep   # reuse later
    python bench/bench_lead.py --work /tmp/lead-bench --reuse                 # no reload

Per engine: migrate a fresh database, seed the reference data, bulk-load N cases
(``server_data``, as ``bench_server`` does) and, so that the KPI tiles replay a realistic event
log, the events of every case registered in the last ``--event-days`` days (45: the month tile
reads every event of every case active in the month), made from each case's row (register,
dispatch, sign, reply, review, callback, rate, archive, resolve, refuse) with the columns the
KPI replay reads. Then

1. in process, without HTTP: ``Store.dashboard`` with the KPI cache cold and warm, each KPI
   tile's replay alone (uncached), the hot spots, and every SQL statement of a warm dashboard
   replayed on the raw DBAPI connection with its plan;
2. over HTTP against a real server (``server_launch``: one uvicorn worker, uvloop + httptools),
   one lead refreshing: the first request (the KPI cache cold: its replays start in the replay
   process and the answer comes without the tiles), requests until the tiles are there, then
   ``--requests`` sequential warm requests (closed loop, one at a time: the latency one lead's
   refresh sees on an otherwise idle server), client ``httpx`` (sync, keep-alive).

The KPI tiles are cached per viewer scope and period for ``kpi_cache_seconds`` (60 s) and
refreshed in the background once older: warm requests read them from memory. Prints a markdown
table; writes ``bench/results/lead.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
import sqlalchemy as sa
from bench_server import Capture, _cpu_model, explain, ms_stats, server, time_call, time_raw
from server_data import PASSWORD, _pg_value, _sqlite_value, bulk_load, create_users, utcnow

from agent_tui.config import Settings
from agent_tui.domain.case import Role
from agent_tui.server.db import make_engine, migrate
from agent_tui.server.models import CaseRow, EventRow
from agent_tui.server.reports.kpis import kpi_periods
from agent_tui.server.seed import seed_reference
from agent_tui.server.store import Store
from agent_tui.server.visibility import Actor

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "lead.json"
LEAD = Actor("bench_lead", Role.LEAD, name="bench_lead")


# --- the event log of the recent cases ------------------------------------------------------------


def _events_of(c: Any) -> list[tuple[str, str, str, datetime, str | None, str, dict[str, Any]]]:
    """(step, actor, role, at, from, to, changes) of one bulk case, from its row."""
    iso = datetime.isoformat
    reg = c.registered_at
    address = {
        "county": c.county,
        "township": c.township,
        "village": c.village,
        "road": c.road,
        "detail": c.address_detail,
        "lat": c.lat,
        "lon": c.lon,
    }
    out: list[Any] = [
        (
            "register",
            c.agent,
            "agent",
            reg,
            None,
            "registered",
            {
                "status": [None, "registered"],
                "appeal_type": [None, c.appeal_type],
                "category": [None, c.category],
                "address": [None, address],
                "platform": [None, c.platform],
                "agent": [None, c.agent],
            },
        )
    ]
    if c.status == "refused":
        out.append(("refuse", c.agent, "agent", reg, "registered", "refused", {}))
        return out
    if c.status == "resolved":
        at = reg + timedelta(minutes=5)
        out.append(("resolve", c.agent, "agent", at, "registered", "resolved", {}))
        return out
    if c.dispatched_at is None:
        return out
    out.append(
        (
            "dispatch",
            "agent01",
            "agent",
            c.dispatched_at,
            "registered",
            "dispatched",
            {
                "department": ["", c.department],
                "sign_deadline": [None, iso(c.sign_deadline)],
                "handling_deadline": [None, iso(c.handling_deadline)],
            },
        )
    )
    if c.signed_at is not None:
        out.append(
            (
                "sign",
                "cgj",
                "department",
                c.signed_at,
                "dispatched",
                "in_progress",
                {"signed_at": [None, iso(c.signed_at)]},
            )
        )
    if c.replied_at is None:
        return out
    out.append(("reply", "cgj", "department", c.replied_at, "in_progress", "replied", {}))
    if c.status == "replied":
        return out
    review = c.replied_at + timedelta(minutes=30)
    out.append(("review_pass", "agent01", "agent", review, "replied", "callback_pending", {}))
    if c.callback_result == "reached" or (c.status == "archived" and c.callback_required):
        called = review + timedelta(hours=20)
        out.append(("callback", "agent02", "agent", called, "callback_pending", "called_back", {}))
        if c.satisfaction:
            rated = called + timedelta(minutes=1)
            changes = {"satisfaction": [None, c.satisfaction]}
            out.append(("rate", "agent02", "agent", rated, "called_back", "rated", changes))
    if c.status == "archived":
        before = "rated" if c.satisfaction else "callback_pending"
        at = max(c.archived_at or review, out[-1][3])
        out.append(("archive", "agent01", "agent", at, before, "archived", {}))
    return out


def load_events(engine: sa.Engine, now: datetime, days: int, batch: int = 20_000) -> int:
    """The events of every case registered in the last ``days`` days; returns how many."""
    cases: Any = CaseRow.__table__  # type: ignore[attr-defined]
    events: Any = EventRow.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(cases).where(cases.c.registered_at >= now - timedelta(days=days))
        ).all()
    sqlite = engine.dialect.name == "sqlite"
    convert = _sqlite_value if sqlite else _pg_value
    columns = [c.name for c in events.columns if c.name != "id"]
    mark = "?" if sqlite else "%s"
    names, marks = ", ".join(columns), ", ".join([mark] * len(columns))
    sql = f"INSERT INTO case_events ({names}) VALUES ({marks})"
    seq = 10**9  # past the bulk cases' change numbers (nothing reads the events' seq here)
    pending: list[tuple[Any, ...]] = []
    total = 0

    def flush() -> None:
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            cur.executemany(sql, pending)
            raw.commit()
        finally:
            raw.close()
        pending.clear()

    for c in rows:
        for version, (step, actor, role, at, before, after, changes) in enumerate(
            _events_of(c), start=1
        ):
            seq += 1
            values = {
                "case_id": c.id,
                "case_uuid": c.uuid,
                "seq": seq,
                "step": step,
                "actor": actor,
                "role": role,
                "at": min(at, now),
                "from_status": before,
                "to_status": after,
                "reason": "",
                "changes": json.dumps(changes, ensure_ascii=False),
                "version": version,
            }
            pending.append(tuple(convert(values[k]) for k in columns))
            total += 1
            if len(pending) >= batch:
                flush()
    if pending:
        flush()
    return total


# --- measuring ------------------------------------------------------------------------------------


def prepare(url: str, data_dir: Path, cases: int, days: int, now: datetime) -> dict[str, Any]:
    migrate(url)
    engine = make_engine(url)
    store = Store(engine, Settings(data_dir=data_dir, db_url=url, clock_interval_seconds=0))
    seed_reference(store)
    create_users(engine, now)
    t0 = time.perf_counter()
    load = bulk_load(engine, cases, now)
    t1 = time.perf_counter()
    n_events = load_events(engine, now, days)
    t2 = time.perf_counter()
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
    else:
        with engine.connect() as conn:
            conn.execute(sa.text("ANALYZE"))
    engine.dispose()
    print(
        f"loaded {load.rows:,} cases in {t1 - t0:.0f} s, {n_events:,} events in {t2 - t1:.0f} s",
        file=sys.stderr,
        flush=True,
    )
    return {"cases": load.rows, "events": n_events, "load_seconds": t2 - t0}


def timed(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def db_side(url: str, data_dir: Path, repeats: int) -> dict[str, Any]:
    engine = make_engine(url)
    capture = Capture(engine)
    # In process and waiting for its tiles: the cold figure includes the three replays.
    settings = Settings(
        data_dir=data_dir,
        db_url=url,
        clock_interval_seconds=0,
        kpi_processes=0,
        kpi_wait_seconds=3600,
    )
    store = Store(engine, settings)
    out: dict[str, Any] = {}
    out["dashboard_cold_ms"] = timed(lambda: store.dashboard(LEAD))
    out["dashboard_warm_ms"] = time_call(lambda: store.dashboard(LEAD), repeats)
    out["hotspots_uncached_ms"] = time_call(lambda: store.hotspot_reports._hotspots(LEAD), repeats)
    now = store.now()
    replay: dict[str, Any] = {}
    for period, start, end in kpi_periods(now):
        t0 = time.perf_counter()
        found = store.kpi_report(LEAD, start, end)
        assert found is not None
        report = found[0]
        replay[period] = {
            "ms": (time.perf_counter() - t0) * 1000,
            "registered": report.total.registered,
            "on_time": [report.total.on_time.numerator, report.total.on_time.denominator],
        }
    out["kpi_replay_uncached"] = replay
    with capture.capture() as sent:
        store.dashboard(LEAD)
    statements = [(s, p) for s, p in sent if "case_events" not in s]
    out["sql_raw_ms"] = time_raw(engine, statements, max(5, repeats // 2))
    out["sql_each"] = [
        {
            "sql": " ".join(stmt.split())[:160],
            "plan": " ".join(explain(engine, [(stmt, params)])),
            **time_raw(engine, [(stmt, params)], 10),
        }
        for stmt, params in statements
    ]
    engine.dispose()
    return out


def http_side(url: str, data_dir: Path, requests: int, refresh_seconds: float) -> dict[str, Any]:
    """``requests`` warm requests after the first; then, with the caches' lifetimes cut to
    ``refresh_seconds`` (a second server), requests one after the other for 30 s while the
    stale tiles and hot spots are remade in the background of the same process."""
    out = _http_phase(url, data_dir, requests, 0.0)
    if refresh_seconds > 0:
        os.environ["AGENT_TUI_KPI_CACHE_SECONDS"] = str(refresh_seconds)
        os.environ["AGENT_TUI_KPI_CACHE_LONG_SECONDS"] = str(refresh_seconds)
        try:
            out["during_refresh"] = _http_phase(url, data_dir, 0, 30.0)
            out["during_refresh"]["cache_seconds"] = refresh_seconds
        finally:
            del os.environ["AGENT_TUI_KPI_CACHE_SECONDS"]
            del os.environ["AGENT_TUI_KPI_CACHE_LONG_SECONDS"]
    return out


def _http_phase(url: str, data_dir: Path, requests: int, seconds: float) -> dict[str, Any]:
    with server(url, data_dir, data_dir / "server.log") as (port, _pid):
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=600) as client:
            r = client.post("/api/auth/login", json={"user_id": "bench_lead", "password": PASSWORD})
            r.raise_for_status()
            headers = {"Authorization": f"Bearer {r.json()['token']}"}

            def get() -> tuple[float, int, int]:
                t0 = time.perf_counter()
                r = client.get("/api/reports/dashboard", headers=headers)
                ms = (time.perf_counter() - t0) * 1000
                r.raise_for_status()
                return ms, len(r.content), len(r.json()["kpis_pending"])

            started = time.perf_counter()
            first, size, pending = get()
            # The replays run in their own process: answers come at once, the tiles later.
            while_pending = []
            while pending:
                ms, size, pending = get()
                while_pending.append(ms)
                time.sleep(0.2)
            tiles_ready_s = time.perf_counter() - started
            warm = [get()[0] for _ in range(requests)]
            until = time.monotonic() + seconds
            while time.monotonic() < until:
                warm.append(get()[0])
    return {
        "first_ms": first,
        "tiles_ready_s": tiles_ready_s,
        "while_tiles_pending": ms_stats(while_pending) if while_pending else None,
        "warm": ms_stats(warm),
        "bytes": size,
        "loadavg_after": list(os.getloadavg()),
    }


@contextlib.contextmanager
def database(name: str, work: Path) -> Iterator[str]:
    if name == "sqlite":
        yield f"sqlite:///{work / 'central.db'}"
        return
    sys.path.insert(0, str(HERE.parent / "tests"))
    from pg import PgCluster

    with PgCluster() as pg:
        pg.create_database("bench")
        yield pg.url("bench")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", type=int, default=1_000_000)
    p.add_argument("--event-days", type=int, default=45)
    p.add_argument("--engines", default="sqlite", help="sqlite,postgres")
    p.add_argument("--requests", type=int, default=100, help="warm dashboard requests")
    p.add_argument("--repeats", type=int, default=20, help="in-process repeats")
    p.add_argument("--work", type=Path, help="work directory (default: a temporary one)")
    p.add_argument("--keep", action="store_true", help="keep the work directory (SQLite)")
    p.add_argument("--reuse", action="store_true", help="SQLite: use the database in --work")
    p.add_argument(
        "--refresh-seconds", type=float, default=5.0, help="cache lifetime of the refresh phase"
    )
    p.add_argument("--load-only", action="store_true", help="load the database and stop")
    p.add_argument("--out", type=Path, default=RESULTS)
    args = p.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-lead-"))
    results = []
    t_start = time.perf_counter()
    try:
        for name in [e.strip() for e in args.engines.split(",") if e.strip()]:
            data_dir = work / name
            data_dir.mkdir(parents=True, exist_ok=True)
            with database(name, data_dir) as url:
                now = utcnow()
                loaded: dict[str, Any] = {"reused": True}
                if not (args.reuse and name == "sqlite" and (data_dir / "central.db").exists()):
                    loaded = prepare(url, data_dir, args.cases, args.event_days, now)
                else:
                    migrate(url)  # a reused database gets any newer migration's indexes
                if args.load_only:
                    continue
                load_before = list(os.getloadavg())
                db = db_side(url, data_dir, args.repeats)
                print(f"[{name}] db side done", file=sys.stderr, flush=True)
                http = http_side(url, data_dir, args.requests, args.refresh_seconds)
                results.append(
                    {"engine": name, "load": loaded, "loadavg_before": load_before, "db": db}
                    | {"http": http}
                )
    finally:
        if args.work is None and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    if results:
        print(report(results))
    meta = {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": {"nproc": os.cpu_count(), "python": platform.python_version()}
        | {"cpu": _cpu_model()},
        "cases": args.cases,
        "event_days": args.event_days,
        "seconds": time.perf_counter() - t_start,
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(meta, indent=2, ensure_ascii=False, default=str))
    print(f"\n(total {meta['seconds']:.0f} s; JSON in {args.out})")
    return 0


def report(results: list[dict[str, Any]]) -> str:
    lines = [
        "| engine | dashboard HTTP first (cold KPI cache) / tiles ready | "
        "HTTP warm p50 / p99 (n) | Store warm p50 | SQL only p50 | "
        "KPI replay today / week / month (uncached) |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        h, d = r["http"], r["db"]
        k = d["kpi_replay_uncached"]
        lines.append(
            f"| {r['engine']} | {h['first_ms']:.0f} ms / {h['tiles_ready_s']:.1f} s | "
            f"{h['warm']['p50']:.1f} / "
            f"{h['warm']['p99']:.1f} ms ({h['warm']['n']}) | {d['dashboard_warm_ms']['p50']:.1f} ms"
            f" | {d['sql_raw_ms']['p50']:.1f} ms | {k['today']['ms']:.0f} / {k['week']['ms']:.0f}"
            f" / {k['month']['ms']:.0f} ms |"
        )
    for r in results:
        pending = r["http"].get("while_tiles_pending")
        if pending:
            lines.append(
                f"\n{r['engine']}: answers while the first replays ran (tiles pending): p50 / "
                f"p99 {pending['p50']:.1f} / {pending['p99']:.1f} ms (n {pending['n']})"
            )
        during = r["http"].get("during_refresh")
        if during:
            lines.append(
                f"\n{r['engine']}: requests one after the other for 30 s with the caches living "
                f"{during['cache_seconds']:.0f} s (remade in the background): p50 / p99 "
                f"{during['warm']['p50']:.1f} / {during['warm']['p99']:.1f} ms, max "
                f"{during['warm']['max']:.0f} ms (n {during['warm']['n']})"
            )
        lines.append(
            f"hot spots uncached p50 {r['db']['hotspots_uncached_ms']['p50']:.1f} ms; "
            f"Store cold {r['db']['dashboard_cold_ms']:.0f} ms"
        )
    for r in results:
        lines.append(f"\n{r['engine']}: per statement (raw p50 ms) and plan")
        for each in r["db"]["sql_each"]:
            lines.append(f"- {each['p50']:.2f} ms  {each['sql'][:110]}\n    {each['plan'][:400]}")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
