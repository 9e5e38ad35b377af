"""The audit log holds against database access, not only against the API.

* SQLite: ``INSERT OR REPLACE`` / ``REPLACE … SELECT`` of an existing event used to go
  through (a REPLACE deletes the old row without running delete triggers unless
  ``recursive_triggers`` is on) and forged an event's actor, which the API then served.
* PostgreSQL: the store ran as the owner of its tables and could ``TRUNCATE`` the log, or
  ``ALTER TABLE … DISABLE TRIGGER`` and then ``UPDATE`` it. The store now runs as a runtime
  role that may only read and append (the API fixtures serve as that role).
* Every event is hashed onto the one before it by a trigger, and ``agent-tui audit verify``
  names the first event that no longer matches its link: tampering by whoever holds the
  owner's keys is detectable, not just harder.
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner

from agent_tui import wire as S
from agent_tui.cli import cli
from agent_tui.config import Settings
from agent_tui.domain.case import Role, Status
from agent_tui.domain.lifecycle import Step
from agent_tui.server import audit_chain
from agent_tui.server.audit_chain import GENESIS, canonical, link_hash, verify
from agent_tui.server.db import make_engine, migrate
from agent_tui.server.store import Store
from agent_tui.server.visibility import Actor
from tests.conftest_pg import OWNER_ROLE, as_role

from .conftest import Api, FrozenClock
from .helpers import DEPT_USER, case_in, new_case


def events_of(http: Api, case: dict[str, Any]) -> list[dict[str, Any]]:
    r = http.get(f"/api/cases/{case['uuid']}")
    assert r.status_code == 200, r.text
    return r.json()["events"]  # type: ignore[no-any-return]


def count(engine: sa.Engine, table: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


@pytest.fixture
def engine(app: FastAPI) -> sa.Engine:
    """The store's own engine (on PostgreSQL: the runtime role)."""
    return app.state.store.engine  # type: ignore[no-any-return]


@pytest.fixture
def superuser(db_url: str) -> Iterator[sa.Engine]:
    """Whoever holds the keys: SQLite's file, PostgreSQL's superuser."""
    url = db_url if db_url.startswith("sqlite") else as_role(db_url, "postgres")
    engine = make_engine(url) if db_url.startswith("sqlite") else sa.create_engine(url)
    yield engine
    engine.dispose()


def forge(superuser: sa.Engine, statement: str, **params: Any) -> None:
    """Run ``statement`` past the append-only guard, as someone with the keys would."""
    with superuser.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("DROP TRIGGER IF EXISTS case_events_no_update")
            connection.exec_driver_sql("DROP TRIGGER IF EXISTS case_events_no_delete")
        else:  # every ordinary trigger off, for this transaction only
            connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
        connection.execute(sa.text(statement), params)


def some_history(http: Api) -> list[dict[str, Any]]:
    """A few cases through a few steps (register, dispatch, sign, reply …)."""
    cases = [case_in(http, Status.REPLIED), case_in(http, Status.IN_PROGRESS)]
    cases.append(new_case(http, "agent02"))
    return cases


# --- the chain ----------------------------------------------------------------------------------


def test_a_clean_store_verifies_clean(http: Api, engine: sa.Engine) -> None:
    report = verify(engine)
    assert report.clean and report.events == 0 and report.head_hash == GENESIS
    some_history(http)
    events = count(engine, "case_events")
    assert events == 3 + 2 + 1 + 2  # (register, dispatch, sign, reply), (… sign), (register)
    report = verify(engine)
    assert report.clean, [b.describe_en() for b in report.breaks]
    assert report.events == report.links == report.head_position == events
    with engine.connect() as connection:
        links = connection.execute(
            sa.text("SELECT position, event_id FROM audit_chain ORDER BY position")
        ).all()
    assert [p for p, _ in links] == list(range(1, events + 1))  # contiguous, from 1


