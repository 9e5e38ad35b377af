"""The write path's answers that the one-statement reads must keep: retries, 409s, numbers."""

from __future__ import annotations

import uuid

from agent_tui.domain.lifecycle import Step
from tests.api.conftest import Api
from tests.api.helpers import good_body, new_case, url


def test_a_retry_gets_the_first_answer_byte_for_byte(http: Api) -> None:
    case = new_case(http)
    body = good_body(Step.DISPATCH, case)
    first = http.post(url(case, Step.DISPATCH), "agent01", json=body)
    again = http.post(url(case, Step.DISPATCH), "agent01", json=body)
    assert first.status_code == again.status_code == 200, again.text
    assert first.content == again.content
    events = http.get(f"/api/cases/{case['uuid']}").json()["events"]
    assert [e["step"] for e in events] == ["register", "dispatch"]


def test_a_step_on_an_old_version_is_a_409_with_the_current_case(http: Api) -> None:
    case = new_case(http)
    http.post(url(case, Step.DISPATCH), "agent01", json=good_body(Step.DISPATCH, case))
    r = http.post(url(case, Step.DISPATCH), "agent01", json=good_body(Step.DISPATCH, case))
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "version_conflict"
    assert r.json()["case"]["version"] == 2
    events = http.get(f"/api/cases/{case['uuid']}").json()["events"]
    assert [e["step"] for e in events] == ["register", "dispatch"]


def test_an_unknown_case_is_a_404_and_takes_no_change_number(http: Api) -> None:
    before = http.get("/api/changes", params={"after": 0}).json()["last_seq"]
    missing = {"uuid": str(uuid.uuid4()), "version": 1}
    r = http.post(url(missing, Step.DISPATCH), "agent01", json=good_body(Step.DISPATCH, missing))
    assert r.status_code == 404, r.text
    case = new_case(http)
    after = http.get("/api/changes", params={"after": 0}).json()
    assert after["last_seq"] == before + 1
    assert [c["case"]["uuid"] for c in after["changes"] if c["kind"] == "case"][-1] == case["uuid"]
