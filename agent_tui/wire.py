"""The HTTP contract shared by the central store and the seat client: bodies and answers.

Field limits here only stop abuse (a 10 MB "content"); the domain gives the agent's messages
(``validate_intake``), so limits are a little wider than the domain's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from agent_tui.domain.case import (
    CONTENT_MAX,
    DETAIL_MAX,
    NOTE_MAX,
    OFFICER_MAX,
    REASON_MAX,
    RESULT_MAX,
    Address,
    AppealType,
    CallbackResult,
    Case,
    Channel,
    CoOpinion,
    Gender,
    ReplyOutcome,
    Role,
    Satisfaction,
    Solved,
    Status,
    SupervisionLevel,
    Urgency,
)
from agent_tui.domain.lifecycle import CO_OPINION_MAX, Step


def _no_nul(value: Any) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("不能包含空字符（\\0）")
    elif isinstance(value, dict):
        for v in value.values():
            _no_nul(v)
    elif isinstance(value, list):
        for v in value:
            _no_nul(v)


class Strict(BaseModel):
    """Request bodies: unknown fields refused, no NUL characters anywhere (unstorable)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: Any) -> Any:
        _no_nul(data)
        return data


Code = Annotated[str, Field(max_length=16)]
Reason = Annotated[str, Field(min_length=1, max_length=REASON_MAX)]


# --- auth ---------------------------------------------------------------------------------------


class LoginRequest(Strict):
    user_id: str = Field(min_length=1, max_length=32)
    password: str = Field(min_length=1, max_length=200)


class UserPublic(BaseModel):
    user_id: str
    name: str
    role: Role
    department: str = ""
    platform: str = "city"


class TokenResponse(BaseModel):
    token: str
    expires_at: datetime
    user: UserPublic


# --- cases --------------------------------------------------------------------------------------


class AddressIn(Strict):
    county: str = Field(default="", max_length=40)
    township: str = Field(default="", max_length=40)
    village: str = Field(default="", max_length=60)
    road: str = Field(default="", max_length=80)
    detail: str = Field(default="", max_length=DETAIL_MAX * 2)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)


class CaseCreate(Strict):
    """A new case. ``uuid`` is made by the seat: sending it again returns the same case."""

    uuid: UUID
    appeal_type: AppealType
    content: str = Field(max_length=CONTENT_MAX * 2)
    channel: Channel = Channel.PHONE
    urgency: Urgency = Urgency.NORMAL
    caller_phone: str = Field(default="", max_length=40)
    caller_name: str = Field(default="", max_length=60)
    gender: Gender = Gender.UNKNOWN
    confidential: bool = False
    anonymous: bool = False
    category: str = Field(default="", max_length=16)
    address: AddressIn = Field(default_factory=AddressIn)
    #: When the agent saved it at the seat (an offline seat sends it later); default: now.
    registered_at: AwareDatetime | None = None
    #: Link to a related open case (关联工单): the new case joins that case's group.
    related_to: UUID | None = None
    #: The number the seat gave the case at save (from a block reserved for ``seat_id``):
    #: the case's number for ever. Empty: the store numbers the case itself.
    number: str = Field(default="", max_length=40)
    seat_id: str = Field(default="", max_length=64)

    @model_validator(mode="after")
    def _number_from_a_seat(self) -> CaseCreate:
        if self.number and not self.seat_id:
            raise ValueError("带编号的工单须注明坐席（seat_id）")
        return self


class AddressOut(BaseModel):
    county: str = ""
    township: str = ""
    village: str = ""
    road: str = ""
    detail: str = ""
    lat: float | None = None
    lon: float | None = None


class EventPublic(BaseModel):
    id: int
    seq: int
    step: Step
    actor: str
    role: Role
    at: datetime
    from_status: Status | None
    to_status: Status
    reason: str = ""
    changes: dict[str, Any] = Field(default_factory=dict)
    version: int


class CoOpinionOut(BaseModel):
    """A co-department's opinion (协办意见) as the case carries it."""

    department: str
    text: str
    officer: str
    phone: str = ""
    at: datetime | None = None


class CoOpinionDue(BaseModel):
    """A co-department whose opinion has not come in: when it is due and whether it is late
    (``rules.co_opinion_overdue``, as of the answer)."""

    department: str
    due: datetime | None = None
    overdue: bool = False


