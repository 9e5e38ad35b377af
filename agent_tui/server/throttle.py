"""Failed logins, counted per (user, address), per address and per user, in the database.

The policy (README "Logins and passwords"):

* every (user, address) pair has ``login_max_failures`` free tries; after them each further
  try waits a delay that starts at ``login_delay_seconds`` and doubles with every failure, up
  to ``login_max_delay_minutes``. An attacker's own address gets slower and slower; the user
  at another address is not held back;
* an address gets ``login_address_max_failures`` free failures whatever the user ids (made-up
  ids no longer dodge the count), a user id ``login_user_max_failures`` whatever the
  addresses (guesses spread over many addresses do not multiply); then the same growing delay.
  Neither applies to a user at an address they logged in from within ``login_trust_days``: so
  nobody can lock the admin (or anyone) out of their own seat;
* a try is counted as a failure *before* the password is checked, in one transaction that
  first locks the rows it reads (an upsert), on SQLite and PostgreSQL alike: parallel tries,
  also from several workers, cannot all pass the check (60 parallel tries used to get 34
  checks). A successful login takes its count back;
* rows are forgotten ``login_window_minutes`` after their delay ended and purged, at most once
  a minute per process, by the login path itself.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import math
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from agent_tui.server.models import LoginThrottleRow, UserRow

_T = LoginThrottleRow.__table__  # type: ignore[attr-defined]
_USERS = UserRow.__table__  # type: ignore[attr-defined]
PAIR, ADDRESS, USER = "pair", "address", "user"
_USER_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
PURGE_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class LoginPolicy:
    free_per_pair: int = 5
    free_per_address: int = 30
    free_per_user: int = 20
    first_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(minutes=15)
    forget_after: timedelta = timedelta(minutes=15)
    trust: timedelta = timedelta(days=30)

    def free(self, scope: str) -> int:
        return {PAIR: self.free_per_pair, ADDRESS: self.free_per_address}.get(
            scope, self.free_per_user
        )

    def delay(self, scope: str, failures: int) -> timedelta:
        """How long after the last failure the next try waits (0: it need not)."""
        over = failures - self.free(scope)
        if over < 0:
            return timedelta(0)
        seconds = self.first_delay.total_seconds() * 2.0 ** min(over, 40)
        return min(self.max_delay, timedelta(seconds=min(seconds, 10**9)))


def client_key(address: str) -> str:
    """The address counted: IPv4 as it is, IPv6 by its /64 (one host holds a whole /64)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64] or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def user_key(user_id: str) -> str:
    """A user id as counted: as typed when it could be one, else a digest (any bytes may come)."""
    if _USER_ID.fullmatch(user_id):
        return user_id
    return "#" + hashlib.sha256(user_id.encode("utf-8", "replace")).hexdigest()[:32]


@dataclass(frozen=True)
class Keys:
    user_id: str
    pair: str
    address: str
    user: str

    @classmethod
    def of(cls, user_id: str, address: str) -> Keys:
        user, where = user_key(user_id), client_key(address)
        return cls(user_id, f"{user}@{where}", where, user)

    def items(self) -> list[tuple[str, str]]:
        """(scope, key), in the one order every transaction locks them (no deadlocks)."""
        return sorted([(PAIR, self.pair), (ADDRESS, self.address), (USER, self.user)])


@dataclass(frozen=True)
class Account:
    user_id: str
    name: str
    role: str
    department: str
    platform: str
    password_hash: str
    disabled: bool


@dataclass(frozen=True)
class Verdict:
    """Whether a try may be checked: ``retry_after`` seconds to wait (0: now)."""

    trusted: bool
    retry_after: int
    account: Account | None = None


def _live(row: Mapping[str, Any] | None, now: datetime) -> Mapping[str, Any] | None:
    return row if row is not None and row["forget_at"] > now else None


