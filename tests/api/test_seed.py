"""``agent-tui seed --demo``: the demo store is consistent and usable through the API."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

from fastapi import FastAPI
from sqlmodel import Session, col, select

from agent_tui.config import Settings
from agent_tui.domain.case import Status
from agent_tui.server.codec import case_columns, event_from_row, row_to_case
from agent_tui.server.db import make_engine
from agent_tui.server.models import CaseRow, EventRow
from agent_tui.server.seed import seed_demo
from agent_tui.server.store import Store
from tests.conftest_pg import OWNER_ROLE, as_role

from .conftest import Api, FrozenClock


def test_demo_seed_is_consistent_and_served(
    app: FastAPI, api: Api, clock: FrozenClock, settings: Settings, db_url: str
) -> None:
    store = app.state.store
    now = datetime(2026, 11, 26, 7, 30, tzinfo=UTC)
    clock.now = now
    before = store.last_seq()
    # Loading demo cases is the owner's to do (it sets the cases' id sequence), as with
    # ``agent-tui seed --demo`` on PostgreSQL; the store serves them as the runtime role.
    seeder = store
    if db_url.startswith("postgresql"):
        seeder = Store(make_engine(as_role(db_url, OWNER_ROLE)), settings, clock=clock)
    counts = seed_demo(seeder, 600, now)
    if seeder is not store:
        seeder.engine.dispose()
    assert sum(counts.values()) == 600
    assert len(counts) >= 8  # a spread of states, not just archived

    with Session(store.engine) as session:
        rows = session.exec(select(CaseRow)).all()
        events = session.exec(select(EventRow).order_by(col(EventRow.id))).all()
    assert store.last_seq() - before == len(rows)  # one change per seeded case
    assert Counter(r.status for r in rows) == Counter(counts)
    # The log alone rebuilds every projection: fold each case's changes over its events.
    by_case: dict[int, list[EventRow]] = {}
    for e in events:
        by_case.setdefault(e.case_id, []).append(e)
    linked = [r for r in rows if r.related_to]
    for row in [*rows[:200], *linked]:
        folded: dict[str, object] = {}
        for e in by_case[row.id or 0]:
            for name, (_before, after) in event_from_row(e).changes.items():
                folded[name] = after
        expected = row_to_case(row)
        for name, value in folded.items():
            # The link to a group is a column of the store, not of the domain case.
            actual = row.related_to if name == "related_to" else getattr(expected, name)
            assert actual == value, (row.number, name)
        assert [e.version for e in by_case[row.id or 0]] == list(range(1, row.version + 1))
        assert case_columns(expected)["status"] == row.status
        json.loads(by_case[row.id or 0][0].changes)

    # Served: queues, caller history, a department's desk, the lead summary.
    page = api.get("/api/cases", params={"status": "in_progress", "order": "deadline"}).json()
    assert page["items"] and all(i["status"] == "in_progress" for i in page["items"])
    phone = Counter(r.caller_phone for r in rows if r.caller_phone).most_common(1)[0][0]
    history = api.get(f"/api/callers/{phone}/cases").json()
    assert len(history) >= 2
    # The lead's hot spots: the demo's street lights out along one road, in the last 24 hours.
    spots = api.get("/api/reports/hotspots", "lead01").json()
    assert spots, "no hot spot in the demo store"
    spot = spots[0]
    assert 4 <= spot["last_24h"] <= 6 and spot["baseline_per_day"] <= 1 / 7
    assert len(spot["open_cases"]) >= spot["last_24h"] // 2 + 1  # most still open
    # Related groups: each later case is linked to its group's first case, also in its log.
    assert len({r.related_to for r in linked}) >= 3
    for group in {r.related_to for r in linked}:
        members = api.get("/api/cases", params={"related_to": group}).json()["items"]
        assert len(members) >= 2 and group in {m["uuid"] for m in members}
        assert {m["related_to"] for m in members} == {"", group}
    for row in linked:
        register = by_case[row.id or 0][0]
        assert json.loads(register.changes)["related_to"] == ["", row.related_to]
    summary = api.get("/api/reports/summary", "lead01").json()
    assert summary["open_total"] == sum(
        1 for r in rows if Status(r.status) in {s for s in Status if s.value in _OPEN}
    )
    new = api.post(
        "/api/cases",
        json={
            "uuid": "7d0c2b8e-8f1a-4c53-9a55-2f1f8c0a0001",
            "appeal_type": "inquiry",
            "content": "请问公积金提取需要什么材料",
            "caller_phone": "13912345678",
            "category": "0101",
        },
    )
    assert new.status_code == 201, new.text
    # Numbering continues after the seeded cases of the same day: never a reused number.
    numbers = {r.number for r in rows}
    assert new.json()["number"] not in numbers


_OPEN = {
    "registered",
    "dispatched",
    "return_requested",
    "returned",
    "in_progress",
    "extension_requested",
    "replied",
}
