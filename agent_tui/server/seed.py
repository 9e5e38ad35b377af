"""``agent-tui seed [--demo]``: reference data, and demo accounts and cases, into the store."""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from agent_tui.config import Settings
from agent_tui.data.addresses import load_starter_roads
from agent_tui.data.calendar import calendar_body, load_overrides, merged, schedules_from_body
from agent_tui.data.reference import ReferenceData
from agent_tui.domain.calendar import SHANGHAI
from agent_tui.domain.case import Status
from agent_tui.domain.lifecycle import Step
from agent_tui.server.auth import hash_password
from agent_tui.server.codec import case_columns, encode_changes
from agent_tui.server.db import make_engine, migrate
from agent_tui.server.errors import NotFound
from agent_tui.server.models import (
    CaseRow,
    DepartmentRow,
    PlatformRow,
    UserRow,
)
from agent_tui.server.reference_sets import CALENDAR
from agent_tui.server.store import Store


def reference_bodies(ref: ReferenceData, settings: Settings) -> dict[str, Any]:
    """The reference sets the seats cache, as plain JSON."""

    def rows(items: Any) -> list[dict[str, Any]]:
        out = []
        for item in items:
            d = dataclasses.asdict(item)
            out.append({k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items()})
        return out

    book = load_starter_roads()
    path = settings.address_book_path()
    if path is not None:
        from agent_tui.data.addresses import read_address_csv

        book = [*book, *read_address_csv(path)]
    calendar = calendar_body(load_overrides(settings.calendar_overrides))
    return {
        "platforms": rows(ref.platforms),
        "departments": rows(ref.departments),
        "categories": rows(ref.categories),
        "knowledge": rows(ref.knowledge),
        "county_routing": rows(ref.county_routing),
        "address_book": rows(book),
        "calendar": calendar,
    }


def seed_reference(store: Store) -> None:
    ref = store.reference
    with Session(store.engine) as session, session.begin():
        for p in ref.platforms:
            prefix = (p.initials or p.code).upper() if p.code != "city" else ""
            session.merge(
                PlatformRow(code=p.code, name=p.name, county=p.county, number_prefix=prefix)
            )
        for d in ref.departments:
            session.merge(
                DepartmentRow(
                    code=d.code,
                    name=d.name,
                    short_name=d.short_name,
                    kind=d.kind,
                    platform=d.platform,
                    phone=d.phone,
                )
            )
    for name, body in reference_bodies(ref, store.settings).items():
        if name == CALENDAR:
            body = _with_imported_years(store, body)
        store.put_reference_set(name, body)


def _with_imported_years(store: Store, body: Any) -> Any:
    """The configured calendar with the years an admin imported into the store kept (a seed
    on every start must not undo ``agent-tui calendar import``)."""
    try:
        stored = store.references.reference_set(CALENDAR)
    except NotFound:
        return body
    imported = schedules_from_body(json.loads(stored.body))
    return calendar_body(merged(schedules_from_body(body), imported))


