"""Queues (工单队列) as rules: which cases a queue holds and in which order.

One definition serves both halves: the seat projects its cache through ``holds`` (so a queue
works offline and every change in the feed moves a case into or out of it at once), and the
seat asks the central store for the same queue with ``server_query``. The central store scopes
every answer to what the user may see (a department its own cases, a county its platform).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any, Protocol

from agent_tui.domain.calendar import SHANGHAI
from agent_tui.domain.case import OPEN_STATUSES, WITH_DEPARTMENT_STATUSES, Role, Status
from agent_tui.domain.rules import (
    co_opinion_overdue,
    is_overdue,
    running_deadline,
    start_of_local_day,
)


class QueueFacts(Protocol):
    """What a queue looks at (a server case and a case saved here alike)."""

    @property
    def status(self) -> Status: ...
    @property
    def agent(self) -> str: ...
    @property
    def registered_at(self) -> datetime: ...
    @property
    def updated_at(self) -> datetime: ...
    @property
    def sign_deadline(self) -> datetime | None: ...
    @property
    def handling_deadline(self) -> datetime | None: ...
    @property
    def replied_at(self) -> datetime | None: ...
    @property
    def number(self) -> str: ...
    @property
    def uuid(self) -> str: ...


class Order:
    NEWEST = "newest"  # registered, newest first
    DEADLINE = "deadline"  # handling deadline, soonest first
    OLDEST = "oldest"  # least recently touched first (回访: the longest waiting first)


@dataclass(frozen=True, slots=True)
class QueueDef:
    key: str
    statuses: tuple[Status, ...] = ()
    order: str = Order.NEWEST
    #: This user's cases registered today (the seat's own pending ones too).
    mine_today: bool = False
    #: Not cases: the seat's unsaved drafts.
    drafts: bool = False
    overdue: bool = False
    #: Open cases due before now + this (the supervision queue: near and past the deadline).
    due_within: timedelta | None = None
    #: Cases the caller urged (催办) come first, then the queue's order (the department desk).
    urged_first: bool = False
    #: The department desk: only the cases the user's department assists (协办, True) or only
    #: those it leads (主办, False); None: both (every other role).
    co: bool | None = None

    def holds(
        self,
        case: QueueFacts,
        user_id: str,
        now: datetime,
        tz: tzinfo = SHANGHAI,
        department: str = "",
    ) -> bool:
        """Whether ``case`` belongs in this queue for ``user_id`` (of ``department``, a
        department user) at ``now``."""
        if self.drafts:
            return False
        if (
            self.co is not None
            and department
            and (department in getattr(case, "co_departments", ())) is not self.co
        ):
            return False
        if self.mine_today:
            return case.agent == user_id and case.registered_at >= start_of_local_day(now, tz)
        if self.statuses and case.status not in self.statuses:
            return False
        if self.overdue and not is_overdue(
            case.status, case.handling_deadline, case.replied_at, now
        ):
            return False
        if self.due_within is not None:
            deadline = case.handling_deadline
            if deadline is None or deadline >= now + self.due_within:
                return False
        return True

    def sort(self, cases: Sequence[Any], department: str = "") -> list[Any]:
        """``cases`` (QueueFacts) in the queue's order. By deadline: the deadline running now
        (the sign deadline of a case waiting to be signed), soonest first, then the earliest
        registered; oldest: the least recently touched first; newest: registered, newest
        first. The number (then the uuid) settles ties, so every view orders alike. With
        ``urged_first`` the urged cases (催办) come before the others, each part in that order."""
        ordered = self._sort(cases, department)
        if self.urged_first:  # a stable sort keeps each part in the queue's order
            ordered.sort(key=lambda c: not getattr(c, "urges", 0))
        return ordered

    def _sort(self, cases: Sequence[Any], department: str) -> list[Any]:
        if self.co:
            # The 协办 queue: the opinions still owed, soonest due first, then those given.
            far = datetime.max.replace(tzinfo=SHANGHAI)

            def owed(c: Any) -> tuple[bool, datetime, datetime, str, str]:
                due = co_due(c, department)
                return (due is None, due or far, c.registered_at, c.number, c.uuid)

            return sorted(cases, key=owed)
        if self.order == Order.DEADLINE:
            far = datetime.max.replace(tzinfo=SHANGHAI)

            def due(c: Any) -> tuple[datetime, datetime, str, str]:
                running = running_deadline(
                    c.status, c.sign_deadline, c.handling_deadline, c.replied_at
                )
                at = running.at if running else c.handling_deadline or far
                return (at, c.registered_at, c.number, c.uuid)

            return sorted(cases, key=due)
        if self.order == Order.OLDEST:
            return sorted(cases, key=lambda c: (c.updated_at, c.number, c.uuid))
        return sorted(cases, key=lambda c: (c.registered_at, c.number, c.uuid), reverse=True)

    def server_query(self, user_id: str, now: datetime) -> dict[str, Any]:
        """The same queue as the central store's ``GET /api/cases`` parameters."""
        if self.mine_today:  # newest first: the first page reaches back past today
            return {"agent": user_id}
        query: dict[str, Any] = {}
        if self.co is not None:
            query["co"] = "true" if self.co else "false"
        if self.overdue:
            query["overdue"] = "true"
        if self.statuses:
            query["status"] = [str(s) for s in self.statuses]
        if self.due_within is not None:
            query["due_before"] = (now + self.due_within).isoformat()
        if self.order == Order.DEADLINE:
            query["order"] = "deadline"
        return query


