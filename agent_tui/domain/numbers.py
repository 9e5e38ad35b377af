"""Case numbers (工单编号): their format, and the rule that makes a number handed out at a seat
the case's number for ever.

A number reads ``ZMD-20261127-0042`` (the city platform) or ``ZMD-XP-20261127-0042`` (a
county platform's prefix): the registration day in the centre's zone, then a running number
of at least four digits. The running number counts per platform and **year** (one series,
``series_name``): the store takes the next one for a case that comes without a number, and
hands out whole blocks of the same series to seats (``NumberBlock``), which give them to cases
at save time, online or offline. Every running number of a series is given out once, to the
store or to one block, so a number can never be doubled across seats, and two numbers of one
year differ in their running part whatever their days.

A number is only accepted from the seat that holds its block, dated on the case's
registration day, in the block's year (``check_seat_number``). In the last week of December
a seat also reserves a block of the next year (``reservable_years``), so an outage over New
Year does not leave it without numbers. Numbers of a block that are
never used leave gaps in the series: a gap is not a lost case (the blocks' record says which
seat held which numbers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from agent_tui.domain.calendar import SHANGHAI
from agent_tui.domain.errors import FieldError, ValidationFailed

#: The city's prefix; a county platform's is ``ZMD-<its prefix>``.
CITY_PREFIX = "ZMD"
#: From this day (month, day) a seat also keeps numbers of the next year in hand.
NEXT_YEAR_FROM = (12, 24)
_NUMBER = re.compile(r"(ZMD(?:-[0-9A-Z]{1,16})?)-(\d{8})-(\d{4,9})")


@dataclass(frozen=True, slots=True)
class CaseNumber:
    """A case number taken apart: prefix, registration day (``YYYYMMDD``), running number."""

    prefix: str
    day: str
    running: int

    @property
    def year(self) -> int:
        return int(self.day[:4])

    def __str__(self) -> str:
        return format_number(self.prefix, self.day, self.running)


@dataclass(frozen=True, slots=True)
class NumberBlock:
    """Running numbers ``first``..``last`` of a platform's ``year`` series, held by one seat."""

    prefix: str
    year: int
    first: int
    last: int

    def __len__(self) -> int:
        return self.last - self.first + 1

    def holds(self, number: CaseNumber) -> bool:
        return (
            number.prefix == self.prefix
            and number.year == self.year
            and self.first <= number.running <= self.last
        )


def platform_prefix(platform: str, number_prefix: str = "") -> str:
    """``ZMD`` for the city, ``ZMD-XP`` for a county platform (its code when it has none)."""
    if platform == "city":
        return CITY_PREFIX
    return f"{CITY_PREFIX}-{number_prefix or platform}"


def number_day(at: datetime) -> str:
    """The day a case's number carries (``YYYYMMDD`` in the centre's zone)."""
    return at.astimezone(SHANGHAI).strftime("%Y%m%d")


def number_year(at: datetime) -> int:
    """The year whose series a case registered ``at`` takes its running number from."""
    return at.astimezone(SHANGHAI).year


def reservable_years(at: datetime) -> tuple[int, ...]:
    """The years a seat may reserve numbers of at ``at``: this year, and from
    ``NEXT_YEAR_FROM`` (the last week of December) the next one too, so that a seat offline
    over New Year still has numbers for the cases of January's first days."""
    local = at.astimezone(SHANGHAI)
    if (local.month, local.day) >= NEXT_YEAR_FROM:
        return (local.year, local.year + 1)
    return (local.year,)


def series_name(platform: str, year: int) -> str:
    """The store's counter of a platform's year: ``number:city:2026``."""
    return f"number:{platform}:{year}"


def format_number(prefix: str, day: str, running: int) -> str:
    """``ZMD-20261127-0042``: four digits at least, more when the year's series needs them."""
    return f"{prefix}-{day}-{running:04d}"


def parse_number(text: str) -> CaseNumber | None:
    """The parts of a well-formed number (a real calendar day), or None."""
    m = _NUMBER.fullmatch(text)
    if m is None:
        return None
    try:
        date(int(m[2][:4]), int(m[2][4:6]), int(m[2][6:]))
    except ValueError:
        return None
    running = int(m[3])
    if running < 1:
        return None
    return CaseNumber(m[1], m[2], running)


def check_seat_number(
    text: str, prefix: str, registered_at: datetime, blocks: list[NumberBlock]
) -> CaseNumber:
    """The number a seat gave a case, checked against what the store knows: the platform's
    prefix, the registration day and the blocks this seat holds. Raises ``ValidationFailed``
    with the reason beside the ``number`` field."""
    number = parse_number(text)
    if number is None:
        raise _refused(
            "invalid",
            f"工单编号「{text}」格式不对（应为 {prefix}-年月日-流水号）",
            f"Case number {text!r} is malformed (expected {prefix}-YYYYMMDD-NNNN)",
        )
    if number.prefix != prefix:
        raise _refused(
            "wrong_platform",
            f"工单编号「{text}」不属于本平台（本平台编号以 {prefix}- 开头）",
            f"Case number {text} is not of this platform ({prefix}-)",
        )
    day = number_day(registered_at)
    if number.day != day:
        raise _refused(
            "wrong_day",
            f"工单编号「{text}」的日期与受理日期 {day} 不符",
            f"Case number {text} is not dated on its registration day {day}",
        )
    if not any(b.holds(number) for b in blocks):
        raise _refused(
            "not_reserved",
            f"工单编号「{text}」不在本坐席领取的号段内",
            f"Case number {text} is not in a block this seat reserved",
        )
    return number


def _refused(code: str, message: str, message_en: str) -> ValidationFailed:
    return ValidationFailed([FieldError("number", code, message, message_en)])
