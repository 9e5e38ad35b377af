"""Times as the seat shows them: one function, ``local``, in the centre's zone.

The store keeps instants in UTC (ISO strings with an offset, or aware datetimes); a seat shows
them in the centre's zone — ``display_timezone`` in the config, Asia/Shanghai unless set — on
whatever machine and in whatever zone the terminal runs. Screens and widgets never slice an ISO
string or call ``strftime`` themselves (tests/unit/test_display_time.py keeps it so).
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

CENTRE_ZONE = "Asia/Shanghai"

_zone: tzinfo = ZoneInfo(CENTRE_ZONE)


def set_display_zone(name: str) -> None:
    """Show times in ``name`` (an IANA zone, e.g. ``Asia/Shanghai``) from now on."""
    global _zone
    _zone = ZoneInfo(name)


def display_zone() -> tzinfo:
    return _zone


def parse_time(value: object) -> datetime | None:
    """An ISO timestamp as stored (or a datetime as is); None if absent or unreadable."""
    if isinstance(value, datetime):
        return value
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def local(value: object, fmt: str = "%m-%d %H:%M") -> str:
    """An instant in the centre's zone (``11-27 09:30``); empty if absent. A time without a
    zone is the store's, UTC."""
    moment = parse_time(value)
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(_zone).strftime(fmt)