def test_each_link_is_the_hash_of_the_event_and_the_link_before(
    http: Api, engine: sa.Engine
) -> None:
    """What the trigger stored is what ``canonical`` says, recomputed here independently."""
    new_case(http)
    with engine.connect() as connection:
        event = connection.execute(sa.text("SELECT * FROM case_events")).mappings().one()
        link = connection.execute(sa.text("SELECT * FROM audit_chain")).mappings().one()
    text = canonical(1, event)
    assert text.startswith(f"v1|1|{event['id']}|{event['case_id']}|")
    assert event["case_uuid"].encode().hex() in text and "T01:00:00.000000Z" in text
    assert link["prev_hash"] == GENESIS
    expected = hashlib.sha256(f"{GENESIS}|{text}".encode()).hexdigest()
    assert link["hash"] == expected == link_hash(GENESIS, 1, event)


def test_a_forged_event_is_named_with_its_case(
    http: Api, engine: sa.Engine, superuser: sa.Engine
) -> None:
    cases = some_history(http)
    target = events_of(http, cases[0])[1]  # the dispatch of the first case
    assert target["step"] == "dispatch" and target["actor"] == "agent01"
    forge(superuser, "UPDATE case_events SET actor = 'lead01' WHERE id = :id", id=target["id"])
    assert events_of(http, cases[0])[1]["actor"] == "lead01"  # the API serves the forgery …
    report = verify(engine)  # … and the chain names it
    assert not report.clean and report.broken == 1
    first = report.breaks[0]
    assert first.event_id == target["id"] and first.seq == target["seq"]
    assert first.case_number == cases[0]["number"]
    assert "上链后被改动过" in first.what and "changed after it was written" in first.what_en
    assert "dispatch，lead01" in first.describe()


def test_a_forged_time_is_caught_to_the_microsecond(
    http: Api, engine: sa.Engine, superuser: sa.Engine
) -> None:
    case = new_case(http)
    event = events_of(http, case)[0]
    forge(
        superuser,
        "UPDATE case_events SET at = :at WHERE id = :id",
        id=event["id"],
        at=event_time(superuser, event["id"], microseconds=1),
    )
    report = verify(engine)
    assert [b.event_id for b in report.breaks] == [event["id"]]


def event_time(engine: sa.Engine, event_id: int, microseconds: int) -> Any:
    """The event's ``at`` moved by some microseconds, in the engine's own form."""
    from datetime import timedelta

    with engine.connect() as connection:
        at = connection.execute(
            sa.text("SELECT at FROM case_events WHERE id = :id"), {"id": event_id}
        ).scalar_one()
    if isinstance(at, str):  # SQLite's text
        from datetime import datetime

        moved = datetime.fromisoformat(at) + timedelta(microseconds=microseconds)
        return moved.isoformat(" ", "microseconds")
    return at + timedelta(microseconds=microseconds)


def test_deleted_unchained_and_relinked_events_are_named(
    http: Api, engine: sa.Engine, superuser: sa.Engine
) -> None:
    cases = some_history(http)
    events = [e for c in cases for e in events_of(http, c)]
    victim = events[2]
    forge(superuser, "DELETE FROM case_events WHERE id = :id", id=victim["id"])
    report = verify(engine)
    assert [b.event_id for b in report.breaks] == [victim["id"]]
    assert "已被删除" in report.breaks[0].what
    # An event slipped in with the chain's trigger off has no link at all.
    with superuser.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("DROP TRIGGER case_events_chain")
        else:
            connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
        connection.execute(
            sa.text(
                "INSERT INTO case_events (case_id, case_uuid, seq, step, actor, role, at,"
                " from_status, to_status, reason, changes, version)"
                " SELECT case_id, case_uuid, seq, 'supervise', 'admin', 'admin', at, to_status,"
                " to_status, 'inserted', '{}', version + 1 FROM case_events WHERE id = :id"
            ),
            {"id": events[0]["id"]},
        )
    report = verify(engine)
    assert report.broken == 2
    assert report.breaks[1].position is None and "不在链上" in report.breaks[1].what


