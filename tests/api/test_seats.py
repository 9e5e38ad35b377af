"""Seats are their users' (issue 14, finding 9): a heartbeat names the caller's own seat, one
user's seats are capped, forgotten seats leave the board, and a county lead sees its
platform's users' seats only."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from sqlmodel import Session

from agent_tui.domain.case import Role
from agent_tui.server.models import UserRow
from tests.api.conftest import T0, Api, FrozenClock
from tests.api.helpers import issue_tokens


def beat(http: Api, user: str, seat_id: str, outbox: int = 0) -> None:
    r = http.post("/api/seats/heartbeat", user, json={"seat_id": seat_id, "outbox": outbox})
    assert r.status_code == 204, r.text


def board_seats(http: Api, user: str = "lead01") -> list[tuple[str, str, int]]:
    d = http.get("/api/reports/dashboard", user).json()
    summary = http.get("/api/reports/summary", user).json()
    assert summary["seats"] == d["seats"]
    return [(s["user_id"], s["seat_id"], s["outbox"]) for s in d["seats"]]


def test_another_users_heartbeat_never_overwrites_a_seat(http: Api) -> None:
    beat(http, "agent01", "agent01-3f2a1c", 2)
    beat(http, "cgj", "agent01-3f2a1c", 9_999_999)
    seats = board_seats(http)
    assert ("agent01", "agent01-3f2a1c", 2) in seats
    assert ("cgj", "agent01-3f2a1c", 9_999_999) in seats  # the department's own, named by it
    beat(http, "agent01", "agent01-3f2a1c", 0)
    assert ("agent01", "agent01-3f2a1c", 0) in board_seats(http)


def test_made_up_seat_ids_do_not_fill_the_board(http: Api, app: FastAPI) -> None:
    cap = app.state.store.settings.seats_per_user
    for i in range(60):
        beat(http, "cgj", f"fake-{i:04d}", 1)
    beat(http, "agent01", "agent01-3f2a1c")
    seats = board_seats(http)
    assert len([s for s in seats if s[0] == "cgj"]) == cap
    assert ("cgj", "fake-0059", 1) in seats  # the newest stay
    assert ("agent01", "agent01-3f2a1c", 0) in seats


def test_a_seat_not_heard_from_for_a_day_is_forgotten(http: Api, clock: FrozenClock) -> None:
    beat(http, "agent01", "agent01-old")
    clock.advance(hours=23)
    beat(http, "agent02", "agent02-new")
    assert {s[1] for s in board_seats(http)} == {"agent01-old", "agent02-new"}
    clock.advance(hours=2)
    assert {s[1] for s in board_seats(http)} == {"agent02-new"}
    clock.advance(minutes=2)
    beat(http, "agent02", "agent02-new")  # sweeps the forgotten rows (at most once a minute)


def test_a_county_lead_sees_its_platforms_seats_only(http: Api, app: FastAPI) -> None:
    with Session(app.state.store.engine) as session, session.begin():
        session.add(
            UserRow(
                user_id="by_lead",
                name="by_lead",
                role=Role.LEAD,
                platform="411726",
                password_hash="x",
                created_at=T0,
            )
        )
    http.tokens.update(issue_tokens(app, ["by_lead"]))
    beat(http, "agent01", "agent01-a")
    beat(http, "by_agent", "by_agent-b")
    assert board_seats(http, "by_lead") == [("by_agent", "by_agent-b", 0)]
    assert {s[1] for s in board_seats(http, "lead01")} == {"agent01-a", "by_agent-b"}


def test_heartbeats_keep_the_newest_timestamp(http: Api, clock: FrozenClock) -> None:
    beat(http, "agent01", "s1", 1)
    clock.advance(seconds=30)
    beat(http, "agent01", "s1", 0)
    d = http.get("/api/reports/dashboard", "lead01").json()
    (seat,) = d["seats"]
    assert seat["last_seen_at"].startswith(
        (T0 + timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:30")
    )
