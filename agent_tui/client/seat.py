"""The seat: the one object screens talk to, in the domain's verbs.

Reads (``case``, ``queue``, ``caller_history``, ``related``, ``search``) give typed values
(``CachedCase``: the central store's case or one saved here, and whether a command of this
seat on it is unconfirmed). Each does "this seat's cache first, then the central store, merged
by version" here and nowhere else: the server's answer goes into the cache and the view is read
from the cache again, so what a screen shows is always one projection of one cache. Writes
(``register``, ``take_step``, ``reapply``, ``discard``) go to the seat store and its outbox in
one transaction and never wait on the network.

What changes underneath (the feed, a fetch, a command queued or refused) is told to listeners
as ``SeatEvent`` values; the terminal turns them into Textual messages. The seat store, the
HTTP client and the sync engine are this module's insides: screens never import them (an
import-linter contract says so).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid as uuid_mod
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agent_tui import wire
from agent_tui.client.api import ApiClient, ApiError, NotFound
from agent_tui.client.drafts import DraftWriter
from agent_tui.client.model import (
    Answer,
    CachedCase,
    CasesChanged,
    HeldCommand,
    SeatEvent,
)
from agent_tui.client.store import SeatStore, store_path
from agent_tui.client.sync import DEFAULT_NUMBER_POOL, SyncEngine, SyncStatus
from agent_tui.domain.calendar import SHANGHAI
from agent_tui.domain.case import Address, Role
from agent_tui.domain.errors import FieldError
from agent_tui.domain.lifecycle import Step
from agent_tui.domain.numbers import number_year
from agent_tui.domain.queues import Order, QueueDef
from agent_tui.domain.related import RELATED_WINDOW, group_of

#: What screens catch from the seat's network reads (``message`` is for the UI).
SeatError = ApiError
#: An "oldest first" queue reads at most this many pages of 200 from the central store.
OLDEST_PAGES = 5
#: Cases a queue refresh re-reads one by one when the central store's answer left them out.
RECHECK_LIMIT = 50


class StepRefused(Exception):
    """A step's fields do not make a valid request: ``errors`` per field, for the form."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