def test_a_recomputed_chain_is_caught_by_an_anchor(
    http: Api, engine: sa.Engine, superuser: sa.Engine
) -> None:
    """Whoever rewrites an event and recomputes every link after it leaves a clean chain;
    the head printed earlier (kept outside the database) still catches it."""
    cases = some_history(http)
    anchor = (verify(engine).head_position, verify(engine).head_hash)
    first = events_of(http, cases[0])[0]
    forge(superuser, "UPDATE case_events SET actor = 'x' WHERE id = :id", id=first["id"])
    with superuser.begin() as connection:  # the forger's recomputation, from the top
        connection.exec_driver_sql(
            "DROP TRIGGER IF EXISTS audit_chain_no_update"
            if connection.dialect.name == "sqlite"
            else "SET LOCAL session_replication_role = replica"
        )
        connection.exec_driver_sql(
            "DROP TRIGGER IF EXISTS audit_chain_head_moves_on"
            if connection.dialect.name == "sqlite"
            else "SELECT 1"
        )
        rows = connection.execute(
            sa.text(
                "SELECT c.position, e.* FROM audit_chain c JOIN case_events e"
                " ON e.id = c.event_id ORDER BY c.position"
            )
        ).mappings()
        prev = GENESIS
        for row in list(rows):
            digest = link_hash(prev, row["position"], row)
            connection.execute(
                sa.text("UPDATE audit_chain SET prev_hash = :p, hash = :h WHERE position = :n"),
                {"p": prev, "h": digest, "n": row["position"]},
            )
            prev = digest
        connection.execute(
            sa.text("UPDATE audit_chain_head SET hash = :h, prev_hash = '' WHERE id = 1"),
            {"h": prev},
        )
    assert verify(engine).clean  # recomputed: clean by itself …
    report = verify(engine, anchors=[anchor])  # … but not against what was recorded
    assert not report.clean and report.breaks[0].position == anchor[0]
    assert "锚点" in report.breaks[0].what


def test_a_multi_row_insert_chains_every_row(
    http: Api, engine: sa.Engine, superuser: sa.Engine
) -> None:
    """Any writer, any statement: three events in one INSERT … SELECT get three links."""
    case = new_case(http)
    with engine.begin() as connection:  # the store's own role may append
        connection.execute(
            sa.text(
                "INSERT INTO case_events (case_id, case_uuid, seq, step, actor, role, at,"
                " from_status, to_status, reason, changes, version)"
                " SELECT case_id, case_uuid, seq, 'supervise', 'lead01', 'lead', at, to_status,"
                " to_status, 'note ' || n, '{}', version FROM case_events,"
                " (SELECT 1 AS n UNION ALL SELECT 2 UNION ALL SELECT 3) AS three"
                " WHERE case_uuid = :uuid"
            ),
            {"uuid": case["uuid"]},
        )
    report = verify(engine)
    assert report.clean and report.events == report.links == 4


# --- SQLite: REPLACE ----------------------------------------------------------------------------


SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
POSTGRESQL_ONLY = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


@SQLITE_ONLY
@pytest.mark.parametrize("recursive_triggers", [0, 1])
@pytest.mark.parametrize(
    "statement",
    [
        "INSERT OR REPLACE INTO case_events SELECT id, case_id, case_uuid, seq, step,"
        " 'forger', role, at, from_status, to_status, reason, changes, version"
        " FROM case_events WHERE id = :id",
        "REPLACE INTO case_events SELECT id, case_id, case_uuid, seq, step, 'forger', role, at,"
        " from_status, to_status, reason, changes, version FROM case_events WHERE id = :id",
        "INSERT INTO case_events SELECT * FROM case_events WHERE id = :id"
        " ON CONFLICT (id) DO UPDATE SET actor = 'forger'",
    ],
    ids=["insert-or-replace", "replace-select", "upsert"],
)
def test_sqlite_refuses_replace_of_an_event(
    http: Api, db_url: str, statement: str, recursive_triggers: int
) -> None:
    """A REPLACE deletes the old row without running delete triggers unless
    ``recursive_triggers`` is on; a BEFORE INSERT trigger runs before the conflict is
    resolved, with or without it. Raw sqlite3 (with the sha256 function, as the store has)."""
    import sqlite3

    case = case_in(http, Status.DISPATCHED)
    before = events_of(http, case)
    connection = sqlite3.connect(db_url.split("///", 1)[1])
    connection.create_function("sha256", 1, audit_chain.sqlite_sha256, deterministic=True)
    connection.execute(f"PRAGMA recursive_triggers = {recursive_triggers}")
    sql = statement.replace(":id", str(before[1]["id"]))
    with pytest.raises(sqlite3.DatabaseError, match="case_events is append-only"):
        connection.execute(sql)
    for table, key in (("audit_chain", "position"), ("audit_chain", "event_id")):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            connection.execute(
                f"INSERT OR REPLACE INTO {table} SELECT position, event_id, prev_hash, 'x'"
                f" FROM {table} WHERE {key} = (SELECT min({key}) FROM {table})"
            )
    connection.close()
    assert events_of(http, case) == before
    assert verify(make_engine(db_url)).clean


