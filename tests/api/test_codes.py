"""Department and platform codes are the reference tables' codes, and a code is never a pattern
(issue 14, finding 8: ``--department %`` was accepted and, as a LIKE pattern, listed another
department's case with the caller's phone through ``?q=``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlmodel import Session, select
from typer.testing import CliRunner

from agent_tui.cli import cli
from agent_tui.domain.case import Role
from agent_tui.domain.lifecycle import Step
from agent_tui.server.models import UserRow
from tests.api.conftest import T0, Api
from tests.api.helpers import good_body, issue_tokens, new_case, url

runner = CliRunner()


def add(db: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(
        cli, ["user", "add", *args, "--password", "长一点的密码1234", "--db", db]
    )
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--role", "department", "--department", "%"], "%"),
        (["--role", "department", "--department", "C_J"], "C_J"),
        (["--role", "department", "--department", "NOPE"], "NOPE"),
        (["--role", "department"], "department"),
        (["--role", "agent", "--platform", "999999"], "999999"),
        (["--role", "agent", "--platform", "BYX"], "BYX"),
        (["--role", "agent", "--department", "CGJ"], "department"),
        (["--role", "department", "--department", "CGJ", "--platform", "411726"], "411726"),
    ],
)
def test_user_add_refuses_codes_the_reference_does_not_have(
    tmp_path: Path, args: list[str], named: str
) -> None:
    db = f"sqlite:///{tmp_path / 'central.db'}"
    code, output = add(db, "x01", *args)
    assert code == 2, output
    assert named in output, output
    code, output = add(db, "x01", "--role", "agent")  # the refusal wrote nothing
    assert code == 0, output


def test_user_add_stores_codes_as_the_reference_spells_them(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'central.db'}"
    assert add(db, "d01", "--role", "department", "--department", " cgj ")[0] == 0
    assert add(db, "b01", "--role", "agent", "--platform", "411726")[0] == 0
    from agent_tui.server.db import make_engine

    engine = make_engine(db)
    with Session(engine) as session:
        users = {u.user_id: u for u in session.exec(select(UserRow)).all()}
    engine.dispose()
    assert (users["d01"].department, users["d01"].platform) == ("CGJ", "city")
    assert users["b01"].platform == "411726"


@pytest.mark.parametrize("department", ["%", "C_J", "_GJ", "%;%", ""])
def test_an_account_with_a_pattern_for_a_department_sees_nothing(
    http: Api, app: FastAPI, department: str
) -> None:
    """Accounts made before the codes were checked: what they hold is matched as text."""
    case = new_case(http, caller_phone="13912345678")
    body = {**good_body(Step.DISPATCH, case), "department": "GAJ", "co_departments": ["CGJ", "ZJJ"]}
    assert http.post(url(case, Step.DISPATCH), "agent01", json=body).status_code == 200
    with Session(app.state.store.engine) as session, session.begin():
        session.add(
            UserRow(
                user_id="odd",
                name="odd",
                role=Role.DEPARTMENT,
                department=department,
                platform="city",
                password_hash="x",
                created_at=T0,
            )
        )
    http.tokens["odd"] = issue_tokens(app, ["odd"])["odd"]
    for params in ({}, {"q": "广告"}, {"q": "%"}):
        r = http.get("/api/cases", "odd", params=params)
        assert r.status_code == 200, r.text
        assert r.json()["items"] == [], (department, params)
    assert http.get(f"/api/cases/{case['uuid']}", "odd").status_code == 404
    # The co-department itself still sees it (an exact member of the list).
    assert [c["uuid"] for c in http.get("/api/cases", "cgj").json()["items"]] == [case["uuid"]]
    assert [c["uuid"] for c in http.get("/api/cases", "gaj").json()["items"]] == [case["uuid"]]


def test_search_text_is_text(http: Api) -> None:
    plain = new_case(http, content="路灯不亮已经三天了请尽快修理")
    percent = new_case(http, content="物业费上涨50%太多了请核查")
    under = new_case(http, content="小区门口_有积水请处理一下")
    slash = new_case(http, content="路面坑洼\\大车经过很危险请修")
    for text, expected in (("%", percent), ("_", under), ("\\", slash), ("50%", percent)):
        items = http.get("/api/cases", params={"q": text}).json()["items"]
        assert [c["uuid"] for c in items] == [expected["uuid"]], text
    assert len(http.get("/api/cases", params={"q": "请"}).json()["items"]) == 4
    assert plain
