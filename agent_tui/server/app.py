"""The central store's FastAPI application: ``create_app(settings)`` is its one factory."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from agent_tui.config import Settings
from agent_tui.domain.errors import (
    DomainError,
    IllegalStep,
    OutsideCalendar,
    StepForbidden,
    ValidationFailed,
)
from agent_tui.server.auth import Accounts, RoleForbidden, Throttled, Unauthorized
from agent_tui.server.db import make_engine, migrate
from agent_tui.server.errors import NotFound, NumberTaken, StoreBusy, VersionConflict
from agent_tui.server.hashing import Busy
from agent_tui.server.login_limit import LoginRateLimit
from agent_tui.server.routes import auth, cases, changes, numbers, reference, reports
from agent_tui.server.store import Store

log = logging.getLogger("agent_tui.server")

MAX_BODY = 256 * 1024


class Notifier:
    """Wakes long-polls in this process when a write commits (other workers are polled)."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._event = asyncio.Event()

    def notify(self) -> None:  # called from worker threads
        loop, event = self._loop, self._event
        if loop is not None and event is not None and not loop.is_closed():
            loop.call_soon_threadsafe(event.set)

    async def wait(self, timeout: float) -> None:
        event = self._event
        if event is None:
            await asyncio.sleep(timeout)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)
        event.clear()


class GuardMiddleware:
    """What every request passes before any route runs.

    - A NUL character anywhere in the URL is refused (PostgreSQL cannot store it).
    - A body is read whole, up to ``MAX_BODY``, before the route is called: one over the
      limit, declared or streamed (chunked), is refused with 413 and the route never runs.
      (Counting as the route read it let a write commit before its 413.)
    - An error no handler answered is logged and answered as a JSON 500 here, so that the
      connection stays usable (an exception that leaves the app makes the server drop it).
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        url = scope.get("raw_path", b"") + b"?" + scope.get("query_string", b"")
        if b"%00" in url.lower() or b"\x00" in url:
            await _send_json(send, 422, "invalid_character", "地址中含有空字符（\\0）")
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > MAX_BODY:
                await _too_large(send, scope)
                return
        if scope["method"] in _WITH_BODY:
            body = await _read_body(receive)
            if body is None:  # the client went away
                return
            if len(body) > MAX_BODY:
                await _too_large(send, scope)
                return
            receive = _replay(body, receive)
        started = False

        async def tracked(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception:
            log.exception("unhandled error: %s %s", scope["method"], scope.get("path"))
            if started:
                raise
            await _send_json(
                send,
                500,
                "internal",
                "服务器内部错误，已记入日志；请稍后重试",
                "Internal error (logged); try again later",
            )


_WITH_BODY = frozenset({"POST", "PUT", "PATCH", "DELETE"})


async def _read_body(receive: Any) -> bytes | None:
    """The request's body, read up to one chunk past ``MAX_BODY``; None if the client left."""
    chunks: list[bytes] = []
    seen = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        seen += len(chunk)
        chunks.append(chunk)
        if seen > MAX_BODY or not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Any) -> Any:
    """A ``receive`` that hands the route the body read already, then waits as before (a
    route that waits for the client to go away still hears of it)."""
    delivered = False

    async def replay() -> Any:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _too_large(send: Any, scope: Any) -> None:
    log.warning(
        "refused a body over %d KB: %s %s", MAX_BODY // 1024, scope["method"], scope.get("path")
    )
    await _send_json(
        send,
        413,
        "too_large",
        f"请求内容过大（上限 {MAX_BODY // 1024} KB），未做任何处理",
        f"Request body over {MAX_BODY // 1024} KB: nothing was done",
    )


