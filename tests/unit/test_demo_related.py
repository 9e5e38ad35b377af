"""The demo's stories, checked by the domain's own rules: a hot spot in the last 24 hours
(``domain.hotspots``) and groups of related cases linked as the intake would (``domain.related``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from agent_tui.demo.generate import _STREET_CATEGORIES, DemoCase, generate_demo, replay
from agent_tui.domain.calendar import SHANGHAI
from agent_tui.domain.case import OPEN_STATUSES, Address, Status
from agent_tui.domain.hotspots import (
    BASELINE_DAYS,
    HotspotFinding,
    PlaceCount,
    find_hotspots,
    is_hot,
    place_of,
)
from agent_tui.domain.lifecycle import Step
from agent_tui.domain.related import group_of, is_candidate

NOW = datetime(2026, 11, 26, 15, 30, tzinfo=SHANGHAI)

SETS = [
    pytest.param((NOW, 3000), id="default"),
    pytest.param((datetime(2026, 11, 26, 7, 30, tzinfo=UTC), 600), id="600"),
    pytest.param((NOW, 200), id="200"),
    pytest.param((datetime(2026, 3, 2, 8, 0, tzinfo=UTC), 3000), id="spring"),
]


@pytest.fixture(scope="module", params=SETS)
def demo_set(request: pytest.FixtureRequest) -> tuple[datetime, list[DemoCase]]:
    now, count = request.param
    demo = generate_demo(now, count=count)
    assert len(demo) == count
    return now, demo


def _place(address: Address) -> str:
    return place_of(address.village, address.road, address.township)


def _key(case: DemoCase) -> tuple[str, str, str]:
    a = case.intake.address
    return case.intake.category, a.county, _place(a)


def _hotspots(now: datetime, demo: list[DemoCase]) -> list[HotspotFinding]:
    """What the store computes at ``now``, from the cases registered up to then."""
    recent_from = now - timedelta(hours=24)
    since = recent_from - timedelta(days=BASELINE_DAYS)
    last: Counter[tuple[str, str, str]] = Counter()
    baseline: Counter[tuple[str, str, str]] = Counter()
    for c in demo:
        if recent_from <= c.registered_at <= now:
            last[_key(c)] += 1
        elif since <= c.registered_at < recent_from:
            baseline[_key(c)] += 1
    return find_hotspots(PlaceCount(*k, last[k], baseline[k]) for k in last)


def _status_at(case: DemoCase, at: datetime) -> Status:
    """The case's status at ``at`` (after its registration)."""
    _, events = replay(case)
    return [e.to_status for e in events if e.at <= at][-1]


def test_one_clear_hot_spot(demo_set: tuple[datetime, list[DemoCase]]) -> None:
    now, demo = demo_set
    found = _hotspots(now, demo)
    assert len(found) == 1, found
    spot = found[0]
    assert spot.category in _STREET_CATEGORIES and spot.place
    assert 4 <= spot.last_24h <= 6
    assert spot.baseline_per_day * BASELINE_DAYS <= 1
    assert is_hot(spot.last_24h, spot.baseline_per_day)
    cases = [
        c
        for c in demo
        if _key(c) == (spot.category, spot.county, spot.place)
        and c.registered_at >= now - timedelta(hours=24)
    ]
    assert all(c.intake.address.road == spot.place for c in cases)  # one road
    # Different callers reporting the same thing, in their own words; most still being handled.
    assert len({c.intake.content for c in cases}) == len(cases)
    assert len({c.intake.caller_phone for c in cases}) == len(cases)
    statuses = [replay(c)[0].status for c in cases]
    assert all(s in OPEN_STATUSES for s in statuses)
    assert sum(s in (Status.DISPATCHED, Status.IN_PROGRESS) for s in statuses) > len(cases) / 2


def test_related_groups_are_linked_as_the_intake_offers(
    demo_set: tuple[datetime, list[DemoCase]],
) -> None:
    _, demo = demo_set
    by_uuid = {c.uuid: c for c in demo}
    groups: dict[str, list[DemoCase]] = defaultdict(list)
    for c in demo:
        if c.related_to:
            groups[c.related_to].append(c)
    assert 3 <= len(groups) <= 5, len(groups)
    for group, later in groups.items():
        first = by_uuid[group]
        assert first.related_to == ""  # a group never chains
        for c in later:
            assert group_of(c.uuid, c.related_to) == group
            assert c.registered_at > first.registered_at
            # What the intake offered when this case was registered: the open first case.
            assert is_candidate(
                c.intake.category,
                c.intake.address,
                first.intake.category,
                first.intake.address,
                _status_at(first, c.registered_at),
                first.registered_at,
                c.registered_at,
            ), (c.number, first.number)
            # The link is in the registration event, exactly as the store writes it.
            _, events = replay(c)
            assert events[0].step is Step.REGISTER
            assert events[0].changes["related_to"] == ("", group)
    unlinked = next(c for c in demo if not c.related_to)
    assert "related_to" not in replay(unlinked)[1][0].changes


def test_stories_never_cut_and_statuses_all_there() -> None:
    demo = generate_demo(NOW, count=600)
    statuses = {replay(c)[0].status for c in demo}
    assert len(statuses) >= 8
    # A tiny set has no room for stories: no links, no hot spot, still the count asked for.
    tiny = generate_demo(NOW, count=20)
    assert len(tiny) == 20
    assert not any(c.related_to for c in tiny)
    assert not _hotspots(NOW, tiny)


def test_stories_deterministic() -> None:
    a = generate_demo(NOW, count=300, seed=3)
    b = generate_demo(NOW, count=300, seed=3)
    assert a == b
    assert [c.related_to for c in a] == [c.related_to for c in b]
    assert _hotspots(NOW, a) == _hotspots(NOW, b)
