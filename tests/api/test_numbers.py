"""Case numbers at save: blocks reserved for seats, and cases created with a seat's number, on
SQLite and PostgreSQL (README: "Case numbers at save")."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from agent_tui.domain.numbers import format_number
from agent_tui.server.models import NumberBlockRow
from tests.api.conftest import Api, FrozenClock
from tests.api.helpers import assert_error, case_body, new_case
from tests.api.test_concurrency import auth, server, tokens  # noqa: F401 (fixtures)

DAY = "20261126"


def reserve(http: Api, seat: str = "seat-a", count: int = 20, user: str = "agent01") -> Any:
    r = http.post("/api/numbers/reserve", user, json={"seat_id": seat, "count": count})
    assert r.status_code == 201, r.text
    return r.json()


def numbered(block: dict[str, Any], i: int = 0, day: str = DAY) -> str:
    return format_number(block["prefix"], day, block["first"] + i)


def test_a_block_is_the_next_numbers_of_the_platforms_year_on_record(http: Api) -> None:
    assert new_case(http)["number"] == f"ZMD-{DAY}-0001"
    a = reserve(http, "seat-a", 20)
    assert (a["prefix"], a["year"], a["first"], a["last"]) == ("ZMD", 2026, 2, 21)
    assert (a["seat_id"], a["user_id"], a["platform"]) == ("seat-a", "agent01", "city")
    b = reserve(http, "seat-b", 5, "agent02")
    assert (b["first"], b["last"]) == (22, 26)
    # The store's own numbers skip the reserved blocks.
    assert new_case(http)["number"] == f"ZMD-{DAY}-0027"
    county = reserve(http, "seat-c", 3, "by_agent")
    assert county["prefix"].startswith("ZMD-") and county["first"] == 1  # its own series
    # The record: who held which numbers, for the lead; append-only in the database.
    listed = http.get("/api/numbers/blocks", "lead01").json()
    assert [(x["seat_id"], x["first"], x["last"]) for x in listed] == [
        ("seat-c", 1, 3),
        ("seat-b", 22, 26),
        ("seat-a", 2, 21),
    ]
    assert_error(http.get("/api/numbers/blocks", "agent01"), 403)
    engine = http.client.app.state.store.engine  # type: ignore[attr-defined]
    with pytest.raises(DBAPIError), Session(engine) as session, session.begin():
        row = session.exec(select(NumberBlockRow)).first()
        assert row is not None
        row.last = 10_000
        session.add(row)


def test_reserving_is_for_intake_roles_and_checks_its_body(http: Api) -> None:
    assert_error(http.post("/api/numbers/reserve", "cgj", json={"seat_id": "s"}), 403)
    for body in ({"seat_id": ""}, {"seat_id": "s", "count": 0}, {"seat_id": "s", "count": 201}):
        assert_error(http.post("/api/numbers/reserve", json=body), 422)


def test_a_case_keeps_the_number_its_seat_gave_it(http: Api, clock: FrozenClock) -> None:
    block = reserve(http)
    number = numbered(block, 3)
    body = case_body(number=number, seat_id="seat-a", registered_at=clock.now.isoformat())
    r = http.post("/api/cases", json=body)
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["number"] == number
    # The same create again (a retry) is the same case, not a duplicate number.
    again = http.post("/api/cases", json=body)
    assert again.status_code == 200 and again.json()["uuid"] == case["uuid"]
    events = http.get(f"/api/cases/{case['uuid']}").json()["events"]
    assert events[0]["changes"]["number"] == [None, number]
    assert events[0]["changes"]["seat_id"] == ["", "seat-a"]
    # Another case with that number: 409, readable.
    other = case_body(number=number, seat_id="seat-a", registered_at=clock.now.isoformat())
    assert_error(http.post("/api/cases", json=other), 409, "number_taken")
    # Sent a day later (offline for a day), dated on its save day: still its number.
    saved = clock.now
    clock.advance(days=1)
    late = http.post(
        "/api/cases",
        json=case_body(
            number=numbered(block, 4), seat_id="seat-a", registered_at=saved.isoformat()
        ),
    )
    assert late.status_code == 201 and late.json()["number"] == numbered(block, 4)


@pytest.mark.parametrize(
    ("seat", "user", "change", "code"),
    [
        ("seat-b", "agent01", {}, "not_reserved"),  # another seat's block
        ("seat-a", "agent02", {}, "not_reserved"),  # the seat id of another user
        ("seat-a", "agent01", {"i": 25}, "not_reserved"),  # past the block
        ("seat-a", "agent01", {"day": "20261125"}, "wrong_day"),
        ("seat-a", "agent01", {"prefix": "ZMD-XP"}, "wrong_platform"),
        ("seat-a", "agent01", {"text": "ZMD-2026-0003"}, "invalid"),
        ("seat-a", "agent01", {"text": "ZMD-20261131-0003"}, "invalid"),
    ],
)
def test_a_number_not_from_the_seats_block_is_refused_beside_the_field(
    http: Api, clock: FrozenClock, seat: str, user: str, change: dict[str, Any], code: str
) -> None:
    block = reserve(http, "seat-a")
    reserve(http, "seat-b", user="agent02")
    number = change.get("text") or format_number(
        change.get("prefix", block["prefix"]),
        change.get("day", DAY),
        block["first"] + change.get("i", 0),
    )
    body = case_body(number=number, seat_id=seat, registered_at=clock.now.isoformat())
    refused = assert_error(http.post("/api/cases", user, json=body), 422)
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("number", code)]
    assert number in refused["errors"][0]["message"]


def test_a_number_needs_its_seat(http: Api) -> None:
    block = reserve(http)
    refused = assert_error(http.post("/api/cases", json=case_body(number=numbered(block))), 422)
    assert "seat_id" in refused["message"]


def test_a_year_old_block_does_not_number_a_new_years_case(http: Api, clock: FrozenClock) -> None:
    clock.now = clock.now.replace(month=12, day=31, hour=15)  # 23:00 in Zhumadian
    block = reserve(http)
    clock.advance(hours=2)  # 2027-01-01 01:00
    day = (clock.now + timedelta(hours=8)).strftime("%Y%m%d")
    assert day == "20270101"
    body = case_body(
        number=numbered(block, 0, day), seat_id="seat-a", registered_at=clock.now.isoformat()
    )
    refused = assert_error(http.post("/api/cases", json=body), 422)
    assert refused["errors"][0]["code"] == "not_reserved"
    # The store's own numbers start the new year's series.
    assert new_case(http)["number"] == "ZMD-20270101-0001"


def test_in_the_last_week_of_december_a_seat_reserves_next_years_numbers_too(
    http: Api, clock: FrozenClock
) -> None:
    r = http.post("/api/numbers/reserve", json={"seat_id": "seat-a", "year": 2027})
    refused = assert_error(r, 422)
    assert refused["errors"][0]["field"] == "year" and "2026" in refused["errors"][0]["message"]
    clock.now = clock.now.replace(month=12, day=28)
    r = http.post("/api/numbers/reserve", json={"seat_id": "seat-a", "count": 5, "year": 2027})
    assert r.status_code == 201, r.text
    block = r.json()
    assert (block["year"], block["first"], block["last"]) == (2027, 1, 5)
    # Offline over New Year: a case saved on 1 January keeps its number from that block.
    clock.now = clock.now.replace(day=31, hour=16, minute=30)  # 2027-01-01 00:30
    body = case_body(
        number=numbered(block, 0, "20270101"), seat_id="seat-a", registered_at=clock.now.isoformat()
    )
    created = http.post("/api/cases", json=body)
    assert created.status_code == 201 and created.json()["number"] == "ZMD-20270101-0001"
    # The store's own numbers of 2027 begin after the block.
    assert new_case(http)["number"] == "ZMD-20270101-0006"


async def test_two_seats_reserving_at_once_get_disjoint_blocks(
    app: FastAPI,
    server: str,  # noqa: F811
    tokens: dict[str, str],  # noqa: F811
) -> None:
    async def one(client: httpx.AsyncClient, seat: str) -> Any:
        r = await client.post("/api/numbers/reserve", json={"seat_id": seat, "count": 7})
        assert r.status_code == 201, r.text
        return r.json()

    async with (
        httpx.AsyncClient(base_url=server, headers=auth(tokens, "agent01")) as a,
        httpx.AsyncClient(base_url=server, headers=auth(tokens, "agent02")) as b,
        httpx.AsyncClient(base_url=server, headers=auth(tokens, "agent01")) as c,
    ):
        blocks = await asyncio.gather(
            *(one(x, f"seat-{i}") for i in range(10) for x in (a, b)),
            *(c.post("/api/cases", json=case_body()) for _ in range(10)),
        )
    reserved = [x for x in blocks if isinstance(x, dict)]
    created = [x.json()["number"] for x in blocks if isinstance(x, httpx.Response)]
    taken = [n for x in reserved for n in range(x["first"], x["last"] + 1)]
    assert len(taken) == len(set(taken)) == 140
    running = [int(n.rsplit("-", 1)[1]) for n in created]
    assert len(running) == 10 and not set(running) & set(taken)
    assert sorted(taken + running) == list(range(1, 151))  # nothing skipped, nothing twice