class CasePublic(BaseModel):
    uuid: str
    number: str
    status: Status
    appeal_type: AppealType
    channel: Channel
    urgency: Urgency
    caller_phone: str
    caller_name: str
    gender: Gender
    confidential: bool
    anonymous: bool
    masked: bool = False  # caller identity hidden from this viewer (保密)
    category: str
    address: AddressOut
    content: str
    platform: str
    agent: str
    registered_at: datetime
    department: str
    co_departments: list[str]
    assigned_platform: str
    dispatched_at: datetime | None
    sign_deadline: datetime | None
    return_deadline: datetime | None
    handling_deadline: datetime | None
    deadline_provisional: bool
    signed_at: datetime | None
    requested_deadline: datetime | None
    extensions: int
    returns: int
    replied_at: datetime | None
    result: str
    #: The structured reply (defaults: a free-text reply, or a cache from before them).
    reply_outcome: ReplyOutcome | None = None
    reply_officer: str = ""
    reply_phone: str = ""
    refusal_reason: str
    callback_required: bool
    callback_attempts: int
    callback_result: CallbackResult | None
    satisfaction: Satisfaction | None
    callback_solved: Solved | None = None
    callback_note: str = ""
    reopens: int
    supervision: int
    #: 领导交办: a leader registered or dispatched it (the store decides, from the account).
    leader_assigned: bool = False
    archived_at: datetime | None
    #: Repeat calls about the open case: urges (催办) and when the last came; supplements (补充).
    urges: int = 0
    last_urged_at: datetime | None = None
    supplements: int = 0
    #: Co-departments' opinions (协办意见) received; when they are due; the co-departments
    #: still owing one (each with the due time and whether it is overdue now).
    co_opinions: list[CoOpinionOut] = Field(default_factory=list)
    co_opinion_deadline: datetime | None = None
    co_missing: list[CoOpinionDue] = Field(default_factory=list)
    version: int
    updated_at: datetime
    #: The group of related cases it belongs to (its first case's uuid); "" when not linked.
    related_to: str = ""
    overdue: bool = False
    events: list[EventPublic] | None = None


def domain_case(public: CasePublic) -> Case:
    """The case as the domain's state machine reads it (which steps a role may take now)."""
    a = public.address
    return Case(
        uuid=public.uuid,
        appeal_type=public.appeal_type,
        content=public.content,
        status=public.status,
        channel=public.channel,
        urgency=public.urgency,
        number=public.number,
        caller_phone=public.caller_phone,
        caller_name=public.caller_name,
        gender=public.gender,
        confidential=public.confidential,
        anonymous=public.anonymous,
        category=public.category,
        address=Address(a.county, a.township, a.village, a.road, a.detail),
        platform=public.platform,
        agent=public.agent,
        registered_at=public.registered_at,
        department=public.department,
        co_departments=tuple(public.co_departments),
        assigned_platform=public.assigned_platform,
        dispatched_at=public.dispatched_at,
        sign_deadline=public.sign_deadline,
        return_deadline=public.return_deadline,
        handling_deadline=public.handling_deadline,
        deadline_provisional=public.deadline_provisional,
        signed_at=public.signed_at,
        requested_deadline=public.requested_deadline,
        extensions=public.extensions,
        returns=public.returns,
        replied_at=public.replied_at,
        result=public.result,
        reply_outcome=public.reply_outcome,
        reply_officer=public.reply_officer,
        reply_phone=public.reply_phone,
        refusal_reason=public.refusal_reason,
        callback_required=public.callback_required,
        callback_attempts=public.callback_attempts,
        callback_result=public.callback_result,
        satisfaction=public.satisfaction,
        callback_solved=public.callback_solved,
        callback_note=public.callback_note,
        reopens=public.reopens,
        supervision=SupervisionLevel(public.supervision),
        leader_assigned=public.leader_assigned,
        archived_at=public.archived_at,
        urges=public.urges,
        last_urged_at=public.last_urged_at,
        supplements=public.supplements,
        co_opinions=tuple(
            CoOpinion(o.department, o.text, o.officer, o.phone, o.at) for o in public.co_opinions
        ),
        co_opinion_deadline=public.co_opinion_deadline,
        version=public.version,
    )


class CasePage(BaseModel):
    items: list[CasePublic]
    next_cursor: str | None = None


# --- steps --------------------------------------------------------------------------------------


class StepBody(Strict):
    """Every step names the version it was decided on and carries a command id for retries."""

    command_id: UUID
    version: int = Field(ge=1, le=2**31 - 1)


class ReasonBody(StepBody):
    reason: Reason


class RepeatCallBody(StepBody):
    """A repeat call about an open case: an urge (催办, ``reason``: what the caller said) or a
    supplement (补充, ``reason``: the information added). ``version`` is the version the seat
    saw; the store adds the call to the case as it is now (it decides nothing about the case,
    so a newer version is no conflict), and refuses it (409) once the case is closed."""

    reason: Reason


class CoOpinionBody(StepBody):
    """A co-department's opinion (协办意见): the text, its handling officer (经办人) and a
    contact phone (optional; checked like a caller's). ``version`` is the version the seat
    saw; the store adds the opinion to the case as it is now (it decides nothing about the
    lead department's steps), once per co-department (a second: 409 已提交协办意见)."""

    opinion: str = Field(min_length=1, max_length=CO_OPINION_MAX)
    officer: str = Field(min_length=1, max_length=OFFICER_MAX)
    phone: str = Field(default="", max_length=20)


