"""What every concern of the store shares: one ``StoreContext`` per process.

It holds the engine (and its autocommit twin for one-statement writes), the settings, the
reference data with its router, the working-day calendar and deadline policy, the clock, the
listeners told of every committed write (the feed's head, the long-polls), and the lock the
writers queue on under SQLite. ``write`` is the ORM write transaction that takes the next
change number (reference sets use it; the case writers in ``cases`` have their own).
"""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from agent_tui.config import Settings
from agent_tui.data.calendar import default_calendar
from agent_tui.data.reference import ReferenceData, load_reference
from agent_tui.domain.calendar import WorkCalendar, YearSchedule
from agent_tui.domain.deadlines import DEFAULT_POLICY, DeadlinePolicy
from agent_tui.domain.routing import Router
from agent_tui.server.errors import StoreBusy
from agent_tui.server.tables import NEXT_SEQ

T = TypeVar("T")
#: Threads for the requests' writes under PostgreSQL (each a round trip or two, in parallel).
PG_WRITE_THREADS = 8


class StoreContext:
    """The store's shared state. Thread-safe: every operation opens its own session."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        reference: ReferenceData | None = None,
        calendar: WorkCalendar | None = None,
        policy: DeadlinePolicy = DEFAULT_POLICY,
        clock: Any = None,
    ) -> None:
        self.engine = engine
        #: The same pool, each statement its own transaction (the PostgreSQL writer's).
        self.autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        self.settings = settings
        self.reference = reference or load_reference()
        self.calendar = calendar or default_calendar(settings.calendar_overrides)
        #: The calendar before the years an admin imported (``agent-tui calendar import``,
        #: the ``calendar`` reference set); ``use_calendar`` puts those on top of it.
        self.base_calendar = self.calendar
        #: The version of the ``calendar`` reference set ``calendar`` includes (0: none yet).
        self.calendar_version = 0
        self.policy = policy
        self.router = Router(
            self.reference.categories,
            self.reference.departments,
            self.reference.county_routing,
            self.reference.platforms,
        )
        self.known_categories = frozenset(c.code for c in self.reference.leaves())
        self._clock = clock or (lambda: datetime.now(UTC))
        #: Called after every committed write (the feed's head; this process's long-polls).
        self.listeners: list[Any] = []
        self.sqlite = engine.dialect.name == "sqlite"
        #: Writers queue on it under SQLite (see ``write_turn``); elsewhere there is none.
        self.write_lock: threading.Lock | None = threading.Lock() if self.sqlite else None
        #: The requests' writes run here, off the event loop (see ``off_loop``).
        self.writes = self._write_threads()
        #: The deadline of the write this thread runs for a request (``off_loop``).
        self._local = threading.local()
        if engine.dialect.name == "postgresql":
            sa.event.listen(engine, "connect", self._lock_timeout)

    def use_calendar(self, schedules: Iterable[YearSchedule], version: int) -> None:
        """Deadlines from now on count on the base calendar with these years' schedules
        (a year's schedule replaces the library's and the packaged table's for that year)."""
        calendar = self.base_calendar
        for schedule in schedules:
            calendar = calendar.with_schedule(schedule)
        self.calendar, self.calendar_version = calendar, version

    def _lock_timeout(self, dbapi_connection: Any, _record: Any) -> None:
        """PostgreSQL: a statement waits for a row lock (the counters', a case's) at most
        ``write_wait_seconds`` (then "lock not available": 503 busy), not for ever."""
        ms = int(self.settings.write_wait_seconds * 1000)
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET lock_timeout = {ms}")
        dbapi_connection.commit()  # a SET in a transaction rolled back would be undone

    def now(self) -> datetime:
        now: datetime = self._clock()
        return now

    async def off_loop(self, fn: Callable[..., T], *args: Any) -> T:
        """Run the write ``fn(*args)`` on a write thread. Its budget of
        ``write_wait_seconds`` starts now: time spent queued behind other writes counts."""
        deadline = time.monotonic() + self.settings.write_wait_seconds
        call = functools.partial(self._before, deadline, fn, *args)
        return await asyncio.get_running_loop().run_in_executor(self.writes, call)

    def _before(self, deadline: float, fn: Callable[..., T], *args: Any) -> T:
        self._local.deadline = deadline
        try:
            return fn(*args)
        finally:
            self._local.deadline = None

    @contextmanager
    def write_turn(self) -> Iterator[float | None]:
        """This write's turn: under SQLite the writers' lock, waited for at most what is left
        of the write's budget (out of budget: ``StoreBusy``, nothing written). Yields the
        deadline for the database's own lock (``bound_busy``: another process may hold it, a
        backup or the CLI); None elsewhere."""
        deadline = getattr(self._local, "deadline", None)
        if deadline is None:  # not a request's write (the clock, the CLI): a budget of its own
            deadline = time.monotonic() + self.settings.write_wait_seconds
        left = deadline - time.monotonic()
        if left <= 0:  # queued behind other writes for the whole budget
            raise StoreBusy(self.settings.write_wait_seconds)
        lock = self.write_lock
        if lock is None:  # PostgreSQL: row locks, bounded by ``lock_timeout`` (see __init__)
            yield None
            return
        if not lock.acquire(timeout=left):
            raise StoreBusy(self.settings.write_wait_seconds)
        try:
            yield deadline
        finally:
            lock.release()

    @staticmethod
    def bound_busy(connection: Any, deadline: float | None) -> None:
        """SQLite waits for its write lock on ``connection`` until ``deadline`` at most (then
        "database is locked": a 503 the seat retries), not the connection's 30 s."""
        if deadline is not None:
            ms = max(50, int((deadline - time.monotonic()) * 1000))
            connection.connection.driver_connection.execute(f"PRAGMA busy_timeout={ms}")

    @contextmanager
    def write(self) -> Iterator[tuple[Session, int]]:
        """A write transaction holding the next change number (and so the writers' queue).

        On SQLite the writers also queue on a lock in this process: SQLite allows one writer
        anyway, and threads that collide inside the database back off in busy-timeout steps
        (p99 of seconds under load) where a lock hands over at once.
        """
        with self.write_turn() as deadline, Session(self.engine) as session, session.begin():
            self.bound_busy(session.connection(), deadline)
            seq = session.execute(NEXT_SEQ).scalar_one()
            yield session, int(seq)
        for listener in self.listeners:
            listener()

    def _write_threads(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(
            1 if self.sqlite else PG_WRITE_THREADS, thread_name_prefix="write"
        )

    def close(self) -> None:
        """Let the writes under way finish (the server is shutting down). The store stays
        usable: new writes get new threads (an app served again, the tests)."""
        writes, self.writes = self.writes, self._write_threads()
        writes.shutdown(wait=True)