async def _send_json(send: Any, status: int, code: str, message: str, message_en: str = "") -> None:
    body = json.dumps(
        {"code": code, "message": message, "message_en": message_en or code}, ensure_ascii=False
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _refusal(
    status: int,
    code: str,
    message: str,
    message_en: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """Every error answer's shape: a code, the message in Chinese and in English, and more."""
    body: dict[str, Any] = {"code": code, "message": message, "message_en": message_en}
    body.update(extra)
    return JSONResponse(body, status_code=status, headers=headers)


def _error(
    status: int, exc: DomainError, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    return _refusal(status, exc.code, exc.message, exc.message_en, headers, **extra)


def _locked(exc: OperationalError) -> bool:
    """SQLite's busy timeout or PostgreSQL's ``lock_timeout`` ran out (55P03)."""
    return getattr(exc.orig, "sqlstate", None) == "55P03" or "database is locked" in str(exc.orig)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ValidationFailed)
    async def _validation(_: Request, exc: ValidationFailed) -> JSONResponse:
        errors = [
            {"field": e.field, "code": e.code, "message": e.message, "message_en": e.message_en}
            for e in exc.errors
        ]
        return _error(422, exc, errors=errors)

    @app.exception_handler(VersionConflict)
    async def _conflict(_: Request, exc: VersionConflict) -> JSONResponse:
        return _error(409, exc, case=exc.current.model_dump(mode="json"))

    @app.exception_handler(NumberTaken)
    async def _number_taken(_: Request, exc: NumberTaken) -> JSONResponse:
        return _error(409, exc)

    @app.exception_handler(StepForbidden)
    async def _forbidden(_: Request, exc: StepForbidden) -> JSONResponse:
        return _error(403, exc, state=exc.state, step=exc.step, role=exc.role)

    @app.exception_handler(IllegalStep)
    async def _illegal(_: Request, exc: IllegalStep) -> JSONResponse:
        return _error(409, exc, state=exc.state, step=exc.step, role=exc.role)

    @app.exception_handler(RoleForbidden)
    async def _role(_: Request, exc: RoleForbidden) -> JSONResponse:
        return _error(403, exc)

    @app.exception_handler(DataError)
    async def _data(_: Request, exc: DataError) -> JSONResponse:
        # Input the models let through but the database refuses (defence in depth).
        log.warning("database refused input: %s", exc.orig)
        return _refusal(
            422,
            "unstorable",
            "内容无法保存：含有数据库不接受的字符或数值",
            "The database refused a value (bad character or number)",
        )

    @app.exception_handler(StoreBusy)
    async def _busy(_: Request, exc: StoreBusy) -> JSONResponse:
        log.warning("write refused: %s", exc.message_en)
        return _error(503, exc, headers={"Retry-After": "2"})

    @app.exception_handler(OperationalError)
    async def _database_unavailable(_: Request, exc: OperationalError) -> JSONResponse:
        # The database went away (restarted, network) or is overloaded: nothing was written,
        # and a seat keeps the request in its outbox and sends it again.
        if _locked(exc):  # waited its bound for a lock another writer holds
            return await _busy(_, StoreBusy(app.state.settings.write_wait_seconds))
        log.warning("database unavailable: %s", exc.orig)
        return _refusal(
            503,
            "unavailable",
            "数据库暂时不可用，请稍后重试（坐席会自动重发）",
            "The database is unavailable for a moment; try again",
            headers={"Retry-After": "1"},
        )

    @app.exception_handler(NotFound)
    async def _not_found(_: Request, exc: NotFound) -> JSONResponse:
        return _error(404, exc)

    @app.exception_handler(Unauthorized)
    async def _unauthorized(_: Request, exc: Unauthorized) -> JSONResponse:
        response = _error(401, exc)
        response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.exception_handler(Throttled)
    async def _throttled(_: Request, exc: Throttled) -> JSONResponse:
        response = _error(429, exc)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(Busy)
    async def _hashing_busy(_: Request, exc: Busy) -> JSONResponse:
        response = _error(503, exc)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(OutsideCalendar)
    async def _calendar(_: Request, exc: OutsideCalendar) -> JSONResponse:
        return _error(422, exc)

    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        return _error(422, exc)

    @app.exception_handler(RequestValidationError)
    async def _request(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for e in exc.errors():
            loc = [str(p) for p in e.get("loc", ()) if p not in ("body", "query", "path")]
            field = "body" if e.get("type") == "json_invalid" else (".".join(loc) or "body")
            errors.append(
                {
                    "field": field,
                    "code": str(e.get("type", "invalid")),
                    "message": f"{field}：{_zh(e)}",
                    "message_en": f"{field}: {e.get('msg', '')}",
                }
            )
        return _refusal(
            422,
            "invalid_request",
            "请求内容有误：" + "；".join(x["message"] for x in errors),
            "Invalid request: " + "; ".join(x["message_en"] for x in errors),
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        messages = {404: "没有这个地址", 405: "不支持该请求方法", 413: "请求内容过大"}
        return _refusal(
            exc.status_code,
            f"http_{exc.status_code}",
            messages.get(exc.status_code, str(exc.detail)),
            str(exc.detail),
            headers=getattr(exc, "headers", None),
        )


_ZH = {
    "missing": "缺少此项",
    "extra_forbidden": "不认识的字段",
    "json_invalid": "JSON 格式错误",
    "string_too_long": "内容过长",
    "string_too_short": "不能为空",
    "int_parsing": "应为整数",
    "bool_parsing": "应为是/否",
    "uuid_parsing": "应为 UUID",
    "enum": "不是允许的取值",
    "datetime_parsing": "应为日期时间",
    "timezone_aware": "日期时间须带时区",
    "model_attributes_type": "应为对象",
    "dict_type": "应为对象",
    "list_type": "应为列表",
    "string_type": "应为文字",
    "int_type": "应为整数",
    "greater_than_equal": "数值过小",
    "less_than_equal": "数值过大",
    "too_long": "项数过多",
}


def _zh(error: Any) -> str:
    return _ZH.get(str(error.get("type", "")), str(error.get("msg", "内容有误")))


def _operation_id(route: APIRoute) -> str:
    return route.name


def create_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    clock: Callable[[], datetime] | None = None,
    run_migrations: bool = True,
    run_clock_jobs: bool | None = None,
) -> FastAPI:
    """The central store. Tests pass their own engine and a frozen clock."""
    url = settings.database_url()
    if run_migrations:
        migrate(url if engine is None else str(engine.url.render_as_string(hide_password=False)))
    engine = engine or make_engine(url)
    store = Store(engine, settings, clock=clock)
    accounts = Accounts.from_settings(engine, settings)
    notifier = Notifier()
    store.listeners.append(notifier.notify)
    clock_jobs = settings.clock_interval_seconds > 0 if run_clock_jobs is None else run_clock_jobs

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        notifier.bind(asyncio.get_running_loop())
        # What is loaded by now (reference data, mappers, compiled statements) lives as long as
        # the process: out of the collector's generations, a full collection does not walk it
        # again in the middle of a request.
        gc.collect()
        gc.freeze()
        task = asyncio.create_task(_clock_loop(store, settings)) if clock_jobs else None
        yield
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        store.close()
        accounts.close()

    app = FastAPI(
        title="agent-tui central store",
        description="驻马店 12345 热线中心库：工单、流程、审计日志、变更推送、参考数据、指标。",
        version="0.1.0",
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
    )
    app.state.store = store
    app.state.accounts = accounts
    app.state.notifier = notifier
    app.state.settings = settings

    app.add_middleware(GuardMiddleware)
    # Outermost: a flood of login tries is refused before anything else runs.
    app.add_middleware(
        LoginRateLimit,
        per_minute=settings.login_rate_per_minute,
        burst=settings.login_rate_burst,
    )

    _install_error_handlers(app)
    for module in (auth, cases, changes, numbers, reference, reports):
        app.include_router(module.router, prefix="/api")
    return app


async def _clock_loop(store: Store, settings: Settings) -> None:
    while True:
        # The centre's KPI tiles are made (or remade once stale) ahead of the lead's board:
        # their first replay takes seconds at 1M cases, and on the replay process it costs the
        # server nothing (a new day's tiles start at the first run after midnight).
        try:
            await asyncio.to_thread(store.warm_reports)
        except Exception:
            log.exception("KPI warm-up failed")
        await asyncio.sleep(settings.clock_interval_seconds)
        try:
            taken = await asyncio.to_thread(store.run_clock)
            if taken:
                log.info("clock: %d supervision steps", taken)
        except Exception:  # never let a bad run kill the loop; the next run tries again
            log.exception("clock run failed")
