"""The case (工单): its enums, its fields and the intake validation.

Pure Python: the server maps these to tables, the seat to forms. Every enum's value is a stable
English code (stored, sent over HTTP); ``label`` is the Chinese word the UI shows.
"""

from __future__ import annotations

import enum
import uuid as uuid_mod
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache

import phonenumbers

from agent_tui.domain.errors import FieldError, ValidationFailed


class LabelledEnum(enum.StrEnum):
    """A string enum whose members carry a Chinese label for the UI."""

    label: str

    def __new__(cls, value: str, label: str = "") -> LabelledEnum:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    @classmethod
    def parse(cls, value: str) -> LabelledEnum:
        """Accept the code or the Chinese label."""
        for member in cls:
            if value in (member.value, member.label):
                return member
        raise ValueError(value)


class AppealType(LabelledEnum):
    INQUIRY = "inquiry", "咨询"
    HELP = "help", "求助"
    COMPLAINT = "complaint", "投诉"
    REPORT = "report", "举报"
    SUGGESTION = "suggestion", "建议"
    PRAISE = "praise", "表扬"
    OTHER = "other", "其他"


class Urgency(LabelledEnum):
    NORMAL = "normal", "一般"
    URGENT = "urgent", "紧急"
    CRITICAL = "critical", "特急"


class Channel(LabelledEnum):
    PHONE = "phone", "电话"
    WEB = "web", "网站"
    APP = "app", "移动端"
    SMS = "sms", "短信"
    LEADER = "leader", "领导热线"


class Gender(LabelledEnum):
    UNKNOWN = "unknown", "未知"
    MALE = "male", "男"
    FEMALE = "female", "女"


class Status(LabelledEnum):
    REGISTERED = "registered", "已受理"
    REFUSED = "refused", "不予受理"
    RESOLVED = "resolved", "直接办结"
    DISPATCHED = "dispatched", "已派单"
    RETURN_REQUESTED = "return_requested", "退单申请"
    RETURNED = "returned", "已退单"
    IN_PROGRESS = "in_progress", "办理中"
    EXTENSION_REQUESTED = "extension_requested", "延期申请"
    REPLIED = "replied", "已答复"
    CALLBACK_PENDING = "callback_pending", "待回访"
    CALLED_BACK = "called_back", "已回访"
    RATED = "rated", "已评价"
    ARCHIVED = "archived", "已归档"


#: States in which the case is still open (supervision may act on it).
OPEN_STATUSES = frozenset(
    {
        Status.REGISTERED,
        Status.DISPATCHED,
        Status.RETURN_REQUESTED,
        Status.RETURNED,
        Status.IN_PROGRESS,
        Status.EXTENSION_REQUESTED,
        Status.REPLIED,
    }
)
#: While the lead department (主办) holds the case: dispatched to it, signed (in progress), or
#: waiting on its return or extension request. Co-departments give their opinions (协办意见)
#: in these states.
WITH_DEPARTMENT_STATUSES = frozenset(
    {
        Status.DISPATCHED,
        Status.IN_PROGRESS,
        Status.RETURN_REQUESTED,
        Status.EXTENSION_REQUESTED,
    }
)


class Role(LabelledEnum):
    AGENT = "agent", "话务员"
    LEAD = "lead", "班长"
    DEPARTMENT = "department", "承办单位"
    ADMIN = "admin", "管理员"
    #: A city leader taking calls at a seat (领导接听): an agent's intake steps, and every case
    #: the leader registers or dispatches is leader-assigned (领导交办, ``domain.leader``).
    LEADER = "leader", "领导"
    SYSTEM = "system", "系统"


class Satisfaction(LabelledEnum):
    SATISFIED = "satisfied", "满意"
    BASIC = "basic", "基本满意"
    DISSATISFIED = "dissatisfied", "不满意"


class CallbackResult(LabelledEnum):
    REACHED = "reached", "已接通"
    UNREACHABLE = "unreachable", "未接通"


class ReplyOutcome(LabelledEnum):
    """What a department's reply says came of the case (结构化答复的办理结果)."""

    RESOLVED = "resolved", "已解决"
    PARTLY = "partly", "部分解决"
    UNRESOLVED = "unresolved", "未解决"
    UNFOUNDED = "unfounded", "情况不属实"
    EXPLAINED = "explained", "已解释说明"


class Solved(LabelledEnum):
    """The caller's answer at the callback to "was the problem solved?" (解决率)."""

    SOLVED = "solved", "已解决"
    UNSOLVED = "unsolved", "未解决"


class SupervisionLevel(enum.IntEnum):
    """Escalating supervision; a case only ever moves up."""

    NONE = 0
    REMINDED = 1  # 催办: before the deadline
    SUPERVISED = 2  # 督办: leader-assigned or hot issue, or put under supervision by a lead
    NOTICE = 3  # 通报: the day after the deadline was missed
    PUBLIC_NOTICE = 4  # 公开通报: still five working days late

    @property
    def label(self) -> str:
        return ("无", "催办", "督办", "督办通报", "公开通报")[self.value]


# --- limits -------------------------------------------------------------------------------------

