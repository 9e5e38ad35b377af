"""Starting: the store answers from its first moment, and says it is starting.

``Booting(make)`` is the ASGI app ``agent-tui serve`` runs. The server listens at once, while
``make`` (migrations, which also recover SQLite's write-ahead log after a crash, the imports,
``create_app``) runs on a thread; until the store is ready every request, ``/api/health``
included, is answered 503 with ``"status": "starting"`` and Retry-After (a seat retries, a
load balancer waits, an operator sees why). Then the real app's own lifespan runs and every
request goes to it. A store that cannot start says so in the log and stops the process.

Nothing here imports the rest of the server: the socket must not wait for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger("agent_tui.server")


class Booting:
    """An ASGI app that is the store once ``make()`` has made it (see the module's note)."""

    def __init__(
        self,
        make: Callable[[], Any],
        *,
        started: float | None = None,
        stop: Callable[[], None] | None = None,
    ) -> None:
        self._make = make
        #: Stops the server when the store cannot start (``serve`` gives uvicorn's own).
        self.stop = stop or (lambda: os.kill(os.getpid(), signal.SIGTERM))
        self._started = time.monotonic() if started is None else started
        self.app: Any = None
        #: Why the store could not start (the process then stops; ``serve`` exits with 1).
        self.error: str = ""
        self._lifespan_in: asyncio.Queue[dict[str, Any]] | None = None
        self._events: dict[str, asyncio.Event] = {}
        self._inner: asyncio.Task[None] | None = None  # the real app's lifespan

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(scope, receive, send)
            return
        app = self.app
        if app is not None:
            await app(scope, receive, send)
            return
        if scope["type"] == "http":
            await _starting(send, self.error)
        # A WebSocket before the store is ready is not accepted (the store has none anyway).

    # -- lifespan --------------------------------------------------------------------------

    async def _lifespan(self, scope: Any, receive: Any, send: Any) -> None:
        message = await receive()
        assert message["type"] == "lifespan.startup"
        await send({"type": "lifespan.startup.complete"})  # listen now
        boot = asyncio.create_task(self._boot(scope))
        message = await receive()  # lifespan.shutdown
        if not boot.done():
            log.info("store: shutting down while starting; waiting for the start to end")
            with contextlib.suppress(Exception):
                await boot
        if self.app is not None and self._lifespan_in is not None:
            await self._lifespan_in.put({"type": "lifespan.shutdown"})
            await self._events["lifespan.shutdown.complete"].wait()
        await send({"type": "lifespan.shutdown.complete"})

    async def _boot(self, scope: Any) -> None:
        loop = asyncio.get_running_loop()
        try:
            app = await loop.run_in_executor(None, self._make)
            made = time.monotonic() - self._started
            # The real app's own lifespan (its clock loop, its long-poll wake-ups) runs in
            # this event loop, driven from here.
            self._lifespan_in = asyncio.Queue()
            self._events = {
                name: asyncio.Event()
                for name in (
                    "lifespan.startup.complete",
                    "lifespan.startup.failed",
                    "lifespan.shutdown.complete",
                    "lifespan.shutdown.failed",
                )
            }
            failure: list[str] = []

            async def inner_send(message: dict[str, Any]) -> None:
                if message["type"].endswith(".failed"):
                    failure.append(str(message.get("message", "")))
                self._events[message["type"]].set()
                if message["type"] == "lifespan.shutdown.failed":
                    self._events["lifespan.shutdown.complete"].set()

            await self._lifespan_in.put({"type": "lifespan.startup"})
            self._inner = asyncio.create_task(app(dict(scope), self._lifespan_in.get, inner_send))
            done = asyncio.create_task(self._events["lifespan.startup.complete"].wait())
            failed = asyncio.create_task(self._events["lifespan.startup.failed"].wait())
            await asyncio.wait({done, failed}, return_when=asyncio.FIRST_COMPLETED)
            done.cancel()
            failed.cancel()
            if failure:
                raise RuntimeError(failure[0] or "the store's start-up failed")
        except Exception as exc:
            self.error = f"{type(exc).__name__}: {exc}"
            log.exception("store: could not start; stopping")
            self.stop()  # the server stops; ``serve`` exits with 1
            return
        self.app = app
        log.info(
            "store: ready %.2f s after start (made in %.2f s)",
            time.monotonic() - self._started,
            made,
        )


async def _starting(send: Any, error: str) -> None:
    """503: starting (or could not start), in the store's error shape."""
    if error:
        body: dict[str, Any] = {
            "status": "failed",
            "code": "start_failed",
            "message": "中心库启动失败，即将退出；请查看服务器日志",
            "message_en": f"The store could not start ({error}); see the server's log",
        }
    else:
        body = {
            "status": "starting",
            "code": "starting",
            "message": "中心库正在启动，请稍候（坐席会自动重试）",
            "message_en": "The store is starting; try again in a moment",
        }
    data = json.dumps(body, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
                (b"retry-after", b"1"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})
