"""What the audit chain's trigger costs: the write path with and without it, side by side.

    python bench/bench_audit_chain.py                      # both engines, 3 pairs each
    python bench/bench_audit_chain.py --engines postgres --pairs 5 --cases 20000

1. The raw insert of one event (the trigger's own cost): N single-row ``INSERT INTO
   case_events`` on the driver's connection, each its own transaction as the store writes,
   on a fresh migrated database, with the trigger and with it dropped (alternating blocks).
2. The store: ``bench/server_profile.py`` (in process: ``Store.create_case`` and a dispatch;
   over HTTP: creates and dispatches at saturation, 16 connections) run ``--audit-chain on``
   and ``off`` alternately, ``--pairs`` times per engine, each run on a fresh database.

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


def raw_inserts(url: str, n: int, blocks: int) -> dict[str, list[float]]:
    """Microseconds per single-row event insert (own transaction), trigger on / off."""
    migrate(url)
    engine = make_engine(url)
    now = datetime.now(UTC)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
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
            ),
            {"u": str(uuid.uuid4()), "now": now},
        )
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
            param = at if engine.dialect.name == "sqlite" else now
            start = time.perf_counter()
            for _ in range(n):
                cursor.execute(insert, (param,))
                raw.commit()
            out[variant].append((time.perf_counter() - start) / n * 1e6)
            cursor.close()
        finally:
            raw.close()
    engine.dispose()
    return out


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
    p.add_argument("--out", type=Path, default=HERE / "results" / "audit_chain.json")
    args = p.parse_args()
    results: dict[str, Any] = {"args": {k: str(v) for k, v in vars(args).items()}}
    for engine in args.engines.split(","):
        work = Path(tempfile.mkdtemp(prefix="bench-chain-"))
        try:
            if engine == "sqlite":
                url = f"sqlite:///{work / 'raw.db'}"
                raw = raw_inserts(url, args.raw, args.pairs)
            else:
                sys.path.insert(0, str(HERE.parent / "tests"))
                from pg import PgCluster

                with PgCluster() as pg:
                    pg.create_database("raw")
                    raw = raw_inserts(pg.url("raw"), args.raw, args.pairs)
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
                    table.setdefault(f"HTTP {key}/s", {}).setdefault(chain, []).append(
                        statistics.median(r["http"][key]["rate_rounds"])
                    )
                    table.setdefault(f"server CPU ms/{key}", {}).setdefault(chain, []).append(
                        r["http"][key]["server_cpu_ms"]
                    )
        table["raw event insert µs"] = raw
        results[engine] = table
        print(f"\n{engine}: median (min–max) over {args.pairs} runs each, chain on vs off")
        for what, by in table.items():
            ratio = statistics.median(by["on"]) / statistics.median(by["off"])
            print(f"  {what:<26} on {spread(by['on']):<26} off {spread(by['off']):<26} {ratio:.3f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
