"""How often one address may try to log in, refused before any other work (ASGI middleware).

The counts that matter for security live in the database (``throttle``). This is the cheap
first line against a flood: a token bucket per client address (IPv6 by /64) in each server
process, ``burst`` tries at once and ``per_minute`` after that. A try over the limit is
answered 429 before the request body is read, the route runs or the database is asked — and
only once its Retry-After has passed (at most ``MAX_HOLD_SECONDS``, at most ``MAX_HELD`` held
at once): a sender that ignores Retry-After and tries again the moment it is answered waits
the time anyway, on a sleeping coroutine that costs no CPU. Answered at once, 50 such senders
on the 2-core box got ≈ 700 answers a second and took /health from 2 ms to 60–80 ms p50;
held, they get about one a second each. A busy office behind one address shares its rate
(a seat logs in once a shift; ``burst`` covers a shift's start).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from typing import Any

from agent_tui.server.throttle import client_key

log = logging.getLogger("agent_tui.server.auth")

LOGIN_PATH = "/api/auth/login"
#: Buckets kept at most; beyond, the full ones (nothing owed) are dropped first.
MAX_ADDRESSES = 100_000
#: A refusal is answered when its Retry-After has passed, but never held longer than this,
MAX_HOLD_SECONDS = 2.0
#: ... and never more than this many at once (beyond, at once: the server's memory is bounded).
MAX_HELD = 512


class LoginRateLimit:
    def __init__(self, app: Any, *, per_minute: float, burst: int) -> None:
        self.app = app
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}  # address -> (tokens, at)
        self._refused = 0
        self._logged_at = 0.0
        self._held = 0

    def take(self, address: str, now: float | None = None) -> float:
        """Take one try for ``address``: 0 when allowed, else seconds until the next one."""
        at = time.monotonic() if now is None else now
        tokens, then = self._buckets.get(address, (self.burst, at))
        tokens = min(self.burst, tokens + (at - then) * self.rate)
        if tokens >= 1.0:
            self._buckets[address] = (tokens - 1.0, at)
            if len(self._buckets) > MAX_ADDRESSES:
                self._prune(at)
            return 0.0
        self._buckets[address] = (tokens, at)
        return (1.0 - tokens) / self.rate

    def _prune(self, at: float) -> None:
        full = [a for a, (t, then) in self._buckets.items() if t + (at - then) * self.rate >= 1]
        for address in full or list(self._buckets)[: MAX_ADDRESSES // 2]:
            del self._buckets[address]

    def _log(self, address: str) -> None:
        """One line a minute at most, with the count: a flood must not flood the log."""
        self._refused += 1
        at = time.monotonic()
        if at - self._logged_at >= 60.0:
            log.warning(
                "login rate limit: %d tries refused in the last minute (latest from %s)",
                self._refused,
                address,
            )
            self._refused, self._logged_at = 0, at

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if (
            self.rate <= 0
            or scope["type"] != "http"
            or scope["path"] != LOGIN_PATH
            or scope["method"] != "POST"
        ):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = client_key(client[0] if client else "")
        wait = self.take(address)
        if not wait:
            await self.app(scope, receive, send)
            return
        self._log(address)
        if self._held < MAX_HELD:
            self._held += 1
            try:
                await asyncio.sleep(min(wait, MAX_HOLD_SECONDS))
            finally:
                self._held -= 1
            wait = max(0.0, wait - MAX_HOLD_SECONDS)
        retry = max(1, math.ceil(wait))
        body = json.dumps(
            {
                "code": "throttled",
                "message": f"登录尝试过于频繁，请 {retry} 秒后再试",
                "message_en": f"Too many login tries from this address: try again in {retry} s",
            },
            ensure_ascii=False,
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", str(retry).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
