"""Several server workers on one database: the change feed never skips or reorders a change.

Two independent stores (each with its own engine and connection pool, as two uvicorn workers
have) write concurrently while a reader follows the feed. A reader that skipped a change would
miss a case for good: sequence numbers are taken under the counter row's lock, so they commit in
order and a reader at ``after=N`` can never later see a commit numbered below N.
"""

from __future__ import annotations

import threading
import uuid

from agent_tui import wire as S
from agent_tui.config import Settings
from agent_tui.domain.case import Role
from agent_tui.server.db import make_engine
from agent_tui.server.store import Store
from agent_tui.server.visibility import Actor

from .conftest import FrozenClock

WRITERS_PER_STORE = 2
CASES_PER_WRITER = 15


def body() -> S.CaseCreate:
    return S.CaseCreate.model_validate(
        {
            "uuid": str(uuid.uuid4()),
            "appeal_type": "complaint",
            "content": "乐山大道与文化路交叉口东南角下水道堵塞",
            "caller_phone": "13912345678",
            "category": "0101",
            "address": {"county": "驿城区"},
        }
    )


def test_feed_is_complete_and_ordered_with_two_workers(
    settings: Settings, db_url: str, clock: FrozenClock
) -> None:
    stores = [Store(make_engine(db_url), settings, clock=clock) for _ in range(2)]
    agent = Actor("agent01", Role.AGENT)
    created: list[str] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def write(store: Store) -> None:
        try:
            for _ in range(CASES_PER_WRITER):
                case, _ = store.create_case(agent, body())
                with lock:
                    created.append(case.uuid)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    writers = [
        threading.Thread(target=write, args=(store,))
        for store in stores
        for _ in range(WRITERS_PER_STORE)
    ]
    seen_seqs: list[int] = []
    seen_cases: set[str] = set()
    after = 0
    reader = stores[1]
    for t in writers:
        t.start()
    while any(t.is_alive() for t in writers) or after < reader.last_seq():
        page = reader.changes(agent, after)
        for change in page.changes:
            seen_seqs.append(change.seq)
            assert change.case is not None
            seen_cases.add(change.case.uuid)
        after = page.last_seq
    for t in writers:
        t.join()
    for store in stores:
        store.engine.dispose()
    assert not errors, errors
    total = len(stores) * WRITERS_PER_STORE * CASES_PER_WRITER
    assert len(created) == total
    assert seen_cases == set(created)  # nothing skipped
    assert seen_seqs == sorted(seen_seqs) and len(set(seen_seqs)) == len(seen_seqs)
    assert after == total  # contiguous: one number per committed write, none lost
