"""The structured reply and the callback's answers over HTTP (SQLite and PostgreSQL): stored on
the case and in the audit log, refused with a readable 422 beside the field, counted in the
KPIs (解决率, replies by outcome)."""

from __future__ import annotations

from datetime import timedelta

from agent_tui.domain.case import Status
from agent_tui.domain.lifecycle import Step
from tests.api.conftest import Api, FrozenClock
from tests.api.helpers import DEPT_USER, assert_error, case_in, step, take

STRUCTURED = {
    "outcome": "partly",
    "result": "已清理小广告，商户承诺不再张贴；外墙涂料需物业另行修复",
    "officer": "王强",
    "officer_phone": "139 0396 0001",
}


def test_a_structured_reply_is_stored_and_logged(http: Api) -> None:
    case = case_in(http, Status.IN_PROGRESS)
    replied = take(http, case, Step.REPLY, DEPT_USER, **STRUCTURED)
    assert (replied["reply_outcome"], replied["reply_officer"], replied["reply_phone"]) == (
        "partly",
        "王强",
        "13903960001",  # normalised like the caller's phone
    )
    # The reviewer reads it (and the audit log has it).
    seen = http.get(f"/api/cases/{case['uuid']}", "agent01").json()
    assert seen["reply_outcome"] == "partly" and seen["result"] == STRUCTURED["result"]
    reply = next(e for e in seen["events"] if e["step"] == "reply")
    assert reply["changes"]["reply_officer"] == [None, "王强"] or reply["changes"][
        "reply_officer"
    ] == ["", "王强"]


def test_a_reply_without_the_fields_is_a_free_text_reply(http: Api) -> None:
    """A seat from before structured replies (or its outbox) still replies."""
    case = case_in(http, Status.IN_PROGRESS)
    replied = take(http, case, Step.REPLY, DEPT_USER, result="已处理")
    assert replied["reply_outcome"] is None and replied["reply_officer"] == ""


def test_a_bad_phone_is_a_readable_422_beside_the_field(http: Api) -> None:
    case = case_in(http, Status.IN_PROGRESS)
    r = step(http, case, Step.REPLY, DEPT_USER, **{**STRUCTURED, "officer_phone": "12345"})
    body = assert_error(r, 422)
    (error,) = body["errors"]
    assert error["field"] == "officer_phone" and "联系电话无效" in error["message"], body
    assert http.get(f"/api/cases/{case['uuid']}").json()["status"] == "in_progress"


def test_a_structured_reply_names_its_officer_and_phone(http: Api) -> None:
    case = case_in(http, Status.IN_PROGRESS)
    r = step(http, case, Step.REPLY, DEPT_USER, outcome="resolved", result="已处理")
    body = assert_error(r, 422)
    assert {e["field"] for e in body["errors"]} == {"officer", "officer_phone"}, body
    r = step(http, case, Step.REPLY, DEPT_USER, result="已处理", officer="王强")
    assert {e["field"] for e in assert_error(r, 422)["errors"]} == {"outcome"}
    r = step(http, case, Step.REPLY, DEPT_USER, **{**STRUCTURED, "outcome": "fixed"})
    assert assert_error(r, 422)["errors"][0]["field"] == "outcome"


def test_the_callback_answers_are_stored_and_counted(http: Api, clock: FrozenClock) -> None:
    start = clock.now - timedelta(hours=1)
    solved = case_in(http, Status.IN_PROGRESS)
    solved = take(http, solved, Step.REPLY, DEPT_USER, **STRUCTURED)
    for s, user in ((Step.REVIEW_PASS, "agent01"), (Step.CALLBACK, "agent01")):
        solved = take(http, solved, s, user)
    rated = take(
        http, solved, Step.RATE, "agent01", satisfaction="basic", solved="solved", note="已清理"
    )
    assert (rated["callback_solved"], rated["callback_note"]) == ("solved", "已清理")
    unsolved = case_in(http, Status.CALLED_BACK)
    take(http, unsolved, Step.RATE, "agent01", satisfaction="dissatisfied", solved="unsolved")
    unasked = case_in(http, Status.CALLED_BACK)
    take(http, unasked, Step.RATE, "agent01", satisfaction="satisfied")
    r = step(http, case_in(http, Status.CALLED_BACK), Step.RATE, "agent01", solved="maybe")
    assert {e["field"] for e in assert_error(r, 422)["errors"]} >= {"solved"}

    params = {"start": start.isoformat(), "end": (clock.now + timedelta(hours=1)).isoformat()}
    total = http.get("/api/reports/kpis", "lead01", params=params).json()["total"]
    assert (total["resolution"]["numerator"], total["resolution"]["denominator"]) == (1, 2)
    assert (total["satisfaction"]["numerator"], total["satisfaction"]["denominator"]) == (2, 3)
    assert total["replies_by_outcome"] == {"partly": 1, "": 3}  # the three case_in replies
    cases = http.get(
        "/api/reports/kpi-cases",
        "lead01",
        params={**params, "kpi": "resolution", "part": "missed"},
    ).json()["items"]
    assert [c["uuid"] for c in cases] == [unsolved["uuid"]]
