"""Accounts and bearer tokens: argon2 passwords (pwdlib), hashed expiring tokens, throttling."""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from datetime import datetime, timedelta

import sqlalchemy as sa
from pwdlib import PasswordHash
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from agent_tui.data.reference import load_reference
from agent_tui.domain.case import Role
from agent_tui.domain.errors import DomainError, FieldError, ValidationFailed
from agent_tui.server.models import LoginFailureRow, TokenRow, UserRow
from agent_tui.server.visibility import Actor

_hasher = PasswordHash.recommended()
#: Verified against when the user does not exist, so that timing does not tell who exists.
_DUMMY_HASH = _hasher.hash("not a password")


class Unauthorized(DomainError):
    code = "unauthorized"


class RoleForbidden(DomainError):
    """The caller's role may not use this endpoint at all (HTTP 403)."""

    code = "forbidden"


class Throttled(DomainError):
    code = "throttled"

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(
            f"登录失败次数过多，请 {max(1, retry_after // 60)} 分钟后再试",
            f"Too many failed logins: try again in {retry_after} s",
        )


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def validate_new_user(user_id: str, role: Role, department: str, password: str) -> None:
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
    if len(password) < 8:
        errors.append(FieldError("password", "too_short", "密码至少 8 位", "Password too short"))
    if errors:
        raise ValidationFailed(errors)


class Accounts:
    def __init__(
        self,
        engine: Engine,
        *,
        token_ttl: timedelta,
        max_failures: int,
        window: timedelta,
    ) -> None:
        self.engine = engine
        self.token_ttl = token_ttl
        self.max_failures = max_failures
        self.window = window
        self.cache_seconds = 30.0
        self._cache: dict[str, tuple[Actor, datetime, float]] = {}

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
        validate_new_user(user_id, role, department, password)
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
        self._forget(user_id=user_id)
        if len(password) < 8:
            raise ValidationFailed(
                [FieldError("password", "too_short", "密码至少 8 位", "Password too short")]
            )
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

    def login(self, user_id: str, password: str, now: datetime) -> tuple[str, datetime, UserRow]:
        with Session(self.engine) as session:
            since = now - self.window
            count, first = session.execute(
                sa.select(sa.func.count(), sa.func.min(LoginFailureRow.at)).where(
                    col(LoginFailureRow.user_id) == user_id, col(LoginFailureRow.at) >= since
                )
            ).one()
            if count >= self.max_failures:
                first_at = first if first.tzinfo else first.replace(tzinfo=now.tzinfo)
                retry = math.ceil((first_at + self.window - now).total_seconds())
                raise Throttled(max(retry, 1))
            user = session.get(UserRow, user_id)
            ok = _hasher.verify(password, user.password_hash if user else _DUMMY_HASH)
        if not ok or user is None or user.disabled:
            # Its own transaction: the failure must stay recorded although we raise.
            with Session(self.engine) as session, session.begin():
                session.add(LoginFailureRow(user_id=user_id, at=now))
            if user is not None and user.disabled and ok:
                raise Unauthorized("该账号已停用", "This account is disabled")
            raise Unauthorized("用户名或密码错误", "Wrong user id or password")
        token = secrets.token_urlsafe(32)
        expires = now + self.token_ttl
        with Session(self.engine) as session, session.begin():
            session.execute(
                sa.delete(LoginFailureRow).where(col(LoginFailureRow.user_id) == user_id)
            )
            session.add(
                TokenRow(
                    token_hash=_token_hash(token),
                    user_id=user_id,
                    created_at=now,
                    expires_at=expires,
                )
            )
        return token, expires, user

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
        with Session(self.engine) as session:
            found = session.exec(
                select(TokenRow, UserRow)
                .join(UserRow, col(UserRow.user_id) == col(TokenRow.user_id))
                .where(col(TokenRow.token_hash) == _token_hash(token))
            ).first()
        if found is None:
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