def seed_demo(store: Store, count: int, now: datetime) -> dict[str, int]:
    """Demo accounts and ``count`` cases with their whole history, in bulk."""
    from agent_tui.demo import demo_users, generate_demo, replay

    users = demo_users(store.reference)
    password_hash = hash_password(users[0].password) if users else ""
    with Session(store.engine) as session, session.begin():
        for u in users:
            if session.get(UserRow, u.user_id) is None:
                session.add(
                    UserRow(
                        user_id=u.user_id,
                        name=u.name,
                        role=u.role,
                        department=u.department,
                        platform=u.platform,
                        # one hash for the shared demo password: argon2 is slow on purpose
                        password_hash=password_hash
                        if u.password == users[0].password
                        else hash_password(u.password),
                        created_at=now,
                    )
                )
    demo = generate_demo(now, count=count)
    numbers: dict[tuple[str, str], int] = defaultdict(int)
    statuses: dict[str, int] = defaultdict(int)
    case_rows: list[dict[str, Any]] = []
    event_rows: list[dict[str, Any]] = []
    change_rows: list[dict[str, Any]] = []
    with Session(store.engine) as session, session.begin():
        seq = session.execute(
            sa.text("SELECT value FROM counters WHERE name = 'change_seq'")
        ).scalar_one()
        next_id = session.execute(sa.select(sa.func.max(CaseRow.id))).scalar_one() or 0
        for dc in sorted(demo, key=lambda c: c.registered_at):
            case, events = replay(dc)
            day = dc.registered_at.astimezone(SHANGHAI).strftime("%Y%m%d")
            numbers[(dc.platform, day)] += 1
            prefix = "ZMD"
            if dc.platform != "city":
                found = store.reference.platform(dc.platform)
                prefix = f"ZMD-{(found.initials if found else dc.platform).upper()}"
            number = f"{prefix}-{day}-{numbers[(dc.platform, day)]:04d}"
            case = dataclasses.replace(case, number=number)
            next_id += 1
            seq += 1
            values = case_columns(case)
            values.update(
                id=next_id,
                updated_at=events[-1].at,
                last_seq=seq,
                related_to=dc.related_to,  # its link is in the registration event too
                **_deadline_source(store, case, events),
            )
            case_rows.append(values)
            for ev in events:
                changes = dict(ev.changes)
                if ev.step is Step.REGISTER:
                    changes["number"] = (None, number)
                event_rows.append(
                    {
                        "case_id": next_id,
                        "case_uuid": case.uuid,
                        "seq": seq,
                        "step": str(ev.step),
                        "actor": ev.actor,
                        "role": str(ev.role),
                        "at": ev.at,
                        "from_status": str(ev.from_status) if ev.from_status else None,
                        "to_status": str(ev.to_status),
                        "reason": ev.reason,
                        "changes": encode_changes(changes),
                        "version": ev.version,
                    }
                )
            change_rows.append(
                {
                    "seq": seq,
                    "kind": "case",
                    "case_id": next_id,
                    "name": "",
                    "version": case.version,
                    "department": case.department,
                    "at": now,
                }
            )
            statuses[str(case.status)] += 1
        # Bulk inserts through SQLAlchemy Core: one executemany per table and chunk. (The ORM's
        # bulk path, ``session.execute(insert(Model), rows)``, costs 3x as much here: it splits
        # the rows by their keys and processes each value per row; docs/benchmarks.md.)
        connection = session.connection()
        tables = CaseRow.metadata.tables
        for name, rows in (
            ("cases", case_rows),
            ("case_events", event_rows),
            ("changes", change_rows),
        ):
            for i in range(0, len(rows), 5000):
                connection.execute(tables[name].insert(), rows[i : i + 5000])
        if session.get_bind().dialect.name == "postgresql":
            session.execute(
                sa.text("SELECT setval(pg_get_serial_sequence('cases', 'id'), :v)"),
                {"v": next_id},
            )
        session.execute(
            sa.text("UPDATE counters SET value = :v WHERE name = 'change_seq'"), {"v": seq}
        )
        # Each platform's year series goes on past the demo's numbers (``domain.numbers``).
        years: dict[tuple[str, str], int] = defaultdict(int)
        for (platform, day), value in numbers.items():
            years[(platform, day[:4])] = max(years[(platform, day[:4])], value)
        for (platform, year), value in years.items():
            session.execute(
                sa.text(
                    "INSERT INTO counters (name, value) VALUES (:n, :v) ON CONFLICT (name) "
                    "DO UPDATE SET value = CASE WHEN counters.value > :v THEN counters.value "
                    "ELSE :v END"
                ),
                {"n": f"number:{platform}:{year}", "v": value},
            )
    return dict(statuses)


def _deadline_source(store: Store, case: Any, events: list[Any]) -> dict[str, Any]:
    """What the current handling deadline was computed from (for reminders, recomputing)."""
    start = None
    for ev in events:
        if ev.step in (Step.DISPATCH, Step.REOPEN) and "handling_deadline" in ev.changes:
            start = ev.at
    if case.handling_deadline is None or start is None:
        return {"deadline_start": None, "deadline_amount": 0, "deadline_unit": ""}
    span = store.policy.handling_limit(store.deadline_class(case), case.urgency)
    return {
        "deadline_start": start,
        "deadline_amount": span.amount,
        "deadline_unit": str(span.unit),
    }


def seed_database(settings: Settings, *, demo: bool, cases: int = 3000) -> str:
    url = settings.database_url()
    migrate(url)
    store = Store(make_engine(url), settings)
    seed_reference(store)
    lines = [f"参考数据已载入 → {url}"]
    with Session(store.engine) as session:
        existing = session.execute(sa.select(sa.func.count()).select_from(CaseRow)).scalar_one()
    if demo and existing == 0:
        counts = seed_demo(store, cases, datetime.now(UTC))
        lines.append(
            f"演示工单 {sum(counts.values())} 件："
            + "，".join(f"{Status(k).label} {v}" for k, v in sorted(counts.items()))
        )
        lines.append("演示账号：agent01 / lead01 / admin / cgj …，密码 demo1234")
    elif demo:
        lines.append(f"已有 {existing} 件工单，未重复载入演示数据")
    return "\n".join(lines)
