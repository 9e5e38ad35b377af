"""The lead dashboard, hot spots and the KPI drill-down over HTTP (SQLite and PostgreSQL).

Every figure is checked against what the seeded cases say, worked out here from the cases the
API returned (and, for the KPIs, from the domain's formulas over the stored events).
"""

from __future__ import annotations

import secrets
import time
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlmodel import Session

from agent_tui.domain.calendar import SHANGHAI
from agent_tui.domain.case import OPEN_STATUSES, Role, Status
from agent_tui.domain.kpi import TRACED, GroupBy, KpiTrace, compute_kpis, traced_cases
from agent_tui.domain.lifecycle import Step
from agent_tui.server.auth import _token_hash
from agent_tui.server.models import TokenRow, UserRow
from agent_tui.server.visibility import Actor
from tests.api.conftest import _HASH, T0, Api, FrozenClock
from tests.api.helpers import DEPT_USER, OTHER_DEPT_USER, assert_error, case_in, new_case, take
from tests.api.test_queue_plans import captured
from tests.api.test_reports import db_events, expected, history

COUNTY = "411726"  # the platform of ``by_agent``


def dashboard(http: Api, user: str = "lead01") -> dict[str, Any]:
    r = http.get("/api/reports/dashboard", user)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def fresh(app: FastAPI) -> None:
    """Forget cached KPI tiles and hot spots (the data changed within the cache's lifetime)."""
    app.state.store.forget_reports()


def add_county_lead(http: Api, app: FastAPI) -> str:
    """A shift lead of the county platform ``COUNTY``, logged in."""
    store = app.state.store
    token = secrets.token_urlsafe(32)
    with Session(store.engine) as session, session.begin():
        session.add(
            UserRow(
                user_id="by_lead",
                name="by_lead",
                role=Role.LEAD,
                platform=COUNTY,
                password_hash=_HASH,
                created_at=T0,
            )
        )
        session.flush()
        session.add(
            TokenRow(
                token_hash=_token_hash(token),
                user_id="by_lead",
                created_at=store.now(),
                expires_at=store.now() + timedelta(days=365),
            )
        )
    http.tokens["by_lead"] = token
    return "by_lead"


def at(case: dict[str, Any], name: str) -> datetime:
    return datetime.fromisoformat(case[name])


# --- the dashboard ------------------------------------------------------------------------------


