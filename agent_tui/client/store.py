"""The seat's own SQLite: drafts, the outbox, the case cache, reference data and sync state.

Nothing typed at a seat lives only in memory. A draft is written on every change; saving a
case writes the case (marked pending) and its outbox command in ONE transaction, so a crash
between the two is impossible; the sync engine later sends the outbox in order. One file per
server and user, under the platformdirs data dir. Standard library ``sqlite3`` only.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import uuid as uuid_mod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agent_tui import wire
from agent_tui.client.model import CachedCase, HeldCommand, PendingCase
from agent_tui.domain.case import Address
from agent_tui.domain.lifecycle import Step
from agent_tui.domain.numbers import format_number, number_day
from agent_tui.domain.related import RELATED_WINDOW, is_candidate

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS drafts (
    id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    command_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,              -- 'create' | 'step'
    case_uuid TEXT NOT NULL,
    step TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL,
    chained INTEGER NOT NULL DEFAULT 0, -- version comes from the previous command's answer
    state TEXT NOT NULL DEFAULT 'pending', -- pending | conflict | failed
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    server_case TEXT NOT NULL DEFAULT '', -- a conflict: the server's current case
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_outbox_state ON outbox (state, id);
CREATE TABLE IF NOT EXISTS cases (
    uuid TEXT PRIMARY KEY,
    number TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 0,
    pending INTEGER NOT NULL DEFAULT 0,   -- saved here, not yet confirmed by the server
    caller_phone TEXT NOT NULL DEFAULT '',
    agent TEXT NOT NULL DEFAULT '',
    department TEXT NOT NULL DEFAULT '',
    handling_deadline TEXT,
    registered_at TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_cases_status ON cases (status, handling_deadline);
CREATE INDEX IF NOT EXISTS ix_cases_phone ON cases (caller_phone, registered_at);
-- Case numbers reserved for this seat (blocks from POST /api/numbers/reserve), one row per
-- number; a number given to a case keeps its row (case_uuid set): never handed out again.
CREATE TABLE IF NOT EXISTS numbers (
    prefix TEXT NOT NULL,
    year INTEGER NOT NULL,
    running INTEGER NOT NULL,
    platform TEXT NOT NULL,
    seat_id TEXT NOT NULL,
    block_id INTEGER NOT NULL,
    case_uuid TEXT,
    used_at TEXT,
    PRIMARY KEY (prefix, year, running)
);
CREATE INDEX IF NOT EXISTS ix_numbers_free ON numbers (year, case_uuid, running);
CREATE TABLE IF NOT EXISTS reference (
    name TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    etag TEXT NOT NULL,
    body TEXT NOT NULL
);
"""


