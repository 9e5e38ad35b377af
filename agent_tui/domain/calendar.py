"""The working-day calendar: which days are working days, and deadlines counted in them.

Sources, in order of precedence:

1. the centre's override table (``YearSchedule``), loaded per year: the centre's correction of,
   or addition to, the library, e.g. the next year's State Council schedule;
2. chinese-calendar (statutory holidays and 调休 make-up workdays, 2004–2026 in v1.11);
3. nothing: ``is_workday`` raises ``OutsideCalendar`` for such a year.

Conventions (every function here follows them):

* All datetimes are timezone-aware; naive ones are rejected with ``ValueError``. Results are
  returned in Asia/Shanghai time.
* A datetime belongs to a *local day*: its date in Asia/Shanghai. Working days are judged on
  local days, whatever zone the datetime was given in.
* "N working days from t" (自…之日起 N 个工作日) counts from the day after t's local day: the
  deadline is the END of the N-th working day strictly after t's local day. The end of a day is
  represented by the exclusive instant 00:00 local of the following day (shown as "24:00"): a
  deadline ``at`` is met by anything done strictly before ``at``. ``due_day(at)`` gives the last
  day a deadline covers.
* Hours and minutes are clock time (the hotline works 24/7), counted on absolute time.
* ``add_working_days`` is strict: it raises ``OutsideCalendar`` when it touches an uncovered
  year. ``deadline_in_working_days`` is lenient, never silently: in an uncovered year it counts
  Monday–Friday as working days and marks the ``Deadline`` provisional; ``recompute`` redoes it
  once the year's table is loaded.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo

import chinese_calendar

from agent_tui.domain.errors import OutsideCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
_ONE_DAY = timedelta(days=1)
_EPSILON = timedelta(microseconds=1)
#: A working-day count never needs to walk further than this; guards against endless loops on a
#: pathological override (a year of holidays).
_MAX_WALK_DAYS = 366 * 5


def require_aware(value: datetime, name: str = "datetime") -> datetime:
    """Return ``value`` if it carries a timezone, else raise a ``ValueError`` saying so."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(
            f"{name} must be timezone-aware (got naive {value.isoformat()}); "
            "attach a zone, e.g. ZoneInfo('Asia/Shanghai')"
        )
    return value


def local_day(value: datetime) -> date:
    """The Asia/Shanghai date of an aware datetime: the day working-day rules judge it by."""
    return require_aware(value).astimezone(SHANGHAI).date()


def start_of_day(day: date) -> datetime:
    """00:00 Asia/Shanghai on ``day``."""
    return datetime.combine(day, time(0), tzinfo=SHANGHAI)


def end_of_day(day: date) -> datetime:
    """The exclusive end of ``day``: 00:00 Asia/Shanghai of the next day (shown as 24:00)."""
    return start_of_day(day + _ONE_DAY)


def due_day(at: datetime) -> date:
    """The last local day a deadline ``at`` covers (``at`` itself is exclusive)."""
    return local_day(require_aware(at) - _EPSILON)


def _days_after(day: date) -> Iterator[date]:
    current = day
    for _ in range(_MAX_WALK_DAYS):
        current += _ONE_DAY
        yield current
    raise RuntimeError(f"no working day within {_MAX_WALK_DAYS} days after {day}")


def _days_before(day: date) -> Iterator[date]:
    current = day
    for _ in range(_MAX_WALK_DAYS):
        current -= _ONE_DAY
        yield current
    raise RuntimeError(f"no working day within {_MAX_WALK_DAYS} days before {day}")


