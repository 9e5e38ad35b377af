"""Dependencies shared by the routes: the store, the caller, role checks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from agent_tui.domain.case import Role
from agent_tui.server.auth import Accounts, RoleForbidden, Unauthorized
from agent_tui.server.services import Actor, Store

_bearer = HTTPBearer(auto_error=False, description="POST /api/auth/login 返回的令牌")


async def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


async def get_accounts(request: Request) -> Accounts:
    accounts: Accounts = request.app.state.accounts
    return accounts


async def current_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """Async: a cached token costs no thread hop and no query; others are checked in a thread.
    The store and accounts come from the app directly (two fewer dependencies per request)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("请先登录", "Not logged in")
    store: Store = request.app.state.store
    accounts: Accounts = request.app.state.accounts
    now = store.now()
    actor = accounts.cached(credentials.credentials, now)
    if actor is not None:
        return actor
    return await run_in_threadpool(accounts.authenticate, credentials.credentials, now)


def bearer_token(request: Request) -> str:
    """The request's bearer token (``current_actor`` already checked it)."""
    return request.headers.get("authorization", "").split(" ", 1)[-1]


def require(*roles: Role) -> Callable[[Actor], Awaitable[Actor]]:
    """A dependency that lets only ``roles`` through (403 with the roles named)."""

    async def check(actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
        if actor.role not in roles:
            names = "、".join(r.label for r in roles)
            raise RoleForbidden(f"只有{names}有此权限", f"Only {', '.join(roles)} may do this")
        return actor

    return check


StoreDep = Annotated[Store, Depends(get_store)]
ActorDep = Annotated[Actor, Depends(current_actor)]
AccountsDep = Annotated[Accounts, Depends(get_accounts)]
