"""Hot spots: a category at a place whose cases rise in the last 24 hours.

The rule, simple enough for the lead to check by hand: a (category, county, place) is hot when
it has at least ``MIN_CASES`` cases registered in the last 24 hours and that is at least
``FACTOR`` times its baseline, the mean daily count over the ``BASELINE_DAYS`` days before those
24 hours. The most rising (most cases over the baseline) come first, at most ``LIMIT``.

The place is the village or community, else the road, else the township (``place_of``): the
finest level the agent recorded that many cases share.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

MIN_CASES = 3
FACTOR = 2.0
BASELINE_DAYS = 7
LIMIT = 10


def place_of(village: str, road: str, township: str) -> str:
    return village or road or township


@dataclass(frozen=True, slots=True)
class PlaceCount:
    """Cases of one category at one place: in the last 24 h and in the baseline days before."""

    category: str
    county: str
    place: str
    last_24h: int
    baseline_total: int


@dataclass(frozen=True, slots=True)
class HotspotFinding:
    category: str
    county: str
    place: str
    last_24h: int
    baseline_per_day: float

    @property
    def rise(self) -> float:
        """Cases over a normal day."""
        return self.last_24h - self.baseline_per_day

    @property
    def rule(self) -> str:
        return (
            f"24小时内 {self.last_24h} 件，前{BASELINE_DAYS}日日均 {self.baseline_per_day:.1f} 件"
        )


def is_hot(last_24h: int, baseline_per_day: float) -> bool:
    return last_24h >= MIN_CASES and last_24h >= FACTOR * baseline_per_day


def find_hotspots(counts: Iterable[PlaceCount], limit: int = LIMIT) -> list[HotspotFinding]:
    """The hot spots among ``counts``, most rising first (ties: more cases, then by name)."""
    found = [
        HotspotFinding(c.category, c.county, c.place, c.last_24h, c.baseline_total / BASELINE_DAYS)
        for c in counts
        if c.place and is_hot(c.last_24h, c.baseline_total / BASELINE_DAYS)
    ]
    found.sort(key=lambda h: (-h.rise, -h.last_24h, h.category, h.county, h.place))
    return found[:limit]
