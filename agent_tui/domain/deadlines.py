"""A case's deadlines: dispatch, sign, handling, return, extension and supervision times.

Time conventions (aware datetimes, Asia/Shanghai local days, working-day deadlines ending at the
exclusive 00:00 after their last day, provisional spans) are those of ``domain.calendar``.

Urgency × deadline class
    Each category has a deadline class; urgency can only make a case *faster*, never slower.
    一般 (NORMAL) keeps the category's class; 紧急 (URGENT) is handled at least as 水电气热
    (UTILITIES); 特急 (CRITICAL, life-threatening) is always EMERGENCY. The effective class is
    the faster of the two (order: emergency, utilities, inquiry, normal, complex), and it picks
    one row of the policy for all three limits (wd = working days):

    ========== ======== ======= =========
    class      dispatch sign    handling
    ========== ======== ======= =========
    emergency  1 h      15 min  2 h
    utilities  2 h      30 min  24 h
    inquiry    24 h     1 wd    3 wd
    normal     24 h     1 wd    5 wd
    complex    24 h     1 wd    15 wd
    ========== ======== ======= =========

    So a 紧急 complaint about a blocked drain gets 2 h / 30 min / 24 h, and a 特急 gas leak
    1 h / 15 min / 2 h, whatever its category says.

Handling clock
    ``dispatch_deadlines`` counts the handling deadline from dispatch, the figure shown when
    the case goes out. The domain starts the handling clock at signing: when the department
    signs, replace it with ``handling_deadline(signed_at, ...)``. The return window (2 working
    days after dispatch) never outlasts the handling deadline: a department cannot hand an
    emergency back after it was due.

Co-departments' opinions (协办意见)
    Due ``co_opinion_window`` (2 working days) after dispatch, capped at the handling
    deadline (``co_opinion_by``). An extension of the lead's deadline does not move them.

Extensions
    An approved extension (延期) moves the deadline to exactly the requested instant, at most
    ``max_extension_working_days`` (10) working days after the current deadline's last day. The
    result is a ``FIXED`` deadline: an agreed instant, not recounted when a year is loaded.

Supervision times (what ``supervision_due`` reports)
    * reminder (催办): for a working-day deadline, at 00:00 of the first of its last
      ``reminder_working_days`` working days (default: the start of the last one); for a clock-time
      or fixed deadline, when ``reminder_fraction`` of the span is left (default: the last 25%,
      e.g. 30 min before a 2 h limit). Never before the span's start.
    * notice (督办通报): 00:00 of the first working day after the deadline's last day.
    * public notice (公开通报): 00:00 of the ``public_notice_working_days``-th (default 5th)
      working day after the deadline's last day.
    Lateness counts the working day in progress, as ``describe`` does: on the first working day
    after the deadline a case is "已超期 1 个工作日" and noticed, on the fifth "已超期 5 个工作日"
    and publicly noticed.
    Past the calendar's end these count Monday–Friday, like provisional deadlines; they are
    computed when asked, never stored, so loading a year's table corrects them at once.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from agent_tui.domain.calendar import (
    SHANGHAI,
    Deadline,
    DeadlineUnit,
    Span,
    WorkCalendar,
    end_of_day,
    local_day,
    recompute,
    require_aware,
    start_of_day,
)
from agent_tui.domain.case import DeadlineClass, SupervisionLevel, Urgency
from agent_tui.domain.errors import DomainError

#: Fastest first: the effective class of a case is the earliest of its class and urgency floor.
_CLASS_ORDER = (
    DeadlineClass.EMERGENCY,
    DeadlineClass.UTILITIES,
    DeadlineClass.INQUIRY,
    DeadlineClass.NORMAL,
    DeadlineClass.COMPLEX,
)
_URGENCY_FLOOR = {
    Urgency.NORMAL: DeadlineClass.COMPLEX,  # no floor: the slowest class changes nothing
    Urgency.URGENT: DeadlineClass.UTILITIES,
    Urgency.CRITICAL: DeadlineClass.EMERGENCY,
}
_WEEKDAYS = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")


class ExtensionRefused(DomainError):
    """An extension request the rules do not allow (not later, or too long)."""

    code = "extension_refused"


def effective_class(deadline_class: DeadlineClass, urgency: Urgency) -> DeadlineClass:
    """The class whose limits apply: the faster of the category's class and urgency's floor."""
    floor = _URGENCY_FLOOR[urgency]
    return min(deadline_class, floor, key=_CLASS_ORDER.index)


# Module constants, not calls, as dataclass defaults (Span is frozen, so sharing is safe).
_DEFAULT_DISPATCH_EMERGENCY = Span.hours(1)
_DEFAULT_DISPATCH_UTILITIES = Span.hours(2)
_DEFAULT_DISPATCH_OTHER = Span.hours(24)
_DEFAULT_SIGN_EMERGENCY = Span.minutes(15)
_DEFAULT_SIGN_UTILITIES = Span.minutes(30)
_DEFAULT_SIGN_OTHER = Span.working_days(1)
_DEFAULT_HANDLING_EMERGENCY = Span.hours(2)
_DEFAULT_HANDLING_UTILITIES = Span.hours(24)
_DEFAULT_HANDLING_INQUIRY = Span.working_days(3)
_DEFAULT_HANDLING_NORMAL = Span.working_days(5)
_DEFAULT_HANDLING_COMPLEX = Span.working_days(15)
_DEFAULT_RETURN_WINDOW = Span.working_days(2)
_DEFAULT_CO_OPINION_WINDOW = Span.working_days(2)


@dataclass(frozen=True, slots=True)
class DeadlinePolicy:
    """A centre's time limits; the defaults are the reference centre's (see domain.md).

    A centre configures its own with keyword overrides, e.g.
    ``DeadlinePolicy(handling_normal=Span.working_days(7))``, or ``from_config`` on strings.
    """

    dispatch_emergency: Span = _DEFAULT_DISPATCH_EMERGENCY
    dispatch_utilities: Span = _DEFAULT_DISPATCH_UTILITIES
    dispatch_other: Span = _DEFAULT_DISPATCH_OTHER
    sign_emergency: Span = _DEFAULT_SIGN_EMERGENCY  # life-threatening
    sign_utilities: Span = _DEFAULT_SIGN_UTILITIES
    sign_other: Span = _DEFAULT_SIGN_OTHER
    handling_emergency: Span = _DEFAULT_HANDLING_EMERGENCY
    handling_utilities: Span = _DEFAULT_HANDLING_UTILITIES
    handling_inquiry: Span = _DEFAULT_HANDLING_INQUIRY
    handling_normal: Span = _DEFAULT_HANDLING_NORMAL
    handling_complex: Span = _DEFAULT_HANDLING_COMPLEX
    return_window: Span = _DEFAULT_RETURN_WINDOW
    #: A co-department's opinion (协办意见) is due this long after dispatch (``co_opinion_by``).
    co_opinion_window: Span = _DEFAULT_CO_OPINION_WINDOW
    max_extension_working_days: int = 10
    reminder_working_days: int = 1
    reminder_fraction: float = 0.25
    public_notice_working_days: int = 5

    def __post_init__(self) -> None:
        for name in (
            "max_extension_working_days",
            "reminder_working_days",
            "public_notice_working_days",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if not 0 < self.reminder_fraction < 1:
            raise ValueError("reminder_fraction must be between 0 and 1 (exclusive)")

    @classmethod
    def from_config(cls, values: dict[str, str | int | float]) -> DeadlinePolicy:
        """Build from a centre's config: spans as ``"2h"``/``"15min"``/``"5wd"``, the rest as
        numbers. Unknown keys raise ``ValueError``."""
        known = {f.name: f for f in fields(cls)}
        kwargs: dict[str, object] = {}
        for key, raw in values.items():
            if key not in known:
                raise ValueError(f"unknown deadline setting: {key}")
            if isinstance(known[key].default, Span):
                kwargs[key] = Span.parse(str(raw))
            elif key == "reminder_fraction":
                kwargs[key] = float(raw)
            else:
                kwargs[key] = int(raw)
        return cls(**kwargs)  # type: ignore[arg-type]

    def dispatch_limit(self, deadline_class: DeadlineClass, urgency: Urgency) -> Span:
        cls = effective_class(deadline_class, urgency)
        if cls is DeadlineClass.EMERGENCY:
            return self.dispatch_emergency
        if cls is DeadlineClass.UTILITIES:
            return self.dispatch_utilities
        return self.dispatch_other

    def sign_limit(self, deadline_class: DeadlineClass, urgency: Urgency) -> Span:
        cls = effective_class(deadline_class, urgency)
        if cls is DeadlineClass.EMERGENCY:
            return self.sign_emergency
        if cls is DeadlineClass.UTILITIES:
            return self.sign_utilities
        return self.sign_other

    def handling_limit(self, deadline_class: DeadlineClass, urgency: Urgency) -> Span:
        return {
            DeadlineClass.EMERGENCY: self.handling_emergency,
            DeadlineClass.UTILITIES: self.handling_utilities,
            DeadlineClass.INQUIRY: self.handling_inquiry,
            DeadlineClass.NORMAL: self.handling_normal,
            DeadlineClass.COMPLEX: self.handling_complex,
        }[effective_class(deadline_class, urgency)]


DEFAULT_POLICY = DeadlinePolicy()


@dataclass(frozen=True, slots=True)
class CaseDeadlines:
    """The deadlines set when a case is dispatched. ``dispatch_by`` is the registration's."""

    dispatch_by: Deadline | None
    sign_by: Deadline
    handling_by: Deadline
    return_by: Deadline

    @property
    def provisional(self) -> bool:
        return any(d is not None and d.provisional for d in self._all())

    def _all(self) -> tuple[Deadline | None, ...]:
        return (self.dispatch_by, self.sign_by, self.handling_by, self.return_by)

    def recompute(self, calendar: WorkCalendar) -> CaseDeadlines:
        """All four counted again on ``calendar``; the return window stays capped."""
        handling_by = recompute(self.handling_by, calendar)
        return_by = recompute(self.return_by, calendar)
        if handling_by.at < return_by.at:
            return_by = handling_by
        return CaseDeadlines(
            dispatch_by=None if self.dispatch_by is None else recompute(self.dispatch_by, calendar),
            sign_by=recompute(self.sign_by, calendar),
            handling_by=handling_by,
            return_by=return_by,
        )