@dataclass(frozen=True, slots=True)
class YearSchedule:
    """One year's official schedule, as the centre loads it.

    ``holidays`` are days off: weekdays that would otherwise be worked, and every statutory
    holiday date (which may fall on a weekend). ``workdays`` are 调休 make-up working days, which
    are always weekend days. A day of ``year`` is a working day iff it is in ``workdays``, or it
    is Monday–Friday and not in ``holidays``. Violations raise ``ValueError`` naming the date.
    """

    year: int
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    published: str = ""  # where the schedule comes from, e.g. 国办发明电〔2026〕x号

    def __post_init__(self) -> None:
        # Accept any iterable of dates from callers; store frozensets so the value is hashable.
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "workdays", frozenset(self.workdays))
        for kind, days in (("holiday", self.holidays), ("workday", self.workdays)):
            for day in sorted(days):
                if type(day) is not date:
                    raise ValueError(f"{self.year}: {kind} {day!r} is not a date")
                if day.year != self.year:
                    raise ValueError(f"{self.year}: {kind} {day.isoformat()} is not in {self.year}")
        clashes = sorted(self.holidays & self.workdays)
        if clashes:
            raise ValueError(
                f"{self.year}: {clashes[0].isoformat()} is both a holiday and a workday"
            )
        for day in sorted(self.workdays):
            if day.weekday() < 5:
                raise ValueError(
                    f"{self.year}: workday {day.isoformat()} is a {day.strftime('%A')}; "
                    "make-up workdays (调休) are weekend days"
                )

    def is_workday(self, day: date) -> bool:
        if day.year != self.year:
            raise ValueError(f"{day.isoformat()} is not in {self.year}")
        return day in self.workdays or (day.weekday() < 5 and day not in self.holidays)


class DeadlineUnit(enum.StrEnum):
    MINUTES = "minutes"
    HOURS = "hours"
    WORKING_DAYS = "working_days"
    #: An absolute instant agreed on (an approved extension); nothing to recompute.
    FIXED = "fixed"

    @property
    def label(self) -> str:
        return {"minutes": "分钟", "hours": "小时", "working_days": "个工作日", "fixed": ""}[
            self.value
        ]


_SPAN_RE = re.compile(r"^\s*(\d+)\s*(min|m|h|wd)\s*$")
_SPAN_SUFFIX = {
    "min": DeadlineUnit.MINUTES,
    "m": DeadlineUnit.MINUTES,
    "h": DeadlineUnit.HOURS,
    "wd": DeadlineUnit.WORKING_DAYS,
}


@dataclass(frozen=True, slots=True)
class Span:
    """A time limit: an amount of minutes, hours or working days."""

    amount: int
    unit: DeadlineUnit

    def __post_init__(self) -> None:
        if self.unit is DeadlineUnit.FIXED:
            raise ValueError("a span is minutes, hours or working days, not fixed")
        if self.amount < 1:
            raise ValueError(f"a span must be at least 1 {self.unit.value} (got {self.amount})")

    @classmethod
    def minutes(cls, amount: int) -> Span:
        return cls(amount, DeadlineUnit.MINUTES)

    @classmethod
    def hours(cls, amount: int) -> Span:
        return cls(amount, DeadlineUnit.HOURS)

    @classmethod
    def working_days(cls, amount: int) -> Span:
        return cls(amount, DeadlineUnit.WORKING_DAYS)

    @classmethod
    def parse(cls, text: str) -> Span:
        """Read a centre's config value: ``"15min"``, ``"2h"`` or ``"5wd"``."""
        match = _SPAN_RE.match(text)
        if match is None:
            raise ValueError(f"not a time limit: {text!r} (write e.g. 15min, 2h or 5wd)")
        return cls(int(match.group(1)), _SPAN_SUFFIX[match.group(2)])

    @property
    def label(self) -> str:
        """Chinese, e.g. "5 个工作日"."""
        return f"{self.amount} {self.unit.label}"

    def __str__(self) -> str:
        suffix = {"minutes": "min", "hours": "h", "working_days": "wd"}[self.unit.value]
        return f"{self.amount}{suffix}"


@dataclass(frozen=True, slots=True)
class Deadline:
    """A deadline and what it was computed from, so it can be recomputed.

    ``at`` is exclusive: the deadline is met by anything done strictly before it. ``provisional``
    means part of the span lies in a year with no holiday table, counted on weekends alone. For a
    ``FIXED`` deadline (an approved extension) ``start`` is the deadline it replaced and
    ``amount`` is 0.
    """

    at: datetime
    start: datetime
    amount: int
    unit: DeadlineUnit
    provisional: bool = False

    def __post_init__(self) -> None:
        require_aware(self.at, "Deadline.at")
        require_aware(self.start, "Deadline.start")
        object.__setattr__(self, "unit", DeadlineUnit(self.unit))

    @property
    def span(self) -> Span | None:
        """The limit this deadline was counted with, or ``None`` for a fixed one."""
        return None if self.unit is DeadlineUnit.FIXED else Span(self.amount, self.unit)

    @property
    def due_day(self) -> date:
        return due_day(self.at)

    def is_met_by(self, when: datetime) -> bool:
        return require_aware(when) < self.at

    def is_overdue(self, now: datetime) -> bool:
        return require_aware(now) >= self.at


