"""The audit log is append-only (API and SQL), complete per event; the change feed and ETags."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from agent_tui import wire as S
from agent_tui.domain.case import Role, Status
from agent_tui.domain.lifecycle import Step
from agent_tui.server.visibility import Actor
from tests.api.conftest import Api
from tests.api.helpers import (
    DEPT,
    DEPT_USER,
    OTHER_DEPT_USER,
    assert_error,
    case_body,
    case_in,
    new_case,
    take,
)


def events_of(http: Api, case: dict[str, Any]) -> list[dict[str, Any]]:
    r = http.get(f"/api/cases/{case['uuid']}")
    assert r.status_code == 200, r.text
    return r.json()["events"]  # type: ignore[no-any-return]


def feed(http: Api, user: str = "agent01", **params: Any) -> dict[str, Any]:
    r = http.get("/api/changes", user, params=params)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


# --- the audit log ------------------------------------------------------------------------------


def test_the_audit_log_cannot_be_changed_through_the_api(http: Api) -> None:
    case = case_in(http, Status.IN_PROGRESS)
    before = events_of(http, case)
    base = f"/api/cases/{case['uuid']}"
    event_id = before[0]["id"]
    attempts = [
        ("PUT", base, 405),
        ("PATCH", base, 405),
        ("DELETE", base, 405),
        ("DELETE", "/api/cases", 405),
        ("PUT", f"{base}/dispatch", 405),
        ("DELETE", f"{base}/sign", 405),
        ("GET", f"{base}/events", 404),
        ("POST", f"{base}/events", 404),
        ("PUT", f"{base}/events", 404),
        ("PATCH", f"{base}/events", 404),
        ("DELETE", f"{base}/events", 404),
        ("PUT", f"{base}/events/{event_id}", 404),
        ("DELETE", f"{base}/events/{event_id}", 404),
        ("POST", f"{base}/register", 404),
        ("DELETE", "/api/changes", 405),
    ]
    for method, path, status in attempts:
        r = http.client.request(
            method, path, headers=http.headers("admin"), json={"reason": "x", "actor": "admin"}
        )
        assert_error(r, status)
    assert events_of(http, case) == before


def test_the_audit_log_cannot_be_changed_even_through_sql(http: Api, app: FastAPI) -> None:
    case = case_in(http, Status.IN_PROGRESS)
    before = events_of(http, case)
    engine = app.state.store.engine
    for statement in (
        "UPDATE case_events SET reason = 'x'",
        "UPDATE case_events SET actor = 'someone' WHERE step = 'dispatch'",
        "DELETE FROM case_events",
        f"DELETE FROM case_events WHERE case_uuid = '{case['uuid']}'",
    ):
        with (
            # SQLite: the triggers; PostgreSQL: the runtime role has no such right at all.
            pytest.raises(sa.exc.DBAPIError, match=r"append-only|permission denied"),
            engine.begin() as connection,
        ):
            connection.execute(sa.text(statement))
    assert events_of(http, case) == before
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM case_events")).scalar_one() == 3


def test_each_event_records_who_role_when_step_and_what_changed(http: Api, clock: Any) -> None:
    case = new_case(http)
    clock.advance(minutes=10)
    take(http, case, Step.DISPATCH, "agent02")
    clock.advance(minutes=5)
    signed = take(http, {**case, "version": 2}, Step.SIGN, DEPT_USER)
    events = events_of(http, signed)
    assert [(e["step"], e["actor"], e["role"]) for e in events] == [
        ("register", "agent01", "agent"),
        ("dispatch", "agent02", "agent"),
        ("sign", "cgj", "department"),
    ]
    assert [e["version"] for e in events] == [1, 2, 3]
    assert [datetime.fromisoformat(e["at"]) for e in events] == [
        clock.now.replace(minute=0),
        clock.now.replace(minute=10),
        clock.now,
    ]
    assert [(e["from_status"], e["to_status"]) for e in events] == [
        (None, "registered"),
        ("registered", "dispatched"),
        ("dispatched", "in_progress"),
    ]
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    # Register carries the whole case; every later step carries before/after of what changed.
    assert events[0]["changes"]["content"] == [None, case["content"]]
    dispatch = events[1]["changes"]
    assert dispatch["status"] == ["registered", "dispatched"]
    assert dispatch["department"] == ["", "CGJ"]
    assert dispatch["handling_deadline"][0] is None and dispatch["handling_deadline"][1]
    assert events[2]["changes"]["status"] == ["dispatched", "in_progress"]
    assert set(events[2]["changes"]) == {"status", "signed_at"}
    case = new_case(http)
    take(http, case, Step.REFUSE, "agent01", reason="  属于诉讼范畴  ")
    last = events_of(http, case)[-1]
    assert last["step"] == "refuse" and last["reason"] == "属于诉讼范畴"


# --- the change feed ----------------------------------------------------------------------------


def test_the_feed_from_zero_holds_every_change_in_sequence_order(http: Api) -> None:
    start = feed(http)
    references = [c for c in start["changes"] if c["kind"] == "reference"]
    assert references and all(c["case"] is None for c in references)
    a = new_case(http)
    b = take(http, new_case(http), Step.DISPATCH, "agent01")
    c = new_case(http)
    page = feed(http, after=0)
    seqs = [ch["seq"] for ch in page["changes"]]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    cases = [ch["case"]["uuid"] for ch in page["changes"] if ch["kind"] == "case"]
    # Each case once, at its latest change (b's dispatch came before c's creation).
    assert cases == [a["uuid"], b["uuid"], c["uuid"]]
    assert page["changes"][-1]["case"]["version"] == 1
    head = http.get("/api/changes/head").json()
    assert page["last_seq"] == head["last_seq"] == start["last_seq"] + 4
    # Nothing after the last one; last_seq stays put.
    assert feed(http, after=page["last_seq"]) == {"changes": [], "last_seq": page["last_seq"]}
    # A case that changes again moves to its new place in the feed.
    take(http, a, Step.REMIND, "lead01")
    later = feed(http, after=page["last_seq"])
    assert [ch["case"]["uuid"] for ch in later["changes"]] == [a["uuid"]]
    assert later["changes"][0]["case"]["version"] == 2


def test_the_feed_pages_with_limit_without_skipping(http: Api) -> None:
    made = [new_case(http)["uuid"] for _ in range(5)]
    after = feed(http)["last_seq"] - 5
    seen: list[str] = []
    while True:
        page = feed(http, after=after, limit=2)
        if not page["changes"]:
            break
        seen += [ch["case"]["uuid"] for ch in page["changes"]]
        after = page["last_seq"]
    assert seen == made


def test_a_long_poll_waits_for_a_write_and_returns_as_soon_as_one_commits(
    http: Api, app: FastAPI
) -> None:
    last = feed(http)["last_seq"]
    store = app.state.store
    body = S.CaseCreate.model_validate(case_body())

    def write_later() -> None:
        time.sleep(0.3)
        store.create_case(Actor("agent02", Role.AGENT), body)

    writer = threading.Thread(target=write_later)
    started = time.monotonic()
    writer.start()
    page = feed(http, after=last, wait=2)
    elapsed = time.monotonic() - started
    writer.join()
    assert [ch["case"]["uuid"] for ch in page["changes"]] == [str(body.uuid)]
    assert 0.25 <= elapsed < 1.5, elapsed
    last = feed(http)["last_seq"]
    started = time.monotonic()
    page = feed(http, after=last, wait=0.6)
    assert 0.55 <= time.monotonic() - started < 1.5
    assert page == {"changes": [], "last_seq": last}


def test_a_department_feed_holds_only_its_cases(http: Api) -> None:
    mine = case_in(http, Status.DISPATCHED)
    theirs = take(http, new_case(http), Step.DISPATCH, "agent01", department="GAJ")
    new_case(http)
    page = feed(http, DEPT_USER, after=0)
    cases = [ch["case"]["uuid"] for ch in page["changes"] if ch["kind"] == "case"]
    assert cases == [mine["uuid"]]
    assert page["last_seq"] == feed(http)["last_seq"]  # it still moves past the others
    others = feed(http, OTHER_DEPT_USER, after=0)
    assert [ch["case"]["uuid"] for ch in others["changes"] if ch["kind"] == "case"] == [
        theirs["uuid"]
    ]
    county = feed(http, "by_agent", after=0)
    assert [ch for ch in county["changes"] if ch["kind"] == "case"] == []


def test_a_department_is_told_when_a_case_leaves_it(http: Api) -> None:
    """A case whose return 城管局 asked for and the centre approved leaves 城管局's sight: its
    feed says "withdrawn" (its seats drop it from their queues); dispatched on to 公安局, the
    case reaches 公安局's feed. The centre sees the case itself; a county hears nothing."""
    asked = case_in(http, Status.RETURN_REQUESTED)
    mark = feed(http, DEPT_USER, after=0)["last_seq"]
    other_mark = feed(http, OTHER_DEPT_USER, after=0)["last_seq"]
    returned = take(http, asked, Step.APPROVE_RETURN, "lead01")
    gone = feed(http, DEPT_USER, after=mark)["changes"]
    assert [(ch["kind"], ch["name"]) for ch in gone] == [("withdrawn", asked["uuid"])]
    assert gone[0]["case"] is None  # nothing of the case itself
    assert [ch["kind"] for ch in feed(http, "lead01", after=mark)["changes"]] == ["case"]
    assert feed(http, "by_agent", after=mark)["changes"] == []
    take(http, returned, Step.DISPATCH, "agent01", department="GAJ")
    came = feed(http, OTHER_DEPT_USER, after=other_mark)["changes"]
    assert [(ch["kind"], ch["case"]["uuid"]) for ch in came] == [("case", asked["uuid"])]


