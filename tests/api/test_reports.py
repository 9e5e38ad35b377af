"""Reports: the lead summary and the KPIs over HTTP, who may see them, and the clock job."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlmodel import Session, col, select

from agent_tui.config import Settings
from agent_tui.domain.case import Status
from agent_tui.domain.kpi import GroupBy, Kpis, compute_kpis
from agent_tui.domain.lifecycle import Step
from agent_tui.server.codec import event_from_row
from agent_tui.server.db import make_engine
from agent_tui.server.models import EventRow
from agent_tui.server.store import Store
from tests.api.conftest import T0, Api, FrozenClock
from tests.api.helpers import (
    DEPT_USER,
    OTHER_DEPT_USER,
    assert_error,
    case_in,
    new_case,
    take,
)

# --- lead summary -------------------------------------------------------------------------------


def test_the_lead_summary_counts_cases_by_status_and_department(http: Api) -> None:
    case_in(http, Status.REGISTERED)
    case_in(http, Status.REGISTERED, user="by_agent")
    case_in(http, Status.DISPATCHED)
    case_in(http, Status.IN_PROGRESS)
    take(http, new_case(http), Step.DISPATCH, "agent01", department="GAJ")
    case_in(http, Status.CALLBACK_PENDING)
    case_in(http, Status.RESOLVED)  # closed: not counted
    case_in(http, Status.REFUSED)  # closed: not counted

    r = http.get("/api/reports/summary", "lead01")
    assert r.status_code == 200, r.text
    summary = r.json()
    counts = {(x["status"], x["department"]): x["count"] for x in summary["by_status_department"]}
    assert counts == {
        ("registered", ""): 2,
        ("dispatched", "CGJ"): 1,
        ("in_progress", "CGJ"): 1,
        ("dispatched", "GAJ"): 1,
        ("callback_pending", "CGJ"): 1,
    }
    assert summary["open_total"] == 5  # callback_pending is no longer open
    assert summary["callbacks_waiting"] == 1
    assert summary["oldest_callback_waiting_since"] is not None
    assert summary["registered_today"] == 8
    assert summary["overdue"] == 0 and summary["due_today"] == 0
    assert http.get("/api/reports/summary", "admin").json()["by_status_department"]

    # A seat's heartbeat shows it online in the summary.
    assert (
        http.post("/api/seats/heartbeat", json={"seat_id": "seat-7", "outbox": 3}).status_code
        == 204
    )
    seats = http.get("/api/reports/summary", "lead01").json()["seats"]
    assert [(s["seat_id"], s["user_id"], s["outbox"], s["online"]) for s in seats] == [
        ("seat-7", "agent01", 3, True)
    ]


def test_the_lead_summary_counts_overdue_and_due_today_from_the_clock(
    http: Api, clock: FrozenClock
) -> None:
    late = case_in(http, Status.IN_PROGRESS)
    deadline = datetime.fromisoformat(late["handling_deadline"])
    clock.now = deadline - timedelta(hours=1)
    summary = http.get("/api/reports/summary", "lead01").json()
    assert (summary["overdue"], summary["due_today"]) == (0, 1)
    clock.now = deadline + timedelta(minutes=1)
    summary = http.get("/api/reports/summary", "lead01").json()
    assert (summary["overdue"], summary["due_today"], summary["registered_today"]) == (1, 0, 0)


@pytest.mark.parametrize(
    "path",
    [
        "/api/reports/summary",
        "/api/reports/kpis?start=2026-11-01T00:00:00%2B08:00&end=2026-12-01T00:00:00%2B08:00",
    ],
    ids=["summary", "kpis"],
)
def test_agents_and_departments_may_not_see_reports(http: Api, path: str) -> None:
    for user in ("agent01", "by_agent", DEPT_USER, OTHER_DEPT_USER):
        r = http.get(path, user)
        assert r.status_code == 403, r.text
        body = assert_error(r, r.status_code, "forbidden")
        assert "班长" in body["message"] and "管理员" in body["message"]


def test_an_agent_asking_for_reports_gets_403(http: Api) -> None:
    assert_error(http.get("/api/reports/summary", "agent01"), 403, "forbidden")


# --- KPIs ---------------------------------------------------------------------------------------


def history(http: Api, clock: FrozenClock) -> None:
    """A few weeks of work: on time, late, returned, extended, reopened, resolved, refused."""
    hour = timedelta(hours=1)

    def later(h: float = 1) -> None:
        clock.advance(hours=h)

    satisfied = case_in(http, Status.CALLED_BACK)
    later()
    take(http, satisfied, Step.RATE, "agent01", satisfaction="satisfied")
    later()
    case_in(http, Status.RATED)  # dissatisfied
    later()
    reopened = case_in(http, Status.RATED)
    take(http, reopened, Step.REOPEN, "lead01")
    later()
    returned = case_in(http, Status.RETURNED)
    take(http, returned, Step.DISPATCH, "agent01", department="GAJ")
    later()
    extended = case_in(http, Status.EXTENSION_REQUESTED)
    take(http, extended, Step.APPROVE_EXTENSION, "lead01")
    case_in(http, Status.RESOLVED)
    case_in(http, Status.REFUSED)
    late = case_in(http, Status.IN_PROGRESS)
    clock.now = datetime.fromisoformat(late["handling_deadline"]) + hour
    take(http, late, Step.REPLY, DEPT_USER)
    later(24)
    new_case(http, appeal_type="inquiry", content="咨询公积金提取需要哪些材料", category="0102")
    later(24 * 10)


def db_events(app: FastAPI) -> list[Any]:
    with Session(app.state.store.engine) as session:
        return [event_from_row(r) for r in session.exec(select(EventRow)).all()]


def expected(k: Kpis) -> dict[str, Any]:
    def ratio(r: Any) -> dict[str, Any]:
        return {"numerator": r.numerator, "denominator": r.denominator, "value": r.value}

    return {
        "on_time": ratio(k.on_time),
        "callback": ratio(k.callback),
        "callback_sampled": ratio(k.callback_sampled),
        "satisfaction": ratio(k.satisfaction),
        "resolution": ratio(k.resolution),
        "timely_signing": ratio(k.timely_signing),
        "direct_resolution": ratio(k.direct_resolution),
        "returns": ratio(k.returns),
        "reopens": ratio(k.reopens),
        "average_handling_hours": k.average_handling_hours,
        "registered": k.registered,
        "volume_by_type": dict(k.volume_by_type),
        "volume_by_category": dict(k.volume_by_category),
        "volume_by_county": dict(k.volume_by_county),
        "volume_by_department": dict(k.volume_by_department),
        "replies_by_outcome": dict(k.replies_by_outcome),
    }


def kpis(http: Api, start: datetime, end: datetime, group_by: str = "none") -> dict[str, Any]:
    params = {"start": start.isoformat(), "end": end.isoformat(), "group_by": group_by}
    r = http.get("/api/reports/kpis", "lead01", params=params)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize("group_by", [GroupBy.NONE, GroupBy.DEPARTMENT, GroupBy.COUNTY])
def test_the_kpi_endpoint_equals_the_domain_over_the_same_events(
    http: Api, app: FastAPI, clock: FrozenClock, group_by: GroupBy
) -> None:
    history(http, clock)
    events = db_events(app)
    whole = (T0 - timedelta(days=1), clock.now + timedelta(days=1))
    later = (T0 + timedelta(hours=3), T0 + timedelta(days=8))  # cuts through the history
    for start, end in (whole, later):
        got = kpis(http, start, end, group_by.value)
        want = compute_kpis(events, start=start, end=end, now=clock.now, group_by=group_by)
        assert got["group_by"] == group_by.value
        assert got["total"] == expected(want.total), (start, end)
        assert got["groups"] == {k: expected(v) for k, v in want.groups.items()}, (start, end)
    total = kpis(http, *whole)["total"]
    assert total["registered"] == 9 and total["direct_resolution"]["numerator"] == 1
    assert total["returns"]["numerator"] == 1 and total["reopens"]["numerator"] == 1
    assert total["on_time"]["denominator"] > total["on_time"]["numerator"] > 0
    if group_by is GroupBy.DEPARTMENT:
        assert {"CGJ", "GAJ"} <= set(kpis(http, *whole, "department")["groups"])


def test_a_case_left_unreplied_past_its_deadline_counts_late_in_that_period(
    http: Api, app: FastAPI, clock: FrozenClock
) -> None:
    late = case_in(http, Status.IN_PROGRESS)
    deadline = datetime.fromisoformat(late["handling_deadline"])
    clock.now = deadline + timedelta(days=3)
    start, end = deadline - timedelta(days=1), deadline + timedelta(days=1)
    want = compute_kpis(db_events(app), start=start, end=end, now=clock.now)
    assert (want.total.on_time.numerator, want.total.on_time.denominator) == (0, 1)
    assert kpis(http, start, end)["total"]["on_time"]["denominator"] == 1


def test_a_kpi_period_must_end_after_it_starts(http: Api) -> None:
    params = {"start": "2026-12-01T00:00:00+08:00", "end": "2026-11-01T00:00:00+08:00"}
    body = assert_error(http.get("/api/reports/kpis", "lead01", params=params), 422)
    assert body["errors"][0]["field"] == "start"


# --- the clock job ------------------------------------------------------------------------------


def supervision_events(app: FastAPI) -> list[tuple[str, str, str, str]]:
    with Session(app.state.store.engine) as session:
        rows = session.exec(
            select(EventRow)
            .where(col(EventRow.step).in_(["remind", "notice", "public_notice"]))
            .order_by(col(EventRow.id))
        ).all()
        return [(r.case_uuid, r.step, r.actor, r.role) for r in rows]


def test_the_clock_job_reminds_then_notices_each_case_exactly_once(
    http: Api, app: FastAPI, clock: FrozenClock
) -> None:
    store = app.state.store
    cases = [case_in(http, Status.IN_PROGRESS) for _ in range(3)]
    quiet = case_in(http, Status.REPLIED)  # replied: the clock leaves it alone
    deadline = datetime.fromisoformat(cases[0]["handling_deadline"])
    assert store.run_clock(clock.now) == 0

    clock.now = deadline - timedelta(minutes=1)
    assert store.run_clock(clock.now) == 3
    assert store.run_clock(clock.now) == 0
    assert supervision_events(app) == [(c["uuid"], "remind", "clock", "system") for c in cases]

    clock.now = deadline + timedelta(minutes=1)
    assert store.run_clock(clock.now) == 3
    assert store.run_clock(clock.now) == 0
    steps = Counter((uuid, step) for uuid, step, _, _ in supervision_events(app))
    assert steps == Counter({(c["uuid"], s): 1 for c in cases for s in ("remind", "notice")})
    after = http.get(f"/api/cases/{cases[0]['uuid']}").json()
    assert after["supervision"] == 3 and after["events"][-1]["role"] == "system"
    assert http.get(f"/api/cases/{quiet['uuid']}").json()["supervision"] == 0


def test_two_stores_running_the_clock_at_once_take_each_step_once(
    http: Api, app: FastAPI, clock: FrozenClock, settings: Settings, db_url: str
) -> None:
    cases = [case_in(http, Status.DISPATCHED) for _ in range(6)]
    deadline = datetime.fromisoformat(cases[0]["handling_deadline"])
    stores = [Store(make_engine(db_url), settings, clock=clock) for _ in range(2)]
    barrier = threading.Barrier(len(stores))
    errors: list[BaseException] = []

    def run(store: Store) -> None:
        try:
            barrier.wait()
            store.run_clock(clock.now)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    try:
        for now in (deadline - timedelta(minutes=1), deadline + timedelta(minutes=1)):
            clock.now = now
            threads = [threading.Thread(target=run, args=(s,)) for s in stores]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    finally:
        for store in stores:
            store.engine.dispose()
    assert not errors, errors
    steps = Counter((uuid, step) for uuid, step, _, _ in supervision_events(app))
    assert steps == Counter({(c["uuid"], s): 1 for c in cases for s in ("remind", "notice")})
    for c in cases:
        versions = [e["version"] for e in http.get(f"/api/cases/{c['uuid']}").json()["events"]]
        assert versions == list(range(1, len(versions) + 1))
