"""Daily and monthly reports of the centre: an Excel workbook and a text summary to paste.

Everything comes from the central store over HTTP (``ApiClient``): the KPIs of the period in
total, by department and by county platform (``/api/reports/kpis``), and the cases overdue now
(``/api/cases?overdue=true``). ``fetch_report`` gathers them; ``build_workbook`` and
``text_summary`` only format what was fetched, so the report says exactly what the API said.

Periods are Zhumadian days (Asia/Shanghai): a daily report covers that day, a monthly one that
calendar month. The report is in Chinese: it goes to the centre's leaders as it is.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal

from agent_tui import wire
from agent_tui.client.api import ApiClient
from agent_tui.data.reference import ReferenceData, load_reference
from agent_tui.domain.calendar import SHANGHAI
from agent_tui.domain.case import AppealType, ReplyOutcome, Status, SupervisionLevel

Kind = Literal["daily", "monthly"]

#: The ranked figures, in the order the centre reports them, with their names.
RATES: tuple[tuple[str, str], ...] = (
    ("on_time", "按时办结率"),
    ("callback", "回访率"),
    ("satisfaction", "满意率"),
    ("resolution", "解决率"),
    ("timely_signing", "及时签收率"),
    ("direct_resolution", "直办率"),
    ("callback_sampled", "直办抽样回访率"),
    ("returns", "回退率"),
    ("reopens", "重办率"),
)
#: The figures the text summary names (the ranked ones).
RANKED = (
    "on_time",
    "callback",
    "satisfaction",
    "resolution",
    "timely_signing",
    "direct_resolution",
)
OVERDUE_COLUMNS = [
    *("工单编号", "状态", "承办单位", "县区", "类别", "诉求内容"),
    *("办理期限", "超期（小时）", "督办级别"),
]
#: The leader-assigned cases' own line and sheet (领导接听: a city leader took the calls).
LEADER_LINE = "领导交办"
LEADER_COLUMNS = ("受理", "办结", "在办", "超期")
#: At most this many overdue cases are listed (the count is always complete).
OVERDUE_MAX = 5000


def period(kind: Kind, day: date) -> tuple[datetime, datetime]:
    """[start, end) of the report: the day, or the calendar month holding it (Asia/Shanghai)."""
    if kind == "daily":
        start = datetime.combine(day, time(), SHANGHAI)
        return start, start + timedelta(days=1)
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return datetime.combine(first, time(), SHANGHAI), datetime.combine(following, time(), SHANGHAI)


def period_title(kind: Kind, day: date) -> str:
    if kind == "daily":
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.year}年{day.month}月"


@dataclass
class ReportData:
    """What the API said for one report."""

    kind: Kind
    day: date
    start: datetime
    end: datetime
    at: datetime  # when the overdue list was taken
    total: wire.KpiOut
    by_department: dict[str, wire.KpiOut]
    by_platform: dict[str, wire.KpiOut]
    overdue: list[wire.CasePublic]
    overdue_total: int
    #: By the county of the case's address (where the matter is).
    by_county: dict[str, wire.KpiOut] = field(default_factory=dict)
    #: Leader-assigned cases (领导交办) registered in the period.
    leader: wire.LeaderTally | None = None
    reference: ReferenceData = field(default_factory=load_reference, repr=False)

    @property
    def title(self) -> str:
        name = "日报" if self.kind == "daily" else "月报"
        return f"驻马店12345热线{name}（{period_title(self.kind, self.day)}）"

    def department_name(self, code: str) -> str:
        if not code:
            return "（未派单）"
        return self.reference.department_label(code)

    def category_name(self, code: str) -> str:
        if not code:
            return "（未分类）"
        c = self.reference.category(code)
        return c.name if c else code

    def county_name(self, county: str) -> str:
        return county or "（未填地点）"

    def platform_name(self, code: str) -> str:
        if code == "city":
            return "市平台"
        p = self.reference.platform(code)
        return p.name if p else code


async def fetch_report(client: ApiClient, kind: Kind, day: date) -> ReportData:
    """Ask the central store for everything the report shows."""
    start, end = period(kind, day)
    total = await client.kpis(start, end)
    by_department = await client.kpis(start, end, "department")
    by_platform = await client.kpis(start, end, "platform")
    by_county = await client.kpis(start, end, "county")
    overdue: list[wire.CasePublic] = []
    cursor: str | None = None
    more = True
    while more and len(overdue) < OVERDUE_MAX:
        params: dict[str, object] = {"overdue": "true", "order": "deadline", "limit": 200}
        if cursor:
            params["cursor"] = cursor
        page = await client.list_cases(**params)
        overdue += page.items
        cursor = page.next_cursor
        more = cursor is not None
    summary = await client.dashboard()
    leader = await client.leader_cases(start, end)
    return ReportData(
        kind=kind,
        day=day,
        start=start,
        end=end,
        at=summary.at,
        total=total.total,
        by_department=by_department.groups,
        by_platform=by_platform.groups,
        by_county=by_county.groups,
        overdue=overdue[:OVERDUE_MAX],
        overdue_total=max(summary.overdue, len(overdue)),
        leader=leader,
    )


def percent(r: wire.RatioOut) -> str:
    return "—" if r.value is None else f"{r.value * 100:.2f}%"


def leader_text(lt: wire.LeaderTally) -> str:
    """``受理 3 件，办结 1 件，在办 2 件（超期 1 件）``: the period's leader-assigned cases."""
    return f"受理 {lt.registered} 件，办结 {lt.done} 件，在办 {lt.open} 件（超期 {lt.overdue} 件）"


