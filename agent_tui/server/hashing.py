"""Password checks on a bounded pool of their own: what a login flood can cost the server.

argon2id as pwdlib recommends it (64 MiB, t=3, p=4) takes ≈ 0.12 s and 0.15 s of CPU per
check on the 2-core test box. It used to run in the shared thread pool (40 threads), with no
bound: 50 senders took /health from 38 ms to 5 s and the server to 2.1 GB. Here:

* ``threads`` threads of its own for strangers (memory: 64 MiB each, at most), at a lower CPU
  priority than the event loop (Linux ``nice`` 10 per thread; argon2's lane threads inherit
  it), so that requests that need no hashing are served first;
* one thread at normal priority for users back at an address they logged in from
  (``trusted``, a seat): a flood of strangers never stands between an agent and their seat;
* a queue in front of each holds ``queue_limit`` logins beyond those being checked and
  refuses the next at once (``Busy``: 503 with Retry-After), never by making it wait;
* a user id that does not exist takes its turn among the strangers like any other and waits
  as long as a check takes (a recent one's duration), without hashing: the answer's timing
  does not say who exists, and a flood of made-up ids costs no CPU and leaves the threads to
  the users at their own seat.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

from agent_tui.domain.errors import DomainError

#: Nice value of the hashing threads (0 is the event loop's; 19 the lowest priority).
HASH_NICENESS = 10


class Busy(DomainError):
    """Too many logins are waiting for a password check (HTTP 503, Retry-After)."""

    code = "busy"

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(
            f"登录的人太多，服务器正忙，请 {retry_after} 秒后再试",
            f"Too many logins waiting: try again in {retry_after} s",
        )


def _lower_priority() -> None:
    """Runs first in each hashing thread: on Linux ``nice`` is per thread, and the threads
    argon2 starts for its lanes inherit it."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASH_NICENESS)


class _Slots:
    """``size`` slots, handed to waiters in arrival order."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.taken = 0
        self.waiting: deque[asyncio.Future[None]] = deque()

    async def acquire(self) -> None:
        if self.taken < self.size and not self.waiting:
            self.taken += 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiting.append(waiter)
        try:
            await waiter  # the releaser hands its slot over (``taken`` unchanged)
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed over just now: hand it on
            else:
                with contextlib.suppress(ValueError):  # a release may have dropped it already
                    self.waiting.remove(waiter)
            raise

    def release(self) -> None:
        while self.waiting:
            waiter = self.waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self.taken -= 1


class HashGate:
    """Admission and the pools for password checks, one per server process.

    Strangers (lane 1) get ``threads`` hashing threads at a low CPU priority, and as many
    turns, which a made-up user id holds for as long as a check takes (the timing parity)
    without a thread. Users back at an address they logged in from (lane 0) have a thread of
    their own at normal priority: a flood of strangers, made-up or not, never stands between
    an agent and their seat.
    """

    SEAT_THREADS = 1

    def __init__(
        self, verify: Callable[[str, str], bool], dummy_hash: str, threads: int, queue_limit: int
    ) -> None:
        self._verify = verify
        self._dummy_hash = dummy_hash
        self.threads = threads
        self.queue_limit = queue_limit
        self._pools: dict[int, ThreadPoolExecutor] = {}
        self._cpu = (_Slots(self.SEAT_THREADS), _Slots(threads))
        self._turns = _Slots(threads)
        self._admitted = [0, 0]
        self._durations: deque[float] = deque(maxlen=64)

    # -- admission -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def admit(self, trusted: bool) -> Iterator[Place]:
        """A place in the queue for one check, or ``Busy`` at once when the queue is full."""
        lane = 0 if trusted else 1
        if self._admitted[lane] >= self._cpu[lane].size + self.queue_limit:
            raise Busy(self.retry_after())
        self._admitted[lane] += 1
        try:
            yield Place(self, lane)
        finally:
            self._admitted[lane] -= 1

    def retry_after(self) -> int:
        """Seconds until the strangers' queue has probably moved on."""
        waiting = len(self._cpu[1].waiting) + len(self._turns.waiting) + self.threads
        return min(60, max(1, math.ceil(waiting * self._typical() / self.threads)))

    def _typical(self) -> float:
        return sorted(self._durations)[len(self._durations) // 2] if self._durations else 0.2

    # -- checking ------------------------------------------------------------------------------

    def _executor(self, lane: int) -> ThreadPoolExecutor:
        pool = self._pools.get(lane)
        if pool is None:
            if lane == 0:
                pool = ThreadPoolExecutor(self.SEAT_THREADS, thread_name_prefix="argon2-seat")
            else:
                pool = ThreadPoolExecutor(
                    self.threads, thread_name_prefix="argon2", initializer=_lower_priority
                )
            self._pools[lane] = pool
        return pool

    def _timed_verify(self, password: str, password_hash: str) -> tuple[bool, float]:
        started = time.perf_counter()
        ok = self._verify(password, password_hash)
        return ok, time.perf_counter() - started

    async def _hash(self, lane: int, password: str, password_hash: str | None) -> bool:
        if password_hash is None and self._durations:
            await asyncio.sleep(random.choice(self._durations))
            return False
        await self._cpu[lane].acquire()
        try:
            loop = asyncio.get_running_loop()
            ok, took = await loop.run_in_executor(
                self._executor(lane),
                self._timed_verify,
                password,
                password_hash or self._dummy_hash,
            )
        finally:
            self._cpu[lane].release()
        self._durations.append(took)
        return ok and password_hash is not None

    async def check(self, lane: int, password: str, password_hash: str | None) -> bool:
        """Whether ``password`` matches ``password_hash`` (None: no such user, never)."""
        if lane == 0:
            return await self._hash(lane, password, password_hash)
        await self._turns.acquire()
        try:
            return await self._hash(lane, password, password_hash)
        finally:
            self._turns.release()

    def close(self) -> None:
        for pool in self._pools.values():
            pool.shutdown(wait=False, cancel_futures=True)
        self._pools.clear()


class Place:
    """An admitted login's place in the queue."""

    def __init__(self, gate: HashGate, lane: int) -> None:
        self._gate = gate
        self._lane = lane

    async def check(self, password: str, password_hash: str | None) -> bool:
        return await self._gate.check(self._lane, password, password_hash)
