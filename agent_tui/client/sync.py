"""The sync engine: pushes the outbox in order, pulls the change feed, survives outages, and
keeps a pool of case numbers reserved for this seat (``refill_numbers``) while online.

Each command goes out with its id (the case uuid for a create, a command id for a step): the
server applies it once however often it is sent, so a retry after a timeout or a crash is
always safe. While the server is unreachable the engine backs off exponentially with jitter
(capped), and says so in ``status``; a refused command (409 or 422) is held with the server's
current case for the agent to resolve, never dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from agent_tui import wire
from agent_tui.client.api import ApiClient, ApiError, Conflict, Invalid, NotFound, Offline
from agent_tui.client.model import (
    CasesChanged,
    CommandsHeld,
    SeatEvent,
    SyncStatusChanged,
)
from agent_tui.client.store import OutboxEntry, SeatStore
from agent_tui.domain.case import Role
from agent_tui.domain.numbers import reservable_years
from agent_tui.i18n import t

#: Case numbers a seat keeps in hand by default (the setting ``number_pool``).
DEFAULT_NUMBER_POOL = 20
#: The roles that register cases, and so give them numbers at save.
INTAKE_ROLES = frozenset({Role.AGENT, Role.LEAD})


@dataclass(frozen=True, slots=True)
class SyncStatus:
    online: bool = False
    outbox: int = 0
    held: int = 0
    last_sync: datetime | None = None
    last_error: str = ""

    @property
    def label(self) -> str:
        state = t("在线") if self.online else t("离线")
        parts = [state, t("待发送 {count}", count=self.outbox)]
        if self.held:
            parts.append(t("待处理冲突 {count}", count=self.held))
        return " · ".join(parts)


@dataclass
class Backoff:
    """Exponential backoff with full jitter: 0.25 s, 0.5 s, 1 s … capped at ``cap``."""

    base: float = 0.25
    cap: float = 15.0
    attempt: int = 0
    rng: random.Random = field(default_factory=random.Random)

    def next_delay(self) -> float:
        delay = min(self.cap, self.base * 2**self.attempt)
        self.attempt += 1
        return self.rng.uniform(delay / 2, delay)

    def reset(self) -> None:
        self.attempt = 0


class SyncEngine:
    def __init__(
        self,
        api: ApiClient,
        store: SeatStore,
        *,
        seat_id: str = "",
        poll_wait: float = 20.0,
        backoff: Backoff | None = None,
        stream: bool = True,
        number_pool: int = DEFAULT_NUMBER_POOL,
    ) -> None:
        self.api = api
        self.store = store
        self.seat_id = seat_id or f"{api.user_id}@seat"
        self.poll_wait = poll_wait
        self.backoff = backoff or Backoff()
        self.status = SyncStatus(outbox=store.outbox_length(), held=len(store.held()))
        #: Told what happened (cases changed, status changed, commands held): the terminal
        #: turns each into a Textual message.
        self.listeners: list[Callable[[SeatEvent], None]] = []
        self._wake = asyncio.Event()
        self._stopping = False
        self.heartbeat_every = 30.0
        self._beat_at, self._beat_outbox = float("-inf"), -1
        #: Read the feed as a stream (one long response) rather than a long-poll per change;
        #: falls back to the long-poll when the server has no stream.
        self.stream = stream
        self._reader: asyncio.Task[None] | None = None
        self._pages: asyncio.Queue[wire.ChangesPage | BaseException] = asyncio.Queue()
        #: Case numbers this seat keeps in hand to give at save, online or offline: a block of
        #: this many is reserved whenever fewer are left (0: never; the store numbers cases).
        self.number_pool = number_pool
        #: (user, year) the store refused numbers to (a role that does not register cases, a
        #: year the store's clock does not allow yet): not asked again.
        self._numbers_paused: set[tuple[str, int]] = set()

    # -- telling the terminal ------------------------------------------------------------------

    def emit(self, event: SeatEvent) -> None:
        for listener in self.listeners:
            listener(event)

    def _publish(self, **kw: object) -> None:
        """Update the status (outbox and held counted afresh); tell listeners if it changed
        in anything they show (not on every quiet round)."""
        before = self.status
        self.status = replace(
            self.status,
            outbox=self.store.outbox_length(),
            held=len(self.store.held()),
            **kw,  # type: ignore[arg-type]
        )
        now = self.status
        if (now.online, now.outbox, now.held, now.last_error) != (
            before.online,
            before.outbox,
            before.held,
            before.last_error,
        ):
            self.emit(SyncStatusChanged(now.online, now.outbox, now.held, now.last_error))

    def _changed(
        self,
        cases: list[wire.CasePublic],
        withdrawn: set[str] | frozenset[str] = frozenset(),
        initial: bool = False,
        own: set[str] | frozenset[str] = frozenset(),
    ) -> None:
        if cases or withdrawn:
            self.emit(
                CasesChanged(
                    frozenset(c.uuid for c in cases) | frozenset(withdrawn),
                    tuple(cases),
                    frozenset(withdrawn),
                    initial,
                    frozenset(own),
                )
            )

    def kick(self) -> None:
        """Something was queued: push now rather than after the current long-poll."""
        self._wake.set()

    # -- one round -----------------------------------------------------------------------------

    async def push(self) -> int:
        """Send pending commands in order; returns how many the server applied."""
        sent = 0
        while True:
            batch = self.store.pending(limit=50)
            if not batch:
                return sent
            for entry in batch:
                if not await self._send(entry):
                    return sent
                sent += 1

    async def _send(self, entry: OutboxEntry) -> bool:
        """True when the entry is settled (delivered or held); False to stop this round."""
        request = entry.request
        try:
            if isinstance(request, wire.CaseCreate):
                case, _created = await self.api.create_case(request)
            else:
                if entry.chained:  # decided on the version the command before it produced
                    cached = self.store.case(entry.case_uuid)
                    if cached is not None and cached.confirmed:
                        request = request.model_copy(update={"version": cached.version})
                assert entry.step is not None
                case = await self.api.step(entry.case_uuid, entry.step, request)
        except Offline:
            raise
        except Conflict as exc:
            self._held(entry, "conflict", exc.message, exc.current)
            return True
        except (Invalid, NotFound) as exc:
            self._held(entry, "failed", exc.message, None)
            return True
        except ApiError as exc:  # 403 and the like: keep it for the agent, with the reason
            self._held(entry, "failed", exc.message, None)
            return True
        self.store.delivered(entry, case)
        self._changed([case], own={case.uuid})
        return True

    def _held(
        self, entry: OutboxEntry, state: str, error: str, current: wire.CasePublic | None
    ) -> None:
        self.store.hold(entry, state, error, current)
        held = replace(entry, state=state, last_error=error, server_case=current).held()
        self.emit(CommandsHeld((held,)))
        # The case's held note changes (and the server's version, when it sent one).
        self.emit(CasesChanged(frozenset({entry.case_uuid}), (current,) if current else ()))

    async def pull(self, wait: float = 0) -> list[wire.CasePublic]:
        page = await self.api.changes(self.store.last_seq, wait=wait)
        return await self._apply(page)

    async def _apply(self, page: wire.ChangesPage) -> list[wire.CasePublic]:
        changed, withdrawn, mine = self.store.apply_changes(page)
        if any(c.kind == "reference" for c in page.changes):
            await self.refresh_reference()
        self._changed(changed, withdrawn, own=mine)
        return changed

    async def _read_stream(self) -> None:
        """Feed ``_pages`` from the stream, connecting again when the server ends one; an
        error goes into the queue too (the loop raises it) and ends the reader."""
        position = self.store.last_seq
        try:
            while True:
                async for page in self.api.stream_changes(position):
                    position = max(position, page.last_seq)
                    await self._pages.put(page)
        except Exception as exc:  # handed to the loop, which sorts them out
            await self._pages.put(exc)

    async def _next_page(self) -> list[wire.CasePublic]:
        """The next streamed page, applied (the reader is started on first use)."""
        if self._reader is None or self._reader.done():
            self._pages = asyncio.Queue()
            self._reader = asyncio.create_task(self._read_stream())
        item = await self._pages.get()
        if isinstance(item, NotFound):
            self.stream = False  # a server without the stream: long-poll from now on
            return []
        if isinstance(item, BaseException):
            raise item
        return await self._apply(item)

    def _stop_reader(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            self._reader = None

    async def bootstrap(self, days_of_own_cases: int = 7) -> list[wire.CasePublic]:
        """A new seat does not replay the whole feed (a million cases): it starts at the
        server's current position and fetches what its screens show (its own recent cases,
        the open queues) page by page."""
        if self.store.last_seq > 0:
            return []
        start_at = await self.api.feed_head()
        queues: list[dict[str, object]] = [
            {"agent": self.api.user_id},
            {"status": ["registered", "dispatched", "returned", "return_requested"]},
            {"status": ["extension_requested", "replied", "callback_pending", "called_back"]},
            {"overdue": "true"},
        ]
        fetched: list[wire.CasePublic] = []
        for params in queues:
            page = await self.api.list_cases(limit=200, **params)
            self.store.put_cases(page.items)
            fetched += page.items
        self.store.set_meta("last_seq", str(start_at))
        self._changed(fetched, initial=True)
        return fetched

    async def refresh_reference(self) -> int:
        """Fetch the reference sets whose version moved (ETag: unchanged ones cost a 304)."""
        local = self.store.reference_versions()
        fetched = 0
        for info in await self.api.reference_sets():
            if local.get(info.name) == info.version:
                continue
            cached = self.store.reference(info.name)
            answer = await self.api.reference(info.name, cached[1] if cached else "")
            if answer is None and cached is not None:
                self.store.put_reference(info.name, cached[0], cached[1], info.version)
            elif answer is not None:
                body, etag, version = answer
                self.store.put_reference(info.name, body, etag, version)
                fetched += 1
        return fetched

    async def refill_numbers(self) -> int:
        """Reserve a block of ``number_pool`` case numbers for each year a case may be saved in
        soon (this one; in the last week of December the next one too) when fewer than half
        of it are left; returns how many were added. Raises ``Offline``; a refusal pauses it."""
        user = self.api.user
        if self.number_pool <= 0 or user is None or user.role not in INTAKE_ROLES:
            return 0
        added = 0
        for year in reservable_years(datetime.now(UTC)):
            if (user.user_id, year) in self._numbers_paused:
                continue
            # Below half the pool (not at the first number used): a save does not cost a
            # reservation at once, and the block comes while plenty are still in hand.
            if self.store.numbers_left(year, user.platform) >= max(1, self.number_pool // 2):
                continue
            try:
                block = await self.api.reserve_numbers(self.seat_id, self.number_pool, year)
            except Offline:
                raise
            except ApiError:  # not this role's, or not this year's (the clocks disagree)
                self._numbers_paused.add((user.user_id, year))
                continue
            self.store.add_numbers(block)
            added += block.last - block.first + 1
        return added

    async def sync_once(self, wait: float = 0) -> list[wire.CasePublic]:
        """Push then pull once; raises ``Offline``."""
        await self.push()
        await self.refill_numbers()
        changed = await self.pull(wait=wait)
        self._publish(online=True, last_sync=datetime.now(UTC), last_error="")
        return changed

    # -- the loop ------------------------------------------------------------------------------

    async def run(self) -> None:
        """Until ``stop()``: push, long-poll, heartbeat; back off while offline."""
        ready = False
        while not self._stopping:
            try:
                if not ready:
                    await self.bootstrap()  # tells the screens what it fetched
                    await self.refresh_reference()
                    ready = True
                await self.push()
                await self._heartbeat()
                await self.refill_numbers()
                self._publish(online=True, last_sync=datetime.now(UTC), last_error="")
                self.backoff.reset()
                pull = asyncio.ensure_future(
                    self._next_page() if self.stream else self.pull(wait=self.poll_wait)
                )
                wake = asyncio.ensure_future(self._wake.wait())
                try:
                    done, _ = await asyncio.wait({pull, wake}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    # Whatever ends this round (a kick, a stop, a cancel), leave no orphan.
                    for future in (pull, wake):
                        if not future.done():
                            future.cancel()
                self._wake.clear()
                if pull in done:
                    pull.result()
                    self._publish(online=True, last_sync=datetime.now(UTC))
                else:
                    with contextlib.suppress(asyncio.CancelledError, ApiError):
                        await pull
            except Offline as exc:
                self._stop_reader()
                self._publish(online=False, last_error=exc.message)
                delay = self.backoff.next_delay()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)
                self._wake.clear()
            except ApiError as exc:  # refused for now (429, 503 busy): back off, but a new
                # command of the agent's tries again at once
                self._stop_reader()
                self._publish(last_error=exc.message)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.backoff.next_delay())
                self._wake.clear()
        self._stop_reader()

    async def _heartbeat(self) -> None:
        """Tell the lead console this seat is alive: every ``heartbeat_every`` seconds, or at
        once when the outbox length changed (not on every wake-up: 100 seats x every change
        would be the server's main load)."""
        outbox = self.store.outbox_length()
        now = time.monotonic()
        if outbox == self._beat_outbox and now - self._beat_at < self.heartbeat_every:
            return
        await self.api.heartbeat(self.seat_id, outbox)
        self._beat_at, self._beat_outbox = now, outbox

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        self._stop_reader()