class ResolveBody(StepBody):
    result: str = Field(min_length=1, max_length=RESULT_MAX)
    #: None: the server samples directly resolved cases for callback at its configured rate.
    sample_callback: bool | None = None


class DispatchBody(StepBody):
    department: Code = ""
    co_departments: list[Code] = Field(default_factory=list, max_length=10)
    platform: Code = ""


class ExtensionRequestBody(StepBody):
    reason: Reason
    new_deadline: AwareDatetime


class ExtensionApproveBody(StepBody):
    #: Default: the date the department asked for.
    deadline: AwareDatetime | None = None


class ReplyBody(StepBody):
    """A department's reply. The outcome, officer and phone make it a structured reply (the
    rules: ``domain.outcome.check_reply``); without them it is a free-text reply."""

    outcome: ReplyOutcome | None = None
    result: str = Field(min_length=1, max_length=RESULT_MAX)
    officer: str = Field(default="", max_length=OFFICER_MAX * 2)
    officer_phone: str = Field(default="", max_length=40)


class CallbackBody(StepBody):
    reached: bool


class RateBody(StepBody):
    """The callback's answers: solved? (None: not asked), satisfied?, what the caller said."""

    solved: Solved | None = None
    satisfaction: Satisfaction
    note: str = Field(default="", max_length=NOTE_MAX)


#: The request body of each step's endpoint.
STEP_BODIES: dict[Step, type[StepBody]] = {
    Step.REFUSE: ReasonBody,
    Step.RESOLVE: ResolveBody,
    Step.DISPATCH: DispatchBody,
    Step.SIGN: StepBody,
    Step.REQUEST_RETURN: ReasonBody,
    Step.APPROVE_RETURN: StepBody,
    Step.REFUSE_RETURN: ReasonBody,
    Step.REQUEST_EXTENSION: ExtensionRequestBody,
    Step.APPROVE_EXTENSION: ExtensionApproveBody,
    Step.REFUSE_EXTENSION: ReasonBody,
    Step.REPLY: ReplyBody,
    Step.CO_OPINION: CoOpinionBody,
    Step.REVIEW_PASS: StepBody,
    Step.REVIEW_FAIL: ReasonBody,
    Step.CALLBACK: CallbackBody,
    Step.RATE: RateBody,
    Step.REOPEN: ReasonBody,
    Step.URGE: RepeatCallBody,
    Step.SUPPLEMENT: RepeatCallBody,
    Step.REMIND: StepBody,
    Step.SUPERVISE: ReasonBody,
    Step.NOTICE: StepBody,
    Step.PUBLIC_NOTICE: StepBody,
    Step.ARCHIVE: StepBody,
}


# --- feed, reference, reports -------------------------------------------------------------------


class Change(BaseModel):
    seq: int
    #: "case": ``case`` is its state now; "withdrawn": the case ``name`` (its uuid) left what
    #: this reader may see (re-dispatched to another department, say): drop it from the cache;
    #: "reference": the reference set ``name`` is at ``version`` now.
    kind: str
    case: CasePublic | None = None
    name: str = ""
    version: int = 0


class ChangesPage(BaseModel):
    changes: list[Change]
    last_seq: int  # ask again with after=last_seq


class ReferenceInfo(BaseModel):
    name: str
    version: int
    etag: str


class SeatHeartbeat(Strict):
    seat_id: str = Field(min_length=1, max_length=64)
    outbox: int = Field(default=0, ge=0, le=10_000_000)


class NumberReserve(Strict):
    """A block of case numbers for a seat to hand out at save, online or offline."""

    seat_id: str = Field(min_length=1, max_length=64)
    count: int = Field(default=20, ge=1, le=200)
    #: The series' year (default: this year; the next one only in the last week of December).
    year: int | None = Field(default=None, ge=2000, le=2999)


class NumberBlock(BaseModel):
    """Running numbers ``first``..``last`` of ``platform``'s ``year`` series, reserved for
    ``seat_id``: the seat makes ``{prefix}-{yyyymmdd}-{running:04d}`` of them."""

    id: int
    platform: str
    prefix: str
    year: int
    first: int
    last: int
    seat_id: str
    user_id: str
    reserved_at: datetime


class SeatStatus(BaseModel):
    seat_id: str
    user_id: str
    last_seen_at: datetime
    outbox: int
    online: bool


class StatusCount(BaseModel):
    status: Status
    department: str
    count: int