def _rate_cells(r: wire.RatioOut) -> list[object]:
    return [r.numerator, r.denominator, None if r.value is None else round(r.value, 4)]


def _local(t: datetime | None) -> str:
    return t.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if t else ""


def replies_by_outcome(k: wire.KpiOut) -> list[tuple[str, int]]:
    """Department replies by their outcome, in the outcome's order (free text last)."""
    rows = [(o.label, k.replies_by_outcome.get(o.value, 0)) for o in ReplyOutcome]
    if k.replies_by_outcome.get(""):
        rows.append(("未填办理结果（自由文本）", k.replies_by_outcome[""]))
    return rows


def _type_name(code: str) -> str:
    try:
        return AppealType(code).label
    except ValueError:
        return code or "（未填）"


# --- the workbook -------------------------------------------------------------------------------

#: Excel shows these cells as dates (real date values, not text: they sort and filter).
DATE_FORMAT = "yyyy-mm-dd hh:mm"
#: Not by department: a case answered on the call never has a department, so these are 0/0 for
#: every department (直办率 is the platforms' and the counties' figure; the sampled direct
#: answers likewise).
NOT_BY_DEPARTMENT = frozenset({"direct_resolution", "callback_sampled"})
NOT_BY_DEPARTMENT_NOTE = (
    "注：直办率、直办抽样回访率不按部门统计（直接办结的工单没有承办单位），见按平台、按县区。"
)


def excel_time(t: datetime | None) -> datetime | None:
    """An instant as Excel holds it: Beijing wall time without a zone (Excel has none)."""
    return t.astimezone(SHANGHAI).replace(tzinfo=None) if t else None