def test_the_dashboard_figures_equal_the_seeded_cases(
    http: Api, app: FastAPI, clock: FrozenClock
) -> None:
    # Urgent cases are due 24 h after dispatch (normal ones at the end of a working day).
    early = [case_in(http, Status.IN_PROGRESS, urgency="urgent") for _ in range(2)]
    clock.advance(hours=1)
    soon = case_in(http, Status.DISPATCHED, urgency="urgent")
    clock.advance(hours=3)
    later = case_in(http, Status.IN_PROGRESS, urgency="urgent")
    waiting = case_in(http, Status.CALLBACK_PENDING)
    others = [
        case_in(http, Status.REGISTERED),
        case_in(http, Status.REGISTERED, user="by_agent"),
        case_in(http, Status.REPLIED),
        case_in(http, Status.RESOLVED),
        case_in(http, Status.REFUSED),
        new_case(
            http, appeal_type="inquiry", content="咨询公积金提取需要哪些材料", category="0102"
        ),
    ]
    assert http.post("/api/seats/heartbeat", json={"seat_id": "s1", "outbox": 2}).status_code == 204
    # Half an hour after the first two were due: they are overdue, ``soon`` is due in 30 min.
    clock.now = at(early[0], "handling_deadline") + timedelta(minutes=30)
    waiting_since = at(waiting, "replied_at")
    cases = [
        http.get(f"/api/cases/{c['uuid']}").json() for c in (*early, soon, later, waiting, *others)
    ]

    d = dashboard(http)
    summary = http.get("/api/reports/summary", "lead01").json()
    assert d["at"] == summary["at"]

    def key(x: dict[str, Any]) -> tuple[str, str]:
        return x["status"], x["department"]

    assert sorted(d["by_status_department"], key=key) == sorted(
        summary["by_status_department"], key=key
    )
    for name in ("open_total", "overdue", "due_today", "callbacks_waiting"):
        assert d[name] == summary[name], name

    active = [c for c in cases if c["status"] not in ("archived", "refused", "resolved")]
    assert Counter({(x["status"], x["platform"]): x["count"] for x in d["by_status_platform"]}) == (
        Counter((c["status"], c["platform"]) for c in active)
    )
    open_ = [c for c in cases if Status(c["status"]) in OPEN_STATUSES]
    assert d["open_total"] == len(open_) == 8
    unreplied = [c for c in open_ if c["handling_deadline"] and not c["replied_at"]]
    now = clock.now
    overdue = sorted(
        (c for c in unreplied if at(c, "handling_deadline") <= now),
        key=lambda c: c["handling_deadline"],
    )
    due_2h = [c for c in unreplied if now < at(c, "handling_deadline") <= now + timedelta(hours=2)]
    assert d["overdue"] == len(overdue) == 2
    assert d["due_2h"] == len(due_2h) == 1
    assert [b["uuid"] for b in d["overdue_cases"]] == [c["uuid"] for c in overdue]
    assert [b["uuid"] for b in d["due_soon_cases"]] == [soon["uuid"]]
    brief = d["due_soon_cases"][0]
    assert brief["minutes_left"] == 30 and brief["number"] == soon["number"]
    assert brief["content"] == soon["content"][:40] and brief["department"] == "CGJ"
    assert d["overdue_cases"][0]["minutes_left"] == -30

    assert d["callbacks_waiting"] == 1
    age = now - waiting_since
    bucket = "<1d" if age < timedelta(days=1) else "1-3d" if age < timedelta(days=3) else ">3d"
    assert d["callback_ages"] == {"<1d": 0, "1-3d": 0, ">3d": 0} | {bucket: 1}
    assert datetime.fromisoformat(d["oldest_callback_waiting_since"]) == waiting_since

    today = now.astimezone(SHANGHAI).date()
    registered = [at(c, "registered_at").astimezone(SHANGHAI) for c in cases]
    by_hour = [0] * 24
    for r in registered:
        if r.date() == today:
            by_hour[r.hour] += 1
    assert d["volume_by_hour"] == by_hour
    assert d["volume_by_type"] == dict(
        Counter(
            c["appeal_type"] for c, r in zip(cases, registered, strict=True) if r.date() == today
        )
    )
    assert [(s["seat_id"], s["outbox"]) for s in d["seats"]] == [("s1", 2)]

    # The KPI tiles: today, this week from Monday, this month from the 1st (Asia/Shanghai),
    # each equal to the domain's formulas over the stored events.
    assert [t["period"] for t in d["kpis"]] == ["today", "week", "month"]
    starts = [datetime.fromisoformat(t["start"]).astimezone(SHANGHAI) for t in d["kpis"]]
    assert starts[0].date() == today and starts[0].hour == 0
    assert starts[1].weekday() == 0 and starts[2].day == 1
    events = db_events(app)
    for tile in d["kpis"]:
        start, end = datetime.fromisoformat(tile["start"]), datetime.fromisoformat(tile["end"])
        want = compute_kpis(events, start=start, end=end, now=now)
        assert tile["kpis"] == expected(want.total), tile["period"]
    assert d["kpis"][2]["kpis"]["registered"] == len(cases)


def test_the_dashboard_follows_the_clock_once_its_kpi_cache_is_cleared(
    http: Api, app: FastAPI
) -> None:
    case_in(http, Status.REGISTERED)
    assert dashboard(http)["kpis"][0]["kpis"]["registered"] == 1
    case_in(http, Status.REGISTERED)
    d = dashboard(http)
    assert sum(d["volume_by_hour"]) == 2  # counts are live
    assert d["kpis"][0]["kpis"]["registered"] == 1  # tiles are cached (kpi_cache_seconds)
    fresh(app)
    assert dashboard(http)["kpis"][0]["kpis"]["registered"] == 2


def test_a_county_lead_sees_only_the_county_platforms_cases(http: Api, app: FastAPI) -> None:
    lead = add_county_lead(http, app)
    case_in(http, Status.REGISTERED)
    case_in(http, Status.DISPATCHED)
    mine = case_in(http, Status.REGISTERED, user="by_agent")
    d = dashboard(http, lead)
    assert [(x["status"], x["platform"], x["count"]) for x in d["by_status_platform"]] == [
        ("registered", COUNTY, 1)
    ]
    assert d["open_total"] == 1 and sum(d["volume_by_hour"]) == 1
    assert d["kpis"][0]["kpis"]["registered"] == 1
    assert dashboard(http)["open_total"] == 3  # the city lead sees all three
    got = http.get(
        "/api/reports/kpi-cases",
        lead,
        params={
            "kpi": "direct_resolution",
            "start": d["kpis"][0]["start"],
            "end": d["kpis"][0]["end"],
        },
    ).json()
    assert [c["uuid"] for c in got["items"]] == [mine["uuid"]]


