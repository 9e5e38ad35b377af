"""Co-departments take part over HTTP (协办意见, ``POST /cases/{uuid}/co-opinion``): the
co-department gives its opinion once, by its deadline; the lead department and review see it;
the lead's desk hears of it through the feed; a missing one is overdue. SQLite and PostgreSQL,
through the real app."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from agent_tui.domain.calendar import SHANGHAI
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
    take,
    url,
)
from tests.api.test_audit_and_feed import events_of, feed
from tests.api.test_dashboard import dashboard

CO = "GAJ"  # OTHER_DEPT_USER's department
CO_USER = OTHER_DEPT_USER
SAID = "经核实，该路段夜间有流动摊贩，已安排民警配合城管巡查"


def co_case(http: Api, status: Status = Status.IN_PROGRESS) -> dict[str, Any]:
    """A case led by DEPT with CO as its co-department, walked on to ``status``."""
    case = new_case(http)
    case = take(http, case, Step.DISPATCH, "agent01", department=DEPT, co_departments=[CO])
    if status is Status.IN_PROGRESS:
        case = take(http, case, Step.SIGN, DEPT_USER)
    assert case["status"] == status.value
    return case


def opinion(http: Api, case: dict[str, Any], user: str = CO_USER, **over: Any) -> Any:
    body = {
        "command_id": str(uuid.uuid4()),
        "version": case["version"],
        "opinion": SAID,
        "officer": "李警官",
        "phone": "0396 2345678",
    }
    return http.post(url(case, Step.CO_OPINION), user, json={**body, **over})


def test_dispatch_names_the_missing_opinions_and_their_deadline(http: Api) -> None:
    case = co_case(http, Status.DISPATCHED)
    # Thu 26 Nov 09:00 + 2 working days (Fri 27, Mon 30): Mon 30 Nov 24:00, before the reply
    # (5 working days: Thu 3 Dec 24:00).
    due = datetime.fromisoformat(case["co_opinion_deadline"])
    assert due == datetime(2026, 12, 1, tzinfo=SHANGHAI)
    assert due < datetime.fromisoformat(case["handling_deadline"])
    assert case["co_opinions"] == []
    assert case["co_missing"] == [
        {"department": CO, "due": case["co_opinion_deadline"], "overdue": False}
    ]
    # The co-department's case screen offers it: the case is visible to it.
    assert http.get(f"/api/cases/{case['uuid']}", CO_USER).status_code == 200


def test_a_co_department_gives_its_opinion_and_the_lead_sees_it(
    http: Api, clock: FrozenClock
) -> None:
    case = co_case(http)
    seq = feed(http, DEPT_USER)["last_seq"]
    clock.advance(hours=3)
    r = opinion(http, case)
    assert r.status_code == 200, r.text
    after = r.json()
    assert after["status"] == "in_progress" and after["version"] == case["version"] + 1
    (given,) = after["co_opinions"]
    assert (given["department"], given["text"], given["officer"], given["phone"]) == (
        CO,
        SAID,
        "李警官",
        "0396-2345678",  # normalised like a caller's phone
    )
    assert given["at"].startswith((T0 + timedelta(hours=3)).strftime("%Y-%m-%dT%H"))
    assert after["co_missing"] == []
    # The audit log has it, by the co-department's user.
    last = events_of(http, case)[-1]
    assert (last["step"], last["actor"], last["role"]) == ("co_opinion", CO_USER, "department")
    assert last["from_status"] == last["to_status"] == "in_progress"
    # The lead department reads it on the case, and its desk hears of it through the feed.
    lead_view = http.get(f"/api/cases/{case['uuid']}", DEPT_USER).json()
    assert [o["text"] for o in lead_view["co_opinions"]] == [SAID]
    page = feed(http, DEPT_USER, after=seq)
    changed = [ch["case"] for ch in page["changes"] if ch["kind"] == "case"]
    assert [(c["uuid"], len(c["co_opinions"])) for c in changed] == [(case["uuid"], 1)]
    # The lead replies; review (the centre) sees the reply and the opinion together.
    replied = take(http, lead_view, Step.REPLY, DEPT_USER)
    review = http.get(f"/api/cases/{case['uuid']}", "agent01").json()
    assert review["status"] == "replied" and review["result"] == replied["result"]
    assert [(o["department"], o["officer"]) for o in review["co_opinions"]] == [(CO, "李警官")]


def test_once_per_co_department_a_second_is_refused(http: Api) -> None:
    case = co_case(http)
    first = opinion(http, case)
    assert first.status_code == 200, first.text
    again = opinion(http, first.json(), opinion="补充意见")
    body = assert_error(again, 409)
    assert "已提交协办意见" in body["message"]
    # A retry of the same command gets the same answer, not a refusal.
    command = str(uuid.uuid4())
    other = co_case(http)
    one = opinion(http, other, command_id=command)
    two = opinion(http, other, command_id=command)
    assert one.status_code == two.status_code == 200 and one.json() == two.json()
    assert len(http.get(f"/api/cases/{other['uuid']}").json()["co_opinions"]) == 1


def test_a_stale_version_is_no_conflict(http: Api) -> None:
    case = co_case(http, Status.DISPATCHED)
    signed = take(http, case, Step.SIGN, DEPT_USER)  # the lead signs meanwhile
    r = opinion(http, case)  # on the version the co-department saw
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "in_progress" and r.json()["version"] == signed["version"] + 1


def test_who_may_not(http: Api) -> None:
    case = co_case(http)
    # The lead department is not a co-department of its own case.
    assert "协办单位" in assert_error(opinion(http, case, DEPT_USER), 403)["message"]
    # The centre does not write a department's opinion.
    assert_error(opinion(http, case, "agent01"), 403)
    # A department that is not on the case does not even see it.
    plain = case_in(http, Status.IN_PROGRESS)
    assert opinion(http, plain, CO_USER).status_code == 404
    # The co-department takes none of the lead's steps.
    r = http.post(
        url(case, Step.REPLY),
        CO_USER,
        json={"command_id": str(uuid.uuid4()), "version": case["version"], "result": "已处理"},
    )
    assert_error(r, 403)
    # After the lead's reply an opinion comes too late.
    replied = take(http, case, Step.REPLY, DEPT_USER)
    assert_error(opinion(http, replied), 409)


def test_the_opinion_is_checked_field_by_field(http: Api) -> None:
    case = co_case(http)
    r = opinion(http, case, opinion="  ", officer="  ")
    body = assert_error(r, 422)
    assert {e["field"] for e in body["errors"]} == {"opinion", "officer"}
    body = assert_error(opinion(http, case, phone="12345"), 422)
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("phone", "invalid")]
    assert "电话号码无效" in body["errors"][0]["message"]
    assert_error(opinion(http, case, officer="名" * 21), 422)
    r = opinion(http, case, phone="1" * 21)
    assert_error(r, 422)
    # Without a phone it is accepted.
    assert opinion(http, case, phone="").status_code == 200


def test_a_missing_opinion_is_overdue_after_its_deadline(http: Api, clock: FrozenClock) -> None:
    case = co_case(http)
    clock.advance(days=5)  # Tue 1 Dec 09:00: past Mon 30 Nov 24:00, before the reply's
    now = http.get(f"/api/cases/{case['uuid']}", CO_USER).json()
    assert now["co_missing"] == [
        {"department": CO, "due": case["co_opinion_deadline"], "overdue": True}
    ]
    assert now["overdue"] is False  # the lead's reply is not late
    # The co-department's overdue queue lists it; the lead's own overdue queue does not.
    mine = http.get("/api/cases", CO_USER, params={"co_overdue": "true"}).json()["items"]
    assert [c["uuid"] for c in mine] == [case["uuid"]]
    lead = http.get("/api/cases", DEPT_USER, params={"co_overdue": "true"}).json()["items"]
    assert lead == []
    # The centre sees every overdue opinion; once it comes in, it is no longer listed.
    centre = http.get("/api/cases", "lead01", params={"co_overdue": "true"}).json()["items"]
    assert [c["uuid"] for c in centre] == [case["uuid"]]
    # The lead's board counts them.
    assert dashboard(http)["co_overdue"] == 1
    assert opinion(http, case).status_code == 200
    mine = http.get("/api/cases", CO_USER, params={"co_overdue": "true"}).json()["items"]
    assert mine == []
    assert dashboard(http)["co_overdue"] == 0


def test_the_co_queue_lists_the_cases_a_department_assists(http: Api) -> None:
    case = co_case(http)
    plain = case_in(http, Status.IN_PROGRESS)
    co = http.get("/api/cases", CO_USER, params={"co": "true"}).json()["items"]
    assert [c["uuid"] for c in co] == [case["uuid"]]
    # The lead department's own queues leave out the cases it only assists (co=false).
    lead = http.get("/api/cases", DEPT_USER, params={"co": "false"}).json()["items"]
    assert {case["uuid"], plain["uuid"]} <= {c["uuid"] for c in lead}
    assisting = http.get("/api/cases", CO_USER, params={"co": "false"}).json()["items"]
    assert case["uuid"] not in [c["uuid"] for c in assisting]
