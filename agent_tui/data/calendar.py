"""Loading the centre's working-day override table (``calendar_overrides.toml``).

The file holds one TOML table per year::

    [2027]
    published = "国办发明电〔2026〕N号"   # optional
    holidays = [2027-01-01, "2027-02-06"]  # TOML dates or ISO strings
    workdays = [2027-02-20]

Every violation (a date outside its year, a date both holiday and workday, a make-up workday on
a weekday, a malformed value) is a ``ValueError`` naming the file, the year and the date: a bad
table must stop the loading, not yield silently wrong deadlines.
"""

from __future__ import annotations

import tomllib
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from agent_tui.domain.calendar import WorkCalendar, YearSchedule

PACKAGED_FILE = "calendar_overrides.toml"
_KEYS = frozenset({"holidays", "workdays", "published"})


def _read_packaged() -> tuple[str, str]:
    resource = resources.files("agent_tui.data").joinpath(PACKAGED_FILE)
    return resource.read_text(encoding="utf-8"), f"<packaged {PACKAGED_FILE}>"


def _parse_date(value: Any, where: str) -> date:
    # tomllib gives bare dates as date; datetime is a date subclass, so exclude it explicitly.
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"{where}: {value!r} is not an ISO date (YYYY-MM-DD)")


def _parse_dates(table: dict[str, Any], key: str, where: str) -> frozenset[date]:
    raw = table.get(key, [])
    if not isinstance(raw, list):
        raise ValueError(f"{where}: {key} must be a list of dates")
    return frozenset(_parse_date(value, f"{where} {key}") for value in raw)


def parse_overrides(text: str, source: str = "<string>") -> list[YearSchedule]:
    """Parse and validate an override table given as TOML text; ``source`` names it in errors."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{source}: not valid TOML: {exc}") from exc
    schedules: list[YearSchedule] = []
    for key, table in document.items():
        if not (key.isdigit() and len(key) == 4):
            raise ValueError(f"{source}: [{key}] is not a year; use one table per year, [2027]")
        year = int(key)
        where = f"{source} [{year}]"
        if not isinstance(table, dict):
            raise ValueError(f"{where}: must be a table with holidays = [...], workdays = [...]")
        unknown = sorted(set(table) - _KEYS)
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {', '.join(unknown)}")
        published = table.get("published", "")
        if not isinstance(published, str):
            raise ValueError(f"{where}: published must be a string")
        try:
            schedule = YearSchedule(
                year=year,
                holidays=_parse_dates(table, "holidays", where),
                workdays=_parse_dates(table, "workdays", where),
                published=published,
            )
        except ValueError as exc:
            # YearSchedule names the year and date; add which file it came from.
            if str(exc).startswith(source):
                raise
            raise ValueError(f"{source}: {exc}") from exc
        schedules.append(schedule)
    return sorted(schedules, key=lambda s: s.year)


def load_overrides(path: Path | None = None) -> list[YearSchedule]:
    """The year schedules in ``path``, or in the packaged table when ``path`` is ``None``."""
    if path is None:
        text, source = _read_packaged()
    else:
        text, source = path.read_text(encoding="utf-8"), str(path)
    return parse_overrides(text, source)


def default_calendar(extra_path: Path | None = None) -> WorkCalendar:
    """chinese-calendar plus the packaged overrides, plus ``extra_path``'s (a centre's own file,
    whose years replace the packaged ones)."""
    calendar = WorkCalendar(load_overrides())
    if extra_path is not None:
        for schedule in load_overrides(extra_path):
            calendar = calendar.with_schedule(schedule)
    return calendar
