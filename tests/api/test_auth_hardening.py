"""Logins under attack, on SQLite and PostgreSQL (issue 14, findings 2, 3, 11 and 12).

* a login flood is bounded: argon2 runs on its own small pool behind a bounded queue, a full
  queue answers 503 with Retry-After at once, and ``/health`` does not wait on it;
* failures are counted per (user, address), per address and per user, atomically (several
  workers share the database), with a growing delay instead of a hard lock: an attacker
  elsewhere neither locks a user out of their own seat nor the admin out of theirs;
* old failures are purged;
* a disabled account is answered exactly as a wrong password, and revocation reaches every
  worker and every open change stream within ``token_recheck_seconds``;
* ``/api/health`` says only whether the store is alive; the feed's head needs a token.

Client addresses are set per client (``httpx.ASGITransport(client=...)``); argon2's ``verify``
is replaced by a stand-in that counts calls and can be held, so that the tests neither burn
CPU nor depend on the machine's speed.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI

from agent_tui.config import Settings
from agent_tui.server import auth as auth_module
from agent_tui.server.app import create_app
from agent_tui.server.embedded import free_port
from tests.api.conftest import _HASH, PASSWORD, FrozenClock
from tests.api.helpers import issue_tokens

NEW_PASSWORD = "Tianzhong-Shan-2026"


class Hashes:
    """Stands in for argon2's ``verify``: counts the calls, the most running at once, the
    passwords in the order they were checked; ``hold`` keeps every call waiting."""

    def __init__(self) -> None:
        self.calls = 0
        self.running = 0
        self.peak = 0
        self.order: list[str] = []
        self.delay = 0.0
        self.go = threading.Event()
        self.go.set()
        self._lock = threading.Lock()

    def hold(self) -> None:
        self.go.clear()

    def verify(self, password: str, hash_: str) -> bool:
        with self._lock:
            self.calls += 1
            self.running += 1
            self.peak = max(self.peak, self.running)
            self.order.append(password)
        try:
            if self.delay:
                time.sleep(self.delay)
            self.go.wait(20)
            return hash_ == _HASH and password in (PASSWORD, NEW_PASSWORD)
        finally:
            with self._lock:
                self.running -= 1


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> Iterator[Hashes]:
    stand_in = Hashes()
    monkeypatch.setattr(auth_module._hasher, "verify", stand_in.verify)
    yield stand_in
    stand_in.go.set()  # never leave a thread waiting


@contextlib.contextmanager
def worker(settings: Settings, clock: FrozenClock, **over: Any) -> Iterator[FastAPI]:
    """Another worker process of the store on the same database (the ``app`` fixture made the
    users), with its own settings, caches and hashing pool."""
    app = create_app(settings.model_copy(update=over), clock=clock, run_migrations=False)
    try:
        yield app
    finally:
        app.state.store.engine.dispose()


def at(app: FastAPI, address: str) -> httpx.AsyncClient:
    """A client of ``app`` that connects from ``address``."""
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://store")


async def login(client: httpx.AsyncClient, user: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post("/api/auth/login", json={"user_id": user, "password": password})


def refusal(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    assert body["code"] == code and body["message"] and body["message_en"], body
    return body


def retry_after(r: httpx.Response) -> int:
    return int(r.headers["retry-after"])


def throttle_rows(app: FastAPI) -> int:
    """Rows of every login-throttling table (today's and yesterday's schema alike)."""
    engine = app.state.store.engine
    names = [n for n in sa.inspect(engine).get_table_names() if n.startswith("login_")]
    with engine.connect() as connection:
        return sum(
            connection.execute(sa.text(f"SELECT count(*) FROM {name}")).scalar_one()
            for name in names
        )


# --- finding 2: the flood is bounded --------------------------------------------------------


async def test_a_full_hashing_queue_answers_503_at_once_and_health_does_not_wait(
    app: FastAPI, settings: Settings, clock: FrozenClock, hashes: Hashes
) -> None:
    """One hashing thread, two waiting places: of twelve logins at once one is checked, two
    wait, nine are told at once to come back (503, Retry-After). /health answers meanwhile."""
    hashes.hold()
    users = ["agent01", "agent02", "lead01", "admin", "cgj", "gaj", "by_agent"]
    with worker(settings, clock, login_hash_threads=1, login_queue_limit=2) as store:
        clients = [at(store, f"10.0.1.{i}") for i in range(12)]
        tasks = [
            asyncio.create_task(login(c, users[i % len(users)], f"wrong-{i}"))
            for i, c in enumerate(clients)
        ]
        try:
            started = time.monotonic()
            while sum(t.done() for t in tasks) < 9 and time.monotonic() - started < 5:
                await asyncio.sleep(0.01)
            assert time.monotonic() - started < 1.5  # told at once, not after a wait
            await asyncio.sleep(0.2)
            done = [t for t in tasks if t.done()]
            pending = [t for t in tasks if not t.done()]
            assert len(done) == 9 and len(pending) == 3, (len(done), len(pending))
            for task in done:
                r = task.result()
                refusal(r, 503, "busy")
                assert 1 <= retry_after(r) <= 60
            health = await asyncio.wait_for(clients[0].get("/api/health"), 2)
            assert health.status_code == 200
        finally:
            hashes.go.set()
        for r in await asyncio.gather(*pending):
            refusal(r, 401, "unauthorized")
        assert hashes.peak == 1
        for c in clients:
            await c.aclose()


async def test_a_user_back_at_their_own_seat_goes_ahead_of_the_queue(
    app: FastAPI, settings: Settings, clock: FrozenClock, hashes: Hashes
) -> None:
    """agent01 logged in from its seat before: while strangers fill the queue, its next login
    there is checked first, and a full queue of strangers does not turn it away."""
    with worker(settings, clock, login_hash_threads=1, login_queue_limit=2) as store:
        seat = at(store, "10.0.2.1")
        assert (await login(seat, "agent01")).status_code == 200
        hashes.hold()
        hashes.order.clear()
        others = ["agent02", "lead01", "admin", "cgj", "gaj", "by_agent"]
        strangers = [at(store, f"10.0.3.{i}") for i in range(6)]
        flood = [
            asyncio.create_task(login(c, others[i], f"guess-{i}")) for i, c in enumerate(strangers)
        ]
        await asyncio.sleep(0.3)  # one stranger's password checked, two queued
        mine = asyncio.create_task(login(seat, "agent01"))
        await asyncio.sleep(0.3)
        hashes.go.set()
        answer = await mine
        assert answer.status_code == 200, answer.text
        codes = Counter(r.status_code for r in await asyncio.gather(*flood))
        assert codes == {401: 3, 503: 3}
        # The seat's login was the first checked after the one already running.
        assert PASSWORD in hashes.order[:2], hashes.order
        for c in [seat, *strangers]:
            await c.aclose()


async def test_unknown_user_ids_are_counted_per_address(
    app: FastAPI, settings: Settings, clock: FrozenClock, hashes: Hashes
) -> None:
    """A new user id per try used to dodge the per-user count: the address is counted too.
    After ``login_address_max_failures`` failures that address waits, whoever it names;
    agent01 at its own seat does not."""
    with worker(settings, clock, login_address_max_failures=8) as store:
        seat, attacker = at(store, "10.0.4.1"), at(store, "10.0.4.66")
        assert (await login(seat, "agent01")).status_code == 200
        for i in range(8):
            refusal(await login(attacker, f"user{i:03d}", "x"), 401, "unauthorized")
        r = await login(attacker, "user999", "x")
        refusal(r, 429, "throttled")
        assert 1 <= retry_after(r) <= 60
        refusal(await login(attacker, "agent02"), 429, "throttled")  # even a right password
        assert (await login(seat, "agent01")).status_code == 200
        await seat.aclose()
        await attacker.aclose()


async def test_an_address_trying_too_often_is_held_back_before_anything_runs(
    app: FastAPI, settings: Settings, clock: FrozenClock, hashes: Hashes
) -> None:
    """A sender that tries again the moment it is answered: after ``login_rate_burst`` tries
    its address gets ``login_rate_per_minute``; a try over it is answered 429 (before the
    route, the database or the hashing queue) once its Retry-After has passed, so that the
    sender cannot go faster by ignoring it. Other addresses are not affected."""
    with worker(settings, clock, login_rate_burst=5, login_rate_per_minute=120) as store:
        flood, seat = at(store, "10.0.15.66"), at(store, "10.0.15.1")
        started = time.monotonic()
        answers = [await login(flood, f"nobody{i}", "x") for i in range(12)]
        took = time.monotonic() - started
        codes = [r.status_code for r in answers]
        assert codes[:5] == [401] * 5 and 429 in codes, codes
        # After the burst, one try reaches the route every 0.5 s, the others wait for it.
        assert codes.count(401) <= 5 + math.ceil(took / 0.5) + 1, (codes, took)
        assert took >= 0.5 * codes.count(429) * 0.9, (codes, took)
        first = answers[codes.index(429)]
        body = refusal(first, 429, "throttled")
        assert retry_after(first) >= 1 and "频繁" in body["message"]
        assert (await login(seat, "agent01")).status_code == 200
        await flood.aclose()
        await seat.aclose()


async def test_old_failures_are_purged(
    app: FastAPI, settings: Settings, clock: FrozenClock, hashes: Hashes
) -> None:
    """Each unknown user id left a row forever; now rows go once nothing depends on them."""
    for i in range(20):
        async with at(app, f"10.0.5.{i}") as c:
            refusal(await login(c, f"ghost{i:03d}", "x"), 401, "unauthorized")
    assert throttle_rows(app) >= 20
    clock.advance(hours=2)
    async with at(app, "10.0.5.200") as c:
        refusal(await login(c, "ghost999", "x"), 401, "unauthorized")
    assert throttle_rows(app) <= 3  # the last try's own rows (user, address, both)


async def test_unknown_user_ids_cost_no_hashing(
    app: FastAPI, settings: Settings, clock: FrozenClock, hashes: Hashes
) -> None:
    """A made-up user id waits as long as a check takes, in the same queue, without running
    argon2 (at most once, to learn how long a check takes): a flood of them costs no CPU."""
    for i in range(10):
        async with at(app, f"10.0.6.{i}") as c:
            refusal(await login(c, f"nobody{i}", "x"), 401, "unauthorized")
    assert hashes.calls <= 1


# --- finding 3: atomic counting, a growing delay instead of a lock ---------------------------


async def test_sixty_parallel_tries_for_one_user_check_only_the_free_ones(
    app: FastAPI, settings: Settings, clock: FrozenClock, hashes: Hashes
) -> None:
    """Sixty tries for agent01 at once from one address, split between two workers on the
    same database, the right password among them: at most ``login_max_failures`` are checked
    (the issue saw 34), the others are told to wait (429); the right one gets in only if it
    was among them."""
    hashes.delay = 0.05
    passwords = [f"wrong-{i}" for i in range(59)]
    passwords.insert(random.Random(14).randrange(60), PASSWORD)
    over = {"login_queue_limit": 100, "login_rate_burst": 100}
    with worker(settings, clock, **over) as one, worker(settings, clock, **over) as two:
        clients = [at(one, "10.0.7.1"), at(two, "10.0.7.1")]
        answers = await asyncio.gather(
            *(login(clients[i % 2], "agent01", pw) for i, pw in enumerate(passwords))
        )
        codes = Counter(r.status_code for r in answers)
        if PASSWORD in hashes.order:
            # Among the five: its success clears the (user, address) count, five more follow.
            assert hashes.order.index(PASSWORD) < 5 and hashes.calls <= 10, hashes.order
        else:
            assert hashes.calls <= 5, (hashes.calls, codes)
        assert codes[401] + codes[200] == hashes.calls
        assert codes[429] == 60 - hashes.calls
        for c in clients:
            await c.aclose()


async def test_a_wrong_password_elsewhere_never_locks_a_user_out_of_their_own_seat(
    app: FastAPI, settings: Settings, clock: FrozenClock, hashes: Hashes
) -> None:
    """Five free tries per (user, address), then a delay that doubles with each further
    failure (30 s, 60 s, 120 s, ... up to 15 min) at that address only."""
    with worker(settings, clock, login_rate_burst=100) as store:
        await _growing_delay(store, clock)


async def _growing_delay(app: FastAPI, clock: FrozenClock) -> None:
    seat, attacker = at(app, "10.0.8.1"), at(app, "10.0.8.66")
    assert (await login(seat, "agent01")).status_code == 200
    for _ in range(5):
        refusal(await login(attacker, "agent01", "wrong"), 401, "unauthorized")
    r = await login(attacker, "agent01", "wrong")
    refusal(r, 429, "throttled")
    assert 25 <= retry_after(r) <= 30
    refusal(await login(attacker, "agent01"), 429, "throttled")  # even the right password
    assert (await login(seat, "agent01")).status_code == 200  # the seat is not locked out
    for expected in (60, 120, 240):
        clock.advance(seconds=retry_after(r))
        refusal(await login(attacker, "agent01", "wrong"), 401, "unauthorized")
        r = await login(attacker, "agent01", "wrong")
        refusal(r, 429, "throttled")
        assert expected - 5 <= retry_after(r) <= expected
    clock.advance(seconds=retry_after(r))
    assert (await login(attacker, "agent01")).status_code == 200  # the right one, in time
    await seat.aclose()
    await attacker.aclose()


async def test_nobody_can_lock_the_admin_out(
    app: FastAPI, clock: FrozenClock, hashes: Hashes
) -> None:
    """Forty addresses guessing the admin's password: the admin at its own desk logs in;
    an address the admin never logged in from waits (the account's own count), so that
    spreading the guesses over many addresses does not multiply them."""
    desk = at(app, "10.0.9.1")
    assert (await login(desk, "admin")).status_code == 200
    for i in range(40):
        async with at(app, f"10.0.10.{i}") as c:
            r = await login(c, "admin", f"guess-{i}")
            assert r.status_code in (401, 429), r.text
    assert (await login(desk, "admin")).status_code == 200
    async with at(app, "10.0.11.1") as new_desk:
        r = await login(new_desk, "admin")
        refusal(r, 429, "throttled")
        assert retry_after(r) <= 15 * 60
        clock.advance(seconds=retry_after(r))
        assert (await login(new_desk, "admin")).status_code == 200
    await desk.aclose()


# --- finding 11: revocation ------------------------------------------------------------------


async def test_a_disabled_account_is_answered_exactly_as_a_wrong_password(
    app: FastAPI, hashes: Hashes
) -> None:
    app.state.accounts.set_disabled("agent02")
    async with at(app, "10.0.12.1") as c:
        right = await login(c, "agent02")
        wrong = await login(c, "agent02", "wrong-one")
        nobody = await login(c, "nobody", "wrong-one")
    for r in (right, wrong, nobody):
        refusal(r, 401, "unauthorized")
        assert r.headers["www-authenticate"] == "Bearer"
    assert right.json() == wrong.json() == nobody.json()
    assert "停用" not in right.text


@pytest.mark.parametrize("change", ["disable", "password"])
async def test_revocation_reaches_every_worker_within_the_recheck_time(
    app: FastAPI, settings: Settings, clock: FrozenClock, change: str
) -> None:
    """A token checked (and cached) by another worker stops working there within
    ``token_recheck_seconds`` of a disable or a new password made elsewhere."""
    token = issue_tokens(app)["agent01"]
    headers = {"Authorization": f"Bearer {token}"}
    with worker(settings, clock, token_recheck_seconds=0.3) as other:
        async with at(other, "10.0.13.1") as c:
            assert (await c.get("/api/auth/me", headers=headers)).status_code == 200
            if change == "disable":
                app.state.accounts.set_disabled("agent01")
            else:
                app.state.accounts.set_password("agent01", NEW_PASSWORD)
            await asyncio.sleep(0.5)
            refusal(await c.get("/api/auth/me", headers=headers), 401, "unauthorized")


@contextlib.asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    """``app`` behind a real uvicorn on loopback (streams need real HTTP)."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, log_level="error")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, 10)


@pytest.mark.parametrize("change", ["disable", "password"])
async def test_an_open_change_stream_ends_when_its_token_is_revoked(
    app: FastAPI, settings: Settings, clock: FrozenClock, change: str
) -> None:
    """The stream re-checks its token while open (against the database, not the cache): a
    disable or a new password made by another worker (``app``: its own caches are not this
    one's) ends it within the recheck time."""
    tokens = issue_tokens(app)
    with worker(settings, clock, token_recheck_seconds=0.3) as store:
        async with served(store) as url:
            headers = {"Authorization": f"Bearer {tokens['agent01']}"}
            timeout = httpx.Timeout(5.0, read=4.0)
            async with httpx.AsyncClient(base_url=url, timeout=timeout) as c:
                async with c.stream(
                    "GET", "/api/changes/stream", params={"after": 0}, headers=headers
                ) as stream:
                    lines = stream.aiter_lines()
                    assert (await anext(lines)).startswith("{")  # the reference sets' page
                    # Another process (the CLI) makes the change: no cache here is told.
                    if change == "disable":
                        app.state.accounts.set_disabled("agent01")
                    else:
                        app.state.accounts.set_password("agent01", NEW_PASSWORD)
                    started = time.monotonic()
                    rest = [line async for line in lines]
                    assert time.monotonic() - started < 2.0
                    assert all(line.startswith("{") or not line for line in rest)
                refusal(await c.get("/api/changes/stream", headers=headers), 401, "unauthorized")


# --- finding 12: health ----------------------------------------------------------------------


async def test_health_says_only_whether_the_store_is_alive(app: FastAPI, hashes: Hashes) -> None:
    tokens = issue_tokens(app)
    async with at(app, "10.0.14.1") as c:
        r = await c.get("/api/health")
        assert r.status_code == 200
        assert set(r.json()) == {"status"} and r.json()["status"] in ("ok", "starting")
        refusal(await c.get("/api/changes/head"), 401, "unauthorized")
        head = await c.get(
            "/api/changes/head", headers={"Authorization": f"Bearer {tokens['agent01']}"}
        )
        assert head.status_code == 200, head.text
        assert head.json()["changes"] == [] and head.json()["last_seq"] >= 0
