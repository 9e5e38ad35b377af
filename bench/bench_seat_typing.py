"""The seat while an agent types for minutes: keystroke → frame, and the collector's pauses.

    python bench/bench_seat_typing.py                   # both variants, >= 1,000 keys each
    python bench/bench_seat_typing.py --keys 300 --book 20000   # quicker

``bench_seat_ui.py`` types query after query with no pause; an agent does not. Here each variant
runs in a fresh process against a real central store (``agent-tui serve``, SQLite) with the
address book of ``bench_seat_ui.py`` (100,000 entries by default), and types as at a seat: a
query in the address pick-list, a pause, a query in the category pick-list, a pause, Tab through
a few fields (the Footer redraws its keys), a pause — the pauses drawn at random (seeded) from
0.4–3 s — until at least ``--keys`` keys were measured. Latency per key as in
``bench_seat_ui.py``: from the key sent to the end of the first frame that shows the pick-list's
new options, terminal bytes included; every garbage collection is logged with its generation.

Variants:

* ``before`` — the seat as it was: Textual's Footer (recomposed at each focus change, keeping
  every removed key alive) and ``gc.freeze()`` once after start-up, CPython's thresholds;
* ``app`` — the seat as it is: ``SteadyFooter`` and the ``IdleCollector`` (full collections in
  the pauses).

Target (issue 13): max keystroke → frame ≤ 50 ms on a quiet machine.
Writes ``bench/results/seat_typing.json`` and prints markdown tables.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from percentiles import percentile

RESULTS = Path(__file__).resolve().parent / "results" / "seat_typing.json"
VARIANTS = ("before", "app")


def as_before() -> None:
    """The seat before: the stock Footer, and only a ``gc.freeze()`` after start-up."""
    from textual.widgets import Footer

    import agent_tui.screens.board
    import agent_tui.screens.case_detail
    import agent_tui.screens.entry
    import agent_tui.screens.login
    import agent_tui.screens.lookup
    import agent_tui.screens.queues
    from agent_tui.widgets.collector import IdleCollector

    for module in (
        agent_tui.screens.board,
        agent_tui.screens.case_detail,
        agent_tui.screens.entry,
        agent_tui.screens.login,
        agent_tui.screens.lookup,
        agent_tui.screens.queues,
    ):
        module.SteadyFooter = Footer  # type: ignore[attr-defined,misc]
    IdleCollector.start = lambda self: gc.freeze()  # type: ignore[method-assign,assignment]


async def session(variant: str, url: str, work: Path, book: Path, keys: int) -> dict[str, Any]:
    from bench_seat_ui import PASSWORD, USER, FrameClock, load_gazetteer, type_and_time, typing_plan
    from textual.widgets import Input

    if variant == "before":
        as_before()
    from agent_tui.app import make_app
    from agent_tui.client.seat import Seat
    from agent_tui.config import Settings
    from agent_tui.data.addresses import read_address_csv
    from agent_tui.data.indexes import default_reference
    from agent_tui.screens.entry import CaseEntryScreen

    rng = random.Random(1313)
    ref = default_reference()
    names = [e.name for e in load_gazetteer()] + [e.name for e in read_address_csv(book)[:5000]]
    address_plans = typing_plan(names, keys, rng)
    category_plans = typing_plan([c.name for c in ref.leaves()], keys, rng)

    clock = FrameClock()
    clock.install()
    settings = Settings(data_dir=work / "seat", address_book=book)
    app = make_app(settings, Seat(url, USER, PASSWORD, work / "seat"))
    rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CaseEntryScreen), screen
        for field in ("address", "category"):
            clock.watch(screen.query_one(f"#{field}"))
        clock.gc.clear()
        fields = [w for w in screen.query(Input) if w.can_focus][:6]
        i = 0
        while len(rows) < keys:
            await asyncio.sleep(rng.uniform(0.4, 3.0))
            rows += await type_and_time(pilot, clock, "address", [address_plans[i]])
            await asyncio.sleep(rng.uniform(0.4, 3.0))
            rows += await type_and_time(pilot, clock, "category", [category_plans[i]])
            await asyncio.sleep(rng.uniform(0.4, 3.0))
            fields[i % len(fields)].focus()
            for _ in range(3):
                await pilot.press("tab")
            i += 1
        elapsed = time.perf_counter() - started
        history = list(app.collector.history)
    clock.uninstall()
    latency = sorted(r["latency_ms"] for r in rows)
    gen2 = [round((b - a) * 1000, 1) for g, a, b in clock.gc if g == 2]
    return {
        "variant": variant,
        "keys": len(rows),
        "minutes": elapsed / 60,
        "latency_ms": {
            "p50": percentile(latency, 50),
            "p95": percentile(latency, 95),
            "p99": percentile(latency, 99),
            "max": latency[-1],
        },
        "keys_over_50ms": sum(1 for v in latency if v > 50),
        "gc_in_keys_max_ms": max((r["gc_ms"] for r in rows), default=0.0),
        "collections": [sum(1 for c in clock.gc if c[0] == g) for g in (0, 1, 2)],
        "gen2_ms": gen2,
        "collector": [{"kind": c.kind, "ms": round(c.ms, 1)} for c in history],
        "slowest": sorted(rows, key=lambda r: -r["latency_ms"])[:5],
    }


def child(args: argparse.Namespace) -> int:
    out = asyncio.run(session(args.child, args.url, args.work, args.book_path, args.keys))
    args.out.write_text(json.dumps(out, ensure_ascii=False))
    return 0


def summarize(c: list[dict[str, Any]], kind: str) -> str:
    ms = sorted(x["ms"] for x in c if x["kind"] == kind)
    if not ms:
        return "—"
    return f"{len(ms)} × p50 {percentile(ms, 50):.1f} / max {ms[-1]:.1f}"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--keys", type=int, default=1000, help="measured keys per variant (at least)")
    p.add_argument("--book", type=int, default=100_000, help="address book entries")
    p.add_argument("--variants", default=",".join(VARIANTS))
    p.add_argument("--out", type=Path, default=RESULTS)
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--url", help=argparse.SUPPRESS)
    p.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--book-path", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        return child(args)

    from bench_seat_ui import start_central, write_book

    work = Path(tempfile.mkdtemp(prefix="bench-seat-typing-"))
    results: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "nproc": os.cpu_count(),
        "book": args.book,
        "loadavg_start": list(os.getloadavg()),
        "variants": {},
    }
    server = None
    try:
        book = work / "book.csv"
        write_book(book, args.book)
        server = start_central(work)
        for variant in args.variants.split(","):
            out = work / f"{variant}.json"
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    *("--child", variant, "--url", server.url, "--keys", str(args.keys)),
                    *("--work", str(work / variant), "--book-path", str(book), "--out", str(out)),
                ],
                check=True,
            )
            results["variants"][variant] = json.loads(out.read_text())
            print(f"  {variant}: done", flush=True)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    results["loadavg_end"] = list(os.getloadavg())
    print(
        "| variant | keys | minutes | p50 ms | p95 ms | p99 ms | max ms | keys > 50 ms "
        "| gen-2 collections (ms, max) | seat's collections |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for name, r in results["variants"].items():
        lat = r["latency_ms"]
        gen2 = r["gen2_ms"]
        seat = "; ".join(
            f"{k} {summarize(r['collector'], k)}" for k in ("start", "pause", "backlog", "whole")
        )
        print(
            f"| {name} | {r['keys']} | {r['minutes']:.1f} | {lat['p50']:.1f} | {lat['p95']:.1f}"
            f" | {lat['p99']:.1f} | {lat['max']:.1f} | {r['keys_over_50ms']}"
            f" | {len(gen2)}, {max(gen2, default=0):.0f} | {seat} |"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
