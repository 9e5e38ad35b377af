"""The rules every view of a case applies, one function each: is it open, is it overdue, which
deadline runs now and how long is left, and how a deadline reads.

The server (``overdue`` in its answers, the overdue queue's SQL) and the seat (queues, the
board, the case screen) use these same functions, so a case cannot be overdue in one view and
on time in another. A deadline is an exclusive instant: the case is overdue from that instant
on (``now >= deadline``), and an end-of-day deadline (00:00 of the next day) reads as 24:00 of
the day it closes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from agent_tui.domain.calendar import SHANGHAI
from agent_tui.domain.case import OPEN_STATUSES, WITH_DEPARTMENT_STATUSES, Status

#: Where a case ends: archived, refused (referred elsewhere) or answered on the call. (A case
#: answered on the call may still be sampled for a callback; it is finished for the caller.)
FINISHED_STATUSES = frozenset({Status.ARCHIVED, Status.REFUSED, Status.RESOLVED})


def is_open(status: Status) -> bool:
    """Still being worked on: supervision may act on it, its deadlines run."""
    return status in OPEN_STATUSES


def is_finished(status: Status) -> bool:
    """Done for the caller (the repeat-caller warning's 未办结 counts the others: a case waiting
    for its callback is not open any more, but it is not finished either)."""
    return status in FINISHED_STATUSES


def is_overdue(
    status: Status, handling_deadline: datetime | None, replied_at: datetime | None, now: datetime
) -> bool:
    """Past its handling deadline without a reply while still open."""
    return (
        status in OPEN_STATUSES
        and handling_deadline is not None
        and replied_at is None
        and now >= handling_deadline
    )


def co_opinion_overdue(
    status: Status, co_opinion_deadline: datetime | None, missing: bool, now: datetime
) -> bool:
    """A co-department's opinion (协办意见) that is ``missing`` is overdue from its deadline
    on, while the lead department still holds the case (the step can still be taken); once
    the lead replies the opinion is moot, not late for ever."""
    return (
        missing
        and status in WITH_DEPARTMENT_STATUSES
        and co_opinion_deadline is not None
        and now >= co_opinion_deadline
    )


class Clock(enum.StrEnum):
    """Which of a case's deadlines is running now."""

    SIGN = "sign"  # dispatched, waiting for the department to sign
    HANDLING = "handling"  # signed (or later): until the reply


@dataclass(frozen=True, slots=True)
class RunningDeadline:
    clock: Clock
    at: datetime

    def minutes_left(self, now: datetime) -> int:
        """Whole minutes to the deadline (negative once past it), rounded down."""
        return int((self.at - now).total_seconds() // 60)


def running_deadline(
    status: Status,
    sign_deadline: datetime | None,
    handling_deadline: datetime | None,
    replied_at: datetime | None,
) -> RunningDeadline | None:
    """The deadline a countdown shows: the sign deadline while the case waits to be signed,
    then the handling deadline; none once replied or closed."""
    if status not in OPEN_STATUSES or replied_at is not None:
        return None
    if status is Status.DISPATCHED and sign_deadline is not None:
        return RunningDeadline(Clock.SIGN, sign_deadline)
    if handling_deadline is not None:
        return RunningDeadline(Clock.HANDLING, handling_deadline)
    return None


def deadline_day(at: datetime, tz: tzinfo = SHANGHAI) -> tuple[date, str]:
    """The day a deadline closes and its clock: an exclusive 00:00 end is 24:00 of the day
    before (``12-12 00:00`` reads ``12-11 24:00``)."""
    local = at.astimezone(tz)
    if local.hour == 0 and local.minute == 0 and local.second == 0 and local.microsecond == 0:
        return (local - timedelta(days=1)).date(), "24:00"
    return local.date(), local.strftime("%H:%M")


def short_deadline(at: datetime | None, tz: tzinfo = SHANGHAI) -> str:
    """A deadline in a table cell: ``12-11 24:00``, ``12-11 17:30``; '' when there is none."""
    if at is None:
        return ""
    day, clock = deadline_day(at, tz)
    return f"{day:%m-%d} {clock}"


def start_of_local_day(now: datetime, tz: tzinfo = SHANGHAI) -> datetime:
    """00:00 of ``now``'s day in ``tz``: where "today" begins for a queue or a report."""
    return now.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