def build_workbook(data: ReportData, path: Path) -> Path:
    """Write the report as an Excel workbook: 概览, 按部门, 按平台 (the platform that took the
    call), 按县区 (the county where the matter is), 超期清单, 领导交办 (when there are
    leader-assigned cases)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    bold = Font(bold=True)
    book = Workbook()
    sheet = book.active
    sheet.title = "概览"
    k = data.total
    sheet.append([data.title])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(["统计区间（北京时间）", excel_time(data.start), excel_time(data.end)])
    sheet.cell(sheet.max_row, 2).number_format = DATE_FORMAT
    sheet.cell(sheet.max_row, 3).number_format = DATE_FORMAT
    sheet.append(["受理量", k.registered])
    sheet.append(["直接办结", k.direct_resolution.numerator])
    sheet.append(["派单量", k.returns.denominator])
    sheet.append(["当前超期未办结", data.overdue_total])
    sheet.append(["超期统计时间", excel_time(data.at)])
    sheet.cell(sheet.max_row, 2).number_format = DATE_FORMAT
    if data.leader is not None:
        sheet.append([LEADER_LINE, leader_text(data.leader)])
    hours = k.average_handling_hours
    sheet.append(["平均办理时长（小时）", None if hours is None else round(hours, 1)])
    sheet.append([])
    sheet.append(["指标", "分子", "分母", "比率"])
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    for key, name in RATES:
        sheet.append([name, *_rate_cells(getattr(k, key))])
        sheet.cell(sheet.max_row, 4).number_format = "0.00%"
    sheet.append([])
    sheet.append(["诉求类型", "件数"])
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    for code, n in sorted(k.volume_by_type.items(), key=lambda kv: -kv[1]):
        sheet.append([_type_name(code), n])
    sheet.append([])
    sheet.append(["答复（按办理结果）", "件数"])
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    for name, n in replies_by_outcome(k):
        sheet.append([name, n])
    sheet.column_dimensions["A"].width = 22
    sheet.column_dimensions["B"].width = 18
    sheet.column_dimensions["C"].width = 18

    header = ["分子", "分母", "比率"]
    by_department = [(key, name) for key, name in RATES if key not in NOT_BY_DEPARTMENT]
    sheets: tuple[
        tuple[str, dict[str, wire.KpiOut], Any, list[str], list[tuple[str, str]]], ...
    ] = (
        (
            "按部门",
            data.by_department,
            data.department_name,
            ["单位代码", "单位", "派单量"],
            by_department,
        ),
        (
            "按平台",
            data.by_platform,
            data.platform_name,
            ["平台代码", "受理平台", "受理量"],
            list(RATES),
        ),
        ("按县区", data.by_county, data.county_name, ["县区", "诉求发生地", "受理量"], list(RATES)),
    )
    for title, groups, name_of, first, rates in sheets:
        ws = book.create_sheet(title)
        ws.append([*first, *(f"{name}{h}" for _key, name in rates for h in header)])
        for cell in ws[1]:
            cell.font = bold
        for code in sorted(groups, key=lambda c: (-_volume(groups[c], title), c)):
            g = groups[code]
            row: list[object] = [code, name_of(code), _volume(g, title)]
            for key, _name in rates:
                row += _rate_cells(getattr(g, key))
            ws.append(row)
            for i in range(len(rates)):
                ws.cell(ws.max_row, 3 + 3 * i + 3).number_format = "0.00%"
        if title == "按部门":
            ws.append([])
            ws.append([NOT_BY_DEPARTMENT_NOTE])
        ws.column_dimensions["B"].width = 24

    ws = book.create_sheet("超期清单")
    ws.append(OVERDUE_COLUMNS)
    for cell in ws[1]:
        cell.font = bold
    for c in data.overdue:
        late = (data.at - c.handling_deadline).total_seconds() / 3600 if c.handling_deadline else 0
        ws.append(
            [
                c.number,
                Status(c.status).label,
                data.department_name(c.department),
                c.address.county,
                data.category_name(c.category),
                c.content[:60],
                excel_time(c.handling_deadline),
                round(late, 1),
                SupervisionLevel(c.supervision).label,
            ]
        )
        ws.cell(ws.max_row, 7).number_format = DATE_FORMAT
    if data.overdue_total > len(data.overdue):
        ws.append([f"（共 {data.overdue_total} 件，仅列出前 {len(data.overdue)} 件）"])
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["E"].width = 16
    ws.column_dimensions["F"].width = 60
    ws.column_dimensions["G"].width = 18
    if data.leader is not None:  # its own sheet, last: the others keep their places
        ws = book.create_sheet(LEADER_LINE)
        ws.append(list(LEADER_COLUMNS))
        for cell in ws[1]:
            cell.font = bold
        lt = data.leader
        ws.append([lt.registered, lt.done, lt.open, lt.overdue])
        ws.append([])
        ws.append([f"统计区间：{_local(lt.start)} 至 {_local(lt.end)} 受理的领导交办工单"])
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def _volume(k: wire.KpiOut, sheet: str) -> int:
    """By department: cases dispatched to it; by platform or county: cases registered."""
    return k.returns.denominator if sheet == "按部门" else k.registered


# --- the text summary ---------------------------------------------------------------------------


def text_summary(data: ReportData, top: int = 5) -> str:
    """A few lines in Chinese to paste into a message: volume, the ranked rates, what is late."""
    k = data.total
    lines = [f"【{data.title}】"]
    types = "、".join(
        f"{_type_name(code)} {n} 件"
        for code, n in sorted(k.volume_by_type.items(), key=lambda kv: -kv[1])
    )
    lines.append(
        f"受理 {k.registered} 件" + (f"（{types}）" if types else "") + f"，直接办结 "
        f"{k.direct_resolution.numerator} 件，派单 {k.returns.denominator} 件。"
    )
    lines.append(
        "；".join(
            f"{name} {percent(getattr(k, key))}"
            f"（{getattr(k, key).numerator}/{getattr(k, key).denominator}）"
            for key, name in RATES
            if key in RANKED
        )
        + "。"
    )
    replies = [f"{name} {n} 件" for name, n in replies_by_outcome(k) if n]
    if replies:
        lines.append(
            f"单位答复 {sum(k.replies_by_outcome.values())} 件：" + "、".join(replies) + "。"
        )
    if data.leader is not None:
        lines.append(f"{LEADER_LINE}：{leader_text(data.leader)}。")
    late = Counter(c.department for c in data.overdue)
    if data.overdue_total:
        named = late.most_common(top)
        worst = "、".join(f"{data.department_name(d)} {n} 件" for d, n in named)
        # Say what is left out: the other units, and cases beyond the list's length.
        rest = data.overdue_total - sum(n for _d, n in named)
        if rest:
            others = len(late) - len(named)
            worst += f"等，另有 {others} 个单位共 {rest} 件" if others else f"等，另有 {rest} 件"
        lines.append(f"截至 {_local(data.at)}，超期未办结 {data.overdue_total} 件：{worst}。")
    else:
        lines.append(f"截至 {_local(data.at)}，无超期未办结工单。")
    ranked = [
        (g.on_time.value, code)
        for code, g in data.by_department.items()
        if code and g.on_time.value is not None
    ]
    if ranked:
        low = sorted(ranked)[:3]
        lines.append(
            "按时办结率较低："
            + "、".join(f"{data.department_name(c)} {v * 100:.2f}%" for v, c in low)
            + "。"
        )
    return "\n".join(lines)
