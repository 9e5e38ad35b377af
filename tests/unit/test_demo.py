"""The demo data generator: every case replays through the real lifecycle, realistically."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import datetime

import pytest

from agent_tui.data.reference import load_reference
from agent_tui.demo import DEMO_PASSWORD, DemoCase, demo_users, generate_demo, replay
from agent_tui.domain.calendar import SHANGHAI
from agent_tui.domain.case import (
    AppealType,
    Case,
    Role,
    Status,
    SupervisionLevel,
    normalize_phone,
    validate_intake,
)
from agent_tui.domain.lifecycle import Event, Step

NOW = datetime(2026, 11, 26, 15, 30, tzinfo=SHANGHAI)
COUNT = 3000


@pytest.fixture(scope="module")
def demo() -> list[DemoCase]:
    return generate_demo(NOW, count=COUNT)


@pytest.fixture(scope="module")
def replayed(demo: list[DemoCase]) -> list[tuple[Case, list[Event]]]:
    return [replay(case) for case in demo]


def test_count_and_unique_ids(demo: list[DemoCase]) -> None:
    assert len(demo) == COUNT
    assert len({c.uuid for c in demo}) == COUNT
    assert len({c.number for c in demo}) == COUNT


def test_every_case_replays_and_every_status_appears(
    demo: list[DemoCase], replayed: list[tuple[Case, list[Event]]]
) -> None:
    statuses = Counter(case.status for case, _ in replayed)
    assert set(statuses) == set(Status), statuses
    for demo_case, (case, events) in zip(demo, replayed, strict=True):
        assert case.uuid == demo_case.uuid
        assert len(events) == len(demo_case.steps) + 1
    # Older cases are mostly closed, recent ones mostly open.
    old = [case for case, _ in replayed if (NOW - case.registered_at).days >= 14]  # type: ignore[operator]
    recent = [case for case, _ in replayed if (NOW - case.registered_at).days < 1]  # type: ignore[operator]
    assert sum(c.status is Status.ARCHIVED for c in old) / len(old) > 0.9
    assert sum(c.is_open for c in recent) / len(recent) > 0.5


def test_appeal_type_mix(demo: list[DemoCase]) -> None:
    mix = Counter(c.intake.appeal_type for c in demo)
    assert abs(mix[AppealType.COMPLAINT] / COUNT - 0.51) < 0.03
    assert abs(mix[AppealType.INQUIRY] / COUNT - 0.34) < 0.03
    assert set(mix) == set(AppealType)


def test_outcome_rates(demo: list[DemoCase]) -> None:
    steps = Counter(step.step for c in demo for step in c.steps)
    inquiries = sum(c.intake.appeal_type is AppealType.INQUIRY for c in demo)
    assert 0.3 < steps[Step.RESOLVE] / inquiries < 0.5
    assert 0.015 < steps[Step.REFUSE] / COUNT < 0.045
    for step in (Step.REQUEST_RETURN, Step.REQUEST_EXTENSION, Step.REVIEW_FAIL, Step.REOPEN):
        assert steps[step] > 10, step
    for step in Step:
        if step is not Step.REGISTER:
            assert steps[step] > 0, step


def test_times_never_in_the_future_and_strictly_increasing(demo: list[DemoCase]) -> None:
    start = min(c.registered_at for c in demo)
    assert (NOW - start).days <= 30
    for c in demo:
        times = [c.registered_at, *(s.at for s in c.steps)]
        assert all(a < b for a, b in itertools.pairwise(times)), c.number
        assert times[-1] <= NOW


def test_hourly_and_weekly_pattern(demo: list[DemoCase]) -> None:
    hours = Counter(c.registered_at.astimezone(SHANGHAI).hour for c in demo)
    busy = sum(hours[h] for h in (9, 10, 15, 16))
    night = sum(hours[h] for h in (1, 2, 3, 4))
    assert busy > 10 * night
    days = Counter(c.registered_at.astimezone(SHANGHAI).weekday() >= 5 for c in demo)
    assert days[True] / 2 < days[False] / 5  # a weekend day is lighter than a weekday


def test_intakes_are_valid(demo: list[DemoCase]) -> None:
    known = frozenset(c.code for c in load_reference().categories)
    for c in demo:
        assert validate_intake(c.intake, known_categories=known) == c.intake
        if c.intake.caller_phone:
            assert normalize_phone(c.intake.caller_phone) == c.intake.caller_phone
        assert "{" not in c.intake.content


def test_deterministic(demo: list[DemoCase]) -> None:
    assert generate_demo(NOW, count=200, seed=7) == generate_demo(NOW, count=200, seed=7)
    assert generate_demo(NOW, count=200, seed=7) != generate_demo(NOW, count=200, seed=8)
    assert generate_demo(NOW, count=COUNT) == demo


def test_repeat_confidential_and_anonymous_callers(demo: list[DemoCase]) -> None:
    phones = Counter(c.intake.caller_phone for c in demo if c.intake.caller_phone)
    assert sum(n >= 3 for n in phones.values()) >= 10
    assert sum(c.intake.confidential for c in demo) > 50
    anonymous = [c for c in demo if c.intake.anonymous]
    assert anonymous
    assert all(c.intake.appeal_type is not AppealType.HELP for c in anonymous)


def test_actors_are_demo_users_and_departments_exist(demo: list[DemoCase]) -> None:
    ref = load_reference()
    users = {u.user_id: u for u in demo_users(ref)}
    assert all(u.password == DEMO_PASSWORD for u in users.values())
    assert {"agent01", "agent08", "lead01", "lead02", "admin", "cgj", "by_agent01"} <= set(users)
    for c in demo:
        assert users[c.agent].role is Role.AGENT
        assert users[c.agent].platform == c.platform
        for step in c.steps:
            if step.role is Role.SYSTEM:
                assert step.actor == "system"
                continue
            assert users[step.actor].role is step.role, (c.number, step)
            if step.role is Role.DEPARTMENT:
                assert users[step.actor].department == step.actor_department
            for code in (step.department, *step.co_departments):
                if code:
                    assert ref.department(code) is not None, code


def test_deadlines_and_supervision(
    demo: list[DemoCase], replayed: list[tuple[Case, list[Event]]]
) -> None:
    for c in demo:
        for step in c.steps:
            if step.step is Step.DISPATCH:
                assert step.sign_deadline and step.return_deadline and step.handling_deadline
                assert step.return_deadline <= step.handling_deadline
            if step.step is Step.SUPERVISE:
                assert step.role is Role.LEAD and step.reason in ("领导交办", "热点问题")
    levels = Counter(case.supervision for case, _ in replayed)
    assert levels[SupervisionLevel.REMINDED] and levels[SupervisionLevel.NOTICE]
    assert levels[SupervisionLevel.SUPERVISED]
    late = [
        case
        for case, _ in replayed
        if case.replied_at and case.handling_deadline and case.replied_at > case.handling_deadline
    ]
    assert late


def test_naive_now_is_rejected() -> None:
    with pytest.raises(ValueError):
        generate_demo(datetime(2026, 11, 26, 15, 30), count=1)
