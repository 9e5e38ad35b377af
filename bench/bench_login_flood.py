"""A login flood against a real ``agent-tui serve``: /health, a real user's login, memory.

Usage::

    python bench/bench_login_flood.py [--engines sqlite,postgres] [--variants before,after]
        [--before-rev REV] [--senders 50] [--rate 10 | --closed] [--seconds 30]
        [--quiet-seconds 15] [--quick]

For each engine and variant: a fresh database, ``python -m agent_tui.cli serve`` (the
``agent-tui serve`` entry point; ``before`` runs the code of ``--before-rev`` from a
``git archive`` export on ``PYTHONPATH``, ``after`` this work tree), then two phases:

1. quiet (``--quiet-seconds``): probes only;
2. flood (``--seconds``): ``--senders`` senders in a separate process, each from its own
   loopback address (127.0.2.N), each try a new random user id and a wrong password. Open loop
   at ``--rate`` tries/s in all (the issue's ≈ 10/s), or ``--closed``: each sender tries again
   the moment it has an answer (Retry-After ignored).

Probes (this process), the same in both phases, open loop: ``GET /api/health`` every 0.1 s;
``agent01`` logging in every 1 s from 127.0.0.1, where it logged in before (a seat); and
``agent02`` every 1 s from a new address each time (a first login at a new machine; told to
wait, it waits Retry-After and tries again, up to three times, as a person would).
Peak memory: the server's ``VmHWM`` (peak RSS) from /proc at the end of each phase.

Every client speaks raw HTTP/1.1 over asyncio sockets (one connection per request), light
enough not to measure itself on 2 cores (docs: an httpx client tops out ≈ 620 req/s on a
core); the flood runs in its own process and its CPU time is reported.
Results: ``bench/results/login_flood.json`` and a table on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import string
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from percentiles import percentile

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results" / "login_flood.json"
PASSWORD = "Tianzhong-Flood-2026"
HOST = "127.0.0.1"


# --- raw HTTP ---------------------------------------------------------------------------------


async def http(
    port: int,
    method: str,
    path: str,
    body: bytes = b"",
    local: str | None = None,
    timeout: float = 60.0,
) -> tuple[int, dict[str, str], bytes, float]:
    """One request on its own connection: (status, headers, body, seconds); status 0 when
    the server did not answer within ``timeout`` or closed the connection."""
    started = time.perf_counter()
    writer = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(
                HOST, port, local_addr=(local, 0) if local else None
            )
            head = (
                f"{method} {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nConnection: close\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            )
            writer.write(head.encode() + body)
            raw = await reader.readuntil(b"\r\n\r\n")
            lines = raw.decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            data = await reader.readexactly(int(headers.get("content-length", "0")))
            return status, headers, data, time.perf_counter() - started
    except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
        return 0, {}, b"", time.perf_counter() - started
    finally:
        if writer is not None:
            writer.close()


def login_body(user: str, password: str) -> bytes:
    return json.dumps({"user_id": user, "password": password}).encode()


# --- the flood (its own process) ----------------------------------------------------------------


async def flood(
    port: int, senders: int, rate: float, seconds: float, closed: bool
) -> dict[str, Any]:
    rng = random.Random(14)
    statuses: dict[str, int] = {}
    latencies: list[float] = []
    pending: set[asyncio.Task[None]] = set()
    ends = time.monotonic() + seconds

    def random_id() -> str:
        return "u" + "".join(rng.choices(string.ascii_lowercase + string.digits, k=9))

    async def one(address: str) -> None:
        status, _h, _b, took = await http(
            port, "POST", "/api/auth/login", login_body(random_id(), "wrong-password"), address
        )
        statuses[str(status)] = statuses.get(str(status), 0) + 1
        latencies.append(took)

    async def sender(n: int) -> None:
        address = f"127.0.2.{n + 1}"
        if closed:
            while time.monotonic() < ends:
                await one(address)
            return
        gap = senders / rate  # each sender's share of the offered rate, Poisson arrivals
        await asyncio.sleep(rng.uniform(0, gap))
        while time.monotonic() < ends:
            task = asyncio.create_task(one(address))
            pending.add(task)
            task.add_done_callback(pending.discard)
            await asyncio.sleep(rng.expovariate(1 / gap))

    await asyncio.gather(*(sender(n) for n in range(senders)))
    if pending:  # answers still owed at the end count as they come (bounded by http's timeout)
        await asyncio.wait(pending, timeout=60)
    cpu = os.times()
    return {
        "statuses": statuses,
        "tries": sum(statuses.values()),
        "latency_p50": percentile(latencies, 50) if latencies else None,
        "latency_p99": percentile(latencies, 99) if latencies else None,
        "cpu_seconds": cpu.user + cpu.system,
    }


# --- probes -----------------------------------------------------------------------------------


class Probes:
    def __init__(self, port: int) -> None:
        self.port = port
        self.health: list[tuple[int, float]] = []
        self.seat: list[tuple[int, float]] = []
        self.new_machine: list[tuple[int, float]] = []
        self.new_machine_refusals = 0
        self._address = 0

    async def run(self, seconds: float) -> None:
        tasks: set[asyncio.Task[None]] = set()

        async def health() -> None:
            status, _h, _b, took = await http(self.port, "GET", "/api/health")
            self.health.append((status, took))

        async def seat() -> None:
            status, _h, _b, took = await http(
                self.port, "POST", "/api/auth/login", login_body("agent01", PASSWORD), HOST
            )
            self.seat.append((status, took))

        async def new_machine() -> None:
            """As a person would: told to wait (429/503), wait Retry-After and try again (up
            to three times); the time is until the login went through."""
            self._address += 1
            address = f"127.0.1.{self._address % 250 + 1}"
            started = time.perf_counter()
            for _ in range(4):
                status, headers, _b, _took = await http(
                    self.port, "POST", "/api/auth/login", login_body("agent02", PASSWORD), address
                )
                if status not in (429, 503):
                    break
                self.new_machine_refusals += 1
                await asyncio.sleep(float(headers.get("retry-after", "1")))
            self.new_machine.append((status, time.perf_counter() - started))

        started = time.monotonic()
        tick = 0
        while (now := time.monotonic()) - started < seconds:
            probes = [health]
            if tick % 10 == 0:
                probes.append(seat)
            if tick % 10 == 5:
                probes.append(new_machine)
            for probe in probes:
                task = asyncio.create_task(probe())
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            tick += 1
            await asyncio.sleep(max(0.0, started + tick * 0.1 - now))
        if tasks:
            await asyncio.wait(tasks, timeout=90)


def summary(samples: list[tuple[int, float]]) -> dict[str, Any]:
    ok = [t * 1000 for s, t in samples if s == 200]
    codes: dict[str, int] = {}
    for s, _t in samples:
        codes[str(s)] = codes.get(str(s), 0) + 1
    return {
        "n": len(samples),
        "codes": codes,
        "p50_ms": round(percentile(ok, 50), 1) if ok else None,
        "p99_ms": round(percentile(ok, 99), 1) if ok else None,
        "max_ms": round(max(ok), 1) if ok else None,
    }


# --- the server -------------------------------------------------------------------------------


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) in KiB."""
    values = {}
    with contextlib.suppress(OSError), open(f"/proc/{pid}/status") as f:
        for line in f:
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = int(rest.split()[0])
    return values