@SQLITE_ONLY
def test_sqlite_needs_the_stores_time_format_and_the_hash_function(http: Api, db_url: str) -> None:
    """An event whose ``at`` is not the store's UTC text would hash differently on reading:
    refused. A writer without ``sha256()`` cannot append at all (it fails, it does not
    write an unchained event)."""
    import sqlite3

    case = new_case(http)
    insert = (
        "INSERT INTO case_events (case_id, case_uuid, seq, step, actor, role, at, from_status,"
        " to_status, reason, changes, version) SELECT case_id, case_uuid, seq, 'supervise',"
        " 'lead01', 'lead', {at}, to_status, to_status, '', '{{}}', version FROM case_events"
    )
    connection = sqlite3.connect(db_url.split("///", 1)[1])
    with pytest.raises(sqlite3.DatabaseError, match="no such function: sha256"):
        connection.execute(insert.format(at="at"))
    connection.create_function("sha256", 1, audit_chain.sqlite_sha256, deterministic=True)
    for at in ("'2026-11-26T01:00:00+00:00'", "'2026-11-26 01:00:00'", "1764118800"):
        with pytest.raises(sqlite3.DatabaseError, match="store's UTC text"):
            connection.execute(insert.format(at=at))
    connection.execute(insert.format(at="'2026-11-26 01:00:00.000001'"))
    connection.commit()
    connection.close()
    assert len(events_of(http, case)) == 2
    assert verify(make_engine(db_url)).clean


# --- PostgreSQL: the runtime role ---------------------------------------------------------------

REFUSED_TO_THE_RUNTIME_ROLE = [
    "TRUNCATE case_events",
    "TRUNCATE case_events CASCADE",
    "ALTER TABLE case_events DISABLE TRIGGER case_events_no_change",
    "ALTER TABLE case_events DISABLE TRIGGER ALL",
    "DROP TRIGGER case_events_no_change ON case_events",
    "UPDATE case_events SET actor = 'forger'",
    "DELETE FROM case_events",
    "INSERT INTO case_events SELECT * FROM case_events ON CONFLICT (id) DO UPDATE"
    " SET actor = 'forger'",
    "CREATE TRIGGER sneak BEFORE INSERT ON case_events FOR EACH ROW"
    " EXECUTE FUNCTION case_events_append_only()",
    "ALTER TABLE case_events OWNER TO agent_tui_app",
    "DROP TABLE case_events CASCADE",
    "SET session_replication_role = replica",
    "INSERT INTO audit_chain VALUES (1000, 1000, 'x', 'y')",
    "UPDATE audit_chain SET hash = 'x'",
    "DELETE FROM audit_chain",
    "TRUNCATE audit_chain",
    "UPDATE audit_chain_head SET position = 0",
    "SELECT case_events_chain()",
]


@POSTGRESQL_ONLY
def test_the_runtime_role_cannot_rewrite_the_log(http: Api, db_url: str, engine: sa.Engine) -> None:
    cases = some_history(http)
    before = [events_of(http, c) for c in cases]
    assert engine.url.username == "agent_tui_app"
    for statement in REFUSED_TO_THE_RUNTIME_ROLE:
        with pytest.raises(sa.exc.DBAPIError) as refused, engine.begin() as connection:
            connection.exec_driver_sql(statement)
        assert refused.value.orig is not None
        assert getattr(refused.value.orig, "sqlstate", "") in (
            "42501",  # insufficient_privilege: permission denied, must be owner
            "42883",  # a trigger function cannot be called directly
            "0A000",  # feature_not_supported (trigger functions)
        ), (statement, refused.value.orig)
    assert [events_of(http, c) for c in cases] == before
    assert verify(engine).clean


