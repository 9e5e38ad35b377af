"""Bulk loader for the central-store benchmark: N realistic case rows into a migrated database.

Rows go in with the driver's own ``executemany`` (sqlite3 / psycopg) in batches of 10,000, the
values converted the way the server's column types bind them (``UTCDateTime``: naive UTC text on
SQLite, checked against the types' own bind processors), so what the server reads back is what
it would have written. Only the driver call and the commit are timed: that is the "raw SQL
insert" reference rate. Events and change rows are *not* inserted for the bulk cases (the queue
and summary endpoints read ``cases`` only); the ``change_seq`` counter is advanced past every
``last_seq`` given out, and the per-year ``number:<platform>:<yyyy>`` counters are set to the
highest number used, so cases created over HTTP afterwards get fresh numbers and sequence values.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from agent_tui.demo.generate import _world, generate_demo
from agent_tui.domain.calendar import SHANGHAI
from agent_tui.server.auth import hash_password
from agent_tui.server.models import CaseRow, CounterRow, UserRow

SEED = 12345
PASSWORD = "bench-pass-1234"
#: (user_id, role, department) created directly in the database with one argon2 hash.
USERS = (
    ("bench_lead", "lead", ""),
    ("bench_agent", "agent", ""),
    ("bench_cgj", "department", "CGJ"),
)
AGENTS = tuple(f"agent{i:02d}" for i in range(1, 9))

#: Non-archived statuses, by weight (the ~5 % of cases that are not archived yet).
LIVE_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("registered", 2),
    ("dispatched", 10),
    ("in_progress", 38),
    ("extension_requested", 4),
    ("return_requested", 2),
    ("returned", 2),
    ("replied", 12),
    ("callback_pending", 12),
    ("called_back", 5),
    ("rated", 4),
    ("resolved", 6),
    ("refused", 3),
)
_VERSION = {
    "registered": 1,
    "refused": 2,
    "resolved": 2,
    "dispatched": 2,
    "return_requested": 3,
    "returned": 4,
    "in_progress": 3,
    "extension_requested": 4,
    "replied": 4,
    "callback_pending": 4,
    "called_back": 5,
    "rated": 6,
    "archived": 7,
}
_NOT_DISPATCHED = frozenset({"registered", "refused", "resolved"})
_REPLIED = frozenset({"replied", "callback_pending", "called_back", "rated", "archived"})
_HANDLING_DAYS = ((3, 0.25), (7, 0.35), (14, 0.3), (21, 0.1))  # calendar days, by weight


@dataclass
class LoadResult:
    rows: int = 0
    insert_seconds: float = 0.0  # time inside executemany + commit only
    total_seconds: float = 0.0  # generation included
    statuses: dict[str, int] = field(default_factory=dict)
    open_overdue: int = 0

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.insert_seconds if self.insert_seconds else 0.0


@dataclass(frozen=True)
class _Templates:
    intakes: list[Any]
    department_of: dict[str, str]
    platform_prefix: dict[str, str]
    county_platform: dict[str, str]


def _templates(now: datetime) -> _Templates:
    world = _world()
    demo = generate_demo(now, count=2000)
    prefix = {
        p.code: (p.initials or p.code).upper() for p in world.ref.platforms if p.code != "city"
    }
    return _Templates(
        intakes=[d.intake for d in demo],
        department_of={c.code: c.department for c in world.ref.leaves()},
        platform_prefix=prefix,
        county_platform=dict(world.places.county_platform),
    )


def _live_probability(age_days: float) -> float:
    """The chance that a case of this age is not archived yet (≈ 5 % overall over a year)."""
    if age_days < 1:
        return 0.9
    if age_days < 7:
        return 0.7
    if age_days < 30:
        return 0.45
    if age_days < 60:
        return 0.05
    return 0.0025


class _RowMaker:
    def __init__(self, now: datetime, n: int, seq_base: int) -> None:
        self.now = now
        self.n = n
        self.seq_base = seq_base
        self.rng = random.Random(SEED)
        self.t = _templates(now)
        self.start = now - timedelta(days=365)
        self.span = (now - timedelta(minutes=5) - self.start).total_seconds()
        self.numbers: dict[tuple[str, str], int] = {}
        self.statuses: dict[str, int] = {}
        self.open_overdue = 0
        self._live = [s for s, _ in LIVE_WEIGHTS]
        self._live_w = [w for _, w in LIVE_WEIGHTS]
        self._days = [d for d, _ in _HANDLING_DAYS]
        self._days_w = [w for _, w in _HANDLING_DAYS]

    def row(self, i: int) -> dict[str, Any]:
        rng, now = self.rng, self.now
        intake = rng.choice(self.t.intakes)
        reg = self.start + timedelta(seconds=self.span * i / self.n + rng.random() * 30)
        age = (now - reg).total_seconds() / 86400
        if rng.random() < _live_probability(age):
            status = rng.choices(self._live, self._live_w)[0]
            if age < 0.1 and rng.random() < 0.5:
                status = "registered"
        else:
            status = "archived"
        county = intake.address.county
        platform = "city"
        if rng.random() < 0.1 and county in self.t.county_platform:
            platform = self.t.county_platform[county]
        day = reg.astimezone(SHANGHAI).strftime("%Y%m%d")
        key = (platform, day)
        number_n = self.numbers.get(key, 0) + 1
        self.numbers[key] = number_n
        prefix = "ZMD" if platform == "city" else f"ZMD-{self.t.platform_prefix[platform]}"
        dispatched = status not in _NOT_DISPATCHED
        department = self.t.department_of.get(intake.category, "") if dispatched else ""
        if dispatched and not department:
            department = "CGJ"
        dispatched_at = reg + timedelta(minutes=5 + rng.random() * 240) if dispatched else None
        handling = sign = ret = signed = replied = archived = requested = None
        if dispatched_at is not None:
            days = rng.choices(self._days, self._days_w)[0]
            handling = dispatched_at + timedelta(days=days)
            sign = dispatched_at + timedelta(days=1)
            ret = dispatched_at + timedelta(days=2)
            if status not in ("dispatched", "return_requested", "returned"):
                signed = dispatched_at + timedelta(hours=1 + rng.random() * 20)
            if status == "extension_requested":
                requested = handling + timedelta(days=15)
            if status in _REPLIED:
                replied = dispatched_at + (handling - dispatched_at) * (0.1 + rng.random() * 1.0)
                replied = min(replied, now - timedelta(minutes=1))
            if status == "archived":
                base = replied or reg
                archived = min(base + timedelta(days=1 + rng.random() * 4), now)
        last = max(t for t in (reg, dispatched_at, signed, replied, archived) if t is not None)
        updated = min(last, now)
        if status == "resolved" or status == "refused":
            archived = None
        is_open = status in (
            "registered",
            "dispatched",
            "return_requested",
            "returned",
            "in_progress",
            "extension_requested",
            "replied",
        )
        if is_open and handling is not None and replied is None and handling <= now:
            self.open_overdue += 1
        self.statuses[status] = self.statuses.get(status, 0) + 1
        callback = status in ("callback_pending", "called_back", "rated") or (
            status == "archived" and rng.random() < 0.3
        )
        rated = status == "rated" or (status == "archived" and callback)
        a = intake.address
        return {
            "uuid": f"{rng.getrandbits(128):032x}",
            "number": f"{prefix}-{day}-{number_n:04d}",
            "status": status,
            "appeal_type": str(intake.appeal_type),
            "channel": str(intake.channel),
            "urgency": str(intake.urgency),
            "caller_phone": intake.caller_phone,
            "caller_name": intake.caller_name,
            "gender": str(intake.gender),
            "confidential": intake.confidential,
            "anonymous": intake.anonymous,
            "category": intake.category,
            "county": county,
            "township": a.township,
            "village": a.village,
            "road": a.road,
            "address_detail": a.detail,
            "lat": a.lat,
            "lon": a.lon,
            "content": intake.content,
            "platform": platform,
            "agent": AGENTS[i % len(AGENTS)],
            "registered_at": reg,
            "department": department,
            "co_departments": "",
            "assigned_platform": "",
            "dispatched_at": dispatched_at,
            "sign_deadline": sign,
            "return_deadline": ret,
            "handling_deadline": handling,
            "deadline_provisional": False,
            "deadline_start": dispatched_at,
            "deadline_amount": 0 if handling is None else 5,
            "deadline_unit": "" if handling is None else "working_days",
            "signed_at": signed,
            "requested_deadline": requested,
            "extensions": 0,
            "returns": 1 if status == "returned" else 0,
            "replied_at": replied,
            "result": "已按来电人诉求处理完毕。" if replied is not None else "",
            "refusal_reason": "",
            "callback_required": callback,
            "callback_attempts": 1 if status in ("called_back", "rated") else 0,
            "callback_result": "reached" if status in ("called_back", "rated") else None,
            "satisfaction": "satisfied" if rated else None,
            "reopens": 0,
            "supervision": 0,
            "archived_at": archived,
            "version": _VERSION[status],
            "updated_at": updated,
            "last_seq": self.seq_base + i + 1,
            "related_to": "",
        }


def _sqlite_value(value: Any) -> Any:
    """What ``UTCDateTime``/``Boolean`` bind to on SQLite, without SQLAlchemy's per-value calls."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(" ", "microseconds")
    if isinstance(value, bool):
        return int(value)
    return value