def _clock_deadline(start: datetime, delta: timedelta, amount: int, unit: DeadlineUnit) -> Deadline:
    require_aware(start, "start")
    # Add on UTC: adding a timedelta to an aware datetime is wall-clock arithmetic, which would
    # be off by an hour across a DST change when the caller's zone has one.
    at = (start.astimezone(UTC) + delta).astimezone(SHANGHAI)
    return Deadline(at=at, start=start, amount=amount, unit=unit)


def deadline_in_hours(start: datetime, hours: int) -> Deadline:
    """``hours`` clock hours after ``start``; never provisional."""
    return _clock_deadline(start, timedelta(hours=hours), hours, DeadlineUnit.HOURS)


def deadline_in_minutes(start: datetime, minutes: int) -> Deadline:
    """``minutes`` clock minutes after ``start``; never provisional."""
    return _clock_deadline(start, timedelta(minutes=minutes), minutes, DeadlineUnit.MINUTES)


@functools.lru_cache(maxsize=4096)
def _library_covers(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


@functools.lru_cache(maxsize=16384)
def _library_is_workday(day: date) -> bool:
    # Cached: the library recomputes its year range on every call, and deadline walks,
    # property tests and the supervision sweep ask for the same days over and over.
    return bool(chinese_calendar.is_workday(day))


class WorkCalendar:
    """Working days from the centre's overrides, then chinese-calendar. Immutable."""

    def __init__(self, overrides: Iterable[YearSchedule] = ()) -> None:
        schedules: dict[int, YearSchedule] = {}
        for schedule in overrides:
            if schedule.year in schedules:
                raise ValueError(f"two override schedules for {schedule.year}")
            schedules[schedule.year] = schedule
        self._overrides = MappingProxyType(schedules)

    def __repr__(self) -> str:
        return f"WorkCalendar(overrides={sorted(self._overrides)})"

    @property
    def overrides(self) -> MappingProxyType[int, YearSchedule]:
        return self._overrides

    def with_schedule(self, schedule: YearSchedule) -> WorkCalendar:
        """A new calendar with ``schedule`` loaded; it replaces an earlier one for that year."""
        merged = dict(self._overrides)
        merged[schedule.year] = schedule
        return WorkCalendar(merged.values())

    def covers(self, year: int) -> bool:
        return year in self._overrides or _library_covers(year)

    def is_workday(self, day: date) -> bool:
        """Whether ``day`` is a working day; ``OutsideCalendar`` if no source covers its year."""
        if isinstance(day, datetime):
            # A datetime is a date subclass: judge it on its Shanghai day, not its own date.
            day = local_day(day)
        schedule = self._overrides.get(day.year)
        if schedule is not None:
            return schedule.is_workday(day)
        if _library_covers(day.year):
            return _library_is_workday(day)
        raise OutsideCalendar(day.year)

    def is_workday_lenient(self, day: date) -> tuple[bool, bool]:
        """(is a working day, guessed): Monday–Friday where no source covers the year."""
        if self.covers(day.year):
            return self.is_workday(day), False
        return day.weekday() < 5, True

    def next_workday(self, day: date) -> date:
        """The first working day strictly after ``day`` (strict)."""
        return next(d for d in _days_after(day) if self.is_workday(d))

    def previous_workday(self, day: date) -> date:
        """The last working day strictly before ``day`` (strict)."""
        return next(d for d in _days_before(day) if self.is_workday(d))

    def nth_workday_after(self, day: date, n: int, *, strict: bool = True) -> tuple[date, bool]:
        """The ``n``-th working day strictly after ``day``, and whether any day was guessed.

        ``strict`` raises ``OutsideCalendar`` on an uncovered year instead of guessing.
        """
        if n < 1:
            raise ValueError(f"n must be at least 1 (got {n})")
        guessed = False
        found = 0
        for current in _days_after(day):
            if strict:
                workday = self.is_workday(current)
            else:
                workday, guess = self.is_workday_lenient(current)
                guessed = guessed or guess
            if workday:
                found += 1
                if found == n:
                    return current, guessed
        raise AssertionError("unreachable: _days_after raises first")  # pragma: no cover

    def nth_workday_before(self, day: date, n: int) -> tuple[date, bool]:
        """The ``n``-th working day strictly before ``day`` (lenient), and whether guessed."""
        if n < 1:
            raise ValueError(f"n must be at least 1 (got {n})")
        guessed = False
        found = 0
        for current in _days_before(day):
            workday, guess = self.is_workday_lenient(current)
            guessed = guessed or guess
            if workday:
                found += 1
                if found == n:
                    return current, guessed
        raise AssertionError("unreachable: _days_before raises first")  # pragma: no cover

    def add_working_days(self, start: datetime, n: int) -> datetime:
        """The end (exclusive 00:00 local of the next day) of the ``n``-th working day after
        ``start``'s local day. Strict: raises ``OutsideCalendar`` on an uncovered year."""
        last, _ = self.nth_workday_after(local_day(start), n, strict=True)
        return end_of_day(last)

    def working_days_between(self, a: date, b: date) -> int:
        """Working days ``d`` with ``a < d <= b``; negative (the same count) when ``b < a``.

        Consistent with ``add_working_days``: for ``at = add_working_days(t, n)``,
        ``working_days_between(local_day(t), due_day(at)) == n``. Strict.
        """
        count, _ = self._count_between(a, b, strict=True)
        return count

    def working_days_between_lenient(self, a: date, b: date) -> tuple[int, bool]:
        """Like ``working_days_between``, counting Monday–Friday in uncovered years; the flag
        says whether any day was guessed (the UI then shows the count as approximate)."""
        return self._count_between(a, b, strict=False)

    def _count_between(self, a: date, b: date, *, strict: bool) -> tuple[int, bool]:
        if b < a:
            count, guessed = self._count_between(b, a, strict=strict)
            return -count, guessed
        count, guessed = 0, False
        current = a
        while current < b:
            current += _ONE_DAY
            if strict:
                workday = self.is_workday(current)
            else:
                workday, guess = self.is_workday_lenient(current)
                guessed = guessed or guess
            count += workday
        return count, guessed

    def deadline_in_working_days(self, start: datetime, n: int) -> Deadline:
        """Like ``add_working_days``, but a span reaching an uncovered year is counted on
        Monday–Friday and the result marked provisional instead of raising."""
        last, guessed = self.nth_workday_after(local_day(start), n, strict=False)
        return Deadline(
            at=end_of_day(last),
            start=start,
            amount=n,
            unit=DeadlineUnit.WORKING_DAYS,
            provisional=guessed,
        )

    def deadline(self, start: datetime, span: Span) -> Deadline:
        """``span`` after ``start``, whatever its unit."""
        if span.unit is DeadlineUnit.WORKING_DAYS:
            return self.deadline_in_working_days(start, span.amount)
        if span.unit is DeadlineUnit.HOURS:
            return deadline_in_hours(start, span.amount)
        return deadline_in_minutes(start, span.amount)

    def missing_years(self, first: date, last: date) -> list[int]:
        """Years from ``first`` to ``last`` that no source covers (for "暂定" notes)."""
        return [y for y in range(first.year, last.year + 1) if not self.covers(y)]


def recompute(deadline: Deadline, calendar: WorkCalendar) -> Deadline:
    """The deadline counted again on ``calendar`` (e.g. once a year's table is loaded).

    A provisional deadline may move and lose its flag; clock-time and fixed deadlines come back
    unchanged.
    """
    if deadline.unit is not DeadlineUnit.WORKING_DAYS:
        return deadline
    return calendar.deadline_in_working_days(deadline.start, deadline.amount)


__all__ = [
    "SHANGHAI",
    "Deadline",
    "DeadlineUnit",
    "Span",
    "WorkCalendar",
    "YearSchedule",
    "deadline_in_hours",
    "deadline_in_minutes",
    "due_day",
    "end_of_day",
    "local_day",
    "recompute",
    "require_aware",
    "start_of_day",
]