@POSTGRESQL_ONLY
def test_the_owner_cannot_truncate_the_log_by_accident(
    http: Api, db_url: str, engine: sa.Engine
) -> None:
    """The owner may do anything with its tables, on purpose; a stray TRUNCATE is refused by
    the guard, and what a deliberate one does is visible to ``verify`` (see the forgeries)."""
    some_history(http)
    owner = sa.create_engine(as_role(db_url, OWNER_ROLE), poolclass=NullPool)
    try:
        for table in ("case_events", "audit_chain", "audit_chain_head"):
            with (
                pytest.raises(sa.exc.DBAPIError, match="append-only"),
                owner.begin() as connection,
            ):
                connection.exec_driver_sql(f"TRUNCATE {table} CASCADE")
        for statement in ("UPDATE audit_chain SET hash = 'x'", "DELETE FROM audit_chain_head"):
            with (
                pytest.raises(sa.exc.DBAPIError, match="append-only"),
                owner.begin() as connection,
            ):
                connection.exec_driver_sql(statement)
    finally:
        owner.dispose()
    assert verify(engine).clean


@POSTGRESQL_ONLY
def test_the_chain_ignores_the_sessions_time_zone_and_date_style(
    http: Api, db_url: str, engine: sa.Engine
) -> None:
    """Events written by sessions with other TimeZone, DateStyle, IntervalStyle and float
    settings hash to what ``verify`` recomputes (the trigger casts nothing implicitly)."""
    case = new_case(http)
    settings = [
        ("Asia/Shanghai", "ISO, YMD", "postgres", 1),
        ("America/St_Johns", "SQL, DMY", "sql_standard", 3),
        ("UTC", "German", "postgres_verbose", -15),
        ("Pacific/Chatham", "Postgres, MDY", "iso_8601", 0),
    ]
    for zone, style, interval, digits in settings:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"SET LOCAL TimeZone = '{zone}'")
            connection.exec_driver_sql(f"SET LOCAL DateStyle = '{style}'")
            connection.exec_driver_sql(f"SET LOCAL IntervalStyle = '{interval}'")
            connection.exec_driver_sql(f"SET LOCAL extra_float_digits = {digits}")
            connection.execute(
                sa.text(
                    "INSERT INTO case_events (case_id, case_uuid, seq, step, actor, role, at,"
                    " from_status, to_status, reason, changes, version)"
                    " SELECT case_id, case_uuid, seq, 'supervise', 'lead01', 'lead',"
                    " '2026-11-26 09:00:00.123456+08', to_status, to_status, :reason,"
                    " :changes, version FROM case_events WHERE case_uuid = :uuid LIMIT 1"
                ),
                {
                    "uuid": case["uuid"],
                    "reason": f"督办｜{zone}|\\n\t'\"",
                    "changes": json.dumps({"lat": [None, 32.98765432101234]}),
                },
            )
    report = verify(engine)
    assert report.clean and report.events == 1 + len(settings)
    with engine.connect() as connection:
        ats = connection.execute(
            sa.text("SELECT at FROM case_events WHERE step = 'supervise'")
        ).scalars()
        assert {audit_chain.canonical_time(a) for a in ats} == {"2026-11-26T01:00:00.123456Z"}


def test_concurrent_writers_in_two_stores_chain_in_commit_order(
    db_url: str, settings: Settings, clock: FrozenClock, app: FastAPI
) -> None:
    """Two stores (two pools, as two workers have) and four threads writing at once: every
    event linked once, positions contiguous, each link following the one committed before."""
    stores = [app.state.store, Store(make_engine(db_url), settings, clock=clock)]
    agent, lead = Actor("agent01", Role.AGENT), Actor("lead01", Role.LEAD)
    errors: list[BaseException] = []

    def write(store: Store) -> None:
        try:
            for _ in range(8):
                case, _ = store.create_case(agent, body())
                dispatch = S.DispatchBody.model_validate(
                    {"command_id": str(uuid.uuid4()), "version": 1, "department": "CGJ"}
                )
                store.apply_step(lead, case.uuid, Step.DISPATCH, dispatch)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(s,)) for s in stores for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stores[1].engine.dispose()
    assert not errors, errors
    report = verify(stores[0].engine)
    assert report.clean, [b.describe_en() for b in report.breaks]
    assert report.events == report.head_position == 4 * 8 * 2


