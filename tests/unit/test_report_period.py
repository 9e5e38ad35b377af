"""Report periods are Zhumadian days and calendar months."""

from __future__ import annotations

from datetime import UTC, date, datetime

from agent_tui.client.report import period, period_title


def test_a_daily_report_is_that_day_in_asia_shanghai() -> None:
    start, end = period("daily", date(2026, 11, 26))
    assert start.astimezone(UTC) == datetime(2026, 11, 25, 16, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2026, 11, 26, 16, tzinfo=UTC)
    assert period_title("daily", date(2026, 11, 26)) == "2026年11月26日"


def test_a_monthly_report_is_the_calendar_month_across_the_year_end() -> None:
    start, end = period("monthly", date(2026, 12, 15))
    assert (start.date(), end.date()) == (date(2026, 12, 1), date(2027, 1, 1))
    assert start.utcoffset() is not None and start.hour == 0
    assert period_title("monthly", date(2026, 12, 15)) == "2026年12月"
