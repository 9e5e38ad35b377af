"""A longer soak of the central store on PostgreSQL (the suite runs a 90 s one).

    python bench/soak.py                          # 10 minutes, 8 writers, gaps 0–5 s
    python bench/soak.py --minutes 30 --writers 20 --workers 4
    python bench/soak.py --minutes 2 --max-gap 0.5 --json bench/results/soak.json

Seat-like writers (create, dispatch, sign by the department) talk to a real ``agent-tui serve``
logged in to a throwaway PostgreSQL 15 cluster as the runtime role, with random quiet gaps;
PostgreSQL is stopped for ``--pg-down`` seconds at 35 % of the run and the server SIGKILLed
(every worker) at 65 %. The harness is ``tests/sync/soak.py``; this prints its verdict: answers
by status, 503s or lost connections outside the outages, writes acknowledged against stored
(exactly once), the audit chain, and the write latency of acknowledged requests outside the
outages. Exit 1 if any check fails.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from percentiles import percentile

from tests.pg import PgCluster
from tests.sync.soak import SoakConfig, run_soak


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=10)
    p.add_argument("--writers", type=int, default=8)
    p.add_argument("--workers", type=int, default=2, help="server processes")
    p.add_argument("--max-gap", type=float, default=5.0, help="longest quiet gap, seconds")
    p.add_argument("--pg-down", type=float, default=3.0, help="seconds PostgreSQL stays down")
    p.add_argument("--server-down", type=float, default=2.0, help="seconds before the restart")
    p.add_argument("--seed", type=int, default=12345)
    p.add_argument("--json", type=Path, help="write the verdict here")
    args = p.parse_args()
    config = SoakConfig(
        seconds=args.minutes * 60,
        writers=args.writers,
        workers=args.workers,
        max_gap=args.max_gap,
        pg_down=args.pg_down,
        server_down=args.server_down,
        seed=args.seed,
    )
    work = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    t0 = time.monotonic()
    try:
        with PgCluster() as cluster:
            report = run_soak(cluster, work, config, log=lambda m: print(m, flush=True))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    misplaced = report.misplaced_errors()
    calm = [
        (a.end - a.start) * 1000
        for a in report.attempts
        if a.status in (200, 201) and not report.in_outage(a)
    ]
    statuses = report.statuses()
    verdict = {
        "config": dataclasses.asdict(config),
        "wall_seconds": round(time.monotonic() - t0, 1),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "acknowledged": len(report.acknowledged),
        "stored": report.stored,
        "misplaced_errors": len(misplaced),
        "problems": report.problems,
        "write_ms_outside_outages": {
            "p50": round(percentile(calm, 50), 1) if calm else None,
            "p99": round(percentile(calm, 99), 1) if calm else None,
            "max": round(max(calm), 1) if calm else None,
        },
    }
    print(report.summary())
    print(json.dumps(verdict, ensure_ascii=False, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(verdict, ensure_ascii=False, indent=2))
    ok = statuses[500] == 0 and not misplaced and not report.problems
    ok = ok and set(statuses) <= {200, 201, 503, 0}
    print("soak: OK" if ok else "soak: FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
