"""What the audit chain's trigger costs: the write path with and without it, side by side.

    python bench/bench_audit_chain.py                      # both engines, 3 pairs each
    python bench/bench_audit_chain.py --engines postgres --pairs 5 --cases 20000

1. The raw insert of one event (the trigger's own cost): N single-row ``INSERT INTO
   case_events`` on the driver's connection, each its own transaction as the store writes,
   on a fresh migrated database, with the trigger and with it dropped (alternating blocks).
2. The store: ``bench/server_profile.py`` (in process: ``Store.create_case`` and a dispatch;
   over HTTP: creates and dispatches at saturation, 16 connections) run ``--audit-chain on``
   and ``off`` alternately, ``--pairs`` times per engine, each run on a fresh database.

3. With ``--backfill N``: N events stored at revision 0005, then the time migration 0007 takes
   to link them and ``agent-tui audit verify``'s walk.

Prints medians, spreads (min–max) and the ratio on/off; writes
``bench/results/audit_chain.json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa

from agent_tui.server.db import make_engine, migrate

HERE = Path(__file__).resolve().parent

#: One case for the events to belong to (its columns as the store writes them).
_ONE_CASE = (
    "INSERT INTO cases (uuid, number, status, appeal_type, channel, urgency,"
    " caller_phone, caller_name, gender, confidential, anonymous, category, county,"
    " township, village, road, address_detail, content, platform, agent,"
    " registered_at, department, co_departments, assigned_platform,"
    " deadline_provisional, deadline_amount, deadline_unit, extensions, returns,"
    " result, refusal_reason, callback_required, callback_attempts, reopens,"
    " supervision, version, updated_at, last_seq, related_to) VALUES (:u, 'N1',"
    " 'registered', 'complaint', 'phone', 'normal', '', '', 'unknown', false, false,"
    " '', '', '', '', '', '', 'c', 'city', 'a', :now, '', '', '', false, 0, '', 0, 0,"
    " '', '', false, 0, 0, 0, 1, :now, 1, '')"
)


def raw_inserts(url: str, n: int, blocks: int) -> dict[str, list[float]]:
    """Microseconds per single-row event insert (own transaction), trigger on / off."""
    migrate(url)
    engine = make_engine(url)
    now = datetime.now(UTC)
    with engine.begin() as connection:
        connection.execute(sa.text(_ONE_CASE), {"u": str(uuid.uuid4()), "now": now})
    at = now.replace(tzinfo=None).isoformat(" ", "microseconds")
    mark = "?" if engine.dialect.name == "sqlite" else "%s"
    insert = (
        "INSERT INTO case_events (case_id, case_uuid, seq, step, actor, role, at, from_status,"
        " to_status, reason, changes, version) VALUES (1, 'u', 1, 'supervise', 'lead01', 'lead',"
        f" {mark}, 'registered', 'registered', 'x', "
        '\'{"status": ["registered", "registered"]}\', 1)'
    )
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        trigger = connection.execute(
            sa.text("SELECT sql FROM sqlite_master WHERE name = 'case_events_chain'")
            if sqlite
            else sa.text("SELECT 1")
        ).scalar_one()
    out: dict[str, list[float]] = {"on": [], "off": []}
    for block in range(blocks * 2):
        variant = ("on", "off")[(block + block // 2) % 2]  # on off off on on off …
        with engine.begin() as connection:
            if sqlite:  # (the head stays where it was: a bench, not a store)
                connection.exec_driver_sql("DROP TRIGGER IF EXISTS case_events_chain")
                if variant == "on":
                    connection.exec_driver_sql(trigger)
            else:
                verb = "ENABLE" if variant == "on" else "DISABLE"
                connection.exec_driver_sql(
                    f"ALTER TABLE case_events {verb} TRIGGER case_events_chain"
                )
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            if not sqlite:  # the trigger function's own time, as PostgreSQL counts it
                cursor.execute("SET track_functions = 'pl'")
                cursor.execute("SELECT pg_stat_reset()")
                raw.commit()
            param = at if sqlite else now
            start = time.perf_counter()
            for _ in range(n):
                cursor.execute(insert, (param,))
                raw.commit()
            out[variant].append((time.perf_counter() - start) / n * 1e6)
            if not sqlite and variant == "on":
                cursor.execute("SELECT pg_stat_force_next_flush()")
                raw.commit()
                time.sleep(1.2)
                cursor.execute(
                    "SELECT total_time, calls FROM pg_stat_user_functions"
                    " WHERE funcname = 'case_events_chain'"
                )
                total_ms, calls = cursor.fetchone() or (0.0, 0)
                raw.commit()
                if calls:
                    out.setdefault("trigger", []).append(total_ms * 1000 / calls)
            cursor.close()
        finally:
            raw.close()
    engine.dispose()
    return out


def backfill(url: str, n: int) -> dict[str, float]:
    """Seconds for migration 0007 to link ``n`` stored events, and for ``verify`` to walk them."""
    from agent_tui.server.audit_chain import verify

    migrate(url, "0005")
    engine = make_engine(url)
    case = json.dumps({"content": [None, "金山路与骏达路交叉口北侧商铺张贴小广告" * 8]})
    with engine.begin() as connection:
        connection.execute(sa.text(_ONE_CASE), {"u": "u", "now": datetime.now(UTC)})
        cast = "CAST(:at AS TIMESTAMP)" if engine.dialect.name == "postgresql" else ":at"
        connection.execute(
            sa.text(
                "INSERT INTO case_events (case_id, case_uuid, seq, step, actor, role, at,"
                " from_status, to_status, reason, changes, version) VALUES (1, 'u', 1,"
                f" 'register', 'agent01', 'agent', {cast}, NULL, 'registered', '', :c, 1)"
            ),
            [{"at": f"2026-11-26 01:00:00.{i % 1_000_000:06d}", "c": case} for i in range(n)],
        )
    engine.dispose()
    start = time.perf_counter()
    migrate(url)
    migrated = time.perf_counter() - start
    engine = make_engine(url)
    start = time.perf_counter()
    report = verify(engine)
    walked = time.perf_counter() - start
    engine.dispose()
    assert report.clean and report.events == n, report.breaks[:1]
    return {"events": n, "migration_s": migrated, "verify_s": walked}


def profile_run(engine: str, chain: str, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        command = [
            sys.executable,
            str(HERE / "server_profile.py"),
            *("--engine", engine, "--cases", str(args.cases), "--calls", str(args.calls)),
            *("--seconds", str(args.seconds), "--rounds", str(args.rounds)),
            *("--audit-chain", chain, "--json", out.name),
        ]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        return json.loads(Path(out.name).read_text())  # type: ignore[no-any-return]


def spread(values: list[float]) -> str:
    digits = 2 if max(values) < 10 else 0
    return (
        f"{statistics.median(values):,.{digits}f} "
        f"({min(values):,.{digits}f}–{max(values):,.{digits}f})"
    )


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--engines", default="sqlite,postgres")
    p.add_argument("--pairs", type=int, default=3)
    p.add_argument("--cases", type=int, default=20_000)
    p.add_argument("--calls", type=int, default=1_500)
    p.add_argument("--seconds", type=float, default=3)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--raw", type=int, default=3_000, help="raw inserts per block")
    p.add_argument("--backfill", type=int, default=0, help="events for migration 0007 to link")
    p.add_argument("--out", type=Path, default=HERE / "results" / "audit_chain.json")
    args = p.parse_args()
    results: dict[str, Any] = {"args": {k: str(v) for k, v in vars(args).items()}}
    for engine in args.engines.split(","):
        work = Path(tempfile.mkdtemp(prefix="bench-chain-"))
        try:
            if engine == "sqlite":
                url = f"sqlite:///{work / 'raw.db'}"
                raw = raw_inserts(url, args.raw, args.pairs)
                if args.backfill:
                    old = f"sqlite:///{work / 'old.db'}"
                    results[f"{engine} backfill"] = backfill(old, args.backfill)
            else:
                sys.path.insert(0, str(HERE.parent / "tests"))
                from pg import PgCluster

                with PgCluster() as pg:
                    pg.create_database("raw")
                    raw = raw_inserts(pg.url("raw"), args.raw, args.pairs)
                    if args.backfill:
                        pg.create_database("old")
                        results[f"{engine} backfill"] = backfill(pg.url("old"), args.backfill)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        runs: dict[str, list[dict[str, Any]]] = {"on": [], "off": []}
        for pair in range(args.pairs):
            for chain in ("off", "on") if pair % 2 == 0 else ("on", "off"):
                runs[chain].append(profile_run(engine, chain, args))
                print(f"{engine} pair {pair + 1} chain {chain}: done", flush=True)
        table: dict[str, dict[str, list[float]]] = {}
        for chain, made in runs.items():
            for r in made:
                for key in ("create", "dispatch"):
                    table.setdefault(f"in process {key}/s", {}).setdefault(chain, []).append(
                        r["in_process"][key]["per_s"]
                    )
                    table.setdefault(f"in process CPU ms/{key}", {}).setdefault(chain, []).append(
                        r["in_process"][key]["cpu_ms"]
                    )
                    table.setdefault(f"HTTP {key}/s", {}).setdefault(chain, []).append(
                        statistics.median(r["http"][key]["rate_rounds"])
                    )
                    table.setdefault(f"server CPU ms/{key}", {}).setdefault(chain, []).append(
                        r["http"][key]["server_cpu_ms"]
                    )
        trigger = [
            r["in_process"]["trigger"]["us_per_call"]
            for r in runs["on"]
            if "trigger" in r["in_process"]
        ]
        if trigger:
            table["trigger µs per event, store's writes (PostgreSQL's count)"] = {
                "on": trigger,
                "off": [0.0],
            }
        table["raw event insert µs"] = {"on": raw["on"], "off": raw["off"]}
        if raw.get("trigger"):
            table["trigger function µs (PostgreSQL's count)"] = {
                "on": raw["trigger"],
                "off": [0.0],
            }
        if args.backfill:
            print(f"{engine} backfill: {results[f'{engine} backfill']}")
        if not args.pairs:
            continue
        results[engine] = table
        print(f"\n{engine}: median (min–max) over {args.pairs} runs each, chain on vs off")
        for what, by in table.items():
            off = statistics.median(by["off"])
            ratio = statistics.median(by["on"]) / off if off else float("nan")
            print(f"  {what:<26} on {spread(by['on']):<26} off {spread(by['off']):<26} {ratio:.3f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