def _pg_value(value: Any) -> Any:
    return value  # psycopg binds aware datetimes and bools itself


def _check_conversion(
    columns: list[Any], dialect: Any, convert: Any, sample: dict[str, Any]
) -> None:
    """The fast conversion must give what the column types' own bind processors give."""
    for c in columns:
        proc = c.type._cached_bind_processor(dialect)
        want = sample[c.name] if proc is None else proc(sample[c.name])
        got = convert(sample[c.name])
        if want != got:
            raise AssertionError(f"{c.name}: {got!r} != {want!r}")


def bulk_load(engine: Engine, n: int, now: datetime, batch: int = 10_000) -> LoadResult:
    """Insert ``n`` case rows (ids in registration order) and fix up the counters."""
    t_total = time.perf_counter()
    cases = CaseRow.__table__  # type: ignore[attr-defined]
    counters = CounterRow.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        seq_sql = sa.text("SELECT value FROM counters WHERE name = 'change_seq'")
        seq_base = int(conn.execute(seq_sql).scalar_one())
    maker = _RowMaker(now, n, seq_base)
    result = LoadResult()
    dialect = engine.dialect
    columns = [c for c in cases.columns if c.name != "id"]
    convert = _sqlite_value if dialect.name == "sqlite" else _pg_value
    _check_conversion(columns, dialect, convert, maker.row(0))
    mark = "?" if dialect.name == "sqlite" else "%s"
    sql = (
        f"INSERT INTO cases ({', '.join(c.name for c in columns)}) "
        f"VALUES ({', '.join([mark] * len(columns))})"
    )
    names = [c.name for c in columns]
    for lo in range(0, n, batch):
        rows = []
        for i in range(lo, min(n, lo + batch)):
            d = maker.row(i)
            rows.append(tuple([convert(d[k]) for k in names]))
        # The timed part: the driver's executemany and the commit, nothing of Python's making.
        raw = engine.raw_connection()
        try:
            t0 = time.perf_counter()
            cursor = raw.cursor()
            cursor.executemany(sql, rows)
            raw.commit()
            result.insert_seconds += time.perf_counter() - t0
            cursor.close()
        finally:
            raw.close()
        result.rows += len(rows)
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE counters SET value = :v WHERE name = 'change_seq'"),
            {"v": seq_base + n},
        )
        # The year series (``domain.numbers``) go on past the highest number of their year.
        years: dict[str, int] = {}
        for (p, d), v in maker.numbers.items():
            name = f"number:{p}:{d[:4]}"
            years[name] = max(years.get(name, 0), v)
        conn.execute(sa.delete(counters).where(counters.c.name.in_(list(years))))
        conn.execute(sa.insert(counters), [{"name": n, "value": v} for n, v in years.items()])
    result.statuses = dict(sorted(maker.statuses.items(), key=lambda kv: -kv[1]))
    result.open_overdue = maker.open_overdue
    result.total_seconds = time.perf_counter() - t_total
    return result


def create_users(engine: Engine, now: datetime) -> None:
    """The benchmark's accounts, straight into ``users`` with one argon2 hash."""
    digest = hash_password(PASSWORD)
    users = UserRow.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:
        conn.execute(
            sa.insert(users),
            [
                {
                    "user_id": uid,
                    "name": uid,
                    "role": role,
                    "department": dept,
                    "platform": "city",
                    "password_hash": digest,
                    "disabled": False,
                    "created_at": now,
                }
                for uid, role, dept in USERS
            ],
        )


def utcnow() -> datetime:
    return datetime.now(UTC)
