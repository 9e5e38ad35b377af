"""The county routing table as a reference set: served to every seat, edited by the admin,
checked before it is stored; a case reaches a county unit and its liaison sees it."""

from __future__ import annotations

from fastapi import FastAPI
from sqlmodel import Session

from agent_tui.domain.case import Role
from agent_tui.domain.lifecycle import Step
from agent_tui.server.models import UserRow
from tests.api.conftest import _HASH, T0, Api
from tests.api.helpers import assert_error, new_case, take

ROW = {"county": "411726", "match": "GS", "department": "BYX-GS", "name": "泌阳县供水公司"}


def test_the_table_is_served_like_the_other_reference_data(http: Api) -> None:
    listed = {i["name"] for i in http.get("/api/reference").json()}
    assert "county_routing" in listed
    rows = http.get("/api/reference/county_routing").json()
    assert ROW in rows
    assert {r["county"] for r in rows} >= {"411702", "411726", "411771"}
    departments = {d["code"]: d for d in http.get("/api/reference/departments").json()}
    assert departments["BYX-GS"]["platform"] == "411726"
    assert departments["XZ411726107"]["township"] == "官庄镇"


def test_the_admin_edits_the_table(http: Api) -> None:
    admin = http.headers("admin")
    body = [ROW, {"county": "411726", "match": "1003", "department": "BYX-SLJ", "name": ""}]
    r = http.client.put("/api/reference/county_routing", headers=admin, json=body)
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2
    assert http.get("/api/reference/county_routing").json() == body


def test_a_table_naming_unknown_things_is_refused_with_the_row(http: Api) -> None:
    admin = http.headers("admin")
    bad = [ROW, {"county": "411726", "match": "GS", "department": "ZYX-GS"}]
    r = http.client.put("/api/reference/county_routing", headers=admin, json=bad)
    body = assert_error(r, 422)
    fields = {e["field"]: e["message"] for e in body["errors"]}
    assert set(fields) == {"body[1].match", "body[1].department"}
    assert "泌阳县" in fields["body[1].department"]
    r = http.client.put("/api/reference/county_routing", headers=admin, json={"rows": []})
    assert_error(r, 422)
    r = http.client.put("/api/reference/county_routing", headers=admin, json=[{"county": 1}])
    assert_error(r, 422)
    # nothing was stored
    assert http.get("/api/reference/county_routing").headers["x-reference-version"] == "1"


def test_a_case_dispatched_to_a_county_unit_reaches_its_liaison(app: FastAPI, http: Api) -> None:
    with Session(app.state.store.engine) as session, session.begin():
        session.add(
            UserRow(
                user_id="by_gs",
                name="泌阳县供水公司联络员",
                role=Role.DEPARTMENT,
                department="BYX-GS",
                platform="411726",
                password_hash=_HASH,
                created_at=T0,
            )
        )
    case = new_case(
        http,
        category="1001",
        content="官庄镇王庄村停水两天",
        address={"county": "泌阳县", "township": "官庄镇", "village": "王庄村"},
    )
    case = take(http, case, Step.DISPATCH, "agent01", department="BYX-GS")
    assert case["department"] == "BYX-GS"
    signed = take(http, case, Step.SIGN, "by_gs")
    assert signed["status"] == "in_progress"  # signed: the unit works on it
