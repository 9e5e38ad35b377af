"""The daily and monthly reports over the real API (SQLite and PostgreSQL): the workbook opens
with openpyxl, has its five sheets, and says what the API says; so does the text summary.
Names, not codes; dates as Excel dates; by platform and by county, each named for what it
counts."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from openpyxl import load_workbook

from agent_tui.client.api import ApiClient, Forbidden
from agent_tui.client.report import (
    NOT_BY_DEPARTMENT,
    RANKED,
    RATES,
    ReportData,
    build_workbook,
    fetch_report,
    period,
    text_summary,
)
from agent_tui.domain.case import Status
from agent_tui.domain.lifecycle import Step
from tests.api.conftest import PASSWORD, Api, FrozenClock
from tests.api.helpers import case_in, take

DAY = date(2026, 11, 26)  # T0's day in Zhumadian


def report(app: FastAPI, kind: str, user: str = "lead01") -> Any:
    async def run() -> Any:
        transport = httpx.ASGITransport(app=app)
        client = ApiClient("http://central", user, PASSWORD, transport=transport)
        try:
            return await fetch_report(client, kind, DAY)  # type: ignore[arg-type]
        finally:
            await client.aclose()

    return asyncio.run(run())


def seed(http: Api, clock: FrozenClock) -> None:
    late = case_in(http, Status.IN_PROGRESS, urgency="urgent")
    case_in(http, Status.IN_PROGRESS, user="by_agent")
    case_in(http, Status.RESOLVED)
    case_in(http, Status.REGISTERED, appeal_type="inquiry", content="咨询公积金提取需要哪些材料")
    rated = case_in(http, Status.CALLED_BACK)
    take(http, rated, Step.RATE, "agent01", satisfaction="satisfied", solved="solved")
    take(http, case_in(http, Status.DISPATCHED), Step.SIGN, "cgj")
    clock.now = clock.now + timedelta(hours=25)  # ``late`` is overdue now
    assert http.get(f"/api/cases/{late['uuid']}").json()["overdue"]


@pytest.mark.parametrize("kind", ["daily", "monthly"])
def test_the_workbook_says_what_the_api_says(
    http: Api, app: FastAPI, clock: FrozenClock, tmp_path: Path, kind: str
) -> None:
    seed(http, clock)
    data = report(app, kind)
    path = build_workbook(data, tmp_path / "report.xlsx")

    start, end = period(kind, DAY)  # type: ignore[arg-type]
    params = {"start": start.isoformat(), "end": end.isoformat()}
    total = http.get("/api/reports/kpis", "lead01", params=params).json()["total"]
    by_dept = http.get(
        "/api/reports/kpis", "lead01", params=params | {"group_by": "department"}
    ).json()["groups"]
    by_platform = http.get(
        "/api/reports/kpis", "lead01", params=params | {"group_by": "platform"}
    ).json()["groups"]
    overdue = http.get("/api/cases", "lead01", params={"overdue": "true", "order": "deadline"})
    overdue_numbers = [c["number"] for c in overdue.json()["items"]]
    assert overdue_numbers

    by_county = http.get(
        "/api/reports/kpis", "lead01", params=params | {"group_by": "county"}
    ).json()["groups"]

    book = load_workbook(path)
    assert book.sheetnames == ["概览", "按部门", "按平台", "按县区", "超期清单", "领导交办"]
    overview = {row[0]: row[1:] for row in book["概览"].iter_rows(values_only=True) if row[0]}
    assert overview["受理量"][0] == total["registered"] == 6
    assert overview["当前超期未办结"][0] == len(overdue_numbers)
    assert overview["统计区间（北京时间）"][:2] == (
        start.replace(tzinfo=None),
        end.replace(tzinfo=None),
    )
    for key, name in RATES:
        r = total[key]
        value = None if r["value"] is None else round(r["value"], 4)
        assert overview[name][:3] == (r["numerator"], r["denominator"], value), name
    assert overview["解决率"][:2] == (1, 1)
    assert overview["部分解决"][0] == 0 and overview["未填办理结果（自由文本）"][0] == 1

    sheets = (
        ("按部门", by_dept, ("单位代码", "单位", "派单量")),
        ("按平台", by_platform, ("平台代码", "受理平台", "受理量")),
        ("按县区", by_county, ("县区", "诉求发生地", "受理量")),
    )
    for sheet, groups, first in sheets:
        rows = list(book[sheet].iter_rows(values_only=True))
        assert rows[0][:3] == first
        got = {row[0] or "": row for row in rows[1:] if row[1] is not None}
        assert set(got) == set(groups), sheet
        for code, g in groups.items():
            on_time = got[code][3:6]
            assert on_time[:2] == (g["on_time"]["numerator"], g["on_time"]["denominator"])
    assert {"CGJ"} <= set(by_dept) and {"city", "411726"} <= set(by_platform)
    # 按平台 is the platform that took the call; 按县区 the county where the matter is.
    platforms = [row[1] for row in book["按平台"].iter_rows(min_row=2, values_only=True)]
    assert "市平台" in platforms and "泌阳县" in platforms
    counties = [row[0] for row in book["按县区"].iter_rows(min_row=2, values_only=True)]
    assert "驿城区" in counties and set(counties) == set(by_county)
    # 直办率 by department is 0/0 by construction (a direct answer has no department): dropped.
    header = next(book["按部门"].iter_rows(max_row=1, values_only=True))
    assert not any(str(h).startswith("直办率") for h in header)
    assert "直办率分子" in next(book["按平台"].iter_rows(max_row=1, values_only=True))
    assert {"direct_resolution", "callback_sampled"} == NOT_BY_DEPARTMENT
    assert any("不按部门统计" in str(row[0]) for row in book["按部门"].iter_rows(values_only=True))

    late = list(book["超期清单"].iter_rows(min_row=2))
    assert [row[0].value for row in late] == overdue_numbers
    first = overdue.json()["items"][0]
    row = late[0]
    assert row[4].value == "占道经营" != first["category"]  # the name, not '0101'
    assert isinstance(row[6].value, datetime) and row[6].number_format == "yyyy-mm-dd hh:mm"
    deadline = datetime.fromisoformat(first["handling_deadline"])
    assert row[6].value == deadline.astimezone(start.tzinfo).replace(tzinfo=None)
    assert row[2].value == "市城管局" and row[8].value == "无"

    summary = text_summary(data)
    assert f"受理 {total['registered']} 件" in summary
    assert f"超期未办结 {len(overdue_numbers)} 件" in summary
    for key, name in RATES:
        if key not in RANKED:
            continue
        r = total[key]
        assert f"{name} " in summary and f"（{r['numerator']}/{r['denominator']}）" in summary
    assert "解决率 100.00%（1/1）" in summary


#: 14 overdue cases at 7 units: the summary names 5 (4+3+2+2+1) and leaves out 2 units.
LATE_BY_DEPARTMENT = (
    ("CGJ", 4),
    ("GAJ", 3),
    ("ZJJ", 2),
    ("JYJ", 2),
    ("FGW", 1),
    ("SWJ", 1),
    ("WJW", 1),
)


def test_the_summary_says_how_many_departments_it_leaves_out(
    http: Api, app: FastAPI, clock: FrozenClock
) -> None:
    seed(http, clock)
    data = report(app, "daily")
    assert data.overdue_total == 1
    assert "等" not in text_summary(data).splitlines()[-1]  # all listed: no 等
    many = ReportData(
        kind=data.kind,
        day=data.day,
        start=data.start,
        end=data.end,
        at=data.at,
        total=data.total,
        by_department=data.by_department,
        by_platform=data.by_platform,
        by_county=data.by_county,
        overdue=[
            data.overdue[0].model_copy(update={"department": code})
            for code, n in LATE_BY_DEPARTMENT
            for _ in range(n)
        ],
        overdue_total=19,  # 14 listed here, 5 more beyond the list
    )
    line = next(x for x in text_summary(many).splitlines() if "超期未办结" in x)
    assert "超期未办结 19 件" in line
    assert "等，另有 2 个单位共 7 件" in line  # 2 units with 1 each, and 5 not listed


def test_only_leads_and_admins_get_a_report(http: Api, app: FastAPI) -> None:
    with pytest.raises(Forbidden) as refused:
        report(app, "daily", user="agent01")
    assert "班长" in refused.value.message
    assert report(app, "daily", user="admin").total.registered == 0