class LeadSummary(BaseModel):
    at: datetime
    by_status_department: list[StatusCount]
    open_total: int
    overdue: int
    due_today: int
    callbacks_waiting: int
    oldest_callback_waiting_since: datetime | None
    registered_today: int
    seats: list[SeatStatus]


class PlatformCount(BaseModel):
    status: Status
    platform: str
    count: int


class CaseBrief(BaseModel):
    """One line of a dashboard list."""

    uuid: str
    number: str
    status: Status
    department: str
    platform: str
    category: str
    county: str
    content: str  # first 40 characters
    handling_deadline: datetime | None
    minutes_left: int | None  # to handling_deadline from `at`; negative = overdue
    supervision: int
    leader_assigned: bool = False  # 领导交办


class KpiTile(BaseModel):
    period: Literal["today", "week", "month"]
    start: datetime
    end: datetime
    kpis: KpiOut


class Hotspot(BaseModel):
    category: str
    county: str
    place: str  # the village, else the road, else the township
    last_24h: int
    baseline_per_day: float  # mean daily count over the 7 days before the last 24 h
    open_cases: list[str]  # uuids of its open cases (for "supervise all", max 50)
    #: Those of ``open_cases`` already under supervision (督办 or higher), read fresh with
    #: every dashboard (the hot spots themselves are cached): a repeat supervises none of them.
    supervised: list[str] = Field(default_factory=list)
    rule: str  # the rule in plain Chinese, e.g. "24小时内 5 件，前7日日均 0.6 件"


class LeaderTally(BaseModel):
    """Leader-assigned cases (领导交办) registered in [start, end): how many, how many done
    (办结), still open (在办) and overdue now (超期) — ``domain.leader.tally``."""

    start: datetime
    end: datetime
    registered: int = 0
    done: int = 0
    open: int = 0
    overdue: int = 0


class Dashboard(BaseModel):
    at: datetime
    by_status_department: list[StatusCount]
    by_status_platform: list[PlatformCount]
    open_total: int
    overdue: int
    due_2h: int
    due_today: int
    callbacks_waiting: int
    #: Keys "<1d", "1-3d", ">3d": age since replied / entered callback_pending.
    callback_ages: dict[str, int]
    oldest_callback_waiting_since: datetime | None
    overdue_cases: list[CaseBrief]  # most overdue first, at most 50
    due_soon_cases: list[CaseBrief]  # due within 2 h, soonest first, at most 50
    seats: list[SeatStatus]
    volume_by_hour: list[int]  # 24 counts of cases registered today (Asia/Shanghai hours)
    volume_by_type: dict[str, int]  # today, appeal type value -> count
    kpis: list[KpiTile]  # today, week (since Monday), month (since the 1st), Asia/Shanghai
    #: Periods whose tile is still being computed (a first replay takes seconds at 1M cases).
    kpis_pending: list[str] = Field(default_factory=list)
    hotspots: list[Hotspot]
    #: Urges (催办, repeat calls) today by the case's lead department ("" not dispatched).
    urges_today: dict[str, int] = Field(default_factory=dict)
    #: Cases whose co-departments' opinions (协办意见) are overdue now (``GET /api/cases
    #: ?co_overdue=true`` lists them).
    co_overdue: int = 0
    #: This month's leader-assigned cases (领导交办): the board's 领导交办 line.
    leader: LeaderTally | None = None


class RatioOut(BaseModel):
    numerator: int
    denominator: int
    value: float | None


def _no_ratio() -> RatioOut:
    return RatioOut(numerator=0, denominator=0, value=None)


class KpiOut(BaseModel):
    on_time: RatioOut
    callback: RatioOut
    #: Sampled direct answers called back ÷ those closed: 回访率's own line (domain.md).
    callback_sampled: RatioOut = Field(default_factory=_no_ratio)
    satisfaction: RatioOut
    #: 解决率: answered "solved" ÷ callbacks that asked "was it solved?" (domain/kpi.py).
    resolution: RatioOut = Field(default_factory=_no_ratio)
    timely_signing: RatioOut
    direct_resolution: RatioOut
    returns: RatioOut
    reopens: RatioOut
    average_handling_hours: float | None
    registered: int
    volume_by_type: dict[str, int]
    volume_by_category: dict[str, int]
    volume_by_county: dict[str, int]
    volume_by_department: dict[str, int]
    #: Department replies in the period by their outcome (ReplyOutcome value; "" free text).
    replies_by_outcome: dict[str, int] = Field(default_factory=dict)


class KpiReportOut(BaseModel):
    start: datetime
    end: datetime
    group_by: str
    total: KpiOut
    groups: dict[str, KpiOut]


class ErrorBody(BaseModel):
    """Every 4xx answer: a code, a Chinese message, English, and per-field errors if any."""

    code: str
    message: str
    message_en: str = ""
    errors: list[dict[str, str]] = Field(default_factory=list)
    case: CasePublic | None = None
