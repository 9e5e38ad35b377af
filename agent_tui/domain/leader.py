"""Leader on the line (领导接听): the cases a city leader takes at a seat.

Once a month a city leader answers calls in the hall. Every case the leader registers or
dispatches is leader-assigned (领导交办): it is put under supervision (督办) at once, in the same
step, and keeps its marker for ever ("leader-assigned and hot issues are supervised from the
start", docs/domain.md). Who is a leader is the account's role (``Role.LEADER``): the store
decides from the token, never from the request, so no seat can mark a case by sending a field.

``tally`` counts a period's leader cases for the board and the reports (受理 / 办结 / 超期).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from agent_tui.domain.case import OPEN_STATUSES, Role, Status, SupervisionLevel
from agent_tui.domain.rules import is_overdue

#: The marker every view shows before a leader-assigned case (and the reason in its audit log).
LEADER_MARK = "领导交办"
#: The supervision a leader-assigned case gets the moment it is marked.
LEADER_SUPERVISION = SupervisionLevel.SUPERVISED


def marks_leader_case(role: Role) -> bool:
    """Whether a case registered or dispatched by ``role`` becomes leader-assigned."""
    return role is Role.LEADER


class LeaderFacts(Protocol):
    """What the tally looks at (a server row and a wire case alike)."""

    @property
    def status(self) -> Status | str: ...
    @property
    def handling_deadline(self) -> datetime | None: ...
    @property
    def replied_at(self) -> datetime | None: ...


@dataclass(frozen=True, slots=True)
class LeaderTally:
    """A period's leader-assigned cases: registered (受理), done (办结: the department has
    answered and the centre passed it, or it was closed on the call), still open (在办) and,
    of those, overdue now (超期: the domain's ``is_overdue``)."""

    registered: int = 0
    done: int = 0
    open: int = 0
    overdue: int = 0


def is_done(status: Status) -> bool:
    """办结 for a leader case: out of the open states (replied and reviewed, answered on the
    call, referred elsewhere, archived). A reply still under review is not done yet."""
    return status not in OPEN_STATUSES


def tally(cases: Iterable[LeaderFacts], now: datetime) -> LeaderTally:
    """Count leader-assigned cases (the caller selects them: a period's, leader-assigned)."""
    registered = done = still_open = overdue = 0
    for case in cases:
        status = Status(case.status)
        registered += 1
        if is_done(status):
            done += 1
            continue
        still_open += 1
        if is_overdue(status, case.handling_deadline, case.replied_at, now):
            overdue += 1
    return LeaderTally(registered, done, still_open, overdue)
