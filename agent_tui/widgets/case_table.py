"""How a case reads in a table row: one place for queues, caller history and the palette.

Rows come from the seat store: either a server case (``CasePublic`` as JSON) or the body of a
case saved here and not yet confirmed (pending), which has no number or deadline yet.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from agent_tui.domain.case import OPEN_STATUSES, Status
from agent_tui.i18n import N_, t
from agent_tui.widgets.times import local as local  # every time shown goes through it
from agent_tui.widgets.times import parse_time as parse_time

if TYPE_CHECKING:
    from agent_tui.data.reference import ReferenceData

PENDING_NUMBER = N_("（待发送）")


def status_of(body: dict[str, Any]) -> Status:
    try:
        return Status(body.get("status") or Status.REGISTERED)
    except ValueError:
        return Status.REGISTERED


def is_open(body: dict[str, Any]) -> bool:
    return status_of(body) in OPEN_STATUSES


def is_overdue(body: dict[str, Any], now: datetime) -> bool:
    if body.get("overdue"):
        return True
    deadline = parse_time(body.get("handling_deadline"))
    return bool(
        deadline is not None
        and deadline <= now
        and not body.get("replied_at")
        and status_of(body) in OPEN_STATUSES
    )


def number_of(body: dict[str, Any]) -> str:
    return str(body.get("number") or t(PENDING_NUMBER))


def short(text: object, width: int) -> str:
    value = " ".join(str(text or "").split())
    return value if len(value) <= width else value[: width - 1] + "…"


#: Chinese keys: translate with ``t`` when shown.
CASE_COLUMNS = (
    N_("工单号"),
    N_("受理时间"),
    N_("状态"),
    N_("分类"),
    N_("主办单位"),
    N_("办理期限"),
    N_("剩余"),
    N_("来电号码"),
    N_("内容"),
)


def case_cells(
    body: dict[str, Any], pending: bool, ref: ReferenceData, now: datetime
) -> tuple[str, ...]:
    """The cells under ``CASE_COLUMNS`` (plain text: sortable and CJK-measured by Rich)."""
    category = ref.category(str(body.get("category", "")))
    status = t(status_of(body).label) + (t("·待发送") if pending else "")
    if is_overdue(body, now):
        status += t("·超期")
    return (
        number_of(body),
        local(body.get("registered_at")),
        status,
        category.name if category else "",
        ref.department_label(str(body.get("department", ""))),
        local(body.get("handling_deadline")),
        remaining(body, now),
        str(body.get("caller_phone", "")),
        short(body.get("content", ""), 20),
    )


def remaining(body: dict[str, Any], now: datetime) -> str:
    """The deadline that runs now as a countdown (剩 2天5时, 剩 3时20分, 超 1天2时): the sign
    deadline until the department signs, then the handling deadline; empty once answered."""
    field = "sign_deadline" if status_of(body) is Status.DISPATCHED else "handling_deadline"
    deadline = parse_time(body.get(field) or body.get("handling_deadline"))
    if deadline is None or body.get("replied_at") or status_of(body) not in OPEN_STATUSES:
        return ""
    return countdown(int((deadline - now).total_seconds() // 60))


def countdown(minutes: int | None) -> str:
    """Minutes to a deadline as 剩 2天5时 / 剩 3时20分, negative as 超 1天2时; None: ''."""
    if minutes is None:
        return ""
    late, minutes = minutes < 0, abs(minutes)
    days, hours = divmod(minutes // 60, 24)
    span = t("{d}天{h}时", d=days, h=hours) if days else t("{h}时{m}分", h=hours, m=minutes % 60)
    return t("超 {span}", span=span) if late else t("剩 {span}", span=span)
