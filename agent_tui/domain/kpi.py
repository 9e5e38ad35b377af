"""The figures the centre is ranked on, computed from the event log over a period.

Formulas (domain.md), and how each is counted here so that every case counts exactly once:

- 按时办结率 on-time completion = rounds replied by their deadline ÷ rounds due. A *round* opens
  when a case is dispatched to a department or reopened, and closes at the next re-dispatch or
  reopen. Its deadline is the last one set in it (dispatch, approved extension, reopen); its reply
  is the last ``reply`` in it. A round falls due at ``min(reply, deadline)``, is counted in the
  period that holds that instant (if it is not later than ``now``), and is on time iff it was
  replied by the deadline. A round ended by an approved return is not counted: the case went back.
- 回访率 callback rate = cases called back ÷ cases that must be called back, counted when they
  close (archived) in the period (domain.md, as corrected): those are the cases dispatched to a
  department and completed. Sampled direct answers (resolved on the call, drawn for a callback)
  are counted on their own line, ``callback_sampled``; direct answers not drawn and refused
  cases need no callback and are in neither denominator. A case closed after its last
  unreachable try counts as called back.
- 满意率 satisfaction = (satisfied + basically satisfied) ÷ ratings in the period (a rating is
  recorded for each callback that reached the caller).
- 解决率 resolution = callbacks whose caller answered "solved" (已解决) ÷ callbacks in the period
  that asked "was the problem solved?" and got an answer (已解决 or 未解决). Counted at the
  rating, like 满意率; a rating without that answer (an older seat) is in neither. The
  department's own outcome (``reply_outcome``) is not the caller's answer and does not count
  here: it is reported apart as replies by outcome.
- 及时签收率 timely signing = dispatches to a department signed by their sign deadline ÷ those
  dispatches in the period, leaving out dispatches still unsigned whose deadline has not passed.
  A forced sign (a refused return) counts at its time.
- 直办率 direct resolution = cases resolved directly ÷ cases registered in the period.
- 回退率 return rate = approved returns ÷ dispatches to a department; 重办率 reopen rate = reopens ÷
  ratings; average handling time = mean hours from sign to reply over replies in the period.
- replies by outcome = department replies in the period by their outcome (已解决, 部分解决, …;
  ``""`` for a free-text reply).

Drill-down: given a ``trace`` dict, ``compute_kpis`` also records, per KPI and case, the
case's contributions to the numerator and the denominator (``KpiTrace``); the lead console lists
the cases behind a figure from it, so a list and its figure never disagree.

Grouping: ``department`` is the case's lead department when the event happened (empty for steps
before dispatch, so 直办率 by department is always 0/0: a case answered on the call never had a
department); ``platform`` is the platform that registered the case; ``county`` is the county
(区县) of the case's address, where the matter is, whichever platform took the call; ``agent``
is the agent who took the step for agent steps (register, resolve, callback, rate) and the
receiving agent otherwise.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from agent_tui.domain.case import Satisfaction, Solved, Status
from agent_tui.domain.lifecycle import Event, Step

#: The case fields ``compute_kpis`` reads from the events' changes (a replay may decode only
#: these; ``tests/unit/test_kpi.py`` checks the figures are the same).
KPI_FIELDS = frozenset(
    {
        "department",
        "platform",
        "agent",
        "appeal_type",
        "category",
        "address",
        "handling_deadline",
        "sign_deadline",
        "signed_at",
        "satisfaction",
        "callback_solved",
        "callback_required",
        "reply_outcome",
    }
)

#: The KPIs a drill-down may name (the ranked figures).
TRACED = (
    "on_time",
    "callback",
    "satisfaction",
    "resolution",
    "timely_signing",
    "direct_resolution",
)

#: KPI name -> case uuid -> [numerator, denominator] contributed by that case.
KpiTrace = dict[str, dict[str, list[int]]]


class GroupBy(StrEnum):
    NONE = "none"
    DEPARTMENT = "department"
    PLATFORM = "platform"
    AGENT = "agent"
    COUNTY = "county"


@dataclass(slots=True)
class Ratio:
    numerator: int = 0
    denominator: int = 0

    @property
    def value(self) -> float | None:
        """The rate in [0, 1], or None when nothing was due (never a fake 0 % or 100 %)."""
        return self.numerator / self.denominator if self.denominator else None

    def percent(self) -> str:
        v = self.value
        return "—" if v is None else f"{v * 100:.2f}%"


@dataclass(slots=True)
class Kpis:
    on_time: Ratio = field(default_factory=Ratio)
    callback: Ratio = field(default_factory=Ratio)
    callback_sampled: Ratio = field(default_factory=Ratio)
    satisfaction: Ratio = field(default_factory=Ratio)
    resolution: Ratio = field(default_factory=Ratio)
    timely_signing: Ratio = field(default_factory=Ratio)
    direct_resolution: Ratio = field(default_factory=Ratio)
    returns: Ratio = field(default_factory=Ratio)
    reopens: Ratio = field(default_factory=Ratio)
    handling_hours_total: float = 0.0
    handling_count: int = 0
    volume_by_type: Counter[str] = field(default_factory=Counter)
    volume_by_category: Counter[str] = field(default_factory=Counter)
    volume_by_county: Counter[str] = field(default_factory=Counter)
    volume_by_department: Counter[str] = field(default_factory=Counter)
    replies_by_outcome: Counter[str] = field(default_factory=Counter)

    @property
    def registered(self) -> int:
        return self.direct_resolution.denominator

    @property
    def average_handling_hours(self) -> float | None:
        return self.handling_hours_total / self.handling_count if self.handling_count else None


@dataclass(slots=True)
class KpiReport:
    start: datetime
    end: datetime
    group_by: GroupBy
    total: Kpis
    groups: dict[str, Kpis]


@dataclass(slots=True)
class _Round:
    department: str
    deadline: datetime | None
    reply: datetime | None = None
    returned: bool = False


@dataclass(slots=True)
class _CaseState:
    fields: dict[str, Any] = field(default_factory=dict)
    round: _Round | None = None
    rounds: list[_Round] = field(default_factory=list)
    called_back: bool = False
    # pending dispatch awaiting a sign: (dispatched_at, sign_deadline, department, agent)
    pending_sign: tuple[datetime, datetime | None, str] | None = None


def _county(state: _CaseState) -> str:
    address = state.fields.get("address")
    return getattr(address, "county", "") if address else ""


def compute_kpis(
    events: Iterable[Event],
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    group_by: GroupBy = GroupBy.NONE,
    trace: KpiTrace | None = None,
) -> KpiReport:
    """Replay ``events`` (any order; sorted here by time) and count the KPIs for [start, end).

    With ``trace``, each case's contributions to the ranked KPIs are recorded in it too.
    """
    total = Kpis()
    groups: dict[str, Kpis] = defaultdict(Kpis)
    cases: dict[str, _CaseState] = defaultdict(_CaseState)

    def in_period(t: datetime) -> bool:
        return start <= t < end

    def targets(state: _CaseState, ev: Event, department: str | None = None) -> list[Kpis]:
        if group_by is GroupBy.NONE:
            return [total]
        if group_by is GroupBy.DEPARTMENT:
            key = department if department is not None else state.fields.get("department", "")
        elif group_by is GroupBy.PLATFORM:
            key = state.fields.get("platform", "")
        elif group_by is GroupBy.COUNTY:
            key = _county(state)
        elif ev.step in (Step.REGISTER, Step.RESOLVE, Step.CALLBACK, Step.RATE):
            key = ev.actor
        else:
            key = state.fields.get("agent", "")
        return [total, groups[key]]

    def note(kpi: str, case_uuid: str, numerator: int = 0, denominator: int = 0) -> None:
        if trace is not None:
            counts = trace.setdefault(kpi, {}).setdefault(case_uuid, [0, 0])
            counts[0] += numerator
            counts[1] += denominator

    def close_round(state: _CaseState) -> None:
        if state.round is not None:
            state.rounds.append(state.round)
            state.round = None

    def close_called_back(state: _CaseState, ev: Event) -> None:
        """A case closed in the period: into 回访率 if it had to be called back (dispatched to
        a department), or into the sampled line if it was a direct answer drawn for one."""
        if state.fields.get("department"):
            kpi = "callback"
        elif state.fields.get("callback_required"):
            kpi = "callback_sampled"
        else:
            return  # a direct answer not drawn for a callback: none was owed
        if kpi == "callback":
            note(kpi, ev.case_uuid, numerator=int(state.called_back), denominator=1)
        for k in targets(state, ev):
            ratio: Ratio = getattr(k, kpi)
            ratio.denominator += 1
            if state.called_back:
                ratio.numerator += 1

    ordered = sorted(events, key=lambda e: (e.at, e.version))
    for ev in ordered:
        state = cases[ev.case_uuid]
        before_department = state.fields.get("department", "")
        for name, (_old, new) in ev.changes.items():
            state.fields[name] = new
        here = in_period(ev.at)
        step = ev.step

        if step is Step.REGISTER and here:
            note("direct_resolution", ev.case_uuid, denominator=1)
            for k in targets(state, ev):
                k.direct_resolution.denominator += 1
                appeal = state.fields.get("appeal_type")
                k.volume_by_type[str(appeal) if appeal else ""] += 1
                k.volume_by_category[state.fields.get("category", "")] += 1
                address = state.fields.get("address")
                k.volume_by_county[getattr(address, "county", "") if address else ""] += 1
        elif step is Step.RESOLVE and here:
            note("direct_resolution", ev.case_uuid, numerator=1)
            for k in targets(state, ev):
                k.direct_resolution.numerator += 1
        elif step is Step.DISPATCH:
            department = state.fields.get("department", "")
            close_round(state)
            if not department:  # to a county platform: it dispatches on
                continue
            state.round = _Round(department, state.fields.get("handling_deadline"))
            state.pending_sign = (ev.at, state.fields.get("sign_deadline"), department)
            if here:
                note("timely_signing", ev.case_uuid, denominator=1)
                for k in targets(state, ev):
                    k.timely_signing.denominator += 1
                    k.returns.denominator += 1
                    k.volume_by_department[department] += 1
        elif step in (Step.SIGN, Step.REFUSE_RETURN) and state.pending_sign is not None:
            dispatched_at, sign_by, department = state.pending_sign
            state.pending_sign = None
            if in_period(dispatched_at) and (sign_by is None or ev.at <= sign_by):
                note("timely_signing", ev.case_uuid, numerator=1)
                for k in targets(state, ev, department):
                    k.timely_signing.numerator += 1
        elif step is Step.APPROVE_RETURN:
            if state.round is not None:
                state.round.returned = True
            close_round(state)
            if state.pending_sign is not None:
                # Returned before signing: the dispatch was not signed late, it was sent back.
                dispatched_at, _sign_by, department = state.pending_sign
                state.pending_sign = None
                if in_period(dispatched_at):
                    note("timely_signing", ev.case_uuid, denominator=-1)
                    for k in targets(state, ev, department):
                        k.timely_signing.denominator -= 1
            if here:
                for k in targets(state, ev, before_department):
                    k.returns.numerator += 1
        elif step is Step.APPROVE_EXTENSION and state.round is not None:
            state.round.deadline = state.fields.get("handling_deadline")
        elif step is Step.REPLY:
            if state.round is not None:
                state.round.reply = ev.at
            signed_at = state.fields.get("signed_at")
            outcome = state.fields.get("reply_outcome")
            if here:
                for k in targets(state, ev):
                    k.replies_by_outcome[str(outcome) if outcome else ""] += 1
                    if signed_at is not None:
                        k.handling_hours_total += (ev.at - signed_at).total_seconds() / 3600
                        k.handling_count += 1
        elif step is Step.CALLBACK:
            state.called_back = True
            if ev.to_status is Status.ARCHIVED and here:
                close_called_back(state, ev)
        elif step is Step.RATE and here:
            satisfaction = state.fields.get("satisfaction")
            satisfied = satisfaction in (Satisfaction.SATISFIED, Satisfaction.BASIC)
            note("satisfaction", ev.case_uuid, numerator=int(satisfied), denominator=1)
            answer = state.fields.get("callback_solved")
            solved = answer is Solved.SOLVED
            if answer is not None:
                note("resolution", ev.case_uuid, numerator=int(solved), denominator=1)
            for k in targets(state, ev):
                k.satisfaction.denominator += 1
                k.reopens.denominator += 1
                if satisfied:
                    k.satisfaction.numerator += 1
                if answer is not None:
                    k.resolution.denominator += 1
                    k.resolution.numerator += int(solved)
        elif step is Step.REOPEN:
            close_round(state)
            state.round = _Round(before_department, state.fields.get("handling_deadline"))
            if here:
                for k in targets(state, ev):
                    k.reopens.numerator += 1
        elif step is Step.ARCHIVE and here and ev.from_status not in (None, Status.REFUSED):
            close_called_back(state, ev)

    # Signs still pending whose deadline passed by ``now`` stay in the denominator (late); those
    # whose deadline is still ahead are not decided yet and leave it.
    for case_uuid, state in cases.items():
        close_round(state)
        if state.pending_sign is not None:
            dispatched_at, sign_by, department = state.pending_sign
            if in_period(dispatched_at) and sign_by is not None and sign_by > now:
                note("timely_signing", case_uuid, denominator=-1)
                for k in _group_targets(total, groups, group_by, state, department):
                    k.timely_signing.denominator -= 1
        for rnd in state.rounds:
            if rnd.returned or rnd.deadline is None:
                continue
            due = min(rnd.reply, rnd.deadline) if rnd.reply is not None else rnd.deadline
            if not in_period(due) or due > now:
                continue
            on_time = rnd.reply is not None and rnd.reply <= rnd.deadline
            note("on_time", case_uuid, numerator=int(on_time), denominator=1)
            for k in _group_targets(total, groups, group_by, state, rnd.department):
                k.on_time.denominator += 1
                if on_time:
                    k.on_time.numerator += 1

    return KpiReport(start, end, group_by, total, dict(groups))


def _group_targets(
    total: Kpis,
    groups: dict[str, Kpis],
    group_by: GroupBy,
    state: _CaseState,
    department: str,
) -> list[Kpis]:
    if group_by is GroupBy.NONE:
        return [total]
    if group_by is GroupBy.DEPARTMENT:
        key = department
    elif group_by is GroupBy.PLATFORM:
        key = state.fields.get("platform", "")
    elif group_by is GroupBy.COUNTY:
        key = _county(state)
    else:
        key = state.fields.get("agent", "")
    return [total, groups[key]]


def traced_cases(trace: KpiTrace, kpi: str, part: str) -> set[str]:
    """The cases behind ``kpi`` in a trace: ``met`` (in the numerator), ``missed`` (in the
    denominator, not the numerator) or ``all`` (the denominator). A case with several rounds in
    the period (reopened, re-dispatched) may be in both ``met`` and ``missed``."""
    out: set[str] = set()
    for case_uuid, (numerator, denominator) in trace.get(kpi, {}).items():
        if part == "met":
            keep = numerator > 0
        elif part == "missed":
            keep = denominator - numerator > 0
        else:
            keep = denominator > 0
        if keep:
            out.add(case_uuid)
    return out
