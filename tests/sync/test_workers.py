"""``agent-tui serve --workers 2`` on PostgreSQL, as a centre runs it: two uvicorn worker
processes, one database. Clients write at once through both; every case gets its own number
in sequence, every step is taken once, and the change feed lists every write once, in order."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from agent_tui.config import Settings
from agent_tui.server.embedded import ServerProcess
from agent_tui.server.seed import seed_database
from tests.api.helpers import case_body
from tests.conftest_pg import OWNER_ROLE, as_role

from .conftest import PASSWORD

CLIENTS = 4
CASES_EACH = 10


@pytest.fixture
def server(pg_runtime_database: Callable[[], str], tmp_path: Path) -> Iterator[ServerProcess]:
    url = pg_runtime_database()
    # The demo load as the owner; the store serves as the runtime role (README: two roles).
    seed_database(Settings(data_dir=tmp_path, db_url=as_role(url, OWNER_ROLE)), demo=True, cases=20)
    process = ServerProcess(url, tmp_path / "server", workers=2)
    process.start(timeout=60)
    yield process
    process.stop()


def login(base: str, user: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    r = client.post("/api/auth/login", json={"user_id": user, "password": PASSWORD})
    assert r.status_code == 200, r.text
    client.headers["Authorization"] = f"Bearer {r.json()['token']}"
    return client


def worker_processes(parent: int) -> int:
    """The processes uvicorn spawned as workers of ``parent``."""
    count = 0
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            ppid = (proc / "stat").read_text().rsplit(")", 1)[1].split()[1]
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        count += ppid == str(parent) and b"spawn_main" in cmdline
    return count


def test_two_workers_on_postgresql_serve_one_truth(server: ServerProcess) -> None:
    assert server.proc is not None and worker_processes(server.proc.pid) == 2
    lead = login(server.url, "lead01")
    after = lead.get("/api/changes").json()["last_seq"]
    made: list[dict[str, Any]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def seat(user: str) -> None:
        try:
            # One login per seat (as a seat does: a login a case would meet the store's
            # per-address login rate), then a connection of its own per case: the kernel hands
            # them to either worker, and each checks the token.
            first = login(server.url, user)
            token = first.headers["Authorization"]
            first.close()
            for _ in range(CASES_EACH):
                client = httpx.Client(
                    base_url=server.url, timeout=30, headers={"Authorization": token}
                )
                try:
                    r = client.post("/api/cases", json=case_body())
                    assert r.status_code == 201, r.text
                    case = r.json()
                    r = client.post(
                        f"/api/cases/{case['uuid']}/dispatch",
                        json={"command_id": case["uuid"], "version": 1, "department": "CGJ"},
                    )
                    assert r.status_code == 200, r.text
                finally:
                    client.close()
                with lock:
                    made.append(r.json())
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=seat, args=(f"agent0{i % 2 + 1}",)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors[0]
    assert len(made) == CLIENTS * CASES_EACH

    # Numbers: one each, and the day's new ones run on without a gap.
    numbers = sorted(c["number"] for c in made)
    assert len(set(numbers)) == len(numbers)
    running = sorted(int(n.rsplit("-", 1)[1]) for n in numbers if n.startswith(numbers[0][:-4]))
    assert running == list(range(running[0], running[0] + len(running)))
    # The feed: every write once (a create and a dispatch per case), in sequence order.
    seqs: list[int] = []
    seen: dict[str, int] = {}
    position = after
    while True:
        page = lead.get("/api/changes", params={"after": position, "limit": 50}).json()
        if not page["changes"]:
            break
        for change in page["changes"]:
            seqs.append(change["seq"])
            seen[change["case"]["uuid"]] = change["case"]["version"]
        position = page["last_seq"]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert {c["uuid"]: 2 for c in made}.items() <= seen.items()
    for case in made[:5]:
        events = lead.get(f"/api/cases/{case['uuid']}").json()["events"]
        assert [e["step"] for e in events] == ["register", "dispatch"]