CONTENT_MIN = 5
CONTENT_MAX = 2000
NAME_MAX = 20
DETAIL_MAX = 200
REASON_MAX = 500
RESULT_MAX = 2000
OFFICER_MAX = 20  # the handling officer's name
NOTE_MAX = 500  # what the citizen said at the callback
DEFAULT_AREA_CODE = "0396"  # Zhumadian


@dataclass(frozen=True, slots=True)
class Address:
    """Where the matter is. Codes follow the gazetteer; ``road`` is a road or crossing name."""

    county: str = ""
    township: str = ""
    village: str = ""
    road: str = ""
    detail: str = ""
    lat: float | None = None
    lon: float | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.county or self.township or self.village or self.road or self.detail)

    def text(self) -> str:
        return "".join(
            p for p in (self.county, self.township, self.village, self.road, self.detail)
        )


@dataclass(frozen=True, slots=True)
class Intake:
    """What an agent types for a new case, before it is registered."""

    appeal_type: AppealType
    content: str
    channel: Channel = Channel.PHONE
    urgency: Urgency = Urgency.NORMAL
    caller_phone: str = ""
    caller_name: str = ""
    gender: Gender = Gender.UNKNOWN
    confidential: bool = False
    anonymous: bool = False
    category: str = ""
    address: Address = field(default_factory=Address)


@dataclass(frozen=True, slots=True)
class CoOpinion:
    """A co-department's opinion (协办意见) on a case another department leads (主办): what it
    found or will do, its handling officer and a contact phone (optional, normalised)."""

    department: str
    text: str
    officer: str
    phone: str = ""
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Case:
    """The current projection of a case. The lifecycle returns new copies; nothing mutates."""

    uuid: str
    appeal_type: AppealType
    content: str
    status: Status = Status.REGISTERED
    channel: Channel = Channel.PHONE
    urgency: Urgency = Urgency.NORMAL
    number: str = ""
    caller_phone: str = ""
    caller_name: str = ""
    gender: Gender = Gender.UNKNOWN
    confidential: bool = False
    anonymous: bool = False
    category: str = ""
    address: Address = field(default_factory=Address)
    platform: str = ""  # the platform that registered it (city or a county)
    agent: str = ""  # receiving agent
    registered_at: datetime | None = None
    # assignment
    department: str = ""  # lead department (主办)
    co_departments: tuple[str, ...] = ()  # 协办
    assigned_platform: str = ""  # a county platform the case was dispatched to, if any
    dispatched_at: datetime | None = None
    sign_deadline: datetime | None = None
    return_deadline: datetime | None = None
    handling_deadline: datetime | None = None
    deadline_provisional: bool = False
    signed_at: datetime | None = None
    # department requests
    requested_deadline: datetime | None = None
    extensions: int = 0
    returns: int = 0
    # outcome
    replied_at: datetime | None = None
    result: str = ""  # the reply: what was done (or the answer given on the call)
    reply_outcome: ReplyOutcome | None = None  # None: a free-text reply (before structure)
    reply_officer: str = ""  # the department's handling officer
    reply_phone: str = ""  # their contact phone (normalised like the caller's)
    refusal_reason: str = ""
    callback_required: bool = False
    callback_attempts: int = 0
    callback_result: CallbackResult | None = None
    satisfaction: Satisfaction | None = None
    callback_solved: Solved | None = None  # None: the caller was not asked
    callback_note: str = ""  # what the citizen said
    reopens: int = 0
    supervision: SupervisionLevel = SupervisionLevel.NONE
    #: 领导交办: registered or dispatched by a leader (``domain.leader``); never unset.
    leader_assigned: bool = False
    archived_at: datetime | None = None
    # repeat calls about the open case (催办 by the citizen, 补充 information)
    urges: int = 0
    last_urged_at: datetime | None = None
    supplements: int = 0
    # co-departments' opinions (协办意见), one per co-department, due by one deadline
    co_opinions: tuple[CoOpinion, ...] = ()
    co_opinion_deadline: datetime | None = None
    version: int = 0

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def co_missing(self) -> tuple[str, ...]:
        """The co-departments whose opinion has not come in (in dispatch order)."""
        given = {o.department for o in self.co_opinions}
        return tuple(d for d in self.co_departments if d not in given)


def new_case_uuid() -> str:
    return str(uuid_mod.uuid4())


# --- validation ---------------------------------------------------------------------------------


@lru_cache(maxsize=65_536)  # pure; the same caller calls again (and the form asks per key)
def normalize_phone(raw: str, area_code: str = DEFAULT_AREA_CODE) -> str:
    """Return a Chinese phone number in a canonical national form, or raise ``ValueError``.

    Mobiles become ``13912345678``; landlines ``0396-2345678``. A local landline typed without
    its area code is taken to be in ``area_code``. Anything phonenumbers does not hold for a
    valid Chinese number is rejected.
    """
    digits = "".join(ch for ch in raw if ch.isdigit() or ch == "+")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    if not digits or not digits.isdigit():
        raise ValueError(raw)
    if len(digits) in (7, 8) and not digits.startswith(("0", "1")):
        digits = area_code + digits
    try:
        number = phonenumbers.parse(digits, "CN")
    except phonenumbers.NumberParseException as exc:
        raise ValueError(raw) from exc
    if not phonenumbers.is_valid_number(number) or number.country_code != 86:
        raise ValueError(raw)
    national = str(number.national_number)
    if phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE:
        return national
    # Landline: split the area code the way a Chinese agent writes it.
    formatted = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    area, _, local = formatted.partition(" ")
    return f"{area}-{local.replace(' ', '')}" if local else formatted


