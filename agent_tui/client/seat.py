"""What the terminal holds on to: the API client, the seat store and the sync engine."""

from __future__ import annotations

import asyncio
import contextlib
import uuid as uuid_mod
from pathlib import Path
from typing import Any

from agent_tui import wire
from agent_tui.client.api import ApiClient
from agent_tui.client.drafts import DraftWriter
from agent_tui.client.store import SeatStore, store_path
from agent_tui.client.sync import SyncEngine, SyncStatus


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
    ) -> None:
        """``store_key`` names the seat store instead of the URL (the demo's port changes)."""
        self.server_url = server_url
        self.user_id = user_id
        self.api = ApiClient(server_url, user_id, password)
        self.store = SeatStore(store_path(data_dir, store_key or server_url, user_id))
        seat_id = (
            seat_id or self.store.get_meta("seat_id") or f"{user_id}-{uuid_mod.uuid4().hex[:6]}"
        )
        self.store.set_meta("seat_id", seat_id)
        self.seat_id = seat_id
        self.sync = SyncEngine(self.api, self.store, seat_id=seat_id)
        self.drafts = DraftWriter(self.store)
        self._task: asyncio.Task[None] | None = None

    @property
    def user(self) -> wire.UserPublic | None:
        """Who is logged in (after ``api.login()`` or an offline login on a cached session)."""
        return self.api.user

    @property
    def status(self) -> SyncStatus:
        return self.sync.status

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

    def save_case(self, body: dict[str, Any], draft_id: str | None = None) -> str:
        """Queue a new case (uuid made here if absent); returns its uuid at once."""
        body = {**body, "uuid": str(body.get("uuid") or uuid_mod.uuid4())}
        if draft_id:
            # A draft write still in flight must not bring the draft back after the save.
            self.drafts.discard(draft_id)
            self.drafts.flush()
        case_uuid = self.store.save_new_case(body, draft_id)
        self.sync.kick()
        return case_uuid

    def queue_step(self, case_uuid: str, step: str, params: dict[str, Any], version: int) -> str:
        command_id = self.store.queue_step(case_uuid, step, params, version)
        self.sync.kick()
        return command_id
