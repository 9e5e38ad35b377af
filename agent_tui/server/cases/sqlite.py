"""The SQLite writer (and any dialect without one of its own): Core statements in one
transaction that first takes the next change number.

One write = one transaction: the change number (an UPDATE of one counter row, whose lock is
held to commit: sequence order is commit order, and concurrent writers queue instead of
racing; in this process they also queue on ``StoreContext.write_turn``, for a bounded
time), then the idempotency and version checks (``Writer._step_target``), the domain step,
the case row, its event, its change row and (a step) the command's stored answer. A create
takes the year's running number in the same statement as the change number and inserts the
case with ON CONFLICT DO NOTHING (a uuid already taken is a repeat: the first case is
answered).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from agent_tui import wire as S
from agent_tui.domain.case import Intake
from agent_tui.domain.lifecycle import Event, Step
from agent_tui.server.cases.common import (
    Writer,
    append_params,
    number_prefix,
    number_series,
    registration,
    step_version,
)
from agent_tui.server.codec import to_public
from agent_tui.server.errors import NumberTaken
from agent_tui.server.tables import CASES, CHANGES, EVENTS, IDEMPOTENCY, NEXT_SEQ
from agent_tui.server.visibility import Actor


class SqliteWriter(Writer):
    """Creates and steps as Core statements in a transaction holding the change number."""

    def _create(
        self,
        actor: Actor,
        intake: Intake,
        case_uuid: str,
        at: datetime,
        now: datetime,
        related_to: str,
        day: str,
        number: str = "",
        seat_id: str = "",
    ) -> tuple[S.CasePublic, bool]:
        counter = "" if number else number_series(actor.platform, day)
        for _ in range(3):
            try:
                with self._write_core(counter) as (connection, seq, n):
                    if not number:
                        given = self._number(connection, actor.platform, day, n)
                    else:
                        given = number
                        if (
                            connection.execute(
                                _NUMBER_OF_ANOTHER, {"number": number, "uuid": case_uuid}
                            ).first()
                            is not None
                        ):
                            connection.rollback()
                            raise NumberTaken(number)
                    case, event, values = registration(
                        intake, actor, case_uuid, at, now, related_to, given, seq, seat_id
                    )
                    # One round trip: a uuid already taken inserts nothing and returns no id.
                    case_id = connection.execute(_INSERT_NEW_CASE, values).scalar()
                    if case_id is not None:
                        self._append(
                            connection, case_id, case_uuid, case.department, event, seq, now
                        )
                        row = SimpleNamespace(id=case_id, **values)
                        return to_public(row, actor, now), True
                    connection.rollback()  # give back the change number: nothing changed
                existing = self._created_before(actor, case_uuid, now)
                if existing is not None:
                    return existing, False
            except IntegrityError:
                continue  # a concurrent create of the same uuid won: read it next time round
        raise RuntimeError("create_case: could not settle a concurrent create")

    def _step(
        self, actor: Actor, case_uuid: str, step: Step, body: S.StepBody, key: str, now: datetime
    ) -> tuple[str, S.CasePublic]:
        with self._write_core() as (connection, seq, _):
            target = self._step_target(
                connection, actor, case_uuid, key, step_version(step, body), now
            )
            if isinstance(target, tuple):  # the answer this command id already got
                return target
            work = self._stepped(actor, step, body, target, now, key)
            # The version in the WHERE is belt and braces: the change-number lock already
            # makes this the only writer, and the version was checked above.
            updated = connection.execute(
                _UPDATE_CASE,
                {**work.changed, "last_seq": seq, "_id": target.id, "_version": target.version},
            )
            if updated.rowcount != 1:
                raise RuntimeError(f"apply_step: case {case_uuid} changed under the lock")
            self._append(
                connection,
                target.id,
                target.uuid,
                work.department,
                work.event,
                seq,
                now,
                work.done,
                work.withdrawn_from,
            )
            return work.text, work.public

    @contextmanager
    def _write_core(self, counter: str = "") -> Iterator[tuple[Connection, int, int]]:
        """``StoreContext.write`` on a bare Core connection (the hot paths: no Session, no ORM).

        With ``counter`` (a year's case numbers) the same statement also takes that counter's
        next value, the change number's row first (every writer locks in that order). The
        body may ``rollback()`` to give both back (nothing changed); it commits otherwise.
        Listeners hear only of commits.
        """
        with self.ctx.write_turn() as deadline, self.ctx.engine.connect() as connection:
            self.ctx.bound_busy(connection, deadline)
            transaction = connection.begin()
            try:
                if counter:
                    got: dict[str, int] = dict(
                        connection.execute(_NEXT_SEQ_AND_COUNTER, {"name": counter}).all()
                    )
                    seq, count = got["change_seq"], got[counter]
                else:
                    seq, count = connection.execute(NEXT_SEQ).scalar_one(), 0
                yield connection, int(seq), int(count)
            except BaseException:
                if transaction.is_active:
                    transaction.rollback()
                raise
            committed = transaction.is_active
            if committed:
                transaction.commit()
        if committed:
            for listener in self.ctx.listeners:
                listener()

    def _number(self, connection: Any, platform: str, day: str, value: int) -> str:
        """The case number of ``platform``'s year's ``value``-th running number, on ``day``."""
        return f"{number_prefix(connection, platform, day)}{value:04d}"

    def _append(
        self,
        connection: Connection,
        case_id: int,
        case_uuid: str,
        department: str,
        event: Event,
        seq: int,
        now: datetime,
        done: dict[str, Any] | None = None,
        withdrawn: str = "",
    ) -> None:
        """The event, the change row and (a step) the command's answer: Core inserts."""
        params = append_params(case_id, case_uuid, department, event, seq, now, done, withdrawn)
        connection.execute(_INSERT_EVENT, _unprefixed(params, "e_"))
        connection.execute(_INSERT_CHANGE, _unprefixed(params, "c_"))
        if done is not None:
            connection.execute(_INSERT_DONE, _unprefixed(params, "d_"))


def _unprefixed(params: dict[str, Any], prefix: str) -> dict[str, Any]:
    return {k[len(prefix) :]: v for k, v in params.items() if k.startswith(prefix)}


_INSERT_EVENT = sa.insert(EVENTS)
_INSERT_CHANGE = sa.insert(CHANGES)
_INSERT_DONE = sa.insert(IDEMPOTENCY)
#: SET comes from the parameters given (the columns a step changed); one compiled form each.
_UPDATE_CASE = sa.update(CASES).where(
    CASES.c.id == sa.bindparam("_id"), CASES.c.version == sa.bindparam("_version")
)
#: A create whose uuid is taken inserts nothing (and returns no id) instead of failing.
_INSERT_NEW_CASE = (
    sqlite_insert(CASES).on_conflict_do_nothing(index_elements=["uuid"]).returning(CASES.c.id)
)
#: A seat's number already given to another case (the writers' lock makes this check safe).
_NUMBER_OF_ANOTHER = sa.select(CASES.c.id).where(
    CASES.c.number == sa.bindparam("number"), CASES.c.uuid != sa.bindparam("uuid")
)
#: The change number and another counter (a year's case numbers) in one statement.
_NEXT_SEQ_AND_COUNTER = sa.text(
    "INSERT INTO counters (name, value) VALUES ('change_seq', 1), (:name, 1) "
    "ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING name, value"
)
