"""Tables of the central store (SQLModel). The schema itself is made by the alembic migrations.

Times are stored as UTC and always read back timezone-aware (``UTCDateTime``): SQLite has no
time zone type, and the domain compares instants.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware (UTC) datetimes out, on SQLite and PostgreSQL alike."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store aware UTC instants only")
        value = value.astimezone(UTC)
        # SQLite keeps the text it is given: store it naive so that it compares and sorts.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _ts(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


class PlatformRow(SQLModel, table=True):
    __tablename__ = "platforms"
    code: str = Field(primary_key=True, max_length=16)
    name: str
    county: str = ""
    number_prefix: str = Field(default="", max_length=16)


class DepartmentRow(SQLModel, table=True):
    __tablename__ = "departments"
    code: str = Field(primary_key=True, max_length=16)
    name: str
    short_name: str
    kind: str = Field(max_length=16)
    platform: str = Field(default="city", max_length=16)
    phone: str = ""


class UserRow(SQLModel, table=True):
    __tablename__ = "users"
    user_id: str = Field(primary_key=True, max_length=32)
    name: str
    role: str = Field(max_length=16)
    department: str = Field(default="", max_length=16)
    platform: str = Field(default="city", max_length=16)
    password_hash: str
    disabled: bool = False
    created_at: datetime = _ts()


class TokenRow(SQLModel, table=True):
    __tablename__ = "tokens"
    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(foreign_key="users.user_id", index=True, max_length=32)
    created_at: datetime = _ts()
    expires_at: datetime = _ts()


class LoginThrottleRow(SQLModel, table=True):
    """Failed logins counted per (user, address) pair, per address and per user id (migration
    0006; it replaces 0001's ``login_failures``, a row per failure kept forever).

    ``next_try_at``: no try is checked before then (the growing delay); ``trusted_until``
    (pairs): the user logged in from this address, so the address's and the user's counts do
    not hold them back; ``forget_at``: the row is purged after it.
    """

    __tablename__ = "login_throttle"
    __table_args__ = (sa.Index("ix_login_throttle_forget_at", "forget_at"),)
    scope: str = Field(primary_key=True, max_length=8)  # "pair" | "address" | "user"
    key: str = Field(primary_key=True, max_length=120)
    failures: int = 0
    last_failure_at: datetime | None = _ts(default=None)
    next_try_at: datetime | None = _ts(default=None)
    trusted_until: datetime | None = _ts(default=None)
    forget_at: datetime = _ts()


class SeatRow(SQLModel, table=True):
    """What each seat last told the server: for the lead's "seats online" view. A seat is
    its user's: (user, seat id) is the key (migration 0008)."""

    __tablename__ = "seats"
    user_id: str = Field(primary_key=True, max_length=32)
    seat_id: str = Field(primary_key=True, max_length=64)
    last_seen_at: datetime = _ts(index=True)
    outbox: int = 0


class CounterRow(SQLModel, table=True):
    """Named counters: ``change_seq`` and each platform's year of case numbers,
    ``number:<platform>:<yyyy>`` (``domain.numbers.series_name``; before migration 0010 the
    series was per day, ``number:<platform>:<yyyymmdd>``).

    Taking the next change number is an UPDATE of one row: its lock is held to the end of the
    transaction, so sequence order is commit order and a reader never skips a change.
    """

    __tablename__ = "counters"
    name: str = Field(primary_key=True, max_length=64)
    value: int = 0


class NumberBlockRow(SQLModel, table=True):
    """A block of case numbers reserved for a seat (``POST /api/numbers/reserve``): running
    numbers ``first``..``last`` of the platform's ``year`` series, for ``seat_id`` of
    ``user_id``. Append-only (triggers, migration 0010): the record of which seat held which
    numbers, so a gap in the series can be told from a lost case."""

    __tablename__ = "number_blocks"
    __table_args__ = (
        sa.Index("ix_number_blocks_seat", "user_id", "seat_id", "platform", "year", "first"),
    )

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    year: int
    prefix: str = Field(max_length=24)
    first: int
    last: int
    seat_id: str = Field(max_length=64)
    user_id: str = Field(max_length=32)
    reserved_at: datetime = _ts()


#: The open statuses as the partial indexes state them (sorted, literal; see migration 0003).
OPEN_TERM = (
    "status IN ('dispatched', 'extension_requested', 'in_progress', 'registered', 'replied', "
    "'return_requested', 'returned')"
)
#: Linked cases only (most are not): the group index stays small and a create skips it.
RELATED_TERM = "related_to <> ''"


class CaseRow(SQLModel, table=True):
    """The current projection of a case; ``version`` grows by one with every step."""

    __tablename__ = "cases"
    __table_args__ = (
        sa.Index("ix_cases_status_deadline", "status", "handling_deadline", "id"),
        sa.Index(
            "ix_cases_dept_status_deadline", "department", "status", "handling_deadline", "id"
        ),
        sa.Index("ix_cases_platform_status", "platform", "status", "id"),
        sa.Index("ix_cases_agent_registered", "agent", "registered_at", "id"),
        sa.Index("ix_cases_phone_registered", "caller_phone", "registered_at", "id"),
        sa.Index("ix_cases_registered", "registered_at", "id"),
        sa.Index("ix_cases_status_updated", "status", "updated_at", "id"),
        # The lead summary's GROUP BY and the overdue queue (measured: docs/benchmarks.md).
        # The summary's and the dashboard's counts by status × department and × platform
        # (migration 0004; it replaces 0002's (status, department)).
        sa.Index("ix_cases_status_department_platform", "status", "department", "platform"),
        sa.Index(
            "ix_cases_status_replied_deadline", "status", "replied_at", "handling_deadline", "id"
        ),
        # Open cases only, by deadline: the overdue and department queues (migration 0003).
        sa.Index(
            "ix_cases_open_deadline",
            "handling_deadline",
            "id",
            sqlite_where=sa.text(
                f"handling_deadline IS NOT NULL AND replied_at IS NULL AND {OPEN_TERM}"
            ),
            postgresql_where=sa.text(
                f"handling_deadline IS NOT NULL AND replied_at IS NULL AND {OPEN_TERM}"
            ),
        ),
        sa.Index(
            "ix_cases_open_dept_deadline",
            "department",
            "handling_deadline",
            "id",
            sqlite_where=sa.text(f"handling_deadline IS NOT NULL AND {OPEN_TERM}"),
            postgresql_where=sa.text(f"handling_deadline IS NOT NULL AND {OPEN_TERM}"),
        ),
        # Related cases (migration 0005): a group's cases, and the intake's candidates.
        sa.Index(
            "ix_cases_related_to",
            "related_to",
            sqlite_where=sa.text(RELATED_TERM),
            postgresql_where=sa.text(RELATED_TERM),
        ),
        sa.Index("ix_cases_category_registered", "category", "registered_at"),
        # Leader-assigned cases (领导交办, migration 0014): the board's and reports' lines.
        sa.Index(
            "ix_cases_leader_registered",
            "registered_at",
            "id",
            sqlite_where=sa.text("leader_assigned"),
            postgresql_where=sa.text("leader_assigned"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    uuid: str = Field(unique=True, max_length=36)
    number: str = Field(unique=True, max_length=40)
    status: str = Field(max_length=24)
    appeal_type: str = Field(max_length=16)
    channel: str = Field(max_length=16)
    urgency: str = Field(max_length=16)
    caller_phone: str = Field(default="", max_length=20)
    caller_name: str = Field(default="", max_length=40)
    gender: str = Field(default="unknown", max_length=8)
    confidential: bool = False
    anonymous: bool = False
    category: str = Field(default="", max_length=16)
    county: str = Field(default="", max_length=40)
    township: str = Field(default="", max_length=40)
    village: str = Field(default="", max_length=60)
    road: str = Field(default="", max_length=80)
    address_detail: str = Field(default="", max_length=400)
    lat: float | None = None
    lon: float | None = None
    content: str = Field(sa_type=sa.Text)
    platform: str = Field(default="city", max_length=16)
    agent: str = Field(default="", max_length=32)
    registered_at: datetime = _ts()
    department: str = Field(default="", max_length=16)
    co_departments: str = Field(default="", max_length=200)  # ";"-joined codes
    assigned_platform: str = Field(default="", max_length=16)
    dispatched_at: datetime | None = _ts(default=None)
    sign_deadline: datetime | None = _ts(default=None)
    return_deadline: datetime | None = _ts(default=None)
    handling_deadline: datetime | None = _ts(default=None)
    deadline_provisional: bool = False
    # What the handling deadline was computed from, to recompute it (a year's holiday table
    # loaded later) and to time reminders: start instant, amount and unit (domain Deadline).
    deadline_start: datetime | None = _ts(default=None)
    deadline_amount: int = 0
    deadline_unit: str = Field(default="", max_length=16)
    signed_at: datetime | None = _ts(default=None)
    requested_deadline: datetime | None = _ts(default=None)
    extensions: int = 0
    returns: int = 0
    replied_at: datetime | None = _ts(default=None)
    result: str = Field(default="", sa_type=sa.Text)
    # The structured reply (migration 0012): outcome code, handling officer, contact phone.
    reply_outcome: str | None = Field(default=None, max_length=16)
    reply_officer: str = Field(default="", max_length=40)
    reply_phone: str = Field(default="", max_length=20)
    refusal_reason: str = Field(default="", max_length=1000)
    callback_required: bool = False
    callback_attempts: int = 0
    callback_result: str | None = Field(default=None, max_length=16)
    satisfaction: str | None = Field(default=None, max_length=16)
    # The callback's answers (migration 0012): solved? and what the citizen said.
    callback_solved: str | None = Field(default=None, max_length=16)
    callback_note: str = Field(default="", max_length=1000)
    reopens: int = 0
    supervision: int = 0
    #: 领导交办 (migration 0014): registered or dispatched by a leader, supervised from then on.
    leader_assigned: bool = False
    archived_at: datetime | None = _ts(default=None)
    #: Repeat calls about the open case (migration 0011): urges (催办), the last one's time,
    #: supplements (补充). The department's queue puts urged cases first.
    urges: int = 0
    last_urged_at: datetime | None = _ts(default=None)
    supplements: int = 0
    #: Co-departments' opinions (协办意见, migration 0013): JSON, one per co-department; when
    #: they are due; the co-departments still owing one (";"-joined, for the overdue query).
    co_opinions: str = Field(default="[]", sa_type=sa.Text)
    co_opinion_deadline: datetime | None = _ts(default=None)
    co_pending: str = Field(default="", max_length=200)
    version: int = 1
    updated_at: datetime = _ts()
    last_seq: int = 0
    #: The group of related cases this one was linked to at intake (its first case's uuid).
    related_to: str = Field(default="", max_length=36)


class EventRow(SQLModel, table=True):
    """The audit log: appended with every step, never updated or deleted (triggers forbid it)."""

    __tablename__ = "case_events"
    __table_args__ = (
        sa.Index("ix_case_events_case", "case_id", "id"),
        sa.Index("ix_case_events_at", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id")
    case_uuid: str = Field(max_length=36)
    seq: int
    step: str = Field(max_length=24)
    actor: str = Field(max_length=32)
    role: str = Field(max_length=16)
    at: datetime = _ts()
    from_status: str | None = Field(default=None, max_length=24)
    to_status: str = Field(max_length=24)
    reason: str = Field(default="", max_length=1000)
    changes: str = Field(sa_type=sa.Text)  # JSON: field -> [before, after]
    version: int


class ChangeRow(SQLModel, table=True):
    """The change feed: one row per committed change, numbered by the ``change_seq`` counter."""

    __tablename__ = "changes"
    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    kind: str = Field(max_length=16)  # "case" | "reference"
    case_id: int | None = None
    name: str = Field(default="", max_length=40)  # reference set name
    version: int = 0
    department: str = Field(default="", max_length=16)  # for department-scoped feeds
    #: The readers (``visibility.scope_key``) that lost sight of the case by this change.
    withdrawn_from: str = Field(default="", max_length=400, sa_column_kwargs={"server_default": ""})
    at: datetime = _ts()


class IdempotencyRow(SQLModel, table=True):
    """The answer given to a command id: a retry gets the same answer, never a second effect."""

    __tablename__ = "idempotency_keys"
    key: str = Field(primary_key=True, max_length=36)
    user_id: str = Field(max_length=32)
    status_code: int
    response: str = Field(sa_type=sa.Text)
    created_at: datetime = _ts()


class ReferenceSetRow(SQLModel, table=True):
    """Reference data a seat caches: categories, knowledge base, address book, calendar."""

    __tablename__ = "reference_sets"
    name: str = Field(primary_key=True, max_length=40)
    version: int = 1
    etag: str = Field(max_length=64)
    body: str = Field(sa_type=sa.Text)  # JSON
    updated_at: datetime = _ts()


class AuditChainRow(SQLModel, table=True):
    """One link of the audit log's hash chain per event, written by a trigger on
    ``case_events`` (migration 0007; what is hashed: ``audit_chain``). Append-only."""

    __tablename__ = "audit_chain"
    __table_args__ = (sa.UniqueConstraint("event_id", name="uq_audit_chain_event"),)
    position: int = Field(
        sa_column=sa.Column(
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=False,
        )
    )
    event_id: int
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditChainHeadRow(SQLModel, table=True):
    """The chain's last link (one row): concurrent writers queue on its lock."""

    __tablename__ = "audit_chain_head"
    __table_args__ = (sa.CheckConstraint("id = 1", name="ck_audit_chain_head_one_row"),)
    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    position: int = Field(sa_type=sa.BigInteger)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)
