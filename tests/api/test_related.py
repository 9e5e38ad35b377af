"""Related cases (关联工单) over HTTP: candidates at intake, the link on create, the group."""

from __future__ import annotations

import uuid
from typing import Any

from agent_tui.domain.case import Status
from agent_tui.domain.lifecycle import Step
from tests.api.conftest import Api, FrozenClock
from tests.api.helpers import DEPT_USER, assert_error, case_body, case_in, new_case, take

ROAD = {"county": "驿城区", "road": "金山路与骏达路交叉口"}
VILLAGE = {"county": "驿城区", "township": "老河乡", "village": "王庄村"}


def candidates(http: Api, user: str = "agent01", **params: Any) -> list[dict[str, Any]]:
    query = {"category": "0101", **ROAD, **params}
    r = http.get("/api/cases/related", user, params=query)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def numbers(cases: list[dict[str, Any]]) -> list[str]:
    return [c["number"] for c in cases]


def test_candidates_are_open_same_category_same_place_within_the_window(
    http: Api, clock: FrozenClock
) -> None:
    old = new_case(http, address=ROAD)
    clock.advance(days=8)  # past the default window of 7 days
    recent = new_case(http, address=ROAD)
    dispatched = case_in(http, Status.DISPATCHED, address=ROAD)
    closed = case_in(http, Status.ARCHIVED, address=ROAD)
    other_category = new_case(http, address=ROAD, category="0102")
    other_road = new_case(http, address={"county": "驿城区", "road": "解放大道"})
    other_county = new_case(http, address={"county": "西平县", "road": ROAD["road"]})

    found = numbers(candidates(http))
    assert found == [dispatched["number"], recent["number"]]  # newest first
    for absent in (old, closed, other_category, other_road, other_county):
        assert absent["number"] not in found


def test_a_village_matches_within_its_township_and_a_county_alone_never_does(
    http: Api,
) -> None:
    here = new_case(http, address=VILLAGE)
    new_case(http, address={**VILLAGE, "township": "胡庙乡"})  # a village of the same name
    assert numbers(candidates(http, road="", **VILLAGE)) == [here["number"]]
    r = http.get("/api/cases/related", params={"category": "0101", "county": "驿城区"})
    assert r.status_code == 200 and r.json() == []
    r = http.get("/api/cases/related", params={"county": "驿城区", "road": "金山路"})
    assert_error(r, 422)


def test_a_linked_case_joins_the_group_of_the_case_it_is_linked_to(http: Api) -> None:
    first = new_case(http, address=ROAD)
    second = new_case(http, address=ROAD, related_to=first["uuid"])
    third = new_case(http, address=ROAD, related_to=second["uuid"])  # no chains: the group
    assert first["related_to"] == ""
    assert second["related_to"] == first["uuid"]
    assert third["related_to"] == first["uuid"]
    new_case(http, address=ROAD)  # not linked

    r = http.get("/api/cases", params={"related_to": first["uuid"]})
    assert r.status_code == 200, r.text
    assert {c["uuid"] for c in r.json()["items"]} == {
        first["uuid"],
        second["uuid"],
        third["uuid"],
    }
    # The link is in the audit log with the registration.
    events = http.get(f"/api/cases/{second['uuid']}").json()["events"]
    assert events[0]["changes"]["related_to"] == ["", first["uuid"]]


def test_a_link_to_an_unknown_or_unseen_case_is_refused_beside_the_field(http: Api) -> None:
    r = http.post("/api/cases", json=case_body(related_to=str(uuid.uuid4())))
    body = assert_error(r, 422)
    assert body["errors"][0]["field"] == "related_to"
    # A county agent does not see a city case: it cannot link to it either.
    city = new_case(http, address=ROAD)
    r = http.post("/api/cases", "by_agent", json=case_body(related_to=city["uuid"]))
    assert_error(r, 422)
    # Linking to itself is refused too (the same uuid would otherwise be its own group).
    own = str(uuid.uuid4())
    r = http.post("/api/cases", json=case_body(uuid=own, related_to=own))
    assert_error(r, 422)


def test_a_repeated_linked_create_is_still_one_case(http: Api) -> None:
    first = new_case(http, address=ROAD)
    body = case_body(address=ROAD, related_to=first["uuid"])
    a = http.post("/api/cases", json=body)
    b = http.post("/api/cases", json=body)
    assert (a.status_code, b.status_code) == (201, 200)
    assert a.json()["uuid"] == b.json()["uuid"] and b.json()["related_to"] == first["uuid"]


def test_a_department_sees_only_its_part_of_a_group(http: Api) -> None:
    first = case_in(http, Status.DISPATCHED, address=ROAD)
    linked = new_case(http, address=ROAD, related_to=first["uuid"])
    r = http.get("/api/cases", DEPT_USER, params={"related_to": first["uuid"]})
    assert {c["uuid"] for c in r.json()["items"]} == {first["uuid"]}
    take(http, linked, Step.DISPATCH, "agent01")
    r = http.get("/api/cases", DEPT_USER, params={"related_to": first["uuid"]})
    assert {c["uuid"] for c in r.json()["items"]} == {first["uuid"], linked["uuid"]}