def test_co_departments_are_told_too_and_only_when_they_lose_the_case(http: Api) -> None:
    case = take(
        http, new_case(http), Step.DISPATCH, "agent01", department=DEPT, co_departments=["GAJ"]
    )
    mark = feed(http, OTHER_DEPT_USER, after=0)["last_seq"]
    case = take(http, case, Step.SIGN, DEPT_USER)  # 公安局 keeps seeing it: the case itself
    assert [ch["kind"] for ch in feed(http, OTHER_DEPT_USER, after=mark)["changes"]] == ["case"]
    case = take(http, case, Step.REQUEST_RETURN, DEPT_USER)
    mark = feed(http, OTHER_DEPT_USER, after=0)["last_seq"]
    take(http, case, Step.APPROVE_RETURN, "lead01")  # lead and co-department both lose it
    assert [ch["kind"] for ch in feed(http, OTHER_DEPT_USER, after=mark)["changes"]] == [
        "withdrawn"
    ]


# --- reference data -----------------------------------------------------------------------------


def test_a_reference_update_by_the_admin_is_announced_in_the_feed(http: Api) -> None:
    last = feed(http)["last_seq"]
    r = http.client.put("/api/reference/x", headers=http.headers("admin"), json={"a": [1, 2]})
    assert r.status_code == 200 and r.json()["version"] == 1
    page = feed(http, after=last)
    assert [(c["kind"], c["name"], c["version"]) for c in page["changes"]] == [
        ("reference", "x", 1)
    ]
    # The same body again changes nothing and announces nothing.
    again = http.client.put("/api/reference/x", headers=http.headers("admin"), json={"a": [1, 2]})
    assert again.json() == r.json()
    assert feed(http, after=page["last_seq"])["changes"] == []
    bumped = http.client.put("/api/reference/x", headers=http.headers("admin"), json={"a": [3]})
    assert bumped.json()["version"] == 2 and bumped.json()["etag"] != r.json()["etag"]
    assert [c["version"] for c in feed(http, after=page["last_seq"])["changes"]] == [2]
    listed = {i["name"]: i for i in http.get("/api/reference").json()}
    assert listed["x"] == bumped.json()


