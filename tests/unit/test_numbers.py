"""The case-number rules (``domain.numbers``): format, parts, blocks, what a seat's number
must be to be accepted."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agent_tui.domain.errors import ValidationFailed
from agent_tui.domain.numbers import (
    CaseNumber,
    NumberBlock,
    check_seat_number,
    format_number,
    number_day,
    number_year,
    parse_number,
    platform_prefix,
    reservable_years,
    series_name,
)

#: 2026-12-31 23:30 in Zhumadian.
NEW_YEARS_EVE = datetime(2026, 12, 31, 15, 30, tzinfo=UTC)


def test_the_format_keeps_four_digits_and_grows_past_them() -> None:
    assert format_number("ZMD", "20261127", 42) == "ZMD-20261127-0042"
    assert format_number("ZMD-XP", "20261127", 123456) == "ZMD-XP-20261127-123456"
    assert platform_prefix("city") == "ZMD"
    assert platform_prefix("411726", "XP") == "ZMD-XP"
    assert platform_prefix("411726") == "ZMD-411726"
    assert series_name("city", 2026) == "number:city:2026"


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("ZMD-20261127-0042", ("ZMD", "20261127", 42)),
        ("ZMD-XP-20261127-123456", ("ZMD-XP", "20261127", 123456)),
        ("ZMD-411726-20270101-0001", ("ZMD-411726", "20270101", 1)),
        ("ZMD-20261127-042", None),  # fewer than four digits
        ("ZMD-20261127-0000", None),
        ("ZMD-20261131-0001", None),  # no such day
        ("zmd-20261127-0001", None),
        ("ZMD-20261127-0001 ", None),
        ("XYZ-20261127-0001", None),
    ],
)
def test_parse(text: str, parts: tuple[str, str, int] | None) -> None:
    parsed = parse_number(text)
    if parts is None:
        assert parsed is None
    else:
        assert parsed == CaseNumber(*parts) and str(parsed) == text


def test_the_day_and_year_are_the_centres() -> None:
    assert number_day(NEW_YEARS_EVE) == "20261231"
    assert number_day(datetime(2026, 12, 31, 16, 0, tzinfo=UTC)) == "20270101"
    assert number_year(datetime(2026, 12, 31, 16, 0, tzinfo=UTC)) == 2027


def test_a_block_holds_its_running_numbers_of_its_year_and_prefix_only() -> None:
    block = NumberBlock("ZMD", 2026, 21, 40)
    assert len(block) == 20
    assert block.holds(CaseNumber("ZMD", "20261127", 21))
    assert block.holds(CaseNumber("ZMD", "20260101", 40))
    assert not block.holds(CaseNumber("ZMD", "20261127", 41))
    assert not block.holds(CaseNumber("ZMD", "20270101", 21))  # the next year's series
    assert not block.holds(CaseNumber("ZMD-XP", "20261127", 21))


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("ZMD-20261231-0021", None),
        ("ZMD-20261231-0041", "not_reserved"),
        ("ZMD-20261230-0021", "wrong_day"),
        ("ZMD-XP-20261231-0021", "wrong_platform"),
        ("ZMD-2026-0021", "invalid"),
    ],
)
def test_a_seats_number_is_checked_against_prefix_day_and_blocks(
    text: str, code: str | None
) -> None:
    blocks = [NumberBlock("ZMD", 2026, 21, 40)]
    if code is None:
        assert check_seat_number(text, "ZMD", NEW_YEARS_EVE, blocks).running == 21
        return
    with pytest.raises(ValidationFailed) as refused:
        check_seat_number(text, "ZMD", NEW_YEARS_EVE, blocks)
    (error,) = refused.value.errors
    assert (error.field, error.code) == ("number", code)
    assert text in error.message and error.message_en


@pytest.mark.parametrize(
    ("at", "years"),
    [
        (datetime(2026, 11, 26, 2, 0, tzinfo=UTC), (2026,)),
        (datetime(2026, 12, 23, 15, 59, tzinfo=UTC), (2026,)),  # 23:59 on the 23rd
        (datetime(2026, 12, 23, 16, 0, tzinfo=UTC), (2026, 2027)),  # the 24th in Zhumadian
        (NEW_YEARS_EVE, (2026, 2027)),
        (datetime(2026, 12, 31, 16, 0, tzinfo=UTC), (2027,)),
    ],
)
def test_the_next_years_numbers_are_reservable_in_the_last_week_of_december(
    at: datetime, years: tuple[int, ...]
) -> None:
    assert reservable_years(at) == years
