"""The deadline queues reach the partial indexes over open cases (migration 0003).

A partial index is used only when the query states its predicate as the index does (SQLite) or
provably from constants (PostgreSQL): a change to the domain's open statuses, or to how the
store writes the filter, would silently fall back to a sort of every open case. The tables
here are tiny, so on PostgreSQL sequential scans are switched off to ask "could it use it?".
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI

from agent_tui.domain.case import OPEN_STATUSES, Role, Status
from agent_tui.server.cases.reads import CaseFilter
from agent_tui.server.models import OPEN_TERM
from agent_tui.server.store import Store
from agent_tui.server.visibility import Actor

LEAD = Actor("lead01", Role.LEAD)


def test_open_term_states_the_domains_open_statuses() -> None:
    codes = ", ".join(f"'{s}'" for s in sorted(str(s) for s in OPEN_STATUSES))
    assert f"status IN ({codes})" == OPEN_TERM


@contextmanager
def captured(store: Store) -> Iterator[list[tuple[str, Any]]]:
    sent: list[tuple[str, Any]] = []

    def before(_c: Any, _cur: Any, statement: str, params: Any, _ctx: Any, _m: Any) -> None:
        sent.append((statement, params))

    sa.event.listen(store.engine, "before_cursor_execute", before)
    try:
        yield sent
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", before)


def plan(store: Store, f: CaseFilter) -> str:
    with captured(store) as sent:
        store.list_cases(LEAD, f, None, 50)
    ((statement, params),) = [(s, p) for s, p in sent if "FROM cases" in s]
    raw = store.engine.raw_connection()
    try:
        cur = raw.cursor()
        if store.engine.dialect.name == "sqlite":
            cur.execute("EXPLAIN QUERY PLAN " + statement, params)
            lines = [str(r[3]) for r in cur.fetchall()]
        else:
            cur.execute("SET LOCAL enable_seqscan = off")
            cur.execute("EXPLAIN " + statement, params)
            lines = [str(r[0]) for r in cur.fetchall()]
        raw.rollback()
    finally:
        raw.close()
    return "\n".join(lines)


def test_overdue_queue_reads_the_open_deadline_index(app: FastAPI) -> None:
    text = plan(app.state.store, CaseFilter(overdue=True, order="deadline"))
    assert "ix_cases_open_deadline" in text, text
    assert "TEMP B-TREE" not in text and "Sort" not in text, text


def test_department_queue_over_open_statuses_can_read_the_open_index(app: FastAPI) -> None:
    store: Store = app.state.store
    f = CaseFilter(
        status=(Status.IN_PROGRESS, Status.DISPATCHED), department="CGJ", order="deadline"
    )
    text = plan(store, f)
    if store.engine.dialect.name == "postgresql":
        assert "ix_cases_open_dept_deadline" in text, text
    else:  # SQLite proves no subset of an IN list: it keeps (department, status, deadline)
        assert "ix_cases_dept_status_deadline" in text, text
