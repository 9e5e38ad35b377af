"""The centre's override table: the packaged file and the loader's validation."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import pytest

from agent_tui.data.calendar import default_calendar, load_overrides, parse_overrides
from agent_tui.domain.calendar import SHANGHAI, YearSchedule

#: A made-up 2027 table (the real schedule is not published): only the shape matters here.
VALID = """
[2027]
published = "test data, not the official schedule"
holidays = [2027-01-01, "2027-02-08", "2027-02-09"]
workdays = [2027-02-20]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "overrides.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_packaged_table_holds_no_invented_years() -> None:
    assert load_overrides() == []
    calendar = default_calendar()
    assert calendar.covers(2026)
    assert not calendar.covers(2027)


def test_the_packaged_example_is_valid_once_uncommented() -> None:
    packaged = Path(__file__).parents[2] / "agent_tui" / "data" / "calendar_overrides.toml"
    example = packaged.read_text(encoding="utf-8").split("# Example", 1)[1]
    lines = [re.sub(r"^# ?", "", line) for line in example.splitlines()[1:]]
    [schedule] = parse_overrides("\n".join(lines))
    assert schedule.year == 2027
    assert date(2027, 2, 20) in schedule.workdays


def test_a_valid_file_loads_and_extends_the_calendar(tmp_path: Path) -> None:
    path = write(tmp_path, VALID)
    assert load_overrides(path) == [
        YearSchedule(
            2027,
            holidays=frozenset({date(2027, 1, 1), date(2027, 2, 8), date(2027, 2, 9)}),
            workdays=frozenset({date(2027, 2, 20)}),
            published="test data, not the official schedule",
        )
    ]
    calendar = default_calendar(path)
    assert calendar.covers(2027)
    assert not calendar.is_workday(date(2027, 1, 1))
    assert calendar.is_workday(date(2027, 2, 20))
    assert calendar.is_workday(date(2027, 1, 4))
    deadline = calendar.deadline_in_working_days(datetime(2026, 12, 30, 9, tzinfo=SHANGHAI), 3)
    assert not deadline.provisional
    assert deadline.at == datetime(2027, 1, 6, tzinfo=SHANGHAI)  # Dec 31, Jan 4, Jan 5


def test_an_empty_file_is_no_years(tmp_path: Path) -> None:
    assert load_overrides(write(tmp_path, "# nothing yet\n")) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[2027]\nholidays = [2028-01-01]\n", r": 2027: holiday 2028-01-01 is not in 2027"),
        (
            "[2027]\nholidays = [2027-02-20]\nworkdays = [2027-02-20]\n",
            r"2027.*2027-02-20 is both a holiday and a workday",
        ),
        ("[2027]\nworkdays = [2027-02-22]\n", r"2027.*workday 2027-02-22 is a Monday"),
        ('[2027]\nholidays = ["2027-13-01"]\n', r"\[2027\] holidays: '2027-13-01' is not"),
        ("[2027]\nholidays = [20270101]\n", r"\[2027\] holidays: 20270101 is not an ISO date"),
        ("[2027]\nholidays = 2027-01-01\n", r"\[2027\]: holidays must be a list"),
        ("[2027]\nholiday = [2027-01-01]\n", r"\[2027\]: unknown key\(s\) holiday"),
        ("[2027]\npublished = 2026\n", r"\[2027\]: published must be a string"),
        ("[next]\nholidays = []\n", r"\[next\] is not a year"),
        ("2027 = [2027-01-01]\n", r"\[2027\]: must be a table"),
        ("[2027\n", r"not valid TOML"),
    ],
)
def test_invalid_files_are_rejected_naming_year_and_date(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ValueError, match=message) as info:
        load_overrides(path)
    assert str(path) in str(info.value)


def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_overrides(tmp_path / "absent.toml")


def test_a_csv_schedule_names_a_bad_line_and_a_repeated_year() -> None:
    from agent_tui.data.calendar import (
        calendar_body,
        parse_csv_schedule,
        schedules_from_body,
    )

    with pytest.raises(ValueError, match=r"x\.csv:3: expected date,kind"):
        parse_csv_schedule("date,kind\n2027-01-01,holiday\n2027-01-02,party\n", "x.csv")
    with pytest.raises(ValueError, match="no days"):
        parse_csv_schedule("date,kind\n", "x.csv")
    schedules = parse_csv_schedule("2027-01-01,休\n2027-02-20,调休上班\n")
    assert schedules_from_body(calendar_body(schedules)) == schedules
    with pytest.raises(ValueError, match="listed twice"):
        schedules_from_body(calendar_body(schedules) * 2)