def body() -> S.CaseCreate:
    return S.CaseCreate.model_validate(
        {
            "uuid": str(uuid.uuid4()),
            "appeal_type": "complaint",
            "content": "乐山大道与文化路交叉口东南角下水道堵塞",
            "caller_phone": "13912345678",
            "category": "0101",
            "address": {"county": "驿城区"},
        }
    )


# --- existing stores ----------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def bare_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database (PostgreSQL: as the superuser, one role, as stores were made)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.db'}"
    url: str = request.getfixturevalue("pg_database_url")
    return url


def test_the_migration_chains_the_events_already_stored(
    bare_url: str, tmp_path: Path, clock: FrozenClock
) -> None:
    """A store from before the chain (events written, no links): written with today's code
    on today's schema, then taken back to revision 0005 (the chain's tables and triggers go,
    the events stay), then migrated again: every event gets its link."""
    from alembic import command

    from agent_tui.server.db import alembic_config

    migrate(bare_url)
    settings = Settings(data_dir=tmp_path, db_url=bare_url, clock_interval_seconds=0)
    engine = make_engine(bare_url)
    store = Store(engine, settings, clock=clock)
    from agent_tui.server.seed import seed_reference

    seed_reference(store)
    agent, lead = Actor("agent01", Role.AGENT), Actor("lead01", Role.LEAD)
    made = [store.create_case(agent, body())[0] for _ in range(5)]
    for case in made[:3]:
        dispatch = S.DispatchBody.model_validate(
            {"command_id": str(uuid.uuid4()), "version": 1, "department": "CGJ"}
        )
        store.apply_step(lead, case.uuid, Step.DISPATCH, dispatch)
    engine.dispose()
    command.downgrade(alembic_config(bare_url), "0005")
    migrate(bare_url)
    engine = make_engine(bare_url)
    store = Store(engine, settings, clock=clock)
    report = verify(engine)
    assert report.clean and report.events == report.head_position == 8
    store.create_case(agent, body())  # the trigger carries on from the migrated head
    report = verify(engine)
    assert report.clean and report.events == report.head_position == 9
    engine.dispose()


# --- agent-tui audit verify ---------------------------------------------------------------------


def test_agent_tui_audit_verify(
    http: Api, db_url: str, superuser: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    cases = some_history(http)
    clean = runner.invoke(cli, ["audit", "verify", "--db", db_url])
    assert clean.exit_code == 0, clean.output
    assert "审计链完好：8 条事件" in clean.output and "clean, 8 events" in clean.output
    head = clean.output.split("head ")[1].strip()
    assert runner.invoke(cli, ["audit", "verify", "--db", db_url, "--anchor", head]).exit_code == 0
    signed = events_of(http, cases[1])[2]
    assert signed["step"] == "sign" and signed["actor"] == DEPT_USER
    forge(superuser, "UPDATE case_events SET reason = 'x' WHERE id = :id", id=signed["id"])
    broken = runner.invoke(cli, ["audit", "verify", "--db", db_url, "--anchor", head])
    assert broken.exit_code == 1, broken.output
    first_line = broken.output.splitlines()[0]
    assert f"事件 id {signed['id']}" in first_line and cases[1]["number"] in first_line
    assert f"变更号 {signed['seq']}" in first_line and "上链后被改动过" in first_line
    assert f"event id {signed['id']}" in broken.output
    bad = runner.invoke(cli, ["audit", "verify", "--db", db_url, "--anchor", "7:nothex"])
    assert bad.exit_code == 2 and "锚点" in bad.output


def test_agent_tui_audit_verify_without_a_store(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["audit", "verify", "--db", f"sqlite:///{tmp_path / 'none.db'}"]
    )
    assert result.exit_code == 2 and "没有这个中心库" in result.output
    assert not (tmp_path / "none.db").exists()
