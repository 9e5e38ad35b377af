"""The PostgreSQL writer: each write is one statement in its own transaction (one round trip).

A create's statement takes the change number and the year's running number (unless a seat
gave the number), inserts the case
(as one JSON parameter), its register event and its change row (``_CREATE_PG``). A step reads
its case without a lock, works the step out with the domain (``Writer._stepped``), then writes
the case at the version it read, its event, the command's answer and its change row in one
statement (``_step_sql``); a step that lost its race writes nothing and is read again (a 409,
or a retry's stored answer). No lock is held across a round trip. These statements are
written by hand, column by column: a column added to ``cases``, ``case_events`` or
``changes`` must be added here too.
"""

from __future__ import annotations

import functools
import json
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from agent_tui import wire as S
from agent_tui.domain.case import Intake
from agent_tui.domain.lifecycle import Step
from agent_tui.server.cases.common import (
    Writer,
    append_params,
    number_prefix,
    number_series,
    registration,
    step_version,
)
from agent_tui.server.codec import encode_changes, to_public
from agent_tui.server.errors import NumberTaken
from agent_tui.server.tables import CASES
from agent_tui.server.visibility import Actor


class PostgresWriter(Writer):
    """Creates and steps as one statement each, on the autocommit connections."""

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
        """``create_case`` on PostgreSQL: one statement in its own transaction (one round trip).

        The statement takes the change number and (no ``number`` from a seat) the next running
        number of the platform's year, writes the case, its register event and its change row
        (``_CREATE_PG``). The counters' row locks are held only while PostgreSQL runs it, never
        across a round trip. A uuid already taken makes the whole statement fail (so no number
        is spent) and the first case is answered; a seat's number already taken is a 409.
        """
        # The number (unless the seat gave one) and the change number are the statement's.
        case, event, values = registration(
            intake, actor, case_uuid, at, now, related_to, number, 0, seat_id
        )
        params = {
            "row": json.dumps(values, ensure_ascii=False, default=_row_json_default),
            "uuid": case_uuid,
            "step": str(event.step),
            "actor": event.actor,
            "role": str(event.role),
            "at": event.at,
            "to_status": str(event.to_status),
            "reason": event.reason,
            "changes": encode_changes(event.changes),
            "version": event.version,
            "department": case.department,
            "now": now,
        }
        if number:
            params["number"] = number
        else:
            params["counter"] = number_series(actor.platform, day)
        for _ in range(3):
            try:
                with self.ctx.write_turn(), self.ctx.autocommit.connect() as connection:
                    if number:
                        got = connection.execute(_CREATE_PG_NUMBERED, params).one()
                    else:
                        prefix = number_prefix(connection, actor.platform, day)
                        got = connection.execute(_CREATE_PG, {**params, "prefix": prefix}).one()
            except IntegrityError:
                existing = self._created_before(actor, case_uuid, now)
                if existing is not None:
                    return existing, False
                if number and self._number_taken(number):
                    raise NumberTaken(number) from None
                continue  # not the uuid: a number taken concurrently? try once more
            for listener in self.ctx.listeners:
                listener()
            values.update(number=got.number, last_seq=got.seq)
            return to_public(SimpleNamespace(id=got.id, **values), actor, now), True
        raise RuntimeError("create_case: could not settle a concurrent create")

    def _step(
        self, actor: Actor, case_uuid: str, step: Step, body: S.StepBody, key: str, now: datetime
    ) -> tuple[str, S.CasePublic]:
        """A step on PostgreSQL: read the case (no lock), apply the domain's rules, then write
        everything in one statement on its own (``_step_sql``), as creates do. The statement
        updates the case only at the version read; when another step came first it writes
        nothing, and the step is read again (a 409, or a retry's stored answer)."""
        for _ in range(2):
            with self.ctx.write_turn(), self.ctx.autocommit.connect() as connection:
                target = self._step_target(
                    connection, actor, case_uuid, key, step_version(step, body), now
                )
                if isinstance(target, tuple):
                    return target
                work = self._stepped(actor, step, body, target, now, key)
                params = {
                    **work.changed,
                    "_id": target.id,
                    "_version": target.version,
                    **append_params(
                        target.id,
                        target.uuid,
                        work.department,
                        work.event,
                        0,
                        now,
                        work.done,
                        work.withdrawn_from,
                    ),
                }
                written = connection.execute(_step_sql(frozenset(work.changed)), params).first()
            if written is not None:
                for listener in self.ctx.listeners:
                    listener()
                return work.text, work.public
        raise RuntimeError(f"apply_step: case {case_uuid} keeps changing")


