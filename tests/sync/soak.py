"""A soak of the central store on PostgreSQL, as a quiet day with a bad hour looks to it.

Seat-like writers talk to a real ``agent-tui serve`` (several worker processes, logged in to
PostgreSQL as the runtime role) through the HTTP API: each creates cases, dispatches them and
signs them as the department, with random quiet gaps between writes (so pooled connections sit
idle, the case that once answered every write with a 500). In the middle PostgreSQL is stopped
and started again, later the server is SIGKILLed (every process) and started again. A writer
does what a seat's outbox does: it sends the same write, with the same ids, until it is
answered, backing off after a 503 or a lost connection.

``run_soak`` returns what happened; the test (``tests/sync/test_soak.py``) and the longer run
(``bench/soak.py``) judge it: no answer of 500, 503s and lost connections only inside the
outages, every acknowledged write stored exactly once, and the audit chain clean.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from agent_tui.config import Settings
from agent_tui.domain.case import Role
from agent_tui.server import pg_roles
from agent_tui.server.audit_chain import verify
from agent_tui.server.auth import hash_password
from agent_tui.server.db import make_engine
from agent_tui.server.embedded import ServerProcess
from agent_tui.server.models import UserRow
from agent_tui.server.seed import seed_database
from tests.pg import PgCluster

PASSWORD = "demo1234"
OWNER, RUNTIME = "soak_owner", "soak_app"
DEPARTMENT, DEPARTMENT_USER = "CGJ", "soak_cgj"


@dataclass
class SoakConfig:
    seconds: float = 90.0  # of writing
    writers: int = 5
    max_gap: float = 5.0  # a writer's quiet gap: uniform in [0, max_gap] seconds
    workers: int = 2  # server processes
    pg_restart_at: float = 0.35  # share of ``seconds``
    pg_down: float = 3.0
    server_kill_at: float = 0.65
    server_down: float = 2.0
    grace: float = 2.0  # after an outage ends, errors may still come back for so long
    seed: int = 12345


@dataclass
class Attempt:
    writer: int
    kind: str  # create | dispatch | sign
    key: str  # the case uuid (create) or the command id (a step)
    start: float
    end: float
    status: int  # 0: no answer (connection refused, reset, timed out)
    error: str = ""


@dataclass
class SoakReport:
    config: SoakConfig
    attempts: list[Attempt] = field(default_factory=list)
    outages: list[tuple[str, float, float]] = field(default_factory=list)  # (what, from, to)
    acknowledged: dict[str, str] = field(default_factory=dict)  # key -> kind
    steps_of: dict[str, list[str]] = field(default_factory=dict)  # case uuid -> acked steps
    stored: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    started: float = 0.0

    def statuses(self) -> Counter[int]:
        return Counter(a.status for a in self.attempts)

    def in_outage(self, attempt: Attempt) -> bool:
        grace = self.config.grace
        return any(lo <= attempt.end and attempt.start <= hi + grace for _, lo, hi in self.outages)

    def misplaced_errors(self) -> list[Attempt]:
        """503s and lost connections outside every outage window."""
        return [a for a in self.attempts if a.status in (0, 503) and not self.in_outage(a)]

    def summary(self) -> str:
        statuses = ", ".join(f"{k or 'no answer'}: {v}" for k, v in sorted(self.statuses().items()))
        kinds = Counter(self.acknowledged.values())
        lines = [
            f"{len(self.attempts)} requests ({statuses}); acknowledged: "
            + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())),
            "outages: "
            + "; ".join(
                f"{w} {lo - self.started:.1f}–{hi - self.started:.1f} s"
                for w, lo, hi in self.outages
            ),
            f"stored: {self.stored}",
        ]
        lines += [f"PROBLEM: {p}" for p in self.problems]
        return "\n".join(lines)


class _Writer(threading.Thread):
    """One seat: an agent who creates and dispatches, and its department who signs."""

    def __init__(
        self,
        index: int,
        base: str,
        tokens: dict[str, str],
        report: SoakReport,
        until: float,
        rng: random.Random,
        lock: threading.Lock,
    ) -> None:
        super().__init__(name=f"soak-writer-{index}", daemon=True)
        self.index, self.base, self.report, self.until = index, base, report, until
        self.rng, self.lock = rng, lock
        self.agent, self.department = f"soak_agent{index:02d}", DEPARTMENT_USER
        self.clients = {
            user: httpx.Client(
                base_url=base,
                timeout=httpx.Timeout(30.0, connect=2.0),
                headers={"Authorization": f"Bearer {tokens[user]}"},
            )
            for user in (self.agent, self.department)
        }
        self.cases: list[dict[str, Any]] = []  # the writer's cases, as last answered

    def run(self) -> None:
        try:
            while time.monotonic() < self.until:
                time.sleep(self.rng.uniform(0, self.report.config.max_gap))
                self.one_write()
        finally:
            for client in self.clients.values():
                client.close()

    def one_write(self) -> None:
        registered = [c for c in self.cases if c["status"] == "registered"]
        dispatched = [c for c in self.cases if c["status"] == "dispatched"]
        roll = self.rng.random()
        if dispatched and roll < 0.3:
            case = self.rng.choice(dispatched)
            body = {"command_id": str(uuid.uuid4()), "version": case["version"]}
            self.send("sign", self.department, f"/api/cases/{case['uuid']}/sign", body, case)
        elif registered and roll < 0.65:
            case = self.rng.choice(registered)
            body = {
                "command_id": str(uuid.uuid4()),
                "version": case["version"],
                "department": DEPARTMENT,
            }
            self.send("dispatch", self.agent, f"/api/cases/{case['uuid']}/dispatch", body, case)
        else:
            body = {
                "uuid": str(uuid.uuid4()),
                "appeal_type": "complaint",
                "content": f"金山路与骏达路交叉口北侧路灯不亮（坐席 {self.index}）",
                "caller_phone": "13912345678",
                "category": "0101",
                "address": {"county": "驿城区", "road": "金山路与骏达路交叉口"},
            }
            self.send("create", self.agent, "/api/cases", body, None)

    def send(
        self, kind: str, user: str, path: str, body: dict[str, Any], case: dict[str, Any] | None
    ) -> None:
        """The outbox: the same request until it is answered (2xx or a refusal)."""
        key = body.get("command_id") or body["uuid"]
        delay = 0.2
        while True:
            start = time.monotonic()
            status, error, answer = 0, "", None
            try:
                r = self.clients[user].post(path, json=body)
                status = r.status_code
                answer = (
                    r.json()
                    if r.headers.get("content-type", "").startswith("application/json")
                    else None
                )
                if status >= 400:
                    error = r.text[:300]
            except httpx.TransportError as exc:
                error = f"{type(exc).__name__}: {exc}"
            with self.lock:
                self.report.attempts.append(
                    Attempt(self.index, kind, key, start, time.monotonic(), status, error)
                )
            if status in (200, 201):
                assert answer is not None
                with self.lock:
                    self.report.acknowledged[key] = kind
                    self.report.steps_of.setdefault(answer["uuid"], []).append(kind)
                if case is None:
                    self.cases.append(answer)
                else:
                    case.update(answer)
                return
            if status not in (0, 503):  # refused (or a 500): no point in sending it again
                if case is not None:
                    self.cases.remove(case)  # and no more steps on a case in doubt
                return
            time.sleep(delay)
            delay = min(2.0, delay * 2)


def _tokens(base: str, users: list[str]) -> dict[str, str]:
    tokens = {}
    with httpx.Client(base_url=base, timeout=30) as client:
        for user in users:
            r = client.post("/api/auth/login", json={"user_id": user, "password": PASSWORD})
            r.raise_for_status()
            tokens[user] = r.json()["token"]
    return tokens


def kill_server(server: ServerProcess) -> None:
    """SIGKILL the server and every worker process it started: a power cut, as it sees it."""
    assert server.proc is not None
    parent = server.proc.pid
    for proc in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError):
            if (proc / "stat").read_text().rsplit(")", 1)[1].split()[1] == str(parent):
                os.kill(int(proc.name), signal.SIGKILL)
    server.kill()


def prepare(cluster: PgCluster, database: str, data_dir: Path, writers: int) -> tuple[str, str]:
    """The store as the README makes it: two roles, migrated and seeded as the owner; the
    soak's accounts. Returns (owner URL, runtime URL)."""
    admin = cluster.url("postgres")
    pg_roles.create_roles(admin, OWNER, RUNTIME, database)
    base = pg_roles.with_database(admin, database)
    owner_url, runtime_url = pg_roles.with_user(base, OWNER), pg_roles.with_user(base, RUNTIME)
    seed_database(Settings(data_dir=data_dir, db_url=owner_url), demo=False)
    pg_roles.grant(owner_url, RUNTIME)
    engine = make_engine(owner_url)
    digest, now = hash_password(PASSWORD), datetime.now(UTC)
    with Session(engine) as session, session.begin():
        users = [(f"soak_agent{i:02d}", Role.AGENT, "") for i in range(writers)]
        for user_id, role, department in [*users, (DEPARTMENT_USER, Role.DEPARTMENT, DEPARTMENT)]:
            session.add(
                UserRow(
                    user_id=user_id,
                    name=user_id,
                    role=role,
                    department=department,
                    password_hash=digest,
                    created_at=now,
                )
            )
    engine.dispose()
    return owner_url, runtime_url