def registration_deadlines(
    registered_at: datetime,
    deadline_class: DeadlineClass,
    urgency: Urgency,
    calendar: WorkCalendar,
    policy: DeadlinePolicy = DEFAULT_POLICY,
) -> Deadline:
    """The dispatch deadline of a newly registered case."""
    return calendar.deadline(registered_at, policy.dispatch_limit(deadline_class, urgency))


def handling_deadline(
    started_at: datetime,
    deadline_class: DeadlineClass,
    urgency: Urgency,
    calendar: WorkCalendar,
    policy: DeadlinePolicy = DEFAULT_POLICY,
) -> Deadline:
    """The handling deadline counted from ``started_at`` (signing, dispatch or reopening)."""
    return calendar.deadline(started_at, policy.handling_limit(deadline_class, urgency))


def dispatch_deadlines(
    dispatched_at: datetime,
    deadline_class: DeadlineClass,
    urgency: Urgency,
    calendar: WorkCalendar,
    policy: DeadlinePolicy = DEFAULT_POLICY,
    *,
    registered_at: datetime | None = None,
) -> CaseDeadlines:
    """Sign, handling and return deadlines of a dispatch (and the dispatch one if known)."""
    handling_by = handling_deadline(dispatched_at, deadline_class, urgency, calendar, policy)
    return_by = calendar.deadline(dispatched_at, policy.return_window)
    if handling_by.at < return_by.at:
        return_by = handling_by
    return CaseDeadlines(
        dispatch_by=None
        if registered_at is None
        else registration_deadlines(registered_at, deadline_class, urgency, calendar, policy),
        sign_by=calendar.deadline(dispatched_at, policy.sign_limit(deadline_class, urgency)),
        handling_by=handling_by,
        return_by=return_by,
    )