#: Appeal types whose matter has a place: the department must know where to go.
NEEDS_ADDRESS = frozenset({AppealType.COMPLAINT, AppealType.REPORT, AppealType.HELP})
#: Appeal types the centre must be able to call back about.
NEEDS_CONTACT = frozenset({AppealType.HELP})


def validate_intake(intake: Intake, *, known_categories: frozenset[str] | None = None) -> Intake:
    """Check an intake; return it with the phone normalised, or raise ``ValidationFailed``.

    Every problem is reported at once, one ``FieldError`` per field, so the form can show each
    message beside its field.
    """
    errors: list[FieldError] = []
    content = intake.content.strip()
    if not content:
        errors.append(FieldError("content", "required", "请填写诉求内容", "Content is required"))
    elif len(content) < CONTENT_MIN:
        errors.append(
            FieldError(
                "content",
                "too_short",
                f"诉求内容至少 {CONTENT_MIN} 个字",
                f"Content needs at least {CONTENT_MIN} characters",
            )
        )
    elif len(content) > CONTENT_MAX:
        errors.append(
            FieldError(
                "content",
                "too_long",
                f"诉求内容最多 {CONTENT_MAX} 个字（现为 {len(content)} 个）",
                f"Content is limited to {CONTENT_MAX} characters (got {len(content)})",
            )
        )

    if intake.anonymous and intake.confidential:
        errors.append(
            FieldError(
                "anonymous",
                "conflict",
                "匿名与保密不能同时选择：匿名不留身份，保密是留身份但对承办单位隐藏",
                "Anonymous and confidential exclude each other",
            )
        )
    if intake.anonymous and intake.caller_name.strip():
        errors.append(
            FieldError("caller_name", "anonymous", "匿名来电不记录姓名", "Anonymous: no name")
        )
    if intake.anonymous and intake.appeal_type in NEEDS_CONTACT:
        errors.append(
            FieldError(
                "anonymous",
                "needs_contact",
                f"{intake.appeal_type.label}类诉求需要回访，不能匿名",
                f"A {intake.appeal_type.value} case needs a contact and cannot be anonymous",
            )
        )
    if len(intake.caller_name.strip()) > NAME_MAX:
        errors.append(
            FieldError(
                "caller_name",
                "too_long",
                f"姓名最多 {NAME_MAX} 个字",
                f"Name is limited to {NAME_MAX} characters",
            )
        )

    phone = intake.caller_phone.strip()
    if phone:
        try:
            phone = normalize_phone(phone)
        except ValueError:
            errors.append(
                FieldError(
                    "caller_phone",
                    "invalid",
                    "电话号码无效：手机为 11 位，固话请带区号（如 0396-2345678）",
                    "Invalid phone: an 11-digit mobile, or a landline with its area code",
                )
            )
    elif not intake.anonymous:
        errors.append(
            FieldError(
                "caller_phone",
                "required",
                "请填写来电号码（不留号码请选择匿名）",
                "Caller phone is required unless the caller is anonymous",
            )
        )

    if intake.appeal_type is not AppealType.OTHER and not intake.category:
        errors.append(FieldError("category", "required", "请选择诉求分类", "Pick a category"))
    elif (
        intake.category and known_categories is not None and intake.category not in known_categories
    ):
        errors.append(
            FieldError(
                "category",
                "unknown",
                f"未知的分类代码：{intake.category}",
                f"Unknown category code: {intake.category}",
            )
        )

    if intake.appeal_type in NEEDS_ADDRESS and not intake.address.county:
        errors.append(
            FieldError(
                "address",
                "required",
                f"{intake.appeal_type.label}类诉求需要填写发生地点（至少到县区）",
                f"A {intake.appeal_type.value} case needs a place (at least the county)",
            )
        )
    if len(intake.address.detail) > DETAIL_MAX:
        errors.append(
            FieldError(
                "address",
                "too_long",
                f"详细地址最多 {DETAIL_MAX} 个字",
                f"Address detail is limited to {DETAIL_MAX} characters",
            )
        )

    if errors:
        raise ValidationFailed(errors)
    return replace(
        intake, caller_phone=phone, content=content, caller_name=intake.caller_name.strip()
    )


class DeadlineClass(LabelledEnum):
    """How long a department has to handle a case (the defaults are in ``deadlines``)."""

    EMERGENCY = "emergency", "紧急"
    UTILITIES = "utilities", "水电气热"
    INQUIRY = "inquiry", "咨询类"
    NORMAL = "normal", "一般"
    COMPLEX = "complex", "复杂"
