"""Dependencies shared by the routes: the store's concerns, the caller, role checks.

A route asks for the concern it uses (``WriterDep`` for the write path, ``CaseReadsDep``,
``FeedDep`` …); ``StoreDep`` is the whole store, for what spans concerns (health, the clock).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from agent_tui.domain.case import Role
from agent_tui.server.auth import Accounts, RoleForbidden, Unauthorized
from agent_tui.server.cases.common import Writer
from agent_tui.server.cases.reads import CaseReads
from agent_tui.server.feed import Feed
from agent_tui.server.numbers import Numbers
from agent_tui.server.reference_sets import ReferenceSets
from agent_tui.server.reports.dashboard import LeadBoard
from agent_tui.server.reports.hotspots import Hotspots
from agent_tui.server.reports.kpis import KpiReports
from agent_tui.server.seats import Seats
from agent_tui.server.store import Store
from agent_tui.server.visibility import Actor

_bearer = HTTPBearer(auto_error=False, description="POST /api/auth/login 返回的令牌")


async def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


async def get_writer(request: Request) -> Writer:
    return _store(request).writer


async def get_case_reads(request: Request) -> CaseReads:
    return _store(request).reads


async def get_feed(request: Request) -> Feed:
    return _store(request).feed


async def get_reference_sets(request: Request) -> ReferenceSets:
    return _store(request).references


async def get_seats(request: Request) -> Seats:
    return _store(request).seats


async def get_numbers(request: Request) -> Numbers:
    return _store(request).numbers


async def get_board(request: Request) -> LeadBoard:
    return _store(request).board


async def get_hotspots(request: Request) -> Hotspots:
    return _store(request).hotspot_reports


async def get_kpis(request: Request) -> KpiReports:
    return _store(request).kpi_reports


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
WriterDep = Annotated[Writer, Depends(get_writer)]
CaseReadsDep = Annotated[CaseReads, Depends(get_case_reads)]
FeedDep = Annotated[Feed, Depends(get_feed)]
ReferenceSetsDep = Annotated[ReferenceSets, Depends(get_reference_sets)]
SeatsDep = Annotated[Seats, Depends(get_seats)]
NumbersDep = Annotated[Numbers, Depends(get_numbers)]
BoardDep = Annotated[LeadBoard, Depends(get_board)]
HotspotsDep = Annotated[Hotspots, Depends(get_hotspots)]
KpisDep = Annotated[KpiReports, Depends(get_kpis)]
ActorDep = Annotated[Actor, Depends(current_actor)]
AccountsDep = Annotated[Accounts, Depends(get_accounts)]
