"""The audit log's hash chain: what a link hashes, and walking it (``agent-tui audit verify``).

Every event appended to ``case_events`` gets a link in ``audit_chain``, written by a trigger in
the database (migration 0007), so it holds for every writer, the store's three write paths and
anyone with SQL alike. Link ``n`` stores the hash of link ``n - 1`` and
``sha256(prev_hash | canonical(n, event))``; the chain's head (``audit_chain_head``, one row) is
updated by the same trigger, and concurrent writers queue on that row's lock, so positions are
contiguous and in commit order on PostgreSQL too.

The canonical text of an event is independent of the session (time zone, date style, float
formatting): ``v1``, the position, then each field in a fixed order, joined by ``|``: integers
in decimal, texts as the hex of their UTF-8 bytes (so no text can contain the separator),
``at`` as the UTC instant ``YYYY-MM-DDTHH:MM:SS.ffffffZ``, NULL as ``-``. The ``changes`` JSON is
hashed as stored, byte for byte. The triggers build the same text in SQL; ``canonical`` here is
what ``verify`` recomputes it with, never asking the database how to.

Changing a chained event (its content, its id, its place) or removing one breaks its link or
the next; an event written with the trigger disabled has no link. A whole chain recomputed by
someone holding the owner's keys is only caught against a hash recorded outside the database:
``verify`` prints the head, and takes such records back as anchors.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

#: The hash before the first link.
GENESIS = "0" * 64
VERSION = "v1"

#: The event's fields in the order they are hashed: ("int" | "text" | "time").
FIELDS: tuple[tuple[str, str], ...] = (
    ("id", "int"),
    ("case_id", "int"),
    ("case_uuid", "text"),
    ("seq", "int"),
    ("step", "text"),
    ("actor", "text"),
    ("role", "text"),
    ("at", "time"),
    ("from_status", "text"),
    ("to_status", "text"),
    ("reason", "text"),
    ("changes", "text"),
    ("version", "int"),
)

#: How SQLite stores an instant (SQLAlchemy's format for ``UTCDateTime``, naive UTC).
_SQLITE_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}")


def canonical_time(value: Any) -> str:
    """An instant as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (UTC), from a datetime (PostgreSQL, or
    naive meaning UTC) or the text SQLite stores."""
    if isinstance(value, str):
        if _SQLITE_TIME.fullmatch(value):
            return value.replace(" ", "T") + "Z"
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise ValueError(f"not an instant: {value!r}")
    at = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return (
        f"{at.year:04d}-{at.month:02d}-{at.day:02d}T"
        f"{at.hour:02d}:{at.minute:02d}:{at.second:02d}.{at.microsecond:06d}Z"
    )


def _part(kind: str, value: Any) -> str:
    if value is None:
        return "-"
    if kind == "int":
        return str(value)
    if kind == "time":
        return canonical_time(value)
    return str(value).encode("utf-8").hex()


def canonical(position: int, event: Mapping[Any, Any]) -> str:
    """The text a link hashes (after the previous link's hash) for ``event`` at ``position``."""
    return "|".join([VERSION, str(position), *(_part(kind, event[name]) for name, kind in FIELDS)])


def link_hash(prev_hash: str, position: int, event: Mapping[Any, Any]) -> str:
    text = f"{prev_hash}|{canonical(position, event)}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sqlite_sha256(text: str | None) -> str | None:
    """``sha256(text)`` for SQLite's triggers (hex of the UTF-8 bytes' digest)."""
    if text is None:
        return None
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- walking the chain ----------------------------------------------------------------------

_EVENT_COLUMNS = ", ".join(f"e.{name}" for name, _ in FIELDS)
_LINKS = sa.text(
    "SELECT c.position AS link_position, c.event_id AS link_event_id,"
    " c.prev_hash AS link_prev_hash, c.hash AS link_hash,"
    f" {_EVENT_COLUMNS}, k.number AS case_number"
    " FROM audit_chain c"
    " LEFT JOIN case_events e ON e.id = c.event_id"
    " LEFT JOIN cases k ON k.id = e.case_id"
    " WHERE c.position > :after ORDER BY c.position LIMIT :limit"
)
_UNCHAINED = sa.text(
    f"SELECT {_EVENT_COLUMNS}, k.number AS case_number FROM case_events e"
    " LEFT JOIN cases k ON k.id = e.case_id"
    " WHERE NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.event_id = e.id)"
    " ORDER BY e.id LIMIT :limit"
)
_UNCHAINED_COUNT = sa.text(
    "SELECT count(*) FROM case_events e"
    " WHERE NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.event_id = e.id)"
)
_HEAD = sa.text("SELECT position, hash FROM audit_chain_head WHERE id = 1")


@dataclass(frozen=True)
class Break:
    """One place where the chain does not hold."""

    position: int | None  # the link's position (None: an event with no link at all)
    event_id: int | None
    case_number: str | None
    seq: int | None
    what: str  # Chinese, for the operator
    what_en: str
    #: The event as it is stored now (step, actor, at), when it still exists.
    event: str = ""

    def describe(self) -> str:
        where = f"第 {self.position} 环" if self.position is not None else "链外"
        ident = f"事件 id {self.event_id}" if self.event_id is not None else "事件（不存在）"
        case = f"工单 {self.case_number}" if self.case_number else "工单（不存在）"
        seq = f"，变更号 {self.seq}" if self.seq is not None else ""
        event = f"，{self.event}" if self.event else ""
        return f"{where}：{ident}（{case}{seq}{event}）：{self.what}"

    def describe_en(self) -> str:
        where = f"link #{self.position}" if self.position is not None else "no link"
        ident = f"event id {self.event_id}" if self.event_id is not None else "event (missing)"
        case = f"case {self.case_number}" if self.case_number else "case (missing)"
        seq = f", seq {self.seq}" if self.seq is not None else ""
        return f"{where}: {ident} ({case}{seq}): {self.what_en}"


@dataclass
class ChainReport:
    """What ``verify`` found: how many events, the head, and the breaks (first ones kept)."""

    events: int = 0
    links: int = 0
    head_position: int = 0
    head_hash: str = GENESIS
    breaks: list[Break] = field(default_factory=list)
    broken: int = 0  # all breaks, also those not kept

    @property
    def clean(self) -> bool:
        return self.broken == 0

    def add(self, found: Break, keep: int) -> None:
        self.broken += 1
        if len(self.breaks) < keep:
            self.breaks.append(found)


def _event_text(row: Mapping[Any, Any]) -> str:
    if row["id"] is None:
        return ""
    try:
        at = canonical_time(row["at"])
    except (TypeError, ValueError):
        at = repr(row["at"])
    return f"{row['step']}，{row['actor']}，{at}"


def _break(
    row: Mapping[Any, Any], position: int | None, what: str, what_en: str, event_id: Any = None
) -> Break:
    return Break(
        position=position,
        event_id=row["id"] if row["id"] is not None else event_id,
        case_number=row["case_number"],
        seq=row["seq"],
        what=what,
        what_en=what_en,
        event=_event_text(row),
    )


def parse_anchor(text: str) -> tuple[int, str]:
    """``POSITION:HASH`` (as ``verify`` prints the head) → (position, hash)."""
    position, sep, digest = text.strip().partition(":")
    if not sep or not position.isdigit() or not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise ValueError("锚点格式应为 位置:哈希（64 位十六进制），如 1234:9f86d0…")
    return int(position), digest


def verify(
    bind: Engine | Connection,
    *,
    anchors: Iterable[tuple[int, str]] = (),
    batch: int = 5000,
    keep: int = 20,
) -> ChainReport:
    """Walk the chain from its first link: each link's hash recomputed from the event as it is
    stored now and the link before, positions contiguous, every event linked, the head at the
    last link, and each anchor (a position and the hash recorded for it elsewhere) matched."""
    if isinstance(bind, Engine):
        with bind.connect() as connection:
            return verify(connection, anchors=anchors, batch=batch, keep=keep)
    connection = bind
    report = ChainReport()
    wanted = dict(anchors)
    prev_hash, expected, after = GENESIS, 1, 0
    while True:
        rows = connection.execute(_LINKS, {"after": after, "limit": batch}).mappings().all()
        if not rows:
            break
        for row in rows:
            position = int(row["link_position"])
            stored = row["link_hash"]
            if position != expected:
                report.add(
                    _break(
                        row,
                        position,
                        f"之前缺少第 {expected}–{position - 1} 环（链接被删除）",
                        f"links #{expected}..#{position - 1} before it are missing (deleted)",
                        row["link_event_id"],
                    ),
                    keep,
                )
            elif row["link_prev_hash"] != prev_hash:
                report.add(
                    _break(
                        row,
                        position,
                        f"与前一环接不上（记录的前一环哈希 {row['link_prev_hash'][:12]}…，"
                        f"实际 {prev_hash[:12]}…）",
                        f"does not follow the link before it (records "
                        f"{row['link_prev_hash'][:12]}…, the link before is {prev_hash[:12]}…)",
                        row["link_event_id"],
                    ),
                    keep,
                )
            if row["id"] is None:
                report.add(
                    _break(
                        row,
                        position,
                        "该环的事件已被删除",
                        "its event was deleted",
                        row["link_event_id"],
                    ),
                    keep,
                )
            else:
                report.events += 1
                try:
                    again = link_hash(row["link_prev_hash"], position, row)
                except (TypeError, ValueError) as error:
                    again = f"unreadable: {error}"
                if again != stored:
                    report.add(
                        _break(
                            row,
                            position,
                            f"事件内容与上链时不符（链上哈希 {stored[:12]}…，"
                            f"按现存内容 {again[:12]}…）：上链后被改动过",
                            f"its content differs from what was chained (link {stored[:12]}…, "
                            f"content now {again[:12]}…): changed after it was written",
                        ),
                        keep,
                    )
            if position in wanted and wanted.pop(position) != stored:
                report.add(
                    _break(
                        row,
                        position,
                        "与库外记录的锚点哈希不符：此前的链被重算过",
                        "differs from the anchor recorded outside the database: the chain up "
                        "to here was recomputed",
                        row["link_event_id"],
                    ),
                    keep,
                )
            report.links += 1
            prev_hash, expected, after = stored, position + 1, position
    head = connection.execute(_HEAD).first()
    report.head_position, report.head_hash = after, prev_hash
    if head is None or (int(head.position), head.hash) != (after, prev_hash):
        shown = "缺失" if head is None else f"#{head.position} {head.hash[:12]}…"
        report.add(
            Break(
                position=after,
                event_id=None,
                case_number=None,
                seq=None,
                what=f"链头（{shown}）与最后一环不符：链尾的环被删除或链头被改",
                what_en=f"the head ({shown}) is not the last link: links removed from the end, "
                "or the head rewritten",
            ),
            keep,
        )
    for position in sorted(wanted):
        report.add(
            Break(
                position=position,
                event_id=None,
                case_number=None,
                seq=None,
                what="锚点所指的环不存在：链被截短",
                what_en="the anchored link does not exist: the chain was cut short",
            ),
            keep,
        )
    unchained = connection.execute(_UNCHAINED_COUNT).scalar_one()
    if unchained:
        for row in connection.execute(_UNCHAINED, {"limit": keep}).mappings():
            report.add(
                _break(
                    row,
                    None,
                    "事件不在链上：写入时绕过了上链触发器",
                    "the event has no link: it was written with the chain trigger bypassed",
                ),
                keep,
            )
        report.broken += max(0, int(unchained) - keep)
        report.events += int(unchained)
    return report


# --- chaining existing events (migration 0007) ------------------------------------------------

_EVENTS_AFTER = sa.text(
    f"SELECT {', '.join(name for name, _ in FIELDS)} FROM case_events"
    " WHERE id > :after ORDER BY id LIMIT :limit"
)


def chain_existing(connection: Connection, batch: int = 5000) -> tuple[int, str]:
    """Link every event already stored, in id order (writes ``audit_chain``); returns the last
    position and hash, for the head. The caller holds the table against new events."""
    position, prev_hash, after = 0, GENESIS, 0
    insert = sa.text(
        "INSERT INTO audit_chain (position, event_id, prev_hash, hash)"
        " VALUES (:position, :event_id, :prev_hash, :hash)"
    )
    while True:
        rows = connection.execute(_EVENTS_AFTER, {"after": after, "limit": batch}).mappings().all()
        if not rows:
            return position, prev_hash
        links = []
        for row in rows:
            position += 1
            digest = link_hash(prev_hash, position, row)
            links.append(
                {
                    "position": position,
                    "event_id": row["id"],
                    "prev_hash": prev_hash,
                    "hash": digest,
                }
            )
            prev_hash, after = digest, row["id"]
        connection.execute(insert, links)
