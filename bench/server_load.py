"""A light HTTP/1.1 load generator: raw asyncio sockets, hand-written keep-alive requests.

No HTTP client library: each connection writes a pre-built request and parses the status line,
``Content-Length`` (or a chunked body) itself, so one core drives thousands of requests a second
and the server, not the generator, is what gets measured. The generator's own CPU time is
reported with every run.

* ``closed_loop``: ``conns`` connections each send the next request as soon as the previous
  answer arrived, for ``duration`` seconds or ``max_requests``: throughput at saturation.
* ``open_loop``: requests are due at a fixed rate whatever the server does; latency is taken
  from the moment a request was *due* to its last byte (no coordinated omission), so time spent
  waiting for a free connection counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

HOST = "127.0.0.1"


def build_request(method: str, path: str, token: str = "", body: bytes = b"") -> bytes:
    head = [f"{method} {path} HTTP/1.1", f"Host: {HOST}", "Connection: keep-alive"]
    if token:
        head.append(f"Authorization: Bearer {token}")
    if body or method == "POST":
        head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(HOST, port, limit=1 << 22)
        return cls(reader, writer)

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length = -1
        chunked = False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if chunked:
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                data = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                parts.append(data[:-2])
            return status, b"".join(parts)
        body = await self.reader.readexactly(length) if length > 0 else b""
        return status, body

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(Exception):
            await self.writer.wait_closed()


@dataclass
class RunStats:
    requests: int = 0
    ok: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    elapsed: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    generator_cpu_s: float = 0.0
    late_starts: int = 0  # open loop: requests that waited for a free connection
    first_error: str = ""

    @property
    def rate(self) -> float:
        return self.ok / self.elapsed if self.elapsed else 0.0

    def record(self, status: int, body: bytes, ok_statuses: tuple[int, ...]) -> None:
        self.requests += 1
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if status in ok_statuses:
            self.ok += 1
        elif not self.first_error:
            self.first_error = f"{status}: {body[:300]!r}"


async def closed_loop(
    port: int,
    make_request: Callable[[int], bytes],
    *,
    conns: int,
    duration: float,
    max_requests: int,
    ok_statuses: tuple[int, ...] = (200, 201),
) -> RunStats:
    stats = RunStats()
    connections = [await Connection.open(port) for _ in range(conns)]
    counter = iter(range(max_requests))
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    stop_at = t0 + duration

    async def worker(c: Connection) -> None:
        for i in counter:
            if time.perf_counter() >= stop_at:
                return
            start = time.perf_counter()
            status, body = await c.request(make_request(i))
            stats.latencies_ms.append((time.perf_counter() - start) * 1000)
            stats.record(status, body, ok_statuses)

    try:
        await asyncio.wait_for(
            asyncio.gather(*(worker(c) for c in connections)), timeout=duration + 30
        )
    finally:
        stats.elapsed = time.perf_counter() - t0
        stats.generator_cpu_s = time.process_time() - cpu0
        for c in connections:
            await c.close()
    return stats


async def open_loop(
    port: int,
    make_request: Callable[[int], bytes],
    *,
    rate: float,
    duration: float,
    conns: int = 16,
    ok_statuses: tuple[int, ...] = (200,),
) -> RunStats:
    stats = RunStats()
    total = max(1, int(rate * duration))
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    connections = [await Connection.open(port) for _ in range(conns)]
    for c in connections:
        idle.put_nowait(c)
    loop = asyncio.get_running_loop()
    cpu0 = time.process_time()
    t0 = time.perf_counter()

    async def one(i: int, due: float) -> None:
        if idle.empty():
            stats.late_starts += 1
        c = await idle.get()
        try:
            status, body = await c.request(make_request(i))
        finally:
            idle.put_nowait(c)
        stats.latencies_ms.append((time.perf_counter() - due) * 1000)
        stats.record(status, body, ok_statuses)

    tasks: list[asyncio.Task[None]] = []
    try:
        for i in range(total):
            due = t0 + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(loop.create_task(one(i, due)))
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=60)
    finally:
        for t in tasks:
            t.cancel()
        stats.elapsed = time.perf_counter() - t0
        stats.generator_cpu_s = time.process_time() - cpu0
        for c in connections:
            await c.close()
    return stats


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0–100) of ``values``; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]
