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
from agent_tui.domain.case import OPEN_STATUSES, Role, Status
from agent_tui.domain.rules import is_overdue, running_deadline, start_of_local_day


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

    def holds(self, case: QueueFacts, user_id: str, now: datetime, tz: tzinfo = SHANGHAI) -> bool:
        """Whether ``case`` belongs in this queue for ``user_id`` at ``now``."""
        if self.drafts:
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

    def sort(self, cases: Sequence[Any]) -> list[Any]:
        """``cases`` (QueueFacts) in the queue's order. By deadline: the deadline running now
        (the sign deadline of a case waiting to be signed), soonest first, then the earliest
        registered; oldest: the least recently touched first; newest: registered, newest
        first. The number (then the uuid) settles ties, so every view orders alike. With
        ``urged_first`` the urged cases (催办) come before the others, each part in that order."""
        ordered = self._sort(cases)
        if self.urged_first:  # a stable sort keeps each part in the queue's order
            ordered.sort(key=lambda c: not getattr(c, "urges", 0))
        return ordered

    def _sort(self, cases: Sequence[Any]) -> list[Any]:
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
# Urged cases (催办: the caller rang again) first, then by deadline.
INCOMING = QueueDef("incoming", (Status.DISPATCHED,), order=Order.DEADLINE, urged_first=True)
HANDLING = QueueDef("handling", (Status.IN_PROGRESS,), order=Order.DEADLINE, urged_first=True)
REQUESTED = QueueDef(
    "requested",
    (Status.RETURN_REQUESTED, Status.EXTENSION_REQUESTED),
    order=Order.DEADLINE,
    urged_first=True,
)
ANSWERED = QueueDef("answered", (Status.REPLIED, Status.CALLBACK_PENDING, Status.CALLED_BACK))

#: The queues each role works, in tab order.
QUEUE_SETS: dict[Role, tuple[QueueDef, ...]] = {
    Role.AGENT: (MINE, DRAFTS, WAITING, DISPATCHED, REVIEW, CALLBACKS, OVERDUE),
    Role.LEAD: (MINE, DRAFTS, WAITING, DISPATCHED, REVIEW, CALLBACKS, OVERDUE, SUPERVISION),
    Role.DEPARTMENT: (INCOMING, HANDLING, REQUESTED, OVERDUE, ANSWERED),
    # A leader at a seat (领导接听): the intake queues; the centre reviews and calls back.
    Role.LEADER: (MINE, DRAFTS, WAITING, DISPATCHED, OVERDUE),
    Role.ADMIN: (WAITING, DISPATCHED, OVERDUE),
}
