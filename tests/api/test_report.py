"""The daily and monthly reports over the real API (SQLite and PostgreSQL): the workbook opens
with openpyxl, has its four sheets, and says what the API says; so does the text summary."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from openpyxl import load_workbook

from agent_tui.client.api import ApiClient, Forbidden
from agent_tui.client.report import RATES, build_workbook, fetch_report, period, text_summary
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
    take(http, rated, Step.RATE, "agent01", satisfaction="satisfied")
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

    book = load_workbook(path)
    assert book.sheetnames == ["概览", "按部门", "按县区", "超期清单", "领导交办"]
    overview = {row[0]: row[1:] for row in book["概览"].iter_rows(values_only=True) if row[0]}
    assert overview["受理量"][0] == total["registered"] == 6
    assert overview["当前超期未办结"][0] == len(overdue_numbers)
    for key, name in RATES:
        r = total[key]
        value = None if r["value"] is None else round(r["value"], 4)
        assert overview[name][:3] == (r["numerator"], r["denominator"], value), name

    for sheet, groups in (("按部门", by_dept), ("按县区", by_platform)):
        rows = list(book[sheet].iter_rows(values_only=True))
        assert rows[0][:3] in (("单位代码", "单位", "派单量"), ("平台代码", "平台", "受理量"))
        got = {row[0] or "": row for row in rows[1:]}
        assert set(got) == set(groups), sheet
        for code, g in groups.items():
            on_time = got[code][3:6]
            assert on_time[:2] == (g["on_time"]["numerator"], g["on_time"]["denominator"])
    assert {"CGJ"} <= set(by_dept) and {"city", "411726"} <= set(by_platform)

    listed = [row[0] for row in book["超期清单"].iter_rows(min_row=2, values_only=True)]
    assert listed == overdue_numbers

    summary = text_summary(data)
    assert f"受理 {total['registered']} 件" in summary
    assert f"超期未办结 {len(overdue_numbers)} 件" in summary
    for key, name in RATES[:5]:
        r = total[key]
        assert f"{name} " in summary and f"（{r['numerator']}/{r['denominator']}）" in summary


def test_only_leads_and_admins_get_a_report(http: Api, app: FastAPI) -> None:
    with pytest.raises(Forbidden) as refused:
        report(app, "daily", user="agent01")
    assert "班长" in refused.value.message
    assert report(app, "daily", user="admin").total.registered == 0
