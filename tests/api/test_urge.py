"""Repeat calls about an open case over HTTP — urge (催办, ``POST /cases/{uuid}/urge``) and
supplement (补充, ``POST /cases/{uuid}/supplement``) — and supervising a case once (督办).
SQLite and PostgreSQL, through the real app."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI

from agent_tui.domain.case import Status
from agent_tui.domain.lifecycle import Step
from tests.api.conftest import T0, Api, FrozenClock
from tests.api.helpers import (
    DEPT,
    DEPT_USER,
    OTHER_DEPT_USER,
    assert_error,
    case_in,
    new_case,
    step,
    take,
    url,
)
from tests.api.test_audit_and_feed import events_of, feed
from tests.api.test_dashboard import dashboard, fresh

SAID = "来电人说已经三天了还没人来处理，要求尽快"


def urge(http: Api, case: dict[str, Any], user: str = "agent01", **over: Any) -> Any:
    body = {"command_id": str(uuid.uuid4()), "version": case["version"], "reason": SAID}
    return http.post(url(case, Step.URGE), user, json={**body, **over})


def test_an_urge_counts_on_the_case_and_goes_to_the_timeline_and_the_feed(
    http: Api, clock: FrozenClock
) -> None:
    case = case_in(http, Status.IN_PROGRESS)
    seq = feed(http, DEPT_USER)["last_seq"]
    clock.advance(hours=2)
    r = urge(http, case)
    assert r.status_code == 200, r.text
    after = r.json()
    assert (after["status"], after["urges"], after["supplements"]) == ("in_progress", 1, 0)
    assert after["last_urged_at"].startswith((T0 + timedelta(hours=2)).strftime("%Y-%m-%dT%H"))
    assert after["version"] == case["version"] + 1
    last = events_of(http, case)[-1]
    assert (last["step"], last["actor"], last["role"], last["reason"]) == (
        "urge",
        "agent01",
        "agent",
        SAID,
    )
    assert last["from_status"] == last["to_status"] == "in_progress"
    assert last["changes"]["urges"] == [0, 1]
    # The department desk hears of it through the change feed, with the count.
    page = feed(http, DEPT_USER, after=seq)
    changed = [ch["case"] for ch in page["changes"] if ch["kind"] == "case"]
    assert [(c["uuid"], c["urges"]) for c in changed] == [(case["uuid"], 1)]
    # Another department's feed does not.
    others = feed(http, OTHER_DEPT_USER, after=seq)
    assert [ch for ch in others["changes"] if ch["kind"] == "case"] == []


def test_a_supplement_counts_and_is_logged(http: Api) -> None:
    case = case_in(http, Status.DISPATCHED)
    r = http.post(
        url(case, Step.SUPPLEMENT),
        "lead01",
        json={
            "command_id": str(uuid.uuid4()),
            "version": case["version"],
            "reason": "补充：每天早上六点有人张贴",
        },
    )
    assert r.status_code == 200, r.text
    assert (r.json()["supplements"], r.json()["urges"], r.json()["status"]) == (
        1,
        0,
        "dispatched",
    )
    last = events_of(http, case)[-1]
    assert (last["step"], last["reason"]) == ("supplement", "补充：每天早上六点有人张贴")


def test_a_repeat_call_is_taken_on_the_case_as_it_is_now(http: Api) -> None:
    """An urge decided on an older version (the department signed meanwhile) is no conflict:
    it adds to the case and decides nothing about it."""
    seen = case_in(http, Status.DISPATCHED)
    take(http, seen, Step.SIGN, DEPT_USER)
    r = urge(http, seen)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["urges"]) == ("in_progress", 1)
    # Other steps still name their version.
    assert_error(step(http, seen, Step.SUPERVISE, "lead01"), 409, "version_conflict")


def test_a_retried_urge_is_applied_once(http: Api) -> None:
    case = case_in(http, Status.IN_PROGRESS)
    body = {"command_id": str(uuid.uuid4()), "version": case["version"], "reason": SAID}
    first = http.post(url(case, Step.URGE), json=body)
    again = http.post(url(case, Step.URGE), json=body)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert http.get(f"/api/cases/{case['uuid']}").json()["urges"] == 1
    assert [e["step"] for e in events_of(http, case)].count("urge") == 1


@pytest.mark.parametrize("status", [Status.RESOLVED, Status.ARCHIVED, Status.CALLBACK_PENDING])
def test_a_closed_case_refuses_a_repeat_call_with_a_readable_409(http: Api, status: Status) -> None:
    case = case_in(http, status)
    for s in (Step.URGE, Step.SUPPLEMENT):
        body = {"command_id": str(uuid.uuid4()), "version": case["version"], "reason": SAID}
        error = assert_error(http.post(url(case, s), json=body), 409, "illegal_step")
        assert "不能催办或补充" in error["message"]
    assert http.get(f"/api/cases/{case['uuid']}").json()["version"] == case["version"]


def test_a_dissatisfied_case_is_offered_a_reopen_instead(http: Api) -> None:
    case = case_in(http, Status.RATED)  # rated dissatisfied, with a department
    error = assert_error(urge(http, case), 409, "illegal_step")
    assert "重办" in error["message"]
    reopened = take(http, case, Step.REOPEN, "agent01")
    assert reopened["status"] == "in_progress"
    assert urge(http, reopened).status_code == 200


def test_unknown_case_bad_body_and_wrong_role(http: Api) -> None:
    ghost = {"uuid": str(uuid.uuid4()), "version": 1}
    assert_error(urge(http, ghost), 404, "not_found")
    case = case_in(http, Status.IN_PROGRESS)
    for reason in ("", "长" * 600):
        body = assert_error(urge(http, case, reason=reason), 422)
        assert body["errors"][0]["field"] == "reason"
    missing = {"command_id": str(uuid.uuid4()), "version": case["version"]}
    assert_error(http.post(url(case, Step.URGE), json=missing), 422)
    forbidden = assert_error(urge(http, case, DEPT_USER), 403, "forbidden")
    assert "话务员" in forbidden["message"] or "班长" in forbidden["message"]
    # Another department cannot even see it.
    assert_error(urge(http, case, OTHER_DEPT_USER), 404)


def test_the_board_counts_urges_today_by_department(
    http: Api, app: FastAPI, clock: FrozenClock
) -> None:
    a = case_in(http, Status.IN_PROGRESS)
    b = case_in(http, Status.DISPATCHED)
    other = take(http, new_case(http), Step.DISPATCH, "agent01", department="GAJ")
    waiting = new_case(http)
    clock.now = T0 - timedelta(days=1)  # yesterday's urge is not today's
    assert urge(http, a).status_code == 200
    clock.now = T0 + timedelta(hours=1)
    for c in (a, a, b, other, waiting):
        assert urge(http, c).status_code == 200, c
    body = {"command_id": str(uuid.uuid4()), "version": 1, "reason": "补充一下"}
    assert http.post(url(b, Step.SUPPLEMENT), json=body).status_code == 200
    fresh(app)
    assert dashboard(http)["urges_today"] == {DEPT: 3, "GAJ": 1, "": 1}


# --- 督办 once ----------------------------------------------------------------------------------


def test_a_case_is_supervised_once(http: Api) -> None:
    case = case_in(http, Status.IN_PROGRESS)
    supervised = take(http, case, Step.SUPERVISE, "lead01")
    assert supervised["supervision"] == 2
    error = assert_error(step(http, supervised, Step.SUPERVISE, "lead01"), 409, "illegal_step")
    assert "已在督办中" in error["message"]
    steps = [e["step"] for e in events_of(http, case)]
    assert steps.count("supervise") == 1


def test_a_hot_spot_says_which_of_its_cases_are_supervised(
    http: Api, app: FastAPI, clock: FrozenClock
) -> None:
    clock.now = T0 - timedelta(hours=2)
    cases = [new_case(http, address={"county": "驿城区", "village": "刘阁村"}) for _ in range(3)]
    clock.now = T0
    spots = http.get("/api/reports/hotspots", "lead01").json()
    assert [(s["place"], s["supervised"]) for s in spots] == [("刘阁村", [])]
    take(http, cases[0], Step.SUPERVISE, "lead01")
    # At once, although the hot spots themselves are cached.
    spots = http.get("/api/reports/hotspots", "lead01").json()
    assert spots[0]["supervised"] == [cases[0]["uuid"]]
    assert dashboard(http)["hotspots"][0]["supervised"] == [cases[0]["uuid"]]
