"""Leader on the line (领导接听) over HTTP, SQLite and PostgreSQL: a leader's case is created
leader-assigned (领导交办) and supervised in the same write, with the leader named in its audit
log; an agent's is not, and no body field can make it so; the board and the reports count them."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from openpyxl import load_workbook

from agent_tui.client.report import build_workbook, text_summary
from agent_tui.domain.case import Status, SupervisionLevel
from agent_tui.domain.leader import LEADER_MARK
from agent_tui.domain.lifecycle import Step
from tests.api.conftest import T0, Api, FrozenClock
from tests.api.helpers import (
    DEPT_USER,
    assert_error,
    case_body,
    case_in,
    new_case,
    take,
)
from tests.api.test_audit_and_feed import events_of, feed
from tests.api.test_dashboard import dashboard, fresh
from tests.api.test_report import report

SUPERVISED = int(SupervisionLevel.SUPERVISED)


def test_a_leaders_case_is_created_marked_and_supervised_with_the_leader_in_the_log(
    http: Api,
) -> None:
    case = new_case(http, "leader01")
    assert case["leader_assigned"] is True and case["supervision"] == SUPERVISED
    assert case["agent"] == "leader01" and case["version"] == 1  # one write, one event
    (event,) = events_of(http, case)
    assert (event["step"], event["actor"], event["role"], event["reason"]) == (
        "register",
        "leader01",
        "leader",
        LEADER_MARK,
    )
    assert event["changes"]["leader_assigned"] == [None, True]
    assert event["changes"]["supervision"] == [None, SUPERVISED]
    # Every reader sees it so: the case as read again, and the feed.
    again = http.get(f"/api/cases/{case['uuid']}", "agent02").json()
    assert again["leader_assigned"] and again["supervision"] == SUPERVISED
    changed = [ch["case"] for ch in feed(http, "lead01")["changes"] if ch["kind"] == "case"]
    assert [(c["uuid"], c["leader_assigned"]) for c in changed] == [(case["uuid"], True)]


def test_an_agents_case_is_not_marked_and_the_body_cannot_mark_it(http: Api) -> None:
    case = new_case(http, "agent01")
    assert case["leader_assigned"] is False and case["supervision"] == 0
    assert events_of(http, case)[0]["reason"] == ""
    for field, value in (("leader_assigned", True), ("supervision", SUPERVISED)):
        r = http.post("/api/cases", "agent01", json=case_body(**{field: value}))
        body = assert_error(r, 422)
        assert field in r.text, body
    # Nor can a step's body (a dispatch by an agent stays an agent's dispatch).
    r = http.post(
        f"/api/cases/{case['uuid']}/dispatch",
        "agent01",
        json={
            "command_id": "6b4c3c7e-0a57-4d7e-9d55-1b2c3d4e5f60",
            "version": case["version"],
            "department": "CGJ",
            "leader_assigned": True,
        },
    )
    assert_error(r, 422)
    assert http.get(f"/api/cases/{case['uuid']}").json()["leader_assigned"] is False


def test_a_leaders_dispatch_marks_the_case_in_that_step_and_it_stays_marked(
    http: Api,
) -> None:
    case = new_case(http, "agent01")
    case = take(http, case, Step.DISPATCH, "leader01", department="CGJ")
    assert case["leader_assigned"] and case["supervision"] == SUPERVISED
    last = events_of(http, case)[-1]
    assert (last["step"], last["actor"], last["role"], last["reason"]) == (
        "dispatch",
        "leader01",
        "leader",
        LEADER_MARK,
    )
    assert last["changes"]["leader_assigned"] == [False, True]
    # The department signs and replies as for any case; the marker stays.
    case = take(http, case, Step.SIGN, DEPT_USER)
    assert case["leader_assigned"] and case["status"] == Status.IN_PROGRESS.value
    # The department sees the marker on its own read of the case.
    seen = http.get(f"/api/cases/{case['uuid']}", DEPT_USER).json()
    assert seen["leader_assigned"] is True


def test_a_leader_may_not_take_the_centres_later_steps(http: Api) -> None:
    case = case_in(http, Status.REPLIED, user="leader01")
    r = http.post(
        f"/api/cases/{case['uuid']}/review-pass",
        "leader01",
        json={"command_id": "0b4c3c7e-0a57-4d7e-9d55-1b2c3d4e5f61", "version": case["version"]},
    )
    body = assert_error(r, 403, "forbidden")
    assert body["role"] == "领导"
    # Nor the lead's board.
    assert_error(http.get("/api/reports/dashboard", "leader01"), 403)


def leader_report(http: Api, start: Any, end: Any, user: str = "lead01") -> Any:
    return http.get(
        "/api/reports/leader",
        user,
        params={"start": start.isoformat(), "end": end.isoformat()},
    )


def test_the_board_and_the_report_count_leader_cases(
    http: Api, app: FastAPI, clock: FrozenClock
) -> None:
    late = case_in(http, Status.IN_PROGRESS, user="leader01", urgency="urgent")
    case_in(http, Status.CALLBACK_PENDING, user="leader01")  # done (办结)
    case_in(http, Status.REGISTERED, user="leader01")  # open, no deadline yet
    case_in(http, Status.IN_PROGRESS, user="agent01", urgency="urgent")  # not counted
    clock.advance(hours=25)  # ``late`` is overdue now
    assert http.get(f"/api/cases/{late['uuid']}").json()["overdue"]

    start, end = T0 - timedelta(days=1), T0 + timedelta(days=1)
    r = leader_report(http, start, end)
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["registered"], got["done"], got["open"], got["overdue"]) == (3, 1, 2, 1)
    # Another period holds none of them.
    empty = leader_report(http, end, end + timedelta(days=1)).json()
    assert (empty["registered"], empty["done"], empty["open"], empty["overdue"]) == (0, 0, 0, 0)

    fresh(app)
    board = dashboard(http)
    month = board["leader"]
    assert (month["registered"], month["done"], month["open"], month["overdue"]) == (3, 1, 2, 1)
    # The overdue list marks the leader's case.
    marked = {b["uuid"]: b["leader_assigned"] for b in board["overdue_cases"]}
    assert marked[late["uuid"]] is True and False in marked.values()

    # Leads and admins only; a bad period is a readable 422.
    assert_error(leader_report(http, start, end, user="agent01"), 403)
    assert_error(leader_report(http, end, start), 422)


def test_the_daily_report_has_a_leader_line_and_sheet(
    http: Api, app: FastAPI, clock: FrozenClock, tmp_path: Path
) -> None:
    case_in(http, Status.IN_PROGRESS, user="leader01", urgency="urgent")
    case_in(http, Status.RESOLVED, user="leader01")
    case_in(http, Status.RESOLVED, user="agent01")
    clock.advance(hours=25)
    data = report(app, "daily")
    summary = text_summary(data)
    assert "领导交办：受理 2 件，办结 1 件，在办 1 件（超期 1 件）。" in summary
    book = load_workbook(build_workbook(data, tmp_path / "report.xlsx"))
    overview = {row[0]: row[1:] for row in book["概览"].iter_rows(values_only=True) if row[0]}
    assert overview["领导交办"][0] == "受理 2 件，办结 1 件，在办 1 件（超期 1 件）"
    rows = list(book["领导交办"].iter_rows(values_only=True))
    assert rows[0] == ("受理", "办结", "在办", "超期") and rows[1] == (2, 1, 1, 1)