class Seat:
    """One logged-in seat. Saving never waits on the network: it writes the seat store."""

    def __init__(
        self,
        server_url: str,
        user_id: str,
        password: str,
        data_dir: Path,
        *,
        store_key: str = "",
        seat_id: str = "",
        tz: tzinfo = SHANGHAI,
        number_pool: int = DEFAULT_NUMBER_POOL,
    ) -> None:
        """``store_key`` names the seat store instead of the URL (the demo's port changes)."""
        self.server_url = server_url
        self.user_id = user_id
        self.tz = tz
        self.api = ApiClient(server_url, user_id, password)
        self.store = SeatStore(store_path(data_dir, store_key or server_url, user_id))
        seat_id = (
            seat_id or self.store.get_meta("seat_id") or f"{user_id}-{uuid_mod.uuid4().hex[:6]}"
        )
        self.store.set_meta("seat_id", seat_id)
        self.seat_id = seat_id
        self.sync = SyncEngine(self.api, self.store, seat_id=seat_id, number_pool=number_pool)
        self.drafts = DraftWriter(self.store)
        self._task: asyncio.Task[None] | None = None

    # -- who and how -----------------------------------------------------------------------------

    @property
    def user(self) -> wire.UserPublic | None:
        """Who is logged in (after ``api.login()`` or an offline login on a cached session)."""
        return self.api.user

    @property
    def department(self) -> str:
        """The logged-in department user's department ('' for everyone else)."""
        user = self.api.user
        return user.department if user is not None and user.role is Role.DEPARTMENT else ""

    @property
    def status(self) -> SyncStatus:
        return self.sync.status

    def listen(self, listener: Callable[[SeatEvent], None]) -> None:
        """Be told what changes (cases, sync status, refused commands)."""
        self.sync.listeners.append(listener)

    def logged_in_online(self) -> None:
        """The central store just answered the login: the seat is online from this moment
        (not only after the first sync round)."""
        self.sync.status = replace(self.sync.status, online=True, last_error="")

    def start(self) -> None:
        """Start syncing in the running event loop (the terminal's)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self.sync.run())

    async def stop(self) -> None:
        self.sync.stop()
        if self._task is not None:
            self._task.cancel()
            # Stopping: whatever the loop was doing (a long-poll) is abandoned on purpose.
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        await self.api.aclose()
        self.drafts.close()
        self.store.close()

    def _tell(
        self,
        uuids: set[str],
        cases: Sequence[wire.CasePublic] = (),
        withdrawn: frozenset[str] = frozenset(),
    ) -> None:
        if uuids:
            self.sync.emit(CasesChanged(frozenset(uuids), tuple(cases), withdrawn))

    def _merge(self, cases: list[wire.CasePublic]) -> None:
        """The central store's answer into the cache (never back to an older version)."""
        if cases:
            self.store.put_cases(cases)
            self._tell({c.uuid for c in cases}, cases)

    # -- reads -----------------------------------------------------------------------------------

    def case(self, case_uuid: str) -> CachedCase | None:
        return self.store.case(case_uuid)

    def recent(self, limit: int = 200) -> list[CachedCase]:
        """The newest cases in this seat's cache."""
        return self.store.cases(limit=limit)

    async def fetch_case(self, case_uuid: str) -> wire.CasePublic:
        """The case with its event history from the central store (merged into the cache);
        raises ``SeatError`` offline, and drops it from the cache if no longer visible."""
        try:
            case = await self.api.get_case(case_uuid)
        except NotFound:
            gone = self.store.forget({case_uuid})
            self._tell(gone, withdrawn=frozenset(gone))
            raise
        self._merge([case])
        return case

    def queue(self, queue: QueueDef, now: datetime) -> list[CachedCase]:
        """The queue as this seat's cache holds it now, in the queue's order."""
        if queue.drafts:
            return []
        prefilter: dict[str, Any] = {"limit": 2000}
        if queue.mine_today:
            prefilter["agent"] = self.user_id
        elif queue.statuses:
            prefilter["status"] = tuple(str(s) for s in queue.statuses)
        found = [
            c
            for c in self.store.cases(**prefilter)
            if queue.holds(c.case, self.user_id, now, self.tz, self.department)
        ]
        ordered = queue.sort([c.case for c in found], self.department)
        return [self._by_uuid(found)[c.uuid] for c in ordered]

    @staticmethod
    def _by_uuid(cases: list[CachedCase]) -> dict[str, CachedCase]:
        return {c.uuid: c for c in cases}

    async def refresh_queue(self, queue: QueueDef, now: datetime) -> Answer[int]:
        """Ask the central store for the queue and merge its answer into the cache. When the
        answer is complete, cases this cache still puts in the queue but the central store
        does not are read again one by one (their state moved on, or they left this user's
        sight while this seat was not listening). Returns how many cases the store listed."""
        if queue.drafts:
            return Answer(0, True)
        query = queue.server_query(self.user_id, now)
        items: list[wire.CasePublic] = []
        complete = False
        try:
            cursor: str | None = None
            for _ in range(OLDEST_PAGES if queue.order == Order.OLDEST else 1):
                page = await self.api.list_cases(
                    limit=200, **query, **({"cursor": cursor} if cursor else {})
                )
                items += page.items
                cursor = page.next_cursor
                if cursor is None:
                    complete = True
                    break
                if queue.mine_today and page.items[-1].registered_at < now - timedelta(days=1):
                    complete = True  # newest first, and this page reaches back past today
                    break
        except ApiError as exc:
            return Answer(0, False, exc.message)
        self._merge(items)
        if complete:
            listed = {c.uuid for c in items}
            stale = [c.uuid for c in self.queue(queue, now) if c.uuid not in listed]
            await self._recheck(stale[:RECHECK_LIMIT])
        return Answer(len(items), True)

    async def _recheck(self, case_uuids: list[str]) -> None:
        """Read these cases again; those the central store no longer shows leave the cache."""
        fresh: list[wire.CasePublic] = []
        gone: set[str] = set()
        for case_uuid in case_uuids:
            cached = self.store.case(case_uuid)
            if cached is None or not cached.confirmed:
                continue  # saved here and not sent yet: nothing to ask about
            try:
                fresh.append(await self.api.get_case(case_uuid))
            except NotFound:
                gone.add(case_uuid)
            except ApiError:
                break  # offline now: try again on the next refresh
        self._merge(fresh)
        forgotten = self.store.forget(gone)
        self._tell(forgotten, withdrawn=frozenset(forgotten))

    def cached_caller_history(self, phone: str, limit: int = 20) -> list[CachedCase]:
        return self.store.cases(caller_phone=phone, limit=limit)

    async def caller_history(
        self, phone: str, limit: int = 20
    ) -> AsyncIterator[Answer[list[CachedCase]]]:
        """The caller's cases: this seat's cache at once, then the central store's answer
        merged with the cases saved here and not yet sent."""
        cached = self.cached_caller_history(phone, limit)
        yield Answer(cached, False)
        try:
            remote = await self.api.caller_history(phone, limit)
        except ApiError as exc:
            yield Answer(cached, False, exc.message)
            return
        self._merge(remote)
        yield Answer(self.cached_caller_history(phone, limit), True)

    async def related(
        self, category: str, address: Address, now: datetime, window: timedelta = RELATED_WINDOW
    ) -> AsyncIterator[Answer[list[CachedCase]]]:
        """Open cases of the same category at the same village or road (the intake offers to
        link them): this seat's cache at once, then the central store's over the centre."""
        cached = self.store.related_candidates(category, address, now, window)
        yield Answer(cached, False)
        place = {
            "county": address.county,
            "township": address.township,
            "village": address.village,
            "road": address.road,
        }
        try:
            remote = await self.api.related_candidates(category, place)
        except ApiError as exc:
            yield Answer(cached, False, exc.message)
            return
        self._merge(remote)
        known = {c.uuid for c in remote}
        confirmed = [c for uuid in known if (c := self.store.case(uuid)) is not None]
        confirmed.sort(key=lambda c: c.case.registered_at, reverse=True)
        yield Answer(confirmed + [c for c in cached if c.uuid not in known], True)

    def group(self, case_uuid: str, related_to: str) -> list[CachedCase]:
        """The case's related group (关联工单) as cached here, itself included."""
        return self.store.group(group_of(case_uuid, related_to))

    async def refresh_group(self, case_uuid: str, related_to: str) -> None:
        """The group as the central store has it (other seats' cases too), into the cache."""
        with contextlib.suppress(ApiError):
            page = await self.api.list_cases(related_to=group_of(case_uuid, related_to), limit=50)
            self._merge(page.items)

    def search(self, text: str, limit: int = 20) -> list[CachedCase]:
        """Cached cases whose number, phone or content contains ``text`` (the palette)."""
        return self.store.search_cases(text, limit)

    def reference_set(self, name: str) -> tuple[Any, str] | None:
        """A reference set as the central store last served it to this seat (offline too):
        its body and ETag, or None before the first fetch."""
        cached = self.store.reference(name)
        return (cached[0], cached[1]) if cached is not None else None

    def save_draft(self, draft_id: str, fields: dict[str, Any]) -> None:
        """The form as typed so far (every change; written off the UI thread)."""
        self.drafts.submit(draft_id, fields)

    def discard_draft(self, draft_id: str) -> None:
        self.drafts.discard(draft_id)

    def drafts_saved(self) -> list[tuple[str, dict[str, Any], str]]:
        """The unsaved forms of this seat: (draft id, the form's fields, last change)."""
        return self.store.drafts()

    def keep_numbers(self, pool: int) -> None:
        """Keep ``pool`` case numbers in hand for saving offline (0: the store numbers)."""
        self.sync.number_pool = pool

    def numbers_left(self, now: datetime) -> int:
        """Case numbers this seat can still give at save (of ``now``'s year)."""
        platform = self.user.platform if self.user is not None else ""
        return self.store.numbers_left(number_year(now), platform)

    def held(self, case_uuid: str | None = None) -> list[HeldCommand]:
        """Commands the central store refused, kept for the agent (of one case, or all)."""
        return [
            e.held() for e in self.store.held() if case_uuid is None or e.case_uuid == case_uuid
        ]

    # -- writes ----------------------------------------------------------------------------------

    def register(
        self,
        request: wire.CaseCreate,
        *,
        draft_id: str | None = None,
        then: tuple[Step, Mapping[str, Any]] | None = None,
    ) -> str:
        """Queue a new case — and the step that follows it at once (a dispatch, a direct
        answer) — and drop the draft it came from; returns its uuid at once. The case takes
        the next number this seat holds (``case(uuid).case.number``; '' when none is left:
        the central store numbers it on arrival)."""
        follow = None
        if then is not None:
            follow = (then[0], self._step_request(then[0], then[1], version=1))
        if draft_id:
            # A draft write still in flight must not bring the draft back after the save.
            self.drafts.discard(draft_id)
            self.drafts.flush()
        platform = self.user.platform if self.user is not None else ""
        case_uuid = self.store.save_new_case(
            request, self.user_id, draft_id, follow, platform=platform
        )
        self._tell({case_uuid})
        self.sync.kick()
        return case_uuid

    def take_step(self, case: CachedCase, step: Step, params: Mapping[str, Any]) -> str:
        """Queue ``step`` on ``case`` as this seat shows it (its version); returns the command
        id. Raises ``StepRefused`` when the fields do not make a valid request."""
        request = self._step_request(step, params, version=max(case.version, 1))
        command_id = self.store.queue_step(case.uuid, step, request)
        self._tell({case.uuid})
        self.sync.kick()
        return command_id

    @staticmethod
    def _step_request(step: Step, params: Mapping[str, Any], version: int) -> wire.StepBody:
        """The step's wire request (checked here, before it reaches the outbox)."""
        model = wire.STEP_BODIES.get(step, wire.StepBody)
        try:
            return model.model_validate(
                {**params, "command_id": str(uuid_mod.uuid4()), "version": version}
            )
        except ValidationError as exc:
            raise StepRefused(
                [
                    FieldError(str(e["loc"][0]) if e["loc"] else "", "invalid", e["msg"])
                    for e in exc.errors()
                ]
            ) from exc

    def reapply(self, held: HeldCommand) -> None:
        """Send a refused step again, on the central store's version of the case."""
        if held.server_case is None:
            return
        self.store.reapply(held.id, held.server_case.version)
        self._tell({held.case_uuid})
        self.sync.kick()

    def discard(self, held: HeldCommand) -> None:
        """Drop a refused command: the central store's version stands."""
        self.store.discard(held.id)
        self._tell({held.case_uuid})

    # -- the lead's reports (central store only) -------------------------------------------------

    async def dashboard(self) -> wire.Dashboard:
        return await self.api.dashboard()

    async def kpi_cases(
        self, kpi: str, start: datetime, end: datetime, part: str = "all", **kw: Any
    ) -> wire.CasePage:
        page = await self.api.kpi_cases(kpi, start, end, part, **kw)
        self._merge(page.items)
        return page

    async def report(self, kind: str, day: date) -> Any:
        """The daily (or other) report's data (``client.report``)."""
        from agent_tui.client.report import fetch_report

        return await fetch_report(self.api, kind, day)  # type: ignore[arg-type]