def run_soak(cluster: PgCluster, work: Path, config: SoakConfig, log: Any = None) -> SoakReport:
    say = log or (lambda _msg: None)
    database = f"soak_{uuid.uuid4().hex[:8]}"
    owner_url, runtime_url = prepare(cluster, database, work / "seed", config.writers)
    server = ServerProcess(runtime_url, work / "server", workers=config.workers)
    server.start(timeout=60)
    report = SoakReport(config)
    try:
        users = [f"soak_agent{i:02d}" for i in range(config.writers)] + [DEPARTMENT_USER]
        tokens = _tokens(server.url, users)
        rng = random.Random(config.seed)
        lock = threading.Lock()
        report.started = time.monotonic()
        until = report.started + config.seconds
        writers = [
            _Writer(i, server.url, tokens, report, until, random.Random(rng.random()), lock)
            for i in range(config.writers)
        ]
        for w in writers:
            w.start()
        events = sorted([(config.pg_restart_at, "postgresql"), (config.server_kill_at, "server")])
        for share, what in events:
            time.sleep(max(0.0, report.started + share * config.seconds - time.monotonic()))
            began = time.monotonic()
            if what == "postgresql":
                say(f"{began - report.started:.1f} s: PostgreSQL stops")
                cluster.stop_server("fast")
                time.sleep(config.pg_down)
                cluster.start_server()
            else:
                say(f"{began - report.started:.1f} s: the server is SIGKILLed")
                kill_server(server)
                time.sleep(config.server_down)
                server.start(timeout=60)
            report.outages.append((what, began, time.monotonic()))
            say(f"{time.monotonic() - report.started:.1f} s: {what} is back")
        for w in writers:
            w.join(timeout=config.seconds + 120)
            if w.is_alive():
                report.problems.append(f"{w.name} did not finish")
    finally:
        server.stop()
    check(report, owner_url)
    return report