class Throttle:
    def __init__(self, engine: Engine, policy: LoginPolicy) -> None:
        self.engine = engine
        self.policy = policy
        self._purged_at: datetime | None = None
        # SQLite has one writer at a time and a waiting writer sleeps in steps of up to
        # 100 ms (its busy handler): this process's throttle writes queue on a lock instead,
        # woken at once. (SQLite serves one worker process; PostgreSQL locks rows.)
        self._writing: contextlib.AbstractContextManager[object] = (
            threading.Lock() if engine.dialect.name == "sqlite" else contextlib.nullcontext()
        )

    # -- reading -------------------------------------------------------------------------------

    def _rows(self, connection: Connection, keys: Keys) -> dict[str, Mapping[str, Any]]:
        where = sa.or_(*(sa.and_(_T.c.scope == s, _T.c.key == k) for s, k in keys.items()))
        rows = connection.execute(sa.select(_T).where(where)).mappings()
        return {str(r["scope"]): dict(r) for r in rows}

    def _verdict(self, rows: dict[str, Mapping[str, Any]], now: datetime) -> tuple[bool, int]:
        pair = _live(rows.get(PAIR), now)
        trusted = bool(pair and pair["trusted_until"] and pair["trusted_until"] > now)
        wait = 0.0
        for scope in (PAIR,) if trusted else (PAIR, ADDRESS, USER):
            row = _live(rows.get(scope), now)
            if row is not None and row["next_try_at"] is not None and row["next_try_at"] > now:
                wait = max(wait, (row["next_try_at"] - now).total_seconds())
        return trusted, math.ceil(wait)

    def look(self, keys: Keys, now: datetime) -> Verdict:
        """A first look, without a lock or a write: most refusals end here, cheaply."""
        with self.engine.connect() as connection:
            trusted, wait = self._verdict(self._rows(connection, keys), now)
        return Verdict(trusted, wait)

    # -- counting ------------------------------------------------------------------------------

    def _lock(self, connection: Connection, keys: Keys, now: datetime) -> None:
        """Make the three rows exist and lock them to the end of the transaction (an upsert
        locks the row on PostgreSQL; on SQLite it takes the database's write lock)."""
        insert: Any
        if connection.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        statement = insert(_T).values(
            [{"scope": s, "key": k, "failures": 0, "forget_at": now} for s, k in keys.items()]
        )
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=[_T.c.scope, _T.c.key], set_={"failures": _T.c.failures}
            )
        )

    def _set(self, connection: Connection, scope: str, key: str, **values: Any) -> None:
        connection.execute(
            sa.update(_T).where(_T.c.scope == scope, _T.c.key == key).values(**values)
        )

    def _forget_at(self, now: datetime, next_try: datetime | None, trusted: Any) -> datetime:
        forget = max(next_try or now, now) + self.policy.forget_after
        return max(forget, trusted) if trusted else forget

    def reserve(self, keys: Keys, now: datetime) -> Verdict:
        """Count this try as a failure, if it may be tried now, and read the account."""
        with self._writing, self.engine.begin() as connection:
            self._lock(connection, keys, now)
            rows = self._rows(connection, keys)
            trusted, wait = self._verdict(rows, now)
            if wait:
                return Verdict(trusted, wait)
            for scope, key in keys.items():
                row = _live(rows.get(scope), now)
                failures = (row["failures"] if row else 0) + 1
                delay = self.policy.delay(scope, failures)
                next_try = now + delay if delay else None
                kept = row["trusted_until"] if row and row["trusted_until"] else None
                self._set(
                    connection,
                    scope,
                    key,
                    failures=failures,
                    last_failure_at=now,
                    next_try_at=next_try,
                    trusted_until=kept,
                    forget_at=self._forget_at(now, next_try, kept),
                )
            account = self._account(connection, keys.user_id)
        self._purge(now)
        return Verdict(trusted, 0, account)

    @staticmethod
    def _account(connection: Connection, user_id: str) -> Account | None:
        if not _USER_ID.fullmatch(user_id):
            return None
        row = connection.execute(sa.select(_USERS).where(_USERS.c.user_id == user_id)).first()
        if row is None:
            return None
        return Account(
            row.user_id,
            row.name,
            row.role,
            row.department,
            row.platform,
            row.password_hash,
            bool(row.disabled),
        )

    def succeed(self, keys: Keys, now: datetime, also: Any = None) -> None:
        """The password was right: the pair is cleared and trusted, the address's and the
        user's counts take this try back. ``also`` (a statement) commits with it."""
        with self._writing, self.engine.begin() as connection:
            self._lock(connection, keys, now)
            rows = self._rows(connection, keys)
            trusted = now + self.policy.trust
            self._set(
                connection,
                PAIR,
                keys.pair,
                failures=0,
                last_failure_at=None,
                next_try_at=None,
                trusted_until=trusted,
                forget_at=self._forget_at(now, None, trusted),
            )
            for scope, key in ((ADDRESS, keys.address), (USER, keys.user)):
                row = _live(rows.get(scope), now)
                if row is None:
                    continue
                failures = max(row["failures"] - 1, 0)
                values: dict[str, Any] = {"failures": failures}
                if not self.policy.delay(scope, failures):
                    values["next_try_at"] = None
                self._set(connection, scope, key, **values)
            if also is not None:
                connection.execute(also)

    def _purge(self, now: datetime) -> None:
        """Delete the rows nothing depends on any more, at most once a minute per process;
        rows that a login holds locked right now are left for the next time."""
        if self._purged_at is not None and now - self._purged_at < PURGE_EVERY:
            return
        self._purged_at = now
        stale = (
            sa.select(_T.c.scope, _T.c.key)
            .where(_T.c.forget_at <= now)
            .limit(10_000)
            .with_for_update(skip_locked=True)
        )
        with self._writing, self.engine.begin() as connection:
            connection.execute(sa.delete(_T).where(sa.tuple_(_T.c.scope, _T.c.key).in_(stale)))
