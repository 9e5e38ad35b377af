"""Cases over HTTP: create (validation, idempotency, numbering), queues, caller history, scope."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest

from agent_tui.domain.case import Status
from agent_tui.domain.lifecycle import Step
from tests.api.conftest import Api, FrozenClock
from tests.api.helpers import (
    DEPT_USER,
    OTHER_DEPT_USER,
    assert_error,
    case_body,
    case_in,
    has_chinese,
    new_case,
    take,
)

CITY = "ZMD-20261126"


def listing(http: Api, user: str = "agent01", **params: Any) -> list[dict[str, Any]]:
    r = http.get("/api/cases", user, params={"limit": 200, **params})
    assert r.status_code == 200, r.text
    assert r.json()["next_cursor"] is None
    return r.json()["items"]  # type: ignore[no-any-return]


def uuids(items: list[dict[str, Any]]) -> set[str]:
    return {c["uuid"] for c in items}


# --- create: validation -------------------------------------------------------------------------


#: One bad field per request: (body overrides, the field named, its error code).
BAD_FIELDS: list[tuple[dict[str, Any], str, str]] = [
    ({"caller_phone": "12345"}, "caller_phone", "invalid"),
    ({"caller_phone": ""}, "caller_phone", "required"),
    ({"content": "太短"}, "content", "too_short"),
    ({"content": "   "}, "content", "required"),
    ({"category": ""}, "category", "required"),
    ({"category": "9999"}, "category", "unknown"),
    ({"address": {"county": ""}}, "address", "required"),
    ({"anonymous": True, "confidential": True}, "anonymous", "conflict"),
    ({"anonymous": True, "caller_name": "张三"}, "caller_name", "anonymous"),
    ({"registered_at": "2026-12-01T09:00:00+08:00"}, "registered_at", "out_of_range"),
    ({"registered_at": "2026-11-01T09:00:00+08:00"}, "registered_at", "out_of_range"),
]


def test_create_names_the_bad_field_in_chinese(http: Api) -> None:
    for over, field, code in BAD_FIELDS:
        r = http.post("/api/cases", json=case_body(**over))
        body = assert_error(r, 422, "validation_failed")
        matching = [e for e in body["errors"] if e["field"] == field]
        assert matching and matching[0]["code"] == code, (over, body["errors"])
        assert has_chinese(matching[0]["message"]), matching
    assert listing(http) == []
    r = http.post("/api/cases", json=case_body(caller_phone="12", content="短", category=""))
    fields = {e["field"] for e in assert_error(r, 422)["errors"]}
    assert fields == {"caller_phone", "content", "category"}
    case = new_case(http, caller_phone="+86 139-1234-5678")
    assert case["caller_phone"] == "13912345678"


def test_only_agents_and_leads_register_cases(http: Api) -> None:
    for user, role in ((DEPT_USER, "承办单位"), ("admin", "管理员")):
        body = assert_error(http.post("/api/cases", user, json=case_body()), 403, "forbidden")
        assert "“受理”" in body["message"] and f"“{role}”" in body["message"]
    assert listing(http) == []


# --- create: idempotency and numbers ------------------------------------------------------------


def test_sending_the_same_uuid_again_returns_the_first_case(http: Api) -> None:
    body = case_body()
    first = http.post("/api/cases", json=body)
    assert first.status_code == 201
    # Even with a different body: the uuid decides, the first case stands.
    again = http.post("/api/cases", json={**body, "content": "另一段完全不同的诉求内容"})
    assert again.status_code == 200
    assert again.json()["number"] == first.json()["number"] == f"{CITY}-0001"
    assert again.json()["content"] == first.json()["content"]
    assert [c["uuid"] for c in listing(http)] == [body["uuid"]]
    # The replay took no number: the next case is 0002.
    assert new_case(http)["number"] == f"{CITY}-0002"
    body = case_body()
    assert http.post("/api/cases", json=body).status_code == 201
    assert_error(http.post("/api/cases", "by_agent", json=body), 404, "not_found")


def test_the_register_event_and_the_feed_carry_the_case_as_created(http: Api) -> None:
    """The log alone rebuilds a new case (its number too, which PostgreSQL's one-statement
    create writes into the event itself), and the event, the case and the feed share one
    change number."""
    after = http.get("/api/changes", "lead01").json()["last_seq"]
    first = new_case(http)
    made = [
        first,
        new_case(http, "by_agent", content="县平台受理的第一件诉求，路灯不亮已经三天"),
        new_case(http, related_to=first["uuid"]),
    ]
    feed = http.get("/api/changes", "lead01", params={"after": after}).json()["changes"]
    seqs = {c["case"]["uuid"]: c["seq"] for c in feed}
    assert len(seqs) == 3 and sorted(seqs.values()) == list(seqs.values())
    for case in made:
        user = "by_agent" if case["platform"] != "city" else "agent01"
        (register,) = http.get(f"/api/cases/{case['uuid']}", user).json()["events"]
        assert register["step"] == "register" and register["version"] == 1
        assert register["seq"] == seqs[case["uuid"]]
        changes = register["changes"]
        for name in ("number", "content", "caller_phone", "platform", "agent", "status"):
            assert changes[name] == [None, case[name]], name
        assert datetime.fromisoformat(changes["registered_at"][1]) == datetime.fromisoformat(
            case["registered_at"]
        )
    assert made[2]["related_to"] == first["uuid"]
    register = http.get(f"/api/cases/{made[2]['uuid']}").json()["events"][0]
    assert register["changes"]["related_to"] == ["", first["uuid"]]


def test_numbers_run_per_platform_and_year_dated_on_the_registration_day_never_reused(
    http: Api, clock: FrozenClock
) -> None:
    assert new_case(http)["number"] == f"{CITY}-0001"
    assert new_case(http, "agent02")["number"] == f"{CITY}-0002"
    # A failed create takes no number.
    assert http.post("/api/cases", json=case_body(caller_phone="1")).status_code == 422
    assert new_case(http, "lead01")["number"] == f"{CITY}-0003"

    county = new_case(http, "by_agent")["number"]
    assert county.startswith("ZMD-") and county.endswith("-20261126-0001")
    prefix = county.removesuffix("-20261126-0001")
    assert prefix not in ("ZMD", "") and prefix.isupper()
    assert new_case(http, "by_agent")["number"] == f"{prefix}-20261126-0002"

    # The running number goes on through the year (the day is the registration day): a
    # number handed out by a seat's block can never meet one the store gives (domain.numbers).
    clock.advance(days=1)
    assert new_case(http)["number"] == "ZMD-20261127-0004"
    assert new_case(http, "by_agent")["number"] == f"{prefix}-20261127-0003"
    # A seat that was offline yesterday sends its case now: dated yesterday, next running.
    yesterday = (clock.now - timedelta(days=1)).isoformat()
    late = new_case(http, registered_at=yesterday)
    assert late["number"] == f"{CITY}-0005"
    assert new_case(http)["number"] == "ZMD-20261127-0006"

    numbers = [c["number"] for c in listing(http)]
    assert len(numbers) == len(set(numbers)) == 9


# --- queues: filters and keyset pagination ------------------------------------------------------


@pytest.fixture
def queue(http: Api) -> dict[str, dict[str, Any]]:
    """Five cases that differ in one attribute each, named for what sets them apart."""
    return {
        "registered": new_case(http),
        "cgj": case_in(http, Status.DISPATCHED, caller_phone="13800000001", category="0102"),
        "gaj": take(
            http,
            new_case(http, "agent02", appeal_type="inquiry", content="咨询户口迁移需要哪些材料"),
            Step.DISPATCH,
            "agent01",
            department="GAJ",
        ),
        "county": new_case(http, "by_agent", content="泌阳县花园街道路灯不亮已经一周"),
        "resolved": case_in(http, Status.RESOLVED),
    }


def test_each_list_filter_selects_exactly_its_cases(
    http: Api, queue: dict[str, dict[str, Any]]
) -> None:
    q = {name: c["uuid"] for name, c in queue.items()}
    assert uuids(listing(http)) == set(q.values())
    assert uuids(listing(http, status="registered")) == {q["registered"], q["county"]}
    assert uuids(listing(http, status=["dispatched", "resolved"])) == {
        q["cgj"],
        q["gaj"],
        q["resolved"],
    }
    assert uuids(listing(http, department="GAJ")) == {q["gaj"]}
    assert uuids(listing(http, platform="411726")) == {q["county"]}
    assert uuids(listing(http, agent="agent02")) == {q["gaj"]}
    assert uuids(listing(http, appeal_type="inquiry")) == {q["gaj"]}
    assert uuids(listing(http, category="0102")) == {q["cgj"]}
    assert uuids(listing(http, caller_phone="13800000001")) == {q["cgj"]}
    assert uuids(listing(http, q="路灯")) == {q["county"]}
    assert uuids(listing(http, q=queue["gaj"]["number"])) == {q["gaj"]}
    assert uuids(listing(http, q="%")) == set()  # a LIKE wildcard is matched literally
    assert uuids(listing(http, overdue="false")) >= {q["cgj"], q["gaj"], q["resolved"]}
    assert uuids(listing(http, overdue="true")) == set()
    deadline = datetime.fromisoformat(queue["cgj"]["handling_deadline"])
    before = (deadline + timedelta(seconds=1)).isoformat()
    assert uuids(listing(http, due_before=before)) >= {q["cgj"]}
    assert q["registered"] not in uuids(listing(http, due_before=before))
    assert uuids(listing(http, status="registered", platform="city")) == {q["registered"]}


def test_keyset_pagination_walks_every_case_once_newest_first(http: Api) -> None:
    created = [new_case(http, "agent01" if i % 2 else "agent02")["uuid"] for i in range(30)]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 7}
        if cursor:
            params["cursor"] = cursor
        page = http.get("/api/cases", params=params).json()
        assert len(page["items"]) <= 7
        seen += [c["uuid"] for c in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
        # A case created meanwhile is newer than the cursor: it never shifts the pages.
        if pages == 2:
            created.append(new_case(http)["uuid"])
    assert pages == 5
    assert seen == list(reversed(created[:30]))


def test_deadline_order_pages_by_deadline_then_age_and_leaves_out_cases_without_one(
    http: Api, clock: FrozenClock
) -> None:
    new_case(http)  # no deadline: not in the deadline queue
    dispatched = []
    for i in range(8):
        urgency = "urgent" if i % 3 == 0 else "normal"
        case = take(http, new_case(http, urgency=urgency), Step.DISPATCH, "agent01")
        dispatched.append(case)
        clock.advance(hours=7)
    expected = [
        c["uuid"]
        for _, c in sorted(
            enumerate(dispatched),
            key=lambda ic: (datetime.fromisoformat(ic[1]["handling_deadline"]), ic[0]),
        )
    ]
    assert len({c["handling_deadline"] for c in dispatched}) > 2
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3, "order": "deadline"}
        if cursor:
            params["cursor"] = cursor
        page = http.get("/api/cases", params=params).json()
        seen += [c["uuid"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected


def test_overdue_false_lists_every_case_that_is_not_overdue(
    http: Api, queue: dict[str, dict[str, Any]]
) -> None:
    not_overdue = listing(http, overdue="false")
    assert all(c["overdue"] is False for c in not_overdue)
    assert uuids(not_overdue) == {c["uuid"] for c in queue.values()}


def test_the_overdue_filter_follows_the_clock(http: Api, clock: FrozenClock) -> None:
    late = case_in(http, Status.IN_PROGRESS)
    replied = case_in(http, Status.REPLIED)
    assert listing(http, overdue="true") == []
    clock.now = datetime.fromisoformat(late["handling_deadline"]) + timedelta(minutes=1)
    overdue = listing(http, overdue="true")
    assert uuids(overdue) == {late["uuid"]} and overdue[0]["overdue"] is True
    assert uuids(listing(http, overdue="false")) == {replied["uuid"]}
    assert http.get(f"/api/cases/{late['uuid']}").json()["overdue"] is True


# --- caller history -----------------------------------------------------------------------------


def test_caller_history_is_newest_first_and_only_that_callers(
    http: Api, clock: FrozenClock
) -> None:
    first = new_case(http, caller_phone="13711112222")
    clock.advance(hours=1)
    new_case(http, caller_phone="13933334444")
    second = new_case(http, caller_phone="137 1111 2222")
    r = http.get("/api/callers/+8613711112222/cases")
    assert r.status_code == 200
    assert [c["uuid"] for c in r.json()] == [second["uuid"], first["uuid"]]
    assert (
        http.get("/api/callers/13711112222/cases", params={"limit": 1}).json()[0]["uuid"]
        == (second["uuid"])
    )
    assert assert_error(http.get("/api/callers/abc/cases"), 422)["errors"][0]["field"] == "phone"


def test_caller_history_is_scoped_to_what_the_viewer_may_see(http: Api) -> None:
    phone = "13711112222"
    mine = case_in(http, Status.DISPATCHED, caller_phone=phone)
    new_case(http, caller_phone=phone)  # registered: not the department's
    county = new_case(http, "by_agent", caller_phone=phone)
    assert len(http.get(f"/api/callers/{phone}/cases").json()) == 3
    dept = http.get(f"/api/callers/{phone}/cases", DEPT_USER).json()
    assert [c["uuid"] for c in dept] == [mine["uuid"]]
    assert http.get(f"/api/callers/{phone}/cases", OTHER_DEPT_USER).json() == []
    assert [c["uuid"] for c in http.get(f"/api/callers/{phone}/cases", "by_agent").json()] == [
        county["uuid"]
    ]


# --- who sees what ------------------------------------------------------------------------------


def test_a_department_sees_only_its_cases(http: Api, queue: dict[str, dict[str, Any]]) -> None:
    assert uuids(listing(http, DEPT_USER)) == {queue["cgj"]["uuid"]}
    assert uuids(listing(http, OTHER_DEPT_USER)) == {queue["gaj"]["uuid"]}
    # Asking for another unit's queue by filter gives nothing either.
    assert listing(http, DEPT_USER, department="GAJ") == []
    for name in ("gaj", "registered", "county", "resolved"):
        assert_error(http.get(f"/api/cases/{queue[name]['uuid']}", DEPT_USER), 404, "not_found")
    assert http.get(f"/api/cases/{queue['cgj']['uuid']}", DEPT_USER).status_code == 200


def test_a_county_agent_sees_only_its_platforms_cases(
    http: Api, queue: dict[str, dict[str, Any]]
) -> None:
    county = queue["county"]
    assert uuids(listing(http, "by_agent")) == {county["uuid"]}
    assert_error(http.get(f"/api/cases/{queue['registered']['uuid']}", "by_agent"), 404)
    # Cases the city hands to the county platform become visible to it.
    handed = take(http, new_case(http), Step.DISPATCH, "agent01", department="", platform="411726")
    assert uuids(listing(http, "by_agent")) == {county["uuid"], handed["uuid"]}
    # The city sees everything.
    assert county["uuid"] in uuids(listing(http, "lead01"))


def test_confidential_and_anonymous_callers_are_masked_from_the_department(http: Api) -> None:
    phone, name = "13755556666", "王秀英"
    case = case_in(
        http, Status.IN_PROGRESS, caller_phone=phone, caller_name=name, confidential=True
    )
    # The centre sees who called.
    full = http.get(f"/api/cases/{case['uuid']}").json()
    assert full["caller_phone"] == phone and full["masked"] is False
    assert full["events"][0]["changes"]["caller_phone"] == [None, phone]

    r = http.get(f"/api/cases/{case['uuid']}", DEPT_USER)
    assert r.status_code == 200
    seen = r.json()
    assert seen["masked"] is True and seen["confidential"] is True
    assert seen["caller_phone"] == "" and seen["caller_name"] == "（保密）"
    assert phone not in r.text and name not in r.text
    assert all("caller_phone" not in e["changes"] for e in seen["events"])
    # Not in the queue, nor in what a step answers, nor in the change feed.
    queue = http.get("/api/cases", DEPT_USER)
    assert phone not in queue.text and name not in queue.text
    assert queue.json()["items"][0]["masked"] is True
    reply = take(http, case, Step.REPLY, DEPT_USER)
    assert reply["caller_phone"] == "" and reply["masked"] is True
    feed = http.get("/api/changes", DEPT_USER, params={"after": 0})
    assert feed.status_code == 200 and phone not in feed.text and name not in feed.text
    case = case_in(http, Status.DISPATCHED, caller_phone="13755556666", anonymous=True)
    seen = http.get(f"/api/cases/{case['uuid']}", DEPT_USER).json()
    assert seen["masked"] is True and seen["caller_phone"] == "" and seen["caller_name"] == ""


def test_a_department_cannot_find_a_confidential_caller_by_phone(http: Api) -> None:
    phone = "13755556666"
    case_in(http, Status.DISPATCHED, caller_phone=phone, confidential=True)
    assert http.get(f"/api/callers/{phone}/cases", DEPT_USER).json() == []
    assert listing(http, DEPT_USER, caller_phone=phone) == []


def test_get_returns_the_events_unless_asked_not_to_and_404_for_unknown_cases(http: Api) -> None:
    case = case_in(http, Status.DISPATCHED)
    assert http.get(f"/api/cases/{case['uuid']}", params={"events": "false"}).json()["events"] is (
        None
    )
    events = http.get(f"/api/cases/{case['uuid']}").json()["events"]
    assert [e["step"] for e in events] == ["register", "dispatch"]
    assert_error(http.get(f"/api/cases/{uuid.uuid4()}"), 404, "not_found")
    assert_error(http.get("/api/cases/not-a-uuid"), 404, "not_found")
