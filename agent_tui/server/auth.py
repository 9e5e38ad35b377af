"""Accounts and bearer tokens: argon2 passwords (pwdlib), hashed expiring tokens, logins.

A login is checked in this order, cheapest first (the flood of issue 14 must cost little):
the throttle's first look (one indexed read, no lock), a place in the hashing queue
(``hashing.HashGate``: 503 at once when full), the try counted atomically before any hashing
(``throttle.Throttle.reserve``: 429 when it must wait), then argon2 on the gate's own threads.
Every refusal is logged (at most ``_RefusalLog.burst`` lines a minute, then a count).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from pwdlib import PasswordHash
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from agent_tui.config import Settings
from agent_tui.data.reference import load_reference
from agent_tui.domain.case import Role
from agent_tui.domain.errors import DomainError, FieldError, ValidationFailed
from agent_tui.server.hashing import Busy, HashGate
from agent_tui.server.models import TokenRow, UserRow
from agent_tui.server.passwords import password_problems
from agent_tui.server.throttle import Account, Keys, LoginPolicy, Throttle
from agent_tui.server.visibility import Actor

log = logging.getLogger("agent_tui.server.auth")

_hasher = PasswordHash.recommended()
#: Checked against when a user id is not known and no check has been timed yet.
_DUMMY_HASH = _hasher.hash("not a password")


def _verify(password: str, password_hash: str) -> bool:
    return _hasher.verify(password, password_hash)  # looked up per call (tests stand in)


class Unauthorized(DomainError):
    code = "unauthorized"


class RoleForbidden(DomainError):
    """The caller's role may not use this endpoint at all (HTTP 403)."""

    code = "forbidden"


class Throttled(DomainError):
    code = "throttled"

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        wait = f"{retry_after} 秒" if retry_after < 120 else f"{-(-retry_after // 60)} 分钟"
        super().__init__(
            f"登录失败次数过多，请 {wait}后再试",
            f"Too many failed logins: try again in {retry_after} s",
        )


#: The one answer to a wrong password, an unknown user id and a disabled account alike.
_WRONG = ("用户名或密码错误", "Wrong user id or password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def validate_new_user(
    user_id: str,
    role: Role,
    department: str,
    password: str,
    *,
    min_length: int = 10,
    name: str = "",
) -> None:
    errors = []
    if not user_id or len(user_id) > 32 or not user_id.replace("_", "").replace("-", "").isalnum():
        errors.append(
            FieldError("user_id", "invalid", "用户名须为 1–32 位字母、数字、- 或 _", "Bad user id")
        )
    if role is Role.DEPARTMENT and not department:
        errors.append(
            FieldError("department", "required", "承办单位用户须指定单位", "Department required")
        )
    if role is Role.SYSTEM:
        errors.append(FieldError("role", "invalid", "不能创建系统角色用户", "No system users"))
    errors += password_problems(password, user_id=user_id, name=name, min_length=min_length)
    if errors:
        raise ValidationFailed(errors)


class _RefusalLog:
    """Refused logins go to the log, but a flood must not flood it (nor block a server whose
    stderr nobody reads): ``burst`` lines a minute, then one line counting the rest."""

    def __init__(self, burst: int = 20, period: float = 60.0) -> None:
        self.burst = burst
        self.period = period
        self._since = time.monotonic()
        self._lines = 0
        self._dropped = 0

    def __call__(self, reason: str, user_id: str, address: str) -> None:
        at = time.monotonic()
        if at - self._since >= self.period:
            if self._dropped:
                log.warning(
                    "%d more refused logins in the last %.0f s", self._dropped, at - self._since
                )
            self._since, self._lines, self._dropped = at, 0, 0
        if self._lines < self.burst:
            self._lines += 1
            log.warning("login refused (%s): user %r from %s", reason, user_id[:40], address)
        else:
            self._dropped += 1


@dataclass(frozen=True)
class Login:
    token: str
    expires_at: datetime
    account: Account