#: Dispatched and still with the department (what the 已派单 queue shows).
WITH_DEPARTMENT = (
    Status.DISPATCHED,
    Status.IN_PROGRESS,
    Status.EXTENSION_REQUESTED,
    Status.RETURN_REQUESTED,
)
OPEN = tuple(sorted(OPEN_STATUSES, key=str))

MINE = QueueDef("mine", mine_today=True)
DRAFTS = QueueDef("drafts", drafts=True)
WAITING = QueueDef("waiting", (Status.REGISTERED, Status.RETURNED))
DISPATCHED = QueueDef("dispatched", WITH_DEPARTMENT, order=Order.DEADLINE)
REVIEW = QueueDef(
    "review",
    (Status.REPLIED, Status.RETURN_REQUESTED, Status.EXTENSION_REQUESTED),
    order=Order.OLDEST,
)
CALLBACKS = QueueDef("callbacks", (Status.CALLBACK_PENDING, Status.CALLED_BACK), order=Order.OLDEST)
OVERDUE = QueueDef("overdue", OPEN, order=Order.DEADLINE, overdue=True)
SUPERVISION = QueueDef("supervision", OPEN, order=Order.DEADLINE, due_within=timedelta(hours=24))
# The department desk (承办单位): the central store scopes every query to its department.
# Urged cases (催办: the caller rang again) first, then by deadline. The cases it leads (主办)
# in the first five; those it assists (协办) in their own queue, where its opinion is asked.
INCOMING = QueueDef(
    "incoming", (Status.DISPATCHED,), order=Order.DEADLINE, urged_first=True, co=False
)
HANDLING = QueueDef(
    "handling", (Status.IN_PROGRESS,), order=Order.DEADLINE, urged_first=True, co=False
)
REQUESTED = QueueDef(
    "requested",
    (Status.RETURN_REQUESTED, Status.EXTENSION_REQUESTED),
    order=Order.DEADLINE,
    urged_first=True,
    co=False,
)
DEPT_OVERDUE = QueueDef("overdue", OPEN, order=Order.DEADLINE, overdue=True, co=False)
ANSWERED = QueueDef(
    "answered", (Status.REPLIED, Status.CALLBACK_PENDING, Status.CALLED_BACK), co=False
)
#: 协办: the cases this department assists while the lead department holds them; its opinion
#: (协办意见) owed first, by when it is due (overdue ones marked), then those it gave.
ASSISTING = QueueDef(
    "assisting", tuple(sorted(WITH_DEPARTMENT_STATUSES, key=str)), order=Order.DEADLINE, co=True
)

#: The queues each role works, in tab order.
QUEUE_SETS: dict[Role, tuple[QueueDef, ...]] = {
    Role.AGENT: (MINE, DRAFTS, WAITING, DISPATCHED, REVIEW, CALLBACKS, OVERDUE),
    Role.LEAD: (MINE, DRAFTS, WAITING, DISPATCHED, REVIEW, CALLBACKS, OVERDUE, SUPERVISION),
    Role.DEPARTMENT: (INCOMING, HANDLING, REQUESTED, DEPT_OVERDUE, ANSWERED, ASSISTING),
    # A leader at a seat (领导接听): the intake queues; the centre reviews and calls back.
    Role.LEADER: (MINE, DRAFTS, WAITING, DISPATCHED, OVERDUE),
    Role.ADMIN: (WAITING, DISPATCHED, OVERDUE),
}


def co_due(case: Any, department: str = "") -> datetime | None:
    """When the opinion (协办意见) ``case`` still owes is due: ``department``'s, or any
    co-department's ("" ); None when none is owed (a case saved here has none)."""
    for missing in getattr(case, "co_missing", ()):
        if not department or missing.department == department:
            return missing.due
    return None


def co_late(case: Any, now: datetime, department: str = "") -> bool:
    """The opinion ``case`` owes (``department``'s, or anyone's) is overdue at ``now``."""
    for missing in getattr(case, "co_missing", ()):
        mine = not department or missing.department == department
        if mine and co_opinion_overdue(case.status, missing.due, True, now):
            return True
    return False
