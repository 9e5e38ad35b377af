"""Two workers taking a step on one case at the same moment, on PostgreSQL, where a step reads
the case without a lock and writes everything in one statement at the version it read.

Both workers are made to read before either writes (a barrier between the read and the write),
so the write that comes second always finds the case changed: it must write nothing, and the
step is then answered as the store answers any late step (a 409 with the current case, or the
answer a retry of the same command already got)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from sqlmodel import Session, col, func, select

from agent_tui import wire as S
from agent_tui.config import Settings
from agent_tui.domain.case import Role
from agent_tui.domain.lifecycle import Step
from agent_tui.server.cases.common import Writer
from agent_tui.server.db import make_engine
from agent_tui.server.errors import VersionConflict
from agent_tui.server.models import ChangeRow, CounterRow, EventRow
from agent_tui.server.store import Store
from agent_tui.server.visibility import Actor

from .conftest import Api, FrozenClock
from .helpers import new_case


@pytest.fixture
def db_url(pg_runtime_database: Callable[[], str]) -> str:
    """PostgreSQL only: on SQLite a step holds the writers' lock from its read to its commit."""
    return pg_runtime_database()


@pytest.fixture
def workers(app: FastAPI, settings: Settings, clock: FrozenClock) -> Iterator[list[Store]]:
    """The app's store and a second one on its own pool, as a second uvicorn worker has."""
    second = Store(make_engine(settings.database_url()), settings, clock=clock)
    yield [app.state.store, second]
    second.engine.dispose()


@pytest.fixture
def read_together(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each step waits, after its read, until the other step has read too."""
    barrier = threading.Barrier(2)
    original = Writer._stepped

    def stepped(self: Writer, *args: Any, **kw: Any) -> Any:
        barrier.wait(timeout=10)
        return original(self, *args, **kw)

    monkeypatch.setattr(Writer, "_stepped", stepped)


def at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls on threads; what each returned or raised, in order."""
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            results[i] = calls[i]()
        except Exception as error:  # compared below
            results[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


def dispatch(store: Store, user: str, case_uuid: str, command_id: str, department: str) -> Any:
    body = S.DispatchBody.model_validate(
        {"command_id": command_id, "version": 1, "department": department}
    )
    return store.apply_step_json(Actor(user, Role.AGENT), case_uuid, Step.DISPATCH, body)


def dispatch_events(store: Store, case_uuid: str) -> int:
    with Session(store.engine) as session:
        return int(
            session.exec(
                select(func.count())
                .select_from(EventRow)
                .where(col(EventRow.case_uuid) == case_uuid, col(EventRow.step) == "dispatch")
            ).one()
        )


def head_and_counter(store: Store) -> tuple[int, int, int]:
    with Session(store.engine) as session:
        counter = session.get(CounterRow, "change_seq")
        rows = int(session.exec(select(func.count()).select_from(ChangeRow)).one())
    assert counter is not None
    return store.last_seq(), counter.value, rows


@pytest.mark.usefixtures("read_together")
def test_two_workers_on_one_version_one_wins_the_other_gets_a_409(
    http: Api, workers: list[Store]
) -> None:
    case = new_case(http)["uuid"]
    head_before, _, rows_before = head_and_counter(workers[0])
    first, second = at_once(
        [
            lambda: dispatch(workers[0], "agent01", case, str(uuid.uuid4()), "CGJ"),
            lambda: dispatch(workers[1], "agent02", case, str(uuid.uuid4()), "GAJ"),
        ]
    )
    won = [r for r in (first, second) if isinstance(r, tuple)]
    lost = [r for r in (first, second) if isinstance(r, VersionConflict)]
    assert len(won) == 1 and len(lost) == 1, (first, second)
    assert lost[0].current.version == 2
    assert lost[0].current.department == won[0][1].department
    assert dispatch_events(workers[0], case) == 1
    # The loser took a change number and wrote nothing: the counter is one ahead of the feed,
    # whose head is its last row, so readers neither wait for nor skip anything.
    head, counter, rows = head_and_counter(workers[0])
    assert rows == rows_before + 1 and head == head_before + 1 < counter


@pytest.mark.usefixtures("read_together")
def test_one_command_sent_to_two_workers_at_once_is_taken_once(
    http: Api, workers: list[Store]
) -> None:
    case = new_case(http)["uuid"]
    command = str(uuid.uuid4())
    answers = at_once(
        [lambda store=store: dispatch(store, "agent01", case, command, "CGJ") for store in workers]
    )
    assert all(isinstance(a, tuple) for a in answers), answers
    assert answers[0][0] == answers[1][0]  # the same answer, byte for byte
    assert answers[0][1].version == 2
    assert dispatch_events(workers[0], case) == 1