@functools.lru_cache(maxsize=256)
def _step_sql(columns: frozenset[str]) -> Any:
    """A step on PostgreSQL in one statement (run on its own, autocommit): the change number,
    the case's changed ``columns`` at the version read, its event, its change row and the
    command's answer. When the version no longer matches, the case is not updated and nothing
    else is written; the change number taken is then not used (the feed's head is the last
    change row, see ``Feed.last_seq``, so a gap costs readers nothing)."""
    sets = ", ".join(f"{c} = :{c}" for c in sorted(columns))
    return sa.text(
        "WITH n AS ("
        " UPDATE counters SET value = value + 1 WHERE name = 'change_seq' RETURNING value"
        "), u AS ("
        f" UPDATE cases SET {sets}, last_seq = n.value FROM n"
        " WHERE cases.id = :_id AND cases.version = :_version"
        " RETURNING cases.id, n.value AS seq"
        "), e AS ("
        " INSERT INTO case_events"
        " (case_id, case_uuid, seq, step, actor, role, at, from_status, to_status, reason,"
        " changes, version)"
        " SELECT u.id, CAST(:e_case_uuid AS text), u.seq, CAST(:e_step AS text),"
        " CAST(:e_actor AS text), CAST(:e_role AS text), CAST(:e_at AS timestamptz),"
        " CAST(:e_from_status AS text), CAST(:e_to_status AS text), CAST(:e_reason AS text),"
        " CAST(:e_changes AS text), CAST(:e_version AS integer) FROM u"
        "), d AS ("
        " INSERT INTO idempotency_keys (key, user_id, status_code, response, created_at)"
        " SELECT CAST(:d_key AS text), CAST(:d_user_id AS text), CAST(:d_status_code AS integer),"
        " CAST(:d_response AS text), CAST(:d_created_at AS timestamptz) FROM u"
        ")"
        " INSERT INTO changes (seq, kind, case_id, name, version, department, withdrawn_from,"
        " at)"
        " SELECT u.seq, 'case', u.id, '', CAST(:c_version AS integer),"
        " CAST(:c_department AS text), CAST(:c_withdrawn_from AS text),"
        " CAST(:c_at AS timestamptz) FROM u"
        " RETURNING seq"
    )


_CASE_COLUMNS_BUT = [c.name for c in CASES.columns if c.name not in ("id", "number", "last_seq")]
#: A create on PostgreSQL, whole, in one statement (run on its own, autocommit): the change
#: number and the year's running number (the counters, locked in that order as the SQLite
#: writer does), the case, its register event (its ``number`` filled in) and its change row.
#: The case comes as one JSON parameter: a case has over 50 columns, and psycopg neither caches
#: the parsing of a statement with more than 50 parameters nor adapts them cheaply. No ON
#: CONFLICT for the uuid: a repeat fails whole, so it spends no number.
_CREATE_PG_NUMBER = (
    "WITH n AS ("
    " INSERT INTO counters (name, value) VALUES ('change_seq', 1), (:counter, 1)"
    " ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING name, value"
    "), v AS ("
    " SELECT max(value) FILTER (WHERE name = 'change_seq') AS seq,"
    " max(value) FILTER (WHERE name <> 'change_seq')::text AS running FROM n"
    "), k AS ("
    " SELECT seq, CAST(:prefix AS text) || lpad(running, greatest(4, length(running)), '0')"
    " AS number FROM v"
    ")"
)
#: A seat gave the number (checked against its blocks): the change number alone is taken.
_GIVEN_NUMBER = (
    "WITH n AS ("
    " UPDATE counters SET value = value + 1 WHERE name = 'change_seq' RETURNING value"
    "), k AS (SELECT value AS seq, CAST(:number AS text) AS number FROM n)"
)
_CREATE_PG_REST = (
    ", c AS ("
    f" INSERT INTO cases ({', '.join(_CASE_COLUMNS_BUT)}, number, last_seq)"
    f" SELECT {', '.join('r.' + c for c in _CASE_COLUMNS_BUT)}, k.number, k.seq"
    " FROM json_populate_record(NULL::cases, CAST(:row AS json)) AS r, k"
    " RETURNING id, number, last_seq"
    "), e AS ("
    " INSERT INTO case_events"
    " (case_id, case_uuid, seq, step, actor, role, at, from_status, to_status, reason,"
    " changes, version)"
    " SELECT c.id, CAST(:uuid AS text), c.last_seq, CAST(:step AS text), CAST(:actor AS text),"
    " CAST(:role AS text), CAST(:at AS timestamptz), NULL, CAST(:to_status AS text),"
    " CAST(:reason AS text),"
    " jsonb_set(CAST(:changes AS jsonb), '{number,1}', to_jsonb(c.number))::text,"
    " CAST(:version AS integer) FROM c"
    ")"
    " INSERT INTO changes (seq, kind, case_id, name, version, department, at)"
    " SELECT c.last_seq, 'case', c.id, '', CAST(:version AS integer),"
    " CAST(:department AS text), CAST(:now AS timestamptz) FROM c"
    " RETURNING case_id AS id, seq, (SELECT number FROM c) AS number"
)
_CREATE_PG = sa.text(_CREATE_PG_NUMBER + _CREATE_PG_REST)
_CREATE_PG_NUMBERED = sa.text(_GIVEN_NUMBER + _CREATE_PG_REST)


def _row_json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime: store aware UTC instants only")
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__}")