def co_opinion_by(
    dispatched_at: datetime,
    handling_by: Deadline,
    calendar: WorkCalendar,
    policy: DeadlinePolicy = DEFAULT_POLICY,
) -> Deadline:
    """When the co-departments' opinions (协办意见) are due: ``co_opinion_window`` (2 working
    days) after dispatch, the same window the lead department has to hand the case back, and
    never after the lead's handling deadline: the lead must read the opinions before it
    replies, so for an emergency (2 h) they are due with the reply. One deadline for all the
    co-departments of a dispatch; a re-dispatch sets a new one."""
    due = calendar.deadline(dispatched_at, policy.co_opinion_window)
    return handling_by if handling_by.at < due.at else due


def reopen_deadline(
    reopened_at: datetime,
    deadline_class: DeadlineClass,
    urgency: Urgency,
    calendar: WorkCalendar,
    policy: DeadlinePolicy = DEFAULT_POLICY,
) -> Deadline:
    """A reopened case (重办) gets a fresh handling deadline, counted from the reopening."""
    return handling_deadline(reopened_at, deadline_class, urgency, calendar, policy)


def extension_limit(
    current: Deadline, calendar: WorkCalendar, policy: DeadlinePolicy = DEFAULT_POLICY
) -> Deadline:
    """The latest an extension may reach: ``max_extension_working_days`` after the current
    deadline's last day (provisional past the calendar's end)."""
    last = current.due_day
    day, guessed = calendar.nth_workday_after(last, policy.max_extension_working_days, strict=False)
    return Deadline(
        at=end_of_day(day),
        start=current.at,
        amount=policy.max_extension_working_days,
        unit=DeadlineUnit.WORKING_DAYS,
        provisional=guessed,
    )