class Accounts:
    """Accounts, logins and tokens of one server process (or of one CLI command)."""

    def __init__(
        self,
        engine: Engine,
        *,
        token_ttl: timedelta = timedelta(hours=12),
        policy: LoginPolicy | None = None,
        recheck_seconds: float = 10.0,
        min_password_length: int = 10,
        hash_threads: int = 2,
        queue_limit: int = 8,
    ) -> None:
        self.engine = engine
        self.token_ttl = token_ttl
        self.throttle = Throttle(engine, policy or LoginPolicy())
        self.gate = HashGate(_verify, _DUMMY_HASH, hash_threads, queue_limit)
        self.min_password_length = min_password_length
        #: A checked token is trusted this long per process (a disabled user or a new password
        #: made elsewhere is refused here within this time; at once in the process that made it).
        self.cache_seconds = recheck_seconds
        self._cache: dict[str, tuple[Actor, datetime, float]] = {}
        self._refused = _RefusalLog()

    @classmethod
    def from_settings(cls, engine: Engine, settings: Settings) -> Accounts:
        return cls(
            engine,
            token_ttl=timedelta(hours=settings.token_ttl_hours),
            policy=LoginPolicy(
                free_per_pair=settings.login_max_failures,
                free_per_address=settings.login_address_max_failures,
                free_per_user=settings.login_user_max_failures,
                first_delay=timedelta(seconds=settings.login_delay_seconds),
                max_delay=timedelta(minutes=settings.login_max_delay_minutes),
                forget_after=timedelta(minutes=settings.login_window_minutes),
                trust=timedelta(days=settings.login_trust_days),
            ),
            recheck_seconds=settings.token_recheck_seconds,
            min_password_length=settings.password_min_length,
            hash_threads=settings.login_hash_threads,
            queue_limit=settings.login_queue_limit,
        )

    def close(self) -> None:
        self.gate.close()

    # -- admin ---------------------------------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        name: str,
        role: Role,
        password: str,
        *,
        now: datetime,
        department: str = "",
        platform: str = "city",
    ) -> UserRow:
        validate_new_user(
            user_id, role, department, password, min_length=self.min_password_length, name=name
        )
        # Only the reference tables' codes: they become WHERE values (visibility, numbering).
        department, platform = load_reference().account_codes(role, department, platform)
        with Session(self.engine) as session, session.begin():
            if session.get(UserRow, user_id) is not None:
                raise ValidationFailed(
                    [FieldError("user_id", "exists", f"用户 {user_id} 已存在", "User exists")]
                )
            row = UserRow(
                user_id=user_id,
                name=name or user_id,
                role=role,
                department=department,
                platform=platform,
                password_hash=hash_password(password),
                created_at=now,
            )
            session.add(row)
        return row

    def set_password(self, user_id: str, password: str) -> None:
        """A new password: every session of the user ends (in every worker within
        ``cache_seconds``, in this process at once)."""
        self._forget(user_id=user_id)
        with Session(self.engine) as session:
            name = self._user(session, user_id).name
        problems = password_problems(
            password, user_id=user_id, name=name, min_length=self.min_password_length
        )
        if problems:
            raise ValidationFailed(problems)
        with Session(self.engine) as session, session.begin():
            row = self._user(session, user_id)
            row.password_hash = hash_password(password)
            session.execute(sa.delete(TokenRow).where(col(TokenRow.user_id) == user_id))

    def set_disabled(self, user_id: str, disabled: bool = True) -> None:
        self._forget(user_id=user_id)
        with Session(self.engine) as session, session.begin():
            row = self._user(session, user_id)
            row.disabled = disabled
            if disabled:
                session.execute(sa.delete(TokenRow).where(col(TokenRow.user_id) == user_id))

    @staticmethod
    def _user(session: Session, user_id: str) -> UserRow:
        row = session.get(UserRow, user_id)
        if row is None:
            raise ValidationFailed(
                [FieldError("user_id", "unknown", f"没有用户 {user_id}", "No such user")]
            )
        return row

    # -- login and tokens ----------------------------------------------------------------------

    async def login(self, user_id: str, password: str, address: str, now: datetime) -> Login:
        """Check a login from ``address``; ``Throttled`` (429), ``Busy`` (503) or
        ``Unauthorized`` (401, the same answer for a wrong password, an unknown user id and a
        disabled account) when refused."""
        keys = Keys.of(user_id, address)
        first = await run_in_threadpool(self.throttle.look, keys, now)
        if first.retry_after:
            self._refused("throttled", user_id, address)
            raise Throttled(first.retry_after)
        try:
            with self.gate.admit(first.trusted) as place:
                verdict = await run_in_threadpool(self.throttle.reserve, keys, now)
                if verdict.retry_after:
                    self._refused("throttled", user_id, address)
                    raise Throttled(verdict.retry_after)
                account = verdict.account
                ok = await place.check(password, account.password_hash if account else None)
        except Busy:
            self._refused("busy", user_id, address)
            raise
        if not ok or account is None or account.disabled:
            reason = "unknown user" if account is None else "disabled" if ok else "wrong password"
            self._refused(reason, user_id, address)
            raise Unauthorized(*_WRONG)
        token = secrets.token_urlsafe(32)
        expires = now + self.token_ttl
        issue = sa.insert(TokenRow.__table__).values(  # type: ignore[attr-defined]
            token_hash=_token_hash(token), user_id=user_id, created_at=now, expires_at=expires
        )
        await run_in_threadpool(self.throttle.succeed, keys, now, issue)
        return Login(token, expires, account)

    def cached(self, token: str, now: datetime) -> Actor | None:
        """The actor for ``token`` if this process checked it recently (no database)."""
        hit = self._cache.get(_token_hash(token))
        if hit is None:
            return None
        actor, expires_at, checked = hit
        if expires_at <= now or time.monotonic() - checked > self.cache_seconds:
            return None
        return actor

    def authenticate(self, token: str, now: datetime) -> Actor:
        """Every request carries a token: the answer is cached for ``cache_seconds`` per
        process (a disabled user or a new password is refused everywhere within that time;
        at once in the process that made the change)."""
        actor = self.cached(token, now)
        if actor is not None:
            return actor
        return self.check_token(token, now)

    def check_token(self, token: str, now: datetime) -> Actor:
        """The token checked against the database (never the cache): what an open stream
        does every ``cache_seconds``."""
        with Session(self.engine) as session:
            found = session.exec(
                select(TokenRow, UserRow)
                .join(UserRow, col(UserRow.user_id) == col(TokenRow.user_id))
                .where(col(TokenRow.token_hash) == _token_hash(token))
            ).first()
        if found is None:
            self._cache.pop(_token_hash(token), None)
            raise Unauthorized("请先登录", "Not logged in")
        tok, user = found
        if tok.expires_at <= now:
            raise Unauthorized("登录已过期，请重新登录", "Session expired: log in again")
        if user.disabled:
            raise Unauthorized("该账号已停用", "This account is disabled")
        actor = Actor(user.user_id, Role(user.role), user.department, user.platform, user.name)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[_token_hash(token)] = (actor, tok.expires_at, time.monotonic())
        return actor

    def _forget(self, user_id: str | None = None, token: str | None = None) -> None:
        if token is not None:
            self._cache.pop(_token_hash(token), None)
        if user_id is not None:
            for key, (actor, _e, _c) in list(self._cache.items()):
                if actor.user_id == user_id:
                    self._cache.pop(key, None)

    def logout(self, token: str) -> None:
        self._forget(token=token)
        with Session(self.engine) as session, session.begin():
            session.execute(
                sa.delete(TokenRow).where(col(TokenRow.token_hash) == _token_hash(token))
            )