Request = wire.CaseCreate | wire.StepBody


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One command waiting for the central store: the wire request model itself."""

    id: int
    command_id: str
    kind: str  # 'create' | 'step'
    case_uuid: str
    step: Step | None  # None for a create
    request: Request
    chained: bool  # its version comes from the answer to the command before it
    state: str  # pending | conflict | failed
    attempts: int
    last_error: str
    server_case: wire.CasePublic | None

    @property
    def version(self) -> int:
        return self.request.version if isinstance(self.request, wire.StepBody) else 0

    def held(self) -> HeldCommand:
        """As the agent sees it once the central store refused it."""
        return HeldCommand(
            self.id,
            self.case_uuid,
            self.step,
            self.version,
            self.state == "conflict",
            self.last_error,
            self.server_case,
        )


def parse_request(kind: str, step: str, body: str) -> Request:
    """The stored request as its wire model (a row written by an older seat that no longer
    validates is kept as it is: the central store will refuse it and the agent sees why)."""
    model: type[wire.CaseCreate] | type[wire.StepBody]
    model = wire.CaseCreate if kind == "create" else wire.STEP_BODIES[Step(step)]
    try:
        return model.model_validate_json(body)
    except ValidationError:
        return model.model_construct(**json.loads(body))


def store_path(data_dir: Path, server_url: str, user_id: str) -> Path:
    """One file per server and user: ``seats/127.0.0.1_8345/agent01.db``."""
    host = re.sub(r"[^A-Za-z0-9.-]+", "_", server_url.split("://", 1)[-1]).strip("_")
    return data_dir / "seats" / host / f"{user_id}.db"


def _now() -> str:
    return datetime.now(UTC).isoformat()


class SeatStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: a power cut right after "saved" must not lose the case.
        self._db.execute("PRAGMA synchronous=FULL")
        self._durable = True
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """A write transaction. ``durable`` (drafts, the outbox) waits for the disk (FULL);
        the case and reference caches can be fetched again, so they skip the fsync."""
        with self._lock:
            if durable != self._durable:
                self._db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
                self._durable = durable
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- meta ----------------------------------------------------------------------------------

    def get_meta(self, key: str, default: str = "") -> str:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else default

    def set_meta(self, key: str, value: str) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    @property
    def last_seq(self) -> int:
        return int(self.get_meta("last_seq", "0"))

    # -- drafts --------------------------------------------------------------------------------

    def save_draft(self, draft_id: str, body: dict[str, Any]) -> None:
        """Called on every change of the form: a crash loses nothing that was typed."""
        with self._tx() as db:
            db.execute(
                "INSERT INTO drafts (id, body, updated_at) VALUES (?, ?, ?) ON CONFLICT (id) "
                "DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
                (draft_id, json.dumps(body, ensure_ascii=False), _now()),
            )

    def drafts(self) -> list[tuple[str, dict[str, Any], str]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, body, updated_at FROM drafts ORDER BY updated_at DESC"
            ).fetchall()
        return [(r[0], json.loads(r[1]), r[2]) for r in rows]

    def delete_draft(self, draft_id: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM drafts WHERE id = ?", (draft_id,))

    # -- saving: the case and its command in one transaction -----------------------------------

    def save_new_case(
        self,
        request: wire.CaseCreate,
        agent: str,
        draft_id: str | None = None,
        then: tuple[Step, wire.StepBody] | None = None,
        *,
        platform: str = "",
    ) -> str:
        """Queue a new case (and the step that follows it, e.g. a dispatch) with the case
        itself marked pending, and drop the draft it came from: one transaction. The case
        takes the next free number of this seat's blocks for its registration day's year
        (of ``platform`` when given): its number for ever. No number left: the central store
        numbers it when it arrives."""
        case_uuid = str(request.uuid)
        registered = request.registered_at or datetime.now(UTC)
        with self._tx() as db:
            if not request.number:
                request = self._numbered(db, request, registered, platform)
            db.execute(
                "INSERT INTO outbox (command_id, kind, case_uuid, body, created_at) "
                "VALUES (?, 'create', ?, ?, ?)",
                (case_uuid, case_uuid, request.model_dump_json(), _now()),
            )
            db.execute(
                "INSERT OR IGNORE INTO cases (uuid, number, status, version, pending, "
                "caller_phone, agent, registered_at, body) "
                "VALUES (?, ?, 'registered', 0, 1, ?, ?, ?, ?)",
                (
                    case_uuid,
                    request.number,
                    request.caller_phone,
                    agent,
                    registered.astimezone(UTC).isoformat(),
                    request.model_dump_json(),
                ),
            )
            if then is not None:
                self._queue_step(db, case_uuid, then[0], then[1])
            if draft_id:
                db.execute("DELETE FROM drafts WHERE id = ?", (draft_id,))
        return case_uuid

    @staticmethod
    def _numbered(
        db: sqlite3.Connection, request: wire.CaseCreate, registered: datetime, platform: str
    ) -> wire.CaseCreate:
        """The request with the next free number of its year (and the seat that holds it),
        dated on its registration day; unchanged when none is left."""
        day = number_day(registered)
        row = db.execute(
            "SELECT prefix, year, running, seat_id FROM numbers WHERE year = ? "
            "AND case_uuid IS NULL AND (? = '' OR platform = ?) ORDER BY running LIMIT 1",
            (int(day[:4]), platform, platform),
        ).fetchone()
        if row is None:
            return request
        prefix, year, running, seat_id = row
        db.execute(
            "UPDATE numbers SET case_uuid = ?, used_at = ? "
            "WHERE prefix = ? AND year = ? AND running = ?",
            (str(request.uuid), _now(), prefix, year, running),
        )
        return request.model_copy(
            update={
                "number": format_number(prefix, day, running),
                "seat_id": seat_id,
                "registered_at": registered,
            }
        )

    # -- case numbers --------------------------------------------------------------------------

    def add_numbers(self, block: wire.NumberBlock) -> None:
        """A block the central store reserved for this seat: its numbers join the pool."""
        with self._tx() as db:
            db.executemany(
                "INSERT OR IGNORE INTO numbers (prefix, year, running, platform, seat_id, "
                "block_id) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (block.prefix, block.year, n, block.platform, block.seat_id, block.id)
                    for n in range(block.first, block.last + 1)
                ],
            )

    def numbers_left(self, year: int, platform: str = "") -> int:
        """Free numbers of ``year`` in the pool (of ``platform`` when given)."""
        with self._lock:
            return int(
                self._db.execute(
                    "SELECT COUNT(*) FROM numbers WHERE year = ? AND case_uuid IS NULL "
                    "AND (? = '' OR platform = ?)",
                    (year, platform, platform),
                ).fetchone()[0]
            )

    def queue_step(self, case_uuid: str, step: Step, request: wire.StepBody) -> str:
        """Queue a lifecycle step (``request`` names the version it was decided on); returns
        its command id."""
        with self._tx() as db:
            self._queue_step(db, case_uuid, step, request)
        return str(request.command_id)

    @staticmethod
    def _queue_step(
        db: sqlite3.Connection, case_uuid: str, step: Step, request: wire.StepBody
    ) -> None:
        earlier = db.execute(
            "SELECT COUNT(*) FROM outbox WHERE case_uuid = ? AND state = 'pending'",
            (case_uuid,),
        ).fetchone()[0]
        db.execute(
            "INSERT INTO outbox (command_id, kind, case_uuid, step, body, chained, created_at)"
            " VALUES (?, 'step', ?, ?, ?, ?, ?)",
            (
                str(request.command_id),
                case_uuid,
                str(step),
                request.model_dump_json(),
                int(earlier > 0),
                _now(),
            ),
        )
        db.execute("UPDATE cases SET pending = 1 WHERE uuid = ?", (case_uuid,))

    # -- the outbox ----------------------------------------------------------------------------

    def _entry(self, row: tuple[Any, ...]) -> OutboxEntry:
        return OutboxEntry(
            id=row[0],
            command_id=row[1],
            kind=row[2],
            case_uuid=row[3],
            step=Step(row[4]) if row[4] else None,
            request=parse_request(row[2], row[4], row[5]),
            chained=bool(row[6]),
            state=row[7],
            attempts=row[8],
            last_error=row[9],
            server_case=wire.CasePublic.model_validate_json(row[10]) if row[10] else None,
        )

    _COLUMNS = (
        "id, command_id, kind, case_uuid, step, body, chained, state, attempts, last_error, "
        "server_case"
    )

    def pending(self, limit: int = 100) -> list[OutboxEntry]:
        """Pending commands in order, skipping cases held by an unresolved conflict."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {self._COLUMNS} FROM outbox WHERE state = 'pending' AND case_uuid NOT IN "
                "(SELECT case_uuid FROM outbox WHERE state IN ('conflict', 'failed')) "
                "ORDER BY id LIMIT ?",
                (limit,),
            ).fetchall()
        return [self._entry(r) for r in rows]

    def held(self) -> list[OutboxEntry]:
        """Commands the server refused (conflicts, invalid): kept for the agent to resolve."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {self._COLUMNS} FROM outbox WHERE state IN ('conflict', 'failed') "
                "ORDER BY id"
            ).fetchall()
        return [self._entry(r) for r in rows]

    def outbox_length(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])

    def delivered(self, entry: OutboxEntry, case: wire.CasePublic) -> None:
        """The server applied ``entry``: drop it and cache the answer."""
        with self._tx() as db:
            db.execute("DELETE FROM outbox WHERE id = ?", (entry.id,))
            self._put_case(db, case)
            left = db.execute(
                "SELECT COUNT(*) FROM outbox WHERE case_uuid = ?", (case.uuid,)
            ).fetchone()[0]
            if not left:
                db.execute("UPDATE cases SET pending = 0 WHERE uuid = ?", (case.uuid,))

    def hold(
        self, entry: OutboxEntry, state: str, error: str, current: wire.CasePublic | None
    ) -> None:
        """Keep a refused command with the server's current case (never drop it)."""
        with self._tx() as db:
            db.execute(
                "UPDATE outbox SET state = ?, last_error = ?, server_case = ?, "
                "attempts = attempts + 1 WHERE id = ?",
                (state, error, current.model_dump_json() if current else "", entry.id),
            )
            if current is not None:
                self._put_case(db, current)

    def failed_attempt(self, entry: OutboxEntry, error: str) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?",
                (error, entry.id),
            )

    def reapply(self, entry_id: int, version: int) -> None:
        """The agent looked at the conflict and sends the step again on ``version`` (as a new
        command: the refused one's id keeps its refusal at the central store)."""
        with self._tx() as db:
            row = db.execute(
                "SELECT kind, step, body FROM outbox WHERE id = ?", (entry_id,)
            ).fetchone()
            if row is None:
                return
            request = parse_request(*row)
            command_id = str(uuid_mod.uuid4())
            if isinstance(request, wire.StepBody):
                request = request.model_copy(
                    update={"version": version, "command_id": uuid_mod.UUID(command_id)}
                )
            else:
                command_id = str(request.uuid)  # a create keeps its uuid: idempotent
            db.execute(
                "UPDATE outbox SET state = 'pending', chained = 0, server_case = '', "
                "last_error = '', body = ?, command_id = ? WHERE id = ?",
                (request.model_dump_json(), command_id, entry_id),
            )

    def discard(self, entry_id: int) -> None:
        """The agent decided the held command is no longer wanted."""
        with self._tx() as db:
            row = db.execute("SELECT case_uuid FROM outbox WHERE id = ?", (entry_id,)).fetchone()
            db.execute("DELETE FROM outbox WHERE id = ?", (entry_id,))
            if (
                row is not None
                and not db.execute(
                    "SELECT COUNT(*) FROM outbox WHERE case_uuid = ?", (row[0],)
                ).fetchone()[0]
            ):
                db.execute("UPDATE cases SET pending = 0 WHERE uuid = ?", (row[0],))

    # -- the case cache ------------------------------------------------------------------------

    @staticmethod
    def _put_case(db: sqlite3.Connection, case: wire.CasePublic) -> None:
        old = db.execute(
            "SELECT version, pending FROM cases WHERE uuid = ?", (case.uuid,)
        ).fetchone()
        if old is not None and old[0] > case.version:
            return  # never go back to an older version
        db.execute(
            "INSERT INTO cases (uuid, number, status, version, pending, caller_phone, agent, "
            "department, handling_deadline, registered_at, body) VALUES "
            "(?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?) ON CONFLICT (uuid) DO UPDATE SET "
            "number = excluded.number, status = excluded.status, version = excluded.version, "
            "caller_phone = excluded.caller_phone, agent = excluded.agent, "
            "department = excluded.department, handling_deadline = excluded.handling_deadline, "
            "registered_at = excluded.registered_at, body = excluded.body",
            (
                case.uuid,
                case.number,
                str(case.status),
                case.version,
                case.caller_phone,
                case.agent,
                case.department,
                case.handling_deadline.isoformat() if case.handling_deadline else None,
                case.registered_at.isoformat(),
                case.model_dump_json(),
            ),
        )

    def put_cases(self, cases: list[wire.CasePublic]) -> None:
        with self._tx(durable=False) as db:
            for case in cases:
                self._put_case(db, case)

    def apply_changes(
        self, page: wire.ChangesPage
    ) -> tuple[list[wire.CasePublic], set[str], set[str]]:
        """Apply a page of the change feed: the cases that changed; the uuids of cases that
        left what this user may see (dropped from the cache unless a command of this seat on
        them still waits: that one is refused by the central store and held for the agent);
        and the uuids of changed cases this seat had a command on (most likely its own)."""
        changed = []
        withdrawn: set[str] = set()
        mine: set[str] = set()
        with self._tx(durable=False) as db:
            for change in page.changes:
                if change.case is not None:
                    if db.execute(
                        "SELECT 1 FROM outbox WHERE case_uuid = ? LIMIT 1", (change.case.uuid,)
                    ).fetchone():
                        mine.add(change.case.uuid)
                    self._put_case(db, change.case)
                    changed.append(change.case)
                elif change.kind == "withdrawn" and change.name:
                    gone = db.execute(
                        "DELETE FROM cases WHERE uuid = ? AND NOT EXISTS "
                        "(SELECT 1 FROM outbox WHERE outbox.case_uuid = cases.uuid)",
                        (change.name,),
                    ).rowcount
                    if gone:
                        withdrawn.add(change.name)
                elif change.kind == "reference":
                    # Stale now: the engine fetches it again (by ETag) before the next poll.
                    db.execute(
                        "UPDATE reference SET version = -1 WHERE name = ? AND version < ?",
                        (change.name, change.version),
                    )
            db.execute(
                "INSERT INTO meta (key, value) VALUES ('last_seq', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (str(page.last_seq),),
            )
        return changed, withdrawn, mine

    def forget(self, case_uuids: set[str]) -> set[str]:
        """Drop cases the central store no longer shows this user (404, or absent from a
        complete queue answer and then not found); keeps any with commands still waiting."""
        gone = set()
        with self._tx(durable=False) as db:
            for case_uuid in case_uuids:
                if db.execute(
                    "DELETE FROM cases WHERE uuid = ? AND NOT EXISTS "
                    "(SELECT 1 FROM outbox WHERE outbox.case_uuid = cases.uuid)",
                    (case_uuid,),
                ).rowcount:
                    gone.add(case_uuid)
        return gone

    _CASE_COLUMNS = "body, pending, version, agent, registered_at"

    @staticmethod
    def _cached(row: tuple[Any, ...]) -> CachedCase:
        """A row of ``_CASE_COLUMNS`` as the typed case: version 0 is a case saved here that
        the central store has not confirmed (its body is the create request)."""
        body, pending, version, agent, registered_at = row
        if version:
            return CachedCase(wire.CasePublic.model_validate_json(body), bool(pending))
        request = parse_request("create", "", body)
        assert isinstance(request, wire.CaseCreate)
        saved = datetime.fromisoformat(registered_at)
        return CachedCase(PendingCase(request, agent, saved), True)

    def case(self, case_uuid: str) -> CachedCase | None:
        """The cached case (the central store's, or the create request while pending)."""
        with self._lock:
            row = self._db.execute(
                f"SELECT {self._CASE_COLUMNS} FROM cases WHERE uuid = ?", (case_uuid,)
            ).fetchone()
        return self._cached(row) if row else None

    def cases(
        self,
        *,
        status: tuple[str, ...] = (),
        agent: str = "",
        caller_phone: str = "",
        since: datetime | None = None,
        due_before: datetime | None = None,
        order: str = "newest",
        limit: int = 200,
    ) -> list[CachedCase]:
        """Cached cases (and pending ones): newest first, or by handling deadline."""
        sql = f"SELECT {self._CASE_COLUMNS} FROM cases WHERE 1 = 1"
        args: list[Any] = []
        if caller_phone:
            sql += " AND caller_phone = ?"
            args.append(caller_phone)
        if status:
            sql += f" AND status IN ({','.join('?' * len(status))})"
            args += status
        if agent:
            sql += " AND agent = ?"
            args.append(agent)
        if since is not None:
            sql += " AND registered_at >= ?"
            args.append(since.astimezone(UTC).isoformat())
        if due_before is not None:
            sql += " AND handling_deadline < ?"
            args.append(due_before.astimezone(UTC).isoformat())
        if order == "deadline":
            sql += " ORDER BY handling_deadline IS NULL, handling_deadline LIMIT ?"
        else:
            sql += " ORDER BY registered_at DESC LIMIT ?"
        args.append(limit)
        with self._lock:
            rows = self._db.execute(sql, args).fetchall()
        return [self._cached(r) for r in rows]

    def search_cases(self, text: str, limit: int = 20) -> list[CachedCase]:
        """Cached cases whose number, phone or content contains ``text`` (newest first)."""
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        with self._lock:
            rows = self._db.execute(
                f"SELECT {self._CASE_COLUMNS} FROM cases WHERE number LIKE ?1 ESCAPE '\\' "
                "OR caller_phone LIKE ?1 ESCAPE '\\' "
                "OR json_extract(body, '$.content') LIKE ?1 ESCAPE '\\' "
                "ORDER BY registered_at DESC LIMIT ?2",
                (pattern, limit),
            ).fetchall()
        return [self._cached(r) for r in rows]

    def related_candidates(
        self,
        category: str,
        address: Address,
        now: datetime,
        window: timedelta = RELATED_WINDOW,
        limit: int = 10,
    ) -> list[CachedCase]:
        """Cached open cases the intake offers to link (the domain's rule), newest first: the
        offline half of the server's ``related_candidates``."""
        if not category:
            return []
        since = (now - window).astimezone(UTC).isoformat()
        with self._lock:
            rows = self._db.execute(
                f"SELECT {self._CASE_COLUMNS} FROM cases "
                "WHERE json_extract(body, '$.category') = ? AND registered_at >= ? "
                "ORDER BY registered_at DESC",
                (category, since),
            ).fetchall()
        found = []
        for row in rows:
            cached = self._cached(row)
            c = cached.case
            a = c.address
            other = Address(county=a.county, township=a.township, village=a.village, road=a.road)
            if is_candidate(
                category, address, category, other, c.status, c.registered_at, now, window
            ):
                found.append(cached)
        return found[:limit]

    def group(self, group_uuid: str) -> list[CachedCase]:
        """A group of related cases as cached here: its first case and those linked to it."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {self._CASE_COLUMNS} FROM cases "
                "WHERE uuid = ?1 OR json_extract(body, '$.related_to') = ?1 ORDER BY registered_at",
                (group_uuid,),
            ).fetchall()
        return [self._cached(r) for r in rows]

    def count_cases(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM cases").fetchone()[0])

    # -- reference cache -----------------------------------------------------------------------

    def reference(self, name: str) -> tuple[Any, str, int] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT body, etag, version FROM reference WHERE name = ?", (name,)
            ).fetchone()
        return (json.loads(row[0]), row[1], row[2]) if row else None

    def reference_versions(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute("SELECT name, version FROM reference").fetchall()
        return {r[0]: r[1] for r in rows}

    def put_reference(self, name: str, body: Any, etag: str, version: int) -> None:
        with self._tx(durable=False) as db:
            db.execute(
                "INSERT INTO reference (name, version, etag, body) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET version = excluded.version, "
                "etag = excluded.etag, body = excluded.body",
                (name, version, etag, json.dumps(body, ensure_ascii=False)),
            )
