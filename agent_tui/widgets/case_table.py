"""How a case reads in a table row: one place for queues, caller history and the palette.

Rows come from the seat as typed cases (``CachedCase``): the central store's, or one saved here
and not yet confirmed (pending), which has no deadline yet and a number only if this seat gave
it one at save (``（待发送）`` otherwise). The rules (overdue, which deadline runs, how a deadline
reads) are the domain's (``domain.rules``); this module only says
them in cells.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from agent_tui.client.model import CachedCase, CaseView
from agent_tui.domain.queues import co_due, co_late
from agent_tui.domain.rules import Clock, RunningDeadline, short_deadline
from agent_tui.i18n import N_, t
from agent_tui.widgets.times import display_zone
from agent_tui.widgets.times import local as local  # every time shown goes through it
from agent_tui.widgets.times import parse_time as parse_time

if TYPE_CHECKING:
    from agent_tui.data.reference import ReferenceData

PENDING_NUMBER = N_("（待发送）")
#: Before a leader-assigned case's status in every list (领导交办, ``domain.leader``).
LEADER_MARK = N_("【领导交办】")
#: Table cells cannot take a class: the leader rows' status cell gets this style (app.tcss
#: styles the case screen's marker and the leader seat's bar alike: magenta).
LEADER_STYLE = "bold magenta"


def leader_mark(case: object) -> str:
    """``【领导交办】`` for a leader-assigned case, else ''."""
    return t(LEADER_MARK) if getattr(case, "leader_assigned", False) else ""


def number_of(case: CaseView) -> str:
    return case.number or t(PENDING_NUMBER)


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
    N_("时限"),
    N_("来电号码"),
    N_("内容"),
)


def status_text(cached: CachedCase, now: datetime) -> str:
    """``【领导交办】办理中·催办2·待发送·超期``: leader-assigned or not, the status, how often
    the caller urged it (催办), whether this seat's command on it is unconfirmed, and whether it
    is overdue (the domain's rule)."""
    text = leader_mark(cached.case) + t(cached.case.status.label)
    if cached.case.urges:
        text += t("·催办{count}", count=cached.case.urges)
    if cached.pending:
        text += t("·待发送")
    if cached.overdue(now):
        text += t("·超期")
    if co_late(cached.case, now):
        text += t("·协办超期")
    return text


def case_cells(
    cached: CachedCase,
    ref: ReferenceData,
    now: datetime,
    tz: tzinfo | None = None,
    co_department: str = "",
) -> tuple[str, ...]:
    """The cells under ``CASE_COLUMNS`` (plain text: sortable and CJK-measured by Rich). With
    ``co_department`` (the 协办 queue) the 时限 cell counts down to that department's opinion."""
    tz = tz or display_zone()
    c = cached.case
    running = (
        co_running_text(c, co_department, now)
        if co_department
        else running_text(cached.running(), now)
    )
    category = ref.category(c.category)
    return (
        number_of(c),
        local(c.registered_at),
        status_text(cached, now),
        category.name if category else "",
        ref.department_label(c.department),
        short_deadline(c.handling_deadline, tz),
        running,
        c.caller_phone,
        short(c.content, 20),
    )


#: What a countdown is counting to, said before it (签收 剩 25分 / 答复 超 1天2时).
CLOCK_LABELS = {Clock.SIGN: N_("签收"), Clock.HANDLING: N_("答复")}


def running_text(running: RunningDeadline | None, now: datetime) -> str:
    """The deadline that runs now, labelled: ``签收 剩 25分``, ``答复 剩 2天5时``; ''."""
    if running is None:
        return ""
    return f"{t(CLOCK_LABELS[running.clock])} {countdown(running.minutes_left(now))}"


def co_running_text(case: CaseView, department: str, now: datetime) -> str:
    """``协办 剩 1天5时`` / ``协办 超 3时`` until ``department``'s opinion (协办意见) is in,
    then ``协办已复``; '' when it is not a co-department of the case."""
    due = co_due(case, department)
    if due is not None:
        return f"{t('协办')} {countdown(int((due - now).total_seconds() // 60))}"
    return t("协办已复") if department in case.co_departments else ""


def countdown(minutes: int | None) -> str:
    """Minutes to a deadline as 剩 2天5时 / 剩 3时20分, negative as 超 1天2时; None: ''."""
    if minutes is None:
        return ""
    late, minutes = minutes < 0, abs(minutes)
    days, hours = divmod(minutes // 60, 24)
    span = t("{d}天{h}时", d=days, h=hours) if days else t("{h}时{m}分", h=hours, m=minutes % 60)
    return t("超 {span}", span=span) if late else t("剩 {span}", span=span)