def extended_deadline(
    current: Deadline,
    requested: datetime,
    calendar: WorkCalendar,
    policy: DeadlinePolicy = DEFAULT_POLICY,
) -> Deadline:
    """The deadline an approved extension (延期) moves to: exactly ``requested``.

    ``requested`` must be later than ``current`` and at most ``max_extension_working_days``
    beyond it, else ``ExtensionRefused``. The result is ``FIXED``: the agreed instant does not
    move when a holiday table is loaded later.
    """
    require_aware(requested, "requested")
    if requested <= current.at:
        raise ExtensionRefused(
            f"延期后的期限必须晚于当前期限（{format_at(current.at)}）",
            f"The extended deadline must be after the current one ({current.at.isoformat()})",
        )
    limit = extension_limit(current, calendar, policy)
    if requested > limit.at:
        days = policy.max_extension_working_days
        note = "（暂定）" if limit.provisional else ""
        raise ExtensionRefused(
            f"延期最多 {days} 个工作日：最晚可延至 {format_at(limit.at)}{note}",
            f"An extension is at most {days} working days: latest {limit.at.isoformat()}",
        )
    return Deadline(
        at=requested.astimezone(SHANGHAI),
        start=current.at,
        amount=0,
        unit=DeadlineUnit.FIXED,
    )


def reminder_at(
    deadline: Deadline, calendar: WorkCalendar, policy: DeadlinePolicy = DEFAULT_POLICY
) -> datetime:
    """When to send the reminder (催办); see the module docstring for the rule."""
    if deadline.unit is DeadlineUnit.WORKING_DAYS:
        last = deadline.due_day
        if policy.reminder_working_days == 1:
            first_reminded = last
        else:
            first_reminded, _ = calendar.nth_workday_before(last, policy.reminder_working_days - 1)
        when = start_of_day(first_reminded)
    else:
        span = deadline.at - deadline.start
        when = deadline.at - span * policy.reminder_fraction
    return max(when, deadline.start).astimezone(SHANGHAI)


def notice_at(deadline: Deadline, calendar: WorkCalendar) -> datetime:
    """When a missed deadline is formally noticed (通报): start of the next working day."""
    day, _ = calendar.nth_workday_after(deadline.due_day, 1, strict=False)
    return start_of_day(day)


def public_notice_at(
    deadline: Deadline, calendar: WorkCalendar, policy: DeadlinePolicy = DEFAULT_POLICY
) -> datetime:
    """When a case still open is publicly noticed (公开通报): the start of the
    ``public_notice_working_days``-th working day after the deadline's last day."""
    late, _ = calendar.nth_workday_after(
        deadline.due_day, policy.public_notice_working_days, strict=False
    )
    return start_of_day(late)


def supervision_due(
    now: datetime,
    deadline: Deadline,
    calendar: WorkCalendar,
    policy: DeadlinePolicy = DEFAULT_POLICY,
) -> SupervisionLevel:
    """The level an open case with ``deadline`` should have reached at ``now``.

    Time alone never yields ``SUPERVISED`` (a lead's decision); the caller keeps the higher of
    this and the case's current level, as supervision only moves up.
    """
    require_aware(now, "now")
    if now >= public_notice_at(deadline, calendar, policy):
        return SupervisionLevel.PUBLIC_NOTICE
    if now >= notice_at(deadline, calendar):
        return SupervisionLevel.NOTICE
    if now >= reminder_at(deadline, calendar, policy):
        return SupervisionLevel.REMINDED
    return SupervisionLevel.NONE


# --- descriptions for the UI --------------------------------------------------------------------