def reset_peak(pid: int) -> None:
    """Linux ≥ 4.0: writing 5 to clear_refs resets VmHWM to the current RSS."""
    with contextlib.suppress(OSError), open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")


def export_before(rev: str, work: Path) -> Path:
    target = work / f"before-{rev}"
    target.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True
    )
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target


def make_users(url: str) -> None:
    sys.path.insert(0, str(ROOT))
    from sqlmodel import Session

    from agent_tui.server.auth import hash_password
    from agent_tui.server.db import make_engine
    from agent_tui.server.models import UserRow

    engine = make_engine(url)
    hashed = hash_password(PASSWORD)
    with Session(engine) as session, session.begin():
        for user_id, role in (("agent01", "agent"), ("agent02", "agent")):
            session.add(
                UserRow(
                    user_id=user_id,
                    name=user_id,
                    role=role,
                    password_hash=hashed,
                    created_at=datetime.now(UTC),
                )
            )
    engine.dispose()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


async def wait_up(port: int, timeout: float = 60) -> None:
    ends = time.monotonic() + timeout
    while time.monotonic() < ends:
        if (await http(port, "GET", "/api/health", timeout=2))[0] == 200:
            return
        await asyncio.sleep(0.2)
    raise RuntimeError("the store did not start")


async def run_variant(
    engine: str, variant: str, url: str, code: Path | None, work: Path, args: argparse.Namespace
) -> dict[str, Any]:
    port = free_port()
    data_dir = work / f"{engine}-{variant}-data"
    env = {
        **os.environ,
        "AGENT_TUI_DATA_DIR": str(data_dir),
        "AGENT_TUI_CLOCK_INTERVAL_SECONDS": "0",
        "AGENT_TUI_CONFIG": str(work / "none.toml"),
    }
    if code is not None:
        env["PYTHONPATH"] = str(code)
    log = open(work / f"{engine}-{variant}.log", "wb")  # noqa: SIM115
    server = subprocess.Popen(
        [sys.executable, "-m", "agent_tui.cli", "serve", "--db", url, "--port", str(port)],
        env=env,
        cwd=str(work),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        await wait_up(port)
        make_users(url)
        # agent01's seat: one login from 127.0.0.1 before anything is measured.
        assert (await http(port, "POST", "/api/auth/login", login_body("agent01", PASSWORD)))[
            0
        ] == 200
        result: dict[str, Any] = {"engine": engine, "variant": variant}
        for phase in ("quiet", "flood"):
            reset_peak(server.pid)
            probes = Probes(port)
            child = None
            if phase == "flood":
                mode = ["--closed"] if args.closed else ["--rate", str(args.rate)]
                child = await asyncio.create_subprocess_exec(
                    sys.executable,
                    str(Path(__file__).resolve()),
                    "--flood-child",
                    "--port",
                    str(port),
                    "--senders",
                    str(args.senders),
                    "--seconds",
                    str(args.seconds),
                    *mode,
                    stdout=asyncio.subprocess.PIPE,
                )
            await probes.run(args.seconds if phase == "flood" else args.quiet_seconds)
            memory = proc_status(server.pid)
            result[phase] = {
                "health": summary(probes.health),
                "seat_login": summary(probes.seat),
                "new_machine_login": summary(probes.new_machine),
                "new_machine_told_to_wait": probes.new_machine_refusals,
                "rss_mib": round(memory.get("VmRSS", 0) / 1024),
                "peak_rss_mib": round(memory.get("VmHWM", 0) / 1024),
            }
            if child is not None:
                out, _ = await child.communicate()
                result[phase]["flood"] = json.loads(out.decode().strip().splitlines()[-1])
            print(f"[{engine} {variant} {phase}] {json.dumps(result[phase])}", file=sys.stderr)
        return result
    finally:
        # The old code may still be hashing for minutes: SIGKILL, and let the box settle.
        server.terminate()
        try:
            server.wait(5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
        await asyncio.sleep(args.settle)


def ratio(after: float | None, before: float | None) -> str:
    return f"{after / before:.1f}×" if after and before else "—"


def print_table(results: list[dict[str, Any]]) -> None:
    print(
        "| engine | variant | phase | /health p50 / p99 ms | seat login p50 / p99 ms | "
        "new-machine login p50 / p99 ms (codes, told to wait) | peak RSS MiB | "
        "flood tries (codes) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        for phase in ("quiet", "flood"):
            p = r[phase]
            h, s, m = p["health"], p["seat_login"], p["new_machine_login"]
            f = p.get("flood", {})
            print(
                f"| {r['engine']} | {r['variant']} | {phase} | {h['p50_ms']} / {h['p99_ms']} | "
                f"{s['p50_ms']} / {s['p99_ms']} | {m['p50_ms']} / {m['p99_ms']} {m['codes']} "
                f"{p['new_machine_told_to_wait']} | "
                f"{p['peak_rss_mib']} | {f.get('tries', '')} {f.get('statuses', '')} |"
            )
        q, fl = r["quiet"], r["flood"]
        print(
            f"  ratios flood/quiet: health p99 "
            f"{ratio(fl['health']['p99_ms'], q['health']['p99_ms'])}, "
            f"seat login p50 {ratio(fl['seat_login']['p50_ms'], q['seat_login']['p50_ms'])}, "
            f"p99 {ratio(fl['seat_login']['p99_ms'], q['seat_login']['p99_ms'])}"
        )


async def main_async(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="login-flood-"))
    results: list[dict[str, Any]] = []
    try:
        before = export_before(args.before_rev, work) if "before" in args.variants else None
        for engine in args.engines:
            with contextlib.ExitStack() as stack:
                cluster = None
                if engine == "postgres":
                    sys.path.insert(0, str(ROOT / "tests"))
                    from pg import PgCluster

                    cluster = stack.enter_context(PgCluster())
                for variant in args.variants:
                    if cluster is not None:
                        cluster.create_database(variant)
                        url = cluster.url(variant)
                    else:
                        url = f"sqlite:///{work / f'{variant}.db'}"
                    code = before if variant == "before" else None
                    results.append(await run_variant(engine, variant, url, code, work, args))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    RESULTS.parent.mkdir(exist_ok=True)
    meta = {"args": vars(args), "date": datetime.now(UTC).isoformat(), "nproc": os.cpu_count()}
    RESULTS.write_text(json.dumps({"meta": meta, "results": results}, indent=2))
    print_table(results)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--engines", default="sqlite,postgres")
    p.add_argument("--variants", default="after,before")
    p.add_argument("--settle", type=float, default=20.0, help="pause after each variant, s")
    p.add_argument("--before-rev", default="7bd09eb", help="the code before issue 14's logins")
    p.add_argument("--senders", type=int, default=50)
    p.add_argument("--rate", type=float, default=10.0, help="flood tries per second in all")
    p.add_argument("--closed", action="store_true", help="each sender again at once")
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--quiet-seconds", type=float, default=15.0)
    p.add_argument("--quick", action="store_true", help="sqlite, after only, 10 s phases")
    p.add_argument("--flood-child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args, _unknown = p.parse_known_args()  # run_all.py passes its own arguments on
    if args.flood_child:
        out = asyncio.run(flood(args.port, args.senders, args.rate, args.seconds, args.closed))
        print(json.dumps(out))
        return
    if args.quick:
        args.engines, args.variants, args.seconds, args.quiet_seconds = "sqlite", "after", 10, 5
        args.settle = 0
    args.engines = [e for e in args.engines.split(",") if e]
    args.variants = [v for v in args.variants.split(",") if v]
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
