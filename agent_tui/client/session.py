"""Logging a seat in: online against the central store, or offline on a cached session.

A successful login leaves a verifier of the password (scrypt, salted) and the user's profile in
the seat store. When the server is unreachable later, the same user with the same password may
work offline for ``max_offline_age``: cases go to the outbox and leave when the server is back.
The last server and user are remembered in ``<data_dir>/last_login.json`` for the login form.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from agent_tui import wire
from agent_tui.client.api import (
    ApiError,
    Offline,
    Starting,
    Throttled,
    Unauthorized,
    Untrusted,
)
from agent_tui.client.last_login import remember_login
from agent_tui.client.seat import Seat
from agent_tui.i18n import t

SESSION_KEY = "session"
DEFAULT_OFFLINE_AGE = timedelta(hours=72)
#: How long a login waits for a store that answers "starting" (the demo's first seed, a
#: store's migrations) before it counts as unreachable.
STARTING_WAIT_SECONDS = 120.0


class LoginFailed(Exception):
    """Why a login did not open a seat; ``field`` names the form field to show it beside."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class Login:
    seat: Seat
    user: wire.UserPublic
    offline: bool


def _verifier(password: str, salt: bytes) -> str:
    return hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1).hex()


def cache_session(seat: Seat, user: wire.UserPublic, password: str, now: datetime) -> None:
    salt = os.urandom(16)
    seat.store.set_meta(
        SESSION_KEY,
        json.dumps(
            {
                "user": user.model_dump(mode="json"),
                "salt": salt.hex(),
                "verifier": _verifier(password, salt),
                "at": now.isoformat(),
            }
        ),
    )


def cached_user(seat: Seat, password: str, now: datetime, max_age: timedelta) -> wire.UserPublic:
    """The cached profile if ``password`` matches the last online login; else LoginFailed."""
    raw = seat.store.get_meta(SESSION_KEY)
    if not raw:
        raise LoginFailed("server", t("无法连接中心库，本机也没有该用户的登录记录，不能离线工作"))
    session = json.loads(raw)
    if not hmac.compare_digest(
        _verifier(password, bytes.fromhex(session["salt"])), session["verifier"]
    ):
        raise LoginFailed("password", t("密码与本机上次登录的不一致（中心库暂不可达）"))
    if now - datetime.fromisoformat(session["at"]) > max_age:
        hours = int(max_age.total_seconds() // 3600)
        raise LoginFailed(
            "server",
            t("无法连接中心库，本机登录记录已超过 {hours} 小时，请联网登录", hours=hours),
        )
    return wire.UserPublic.model_validate(session["user"])


class StoreStarting(LoginFailed):
    """The store answers "starting" (the demo's first seed, migrations): not an outage. The
    login form says so and tries again (``open_seat(..., starting_wait=0)``)."""

    def __init__(self) -> None:
        super().__init__("server", t("中心库正在启动（首次运行正在载入演示数据），稍候自动登录…"))


async def _login_when_started(seat: Seat, wait: float) -> wire.UserPublic:
    """Log in; while the store says it is starting, ask again every half second for up to
    ``wait`` seconds, then raise ``StoreStarting`` (a store being made is not an outage:
    opening offline then would show this seat's empty cache as if it were the queue)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while True:
        try:
            return await seat.api.login()
        except Starting as exc:
            if loop.time() >= deadline:
                raise StoreStarting() from exc
            await asyncio.sleep(0.5)


async def open_seat(
    server_url: str,
    user_id: str,
    password: str,
    data_dir: Path,
    *,
    store_key: str = "",
    now: datetime | None = None,
    max_offline_age: timedelta = DEFAULT_OFFLINE_AGE,
    starting_wait: float = STARTING_WAIT_SECONDS,
) -> Login:
    """Log in and open the seat; raises LoginFailed with a message for the form (and
    ``StoreStarting`` when the store still says "starting" after ``starting_wait`` seconds)."""
    if not server_url.strip():
        raise LoginFailed("server", t("请填写中心库地址"))
    if not user_id.strip():
        raise LoginFailed("user", t("请填写工号"))
    if not password:
        raise LoginFailed("password", t("请填写密码"))
    now = now or datetime.now(UTC)
    seat = Seat(server_url.strip(), user_id.strip(), password, data_dir, store_key=store_key)
    try:
        try:
            user = await _login_when_started(seat, starting_wait)
        except Untrusted as exc:  # a setting to fix, not an outage to work through
            raise LoginFailed("server", exc.message) from exc
        except Offline:
            user = cached_user(seat, password, now, max_offline_age)
            seat.api.user = user
            return Login(seat, user, offline=True)
        except Unauthorized as exc:
            raise LoginFailed("password", t("工号或密码错误")) from exc
        except Throttled as exc:
            raise LoginFailed("password", t("登录失败次数过多，请稍后再试")) from exc
        except ApiError as exc:
            raise LoginFailed("server", exc.message) from exc
    except LoginFailed:
        await seat.api.aclose()
        seat.drafts.close()
        seat.store.close()
        raise
    cache_session(seat, user, password, now)
    seat.logged_in_online()
    remember_login(data_dir, server_url.strip(), user_id.strip())
    return Login(seat, user, offline=False)
