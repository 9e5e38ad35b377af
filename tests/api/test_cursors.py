"""Paging cursors are typed values: a crafted one is a 422 with a reason, never a 500.

Found from outside (issue 14, finding 5): ``[18446744073709551616]`` overflowed SQLite's
integer, ``[Infinity]`` reached ``int()``, and a deadline cursor without a time zone reached
the column type; each answered 500, and the keep-alive connection was reset after it.
"""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest

from agent_tui.domain.lifecycle import Step
from tests.api.conftest import T0, Api
from tests.api.helpers import assert_error, good_body, new_case, url


def cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


NEWEST = (
    "[18446744073709551616]",
    "[-18446744073709551616]",
    "[Infinity]",
    "[-Infinity]",
    "[NaN]",
    "[1e400]",
    "[1.5]",
    "[true]",
    '["12"]',
    "[null]",
    "[" + "9" * 5000 + "]",
)
DEADLINE = (
    '["2020-01-01", 1]',
    '["2020-01-01T00:00:00", 1]',
    '["2026-11-26T09:00:00+08:00", 18446744073709551616]',
    '["2026-11-26T09:00:00+08:00", Infinity]',
    '["9999-12-31T23:59:59+14:00", 1]',
    '["0001-01-01T00:00:00-14:00", 1]',
    '["2026-11-26T09:00:00+08:00"]',
    "[1, 1]",
    "[null, 1]",
)


@pytest.mark.parametrize("raw", NEWEST)
def test_a_crafted_newest_cursor_is_422(http: Api, raw: str) -> None:
    body = assert_error(http.get("/api/cases", params={"cursor": cursor(raw)}), 422)
    assert body["errors"][0]["field"] == "cursor", body


@pytest.mark.parametrize("raw", DEADLINE + NEWEST[:3])
def test_a_crafted_deadline_cursor_is_422(http: Api, raw: str) -> None:
    r = http.get("/api/cases", params={"cursor": cursor(raw), "order": "deadline"})
    assert assert_error(r, 422)["errors"][0]["field"] == "cursor"


@pytest.mark.parametrize("raw", NEWEST)
def test_a_crafted_kpi_cases_cursor_is_422(http: Api, raw: str) -> None:
    period = {"start": (T0 - timedelta(days=1)).isoformat(), "end": T0.isoformat()}
    params = {"kpi": "on_time", **period, "after": cursor(raw)}
    r = http.get("/api/reports/kpi-cases", "lead01", params=params)
    assert assert_error(r, 422)["errors"][0]["field"] == "after"


def test_the_connection_serves_the_next_request_after_a_refused_cursor(http: Api) -> None:
    for raw in ("[Infinity]", "[18446744073709551616]"):
        assert_error(http.get("/api/cases", params={"cursor": cursor(raw)}), 422)
        assert http.get("/api/cases").status_code == 200


def test_the_cursors_the_store_hands_out_still_page(http: Api) -> None:
    cases = [new_case(http) for _ in range(5)]
    for case in cases:
        r = http.post(url(case, Step.DISPATCH), "agent01", json=good_body(Step.DISPATCH, case))
        assert r.status_code == 200, r.text
    for order in ("newest", "deadline"):
        seen: list[str] = []
        params: dict[str, object] = {"limit": 2, "order": order}
        while True:
            page = http.get("/api/cases", params=params).json()
            seen += [c["uuid"] for c in page["items"]]
            if not page["next_cursor"]:
                break
            params["cursor"] = page["next_cursor"]
        assert sorted(seen) == sorted(c["uuid"] for c in cases), order
