"""A command id names one step on one case: reused on another case it is refused (422), never
answered with the first case's result (issue 14, finding 10). Both engines, both write paths
(SQLite's transaction, PostgreSQL's one statement)."""

from __future__ import annotations

import uuid

from agent_tui.domain.lifecycle import Step
from tests.api.conftest import Api
from tests.api.helpers import assert_error, good_body, new_case, url


def test_a_command_id_reused_on_another_case_is_422(http: Api) -> None:
    a, b = new_case(http), new_case(http)
    body = good_body(Step.DISPATCH, a)
    first = http.post(url(a, Step.DISPATCH), json=body)
    assert first.status_code == 200, first.text
    reused = http.post(url(b, Step.DISPATCH), json={**body, "version": b["version"]})
    error = assert_error(reused, 422)
    assert error["errors"][0]["field"] == "command_id"
    assert error["errors"][0]["code"] == "reused_on_another_case"
    after = http.get(f"/api/cases/{b['uuid']}").json()
    assert after["version"] == b["version"] and after["status"] == b["status"]
    # The retry on its own case still gets its stored answer.
    again = http.post(url(a, Step.DISPATCH), json=body)
    assert again.status_code == 200 and again.json() == first.json()


def test_a_command_id_reused_on_a_case_that_does_not_exist_is_not_answered(http: Api) -> None:
    a = new_case(http)
    body = good_body(Step.DISPATCH, a)
    assert http.post(url(a, Step.DISPATCH), json=body).status_code == 200
    ghost = {**a, "uuid": str(uuid.uuid4())}
    r = http.post(url(ghost, Step.DISPATCH), json=body)
    assert r.status_code in (404, 422), r.text
    assert a["uuid"] not in r.text