@pytest.mark.parametrize(
    "path",
    [
        "/api/reports/dashboard",
        "/api/reports/hotspots",
        "/api/reports/kpi-cases?kpi=on_time&start=2026-11-01T00:00:00%2B08:00"
        "&end=2026-12-01T00:00:00%2B08:00",
    ],
    ids=["dashboard", "hotspots", "kpi-cases"],
)
def test_agents_and_departments_may_not_see_the_lead_console(http: Api, path: str) -> None:
    for user in ("agent01", DEPT_USER, OTHER_DEPT_USER):
        body = assert_error(http.get(path, user), 403, "forbidden")
        assert "班长" in body["message"]
    assert http.get(path, "admin").status_code == 200


# --- hot spots ----------------------------------------------------------------------------------


def test_hotspots_follow_the_rule_on_crafted_cases(
    http: Api, app: FastAPI, clock: FrozenClock
) -> None:
    def cases(n: int, hours_ago: float, category: str = "0101", **address: str) -> list[Any]:
        clock.now = T0 - timedelta(hours=hours_ago)
        where = {"county": "驿城区", **address}
        made = [new_case(http, address=where, category=category) for _ in range(n)]
        clock.now = T0
        return made

    # 刘阁村: 4 in the last 24 h over 1 a day before (7 in 7 days): hot.
    hot = cases(4, 2, village="刘阁村", road="金山路")
    for day in range(1, 8):
        hot += cases(1, 24 * day + 5, village="刘阁村")
    # 文化路 (no village): 3 today, none before: hot, and rising as much as 刘阁村 (by 3).
    road = cases(3, 5, road="文化路")
    # 乐山大道: 5 today over 3 a day: not twice its usual. 中心街: 2 today: too few.
    cases(5, 1, road="乐山大道")
    for day in range(1, 8):
        cases(3, 24 * day + 1, road="乐山大道")
    cases(2, 3, road="中心街")
    # Another category at 刘阁村 is another spot (and too few).
    cases(2, 1, category="0102", village="刘阁村")
    closed = take(http, hot[0], Step.RESOLVE, "agent01", result="已告知", sample_callback=False)

    r = http.get("/api/reports/hotspots", "lead01")
    assert r.status_code == 200, r.text
    spots = r.json()
    assert [(s["place"], s["last_24h"]) for s in spots] == [("刘阁村", 4), ("文化路", 3)]
    first = spots[0]
    assert (first["category"], first["county"], first["baseline_per_day"]) == (
        "0101",
        "驿城区",
        1.0,
    )
    assert first["rule"] == "24小时内 4 件，前7日日均 1.0 件"
    assert set(first["open_cases"]) == {c["uuid"] for c in hot} - {closed["uuid"]}
    assert set(spots[1]["open_cases"]) == {c["uuid"] for c in road}
    assert dashboard(http)["hotspots"] == spots


def test_a_quiet_store_has_no_hotspots(http: Api) -> None:
    case_in(http, Status.REGISTERED)
    assert http.get("/api/reports/hotspots", "lead01").json() == []


# --- KPI drill-down -----------------------------------------------------------------------------


def kpi_cases(http: Api, kpi: str, part: str, start: datetime, end: datetime) -> list[str]:
    """Every page (two cases a page: the cursor is exercised) of the drill-down."""
    uuids: list[str] = []
    after: str | None = None
    while True:
        params = {"kpi": kpi, "part": part, "start": start.isoformat(), "end": end.isoformat()}
        params |= {"limit": "2"} | ({"after": after} if after else {})
        r = http.get("/api/reports/kpi-cases", "lead01", params=params)
        assert r.status_code == 200, r.text
        page = r.json()
        uuids += [c["uuid"] for c in page["items"]]
        after = page["next_cursor"]
        if after is None:
            return uuids


def test_the_kpi_drill_down_partitions_each_figure(
    http: Api, app: FastAPI, clock: FrozenClock
) -> None:
    history(http, clock)
    start, end = T0 - timedelta(days=1), clock.now + timedelta(days=1)
    params = {"start": start.isoformat(), "end": end.isoformat()}
    total = http.get("/api/reports/kpis", "lead01", params=params).json()["total"]
    trace: KpiTrace = {}
    compute_kpis(db_events(app), start=start, end=end, now=clock.now, trace=trace)
    seen_some = 0
    for kpi in TRACED:
        met = kpi_cases(http, kpi, "met", start, end)
        missed = kpi_cases(http, kpi, "missed", start, end)
        every = kpi_cases(http, kpi, "all", start, end)
        assert len(met) == len(set(met)) and len(every) == len(set(every))
        assert len(met) == total[kpi]["numerator"], kpi
        assert len(missed) == total[kpi]["denominator"] - total[kpi]["numerator"], kpi
        assert set(every) == set(met) | set(missed)
        assert set(met) == traced_cases(trace, kpi, "met")
        seen_some += len(every)
    assert seen_some > 0
    assert total["on_time"]["denominator"] > total["on_time"]["numerator"] > 0