def format_at(at: datetime, now: datetime | None = None) -> str:
    """Show an instant as "12月3日 星期四 24:00": the year is added when it is not ``now``'s, and
    an exclusive 00:00 end shows as 24:00 of the day before."""
    local = at.astimezone(SHANGHAI)
    if local.hour == 0 and local.minute == 0 and local.second == 0 and local.microsecond == 0:
        day, clock = (local - timedelta(days=1)).date(), "24:00"
    else:
        day, clock = local.date(), local.strftime("%H:%M")
    year = "" if now is not None and local_day(now).year == day.year else f"{day.year}年"
    return f"{year}{day.month}月{day.day}日 {_WEEKDAYS[day.weekday()]} {clock}"


def _format_at_en(at: datetime, now: datetime | None = None) -> str:
    local = at.astimezone(SHANGHAI)
    if local.hour == 0 and local.minute == 0 and local.second == 0 and local.microsecond == 0:
        day, clock = (local - timedelta(days=1)).date(), "24:00"
    else:
        day, clock = local.date(), local.strftime("%H:%M")
    year = "" if now is not None and local_day(now).year == day.year else f" {day.year}"
    return f"{day.strftime('%a')} {day.day} {day.strftime('%b')}{year} {clock}"


def _clock(delta: timedelta, zh: bool) -> str:
    minutes = int(delta.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    if zh:
        if hours and minutes:
            return f"{hours} 小时 {minutes} 分"
        if hours:
            return f"{hours} 小时"
        return f"{minutes} 分" if minutes else "不足 1 分"
    if hours and minutes:
        return f"{hours} h {minutes} min"
    if hours:
        return f"{hours} h"
    return f"{minutes} min" if minutes else "under 1 min"


def _provisional_note(deadline: Deadline, calendar: WorkCalendar, zh: bool) -> str:
    if not deadline.provisional:
        return ""
    years = calendar.missing_years(local_day(deadline.start), deadline.due_day)
    if zh:
        if not years:
            return "（暂定：待重新计算）"
        return f"（暂定：{'、'.join(str(y) for y in years)} 年节假日未载入）"
    if not years:
        return " (provisional: to be recomputed)"
    return f" (provisional: {', '.join(str(y) for y in years)} holidays not loaded)"


def _describe(deadline: Deadline, now: datetime, calendar: WorkCalendar, zh: bool) -> str:
    require_aware(now, "now")
    note = _provisional_note(deadline, calendar, zh)
    today = local_day(now)
    if deadline.is_overdue(now):
        late = now - deadline.at
        if late < timedelta(days=1):
            text = f"已超期 {_clock(late, zh)}" if zh else f"{_clock(late, zh)} overdue"
            return text + note
        days, guessed = calendar.working_days_between_lenient(deadline.due_day, today)
        about = ("约" if zh else "about ") if guessed else ""
        if days >= 1:
            text = f"已超期{about} {days} 个工作日" if zh else f"{about}{days} working days overdue"
        else:
            calendar_days = (today - deadline.due_day).days
            text = f"已超期 {calendar_days} 天" if zh else f"{calendar_days} days overdue"
        return text + note
    left = deadline.at - now
    clock_unit = deadline.unit in (DeadlineUnit.HOURS, DeadlineUnit.MINUTES)
    if left < timedelta(days=1) or (clock_unit and left < timedelta(days=2)):
        by = format_at(deadline.at, now) if zh else _format_at_en(deadline.at, now)
        text = f"剩余 {_clock(left, zh)}（{by} 前）" if zh else f"{_clock(left, zh)} left (by {by})"
        return text + note
    days, guessed = calendar.working_days_between_lenient(today, deadline.due_day)
    about = ("约" if zh else "about ") if guessed and not deadline.provisional else ""
    if zh:
        return f"剩余{about} {days} 个工作日（{format_at(deadline.at, now)} 前）{note}"
    return f"{about}{days} working days left (by {_format_at_en(deadline.at, now)}){note}"


def describe(deadline: Deadline, now: datetime, calendar: WorkCalendar) -> str:
    """Chinese for the UI: "剩余 5 个工作日（12月3日 星期四 24:00 前）", "剩余 1 小时 20 分（…）",
    "已超期 2 个工作日", with "（暂定：2027 年节假日未载入）" on a provisional deadline."""
    return _describe(deadline, now, calendar, zh=True)


def describe_en(deadline: Deadline, now: datetime, calendar: WorkCalendar) -> str:
    """The English counterpart of ``describe`` (logs, the English UI catalogue)."""
    return _describe(deadline, now, calendar, zh=False)
