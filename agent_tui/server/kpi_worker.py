"""KPI replays in a process of their own.

A replay reads every event of every case active in the period and runs the domain's formulas
over them in Python: seconds for a month at 1,000,000 cases (docs/benchmarks.md). In the server
process that holds the interpreter lock for as long, and every request waits behind it; in a
process of its own (``Settings.kpi_processes``) the server keeps answering while it runs. The
process opens its own engine on the same database and answers ``Store._replay`` calls.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent_tui.domain.kpi import GroupBy, KpiReport
    from agent_tui.server.services import Actor, Store, _CaseIds

_store: Store | None = None


def start(db_url: str, settings: dict[str, Any], server: int) -> None:
    """The process's initializer: its own store on the server's database, and a watch on the
    server: a server killed outright (SIGKILL, a crash) takes this process with it."""
    from agent_tui.config import Settings
    from agent_tui.server.db import make_engine
    from agent_tui.server.services import Store

    global _store
    _store = Store(make_engine(db_url), Settings(**settings))
    # ``server`` is the pid that made this process: one killed while this process was still
    # starting has already handed it to another parent.
    threading.Thread(target=_follow, args=(server,), daemon=True).start()


def _follow(parent: int, every: float = 1.0) -> None:
    while os.getppid() == parent:
        time.sleep(every)
    os._exit(0)  # the server is gone: nobody will ask for a replay again


def replay(
    viewer: Actor, start: datetime, end: datetime, group_by: GroupBy, now: datetime
) -> tuple[KpiReport, _CaseIds]:
    if _store is None:
        raise RuntimeError("kpi_worker.start was not run in this process")
    return _store._replay(viewer, start, end, group_by, now)
