"""What the seat hands to screens: typed cases, held commands, answers and events.

A case at a seat is either the central store's (``wire.CasePublic``, as the feed or a fetch
last brought it) or a case saved here and not yet confirmed (``PendingCase``: the create request
itself, with no deadline yet, and the number this seat gave it at save, if any). ``CachedCase``
carries one of them and whether this seat has commands on it that the central store has not
confirmed. ``PendingCase`` reads like
``CasePublic`` for everything a view shows, so screens never branch on the type, and
``domain_case`` is the one conversion to the state machine's ``Case``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, Generic, TypeVar

from agent_tui import wire
from agent_tui.domain.case import (
    Address as DomainAddress,
)
from agent_tui.domain.case import (
    AppealType,
    Case,
    Channel,
    Gender,
    ReplyOutcome,
    Satisfaction,
    Solved,
    Status,
    Urgency,
)
from agent_tui.domain.lifecycle import Step
from agent_tui.domain.rules import RunningDeadline, is_overdue, running_deadline


@dataclass(frozen=True, slots=True)
class PendingCase:
    """A case saved at this seat that the central store has not confirmed yet."""

    request: wire.CaseCreate
    agent: str
    saved_at: datetime

    # -- read like a CasePublic (not yet on the central store: no deadline; a number only
    # when this seat gave it one from its reserved blocks) --------------------------------
    status: ClassVar[Status] = Status.REGISTERED
    version: ClassVar[int] = 0
    department: ClassVar[str] = ""
    platform: ClassVar[str] = ""
    assigned_platform: ClassVar[str] = ""
    masked: ClassVar[bool] = False
    result: ClassVar[str] = ""
    refusal_reason: ClassVar[str] = ""
    satisfaction: ClassVar[Satisfaction | None] = None
    reply_outcome: ClassVar[ReplyOutcome | None] = None
    reply_officer: ClassVar[str] = ""
    reply_phone: ClassVar[str] = ""
    callback_solved: ClassVar[Solved | None] = None
    callback_note: ClassVar[str] = ""
    supervision: ClassVar[int] = 0
    leader_assigned: ClassVar[bool] = False  # the store decides it (from the account)
    urges: ClassVar[int] = 0
    last_urged_at: ClassVar[datetime | None] = None
    supplements: ClassVar[int] = 0
    co_opinions: ClassVar[list[wire.CoOpinionOut]] = []
    co_opinion_deadline: ClassVar[datetime | None] = None
    co_missing: ClassVar[list[wire.CoOpinionDue]] = []
    events: ClassVar[list[wire.EventPublic] | None] = None
    handling_deadline: ClassVar[datetime | None] = None
    sign_deadline: ClassVar[datetime | None] = None
    return_deadline: ClassVar[datetime | None] = None
    replied_at: ClassVar[datetime | None] = None
    dispatched_at: ClassVar[datetime | None] = None
    deadline_provisional: ClassVar[bool] = False
    overdue: ClassVar[bool] = False

    @property
    def uuid(self) -> str:
        return str(self.request.uuid)

    @property
    def number(self) -> str:
        """The number given at save (the case's for ever), or '' (the store will number it)."""
        return self.request.number

    @property
    def appeal_type(self) -> AppealType:
        return self.request.appeal_type

    @property
    def channel(self) -> Channel:
        return self.request.channel

    @property
    def urgency(self) -> Urgency:
        return self.request.urgency

    @property
    def gender(self) -> Gender:
        return self.request.gender

    @property
    def content(self) -> str:
        return self.request.content

    @property
    def caller_phone(self) -> str:
        return self.request.caller_phone

    @property
    def caller_name(self) -> str:
        return self.request.caller_name

    @property
    def confidential(self) -> bool:
        return self.request.confidential

    @property
    def anonymous(self) -> bool:
        return self.request.anonymous

    @property
    def category(self) -> str:
        return self.request.category

    @property
    def address(self) -> wire.AddressOut:
        return wire.AddressOut(**self.request.address.model_dump())

    @property
    def co_departments(self) -> list[str]:
        return []

    @property
    def related_to(self) -> str:
        return str(self.request.related_to or "")

    @property
    def registered_at(self) -> datetime:
        return self.request.registered_at or self.saved_at

    @property
    def updated_at(self) -> datetime:
        return self.registered_at


CaseView = wire.CasePublic | PendingCase


def domain_case(view: CaseView) -> Case:
    """The one conversion from what the seat holds to the state machine's ``Case``."""
    if isinstance(view, wire.CasePublic):
        return wire.domain_case(view)
    a = view.request.address
    return Case(
        uuid=view.uuid,
        appeal_type=view.appeal_type,
        content=view.content,
        channel=view.channel,
        urgency=view.urgency,
        caller_phone=view.caller_phone,
        caller_name=view.caller_name,
        gender=view.gender,
        confidential=view.confidential,
        anonymous=view.anonymous,
        category=view.category,
        address=DomainAddress(a.county, a.township, a.village, a.road, a.detail),
        agent=view.agent,
        registered_at=view.registered_at,
    )


@dataclass(frozen=True, slots=True)
class CachedCase:
    """A case as this seat knows it now."""

    case: CaseView
    #: This seat has commands on the case that the central store has not confirmed yet.
    pending: bool = False

    @property
    def uuid(self) -> str:
        return self.case.uuid

    @property
    def confirmed(self) -> bool:
        """The central store has the case; False: saved here only (it may have its number)."""
        return isinstance(self.case, wire.CasePublic)

    @property
    def version(self) -> int:
        return self.case.version

    def overdue(self, now: datetime) -> bool:
        c = self.case
        return is_overdue(c.status, c.handling_deadline, c.replied_at, now)

    def running(self) -> RunningDeadline | None:
        c = self.case
        return running_deadline(c.status, c.sign_deadline, c.handling_deadline, c.replied_at)


@dataclass(frozen=True, slots=True)
class HeldCommand:
    """A command the central store refused (a conflict, or invalid now): kept for the agent
    to send again on the server's version, or to drop. Never dropped silently."""

    id: int
    case_uuid: str
    step: Step | None  # None: the create itself
    version: int
    conflict: bool  # True: someone else changed the case first; False: refused outright
    error: str
    server_case: wire.CasePublic | None


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Answer(Generic[T]):
    """What a read gives: ``confirmed`` once the central store's answer is merged in; until
    then (or offline) this seat's cache, with ``error`` saying why it is not confirmed."""

    value: T
    confirmed: bool
    error: str = ""


# -- what the seat tells the terminal (the terminal turns them into Textual messages) -----------


@dataclass(frozen=True, slots=True)
class CasesChanged:
    """Cases in this seat's cache changed (the feed, a fetch, or a command queued here)."""

    uuids: frozenset[str]
    #: The central store's new states among them (the feed's and fetches'), for toasts.
    cases: tuple[wire.CasePublic, ...] = ()
    #: Cases that left what this user may see (removed from the cache).
    withdrawn: frozenset[str] = frozenset()
    #: The first fill after login (a new seat's bootstrap): no toasts for old news.
    initial: bool = False
    #: Changes this seat made itself (the answer to its command, or the feed's echo of a case
    #: it had a command on): news to other seats, not to this one.
    own: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class SyncStatusChanged:
    """Online/offline, the outbox and held commands, the last error."""

    online: bool
    outbox: int
    held: int
    last_error: str


@dataclass(frozen=True, slots=True)
class CommandsHeld:
    """The central store refused commands just now (each is kept for the agent)."""

    held: tuple[HeldCommand, ...] = field(default_factory=tuple)


SeatEvent = CasesChanged | SyncStatusChanged | CommandsHeld
