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
    return _schedules(document, source)


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


# --- a year's schedule as the admin imports it, and as the store serves it ----------------------

_CSV_KINDS = {
    "holiday": "holidays",
    "休": "holidays",
    "放假": "holidays",
    "workday": "workdays",
    "班": "workdays",
    "上班": "workdays",
    "调休上班": "workdays",
}


def parse_csv_schedule(text: str, source: str = "<string>") -> list[YearSchedule]:
    """A schedule as CSV: one day a line, ``date,kind[,note]`` with kind ``holiday`` (休,
    放假) or ``workday`` (班, 上班, 调休上班); a header line and ``#`` comments are skipped; an
    optional ``published,<notice>`` line names the notice for every year in the file."""
    import csv
    import io

    tables: dict[str, dict[str, Any]] = {}
    published = ""
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [c.strip() for c in row]
        if not cells or not cells[0] or cells[0].startswith("#"):
            continue
        where = f"{source}:{number}"
        if cells[0].lower() == "published":
            published = cells[1] if len(cells) > 1 else ""
            continue
        if cells[0].lower() == "date":
            continue  # the header
        if len(cells) < 2 or cells[1].lower() not in _CSV_KINDS:
            kinds = ", ".join(_CSV_KINDS)
            raise ValueError(f"{where}: expected date,kind with kind one of {kinds}")
        day = _parse_date(cells[0], where)
        table = tables.setdefault(str(day.year), {"holidays": [], "workdays": []})
        table[_CSV_KINDS[cells[1].lower()]].append(day.isoformat())
    if not tables:
        raise ValueError(f"{source}: no days in the file")
    for table in tables.values():
        if published:
            table["published"] = published
    return _schedules(tables, source)


def _schedules(document: dict[str, Any], source: str) -> list[YearSchedule]:
    """Validate parsed tables, one per year (``parse_overrides``'s rules)."""
    schedules: list[YearSchedule] = []
    for key, table in document.items():
        if not (str(key).isdigit() and len(str(key)) == 4):
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
            schedules.append(
                YearSchedule(
                    year=year,
                    holidays=_parse_dates(table, "holidays", where),
                    workdays=_parse_dates(table, "workdays", where),
                    published=published,
                )
            )
        except ValueError as exc:
            if str(exc).startswith(source):
                raise
            raise ValueError(f"{source}: {exc}") from exc
    return sorted(schedules, key=lambda s: s.year)


def read_schedule_file(path: Path) -> list[YearSchedule]:
    """The year schedules in an admin's file: TOML (as ``calendar_overrides.toml``) or CSV
    (``parse_csv_schedule``), by the file's suffix. A ``ValueError`` names what is wrong."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ValueError(f"{path}: {exc.strerror or exc}") from exc
    if path.suffix.lower() == ".csv":
        return parse_csv_schedule(text, str(path))
    return parse_overrides(text, str(path))


def calendar_body(schedules: list[YearSchedule]) -> list[dict[str, Any]]:
    """The ``calendar`` reference set the store serves: one entry per year."""
    return [
        {
            "year": s.year,
            "holidays": sorted(d.isoformat() for d in s.holidays),
            "workdays": sorted(d.isoformat() for d in s.workdays),
            "published": s.published,
        }
        for s in sorted(schedules, key=lambda s: s.year)
    ]


def schedules_from_body(body: Any, source: str = "calendar") -> list[YearSchedule]:
    """The year schedules of a ``calendar`` reference set (``calendar_body``'s shape); a
    ``ValueError`` saying what is wrong (a PUT of it is refused with 422)."""
    if not isinstance(body, list):
        raise ValueError(f"{source}: must be a list of years")
    document: dict[str, Any] = {}
    for entry in body:
        if not isinstance(entry, dict) or not isinstance(entry.get("year"), int):
            raise ValueError(f"{source}: each entry needs a year (a number) and its days")
        year = str(entry["year"])
        if year in document:
            raise ValueError(f"{source}: the year {year} is listed twice")
        document[year] = {k: v for k, v in entry.items() if k != "year"}
    return _schedules(document, source)


def merged(stored: list[YearSchedule], added: list[YearSchedule]) -> list[YearSchedule]:
    """``stored`` with ``added``'s years put in (a year in both: ``added``'s replaces it)."""
    years = {s.year: s for s in stored}
    years.update({s.year: s for s in added})
    return sorted(years.values(), key=lambda s: s.year)