def test_only_the_admin_may_replace_reference_data(http: Api) -> None:
    last = feed(http)["last_seq"]
    for user in ("agent01", "lead01", DEPT_USER):
        r = http.client.put("/api/reference/categories", headers=http.headers(user), json=[])
        assert r.status_code == 403, r.text
        body = assert_error(r, r.status_code, "forbidden")
        assert "管理员" in body["message"]
    assert feed(http, after=last)["changes"] == []
    assert http.get("/api/reference/categories").json() != []


def test_a_non_admin_reference_update_is_403(http: Api) -> None:
    r = http.client.put("/api/reference/categories", headers=http.headers("agent01"), json=[])
    assert_error(r, 403, "forbidden")


def test_reference_etag_gives_304_until_the_set_changes(http: Api) -> None:
    r = http.get("/api/reference/categories")
    assert r.status_code == 200 and r.json()
    etag = r.headers["etag"]
    assert etag.startswith('"') and r.headers["x-reference-version"] == "1"
    assert http.get("/api/reference/categories").headers["etag"] == etag  # stable
    not_modified = http.client.get(
        "/api/reference/categories",
        headers={**http.headers("agent01"), "If-None-Match": etag},
    )
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert not_modified.headers["etag"] == etag
    http.client.put(
        "/api/reference/categories", headers=http.headers("admin"), json=[{"code": "01"}]
    )
    changed = http.client.get(
        "/api/reference/categories",
        headers={**http.headers("agent01"), "If-None-Match": etag},
    )
    assert changed.status_code == 200 and changed.json() == [{"code": "01"}]
    assert changed.headers["etag"] != etag and changed.headers["x-reference-version"] == "2"
    assert_error(http.get("/api/reference/nope"), 404, "not_found")
