"""The co-departments' opinions (协办意见) as text: those received and those still missing.

The case screen shows them to everyone who sees the case (review reads them beside the reply),
and the lead department's reply form shows them above the reply. Whether a missing one is late
is the domain's rule (``rules.co_opinion_overdue``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from agent_tui.client.model import CaseView
from agent_tui.domain.rules import co_opinion_overdue, short_deadline
from agent_tui.i18n import t
from agent_tui.widgets.times import display_zone, local


def co_opinion_lines(case: CaseView, label_of: Callable[[str], str], now: datetime) -> list[str]:
    """One line per co-department: its opinion (who, phone, when: text), or ``未提交`` with
    the due time (``已超期`` once late). Empty when the case has no co-departments."""
    lines = []
    for o in case.co_opinions:
        who = o.officer + (f" {o.phone}" if o.phone else "")
        lines.append(
            t(
                "{department}（{who}，{at}）：{text}",
                department=label_of(o.department),
                who=who,
                at=local(o.at) if o.at else "",
                text=o.text,
            )
        )
    for m in case.co_missing:
        due = short_deadline(m.due, display_zone()) if m.due else ""
        late = co_opinion_overdue(case.status, m.due, True, now)
        lines.append(
            t("{department}：未提交，已超期（{due}）", department=label_of(m.department), due=due)
            if late
            else t("{department}：未提交（{due} 前）", department=label_of(m.department), due=due)
            if due
            else t("{department}：未提交", department=label_of(m.department))
        )
    return lines