def check(report: SoakReport, owner_url: str) -> None:
    """What the database holds against what was acknowledged."""
    engine = sa.create_engine(owner_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            cases = dict(connection.execute(sa.text("SELECT uuid, id FROM cases")).all())
            events = Counter(
                (u, s)
                for u, s in connection.execute(
                    sa.text("SELECT case_uuid, step FROM case_events")
                ).all()
            )
            keys = set(connection.execute(sa.text("SELECT key FROM idempotency_keys")).scalars())
        chain = verify(engine)
    finally:
        engine.dispose()
    creates = {k for k, kind in report.acknowledged.items() if kind == "create"}
    steps = {k for k, kind in report.acknowledged.items() if kind != "create"}
    report.stored = {
        "cases": len(cases),
        "events": sum(events.values()),
        "chain": f"clean, {chain.events} events" if chain.clean else f"{chain.broken} breaks",
    }
    if set(cases) != creates:
        report.problems.append(
            f"cases stored {len(cases)}, acknowledged creates {len(creates)}: "
            f"missing {sorted(creates - set(cases))[:3]}, "
            f"unacknowledged {sorted(set(cases) - creates)[:3]}"
        )
    for case_uuid, acked in report.steps_of.items():
        want = Counter({"register": 1, **Counter(s for s in acked if s != "create")})
        got = Counter({s: n for (u, s), n in events.items() if u == case_uuid})
        if got != want:
            report.problems.append(
                f"case {case_uuid}: events {dict(got)}, acknowledged {dict(want)}"
            )
    if not steps <= keys:
        report.problems.append(f"{len(steps - keys)} acknowledged steps without their answer")
    if not chain.clean:
        report.problems.append(f"audit chain: {chain.breaks[0].describe_en()}")
    if chain.events != sum(events.values()):
        report.problems.append(f"chain has {chain.events} events, the log {sum(events.values())}")
