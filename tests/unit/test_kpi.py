"""KPI formulas on a hand-built event log whose figures are worked out by hand below."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from agent_tui.domain.case import Case, ReplyOutcome, Role, Satisfaction, Solved, Status
from agent_tui.domain.kpi import TRACED, GroupBy, KpiTrace, compute_kpis, traced_cases
from agent_tui.domain.lifecycle import Command, Event, Step, apply, register

from .lifecycle_helpers import INTAKE


def d(day: int, hour: int = 9, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


class Story:
    """Drives one case through real lifecycle steps and keeps its events."""

    def __init__(self, uuid: str, at: datetime, agent: str = "agent1", platform: str = "city"):
        self.case: Case
        self.case, event = register(
            INTAKE, uuid=uuid, actor=agent, role=Role.AGENT, at=at, platform=platform
        )
        self.events: list[Event] = [event]

    def step(
        self, step: Step, role: Role, at: datetime, actor: str = "", **params: object
    ) -> Story:
        dept = self.case.department if role is Role.DEPARTMENT else ""
        cmd = Command(step, actor or role.value, role, at, actor_department=dept)
        self.case, event = apply(self.case, replace(cmd, **params))  # type: ignore[arg-type]
        self.events.append(event)
        return self

    def dispatch(self, dept: str, at: datetime, sign_by: datetime, due: datetime) -> Story:
        return self.step(
            Step.DISPATCH,
            Role.AGENT,
            at,
            department=dept,
            sign_deadline=sign_by,
            return_deadline=due,
            handling_deadline=due,
        )

    def close_with_callback(
        self, at: datetime, satisfaction: Satisfaction, solved: Solved | None = None
    ) -> Story:
        self.step(Step.REVIEW_PASS, Role.AGENT, at)
        self.step(Step.CALLBACK, Role.AGENT, at, actor="agent2", reached=True)
        return self.step(
            Step.RATE, Role.AGENT, at, actor="agent2", satisfaction=satisfaction, solved=solved
        )


def build_log() -> list[Event]:
    a = Story("A", d(2, 8))
    a.dispatch("CGJ", d(2), sign_by=d(3), due=d(9)).step(Step.SIGN, Role.DEPARTMENT, d(2, 10))
    a.step(
        Step.REPLY,
        Role.DEPARTMENT,
        d(5),
        result="已处理",
        outcome=ReplyOutcome.RESOLVED,
        officer="王强",
        officer_phone="13903960001",
    )
    a.close_with_callback(d(6), Satisfaction.SATISFIED, Solved.SOLVED)
    a.step(Step.ARCHIVE, Role.AGENT, d(7))

    b = Story("B", d(3, 8), platform="411726")
    b.dispatch("GAJ", d(3), sign_by=d(4), due=d(10)).step(Step.SIGN, Role.DEPARTMENT, d(5))
    b.step(Step.REPLY, Role.DEPARTMENT, d(12), result="已处理").step(
        Step.REVIEW_PASS, Role.AGENT, d(13)
    )
    for day in (14, 15, 16):
        b.step(Step.CALLBACK, Role.AGENT, d(day), reached=False)
    assert b.case.status is Status.ARCHIVED

    c = Story("C", d(4, 8), agent="agent2")
    c.step(Step.RESOLVE, Role.AGENT, d(4, 8), actor="agent2", result="已告知")
    c.step(Step.ARCHIVE, Role.AGENT, d(4, 9))

    dd = Story("D", d(5, 8))
    dd.dispatch("CGJ", d(5), sign_by=d(6), due=d(12))
    dd.step(Step.REQUEST_RETURN, Role.DEPARTMENT, d(5, 11), reason="非本单位职责")
    dd.step(Step.APPROVE_RETURN, Role.LEAD, d(5, 12))
    dd.dispatch("GAJ", d(5, 13), sign_by=d(6), due=d(12)).step(Step.SIGN, Role.DEPARTMENT, d(6, 8))
    dd.step(Step.REQUEST_EXTENSION, Role.DEPARTMENT, d(10), reason="协调", new_deadline=d(20))
    dd.step(Step.APPROVE_EXTENSION, Role.LEAD, d(10, 10))
    dd.step(
        Step.REPLY,
        Role.DEPARTMENT,
        d(18),
        result="已处理",
        outcome=ReplyOutcome.PARTLY,
        officer="李红",
        officer_phone="0396-2345678",
    )
    dd.close_with_callback(d(19), Satisfaction.DISSATISFIED, Solved.UNSOLVED)
    dd.step(Step.REOPEN, Role.AGENT, d(19, 10), reason="问题仍在", handling_deadline=d(25))
    dd.step(Step.REPLY, Role.DEPARTMENT, d(24), result="已彻底处理")
    dd.close_with_callback(d(26), Satisfaction.BASIC, Solved.SOLVED)
    dd.step(Step.ARCHIVE, Role.AGENT, d(26, 10))

    e = Story("E", d(6, 8))
    e.step(Step.REFUSE, Role.AGENT, d(6, 8), reason="属于诉讼").step(Step.ARCHIVE, Role.AGENT, d(6))

    f = Story("F", d(28, 8))
    f.dispatch("CGJ", d(28), sign_by=d(1, 9, month=12), due=d(5, 9, month=12))

    g = Story("G", d(20, 8, month=10))  # before the period: must not count
    g.step(Step.RESOLVE, Role.AGENT, d(20, 9, month=10), result="已告知")
    return [*a.events, *b.events, *c.events, *dd.events, *e.events, *f.events, *g.events]


START, END, NOW = d(1, 0), d(1, 0, month=12), d(30, 12)


def test_totals_match_the_hand_count() -> None:
    report = compute_kpis(build_log(), start=START, end=END, now=NOW)
    k = report.total
    assert (k.direct_resolution.numerator, k.direct_resolution.denominator) == (1, 6)
    # A on time, B late; D's first dispatch was returned unsigned; F is not yet due to sign.
    assert (k.timely_signing.numerator, k.timely_signing.denominator) == (2, 3)
    # A on time, B late, D's extended round on time, D's reopened round on time; F not due.
    assert (k.on_time.numerator, k.on_time.denominator) == (3, 4)
    # Closed after a dispatch (owed a callback): A, B (unreachable after 3 tries), D; all three
    # called back. C, a direct answer not drawn for a callback, owed none: the old rule counted
    # it in the denominator (3 of 4); domain.md's corrected rule does not (3 of 3). E refused.
    assert (k.callback.numerator, k.callback.denominator) == (3, 3)
    assert (k.callback_sampled.numerator, k.callback_sampled.denominator) == (0, 0)
    assert (k.satisfaction.numerator, k.satisfaction.denominator) == (2, 3)
    # Asked "solved?": A solved; D unsolved, then solved after the reopen.
    assert (k.resolution.numerator, k.resolution.denominator) == (2, 3)
    # Replies: A structured (resolved), B free text, D partly, then D again free text.
    assert k.replies_by_outcome == {"resolved": 1, "partly": 1, "": 2}
    assert (k.returns.numerator, k.returns.denominator) == (1, 5)
    assert (k.reopens.numerator, k.reopens.denominator) == (1, 3)
    assert k.on_time.value == pytest.approx(0.75) and k.on_time.percent() == "75.00%"
    # Handling time sign → reply: A 71 h, B 7 days = 168 h, D 12 days + D again 18 days - 1 h.
    hours = [71, 168, 12 * 24 + 1, 18 * 24 + 1]
    assert k.handling_count == 4
    assert k.average_handling_hours == pytest.approx(sum(hours) / 4)
    assert k.volume_by_type["complaint"] == 6 and k.volume_by_county["驿城区"] == 6


def test_grouped_by_department() -> None:
    report = compute_kpis(build_log(), start=START, end=END, now=NOW, group_by=GroupBy.DEPARTMENT)
    cgj, gaj = report.groups["CGJ"], report.groups["GAJ"]
    assert (cgj.on_time.numerator, cgj.on_time.denominator) == (1, 1)
    assert (gaj.on_time.numerator, gaj.on_time.denominator) == (2, 3)
    assert (cgj.timely_signing.numerator, cgj.timely_signing.denominator) == (1, 1)
    assert (gaj.timely_signing.numerator, gaj.timely_signing.denominator) == (1, 2)
    assert (cgj.returns.numerator, cgj.returns.denominator) == (1, 3)
    assert report.total.on_time.denominator == 4


def test_grouped_by_platform_and_agent() -> None:
    by_platform = compute_kpis(
        build_log(), start=START, end=END, now=NOW, group_by=GroupBy.PLATFORM
    )
    assert by_platform.groups["411726"].on_time.denominator == 1  # B
    assert by_platform.groups["city"].direct_resolution.denominator == 5
    by_agent = compute_kpis(build_log(), start=START, end=END, now=NOW, group_by=GroupBy.AGENT)
    # agent2 registered C and resolved it; agent2 also made the reached callbacks and ratings.
    assert (
        by_agent.groups["agent2"].direct_resolution.numerator,
        by_agent.groups["agent2"].direct_resolution.denominator,
    ) == (1, 1)
    assert by_agent.groups["agent2"].satisfaction.denominator == 3


def test_a_later_now_decides_pending_signs_and_deadlines() -> None:
    later = compute_kpis(build_log(), start=START, end=d(31, 0, month=12), now=d(30, 0, month=12))
    # F was never signed and its sign deadline passed: late. Its handling deadline passed: late.
    assert (later.total.timely_signing.numerator, later.total.timely_signing.denominator) == (2, 4)
    assert (later.total.on_time.numerator, later.total.on_time.denominator) == (3, 5)


def test_an_empty_period_has_no_rate_not_a_zero() -> None:
    report = compute_kpis(build_log(), start=d(1, 0, month=1), end=d(2, 0, month=1), now=NOW)
    assert report.total.on_time.value is None and report.total.on_time.percent() == "—"


def test_event_order_does_not_matter() -> None:
    log = build_log()
    a = compute_kpis(log, start=START, end=END, now=NOW).total
    b = compute_kpis(list(reversed(log)), start=START, end=END, now=NOW).total
    assert (a.on_time.numerator, a.callback.numerator, a.timely_signing.denominator) == (
        b.on_time.numerator,
        b.callback.numerator,
        b.timely_signing.denominator,
    )


# --- drill-down: the cases behind each figure ----------------------------------------------------


def test_the_trace_adds_up_to_each_figure_and_names_the_cases() -> None:
    trace: KpiTrace = {}
    k = compute_kpis(build_log(), start=START, end=END, now=NOW, trace=trace).total
    for name in TRACED:
        ratio = getattr(k, name)
        numerator = sum(n for n, _ in trace.get(name, {}).values())
        denominator = sum(d for _, d in trace.get(name, {}).values())
        assert (numerator, denominator) == (ratio.numerator, ratio.denominator), name
    assert traced_cases(trace, "on_time", "met") == {"A", "D"}  # D: two rounds, both on time
    assert traced_cases(trace, "on_time", "missed") == {"B"}
    # D's first dispatch went back unsigned and F is not due to sign yet: neither counts.
    assert traced_cases(trace, "timely_signing", "all") == {"A", "B", "D"}
    assert traced_cases(trace, "timely_signing", "missed") == {"B"}
    # D was rated twice: dissatisfied, then basically satisfied: in both lists.
    assert traced_cases(trace, "satisfaction", "met") == {"A", "D"}
    assert traced_cases(trace, "satisfaction", "missed") == {"D"}
    assert traced_cases(trace, "direct_resolution", "met") == {"C"}
    assert traced_cases(trace, "direct_resolution", "all") == {"A", "B", "C", "D", "E", "F"}
    # C (a direct answer not drawn for a callback) owed none: not in 回访率 (domain.md).
    assert traced_cases(trace, "callback", "all") == {"A", "B", "D"}
    assert traced_cases(trace, "resolution", "met") == {"A", "D"}
    assert traced_cases(trace, "resolution", "missed") == {"D"}


def test_a_trace_does_not_change_the_figures() -> None:
    plain = compute_kpis(build_log(), start=START, end=END, now=NOW, group_by=GroupBy.DEPARTMENT)
    traced = compute_kpis(
        build_log(), start=START, end=END, now=NOW, group_by=GroupBy.DEPARTMENT, trace={}
    )
    assert plain == traced


@pytest.mark.parametrize("group_by", list(GroupBy))
def test_the_kpi_fields_are_all_the_replay_needs(group_by: GroupBy) -> None:
    """A replay may decode only ``KPI_FIELDS`` of each event's changes: on a month of demo
    cases in every state the figures are the same as from the whole changes."""
    from agent_tui.demo import generate_demo, replay
    from agent_tui.domain.kpi import KPI_FIELDS

    now = datetime(2026, 11, 26, 7, 30, tzinfo=UTC)
    events = [e for case in generate_demo(now, count=600) for e in replay(case)[1]]
    assert any(len(e.changes) > len(KPI_FIELDS) for e in events)  # the register events
    slim = [
        replace(e, changes={k: v for k, v in e.changes.items() if k in KPI_FIELDS}) for e in events
    ]
    start, end = datetime(2026, 10, 27, tzinfo=UTC), now
    assert compute_kpis(slim, start=start, end=end, now=now, group_by=group_by) == compute_kpis(
        events, start=start, end=end, now=now, group_by=group_by
    )


def test_sampled_direct_answers_are_on_their_own_callback_line() -> None:
    """A direct answer drawn for a callback counts in ``callback_sampled``, not in 回访率;
    one not drawn is in neither (it owed no callback)."""
    h = Story("H", d(7, 8))
    h.step(Step.RESOLVE, Role.AGENT, d(7, 8), result="已告知", sample_callback=True)
    h.step(Step.CALLBACK, Role.AGENT, d(8), reached=True)
    h.step(Step.RATE, Role.AGENT, d(8), satisfaction=Satisfaction.SATISFIED)
    h.step(Step.ARCHIVE, Role.AGENT, d(8, 10))
    i = Story("I", d(7, 8))
    i.step(Step.RESOLVE, Role.AGENT, d(7, 8), result="已告知", sample_callback=False)
    i.step(Step.ARCHIVE, Role.AGENT, d(7, 9))
    k = compute_kpis([*h.events, *i.events], start=START, end=END, now=NOW).total
    assert (k.callback_sampled.numerator, k.callback_sampled.denominator) == (1, 1)
    assert (k.callback.numerator, k.callback.denominator) == (0, 0)
    # H was rated without the "solved?" question (an older seat): not in 解决率.
    assert (k.resolution.numerator, k.resolution.denominator) == (0, 0)
    assert (k.satisfaction.numerator, k.satisfaction.denominator) == (1, 1)


def test_resolution_counts_only_callbacks_that_asked() -> None:
    """解决率 = answered 已解决 ÷ ratings that got an answer to "solved?"; satisfaction and the
    department's own outcome do not decide it."""
    cases = []
    for uuid, outcome, solved, satisfaction in (
        ("P", ReplyOutcome.RESOLVED, Solved.UNSOLVED, Satisfaction.SATISFIED),
        ("Q", ReplyOutcome.UNRESOLVED, Solved.SOLVED, Satisfaction.DISSATISFIED),
        ("R", ReplyOutcome.EXPLAINED, None, Satisfaction.BASIC),
    ):
        s = Story(uuid, d(2, 8))
        s.dispatch("CGJ", d(2), sign_by=d(3), due=d(9)).step(Step.SIGN, Role.DEPARTMENT, d(2, 10))
        s.step(
            Step.REPLY,
            Role.DEPARTMENT,
            d(4),
            result="已处理",
            outcome=outcome,
            officer="王强",
            officer_phone="13903960001",
        )
        s.close_with_callback(d(5), satisfaction, solved)
        cases.extend(s.events)
    trace: KpiTrace = {}
    k = compute_kpis(cases, start=START, end=END, now=NOW, trace=trace).total
    assert (k.resolution.numerator, k.resolution.denominator) == (1, 2)
    assert traced_cases(trace, "resolution", "met") == {"Q"}
    assert traced_cases(trace, "resolution", "missed") == {"P"}
    assert k.replies_by_outcome == {"resolved": 1, "unresolved": 1, "explained": 1}
