"""Writes drafts off the UI thread: every change is queued, the newest body per draft wins.

The form calls ``submit`` on each keystroke (microseconds); a background thread writes to the
seat store with a full fsync. A crash loses at most the write in flight.
"""

from __future__ import annotations

import threading
from typing import Any

from agent_tui.client.store import SeatStore


class DraftWriter:
    def __init__(self, store: SeatStore) -> None:
        self.store = store
        self._pending: dict[str, dict[str, Any] | None] = {}  # None: delete the draft
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="draft-writer", daemon=True)
        self._thread.start()

    def submit(self, draft_id: str, body: dict[str, Any]) -> None:
        with self._cond:
            self._pending[draft_id] = body
            self._cond.notify()

    def discard(self, draft_id: str) -> None:
        with self._cond:
            self._pending[draft_id] = None
            self._cond.notify()

    def flush(self, timeout: float = 5.0) -> None:
        """Wait until everything submitted so far is on disk."""
        with self._cond:
            self._cond.wait_for(lambda: not self._pending, timeout)

    def close(self) -> None:
        self.flush()
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending or self._closed)
                if self._closed and not self._pending:
                    return
                batch = dict(self._pending)
            for draft_id, body in batch.items():
                if body is None:
                    self.store.delete_draft(draft_id)
                else:
                    self.store.save_draft(draft_id, body)
            with self._cond:
                for draft_id, body in batch.items():
                    if self._pending.get(draft_id, ...) is body:
                        del self._pending[draft_id]
                self._cond.notify_all()
