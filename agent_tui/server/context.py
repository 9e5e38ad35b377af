"""What every concern of the store shares: one ``StoreContext`` per process.

It holds the engine (and its autocommit twin for one-statement writes), the settings, the
reference data with its router, the working-day calendar and deadline policy, the clock, the
listeners told of every committed write (the feed's head, the long-polls), and the lock the
writers queue on under SQLite. ``write`` is the ORM write transaction that takes the next
change number (reference sets use it; the case writers in ``cases`` have their own).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from agent_tui.config import Settings
from agent_tui.data.calendar import default_calendar
from agent_tui.data.reference import ReferenceData, load_reference
from agent_tui.domain.calendar import WorkCalendar
from agent_tui.domain.deadlines import DEFAULT_POLICY, DeadlinePolicy
from agent_tui.domain.routing import Router
from agent_tui.server.tables import NEXT_SEQ


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
        self.policy = policy
        self.router = Router(self.reference.categories, self.reference.departments)
        self.known_categories = frozenset(c.code for c in self.reference.leaves())
        self._clock = clock or (lambda: datetime.now(UTC))
        #: Called after every committed write (the feed's head; this process's long-polls).
        self.listeners: list[Any] = []
        #: Writers queue on it under SQLite (see ``write``); elsewhere it is no lock at all.
        self.write_lock: Any = (
            threading.Lock() if engine.dialect.name == "sqlite" else contextlib.nullcontext()
        )

    def now(self) -> datetime:
        now: datetime = self._clock()
        return now

    @contextmanager
    def write(self) -> Iterator[tuple[Session, int]]:
        """A write transaction holding the next change number (and so the writers' queue).

        On SQLite the writers also queue on a lock in this process: SQLite allows one writer
        anyway, and threads that collide inside the database back off in busy-timeout steps
        (p99 of seconds under load) where a lock hands over at once.
        """
        with self.write_lock, Session(self.engine) as session, session.begin():
            seq = session.execute(NEXT_SEQ).scalar_one()
            yield session, int(seq)
        for listener in self.listeners:
            listener()
