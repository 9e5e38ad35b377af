"""The change feed: long-poll ``GET /api/changes?after=SEQ&wait=SECONDS``."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.exc import DBAPIError
from starlette.concurrency import run_in_threadpool

from agent_tui import wire as S
from agent_tui.server.auth import Accounts
from agent_tui.server.deps import ActorDep, FeedDep, SeatsDep, bearer_token
from agent_tui.server.feed import Feed
from agent_tui.server.visibility import Actor

router = APIRouter(tags=["changes"])
log = logging.getLogger(__name__)

#: How often a waiting poll looks at the database for writes by other workers.
POLL_SECONDS = 0.5
#: A stream with nothing to say sends an empty page this often (the seat knows it is alive) ...
KEEPALIVE_SECONDS = 15.0
#: ... and ends after this long: the seat connects again, and its token is checked again.
STREAM_SECONDS = 300.0
#: The feed's query parameters, the same on the long-poll and on the stream.
AfterSeq = Annotated[int, Query(ge=0, le=2**31 - 1)]
PageLimit = Annotated[int, Query(ge=1, le=1000)]


async def _head(feed: Feed) -> int:
    """The feed's head: this process's recent reading, or a new one off the event loop (a
    database that is slow or down must not hold up every other request)."""
    head = feed.fresh_head()
    return head if head is not None else await run_in_threadpool(feed.head)


async def _page(feed: Feed, actor: Actor, after: int, limit: int) -> tuple[bytes, S.ChangesPage]:
    """The page after ``after``: shared by every seat at that position (no thread when some
    seat already asked for it)."""
    hit = feed.cached_changes(actor, after, limit)
    if hit is None:
        hit = await run_in_threadpool(feed.changes_json, actor, after, limit)
    return hit


@router.get("/changes/head", name="changes_head", response_model=S.ChangesPage)
async def changes_head(actor: ActorDep, feed: FeedDep) -> S.ChangesPage:
    """The feed's head as an empty page: where a new seat starts reading (its queues it
    fetches page by page). Behind a token: the city's change count is nobody else's business."""
    return S.ChangesPage(changes=[], last_seq=await run_in_threadpool(feed.last_seq))


@router.get("/changes", name="changes", response_model=S.ChangesPage)
async def changes(
    request: Request,
    actor: ActorDep,
    feed: FeedDep,
    after: AfterSeq = 0,
    wait: Annotated[float, Query(ge=0, le=60)] = 0,
    limit: PageLimit = 500,
) -> Response:
    deadline = time.monotonic() + wait
    notifier = request.app.state.notifier
    while True:
        remaining = deadline - time.monotonic()
        # Nothing new (a cached read of the feed's head): wait without touching the database.
        if await _head(feed) <= after and remaining > 0:
            if await request.is_disconnected():
                break
            await notifier.wait(min(POLL_SECONDS, remaining))
            continue
        body, page = await _page(feed, actor, after, limit)
        if page.changes or page.last_seq > after or remaining <= 0:
            return Response(body, media_type="application/json")
        await notifier.wait(min(POLL_SECONDS, max(remaining, 0.01)))
    return Response(
        S.ChangesPage(changes=[], last_seq=after).model_dump_json(), media_type="application/json"
    )


@router.get(
    "/changes/stream",
    name="changes_stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}}}},
)
async def changes_stream(
    request: Request,
    actor: ActorDep,
    feed: FeedDep,
    after: AfterSeq = 0,
    limit: PageLimit = 500,
) -> StreamingResponse:
    """The feed as one long response, one ``ChangesPage`` per line (NDJSON): what the
    long-poll gives, without a new request per change (100 seats x every change was the
    server's main load). An empty page every ``KEEPALIVE_SECONDS``; the stream ends after
    ``STREAM_SECONDS`` and the seat connects again with its position. The token is checked
    again against the database every ``token_recheck_seconds``: the stream ends as soon as
    the user is disabled, changes password, logs out or the token expires."""
    notifier = request.app.state.notifier
    accounts: Accounts = request.app.state.accounts
    token = bearer_token(request)

    async def still_valid() -> bool:
        try:
            await run_in_threadpool(accounts.check_token, token, feed.ctx.now())
        except Exception:  # Unauthorized, or the database is away: the seat connects again
            return False
        return True

    async def pages() -> AsyncIterator[bytes]:
        try:
            async for line in _stream(after):
                yield line
        except DBAPIError as exc:  # the database went away mid-stream: end it, the seat
            # connects again (and meets a 503 until the database is back)
            log.warning("change stream ended: database unavailable (%s)", type(exc.orig).__name__)

    async def _stream(after: int) -> AsyncIterator[bytes]:
        position = after
        ends = time.monotonic() + STREAM_SECONDS
        quiet_since = checked = time.monotonic()
        while time.monotonic() < ends:
            if time.monotonic() - checked >= accounts.cache_seconds:
                if not await still_valid():
                    return
                checked = time.monotonic()
            if await _head(feed) > position:
                body, page = await _page(feed, actor, position, limit)
                if page.last_seq > position:
                    position = page.last_seq
                    quiet_since = time.monotonic()
                    yield body + b"\n"
                    continue
            if time.monotonic() - quiet_since >= KEEPALIVE_SECONDS:
                quiet_since = time.monotonic()
                yield (
                    S.ChangesPage(changes=[], last_seq=position).model_dump_json().encode() + b"\n"
                )
            await notifier.wait(POLL_SECONDS)

    return StreamingResponse(pages(), media_type="application/x-ndjson")


@router.post("/seats/heartbeat", name="seat_heartbeat", status_code=204, tags=["seats"])
async def heartbeat(body: S.SeatHeartbeat, actor: ActorDep, seats: SeatsDep) -> Response:
    await seats.ctx.off_loop(seats.heartbeat, actor, body)  # a write: on a write thread
    return Response(status_code=204)