def test_kpi_drill_down_pages_newest_first(http: Api) -> None:
    made = [new_case(http) for _ in range(5)]
    start, end = T0 - timedelta(hours=1), T0 + timedelta(hours=1)
    got = kpi_cases(http, "direct_resolution", "all", start, end)
    assert got == [c["uuid"] for c in reversed(made)]
    assert kpi_cases(http, "direct_resolution", "met", start, end) == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"kpi": "speed"}, "kpi"),
        ({"part": "some"}, "part"),
        ({"end": "2026-10-01T00:00:00+08:00"}, "start"),
        ({"after": "%%%"}, "after"),  # the parameter by its name
        ({"limit": "0"}, "limit"),
    ],
)
def test_a_bad_drill_down_request_is_a_readable_422(
    http: Api, params: dict[str, str], field: str
) -> None:
    query = {"kpi": "on_time", "start": "2026-11-01T00:00:00+08:00"}
    query |= {"end": "2026-12-01T00:00:00+08:00"} | params
    body = assert_error(http.get("/api/reports/kpi-cases", "lead01", params=query), 422)
    assert field in {e["field"] for e in body["errors"]}, body


# --- plans --------------------------------------------------------------------------------------


def test_the_dashboards_counts_by_platform_read_their_index(app: FastAPI) -> None:
    """Migration 0004: without it the count by status × platform reads every case."""
    store = app.state.store
    with captured(store) as sent:
        store.dashboard(Actor("lead01", Role.LEAD))
    ((statement, params),) = [(s, p) for s, p in sent if "cases.platform, count(*)" in s]
    raw = store.engine.raw_connection()
    try:
        cur = raw.cursor()
        if store.engine.dialect.name == "sqlite":
            cur.execute("EXPLAIN QUERY PLAN " + statement, params)
            text = "\n".join(str(r[3]) for r in cur.fetchall())
        else:
            # The tables are tiny: ask "could it read the index alone?"
            cur.execute("SET LOCAL enable_seqscan = off")
            cur.execute("SET LOCAL enable_bitmapscan = off")
            cur.execute("EXPLAIN " + statement, params)
            text = "\n".join(str(r[0]) for r in cur.fetchall())
        raw.rollback()
    finally:
        raw.close()
    assert "ix_cases_status_department_platform" in text, text


def test_kpi_tiles_replayed_in_their_own_process_come_with_a_later_answer(
    http: Api, app: FastAPI
) -> None:
    """With ``kpi_processes`` the replays run in a process of their own: an answer that cannot
    wait names the tiles still computing, a later one has them, and they are the figures the
    server's own replay gives."""
    store = app.state.store
    store.settings = store.settings.model_copy(update={"kpi_processes": 1, "kpi_wait_seconds": 0})
    case_in(http, Status.ARCHIVED)
    case_in(http, Status.DISPATCHED)
    first = dashboard(http)
    assert first["kpis_pending"] and len(first["kpis"]) + len(first["kpis_pending"]) == 3
    deadline = datetime.now() + timedelta(seconds=60)
    answer = first
    while answer["kpis_pending"]:
        assert datetime.now() < deadline, "the replay process did not answer"
        answer = dashboard(http)
    assert type(store.kpi_reports.runner).__name__ == "ProcessPoolExecutor"
    for tile in answer["kpis"]:
        start, end = datetime.fromisoformat(tile["start"]), datetime.fromisoformat(tile["end"])
        report = store.kpis(Actor("lead01", Role.LEAD), start, end, GroupBy.NONE)
        for name in TRACED:
            ratio = getattr(report.total, name)
            assert tile["kpis"][name]["numerator"] == ratio.numerator, (tile["period"], name)
            assert tile["kpis"][name]["denominator"] == ratio.denominator, (tile["period"], name)
    store.close()


def test_the_clock_warms_the_centres_tiles_ahead_of_the_board(http: Api, app: FastAPI) -> None:
    """``warm_reports`` (run by the clock loop) starts the city's tile replays, so that a lead's
    first answer has them without waiting."""
    store = app.state.store
    store.settings = store.settings.model_copy(update={"kpi_wait_seconds": 0})
    case_in(http, Status.ARCHIVED)
    fresh(app)
    store.warm_reports()
    deadline = datetime.now() + timedelta(seconds=30)
    while sum(1 for key in store.kpi_cache if key[0] == ("centre", "")) < 3:
        assert datetime.now() < deadline, "the warm-up made no tiles"
        time.sleep(0.05)
    answer = dashboard(http)
    assert answer["kpis_pending"] == [] and len(answer["kpis"]) == 3
