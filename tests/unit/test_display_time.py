"""One function shows a time, in the centre's zone (issue 13, item 4)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from pydantic import ValidationError

from agent_tui.config import Settings
from agent_tui.widgets.times import CENTRE_ZONE, local, set_display_zone

PACKAGE = Path(__file__).resolve().parents[2] / "agent_tui"


@pytest.fixture
def zone() -> Iterator[None]:
    yield
    set_display_zone(CENTRE_ZONE)


def test_stored_instants_show_in_shanghai_time() -> None:
    assert local("2026-12-04T13:53:00+00:00") == "12-04 21:53"
    assert local(datetime(2026, 12, 4, 13, 53, tzinfo=UTC)) == "12-04 21:53"
    assert local(datetime(2026, 12, 4, 13, 53)) == "12-04 21:53"  # no zone: the store's UTC
    eastern = timezone(timedelta(hours=-5))
    assert local(datetime(2026, 12, 4, 8, 53, tzinfo=eastern), "%H:%M:%S") == "21:53:00"
    assert local(None) == local("") == local("not a time") == ""


def test_the_zone_comes_from_the_settings(zone: None) -> None:
    set_display_zone(Settings(display_timezone="Asia/Urumqi").display_timezone)
    assert local("2026-12-04T13:53:00+00:00") == "12-04 19:53"
    with pytest.raises(ValidationError, match="unknown time zone"):
        Settings(display_timezone="Mars/Olympus")


def test_no_screen_or_widget_formats_a_time_itself() -> None:
    """Slicing ISO strings (``[5:16]``: UTC on screen) or ``strftime`` outside ``local``."""
    pattern = re.compile(r"strftime\(|isoformat\(\)\s*\[|\)\s*\[\d*:1[0-9]\]|\[5:16\]")
    offenders = [
        f"{path.relative_to(PACKAGE)}:{n}: {line.strip()}"
        for folder in ("screens", "widgets")
        for path in sorted((PACKAGE / folder).glob("*.py"))
        if path.name != "times.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert not offenders, "format times with widgets.times.local:\n" + "\n".join(offenders)
